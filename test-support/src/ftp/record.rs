//! What the FTP server remembers about each command.

/// One command as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtpCommandRecord {
    /// Which control connection carried it, counting from 0 in accept order.
    pub connection: usize,
    /// The verb in upper case, e.g. `RETR`.
    pub verb: String,
    /// Everything after the verb and one space (empty if none).
    pub argument: String,
}

impl FtpCommandRecord {
    /// `"RETR f.bin"`, or just the verb without an argument.
    pub fn line(&self) -> String {
        if self.argument.is_empty() {
            self.verb.clone()
        } else {
            format!("{} {}", self.verb, self.argument)
        }
    }
}

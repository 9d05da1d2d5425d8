//! The commands this client sends, and how a command line is written.

use std::fmt;

/// An FTP command verb, as named in errors and in [`Event`](crate::Event)s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Command {
    /// `USER name`: log in (RFC 959).
    User,
    /// `PASS password`.
    Pass,
    /// `TYPE I` or `TYPE A`: binary or ASCII transfers.
    Type,
    /// `PWD`: the current directory, asked once after login.
    Pwd,
    /// `CWD dir`: change directory, one path component at a time.
    Cwd,
    /// `SIZE file` (RFC 3659).
    Size,
    /// `MDTM file` (RFC 3659).
    Mdtm,
    /// `EPSV`: extended passive mode (RFC 2428).
    Epsv,
    /// `PASV`: passive mode, IPv4 only.
    Pasv,
    /// `EPRT |2|addr|port|`: extended active mode, used for IPv6.
    Eprt,
    /// `PORT h1,h2,h3,h4,p1,p2`: active mode, IPv4.
    Port,
    /// `REST offset`: start the next transfer at a byte offset (RFC 3659).
    Rest,
    /// `RETR file`: send the file over the data connection.
    Retr,
    /// `ABOR`: stop the transfer in progress.
    Abor,
    /// `QUIT`: end the session.
    Quit,
}

impl Command {
    /// The verb as sent, e.g. `"RETR"`.
    pub fn verb(self) -> &'static str {
        match self {
            Command::User => "USER",
            Command::Pass => "PASS",
            Command::Type => "TYPE",
            Command::Pwd => "PWD",
            Command::Cwd => "CWD",
            Command::Size => "SIZE",
            Command::Mdtm => "MDTM",
            Command::Epsv => "EPSV",
            Command::Pasv => "PASV",
            Command::Eprt => "EPRT",
            Command::Port => "PORT",
            Command::Rest => "REST",
            Command::Retr => "RETR",
            Command::Abor => "ABOR",
            Command::Quit => "QUIT",
        }
    }

    /// The line to send: verb, a space and `argument` if any, CRLF.
    ///
    /// Arguments come from [`RemotePath`](crate::RemotePath),
    /// [`Credentials`](crate::Credentials) and numbers, which cannot hold CR,
    /// LF or NUL, so a line can never carry a second command.
    pub(crate) fn line(self, argument: Option<&[u8]>) -> Vec<u8> {
        let verb = self.verb().as_bytes();
        let mut line = Vec::with_capacity(verb.len() + argument.map_or(0, |a| a.len() + 1) + 2);
        line.extend_from_slice(verb);
        if let Some(argument) = argument {
            debug_assert!(!argument.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)));
            line.push(b' ');
            line.extend_from_slice(argument);
        }
        line.extend_from_slice(b"\r\n");
        line
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.verb())
    }
}

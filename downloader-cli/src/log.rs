//! `-l/--log`: aria2's log file. Records at or above `--log-level` are appended, one
//! per line (a request or response head continues on the lines after), each stamped
//! with the date, the time to the microsecond, the level and the download it concerns:
//!
//! ```text
//! 2026-12-06 20:49:58.123456 [INFO] [GID#2089b05ecca3d829] CUID#3 - Connecting to 127.0.0.1:8080
//! ```
//!
//! `-l -` writes to standard output. The file is appended to, as aria2 does, so a log
//! survives restarts of a daemon.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::Path;

use swarmget_engine::log::LogLevel;
use swarmget_engine::{Error, ErrorCode, Gid, Options};

/// An open log.
pub struct LogFile {
    out: Box<dyn Write + Send>,
    level: LogLevel,
}

impl LogFile {
    /// Opens the log `opts` names, if any.
    pub fn open(opts: &Options) -> Result<Option<LogFile>, Error> {
        let Some(path) = &opts.log else {
            return Ok(None);
        };
        let out: Box<dyn Write + Send> = if path == Path::new("-") {
            Box::new(std::io::stdout())
        } else {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| {
                    Error::new(
                        ErrorCode::FileIo,
                        format!("cannot open the log file {}: {e}", path.display()),
                    )
                })?;
            Box::new(BufWriter::new(file))
        };
        Ok(Some(LogFile {
            out,
            level: opts.log_level,
        }))
    }

    /// Whether records at `level` go in.
    pub fn wants(&self, level: LogLevel) -> bool {
        level >= self.level
    }

    /// Appends a record (when its level is wanted). A log that cannot be written is
    /// not worth stopping downloads for; the record is lost.
    pub fn record(&mut self, level: LogLevel, gid: Option<Gid>, message: &str) {
        if !self.wants(level) {
            return;
        }
        let about = gid.map_or_else(|| "swarmget".to_string(), |g| format!("GID#{g}"));
        let _ = writeln!(self.out, "{} [{level}] [{about}] {message}", stamp());
        // Each record reaches the file at once: a crash must not lose the lines that
        // explain it, and the records come no faster than the downloads' events.
        let _ = self.out.flush();
    }
}

/// The local wall-clock time as aria2's log writes it (UTC here: no timezone
/// database is read), to the microsecond.
fn stamp() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (y, m, d) = crate::readout::civil_from_days((secs / 86400) as i64);
    let rem = secs % 86400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_have_the_date_and_microseconds() {
        let s = stamp();
        assert_eq!(s.len(), "2026-12-06 20:49:58.123456".len(), "{s}");
        assert_eq!(&s[4..5], "-");
        assert_eq!(&s[19..20], ".");
    }
}

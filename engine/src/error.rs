//! aria2's exit codes, and the error a download ends with.

use std::fmt;

/// aria2c's exit status values (its manual, "EXIT STATUS"); swarmget exits with the
/// same numbers so scripts that check them keep working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ErrorCode {
    /// All downloads succeeded.
    Ok = 0,
    /// Unknown error.
    Unknown = 1,
    /// Timed out.
    Timeout = 2,
    /// Resource not found.
    NotFound = 3,
    /// `--max-file-not-found` reached.
    MaxFileNotFound = 4,
    /// Speed stayed below `--lowest-speed-limit`.
    TooSlow = 5,
    /// Network problem.
    Network = 6,
    /// Unfinished downloads at interruption.
    Unfinished = 7,
    /// The server cannot resume but resume was required.
    CannotResume = 8,
    /// Not enough disk space.
    DiskFull = 9,
    /// Piece length differs from the control file.
    PieceLength = 10,
    /// The same file is already being downloaded.
    Duplicate = 11,
    /// The file already exists.
    FileExists = 13,
    /// Renaming failed.
    RenameFailed = 14,
    /// Could not open an existing file.
    OpenExisting = 15,
    /// Could not create or truncate a file.
    CreateFile = 16,
    /// File I/O error.
    FileIo = 17,
    /// Could not create a directory.
    CreateDir = 18,
    /// Name resolution failed.
    Resolve = 19,
    /// Metalink parse error.
    Metalink = 20,
    /// FTP command failed.
    Ftp = 21,
    /// Bad or unexpected HTTP response header.
    HttpHeader = 22,
    /// Too many redirects.
    TooManyRedirects = 23,
    /// HTTP authorization failed.
    HttpAuth = 24,
    /// A torrent file that is corrupt or lacks what a download needs.
    BtMetainfo = 26,
    /// Bad magnet URI.
    BadMagnet = 27,
    /// Bad option or option argument.
    BadOption = 28,
    /// Server overloaded or in maintenance (e.g. 503).
    Overloaded = 29,
    /// Checksum validation failed.
    Checksum = 32,
}

impl ErrorCode {
    /// The process exit status.
    pub fn exit_code(self) -> u8 {
        self as u8
    }
}

/// Why a download (or one of its sources) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The aria2 exit code this maps to.
    pub code: ErrorCode,
    /// What happened, for a person.
    pub message: String,
}

impl Error {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
        }
    }

    /// Classifies an I/O error on a network connection.
    pub fn network(e: &std::io::Error) -> Error {
        use std::io::ErrorKind::*;
        let code = match e.kind() {
            TimedOut => ErrorCode::Timeout,
            InvalidData => ErrorCode::Network,
            _ => ErrorCode::Network,
        };
        Error::new(code, e.to_string())
    }

    /// Classifies an I/O error on a local file.
    pub fn file(e: &std::io::Error, what: &str) -> Error {
        let code = if e.raw_os_error() == Some(libc::ENOSPC) {
            ErrorCode::DiskFull
        } else {
            ErrorCode::FileIo
        };
        Error::new(code, format!("{what}: {e}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (errorCode={})", self.message, self.code.exit_code())
    }
}

impl std::error::Error for Error {}

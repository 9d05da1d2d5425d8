//! Remote file paths as FTP sees them: directories to enter, then a file.

use std::borrow::Cow;
use std::fmt;

/// A value that cannot go into a command line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgumentError {
    /// CR, LF or NUL, which would end the command early and let the rest be
    /// read as another command.
    #[error("byte {offset} of the {field} is a CR, LF or NUL")]
    ForbiddenByte {
        /// `"user"`, `"password"`, `"directory"` or `"file name"`.
        field: &'static str,
        /// Where in that value.
        offset: usize,
    },
    /// An empty directory component or file name.
    #[error("empty {field}")]
    Empty {
        /// `"directory"` or `"file name"`.
        field: &'static str,
    },
}

pub(crate) fn check_argument(field: &'static str, value: &[u8]) -> Result<(), ArgumentError> {
    match value.iter().position(|b| matches!(b, b'\r' | b'\n' | 0)) {
        Some(offset) => Err(ArgumentError::ForbiddenByte { field, offset }),
        None => Ok(()),
    }
}

/// Where a file is on the server: directories to `CWD` into, one at a time,
/// from the login directory, then the file name for `SIZE`, `MDTM` and `RETR`.
///
/// Components are bytes, sent exactly as given: FTP servers may use any
/// encoding. A component may contain `/` (from `%2F` in a URL, RFC 1738
/// §3.2.2): it is then one `CWD` argument; a first component `/` makes the
/// path absolute. Components never hold CR, LF or NUL, and none is empty.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RemotePath {
    dirs: Vec<Vec<u8>>,
    file: Vec<u8>,
}

impl RemotePath {
    /// A path from its directory components and file name.
    pub fn new<D>(dirs: D, file: impl Into<Vec<u8>>) -> Result<RemotePath, ArgumentError>
    where
        D: IntoIterator,
        D::Item: Into<Vec<u8>>,
    {
        let dirs: Vec<Vec<u8>> = dirs.into_iter().map(Into::into).collect();
        let file = file.into();
        for dir in &dirs {
            if dir.is_empty() {
                return Err(ArgumentError::Empty { field: "directory" });
            }
            check_argument("directory", dir)?;
        }
        if file.is_empty() {
            return Err(ArgumentError::Empty { field: "file name" });
        }
        check_argument("file name", &file)?;
        Ok(RemotePath { dirs, file })
    }

    /// Splits `path` at `/`: the last part is the file, the others are
    /// directories (empty parts are skipped; a trailing `/` leaves no file
    /// name, which is an error). No percent-decoding: for URLs use
    /// [`ftp_url_parts`](crate::ftp_url_parts).
    ///
    /// ```
    /// use swarmget_ftp_client::RemotePath;
    /// let path = RemotePath::parse("/pub/linux/kernel.tar.xz").unwrap();
    /// assert_eq!(path.dirs(), [b"pub".to_vec(), b"linux".to_vec()]);
    /// assert_eq!(path.file(), b"kernel.tar.xz");
    /// ```
    pub fn parse(path: &str) -> Result<RemotePath, ArgumentError> {
        let (dirs, file) = path.rsplit_once('/').unwrap_or(("", path));
        let parts = dirs.split('/').filter(|p| !p.is_empty());
        RemotePath::new(parts, file)
    }

    /// The directories, outermost first.
    pub fn dirs(&self) -> &[Vec<u8>] {
        &self.dirs
    }

    /// The file name.
    pub fn file(&self) -> &[u8] {
        &self.file
    }

    /// The file name as text, bytes that are not UTF-8 replaced by U+FFFD.
    /// Not safe as a local file name by itself: sanitise it first.
    pub fn file_name_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.file)
    }
}

/// `pub/linux/kernel.tar.xz` (components joined with `/`, lossily decoded).
impl fmt::Display for RemotePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for dir in &self.dirs {
            write!(f, "{}/", String::from_utf8_lossy(dir))?;
        }
        f.write_str(&self.file_name_lossy())
    }
}

impl fmt::Debug for RemotePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemotePath({:?})", self.to_string())
    }
}

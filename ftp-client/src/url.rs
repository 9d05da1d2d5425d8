//! `ftp://` URLs (RFC 1738 §3.2): host, port, credentials, path and type.

use percent_encoding::percent_decode_str;
use url::{Host, Url};

use crate::config::TransferType;
use crate::path::{ArgumentError, RemotePath};

/// The parts of an `ftp://` URL a download needs, percent-decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FtpUrl {
    /// Host name or IP address, without the brackets of an IPv6 literal.
    pub host: String,
    /// The port, 21 unless the URL gives one.
    pub port: u16,
    /// The user name, if the URL has one.
    pub user: Option<String>,
    /// The password, if the URL has a non-empty one (`ftp://user:@host/`
    /// and `ftp://user@host/` cannot be told apart after URL parsing).
    pub password: Option<String>,
    /// Directories and file name.
    pub path: RemotePath,
    /// From a `;type=a` or `;type=i` suffix; `None` without one, so
    /// `--ftp-type` applies.
    pub transfer_type: Option<TransferType>,
}

/// Why a URL cannot be downloaded over FTP.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not `ftp`.
    #[error("not an ftp:// URL (scheme {scheme:?})")]
    NotFtp {
        /// The URL's scheme.
        scheme: String,
    },
    /// No host.
    #[error("the URL has no host")]
    NoHost,
    /// The path ends in `/` or is empty: a directory, which cannot be downloaded.
    #[error("the URL names a directory, not a file")]
    NoFileName,
    /// A `;type=` suffix other than `a` or `i` (`d`, a directory listing, is
    /// not supported).
    #[error("unsupported ;type={typecode}")]
    UnsupportedType {
        /// What followed `;type=`.
        typecode: String,
    },
    /// A decoded component holds CR, LF or NUL.
    #[error(transparent)]
    Argument(#[from] ArgumentError),
}

/// Splits an `ftp://` URL into what a session needs.
///
/// Each path segment is percent-decoded into one component, so `%2F` stays
/// inside a component (RFC 1738 §3.2.2) and `ftp://host/%2Fetc/motd` starts
/// at the root. Empty segments are skipped. The last segment is the file (a
/// path ending in `/` names a directory and is refused);
/// a trailing `;type=a` or `;type=i` (case-insensitive) sets the transfer
/// type. Queries and fragments are not part of FTP paths and are ignored.
///
/// ```
/// use swarmget_ftp_client::{TransferType, Url, ftp_url_parts};
///
/// let url = Url::parse("ftp://joe:p%40ss@[2001:db8::1]:2121/pub/my%20dir/notes.txt;type=a").unwrap();
/// let parts = ftp_url_parts(&url).unwrap();
/// assert_eq!((parts.host.as_str(), parts.port), ("2001:db8::1", 2121));
/// assert_eq!(parts.user.as_deref(), Some("joe"));
/// assert_eq!(parts.password.as_deref(), Some("p@ss"));
/// assert_eq!(parts.path.dirs(), [b"pub".to_vec(), b"my dir".to_vec()]);
/// assert_eq!(parts.path.file(), b"notes.txt");
/// assert_eq!(parts.transfer_type, Some(TransferType::Ascii));
/// ```
pub fn ftp_url_parts(url: &Url) -> Result<FtpUrl, UrlError> {
    if url.scheme() != "ftp" {
        return Err(UrlError::NotFtp {
            scheme: url.scheme().to_owned(),
        });
    }
    let host = match url.host() {
        Some(Host::Domain(name)) if !name.is_empty() => name.to_owned(),
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => ip.to_string(),
        _ => return Err(UrlError::NoHost),
    };
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let user = Some(url.username()).filter(|u| !u.is_empty()).map(decode);
    let password = url.password().map(decode);

    if url.path().ends_with('/') {
        return Err(UrlError::NoFileName);
    }
    let mut segments: Vec<&str> = url.path().split('/').filter(|s| !s.is_empty()).collect();
    let last = segments.pop().ok_or(UrlError::NoFileName)?;
    let (file, transfer_type) = split_typecode(last)?;
    if file.is_empty() {
        return Err(UrlError::NoFileName);
    }
    let bytes = |s: &str| percent_decode_str(s).collect::<Vec<u8>>();
    let path = RemotePath::new(segments.into_iter().map(bytes), bytes(file))?;
    Ok(FtpUrl {
        host,
        port: url.port_or_known_default().unwrap_or(21),
        user,
        password,
        path,
        transfer_type,
    })
}

/// Splits `file;type=X` into the file and its type.
fn split_typecode(segment: &str) -> Result<(&str, Option<TransferType>), UrlError> {
    const MARK: &str = ";type=";
    let lower = segment.to_ascii_lowercase();
    let Some(at) = lower.rfind(MARK) else {
        return Ok((segment, None));
    };
    let typecode = &segment[at + MARK.len()..];
    let transfer_type = match typecode {
        "a" | "A" => TransferType::Ascii,
        "i" | "I" => TransferType::Binary,
        _ => {
            return Err(UrlError::UnsupportedType {
                typecode: typecode.to_owned(),
            });
        }
    };
    Ok((&segment[..at], Some(transfer_type)))
}

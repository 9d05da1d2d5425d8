//! What identifies the version of a remote file a download is made of.
//!
//! A resumed download may only add bytes of the version whose bytes are already on
//! disk. HTTP names that version with a strong `ETag` and `Last-Modified` (RFC 9110
//! §8.8), FTP with `MDTM`; both also give the total length, which the control file's
//! layout already records. The values are recorded in the control file (optional
//! sections, so older files still load), sent back in `If-Range` on every request that
//! continues the download, and compared with every response head: a difference means
//! the remote file changed (restart from the new version) or, for a second mirror, that
//! the mirror has another file (drop it).
//!
//! Weak ETags (`W/"…"`) are kept out: RFC 9110 §13.1.5 forbids them in `If-Range`, and
//! two representations with the same weak tag may differ in bytes.
//!
//! Dates are compared as instants, not as text: a server may write one date in any
//! of HTTP's three forms, and a date made from a file's modification time
//! (`--remote-time`) is written by us.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use swarmget_http_seg::{format_http_date, parse_http_date};

/// The longest validator value kept; longer ones are ignored (bounded before storing).
pub const MAX_VALIDATOR: usize = 1024;

/// The validators of one version of a remote file. `None` fields were not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The strong entity tag, quotes included, as the server sent it.
    pub etag: Option<String>,
    /// The `Last-Modified` date, as the server sent it.
    pub last_modified: Option<String>,
    /// The FTP `MDTM` time, as seconds since 1970 with nine decimals.
    pub mdtm: Option<String>,
}

impl Validators {
    /// The validators of an HTTP response head's header values.
    pub fn from_http(etag: Option<&str>, last_modified: Option<&str>) -> Validators {
        Validators {
            etag: etag
                .map(str::trim)
                .filter(|t| is_strong(t))
                .map(String::from),
            last_modified: last_modified
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.len() <= MAX_VALIDATOR)
                .map(String::from),
            mdtm: None,
        }
    }

    /// The validators a bare file's modification time stands for: with
    /// `--remote-time` an earlier run gave the finished file the server's
    /// `Last-Modified` or `MDTM`, so the same time names the same version.
    pub fn from_file_time(mtime: SystemTime) -> Validators {
        let since = mtime.duration_since(UNIX_EPOCH).unwrap_or_default();
        Validators {
            etag: None,
            last_modified: Some(format_http_date(since.as_secs())),
            mdtm: Some(format!("{}.{:09}", since.as_secs(), since.subsec_nanos())),
        }
    }

    /// The version's modification time (`Last-Modified`, else `MDTM`), for
    /// `--remote-time`.
    pub fn modified(&self) -> Option<SystemTime> {
        let secs = match (&self.last_modified, &self.mdtm) {
            (Some(date), _) => Duration::from_secs(parse_http_date(date)?),
            (None, Some(mdtm)) => {
                let (secs, nanos) = mdtm.split_once('.').unwrap_or((mdtm, "0"));
                Duration::new(secs.parse().ok()?, nanos.parse().ok()?)
            }
            (None, None) => return None,
        };
        UNIX_EPOCH.checked_add(secs)
    }

    /// Whether a response with these validators still carries the `If-Range` value
    /// `sent` (the server answered 200 though its version is the one asked for).
    pub fn carries(&self, sent: &str) -> bool {
        self.etag.as_deref() == Some(sent)
            || self
                .last_modified
                .as_deref()
                .is_some_and(|date| same_date(date, sent))
    }

    /// Whether nothing identifies the version.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none() && self.mdtm.is_none()
    }

    /// The `If-Range` value: the strong ETag, else the Last-Modified date.
    pub fn if_range(&self) -> Option<&str> {
        self.etag.as_deref().or(self.last_modified.as_deref())
    }

    /// Why `seen` is another version than `self`, comparing only what both give;
    /// `None` when nothing differs.
    pub fn differs(&self, seen: &Validators) -> Option<String> {
        let field = |name: &str,
                     a: &Option<String>,
                     b: &Option<String>,
                     same: fn(&str, &str) -> bool| {
            match (a, b) {
                (Some(a), Some(b)) if !same(a, b) => Some(format!("{name} {b} now, {a} before")),
                _ => None,
            }
        };
        let text = |a: &str, b: &str| a == b;
        field("ETag", &self.etag, &seen.etag, text)
            .or_else(|| {
                field(
                    "Last-Modified",
                    &self.last_modified,
                    &seen.last_modified,
                    same_date,
                )
            })
            .or_else(|| field("MDTM", &self.mdtm, &seen.mdtm, text))
    }

    /// Fills the fields `self` lacks from `seen` (a version first identified by one
    /// field learns the others from later answers of the same version).
    pub fn learn(&mut self, seen: &Validators) {
        for (mine, theirs) in [
            (&mut self.etag, &seen.etag),
            (&mut self.last_modified, &seen.last_modified),
            (&mut self.mdtm, &seen.mdtm),
        ] {
            if mine.is_none() {
                mine.clone_from(theirs);
            }
        }
    }
}

/// Whether two HTTP-dates name the same second (as text when either is no date).
fn same_date(a: &str, b: &str) -> bool {
    match (parse_http_date(a), parse_http_date(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

/// A strong entity tag: `"…"` of visible characters, not `W/`-prefixed.
fn is_strong(tag: &str) -> bool {
    tag.len() >= 2
        && tag.len() <= MAX_VALIDATOR
        && tag.starts_with('"')
        && tag.ends_with('"')
        && tag[1..tag.len() - 1]
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_and_malformed_etags_are_not_validators() {
        let v = Validators::from_http(Some("W/\"abc\""), None);
        assert_eq!(v.etag, None);
        assert_eq!(Validators::from_http(Some("abc"), None).etag, None);
        assert_eq!(
            Validators::from_http(Some(" \"5f-3a\" "), None)
                .etag
                .as_deref(),
            Some("\"5f-3a\"")
        );
    }

    #[test]
    fn if_range_prefers_the_etag_and_differences_compare_only_shared_fields() {
        let old = Validators::from_http(Some("\"a\""), Some("Mon, 01 Jan 2024 00:00:00 GMT"));
        assert_eq!(old.if_range(), Some("\"a\""));
        let date_only = Validators::from_http(None, Some("Tue, 02 Jan 2024 00:00:00 GMT"));
        assert_eq!(date_only.if_range(), date_only.last_modified.as_deref());
        assert!(
            old.differs(&date_only)
                .unwrap()
                .starts_with("Last-Modified")
        );
        assert!(
            old.differs(&Validators::from_http(Some("\"b\""), None))
                .unwrap()
                .starts_with("ETag")
        );
        assert_eq!(old.differs(&Validators::default()), None);
        assert_eq!(old.differs(&old), None);
    }

    #[test]
    fn dates_are_compared_as_instants() {
        let imf = Validators::from_http(None, Some("Sun, 06 Nov 1994 08:49:37 GMT"));
        let asctime = Validators::from_http(None, Some("Sun Nov  6 08:49:37 1994"));
        assert_eq!(imf.differs(&asctime), None);
        assert!(asctime.carries("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert!(!asctime.carries("Sun, 06 Nov 1994 08:49:38 GMT"));
    }

    #[test]
    fn a_file_time_names_the_version_its_date_or_mdtm_named() {
        let time = UNIX_EPOCH + Duration::new(784_111_777, 250_000_000);
        let from_file = Validators::from_file_time(time);
        let http = Validators::from_http(None, Some("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert_eq!(from_file.differs(&http), None);
        assert_eq!(from_file.if_range(), Some("Sun, 06 Nov 1994 08:49:37 GMT"));
        let ftp = Validators {
            mdtm: Some("784111777.250000000".into()),
            ..Validators::default()
        };
        assert_eq!(from_file.differs(&ftp), None);
        assert_eq!(ftp.modified(), Some(time));
        assert_eq!(
            http.modified(),
            Some(UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        let later = Validators::from_http(None, Some("Sun, 06 Nov 1994 08:49:38 GMT"));
        assert!(
            from_file
                .differs(&later)
                .unwrap()
                .starts_with("Last-Modified")
        );
    }
}

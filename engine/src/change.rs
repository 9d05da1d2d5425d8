//! aria2's rules for changing options of a running engine (`changeOption`,
//! `changeGlobalOption`).
//!
//! - A download's options may be any option allowed in an input file, except a few
//!   that only make sense before it starts ([`FIXED_PER_DOWNLOAD`]).
//! - While the download is active, only [`LIVE`] options change in place; any other
//!   change restarts the download (its connections close and it queues again, keeping
//!   what is on disk), as aria2 does.
//! - Global options are [`GLOBAL_ONLY`] plus every input-file option except
//!   [`NOT_GLOBAL`]; an input-file option changed globally becomes the default for
//!   downloads added afterwards.
//! - A change is all or nothing: one bad name or value and nothing changes.

use crate::error::{Error, ErrorCode};
use crate::options::{Options, find};

/// Never changeable on an existing download.
pub const FIXED_PER_DOWNLOAD: &[&str] = &[
    "dry-run",
    "gid",
    "metalink-base-uri",
    "parameterized-uri",
    "pause",
    "piece-length",
    "rpc-save-upload-metadata",
];

/// Changeable on an active download without restarting it.
pub const LIVE: &[&str] = &[
    "bt-max-peers",
    "bt-request-peer-speed-limit",
    "bt-remove-unselected-file",
    "force-save",
    "max-download-limit",
    "max-upload-limit",
];

/// Global options that are not input-file options.
pub const GLOBAL_ONLY: &[&str] = &[
    "bt-max-open-files",
    "download-result",
    "keep-unfinished-download-result",
    "log",
    "log-level",
    "max-concurrent-downloads",
    "max-download-result",
    "max-overall-download-limit",
    "max-overall-upload-limit",
    "optimize-concurrent-downloads",
    "save-cookies",
    "save-session",
    "server-stat-of",
];

/// Input-file options that `changeGlobalOption` refuses.
pub const NOT_GLOBAL: &[&str] = &[
    "checksum",
    "gid",
    "index-out",
    "out",
    "pause",
    "select-file",
];

fn refused(name: &str, why: &str) -> Error {
    Error::new(ErrorCode::BadOption, format!("option '{name}' {why}"))
}

/// `opts` with `changes` applied for a download; true in the second place when every
/// change can be made while the download runs.
pub fn for_download(
    opts: &Options,
    changes: &[(String, String)],
) -> Result<(Options, bool), Error> {
    let mut new = opts.clone();
    let mut live = true;
    for (name, value) in changes {
        let def = find(name).ok_or_else(|| refused(name, "is not known"))?;
        if !def.per_download || FIXED_PER_DOWNLOAD.contains(&name.as_str()) {
            return Err(refused(name, "cannot be changed on a download"));
        }
        (def.apply)(&mut new, value)
            .map_err(|e| Error::new(ErrorCode::BadOption, format!("--{name}: {e}")))?;
        live &= LIVE.contains(&name.as_str());
    }
    Ok((new, live))
}

/// `global` with `changes` applied.
pub fn for_global(global: &Options, changes: &[(String, String)]) -> Result<Options, Error> {
    let mut new = global.clone();
    for (name, value) in changes {
        let def = find(name).ok_or_else(|| refused(name, "is not known"))?;
        let allowed = GLOBAL_ONLY.contains(&name.as_str())
            || (def.per_download && !NOT_GLOBAL.contains(&name.as_str()));
        if !allowed {
            return Err(refused(name, "cannot be changed globally"));
        }
        (def.apply)(&mut new, value)
            .map_err(|e| Error::new(ErrorCode::BadOption, format!("--{name}: {e}")))?;
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_speed_limit_changes_in_place_and_a_split_restarts() {
        let o = Options::default();
        let (new, live) = for_download(&o, &pairs(&[("max-download-limit", "1M")])).unwrap();
        assert_eq!(new.max_download_limit, 1 << 20);
        assert!(live);
        let (new, live) = for_download(&o, &pairs(&[("split", "3")])).unwrap();
        assert_eq!(new.split, 3);
        assert!(!live);
    }

    #[test]
    fn fixed_unknown_and_bad_values_change_nothing() {
        let o = Options::default();
        let e = for_download(&o, &pairs(&[("piece-length", "2M")])).unwrap_err();
        assert!(e.message.contains("cannot be changed on a download"), "{e}");
        let e = for_download(&o, &pairs(&[("no-such-option", "1")])).unwrap_err();
        assert!(e.message.contains("is not known"), "{e}");
        let e = for_download(&o, &pairs(&[("split", "2"), ("split", "0")])).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadOption);
    }

    #[test]
    fn global_takes_its_own_options_and_input_file_ones_but_not_out() {
        let g = Options::default();
        let new = for_global(&g, &pairs(&[("max-concurrent-downloads", "2")])).unwrap();
        assert_eq!(new.max_concurrent_downloads, 2);
        let new = for_global(&g, &pairs(&[("split", "7")])).unwrap();
        assert_eq!(new.split, 7);
        let e = for_global(&g, &pairs(&[("out", "x")])).unwrap_err();
        assert!(e.message.contains("cannot be changed globally"), "{e}");
    }
}

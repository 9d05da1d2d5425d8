//! `--save-session`: the daemon's downloads written as an aria2 input file, so
//! `swarmget --enable-rpc -i FILE` (or aria2c) queues them again.
//!
//! Which downloads are written follows aria2's `SessionSerializer`: stopped ones first
//! (oldest first), then active, then waiting and paused, in queue order. A failed
//! download is written (unless it failed with "resource not found" and its
//! `--save-not-found` is false); a complete or removed one only with `--force-save`.
//! Each entry is its URIs on one line (tab-separated mirrors) — for a torrent its
//! `.torrent` file, for the files of a Metalink the document's URI or path, once —
//! then ` gid=` (so the restored download keeps its GID; a followed document's, or a
//! local document's first file's), then ` name=value` lines for every per-download
//! option whose value differs from the global one, plus `dir` always and `pause=true`
//! for a paused download. The file is written whole to a temporary name and renamed
//! over the old one, so a crash leaves either session.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use serde_json::Value;
use swarmget_engine::error::ErrorCode;
use swarmget_engine::options::OPTIONS;
use swarmget_engine::{DownloadState, DownloadStatus, Gid, Handle, Options};

use super::render;

/// Options the entry writes itself rather than from the option table.
const WRITTEN_APART: &[&str] = &["gid", "pause"];

/// Writes the session of the engine behind `handle` to `path`.
pub fn save(handle: &Handle, path: &Path) -> Result<(), String> {
    let engine = |e: swarmget_engine::Error| e.message;
    let global = render::options(&handle.get_global_option().map_err(engine)?);
    let mut all = handle.tell_stopped(0, usize::MAX).map_err(engine)?;
    all.extend(handle.tell_active().map_err(engine)?);
    all.extend(handle.tell_waiting(0, usize::MAX).map_err(engine)?);
    let mut text = String::new();
    let mut written = HashSet::new();
    for status in all {
        // A download may be purged between the calls; it is then left out.
        let Ok(opts) = handle.get_option(status.gid) else {
            continue;
        };
        if saved(&status, &opts) {
            entry(&mut text, &mut written, &status, &opts, &global);
        }
    }
    let tmp = path.with_extension("swarmget-tmp");
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| format!("cannot save the session to {}: {e}", path.display()))
}

/// Whether a download in this state goes into the session.
fn saved(status: &DownloadStatus, opts: &Options) -> bool {
    match &status.state {
        DownloadState::Complete | DownloadState::Removed => opts.force_save,
        DownloadState::Error(e) => e.code != ErrorCode::NotFound || opts.save_not_found,
        DownloadState::Waiting | DownloadState::Active | DownloadState::Paused => true,
    }
}

/// Appends the entry of one download: the document it was made from (a torrent's
/// `.torrent` file, a Metalink's URI or path) under that document's GID, once per
/// document, else its own URIs. Nothing for a download with neither (a torrent
/// uploaded without `--rpc-save-upload-metadata`, as aria2).
fn entry(
    text: &mut String,
    written: &mut HashSet<Gid>,
    status: &DownloadStatus,
    opts: &Options,
    global: &serde_json::Map<String, Value>,
) {
    let (line, gid) = match &status.metadata {
        Some(m) => (m.uri.clone(), m.gid),
        // A torrent's URIs are its web seeds, never a download of their own.
        None if status.bittorrent.is_some() => return,
        None => {
            let uris: Vec<&str> = status
                .files
                .first()
                .map(|f| f.uris.iter().map(|u| u.uri.as_str()).collect())
                .unwrap_or_default();
            (uris.join("\t"), status.gid)
        }
    };
    // With --force-save a followed document and its files may all be stopped: the
    // document is written once.
    if line.is_empty() || !written.insert(gid) {
        return;
    }
    text.push_str(&line);
    text.push('\n');
    text.push_str(&format!(" gid={gid}\n"));
    // A Metalink file's `out` is its name in the document, which names it again.
    let from_metalink = status.metadata.is_some() && status.bittorrent.is_none();
    let mine = render::options(opts);
    for def in OPTIONS.iter().filter(|d| d.per_download) {
        let Some(Value::String(value)) = mine.get(def.name) else {
            continue;
        };
        let differs = global.get(def.name) != Some(&Value::String(value.clone()));
        if WRITTEN_APART.contains(&def.name)
            || (!differs && def.name != "dir")
            || (from_metalink && def.name == "out")
        {
            continue;
        }
        // A multi-valued option (header) is one line per value.
        for line in value.split('\n') {
            text.push_str(&format!(" {}={line}\n", def.name));
        }
    }
    if status.state == DownloadState::Paused {
        text.push_str(" pause=true\n");
    }
}

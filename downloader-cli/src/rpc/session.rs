//! `--save-session`: the daemon's unfinished downloads written as an aria2 input file,
//! so `swarmget --enable-rpc -i FILE` (or aria2c) queues them again.
//!
//! Each waiting, paused or running download becomes one entry: its URIs on one line
//! (tab-separated mirrors), then ` name=value` lines for every per-download option
//! whose value differs from the global one, plus `dir` always and `pause=true` for a
//! paused download. GIDs are not written: swarmget cannot take a GID from an input
//! file yet, so restored downloads get new ones. The file is written whole to a
//! temporary name and renamed over the old one, so a crash leaves either session.

use std::io::Write;
use std::path::Path;

use serde_json::Value;
use swarmget_engine::options::OPTIONS;
use swarmget_engine::{DownloadState, Handle};

use super::render;

/// Writes the session of the engine behind `handle` to `path`.
pub fn save(handle: &Handle, path: &Path) -> Result<(), String> {
    let engine = |e: swarmget_engine::Error| e.message;
    let global = render::options(&handle.get_global_option().map_err(engine)?);
    let mut queued = handle.tell_active().map_err(engine)?;
    queued.extend(handle.tell_waiting(0, usize::MAX).map_err(engine)?);
    let mut text = String::new();
    for status in queued {
        // A download may finish between the two calls; it is then left out.
        let Ok(opts) = handle.get_option(status.gid) else {
            continue;
        };
        let uris: Vec<String> = status
            .files
            .first()
            .map(|f| f.uris.iter().map(|u| u.uri.clone()).collect())
            .unwrap_or_default();
        if uris.is_empty() {
            continue;
        }
        text.push_str(&uris.join("\t"));
        text.push('\n');
        let mine = render::options(&opts);
        for def in OPTIONS.iter().filter(|d| d.per_download) {
            let Some(Value::String(value)) = mine.get(def.name) else {
                continue;
            };
            let differs = global.get(def.name) != Some(&Value::String(value.clone()));
            if def.name == "pause" || (!differs && def.name != "dir") {
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
    let tmp = path.with_extension("swarmget-tmp");
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| format!("cannot save the session to {}: {e}", path.display()))
}

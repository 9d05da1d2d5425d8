//! `--on-download-*`: commands run when downloads start, pause, stop, complete or
//! fail (and `--on-bt-download-complete` when a torrent's data is whole), with aria2's arguments: the GID, the number of files, and the first file's
//! path (empty before it is known).
//!
//! They run from the command line's event loop and from the RPC daemon's alike. A hook
//! is spawned and left to run: a thread waits for it so it is reaped, and no event loop
//! ever waits on a script. As in aria2, `--on-download-stop` runs
//! for a completed or failed download only when `--on-download-complete` or
//! `--on-download-error` is not given.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use swarmget_engine::{Event, Handle, Options};

/// The configured hooks.
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    start: Option<PathBuf>,
    pause: Option<PathBuf>,
    stop: Option<PathBuf>,
    complete: Option<PathBuf>,
    error: Option<PathBuf>,
    bt_complete: Option<PathBuf>,
}

impl Hooks {
    /// The hooks `opts` names.
    pub fn new(opts: &Options) -> Hooks {
        Hooks {
            start: opts.on_download_start.clone(),
            pause: opts.on_download_pause.clone(),
            stop: opts.on_download_stop.clone(),
            complete: opts.on_download_complete.clone(),
            error: opts.on_download_error.clone(),
            bt_complete: opts.on_bt_download_complete.clone(),
        }
    }

    /// Runs the hook for `event`, if one is set.
    pub fn fire(&self, handle: &Handle, event: &Event) {
        let (command, gid) = match event {
            Event::Start(g) => (self.start.as_ref(), g),
            Event::Pause(g) => (self.pause.as_ref(), g),
            Event::Stop(g) => (self.stop.as_ref(), g),
            Event::Complete(g) => (self.complete.as_ref().or(self.stop.as_ref()), g),
            Event::BtComplete(g) => (self.bt_complete.as_ref(), g),
            Event::Error(g) => (self.error.as_ref().or(self.stop.as_ref()), g),
            Event::Notice(..) | Event::Log(..) | Event::Halted => return,
        };
        let Some(command) = command else {
            return;
        };
        let (files, path) = match handle.tell_status(*gid) {
            Ok(s) => (
                s.files.len(),
                s.files
                    .first()
                    .and_then(|f| f.path.as_ref())
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            ),
            Err(_) => (0, String::new()),
        };
        let spawned = Command::new(command)
            .arg(gid.to_string())
            .arg(files.to_string())
            .arg(path)
            .stdin(Stdio::null())
            .spawn();
        match spawned {
            Ok(mut child) => {
                // Reaped off the loop: a slow script never holds the downloads.
                let _ = std::thread::Builder::new()
                    .name("hook".into())
                    .spawn(move || child.wait());
            }
            Err(e) => eprintln!("swarmget: cannot run {}: {e}", command.display()),
        }
    }
}

//! The only way into a running engine: a [`Handle`] sends commands to the loop thread
//! and waits for their answers; subscribers receive [`Event`]s.
//!
//! A command is a closure run on the loop thread between two turns, so it sees and
//! changes the engine's state with no locks; the handle blocks until the closure's
//! answer comes back. Handles are cheap to clone and may be used from any thread.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Instant;

use mio::Waker;

use crate::download::DownloadSpec;
use crate::engine::Engine;
use crate::error::{Error, ErrorCode};
use crate::gid::Gid;
use crate::options::Options;
use crate::queue::{Forgotten, PositionFrom};
use crate::status::{
    DownloadStatus, FileStatus, GlobalStat, HeldMemory, PeerStatus, ServerStatus, UriStatus,
};

/// Work for the loop thread.
pub(crate) type Command = Box<dyn FnOnce(&mut Engine, Instant) + Send>;

/// What subscribers hear (aria2's RPC notifications, plus notices for a log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A download started (or restarted after a pause).
    Start(Gid),
    /// A download was paused.
    Pause(Gid),
    /// A download was removed (aria2's `onDownloadStop`).
    Stop(Gid),
    /// A download completed; its file is whole and verified.
    Complete(Gid),
    /// A torrent's data is whole and verified (aria2's `onBtDownloadComplete`): sent
    /// before seeding, so before the torrent's [`Event::Complete`].
    BtComplete(Gid),
    /// A download failed.
    Error(Gid),
    /// Something worth a log line happened to a download (a retry, a mirror dropped):
    /// a warning, always sent.
    Notice(Gid, String),
    /// Detail for a log (`-l`) or a verbose console: sent only at levels some threshold
    /// of the global options asks for (see [`crate::log`]).
    Log(crate::log::LogLevel, Option<Gid>, String),
    /// The engine stopped every download resumably (an interrupt or `--stop`) and
    /// starts nothing new; the owner should shut it down.
    Halted,
}

/// Commands in, answers back. Cloneable and `Send`.
#[derive(Clone)]
pub struct Handle {
    tx: Sender<Command>,
    waker: Arc<Waker>,
    interrupt: Arc<AtomicBool>,
}

/// Stops a running engine from a signal handler: see [`Handle::interrupter`].
#[derive(Clone)]
pub struct Interrupter {
    flag: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl Interrupter {
    /// Asks the engine to halt. Only stores an atomic flag and writes to the loop's
    /// eventfd, so it is safe to call from a signal handler.
    pub fn interrupt(&self) {
        self.flag.store(true, Ordering::Relaxed);
        let _ = self.waker.wake();
    }
}

fn gone() -> Error {
    Error::new(ErrorCode::Unknown, "the engine has shut down")
}

fn not_found(gid: Gid) -> Error {
    Error::new(ErrorCode::Unknown, format!("GID {gid} is not found"))
}

impl Handle {
    pub(crate) fn new(
        tx: Sender<Command>,
        waker: Arc<Waker>,
        interrupt: Arc<AtomicBool>,
    ) -> Handle {
        Handle {
            tx,
            waker,
            interrupt,
        }
    }

    /// Runs `f` on the loop thread and returns its answer.
    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Engine, Instant) -> T + Send + 'static,
    ) -> Result<T, Error> {
        let (tx, rx) = channel();
        self.tx
            .send(Box::new(move |engine, now| {
                let _ = tx.send(f(engine, now));
            }))
            .map_err(|_| gone())?;
        let _ = self.waker.wake();
        rx.recv().map_err(|_| gone())
    }

    /// A signal-safe way to halt the engine (SIGINT, SIGTERM).
    pub fn interrupter(&self) -> Interrupter {
        Interrupter {
            flag: self.interrupt.clone(),
            waker: self.waker.clone(),
        }
    }

    /// Every event from now on. The receiver may be dropped at any time.
    pub fn subscribe(&self) -> Result<Receiver<Event>, Error> {
        let (tx, rx) = channel();
        self.call(move |engine, _| engine.subscribers.push(tx))?;
        Ok(rx)
    }

    /// Queues a download at the end of the queue; returns its GID.
    pub fn add(&self, spec: DownloadSpec) -> Result<Gid, Error> {
        self.add_at(spec, None)
    }

    /// Queues a download at `position` in the queue (aria2's `addUri` position).
    pub fn add_at(&self, spec: DownloadSpec, position: Option<usize>) -> Result<Gid, Error> {
        // Reading certificate stores is file-system work: done here, on the
        // caller's thread, once per process and set of TLS options.
        let tls = crate::tls::shared_config(&spec.options)
            .map_err(|e| Error::new(ErrorCode::BadOption, e))?;
        self.call(move |engine, now| engine.add(spec, tls, position, now))?
    }

    /// Pauses a waiting or active download (aria2's `pause`/`forcePause`: this
    /// engine has no slow goodbyes, so both stop at once and save the control file).
    pub fn pause(&self, gid: Gid) -> Result<(), Error> {
        self.call(move |engine, now| engine.pause(gid, now))?
    }

    /// Pauses every waiting and active download.
    pub fn pause_all(&self) -> Result<(), Error> {
        self.call(|engine, now| {
            for gid in engine.downloads.queued().to_vec() {
                let _ = engine.pause(gid, now);
            }
        })
    }

    /// Puts a paused download back in the queue as waiting.
    pub fn unpause(&self, gid: Gid) -> Result<(), Error> {
        self.call(move |engine, _| engine.unpause(gid))?
    }

    /// Unpauses every paused download.
    pub fn unpause_all(&self) -> Result<(), Error> {
        self.call(|engine, _| {
            for gid in engine.downloads.queued().to_vec() {
                let _ = engine.unpause(gid);
            }
        })
    }

    /// Removes a download from the queue (aria2's `remove`/`forceRemove`): its
    /// connections close, its partial file and control file stay for a later resume.
    pub fn remove(&self, gid: Gid) -> Result<(), Error> {
        self.call(move |engine, now| engine.remove(gid, now))?
    }

    /// Changes a download's options with aria2's rules: see [`crate::change`].
    pub fn change_option(&self, gid: Gid, options: Vec<(String, String)>) -> Result<(), Error> {
        self.call(move |engine, now| engine.change_option(gid, &options, now))?
    }

    /// Takes mirrors of a download out and puts others in (aria2's `changeUri`);
    /// returns how many were deleted and added. See [`crate::UriChange`].
    pub fn change_uri(&self, gid: Gid, change: crate::UriChange) -> Result<(usize, usize), Error> {
        self.call(move |engine, _| engine.change_uri(gid, &change))?
    }

    /// A download's current options (aria2's `getOption`).
    pub fn get_option(&self, gid: Gid) -> Result<Options, Error> {
        self.call(move |engine, _| {
            engine
                .downloads
                .get(gid)
                .map(|d| Options::clone(&d.opts))
                .ok_or_else(|| not_found(gid))
        })?
    }

    /// The global options (aria2's `getGlobalOption`): the defaults a new download
    /// added over RPC starts from.
    pub fn get_global_option(&self) -> Result<Options, Error> {
        self.call(|engine, _| engine.global.clone())
    }

    /// Changes global options with aria2's rules: see [`crate::change`].
    pub fn change_global_option(&self, options: Vec<(String, String)>) -> Result<(), Error> {
        self.call(move |engine, _| engine.change_global_option(&options))?
    }

    /// Moves a queued download (aria2's `changePosition`); returns its new place.
    pub fn change_position(&self, gid: Gid, pos: i64, from: PositionFrom) -> Result<usize, Error> {
        self.call(move |engine, _| {
            engine
                .downloads
                .move_to(gid, pos, from)
                .ok_or_else(|| not_found(gid))
        })?
    }

    /// One download's status (aria2's `tellStatus`).
    pub fn tell_status(&self, gid: Gid) -> Result<DownloadStatus, Error> {
        self.call(move |engine, now| {
            engine
                .downloads
                .get(gid)
                .map(|d| d.status(now))
                .ok_or_else(|| not_found(gid))
        })?
    }

    /// A download's files (aria2's `getFiles`).
    pub fn get_files(&self, gid: Gid) -> Result<Vec<FileStatus>, Error> {
        self.tell_status(gid).map(|s| s.files)
    }

    /// A download's URIs (aria2's `getUris`: those of its first file).
    pub fn get_uris(&self, gid: Gid) -> Result<Vec<UriStatus>, Error> {
        self.tell_status(gid).map(|s| {
            s.files
                .into_iter()
                .next()
                .map(|f| f.uris)
                .unwrap_or_default()
        })
    }

    /// Active downloads in queue order (aria2's `tellActive`).
    pub fn tell_active(&self) -> Result<Vec<DownloadStatus>, Error> {
        self.call(|engine, now| engine.statuses(now, |d| d.is_active()))
    }

    /// Waiting and paused downloads (aria2's `tellWaiting`), `num` from `offset`;
    /// a negative offset counts from the end and lists backwards, as in aria2.
    pub fn tell_waiting(&self, offset: i64, num: usize) -> Result<Vec<DownloadStatus>, Error> {
        self.call(move |engine, now| {
            // The page is chosen first: a status is made for each listed download
            // only, not for the whole queue.
            let waiting = engine
                .downloads
                .queued()
                .iter()
                .filter(|&&g| !engine.downloads[g].is_active())
                .copied()
                .collect();
            window(waiting, offset, num)
                .into_iter()
                .map(|g| engine.downloads[g].status(now))
                .collect()
        })
    }

    /// Complete, failed and removed downloads (aria2's `tellStopped`).
    pub fn tell_stopped(&self, offset: i64, num: usize) -> Result<Vec<DownloadStatus>, Error> {
        self.call(move |engine, now| {
            window(engine.downloads.stopped().to_vec(), offset, num)
                .into_iter()
                .map(|g| engine.downloads[g].status(now))
                .collect()
        })
    }

    /// The connections a download has open, by file (aria2's `getServers`).
    pub fn get_servers(&self, gid: Gid) -> Result<Vec<ServerStatus>, Error> {
        self.call(move |engine, now| engine.servers(gid, now))?
    }

    /// The connected peers of a torrent download (aria2's `getPeers`; empty for
    /// any other download).
    pub fn get_peers(&self, gid: Gid) -> Result<Vec<PeerStatus>, Error> {
        self.call(move |engine, now| engine.peers_of(gid, now))?
    }

    /// Speeds and queue sizes over every download (aria2's `getGlobalStat`).
    pub fn global_stat(&self) -> Result<GlobalStat, Error> {
        self.call(|engine, now| engine.global_stat(now))
    }

    /// The memory the engine holds for transfers: what a flood from a peer must not
    /// grow.
    pub fn held_memory(&self) -> Result<HeldMemory, Error> {
        self.call(|engine, _| HeldMemory {
            write_buffers: (engine.pooled_units() + engine.pool_out) * crate::engine::BUF_SIZE
                + engine.chunks.len() * crate::bt::chunks::CHUNK_SIZE,
            peer_read_peak: engine.peer_read_peak,
        })
    }

    /// What the results dropped under `--max-download-result` said (for an exit code
    /// that sees every failure).
    pub fn forgotten(&self) -> Result<Forgotten, Error> {
        self.call(|engine, _| engine.downloads.forgotten())
    }

    /// Forgets every stopped download (aria2's `purgeDownloadResult`).
    pub fn purge(&self) -> Result<(), Error> {
        self.call(|engine, _| engine.downloads.purge())
    }

    /// Forgets one stopped download (aria2's `removeDownloadResult`).
    pub fn remove_result(&self, gid: Gid) -> Result<(), Error> {
        self.call(move |engine, _| {
            if engine.downloads.remove_result(gid) {
                Ok(())
            } else {
                Err(not_found(gid))
            }
        })?
    }

    /// Pins `host:port` to `addrs`, bypassing name resolution (curl's `--resolve`).
    pub fn pin_host(&self, host: &str, port: u16, addrs: Vec<SocketAddr>) -> Result<(), Error> {
        let host = host.to_string();
        self.call(move |engine, _| engine.pin_host(&host, port, addrs))
    }

    /// Stops every download resumably, waits until every buffer is written and every
    /// control file saved, ends the loop thread, and returns every download's final
    /// status (queued ones first, in queue order, then stopped ones).
    pub fn shutdown(&self) -> Result<Vec<DownloadStatus>, Error> {
        let (tx, rx) = channel();
        self.tx
            .send(Box::new(move |engine: &mut Engine, now| {
                if !engine.halted {
                    engine.halt(now);
                }
                engine.shutdown.push(tx);
            }))
            .map_err(|_| gone())?;
        let _ = self.waker.wake();
        rx.recv().map_err(|_| gone())
    }
}

/// aria2's paging for `tellWaiting`/`tellStopped`.
fn window<T>(all: Vec<T>, offset: i64, num: usize) -> Vec<T> {
    if offset >= 0 {
        all.into_iter().skip(offset as usize).take(num).collect()
    } else {
        // -1 is the last item; the listing runs backwards from there.
        let from = all.len() as i64 + offset;
        if from < 0 {
            return Vec::new();
        }
        all.into_iter()
            .take(from as usize + 1)
            .rev()
            .take(num)
            .collect()
    }
}

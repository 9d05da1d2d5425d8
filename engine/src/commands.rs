//! What the loop does for each [`crate::Handle`] call: adding, pausing, removing and
//! reconfiguring downloads, and the snapshots the handle reads.

use std::sync::Arc;
use std::time::Instant;

use url::Url;

use crate::download::{Download, DownloadSpec, DownloadState};
use crate::engine::Engine;
use crate::error::{Error, ErrorCode};
use crate::gid::Gid;
use crate::handle::Event;
use crate::status::{DownloadStatus, GlobalStat, PeerStatus, Server, ServerStatus};
use crate::throttle::Throttle;

fn not_found(gid: Gid) -> Error {
    Error::new(ErrorCode::Unknown, format!("GID {gid} is not found"))
}

/// A URI the engine can download from: http, https or ftp, with a host.
pub(crate) fn source_url(uri: &str) -> Result<Url, Error> {
    let url = Url::parse(uri)
        .map_err(|e| Error::new(ErrorCode::Unknown, format!("bad URI `{uri}`: {e}")))?;
    match url.scheme() {
        "http" | "https" | "ftp" => {}
        other => {
            return Err(Error::new(
                ErrorCode::Unknown,
                format!("`{uri}`: the {other} scheme is not supported yet"),
            ));
        }
    }
    if url.host_str().is_none() {
        return Err(Error::new(
            ErrorCode::Unknown,
            format!("`{uri}` has no host"),
        ));
    }
    Ok(url)
}

impl Engine {
    /// Checks the spec's URIs and queues the download, and the downloads of its
    /// manifests ([`crate::manifest`]) after it.
    pub(crate) fn add(
        &mut self,
        mut spec: DownloadSpec,
        tls: Arc<rustls::ClientConfig>,
        position: Option<usize>,
        now: Instant,
    ) -> Result<Gid, Error> {
        let manifests = std::mem::take(&mut spec.manifests);
        let only_manifests =
            spec.torrent.is_none() && spec.magnet.is_none() && spec.uris.is_empty();
        let (gid, rest) = match manifests.split_first() {
            Some((first, rest)) if only_manifests => (
                self.add_manifest(first, spec.options, tls.clone(), position, now)?,
                rest,
            ),
            _ => (
                self.add_one(spec, tls.clone(), position, now)?,
                &manifests[..],
            ),
        };
        self.add_manifests(gid, rest, &tls, now);
        Ok(gid)
    }

    fn add_one(
        &mut self,
        spec: DownloadSpec,
        tls: Arc<rustls::ClientConfig>,
        position: Option<usize>,
        now: Instant,
    ) -> Result<Gid, Error> {
        if let Some(torrent) = spec.torrent {
            let opts = self.shared_options(spec.options);
            let gid = self.add_torrent(torrent, opts, tls, position, now)?;
            self.downloads[gid].metadata = spec.document.map(|doc| doc.metadata(gid));
            return Ok(gid);
        }
        if let Some(link) = spec.magnet {
            let opts = self.shared_options(spec.options);
            return self.add_magnet(link, opts, tls, position, now);
        }
        if spec.uris.is_empty() {
            return Err(Error::new(ErrorCode::Unknown, "no URI to download"));
        }
        let urls = spec
            .uris
            .iter()
            .map(|uri| source_url(uri))
            .collect::<Result<Vec<_>, _>>()?;
        let gid = self.new_gid(spec.options.gid)?;
        let opts = self.shared_options(spec.options);
        let mut download = Download::new(gid, urls, opts, spec.expect, tls, now);
        download.metadata = spec.document.map(|doc| doc.metadata(gid));
        Ok(self.enqueue(download, position))
    }

    /// Puts a new download in the queue at `position` (the end when `None`), paused
    /// under `--pause`.
    pub(crate) fn enqueue(&mut self, mut download: Download, position: Option<usize>) -> Gid {
        if download.opts.pause {
            download.state = DownloadState::Paused;
        }
        let gid = download.gid;
        self.downloads.insert(download, position);
        gid
    }

    /// The GID for a new download: `--gid`'s if it is free, else a fresh one.
    pub(crate) fn new_gid(&mut self, wanted: Option<Gid>) -> Result<Gid, Error> {
        match wanted {
            Some(g) if self.downloads.contains(g) => Err(Error::new(
                ErrorCode::BadOption,
                format!("GID {g} is not unique"),
            )),
            Some(g) => Ok(g),
            None => {
                let downloads = &self.downloads;
                Ok(self.gids.next(|g| downloads.contains(g)))
            }
        }
    }

    /// `options` as an `Arc`, the previous download's when equal (a queue of a
    /// thousand downloads with the same options holds them once).
    pub(crate) fn shared_options(&mut self, options: crate::Options) -> Arc<crate::Options> {
        match &self.last_options {
            Some(last) if **last == options => last.clone(),
            _ => self.last_options.insert(Arc::new(options)).clone(),
        }
    }

    pub(crate) fn pause(&mut self, gid: Gid, _now: Instant) -> Result<(), Error> {
        let d = self.downloads.get(gid).ok_or_else(|| not_found(gid))?;
        match d.state {
            DownloadState::Active => self.stop_transfers(gid),
            DownloadState::Waiting => {}
            _ => {
                return Err(Error::new(
                    ErrorCode::Unknown,
                    format!("GID {gid} cannot be paused now"),
                ));
            }
        }
        self.downloads.set_state(gid, DownloadState::Paused);
        self.emit(Event::Pause(gid));
        Ok(())
    }

    pub(crate) fn unpause(&mut self, gid: Gid) -> Result<(), Error> {
        let d = self.downloads.get_mut(gid).ok_or_else(|| not_found(gid))?;
        if d.state != DownloadState::Paused {
            return Err(Error::new(
                ErrorCode::Unknown,
                format!("GID {gid} cannot be unpaused now"),
            ));
        }
        self.downloads.set_state(gid, DownloadState::Waiting);
        Ok(())
    }

    pub(crate) fn remove(&mut self, gid: Gid, now: Instant) -> Result<(), Error> {
        let d = self.downloads.get(gid).ok_or_else(|| not_found(gid))?;
        if d.is_finished() {
            return Err(Error::new(
                ErrorCode::Unknown,
                format!("GID {gid} is already stopped"),
            ));
        }
        if d.is_active() {
            self.stop_transfers(gid);
        }
        self.downloads[gid].finished_at = Some(now);
        self.downloads.set_state(gid, DownloadState::Removed);
        Ok(())
    }

    pub(crate) fn change_option(
        &mut self,
        gid: Gid,
        changes: &[(String, String)],
        _now: Instant,
    ) -> Result<(), Error> {
        let d = self.downloads.get(gid).ok_or_else(|| not_found(gid))?;
        if d.is_finished() {
            return Err(Error::new(
                ErrorCode::Unknown,
                format!("GID {gid} is stopped; its options cannot change"),
            ));
        }
        let (opts, live) = crate::change::for_download(&d.opts, changes)?;
        let restart = d.is_active() && !live;
        let d = &mut self.downloads[gid];
        d.throttle = Throttle::new(opts.max_download_limit);
        if let Some(swarm) = d.bt.as_mut() {
            swarm.upload_limit = Throttle::new(opts.max_upload_limit);
        }
        d.opts = Arc::new(opts);
        if restart {
            // aria2 restarts an active download whose other options change: the
            // connections close, the download queues again and resumes from disk.
            self.stop_transfers(gid);
            self.downloads.set_state(gid, DownloadState::Waiting);
        }
        Ok(())
    }

    pub(crate) fn change_global_option(
        &mut self,
        changes: &[(String, String)],
    ) -> Result<(), Error> {
        let global = crate::change::for_global(&self.global, changes)?;
        if global.max_overall_download_limit != self.global.max_overall_download_limit {
            self.overall = Throttle::new(global.max_overall_download_limit);
        }
        if global.max_overall_upload_limit != self.global.max_overall_upload_limit {
            self.overall_upload = Throttle::new(global.max_overall_upload_limit);
        }
        if global.bt_max_open_files != self.global.bt_max_open_files {
            self.disk
                .send(crate::disk::DiskJob::MaxOpenFiles(global.bt_max_open_files));
        }
        self.global = global;
        Ok(())
    }

    /// Statuses of queued downloads that pass `keep`, in queue order.
    pub(crate) fn statuses(
        &self,
        now: Instant,
        keep: impl Fn(&Download) -> bool,
    ) -> Vec<DownloadStatus> {
        self.downloads
            .queued()
            .iter()
            .map(|&g| &self.downloads[g])
            .filter(|d| keep(d))
            .map(|d| d.status(now))
            .collect()
    }

    pub(crate) fn servers(&self, gid: Gid, now: Instant) -> Result<Vec<ServerStatus>, Error> {
        let d = self.downloads.get(gid).ok_or_else(|| not_found(gid))?;
        // By file, as aria2: a multi-file torrent's web seed connection is at the
        // file it fetches now (its `uri` that file's under the web seed).
        let mut by_file: Vec<ServerStatus> = Vec::new();
        for c in d.conns.iter().filter_map(|&k| self.conns[k].as_ref()) {
            let (index, uri) = match c.web_file {
                Some((file, _, _)) => (
                    file + 1,
                    d.web_seed_url(c.source, file).map(|u| u.to_string()),
                ),
                None => (1, None),
            };
            let server = Server {
                uri: uri.unwrap_or_else(|| d.sources[c.source].url.to_string()),
                current_uri: c.url.to_string(),
                speed: c.meter.rate(now),
            };
            match by_file.iter_mut().find(|s| s.index == index) {
                Some(s) => s.servers.push(server),
                None => by_file.push(ServerStatus {
                    index,
                    servers: vec![server],
                }),
            }
        }
        if by_file.is_empty() {
            by_file.push(ServerStatus {
                index: 1,
                servers: Vec::new(),
            });
        }
        by_file.sort_by_key(|s| s.index);
        Ok(by_file)
    }

    pub(crate) fn peers_of(&mut self, gid: Gid, now: Instant) -> Result<Vec<PeerStatus>, Error> {
        self.downloads.get(gid).ok_or_else(|| not_found(gid))?;
        Ok(self
            .peers
            .iter_mut()
            .flatten()
            .filter(|pc| pc.gid == gid)
            .filter_map(|pc| pc.status(now))
            .collect())
    }

    pub(crate) fn global_stat(&self, now: Instant) -> GlobalStat {
        let active = self.downloads.active();
        GlobalStat {
            speed: active
                .iter()
                .map(|&g| self.downloads[g].meter.rate(now))
                .sum(),
            num_active: active.len(),
            num_waiting: self.downloads.queued().len() - active.len(),
            num_stopped: self.downloads.stopped().len(),
            num_stopped_total: self.downloads.stopped().len() as u64
                + self.downloads.forgotten().results,
            num_paused: self.downloads.paused_count(),
            dht: self.dht.as_ref().map(|n| n.status()).unwrap_or_default(),
        }
    }

    /// A log line about download `gid`, for subscribers.
    pub(crate) fn notice(&mut self, gid: Gid, message: String) {
        self.emit(Event::Notice(gid, message));
    }
}

//! aria2's methods answered through the engine's [`Handle`].
//!
//! Every call is authorized before it is parsed ([`swarmget_rpc::auth::authorize`]),
//! and parsed before anything is asked of the engine, so a refused call changes
//! nothing. Option changes pass through [`Confinement`] before the engine sees them.

use std::path::Path;

use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use swarmget_engine::{
    DocumentRef, DownloadSpec, Error, Gid, Handle, Options, PositionFrom, UriChange,
};
use swarmget_rpc::Fault;
use swarmget_rpc::auth::{Secret, authorize};
use swarmget_rpc::method::{How, METHODS, Method, NOTIFICATIONS, OptionPairs, filter_keys};

use super::paths::Confinement;
use super::render;
use crate::hex::hex;
use swarmget_engine::magnet_download;

/// What a call asked of the daemon itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Keep serving.
    Stay,
    /// `aria2.shutdown`/`forceShutdown`: stop once the answer is sent.
    Shutdown,
}

/// The methods' state.
pub struct Methods {
    handle: Handle,
    secret: Option<Secret>,
    confinement: Confinement,
    session_id: String,
    exit: Exit,
}

fn fault(e: Error) -> Fault {
    Fault::failed(e.message)
}

impl Methods {
    /// Methods over `handle`; RPC paths confined to `confinement`.
    pub fn new(handle: Handle, secret: Option<Secret>, confinement: Confinement) -> Methods {
        // aria2's session id is 40 hex digits of randomness; the start time and pid
        // tell one daemon run from another, which is what clients use it for.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let session_id = format!("{seed:032x}{:08x}", std::process::id());
        Methods {
            handle,
            secret,
            confinement,
            session_id,
            exit: Exit::Stay,
        }
    }

    /// Whether a call asked the daemon to stop.
    pub fn exit(&self) -> Exit {
        self.exit
    }

    /// Answers one call. `xml` shapes `system.multicall`'s faults for XML-RPC.
    pub fn call(&mut self, name: &str, mut params: Vec<Value>, xml: bool) -> Result<Value, Fault> {
        authorize(name, &mut params, self.secret.as_ref())?;
        let method = Method::parse(name, params)?;
        self.run(method, xml)
    }

    fn run(&mut self, method: Method, xml: bool) -> Result<Value, Fault> {
        let h = &self.handle;
        Ok(match method {
            Method::AddUri {
                uris,
                options,
                position,
            } => {
                let opts = self.download_options(&options)?;
                let spec = match uris.iter().find(|u| magnet_download::is_magnet(u)) {
                    None => DownloadSpec::new(uris, opts),
                    Some(link) => {
                        // As in aria2, a magnet link is a download of its own.
                        if uris.len() > 1 {
                            return Err(Fault::failed(
                                "a magnet link must be the only URI of an addUri call",
                            ));
                        }
                        let mut warn = |w: String| eprintln!("swarmget: warning: {w}");
                        let mut specs =
                            magnet_download::specs(link, &opts, &mut warn).map_err(fault)?;
                        if specs.len() != 1 {
                            return Err(Fault::failed(
                                "the magnet link does not name exactly one download",
                            ));
                        }
                        specs.remove(0)
                    }
                };
                let gid = h.add_at(spec, position).map_err(fault)?;
                gid.to_string().into()
            }
            Method::AddTorrent {
                torrent,
                uris,
                options,
                position,
            } => {
                // Options (dir, out, index-out) are confined before the torrent is
                // parsed; the torrent's own file names are kept inside dir by the engine.
                let opts = self.download_options(&options)?;
                let mut spec =
                    crate::inputs::torrent_bytes(&torrent, "the torrent", &opts).map_err(fault)?;
                // As aria2: the uris are web seeds besides the torrent's own.
                spec.torrent = spec
                    .torrent
                    .map(|t| t.with_web_seeds(&uris))
                    .transpose()
                    .map_err(fault)?;
                if opts.rpc_save_upload_metadata
                    && let Some(t) = &spec.torrent
                {
                    let name = format!("{}.torrent", hex(&t.info_hash()));
                    spec.document = save_upload(&opts.dir, &name, &torrent).map(DocumentRef::new);
                }
                let gid = h.add_at(spec, position).map_err(fault)?;
                gid.to_string().into()
            }
            Method::AddMetalink {
                metalink,
                options,
                position,
            } => {
                let opts = self.download_options(&options)?;
                let mut warn = |w: String| eprintln!("swarmget: warning: {w}");
                let parsed = swarmget_engine::metalink::parse_document(
                    &metalink,
                    "the Metalink document",
                    opts.metalink_base_uri.clone(),
                    &mut warn,
                )
                .map_err(fault)?;
                let specs = swarmget_engine::metalink::specs(
                    &parsed,
                    "the Metalink document",
                    &opts,
                    &mut warn,
                )
                .map_err(fault)?;
                // As aria2: the upload kept as `<hex SHA-1 of the document>.meta4`.
                let specs = match opts.rpc_save_upload_metadata {
                    true => {
                        let name = format!("{}.meta4", hex(&Sha1::digest(&metalink)));
                        match save_upload(&opts.dir, &name, &metalink) {
                            Some(path) => crate::inputs::from_document(specs, &path),
                            None => specs,
                        }
                    }
                    false => specs,
                };
                let mut gids = Vec::new();
                for (i, spec) in specs.into_iter().enumerate() {
                    let gid = h.add_at(spec, position.map(|p| p + i)).map_err(fault)?;
                    gids.push(Value::String(gid.to_string()));
                }
                gids.into()
            }
            Method::Remove { gid, force: _ } => {
                let g = self.gid(&gid)?;
                h.remove(g).map_err(fault)?;
                g.to_string().into()
            }
            Method::Pause { gid, force: _ } => {
                let g = self.gid(&gid)?;
                h.pause(g).map_err(fault)?;
                g.to_string().into()
            }
            Method::PauseAll { force: _ } => {
                h.pause_all().map_err(fault)?;
                "OK".into()
            }
            Method::Unpause { gid } => {
                let g = self.gid(&gid)?;
                h.unpause(g).map_err(fault)?;
                g.to_string().into()
            }
            Method::UnpauseAll => {
                h.unpause_all().map_err(fault)?;
                "OK".into()
            }
            Method::ChangePosition { gid, pos, how } => {
                let g = self.gid(&gid)?;
                let from = match how {
                    How::Set => PositionFrom::Set,
                    How::Cur => PositionFrom::Current,
                    How::End => PositionFrom::End,
                };
                let at = h.change_position(g, pos, from).map_err(fault)?;
                at.into()
            }
            Method::TellStatus { gid, keys } => {
                let g = self.gid(&gid)?;
                let s = h.tell_status(g).map_err(fault)?;
                Value::Object(filter_keys(render::status(&s), &keys))
            }
            Method::GetUris { gid } => render::uris(&h.get_uris(self.gid(&gid)?).map_err(fault)?),
            Method::GetFiles { gid } => {
                let files = h.get_files(self.gid(&gid)?).map_err(fault)?;
                files.iter().map(render::file).collect::<Vec<_>>().into()
            }
            Method::GetPeers { gid } => {
                let peers = h.get_peers(self.gid(&gid)?).map_err(fault)?;
                peers.iter().map(render::peer).collect::<Vec<_>>().into()
            }
            Method::GetServers { gid } => {
                render::servers(&h.get_servers(self.gid(&gid)?).map_err(fault)?)
            }
            Method::TellActive { keys } => list(h.tell_active().map_err(fault)?, &keys),
            Method::TellWaiting { offset, num, keys } => {
                list(h.tell_waiting(offset, num).map_err(fault)?, &keys)
            }
            Method::TellStopped { offset, num, keys } => {
                list(h.tell_stopped(offset, num).map_err(fault)?, &keys)
            }
            Method::GetOption { gid } => Value::Object(render::options(
                &h.get_option(self.gid(&gid)?).map_err(fault)?,
            )),
            Method::ChangeUri {
                gid,
                file_index,
                del_uris,
                add_uris,
                position,
            } => {
                let change = UriChange {
                    file_index,
                    delete: del_uris,
                    add: add_uris,
                    position,
                };
                let (deleted, added) = h.change_uri(self.gid(&gid)?, change).map_err(fault)?;
                // aria2 answers with two integers, not decimal strings.
                json!([deleted, added])
            }
            Method::ChangeOption { gid, options } => {
                let g = self.gid(&gid)?;
                self.confine(&options)?;
                h.change_option(g, options).map_err(fault)?;
                "OK".into()
            }
            Method::GetGlobalOption => {
                Value::Object(render::options(&h.get_global_option().map_err(fault)?))
            }
            Method::ChangeGlobalOption { options } => {
                self.confine(&options)?;
                h.change_global_option(options).map_err(fault)?;
                "OK".into()
            }
            Method::PurgeDownloadResult => {
                h.purge().map_err(fault)?;
                "OK".into()
            }
            Method::RemoveDownloadResult { gid } => {
                h.remove_result(self.gid(&gid)?).map_err(fault)?;
                "OK".into()
            }
            Method::GetVersion => json!({
                "version": env!("CARGO_PKG_VERSION"),
                // aria2's names for what this build does.
                "enabledFeatures": ["BitTorrent", "GZip", "HTTPS", "Message Digest", "Metalink", "XML-RPC"],
            }),
            Method::GetSessionInfo => json!({ "sessionId": self.session_id }),
            Method::Shutdown { force: _ } => {
                self.exit = Exit::Shutdown;
                "OK".into()
            }
            Method::GetGlobalStat => {
                let s = h.global_stat().map_err(fault)?;
                // Results dropped under --max-download-result still count in the total.
                let dropped = h.forgotten().map_err(fault)?.results;
                json!({
                    "downloadSpeed": s.speed.to_string(),
                    "uploadSpeed": "0",
                    "numActive": s.num_active.to_string(),
                    "numWaiting": s.num_waiting.to_string(),
                    "numStopped": s.num_stopped.to_string(),
                    "numStoppedTotal": (s.num_stopped as u64 + dropped).to_string(),
                    // swarmget's own: the DHT routing tables' sizes per family.
                    "dhtNodes4": s.dht.nodes4.to_string(),
                    "dhtNodes6": s.dht.nodes6.to_string(),
                })
            }
            Method::SaveSession => {
                let global = h.get_global_option().map_err(fault)?;
                let path = global
                    .save_session
                    .ok_or_else(|| Fault::failed("Filename is not given."))?;
                super::session::save(h, &path).map_err(Fault::failed)?;
                "OK".into()
            }
            Method::Multicall(calls) => {
                let mut out = Vec::with_capacity(calls.len());
                for call in calls {
                    let r = call.and_then(|(name, params)| self.call(&name, params, xml));
                    out.push(match r {
                        Ok(v) => Value::Array(vec![v]),
                        Err(f) if xml => json!({"faultCode": f.code, "faultString": f.message}),
                        Err(f) => json!({"code": f.code, "message": f.message}),
                    });
                }
                out.into()
            }
            Method::ListMethods => METHODS.to_vec().into(),
            Method::ListNotifications => NOTIFICATIONS.to_vec().into(),
        })
    }

    /// Global options with `pairs` applied as a new download's, each checked as an
    /// input-file option and against the confinement.
    fn download_options(&self, pairs: &OptionPairs) -> Result<Options, Fault> {
        self.confine(pairs)?;
        let mut opts = self.handle.get_global_option().map_err(fault)?;
        for (name, value) in pairs {
            let def = swarmget_engine::options::find(name)
                .ok_or_else(|| Fault::failed(format!("option '{name}' is not known")))?;
            if !def.per_download {
                return Err(Fault::failed(format!(
                    "option '{name}' cannot be set for one download"
                )));
            }
            (def.apply)(&mut opts, value).map_err(|e| Fault::failed(format!("--{name}: {e}")))?;
        }
        Ok(opts)
    }

    fn confine(&self, pairs: &OptionPairs) -> Result<(), Fault> {
        for (name, value) in pairs {
            self.confinement.check(name, value).map_err(Fault::failed)?;
        }
        Ok(())
    }

    /// A GID argument: 16 hex digits, or a unique prefix of a known download's.
    fn gid(&self, text: &str) -> Result<Gid, Fault> {
        let invalid = || Fault::failed(format!("Invalid GID {text}"));
        if text.is_empty() || text.len() > 16 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        if let Some(g) = Gid::parse(text) {
            return Ok(g);
        }
        let prefix = text.to_ascii_lowercase();
        let h = &self.handle;
        let mut all = h.tell_active().map_err(fault)?;
        all.extend(h.tell_waiting(0, usize::MAX).map_err(fault)?);
        all.extend(h.tell_stopped(0, usize::MAX).map_err(fault)?);
        let mut found = all
            .iter()
            .map(|s| s.gid)
            .filter(|g| g.to_string().starts_with(&prefix));
        match (found.next(), found.next()) {
            (Some(g), None) => Ok(g),
            (None, _) => Err(Fault::failed(format!("GID {text} is not found"))),
            (Some(_), Some(_)) => Err(Fault::failed(format!("GID {text} is ambiguous"))),
        }
    }
}

/// `--rpc-save-upload-metadata`: an uploaded torrent or Metalink document written as
/// `name` in `dir` (already confined), so a saved session's download can be found
/// again. As in aria2, a failed write is a notice, not a failed call. The path
/// written, which `--save-session` names for the downloads.
fn save_upload(dir: &Path, name: &str, data: &[u8]) -> Option<String> {
    let path = dir.join(name);
    let written = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, data));
    match written {
        Ok(()) => Some(path.display().to_string()),
        Err(e) => {
            eprintln!(
                "swarmget: uploaded data was not saved: cannot write {}: {e}",
                path.display()
            );
            None
        }
    }
}

fn list(statuses: Vec<swarmget_engine::DownloadStatus>, keys: &[String]) -> Value {
    statuses
        .iter()
        .map(|s| Value::Object(filter_keys(render::status(s), keys)))
        .collect::<Vec<_>>()
        .into()
}

/// The confinement root for a daemon started in `cwd` with `opts`.
pub fn confinement(cwd: &Path, opts: &Options) -> Confinement {
    Confinement::new(cwd, &opts.dir)
}

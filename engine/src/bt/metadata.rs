//! Metadata connections (BEP 9 over BEP 10) of magnet downloads, and the answers a
//! torrent's peer connections give to peers that ask us for metadata.
//!
//! A metadata connection sends the handshake and our extension handshake, learns the
//! peer's `ut_metadata` id and `metadata_size`, and asks for one piece at a time of
//! the shared [`MetadataAssembler`]; every other message is ignored (the torrent
//! download that follows connects again and speaks the whole protocol).
//!
//! Invariants:
//! - the decoder bounds every frame (bt-wire's default limits: 128 KiB extension
//!   messages, 512 KiB bitfields), and the assembler refuses a size over
//!   [`MAX_METADATA_SIZE`](swarmget_bt_wire::extension::MAX_METADATA_SIZE) before
//!   allocating;
//! - a peer is asked only while it agrees with the assembler on the size, one piece
//!   at a time, and is dropped when it rejects, sends a bad piece or keeps us waiting
//!   past [`REQUEST_TIMEOUT`];
//! - a connection lives only while its download is active.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Token};
use swarmget_bt_wire::extension::ut_metadata::{check_size, piece_count};
use swarmget_bt_wire::extension::{MetadataAssembler, MetadataMessage, Progress};
use swarmget_bt_wire::wire::{ExtensionHandshake, FrameDecoder, Handshake, Limits, Message};

use crate::engine::Engine;
use crate::gid::Gid;

/// Token bit marking a metadata connection.
pub(crate) const META_TAG: usize = 1 << (usize::BITS - 4);
/// The id under which we take `ut_metadata` messages (our extension handshake says so).
pub(crate) const UT_METADATA: u8 = 3;
/// How long a connection may take to connect and hand-shake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a piece asked for may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes read per system call.
const READ_LEN: usize = 32 << 10;

pub(crate) struct MetaConn {
    gid: Gid,
    addr: SocketAddr,
    sock: TcpStream,
    connected: bool,
    decoder: FrameDecoder,
    handshaken: bool,
    out: Vec<u8>,
    /// The peer's `ut_metadata` id and metadata size, from its extension handshake.
    ut_metadata: Option<u8>,
    size: Option<u64>,
    /// When the piece in flight was asked for.
    asked_at: Option<Instant>,
    since: Instant,
}

/// Our extension handshake (BEP 10): the client name (`--peer-agent`), `ut_metadata`
/// under [`UT_METADATA`] (and `ut_pex` under its id when given), the metadata's size
/// when we have it, our listen port.
pub(crate) fn extension_handshake(
    agent: &str,
    metadata_size: Option<u64>,
    port: Option<u16>,
    ut_pex: Option<u8>,
) -> ExtensionHandshake {
    let mut m = BTreeMap::from([("ut_metadata".to_string(), UT_METADATA)]);
    if let Some(id) = ut_pex {
        m.insert("ut_pex".to_string(), id);
    }
    ExtensionHandshake {
        m,
        v: Some(agent.to_string()),
        p: port.filter(|&p| p != 0),
        metadata_size,
        ..ExtensionHandshake::default()
    }
}

/// The answer to a peer's `ut_metadata` message when we hold the metadata `info`: the
/// piece it asked for, or a reject for a piece that does not exist; `None` for
/// anything but a request.
pub(crate) fn answer_metadata(info: &[u8], payload: &[u8]) -> Option<Vec<u8>> {
    let Ok(MetadataMessage::Request { piece }) = MetadataMessage::parse(payload) else {
        return None;
    };
    let mut out = Vec::new();
    let size = info.len() as u64;
    let start = piece as usize * swarmget_bt_wire::extension::METADATA_PIECE;
    if piece < piece_count(size) {
        let end = (start + swarmget_bt_wire::extension::METADATA_PIECE).min(info.len());
        MetadataMessage::Data {
            piece,
            total_size: size,
            data: &info[start..end],
        }
        .encode(&mut out);
    } else {
        MetadataMessage::Reject { piece }.encode(&mut out);
    }
    Some(out)
}

fn send(out: &mut Vec<u8>, id: u8, payload: &[u8]) {
    Message::Extended { id, payload }.encode(out);
}

impl Engine {
    /// Opens a metadata connection from magnet download `gid` to `addr`.
    pub(crate) fn connect_meta(&mut self, gid: Gid, addr: SocketAddr, now: Instant) {
        let opts = &self.downloads[gid].opts;
        let made = crate::socket::local_address(opts, &mut self.interface_turn, &addr)
            .and_then(|local| crate::socket::connect(addr, local, opts.socket_recv_buffer_size));
        let mut sock = match made {
            Ok(sock) => sock,
            Err(_) => {
                if let Some(f) = self.downloads[gid].magnet.as_mut() {
                    f.disconnected(addr, now);
                }
                return;
            }
        };
        let key = match self.meta_conns.iter().position(Option::is_none) {
            Some(k) => k,
            None => {
                self.meta_conns.push(None);
                self.meta_conns.len() - 1
            }
        };
        let interest = Interest::READABLE | Interest::WRITABLE;
        if self
            .poll
            .registry()
            .register(&mut sock, Token(META_TAG | key), interest)
            .is_err()
        {
            if let Some(f) = self.downloads[gid].magnet.as_mut() {
                f.disconnected(addr, now);
            }
            return;
        }
        if let Some(f) = self.downloads[gid].magnet.as_mut() {
            f.conn_keys.push(key);
        }
        self.meta_conns[key] = Some(MetaConn {
            gid,
            addr,
            sock,
            connected: false,
            decoder: FrameDecoder::new(Limits::default()),
            handshaken: false,
            out: Vec::new(),
            ut_metadata: None,
            size: None,
            asked_at: None,
            since: now,
        });
    }

    /// Readiness of metadata connection `key`.
    pub(crate) fn meta_event(&mut self, key: usize, now: Instant) {
        let Some(mut mc) = self.meta_conns.get_mut(key).and_then(Option::take) else {
            return;
        };
        match self.drive_meta(&mut mc, now) {
            Ok(None) => self.meta_conns[key] = Some(mc),
            Ok(Some(info)) => {
                let (gid, from) = (mc.gid, mc.addr);
                self.close_meta(key, mc, now);
                self.metadata_arrived(gid, info, from, now);
            }
            Err(why) => {
                let gid = mc.gid;
                self.close_meta(key, mc, now);
                if let Some(why) = why {
                    self.notice(gid, why);
                }
            }
        }
    }

    /// Once per turn: every metadata connection driven, those of stopped downloads and
    /// those that keep us waiting closed.
    pub(crate) fn meta_tick(&mut self, now: Instant) {
        for key in 0..self.meta_conns.len() {
            let Some(mc) = self.meta_conns[key].as_ref() else {
                continue;
            };
            let active = !self.halted
                && self
                    .downloads
                    .get(mc.gid)
                    .is_some_and(|d| d.is_active() && d.magnet.is_some());
            let late = match mc.asked_at {
                Some(t) => now.saturating_duration_since(t) >= REQUEST_TIMEOUT,
                None => {
                    !mc.handshaken && now.saturating_duration_since(mc.since) >= HANDSHAKE_TIMEOUT
                }
            };
            if !active || late {
                if let Some(mc) = self.meta_conns[key].take() {
                    self.close_meta(key, mc, now);
                }
                continue;
            }
            self.meta_event(key, now);
        }
    }

    /// An assembly whose size no connected peer agrees with (a liar announced it and
    /// left) is dropped, so the next one takes the size the peers announce.
    pub(crate) fn drop_stale_assembly(&mut self, gid: Gid) {
        let Some(fetch) = self.downloads[gid].magnet.as_mut() else {
            return;
        };
        let Some(size) = fetch.assembler.as_ref().map(MetadataAssembler::size) else {
            return;
        };
        let sizes: Vec<u64> = fetch
            .conn_keys
            .iter()
            .filter_map(|&k| self.meta_conns.get(k)?.as_ref()?.size)
            .collect();
        if !sizes.is_empty() && !sizes.contains(&size) {
            fetch.assembler = None;
        }
    }

    /// Closes every metadata connection of `gid`; returns the peers they were to.
    pub(crate) fn close_meta_conns(&mut self, gid: Gid, now: Instant) -> Vec<SocketAddr> {
        let keys = self.downloads[gid]
            .magnet
            .as_ref()
            .map(|f| f.conn_keys.clone())
            .unwrap_or_default();
        let mut closed = Vec::new();
        for key in keys {
            if let Some(mc) = self.meta_conns.get_mut(key).and_then(Option::take) {
                closed.push(mc.addr);
                self.close_meta(key, mc, now);
            }
        }
        closed
    }

    fn close_meta(&mut self, key: usize, mut mc: MetaConn, now: Instant) {
        let _ = self.poll.registry().deregister(&mut mc.sock);
        if let Some(f) = self
            .downloads
            .get_mut(mc.gid)
            .and_then(|d| d.magnet.as_mut())
        {
            f.conn_keys.retain(|&k| k != key);
            f.disconnected(mc.addr, now);
        }
    }

    /// Reads, handles and writes what is due. `Ok(Some(info))`: the metadata verified;
    /// `Err(why)`: the connection ends (with a notice when `why` says something).
    fn drive_meta(
        &mut self,
        mc: &mut MetaConn,
        now: Instant,
    ) -> Result<Option<Vec<u8>>, Option<String>> {
        let Some(fetch) = self.downloads[mc.gid].magnet.as_ref() else {
            return Err(None);
        };
        let (info_hash, peer_id) = (fetch.link.info_hash, fetch.peer_id);
        if !mc.connected {
            match mc.sock.peer_addr() {
                Ok(_) => {
                    mc.connected = true;
                    let dht = self.dht.is_some();
                    mc.out
                        .extend_from_slice(&Handshake::new(info_hash, peer_id, dht).encode());
                    let port = self.listener.as_ref().map(|l| l.port);
                    let agent = &self.downloads[mc.gid].opts.peer_agent;
                    let ours = extension_handshake(agent, None, port, None).encode();
                    send(&mut mc.out, 0, &ours);
                }
                Err(e) if e.kind() == ErrorKind::NotConnected => return Ok(None),
                Err(_) => return Err(None),
            }
        }
        let mut buf = [0u8; READ_LEN];
        loop {
            match mc.sock.read(&mut buf) {
                Ok(0) => return Err(None),
                Ok(n) => mc.decoder.extend(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Err(None),
            }
        }
        if let Some(info) = self.meta_messages(mc, info_hash)? {
            return Ok(Some(info));
        }
        self.ask_metadata(mc, now)?;
        while !mc.out.is_empty() {
            match mc.sock.write(&mc.out) {
                Ok(0) => return Err(None),
                Ok(n) => {
                    mc.out.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Err(None),
            }
        }
        Ok(None)
    }

    /// Takes every complete message buffered.
    fn meta_messages(
        &mut self,
        mc: &mut MetaConn,
        info_hash: [u8; 20],
    ) -> Result<Option<Vec<u8>>, Option<String>> {
        if !mc.handshaken {
            let Some(hs) = mc.decoder.handshake().map_err(|_| None)? else {
                return Ok(None);
            };
            if hs.info_hash != info_hash || !hs.extension_protocol() {
                return Err(None);
            }
            mc.handshaken = true;
        }
        let gid = mc.gid;
        let addr = mc.addr;
        loop {
            let message = match mc.decoder.next() {
                Ok(Some(m)) => m,
                Ok(None) => return Ok(None),
                Err(e) => return Err(Some(format!("peer {addr}: {e}"))),
            };
            let Message::Extended { id, payload } = message else {
                continue;
            };
            if id == 0 {
                let hs = ExtensionHandshake::parse(payload).map_err(|_| None)?;
                mc.ut_metadata = hs.id_of("ut_metadata");
                let (Some(_), Some(size)) = (mc.ut_metadata, hs.metadata_size) else {
                    // It cannot give us metadata.
                    return Err(None);
                };
                // Refused before anything is allocated for it.
                check_size(size).map_err(|e| Some(format!("peer {addr}: {e}")))?;
                mc.size = Some(size);
                continue;
            }
            if id != UT_METADATA {
                continue;
            }
            let message = MetadataMessage::parse(payload)
                .map_err(|e| Some(format!("peer {addr}: bad metadata message: {e}")))?;
            let Some(fetch) = self.downloads[gid].magnet.as_mut() else {
                return Err(None);
            };
            match message {
                MetadataMessage::Request { piece } => {
                    let mut out = Vec::new();
                    MetadataMessage::Reject { piece }.encode(&mut out);
                    if let Some(their) = mc.ut_metadata {
                        send(&mut mc.out, their, &out);
                    }
                }
                MetadataMessage::Reject { .. } => return Err(None),
                MetadataMessage::Data {
                    piece,
                    total_size,
                    data,
                } => {
                    mc.asked_at = None;
                    let Some(assembler) = fetch.assembler.as_mut() else {
                        return Err(None);
                    };
                    let progress = assembler
                        .add_piece(addr, piece, total_size, data)
                        .map_err(|e| Some(format!("peer {addr}: bad metadata piece: {e}")))?;
                    match progress {
                        Progress::NeedMore => {}
                        Progress::Complete(info) => return Ok(Some(info)),
                        Progress::HashMismatch(peers) => {
                            let list: Vec<String> = peers.iter().map(|p| p.to_string()).collect();
                            let banned = peers == [addr];
                            // A new assembly takes the size the next peer announces.
                            fetch.assembler = None;
                            let why = format!(
                                "metadata from {} does not match the info-hash; fetching it again",
                                list.join(", ")
                            );
                            if banned {
                                // It alone sent a whole metadata that lies.
                                fetch.ban(addr);
                            }
                            return Err(Some(why));
                        }
                    }
                }
            }
        }
    }

    /// Asks the peer for the next missing piece, if it agrees on the size and has
    /// nothing in flight.
    fn ask_metadata(&mut self, mc: &mut MetaConn, now: Instant) -> Result<(), Option<String>> {
        let (Some(their), Some(size), None) = (mc.ut_metadata, mc.size, mc.asked_at) else {
            return Ok(());
        };
        let Some(fetch) = self.downloads[mc.gid].magnet.as_mut() else {
            return Err(None);
        };
        let info_hash = fetch.link.info_hash;
        let assembler = match &mut fetch.assembler {
            Some(a) => a,
            None => fetch.assembler.insert(
                MetadataAssembler::new(info_hash, size)
                    .map_err(|e| Some(format!("peer {}: {e}", mc.addr)))?,
            ),
        };
        if assembler.size() != size {
            return Ok(());
        }
        if let Some(piece) = assembler.next_request(mc.addr) {
            let mut out = Vec::new();
            MetadataMessage::Request { piece }.encode(&mut out);
            send(&mut mc.out, their, &out);
            mc.asked_at = Some(now);
        }
        Ok(())
    }
}

//! One peer connection on the loop, outgoing or accepted by the listener: a non-blocking
//! socket registered in the engine's token space, bt-wire's [`FrameDecoder`] over what it
//! reads and its [`Peer`] state machine deciding what is sent.
//!
//! Invariants: the decoder buffers at most one message beyond the last read (bt-wire
//! bounds every length prefix by the torrent's piece count and the 16 KiB block size)
//! and the socket is read straight into it, [`READ_LEN`] at a time (so a connection
//! keeps about that much);
//! every complete message is taken after each read; nothing is read while the
//! blocks on their way to disk fill `--disk-cache` (the engine's buffer pool);
//! `out` holds bytes the socket did not take yet, and nothing more is produced while it
//! is over [`OUT_HIGH`]; a block is written only when the plan says this peer's slot
//! asked for it. An accepted connection's handshake is answered only once it named one
//! of our torrents (the listener matched it before handing the socket over).

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::TcpStream;
use mio::{Interest, Token};
use swarmget_bt_wire::peer::{Peer, PeerConfig, PeerEvent};
use swarmget_bt_wire::wire::{BlockRequest, FrameDecoder, Handshake, Limits};

use crate::bitfield::Bitfield;
use crate::download::Layout;
use crate::engine::Engine;
use crate::gid::Gid;
use crate::log::LogLevel;
use crate::plan::{Block, SourceSlot};
use crate::status::PeerStatus;

/// Token bit marking a peer connection (HTTP and FTP tokens never reach it).
pub(crate) const PEER_TAG: usize = 1 << (usize::BITS - 2);
/// Unsent bytes above which the connection stops producing more.
const OUT_HIGH: usize = 256 << 10;
/// Bytes read per system call.
const READ_LEN: usize = 64 << 10;
/// How long a piece the peer rejected while unchoking us is not asked of it again.
/// Without the wait a peer whose bitfield lies is asked for the same blocks every loop
/// turn, rejecting each (found by the swarm tests: thousands of requests a second).
const REFUSED_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

pub(crate) struct PeerConn {
    pub gid: Gid,
    pub addr: SocketAddr,
    sock: TcpStream,
    pub slot: SourceSlot,
    /// Its key in the engine's peer table (its token is `PEER_TAG | key`).
    pub key: usize,
    /// Tells this connection apart from a later one under the same key (disk reads
    /// answer after the connection may have gone).
    pub serial: u64,
    connected: bool,
    /// The peer connected to us: our handshake answers its own.
    pub(super) incoming: bool,
    decoder: FrameDecoder,
    /// `None` until the peer's handshake arrived.
    pub(super) peer: Option<Peer>,
    /// The id the peer's handshake gave (zeros before it).
    pub(super) peer_id: [u8; 20],
    pub(super) out: Vec<u8>,
    pub(super) pieces: u32,
    /// The peer's requests, checked, waiting for a disk read.
    pub(super) serving: std::collections::VecDeque<BlockRequest>,
    /// Disk reads in flight for it.
    pub(super) reads: usize,
    /// When we last unchoked it (`None` while choked).
    pub(super) unchoked_at: Option<Instant>,
    /// When it last sent us a block we asked for.
    pub(super) last_block: Option<Instant>,
    /// What its extension handshake said, and the peer exchange with it.
    pub(super) ext: super::extension::PeerExtensions,
    /// The socket may have bytes to read: set by readiness, cleared by a read that
    /// came back short or would block. Readiness is edge-triggered and fires again
    /// for any byte that arrives after that read, so a peer driven on the loop's turn
    /// without readiness costs no system call that would only say "would block".
    readable: bool,
    /// Pieces it rejected requests for while unchoking us, taken out of its bitfield
    /// in the plan until then (see [`REFUSED_WAIT`]).
    refused: Vec<(u32, Instant)>,
}

impl PeerConn {
    pub fn is_seed(&self) -> bool {
        self.peer.as_ref().is_some_and(|p| p.pieces().is_seed())
    }

    /// What `aria2.getPeers` shows of this peer; `None` before its handshake.
    pub fn status(&mut self, now: Instant) -> Option<PeerStatus> {
        let peer = self.peer.as_mut()?;
        let pieces = peer.pieces();
        let mut bitfield = vec![0u8; (self.pieces as usize).div_ceil(8)];
        for i in (0..self.pieces).filter(|&i| pieces.has(i)) {
            bitfield[i as usize / 8] |= 0x80 >> (i % 8);
        }
        Some(PeerStatus {
            peer_id: self.peer_id,
            addr: self.addr,
            bitfield,
            seeder: pieces.is_seed(),
            am_choking: peer.am_choking(),
            peer_choking: peer.peer_choking(),
            download_speed: peer.download_rate(now),
            upload_speed: peer.upload_rate(now),
            downloaded: peer.downloaded(),
        })
    }
}

impl Engine {
    /// Opens a connection from torrent download `gid` to `addr`.
    pub(crate) fn connect_peer(&mut self, gid: Gid, addr: SocketAddr, now: Instant) {
        // --interface/--multiple-interface and --socket-recv-buffer-size apply to
        // peers as to HTTP and FTP servers.
        let opts = &self.downloads[gid].opts;
        let made = crate::socket::local_address(opts, &mut self.interface_turn, &addr)
            .and_then(|local| crate::socket::connect(addr, local, opts.socket_recv_buffer_size));
        match made {
            Ok(sock) => {
                self.attach_peer(gid, addr, sock, None, now);
            }
            Err(_) => {
                if let Some(swarm) = self.downloads[gid].bt.as_mut() {
                    swarm.disconnected(addr, now);
                }
            }
        }
    }

    /// Registers a peer connection of torrent `gid`: an outgoing one (`handshake`
    /// `None`, still connecting) or one the listener accepted, with the handshake bytes
    /// it read. Returns its key, or `None` (the socket is dropped) when it cannot be
    /// registered.
    pub(crate) fn attach_peer(
        &mut self,
        gid: Gid,
        addr: SocketAddr,
        mut sock: TcpStream,
        handshake: Option<&[u8]>,
        now: Instant,
    ) -> Option<usize> {
        let d = &mut self.downloads[gid];
        let (Some(swarm), Layout::Planned(plan)) = (d.bt.as_mut(), &d.layout) else {
            return None;
        };
        let pieces = plan.piece_count() as u32;
        let key = self.free_peer_keys.pop().unwrap_or_else(|| {
            self.peers.push(None);
            self.peers.len() - 1
        });
        let token = Token(PEER_TAG | key);
        let interest = Interest::READABLE | Interest::WRITABLE;
        let registered = if handshake.is_some() {
            self.poll.registry().reregister(&mut sock, token, interest)
        } else {
            self.poll.registry().register(&mut sock, token, interest)
        };
        if registered.is_err() {
            self.free_peer_keys.push(key);
            if handshake.is_none() {
                swarm.disconnected(addr, now);
            }
            return None;
        }
        let slot = d.next_slot;
        d.next_slot += 1;
        swarm.slot_peers.insert(slot, addr);
        swarm.peer_keys.push(key);
        swarm.origins.incoming += usize::from(handshake.is_some());
        let limits = Limits::default().with_piece_count(pieces);
        let mut decoder = FrameDecoder::new(limits);
        decoder.extend(handshake.unwrap_or_default());
        self.peer_serial += 1;
        self.peers[key] = Some(PeerConn {
            gid,
            addr,
            sock,
            slot,
            key,
            serial: self.peer_serial,
            connected: handshake.is_some(),
            incoming: handshake.is_some(),
            decoder,
            peer: None,
            peer_id: [0; 20],
            out: Vec::new(),
            pieces,
            serving: Default::default(),
            reads: 0,
            unchoked_at: None,
            last_block: None,
            ext: Default::default(),
            readable: true,
            refused: Vec::new(),
        });
        Some(key)
    }

    /// Readiness for peer connection `key` (or its turn in `bt_tick`).
    pub(crate) fn peer_event(&mut self, key: usize, now: Instant) {
        let Some(mut pc) = self.peers.get_mut(key).and_then(Option::take) else {
            return;
        };
        pc.readable = true;
        match self.drive_peer(&mut pc, now) {
            Ok(()) => self.peers[key] = Some(pc),
            Err(why) => self.close_peer(key, pc, &why, now),
        }
    }

    /// Closes peer connection `key`: its requests go back to the plan.
    pub(crate) fn close_peer(&mut self, key: usize, mut pc: PeerConn, why: &str, now: Instant) {
        let _ = self.poll.registry().deregister(&mut pc.sock);
        self.free_peer_keys.push(key);
        self.log_conn(LogLevel::Info, pc.gid, key, || {
            format!("Closed the connection to peer {}: {why}", pc.addr)
        });
        if let Some(d) = self.downloads.get_mut(pc.gid) {
            if let Some(plan) = d.plan_mut() {
                plan.release(pc.slot);
            }
            if let Some(swarm) = d.bt.as_mut() {
                swarm.peer_keys.retain(|&k| k != key);
                swarm.disconnected(pc.addr, now);
            }
        }
    }

    /// Reads, decodes and answers peer `pc`.
    pub(crate) fn drive_peer(&mut self, pc: &mut PeerConn, now: Instant) -> Result<(), String> {
        if !pc.connected {
            match pc.sock.peer_addr() {
                Ok(_) => {
                    pc.connected = true;
                    let swarm = self.downloads[pc.gid].bt.as_ref().ok_or("not a torrent")?;
                    let hs = Handshake::new(
                        swarm.torrent.info_hash(),
                        swarm.peer_id,
                        self.dht_bit(swarm),
                    );
                    pc.out.extend_from_slice(&hs.encode());
                }
                Err(e) if e.kind() == ErrorKind::NotConnected => {
                    if let Ok(Some(e)) | Err(e) = pc.sock.take_error() {
                        return Err(format!("cannot connect: {e}"));
                    }
                    return Ok(());
                }
                Err(e) => return Err(format!("cannot connect: {e}")),
            }
        }
        self.read_peer(pc, now)?;
        self.take_messages(pc, now)?;
        self.pump_peer(pc, now)
    }

    /// Reads what the socket has (until the disk cache is full) and decodes it.
    fn read_peer(&mut self, pc: &mut PeerConn, now: Instant) -> Result<(), String> {
        while pc.readable {
            if self.pool_out >= self.pool_limit {
                // Blocks waiting for the disk fill --disk-cache: read on once writes
                // land (every loop turn drives every peer, so no readiness is lost).
                break;
            }
            // Straight into the decoder's buffer: one copy of each byte fewer.
            let room = pc.decoder.spare(READ_LEN);
            let asked = room.len();
            match pc.sock.read(room) {
                Ok(0) => return Err("closed by the peer".into()),
                Ok(n) => {
                    // Short: the socket was drained (see `readable`).
                    pc.readable = n == asked;
                    pc.decoder.filled(n);
                    self.peer_read_peak = self.peer_read_peak.max(pc.decoder.allocated());
                    self.take_messages(pc, now)?;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    pc.readable = false;
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }

    /// Decodes and applies every complete message buffered.
    fn take_messages(&mut self, pc: &mut PeerConn, now: Instant) -> Result<(), String> {
        if pc.peer.is_none() {
            let Some(hs) = pc.decoder.handshake().map_err(|e| e.to_string())? else {
                return Ok(());
            };
            let d = &self.downloads[pc.gid];
            let swarm = d.bt.as_ref().ok_or("not a torrent")?;
            if hs.info_hash != swarm.torrent.info_hash() {
                return Err("handshake for another torrent".into());
            }
            if hs.peer_id == swarm.peer_id {
                return Err("connected to ourselves".into());
            }
            let twin = swarm.peer_keys.iter().any(|&k| {
                self.peers[k]
                    .as_ref()
                    .is_some_and(|p| p.peer.is_some() && p.peer_id == hs.peer_id)
            });
            if twin {
                // Both sides connected to each other: one connection is enough.
                return Err("already connected to this peer".into());
            }
            if pc.incoming {
                let ours = Handshake::new(
                    swarm.torrent.info_hash(),
                    swarm.peer_id,
                    self.dht_bit(swarm),
                );
                pc.out.extend_from_slice(&ours.encode());
            }
            let d = &mut self.downloads[pc.gid];
            let mut peer = Peer::new(PeerConfig::default(), pc.pieces, hs.fast(), now);
            if let Some(plan) = d.plan_mut() {
                // Until its bitfield comes the peer has nothing (a slot without one
                // would be taken for a mirror that has every piece).
                plan.set_have(pc.slot, Bitfield::new(pc.pieces as usize));
                let done = plan.done().clone();
                peer.send_bitfield(done.as_bytes(), done.count() as u32, pc.pieces);
            }
            if hs.extension_protocol() {
                peer.send_extended(0, &self.our_extension_handshake(pc.gid));
            }
            peer.set_interested(true);
            pc.peer = Some(peer);
            pc.peer_id = hs.peer_id;
            let (incoming, addr) = (pc.incoming, pc.addr);
            self.log_conn(LogLevel::Info, pc.gid, pc.key, || {
                let way = if incoming { "from" } else { "to" };
                format!("Handshake done with peer {addr} (connection {way} it)")
            });
        }
        let gid = pc.gid;
        let slot = pc.slot;
        let PeerConn {
            decoder,
            peer,
            serving,
            last_block,
            ext,
            refused,
            ..
        } = pc;
        let peer = peer.as_mut().ok_or("no handshake")?;
        while let Some(msg) = decoder.next().map_err(|e| e.to_string())? {
            if let Some((block, data)) = peer.handle_message(now, msg).map_err(|e| e.to_string())? {
                *last_block = Some(now);
                self.block_arrived(gid, slot, block, data, now);
            }
        }
        let mut interest_changed = false;
        let (mut rejected, mut events) = (0, Vec::new());
        let mut dht_ports = Vec::new();
        let mut extended = Vec::new();
        while let Some(event) = peer.poll_event() {
            let Some(plan) = self.downloads[gid].plan_mut() else {
                break;
            };
            match event {
                PeerEvent::Bitfield => {
                    let mut have = Bitfield::new(pc.pieces as usize);
                    for i in 0..pc.pieces {
                        if peer.pieces().has(i) {
                            have.set(i as usize);
                        }
                    }
                    plan.set_have(slot, have);
                }
                PeerEvent::Have(i) if i < pc.pieces => plan.add_have(slot, i as usize),
                PeerEvent::Dropped(blocks) => {
                    for b in blocks {
                        plan.cancel_block(slot, to_block(b));
                    }
                }
                PeerEvent::Refused(i) if i < pc.pieces => {
                    plan.remove_have(slot, i as usize);
                    refused.push((i, now + REFUSED_WAIT));
                }
                PeerEvent::Request(r) => {
                    if super::serve::servable(plan, r) {
                        serving.push_back(r);
                    } else {
                        peer.reject(r);
                        rejected += 1;
                    }
                }
                PeerEvent::Interest(on) => {
                    interest_changed = true;
                    events.push(if on { "interested" } else { "not interested" });
                }
                PeerEvent::Choked => events.push("choked us"),
                PeerEvent::Unchoked => events.push("unchoked us"),
                PeerEvent::DhtPort(port) => dht_ports.push(port),
                PeerEvent::Extended { id, payload } => extended.push((id, payload)),
                // Suggestions, allowed-fast pieces and DHT ports are not used.
                _ => {}
            }
        }
        if rejected > 0 || !events.is_empty() {
            let (addr, key, queued) = (pc.addr, pc.key, serving.len());
            self.log_conn(LogLevel::Debug, gid, key, || {
                format!(
                    "Peer {addr}: {}{rejected} requests rejected, {queued} queued to serve",
                    events.iter().map(|e| format!("{e}, ")).collect::<String>()
                )
            });
        }
        for port in dht_ports {
            self.dht_port(pc.addr, port, now);
        }
        for (id, payload) in extended {
            self.peer_extended(gid, peer, ext, id, &payload, now);
        }
        if interest_changed && let Some(swarm) = self.downloads[gid].bt.as_mut() {
            // A peer that wants our pieces should not wait a whole round for a slot.
            swarm.choke_due = true;
        }
        Ok(())
    }

    /// A block this peer was asked for: to disk if the plan still wants it from us.
    fn block_arrived(
        &mut self,
        gid: Gid,
        slot: SourceSlot,
        block: BlockRequest,
        data: &[u8],
        now: Instant,
    ) {
        let mut cancel = Vec::new();
        let d = &mut self.downloads[gid];
        if d.storage.is_none() {
            return;
        }
        let Some(range) = d
            .plan_mut()
            .and_then(|p| p.block_received(slot, to_block(block), &mut cancel))
        else {
            return;
        };
        d.session_bytes += data.len() as u64;
        d.meter.add(now, data.len() as u64);
        self.queue_block(gid, range.start, data, now);
        // Endgame: the others who asked for this block need not send it.
        for other in cancel {
            let keys = self.downloads[gid]
                .bt
                .as_ref()
                .map(|s| s.peer_keys.clone())
                .unwrap_or_default();
            for k in keys {
                if let Some(Some(p)) = self.peers.get_mut(k)
                    && p.slot == other
                    && let Some(peer) = p.peer.as_mut()
                {
                    peer.cancel(block);
                }
            }
        }
    }

    /// Asks for more blocks, applies the peer's timers and writes what is due.
    pub(crate) fn pump_peer(&mut self, pc: &mut PeerConn, now: Instant) -> Result<(), String> {
        if let Some(peer) = pc.peer.as_mut() {
            peer.handle_timeout(now).map_err(|e| e.to_string())?;
            let d = &mut self.downloads[pc.gid];
            let active = d.is_active();
            if let Some(plan) = d.plan_mut().filter(|_| active) {
                pc.refused.retain(|&(i, until)| {
                    let over = until <= now;
                    if over && peer.pieces().has(i) {
                        plan.add_have(pc.slot, i as usize);
                    }
                    !over
                });
                let want = peer.wants_blocks(now);
                if want > 0 && !peer.peer_choking() {
                    let mut blocks = Vec::new();
                    plan.request_blocks(pc.slot, want, &mut blocks);
                    for b in blocks {
                        peer.request(BlockRequest {
                            index: b.piece as u32,
                            begin: b.begin,
                            length: b.len,
                        });
                    }
                }
                peer.set_interested(!plan.is_complete());
            }
            // Timeouts only drop requests or mark a snub.
            while let Some(event) = peer.poll_event() {
                if let (PeerEvent::Dropped(blocks), Some(plan)) =
                    (event, self.downloads[pc.gid].plan_mut())
                {
                    for b in blocks {
                        plan.cancel_block(pc.slot, to_block(b));
                    }
                }
            }
            if pc.out.len() < OUT_HIGH {
                self.pump_pex(pc.gid, pc.key, peer, &mut pc.ext, now);
                peer.poll_transmit(now, &mut pc.out);
            }
        }
        if pc.out.len() < OUT_HIGH {
            self.start_reads(pc, now);
        }
        while !pc.out.is_empty() {
            match pc.sock.write(&pc.out) {
                Ok(0) => return Err("cannot write to the peer".into()),
                Ok(n) => {
                    pc.out.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }
}

impl Engine {
    /// Whether our handshake says we run a DHT node (BEP 5): a DHT is up and the
    /// torrent is public.
    fn dht_bit(&self, swarm: &super::Swarm) -> bool {
        self.dht.is_some() && !swarm.torrent.metainfo().info.private
    }
}

fn to_block(b: BlockRequest) -> Block {
    Block {
        piece: b.index as usize,
        begin: b.begin,
        len: b.length,
    }
}

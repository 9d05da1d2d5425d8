//! One outgoing peer connection on the loop: a non-blocking socket registered in the
//! engine's token space, bt-wire's [`FrameDecoder`] over what it reads and its [`Peer`]
//! state machine deciding what is sent.
//!
//! Invariants: the decoder buffers at most one message beyond the last read (bt-wire
//! bounds every length prefix by the torrent's piece count and the 16 KiB block size),
//! and every complete message is taken after each read; nothing is read while the
//! blocks on their way to disk fill `--disk-cache` (the engine's buffer pool);
//! `out` holds bytes the socket did not take yet, and nothing more is produced while it
//! is over [`OUT_HIGH`]; a block is written only when the plan says this peer's slot
//! asked for it.

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::TcpStream;
use mio::{Interest, Token};
use swarmget_bt_wire::peer::{Peer, PeerConfig, PeerEvent};
use swarmget_bt_wire::wire::{BlockRequest, FrameDecoder, Handshake, Limits};

use crate::bitfield::Bitfield;
use crate::disk::DiskJob;
use crate::download::Layout;
use crate::engine::Engine;
use crate::gid::Gid;
use crate::plan::{Block, SourceSlot};
use crate::status::PeerStatus;

/// Token bit marking a peer connection (HTTP and FTP tokens never reach it).
pub(crate) const PEER_TAG: usize = 1 << (usize::BITS - 2);
/// Unsent bytes above which the connection stops producing more.
const OUT_HIGH: usize = 256 << 10;
/// Bytes read per system call.
const READ_LEN: usize = 64 << 10;

pub(crate) struct PeerConn {
    pub gid: Gid,
    pub addr: SocketAddr,
    sock: TcpStream,
    pub slot: SourceSlot,
    connected: bool,
    decoder: FrameDecoder,
    /// `None` until the peer's handshake arrived.
    peer: Option<Peer>,
    /// The id the peer's handshake gave (zeros before it).
    peer_id: [u8; 20],
    out: Vec<u8>,
    pieces: u32,
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
        })
    }
}

impl Engine {
    /// Opens a connection from torrent download `gid` to `addr`.
    pub(crate) fn connect_peer(&mut self, gid: Gid, addr: SocketAddr, now: Instant) {
        let d = &mut self.downloads[gid];
        let (Some(swarm), Layout::Planned(plan)) = (d.bt.as_mut(), &d.layout) else {
            return;
        };
        let pieces = plan.piece_count() as u32;
        let mut sock = match TcpStream::connect(addr) {
            Ok(s) => s,
            Err(_) => return swarm.disconnected(addr, now),
        };
        let key = self.free_peer_keys.pop().unwrap_or_else(|| {
            self.peers.push(None);
            self.peers.len() - 1
        });
        if self
            .poll
            .registry()
            .register(
                &mut sock,
                Token(PEER_TAG | key),
                Interest::READABLE | Interest::WRITABLE,
            )
            .is_err()
        {
            self.free_peer_keys.push(key);
            return swarm.disconnected(addr, now);
        }
        let slot = d.next_slot;
        d.next_slot += 1;
        swarm.slot_peers.insert(slot, addr);
        swarm.peer_keys.push(key);
        let limits = Limits::default().with_piece_count(pieces);
        self.peers[key] = Some(PeerConn {
            gid,
            addr,
            sock,
            slot,
            connected: false,
            decoder: FrameDecoder::new(limits),
            peer: None,
            peer_id: [0; 20],
            out: Vec::new(),
            pieces,
        });
    }

    /// Readiness for peer connection `key` (or its turn in `bt_tick`).
    pub(crate) fn peer_event(&mut self, key: usize, now: Instant) {
        let Some(mut pc) = self.peers.get_mut(key).and_then(Option::take) else {
            return;
        };
        match self.drive_peer(&mut pc, now) {
            Ok(()) => self.peers[key] = Some(pc),
            Err(why) => self.close_peer(key, pc, &why, now),
        }
    }

    /// Closes peer connection `key`: its requests go back to the plan.
    pub(crate) fn close_peer(&mut self, key: usize, mut pc: PeerConn, why: &str, now: Instant) {
        let _ = self.poll.registry().deregister(&mut pc.sock);
        self.free_peer_keys.push(key);
        if let Some(d) = self.downloads.get_mut(pc.gid) {
            if let Some(plan) = d.plan_mut() {
                plan.release(pc.slot);
            }
            if let Some(swarm) = d.bt.as_mut() {
                swarm.peer_keys.retain(|&k| k != key);
                swarm.disconnected(pc.addr, now);
            }
        }
        let _ = why;
    }

    pub(crate) fn drive_peer(&mut self, pc: &mut PeerConn, now: Instant) -> Result<(), String> {
        if !pc.connected {
            match pc.sock.peer_addr() {
                Ok(_) => {
                    pc.connected = true;
                    let swarm = self.downloads[pc.gid].bt.as_ref().ok_or("not a torrent")?;
                    let hs = Handshake::new(swarm.torrent.info_hash(), swarm.peer_id, false);
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
        let mut buf = [0u8; READ_LEN];
        loop {
            if self.pool_out >= self.pool_limit {
                // Blocks waiting for the disk fill --disk-cache: read on once writes
                // land (every loop turn drives every peer, so no readiness is lost).
                break;
            }
            match pc.sock.read(&mut buf) {
                Ok(0) => return Err("closed by the peer".into()),
                Ok(n) => {
                    pc.decoder.extend(&buf[..n]);
                    self.take_messages(pc, now)?;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        self.take_messages(pc, now)?;
        self.pump_peer(pc, now)
    }

    /// Decodes and applies every complete message buffered.
    fn take_messages(&mut self, pc: &mut PeerConn, now: Instant) -> Result<(), String> {
        if pc.peer.is_none() {
            let Some(hs) = pc.decoder.handshake().map_err(|e| e.to_string())? else {
                return Ok(());
            };
            let d = &mut self.downloads[pc.gid];
            let swarm = d.bt.as_ref().ok_or("not a torrent")?;
            if hs.info_hash != swarm.torrent.info_hash() {
                return Err("handshake for another torrent".into());
            }
            if hs.peer_id == swarm.peer_id {
                return Err("connected to ourselves".into());
            }
            let mut peer = Peer::new(PeerConfig::default(), pc.pieces, hs.fast(), now);
            if let Some(plan) = d.plan_mut() {
                // Until its bitfield comes the peer has nothing (a slot without one
                // would be taken for a mirror that has every piece).
                plan.set_have(pc.slot, Bitfield::new(pc.pieces as usize));
                let done = plan.done().clone();
                peer.send_bitfield(done.as_bytes(), done.count() as u32, pc.pieces);
            }
            peer.set_interested(true);
            pc.peer = Some(peer);
            pc.peer_id = hs.peer_id;
        }
        let gid = pc.gid;
        let slot = pc.slot;
        let PeerConn { decoder, peer, .. } = pc;
        let peer = peer.as_mut().ok_or("no handshake")?;
        while let Some(msg) = decoder.next().map_err(|e| e.to_string())? {
            if let Some((block, data)) = peer.handle_message(now, msg).map_err(|e| e.to_string())? {
                self.block_arrived(gid, slot, block, data, now);
            }
        }
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
                // Nothing is served yet (no seeding): we keep every peer choked.
                _ => {}
            }
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
        let Some(storage) = d.storage.clone() else {
            return;
        };
        let Some(range) = d
            .plan_mut()
            .and_then(|p| p.block_received(slot, to_block(block), &mut cancel))
        else {
            return;
        };
        d.session_bytes += data.len() as u64;
        d.meter.add(now, data.len() as u64);
        // Counted as a pool buffer so the write's return balances the pool.
        self.pool_out += 1;
        let job = DiskJob::WriteStorage {
            gid,
            storage,
            offset: range.start,
            buf: data.to_vec(),
            len: data.len(),
        };
        self.disk_job(gid, job);
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
                peer.poll_transmit(now, &mut pc.out);
            }
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

fn to_block(b: BlockRequest) -> Block {
    Block {
        piece: b.index as usize,
        begin: b.begin,
        len: b.length,
    }
}

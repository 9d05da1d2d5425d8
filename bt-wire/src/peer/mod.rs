//! One peer connection's protocol state, driven by the caller's clock.
//!
//! Contract: feed decoded messages to [`Peer::handle_message`] and decisions (interest,
//! choking, blocks to request, blocks to serve) to the other inputs; then drain
//! [`Peer::poll_transmit`] and [`Peer::poll_event`]; call [`Peer::handle_timeout`] at
//! [`Peer::poll_timeout`]. Time only arrives as `now` arguments.
//!
//! Invariants:
//! - a block is in at most one of `queued` (assigned, not yet sent) and `outstanding`
//!   (requested, not yet answered), and every block leaving them is either delivered by
//!   [`Peer::handle_message`] or reported in [`PeerEvent::Dropped`], so the caller's picker
//!   never loses a block;
//! - requests are sent only while the peer unchokes us, or for its allowed-fast pieces;
//! - `outstanding` is in the order the requests were sent, so its front is the oldest
//!   (the timers look at it alone) and a peer answering in order is matched at the front;
//! - `outstanding` never exceeds the queue depth, which follows the measured rate
//!   (rate × `queue_time` / block size, clamped; 1 while snubbed), as libtorrent does;
//!   while the rate measures zero (its first second, or after a long stall) the depth
//!   instead starts at `min_queue` and grows by one per delivered block, doubling each
//!   round trip (slow start, as TCP and libtorrent do), so a fast peer is not held to
//!   `min_queue` for the whole first second;
//! - the requests the peer makes of us are bounded by `max_incoming_requests` (the
//!   `reqq` our extension handshake advertises); more are rejected (BEP 6) or ignored.

mod rate;

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use thiserror::Error;

pub use rate::Rate;

use crate::wire::{BlockRequest, Message};

/// Tuning, with libtorrent's and BEP 3's usual values as defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerConfig {
    /// Bytes a request asks for.
    pub block_size: u32,
    /// Fewest requests kept outstanding (unless snubbed), and where slow start begins.
    pub min_queue: u32,
    /// Most requests kept outstanding.
    pub max_queue: u32,
    /// Seconds of transfer at the measured rate the queue should cover.
    pub queue_time: Duration,
    /// A request unanswered this long is given up (and offered to other peers).
    pub request_timeout: Duration,
    /// No block for this long while requests are outstanding: the peer is snubbing us.
    pub snub_timeout: Duration,
    /// Send a keep-alive after this long without sending anything.
    pub keepalive_interval: Duration,
    /// Drop the peer after this long without hearing anything.
    pub idle_timeout: Duration,
    /// Requests from the peer queued for serving, at most.
    pub max_incoming_requests: usize,
}

impl Default for PeerConfig {
    fn default() -> Self {
        Self {
            block_size: 16 * 1024,
            min_queue: 2,
            max_queue: 500,
            queue_time: Duration::from_secs(3),
            request_timeout: Duration::from_secs(60),
            snub_timeout: Duration::from_secs(60),
            keepalive_interval: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(180),
            max_incoming_requests: 500,
        }
    }
}

/// A reason to drop the connection.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PeerError {
    /// A BEP 6 message from a peer that did not announce the fast extension.
    #[error("fast-extension message {0} without the fast extension")]
    FastWithoutExtension(u8),
    /// Nothing heard for `idle_timeout`.
    #[error("peer silent for {0:?}")]
    Idle(Duration),
}

/// What the caller should act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerEvent {
    /// The peer choked us.
    Choked,
    /// The peer unchoked us: requests will flow.
    Unchoked,
    /// The peer's interest in us changed.
    Interest(bool),
    /// The peer has a new piece.
    Have(u32),
    /// The peer's pieces are known (bitfield, have-all or have-none).
    Bitfield,
    /// The peer wants this block served (read it and call [`Peer::send_block`]).
    Request(BlockRequest),
    /// Blocks we asked for that will not come from this peer (choked, rejected, timed out,
    /// cancelled): hand them to the picker again.
    Dropped(Vec<BlockRequest>),
    /// The peer suggests a piece (BEP 6).
    Suggest(u32),
    /// The peer let us request this piece while choked (BEP 6).
    AllowedFast(u32),
    /// The peer's DHT port.
    DhtPort(u16),
    /// An extension message (BEP 10; id 0 is the handshake).
    Extended {
        /// Extended id.
        id: u8,
        /// Payload.
        payload: Vec<u8>,
    },
    /// The peer stopped sending blocks while requests were outstanding.
    Snubbed,
    /// The peer rejected (BEP 6) a request for this piece while unchoking us: it may
    /// not have the piece its bitfield claimed, and asking again at once would only
    /// bring another reject. The block itself is reported in [`PeerEvent::Dropped`].
    Refused(u32),
}

#[derive(Clone, Copy, Debug)]
struct Outstanding {
    block: BlockRequest,
    sent_at: Instant,
}

/// The pieces a peer has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerPieces {
    bits: Vec<u8>,
    count: u32,
    have: u32,
}

impl PeerPieces {
    fn new(count: u32) -> Self {
        Self {
            bits: vec![0; count.div_ceil(8) as usize],
            count,
            have: 0,
        }
    }

    /// Whether the peer has piece `index`.
    pub fn has(&self, index: u32) -> bool {
        index < self.count && self.bits[(index / 8) as usize] & (0x80 >> (index % 8)) != 0
    }

    fn set(&mut self, index: u32) {
        if index < self.count && !self.has(index) {
            self.bits[(index / 8) as usize] |= 0x80 >> (index % 8);
            self.have += 1;
        }
    }

    /// Pieces the peer has.
    pub fn have_count(&self) -> u32 {
        self.have
    }

    /// Whether the peer has every piece.
    pub fn is_seed(&self) -> bool {
        self.have == self.count
    }
}

/// One peer connection's state.
#[derive(Clone, Debug)]
pub struct Peer {
    config: PeerConfig,
    fast: bool,
    am_choking: bool,
    am_interested: bool,
    peer_choking: bool,
    peer_interested: bool,
    snubbed: bool,
    /// The peer's own queue limit (`reqq` of its extension handshake), if it gave one.
    peer_reqq: Option<u32>,
    pieces: PeerPieces,
    allowed_fast: BTreeSet<u32>,
    queued: VecDeque<BlockRequest>,
    outstanding: VecDeque<Outstanding>,
    incoming: VecDeque<BlockRequest>,
    last_received: Instant,
    last_sent: Instant,
    last_block: Instant,
    download: Rate,
    /// The queue depth while `download` measures zero: `min_queue` plus the blocks
    /// delivered since the rate was last seen non-zero.
    slow_start: u32,
    upload: Rate,
    out: Vec<u8>,
    events: VecDeque<PeerEvent>,
}

impl Peer {
    /// A connection just past the handshake, to a torrent of `piece_count` pieces; `fast`
    /// when both sides announced BEP 6.
    pub fn new(config: PeerConfig, piece_count: u32, fast: bool, now: Instant) -> Self {
        Self {
            config,
            fast,
            am_choking: true,
            am_interested: false,
            peer_choking: true,
            peer_interested: false,
            snubbed: false,
            peer_reqq: None,
            pieces: PeerPieces::new(piece_count),
            allowed_fast: BTreeSet::new(),
            queued: VecDeque::new(),
            outstanding: VecDeque::new(),
            incoming: VecDeque::new(),
            last_received: now,
            last_sent: now,
            last_block: now,
            download: Rate::new(now),
            slow_start: config.min_queue,
            upload: Rate::new(now),
            out: Vec::new(),
            events: VecDeque::new(),
        }
    }

    /// The peer's pieces.
    pub fn pieces(&self) -> &PeerPieces {
        &self.pieces
    }

    /// Whether the peer chokes us.
    pub fn peer_choking(&self) -> bool {
        self.peer_choking
    }

    /// Whether the peer is interested in us.
    pub fn peer_interested(&self) -> bool {
        self.peer_interested
    }

    /// Whether we choke the peer.
    pub fn am_choking(&self) -> bool {
        self.am_choking
    }

    /// Whether the peer is snubbing us.
    pub fn is_snubbed(&self) -> bool {
        self.snubbed
    }

    /// Download rate from this peer, bytes per second.
    pub fn download_rate(&mut self, now: Instant) -> u64 {
        self.download.get(now)
    }

    /// Bytes of requested blocks received from this peer so far.
    pub fn downloaded(&self) -> u64 {
        self.download.total()
    }

    /// Upload rate to this peer, bytes per second.
    pub fn upload_rate(&mut self, now: Instant) -> u64 {
        self.upload.get(now)
    }

    /// Requests we have outstanding.
    pub fn outstanding(&self) -> impl Iterator<Item = &BlockRequest> {
        self.outstanding.iter().map(|o| &o.block)
    }

    /// How many requests to keep outstanding now.
    pub fn queue_depth(&mut self, now: Instant) -> u32 {
        if self.snubbed {
            return 1;
        }
        // Requests beyond the peer's own queue would be dropped by it.
        let max = self
            .peer_reqq
            .map_or(self.config.max_queue, |r| r.min(self.config.max_queue));
        let depth = match self.measured_rate(now) {
            0 => self.slow_start,
            rate => {
                let depth = rate as f64 * self.config.queue_time.as_secs_f64()
                    / f64::from(self.config.block_size);
                depth as u32
            }
        };
        depth.clamp(self.config.min_queue.min(max), max)
    }

    /// The download rate; while it is non-zero, slow start is over and starts afresh
    /// from `min_queue` should the rate fall to zero.
    fn measured_rate(&mut self, now: Instant) -> u64 {
        let rate = self.download.get(now);
        if rate > 0 {
            self.slow_start = self.config.min_queue;
        }
        rate
    }

    /// Caps the queue at the peer's `reqq` (from its extension handshake, BEP 10).
    pub fn set_peer_reqq(&mut self, reqq: u32) {
        self.peer_reqq = Some(reqq.max(1));
    }

    /// Takes back every block assigned to this peer, queued or outstanding, for the picker
    /// when the connection ends.
    pub fn take_requests(&mut self) -> Vec<BlockRequest> {
        let mut blocks: Vec<BlockRequest> = self.outstanding.drain(..).map(|o| o.block).collect();
        blocks.extend(self.queued.drain(..));
        blocks
    }

    /// How many more blocks the picker should assign with [`request`](Self::request):
    /// none until the queue is short by a sixteenth of its depth, so a fast peer's
    /// requests go out in a few writes of many rather than one per block delivered.
    pub fn wants_blocks(&mut self, now: Instant) -> usize {
        let depth = self.queue_depth(now) as usize;
        let short = depth.saturating_sub(self.outstanding.len() + self.queued.len());
        if short < (depth / 16).max(1) {
            0
        } else {
            short
        }
    }

    /// Queues a block to request (sent by `poll_transmit` when allowed).
    pub fn request(&mut self, block: BlockRequest) {
        self.queued.push_back(block);
    }

    /// Withdraws a block (another peer delivered it, endgame): queued ones are forgotten,
    /// outstanding ones cancelled on the wire.
    pub fn cancel(&mut self, block: BlockRequest) {
        self.queued.retain(|b| *b != block);
        if let Some(i) = self.outstanding.iter().position(|o| o.block == block) {
            self.outstanding.remove(i);
            self.send(&Message::Cancel(block));
        }
    }

    /// Declares interest (sent only on change).
    pub fn set_interested(&mut self, interested: bool) {
        if interested != self.am_interested {
            self.am_interested = interested;
            self.send(&if interested {
                Message::Interested
            } else {
                Message::NotInterested
            });
        }
    }

    /// Chokes or unchokes the peer (the choker's decision; sent only on change). Choking
    /// discards the peer's queued requests, rejecting each under the fast extension.
    pub fn set_choking(&mut self, choking: bool) {
        if choking == self.am_choking {
            return;
        }
        self.am_choking = choking;
        self.send(&if choking {
            Message::Choke
        } else {
            Message::Unchoke
        });
        if choking {
            for r in std::mem::take(&mut self.incoming) {
                if self.fast {
                    self.send(&Message::Reject(r));
                }
            }
        }
    }

    /// Announces a piece we completed.
    pub fn send_have(&mut self, index: u32) {
        self.send(&Message::Have(index));
    }

    /// Sends our pieces as the first message (have-all/have-none when they say it all).
    pub fn send_bitfield(&mut self, bits: &[u8], have: u32, count: u32) {
        let msg = match (self.fast, have) {
            (true, 0) => Message::HaveNone,
            (true, h) if h == count => Message::HaveAll,
            (false, 0) => return,
            _ => Message::Bitfield(bits),
        };
        self.send(&msg);
    }

    /// Serves a block the peer requested; `false` if the request was cancelled meanwhile
    /// (or never made), and nothing is sent.
    pub fn send_block(&mut self, now: Instant, block: BlockRequest, data: &[u8]) -> bool {
        let Some(i) = self.incoming.iter().position(|r| *r == block) else {
            return false;
        };
        self.incoming.remove(i);
        self.send(&Message::Piece {
            index: block.index,
            begin: block.begin,
            data,
        });
        self.upload.add(now, data.len() as u64);
        true
    }

    /// Refuses a request the peer made (a piece we do not have, a block out of bounds):
    /// it is forgotten, and rejected on the wire under the fast extension (BEP 6).
    pub fn reject(&mut self, block: BlockRequest) {
        if let Some(i) = self.incoming.iter().position(|r| *r == block) {
            self.incoming.remove(i);
            if self.fast {
                self.send(&Message::Reject(block));
            }
        }
    }

    /// Whether a request of the peer is still waiting to be served (not cancelled,
    /// not discarded by a choke).
    pub fn is_requested(&self, block: BlockRequest) -> bool {
        self.incoming.contains(&block)
    }

    /// Sends an extension message.
    pub fn send_extended(&mut self, id: u8, payload: &[u8]) {
        self.send(&Message::Extended { id, payload });
    }

    fn send(&mut self, msg: &Message<'_>) {
        msg.encode(&mut self.out);
    }

    fn drop_outstanding(&mut self, keep: impl Fn(&Outstanding) -> bool) {
        // In place: this runs on every timer check, and usually drops nothing.
        let mut dropped = Vec::new();
        self.outstanding.retain(|o| {
            let k = keep(o);
            if !k {
                dropped.push(o.block);
            }
            k
        });
        if !dropped.is_empty() {
            self.events.push_back(PeerEvent::Dropped(dropped));
        }
    }

    /// Takes one message from the peer. A block we asked for is returned, borrowing the
    /// message's data; anything else becomes state or events.
    pub fn handle_message<'a>(
        &mut self,
        now: Instant,
        msg: Message<'a>,
    ) -> Result<Option<(BlockRequest, &'a [u8])>, PeerError> {
        self.last_received = now;
        if !self.fast && matches!(msg.id(), Some(13..=17)) {
            return Err(PeerError::FastWithoutExtension(msg.id().unwrap_or(0)));
        }
        match msg {
            Message::KeepAlive => {}
            Message::Choke => {
                self.peer_choking = true;
                // Without the fast extension a choke silently discards our requests;
                // with it, each gets an explicit reject (or is served anyway).
                if !self.fast {
                    self.drop_outstanding(|_| false);
                }
                self.events.push_back(PeerEvent::Choked);
            }
            Message::Unchoke => {
                self.peer_choking = false;
                self.events.push_back(PeerEvent::Unchoked);
            }
            Message::Interested | Message::NotInterested => {
                self.peer_interested = msg == Message::Interested;
                self.events
                    .push_back(PeerEvent::Interest(self.peer_interested));
            }
            Message::Have(i) => {
                self.pieces.set(i);
                self.events.push_back(PeerEvent::Have(i));
            }
            Message::Bitfield(bits) => {
                for i in 0..self.pieces.count {
                    if bits
                        .get((i / 8) as usize)
                        .is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
                    {
                        self.pieces.set(i);
                    }
                }
                self.events.push_back(PeerEvent::Bitfield);
            }
            Message::HaveAll => {
                for i in 0..self.pieces.count {
                    self.pieces.set(i);
                }
                self.events.push_back(PeerEvent::Bitfield);
            }
            Message::HaveNone => self.events.push_back(PeerEvent::Bitfield),
            Message::Request(r) => self.incoming_request(r)?,
            Message::Cancel(r) => self.incoming.retain(|x| *x != r),
            Message::Piece { index, begin, data } => {
                let block = BlockRequest {
                    index,
                    begin,
                    length: data.len() as u32,
                };
                let Some(i) = self.outstanding.iter().position(|o| o.block == block) else {
                    // Unrequested, or cancelled meanwhile: not ours to store.
                    return Ok(None);
                };
                self.outstanding.remove(i);
                self.download.add(now, data.len() as u64);
                if self.measured_rate(now) == 0 {
                    self.slow_start = (self.slow_start + 1).min(self.config.max_queue);
                }
                self.last_block = now;
                self.snubbed = false;
                return Ok(Some((block, data)));
            }
            Message::Reject(r) => {
                let asked = self.outstanding.iter().any(|o| o.block == r);
                self.drop_outstanding(|o| o.block != r);
                if asked && !self.peer_choking {
                    self.events.push_back(PeerEvent::Refused(r.index));
                }
            }
            Message::Suggest(i) => self.events.push_back(PeerEvent::Suggest(i)),
            Message::AllowedFast(i) => {
                if self.allowed_fast.insert(i) {
                    self.events.push_back(PeerEvent::AllowedFast(i));
                }
            }
            Message::Port(p) => self.events.push_back(PeerEvent::DhtPort(p)),
            Message::Extended { id, payload } => self.events.push_back(PeerEvent::Extended {
                id,
                payload: payload.to_vec(),
            }),
            Message::Unknown { .. } => {}
        }
        Ok(None)
    }

    fn incoming_request(&mut self, r: BlockRequest) -> Result<(), PeerError> {
        if self.am_choking {
            // BEP 3: ignored while choked; BEP 6: answered with a reject.
            if self.fast {
                self.send(&Message::Reject(r));
            }
            return Ok(());
        }
        if self.incoming.len() >= self.config.max_incoming_requests {
            // Over the queue we advertise (`reqq`): refused, as libtorrent does, not a
            // reason to end the connection — a client that sizes its pipeline by
            // the rate it measures (Transmission asks for ten seconds' worth) overshoots
            // on a fast link, and cutting it off stalls its download.
            if self.fast {
                self.send(&Message::Reject(r));
            }
            return Ok(());
        }
        self.incoming.push_back(r);
        self.events.push_back(PeerEvent::Request(r));
        Ok(())
    }

    /// Bytes to send now: queued requests the peer will accept, keep-alive when due, and
    /// whatever the inputs produced. Appends to `out`; `false` if there was nothing.
    pub fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> bool {
        let depth = self.queue_depth(now) as usize;
        let mut i = 0;
        while self.outstanding.len() < depth && i < self.queued.len() {
            let block = self.queued[i];
            if self.peer_choking && !self.allowed_fast.contains(&block.index) {
                i += 1;
                continue;
            }
            self.queued.remove(i);
            self.send(&Message::Request(block));
            // Never before the last one sent, whatever clock the caller keeps: the
            // front stays the oldest.
            let sent_at = self.outstanding.back().map_or(now, |o| o.sent_at.max(now));
            self.outstanding.push_back(Outstanding { block, sent_at });
        }
        if self.out.is_empty()
            && now.saturating_duration_since(self.last_sent) >= self.config.keepalive_interval
        {
            self.send(&Message::KeepAlive);
        }
        if self.out.is_empty() {
            return false;
        }
        out.append(&mut self.out);
        self.last_sent = now;
        true
    }

    /// Applies the timers: requests unanswered too long are dropped, a peer sending no
    /// block is marked snubbed, and silence ends the connection.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), PeerError> {
        let silent = now.saturating_duration_since(self.last_received);
        if silent >= self.config.idle_timeout {
            return Err(PeerError::Idle(silent));
        }
        let Some(oldest) = self.outstanding.front().map(|o| o.sent_at) else {
            return Ok(());
        };
        // Snubbing is judged before timed-out requests go, so equal timeouts still snub.
        let waiting = now.saturating_duration_since(self.last_block.max(oldest));
        if !self.snubbed && waiting >= self.config.snub_timeout {
            self.snubbed = true;
            self.events.push_back(PeerEvent::Snubbed);
        }
        let timeout = self.config.request_timeout;
        if now.saturating_duration_since(oldest) >= timeout {
            self.drop_outstanding(|o| now.saturating_duration_since(o.sent_at) < timeout);
        }
        Ok(())
    }

    /// The next instant a timer is due.
    pub fn poll_timeout(&self) -> Instant {
        let mut next = (self.last_sent + self.config.keepalive_interval)
            .min(self.last_received + self.config.idle_timeout);
        if let Some(oldest) = self.outstanding.front().map(|o| o.sent_at) {
            next = next.min(oldest + self.config.request_timeout);
            if !self.snubbed {
                next = next.min(self.last_block.max(oldest) + self.config.snub_timeout);
            }
        }
        next
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<PeerEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests;

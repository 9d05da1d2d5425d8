//! A misbehaving BitTorrent peer for swarm tests: it serves a torrent's blocks over
//! loopback TCP the way its [`Script`] says — lying in its bitfield, losing or
//! swallowing requests, choking mid-piece, hanging up mid-piece, sending spoilt blocks,
//! flooding blocks nobody asked for — and records what it was asked.
//!
//! Each connection runs on a thread of its own with blocking reads that time out every
//! few milliseconds, so a test's [`ScriptedPeer::release`] is seen without any message
//! from the downloader. The peer never reads a clock: what happens when is decided by
//! counts (requests received, blocks served) and by the test's release.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use swarmget_bt_wire::Metainfo;
use swarmget_bt_wire::wire::{BlockRequest, FrameDecoder, Handshake, Limits, Message};

/// How a [`ScriptedPeer`] behaves. The default is an honest seeder (without the fast
/// extension) that unchokes at once.
#[derive(Clone, Debug, Default)]
pub struct Script {
    /// Announce the fast extension (BEP 6): requests it will not answer are rejected,
    /// and a choke rejects what was pending. Without it they are silently dropped.
    pub fast: bool,
    /// The pieces its bitfield claims; `None`: every piece.
    pub claims: Option<Vec<u32>>,
    /// The pieces it really has; requests for others are dropped (rejected with
    /// `fast`). `None`: every piece.
    pub has: Option<Vec<u32>>,
    /// Stay choking until [`ScriptedPeer::release`].
    pub choke_until_released: bool,
    /// Requests (counted from the first of each connection) that are never answered:
    /// lost, as by a peer that stopped listening for a while.
    pub swallow_first: usize,
    /// Answer this many requests, then none (a peer that went silent but stays
    /// connected).
    pub answer_at_most: Option<usize>,
    /// After serving this many blocks, choke (rejecting what is pending with `fast`,
    /// else dropping it) and unchoke again on [`ScriptedPeer::release`].
    pub choke_after: Option<usize>,
    /// Send every block with its bytes flipped (pieces that fail their hash).
    pub corrupt: bool,
    /// After serving this many blocks, hang up (0: right after the bitfield).
    pub close_after: Option<usize>,
    /// Send a keep-alive every few milliseconds, so the downloader never finds it idle
    /// however far a test moves its clock.
    pub chatty: bool,
    /// Right after its bitfield, send this many 16 KiB `piece` messages nobody asked
    /// for (of piece 0), then behave as scripted.
    pub flood: usize,
    /// After the flood, this many `have` messages (for its pieces in turn).
    pub have_storm: usize,
    /// Send a bitfield this many bytes longer than the torrent's piece count allows
    /// (and nothing else until the downloader hangs up).
    pub oversized_bitfield: usize,
}

/// What a scripted peer saw and did, over all its connections.
#[derive(Debug, Default)]
struct Seen {
    requests: Vec<BlockRequest>,
    served: usize,
    connections: usize,
    closed: usize,
    /// It choked the downloader under `choke_after` (and has not unchoked yet).
    choked: bool,
    /// Keep-alives sent under `chatty`.
    keepalives: usize,
}

/// A scripted peer of one torrent on a loopback port.
pub struct ScriptedPeer {
    addr: SocketAddr,
    seen: Arc<Mutex<Seen>>,
    released: Arc<AtomicBool>,
}

impl ScriptedPeer {
    /// Serves `data` (the torrent's whole byte space) for `torrent` as `script` says.
    pub fn start(torrent: &[u8], data: Vec<u8>, script: Script) -> ScriptedPeer {
        let meta = Metainfo::parse(torrent).expect("a valid torrent");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let released = Arc::new(AtomicBool::new(false));
        let mut id = *b"-TS0001-script000000";
        id[14..].copy_from_slice(format!("{:06}", addr.port()).as_bytes());
        let shared = Arc::new((meta, data, script, id));
        let (s, r) = (seen.clone(), released.clone());
        thread::spawn(move || {
            for sock in listener.incoming().flatten() {
                s.lock().unwrap().connections += 1;
                let (s, r, shared) = (s.clone(), r.clone(), shared.clone());
                thread::spawn(move || {
                    let (meta, data, script, id) = &*shared;
                    let _ = Connection::new(meta, data, script, &s, &r).run(sock, *id);
                    s.lock().unwrap().closed += 1;
                });
            }
        });
        ScriptedPeer {
            addr,
            seen,
            released,
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Ends [`Script::choke_until_released`] and [`Script::choke_after`]'s choke.
    pub fn release(&self) {
        self.released.store(true, Ordering::SeqCst);
    }

    /// Every block request received, in order.
    pub fn requests(&self) -> Vec<BlockRequest> {
        self.seen.lock().unwrap().requests.clone()
    }

    /// Blocks it sent in answer to requests.
    pub fn served(&self) -> usize {
        self.seen.lock().unwrap().served
    }

    /// Connections accepted.
    pub fn connections(&self) -> usize {
        self.seen.lock().unwrap().connections
    }

    /// Connections that have ended.
    pub fn closed(&self) -> usize {
        self.seen.lock().unwrap().closed
    }

    /// Keep-alives sent so far (under [`Script::chatty`]).
    pub fn keepalives(&self) -> usize {
        self.seen.lock().unwrap().keepalives
    }

    /// Whether it is choking the downloader under [`Script::choke_after`].
    pub fn choked(&self) -> bool {
        self.seen.lock().unwrap().choked
    }
}

/// One connection's state.
struct Connection<'a> {
    meta: &'a Metainfo,
    data: &'a [u8],
    script: &'a Script,
    seen: &'a Mutex<Seen>,
    released: &'a AtomicBool,
    out: Vec<u8>,
    choking: bool,
    /// Requests received on this connection.
    received: usize,
    served: usize,
    choked_once: bool,
}

impl<'a> Connection<'a> {
    fn new(
        meta: &'a Metainfo,
        data: &'a [u8],
        script: &'a Script,
        seen: &'a Mutex<Seen>,
        released: &'a AtomicBool,
    ) -> Self {
        Connection {
            meta,
            data,
            script,
            seen,
            released,
            out: Vec::new(),
            choking: true,
            received: 0,
            served: 0,
            choked_once: false,
        }
    }

    fn run(mut self, mut sock: TcpStream, peer_id: [u8; 20]) -> std::io::Result<()> {
        let pieces = self.meta.info.piece_count() as u32;
        let Some(info_hash) = self.meta.info_hash else {
            return Ok(());
        };
        if !crate::peer_io::read_handshake(&mut sock, info_hash)? {
            return Ok(());
        }
        let mut ours = Handshake::new(info_hash, peer_id, false);
        if !self.script.fast {
            ours.reserved[7] &= !0x04;
        }
        self.out.extend_from_slice(&ours.encode());
        let mut bits = vec![0u8; pieces.div_ceil(8) as usize + self.script.oversized_bitfield];
        for i in (0..pieces).filter(|i| listed(&self.script.claims, *i)) {
            bits[(i / 8) as usize] |= 0x80 >> (i % 8);
        }
        Message::Bitfield(&bits).encode(&mut self.out);
        if self.script.oversized_bitfield > 0 {
            sock.write_all(&self.out)?;
            // Hold the connection until the downloader drops it.
            while sock.read(&mut [0u8; 1024])? > 0 {}
            return Ok(());
        }
        let block = vec![0u8; 16 << 10];
        let flood = (0..self.script.flood).map(|_| Message::Piece {
            index: 0,
            begin: 0,
            data: &block,
        });
        let storm = (0..self.script.have_storm).map(|i| Message::Have(i as u32 % pieces));
        for msg in flood.chain(storm) {
            msg.encode(&mut self.out);
            if self.out.len() >= 1 << 20 {
                sock.write_all(&self.out)?;
                self.out.clear();
            }
        }
        sock.write_all(&std::mem::take(&mut self.out))?;
        sock.set_read_timeout(Some(Duration::from_millis(5)))?;
        let mut decoder = FrameDecoder::new(Limits::default().with_piece_count(pieces));
        let mut buf = vec![0u8; 64 << 10];
        loop {
            self.follow_release();
            match sock.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    decoder.extend(&buf[..n]);
                    while let Some(msg) = decoder.next().map_err(std::io::Error::other)? {
                        if let Message::Request(r) = msg {
                            self.request(r);
                        }
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if self.script.chatty {
                        Message::KeepAlive.encode(&mut self.out);
                        self.seen.lock().unwrap().keepalives += 1;
                    }
                }
                Err(e) => return Err(e),
            }
            sock.write_all(&std::mem::take(&mut self.out))?;
            if self.script.close_after.is_some_and(|n| self.served >= n) {
                // Hang up mid-piece, without a word.
                return Ok(());
            }
        }
    }

    /// Unchokes when the script's time has come.
    fn follow_release(&mut self) {
        if !self.choking {
            return;
        }
        let released = self.released.load(Ordering::SeqCst);
        let waits = if self.choked_once {
            true
        } else {
            self.script.choke_until_released
        };
        if waits && !released {
            return;
        }
        self.choking = false;
        self.seen.lock().unwrap().choked = false;
        Message::Unchoke.encode(&mut self.out);
    }

    fn request(&mut self, r: BlockRequest) {
        self.seen.lock().unwrap().requests.push(r);
        self.received += 1;
        let lost = self.received <= self.script.swallow_first
            || self.script.answer_at_most.is_some_and(|n| self.served >= n)
            || self.script.close_after.is_some_and(|n| self.served >= n);
        if lost {
            return;
        }
        if self.choking || !listed(&self.script.has, r.index) {
            // Requests of a choked peer (some crossed the choke on the wire) and of
            // pieces it lied about: rejected under BEP 6, else dropped.
            if self.script.fast {
                Message::Reject(r).encode(&mut self.out);
            }
            return;
        }
        let piece_len = self.meta.info.piece_length;
        let start = r.index as u64 * piece_len + u64::from(r.begin);
        let Some(block) = self
            .data
            .get(start as usize..(start + u64::from(r.length)) as usize)
        else {
            return;
        };
        let flipped: Vec<u8>;
        let block = if self.script.corrupt {
            flipped = block.iter().map(|b| b ^ 0xff).collect();
            &flipped[..]
        } else {
            block
        };
        Message::Piece {
            index: r.index,
            begin: r.begin,
            data: block,
        }
        .encode(&mut self.out);
        self.served += 1;
        self.seen.lock().unwrap().served += 1;
        if self.script.choke_after == Some(self.served) && !self.choked_once {
            self.choke();
        }
    }

    /// Chokes the downloader mid-piece: requests that arrive until the unchoke are
    /// rejected (BEP 6) or dropped (BEP 3).
    fn choke(&mut self) {
        self.choking = true;
        self.choked_once = true;
        self.released.store(false, Ordering::SeqCst);
        self.seen.lock().unwrap().choked = true;
        Message::Choke.encode(&mut self.out);
    }
}

fn listed(pieces: &Option<Vec<u32>>, i: u32) -> bool {
    pieces.as_ref().is_none_or(|p| p.contains(&i))
}

//! Swarms of scripted peers (test-support's `ScriptedPeer`) against an engine on a manual
//! clock: peers that lose requests, go silent, choke mid-piece, lie in their bitfield,
//! hang up mid-piece or flood blocks nobody asked for. Each download ends byte-exact (or
//! with its specific error); timeouts happen because the test advances the clock, never
//! because it waits. Waiting loops here only bound a broken run, they assert no time.

mod common;

use std::time::Duration;

use common::{Batch, Dir, bt_opts, torrent_data};
use swarmget_engine::{Clock, DownloadSpec, DownloadState, Event, Gid, Torrent};
use swarmget_test_support::{Script, ScriptedPeer, Tracker, make_torrent};

/// Two 16 KiB blocks per piece, so "mid-piece" is one block into one.
const PIECE: u64 = 32 << 10;
const BLOCK: usize = 16 << 10;
/// Past bt-wire's request timeout and snub timeout (60 s each).
const PAST_REQUEST_TIMEOUT: Duration = Duration::from_secs(61);
/// Past its idle timeout (180 s without a message).
const PAST_IDLE_TIMEOUT: Duration = Duration::from_secs(181);
/// The buffer a peer connection may have: room for one read (64 KiB) and at most one
/// message beyond it (a 16 KiB block, its 9-byte header and 4-byte length prefix).
const PEER_READ_BOUND: usize = (64 << 10) + (16 << 10) + 13;

/// A torrent of `len` bytes (seeded by `seed`) served by the peers `make` starts: they
/// are made from a tracker-less copy (same info-hash), then the tracker names them.
struct Swarm {
    body: Vec<u8>,
    torrent: Vec<u8>,
    peers: Vec<ScriptedPeer>,
    _tracker: Tracker,
}

impl Swarm {
    fn new(name: &str, len: usize, seed: u8, scripts: Vec<Script>) -> Swarm {
        let body = torrent_data(len, seed);
        let placeholder = make_torrent(name, &[], &body, PIECE, None);
        let peers: Vec<ScriptedPeer> = scripts
            .into_iter()
            .map(|s| ScriptedPeer::start(&placeholder, body.clone(), s))
            .collect();
        let tracker = Tracker::start(peers.iter().map(ScriptedPeer::addr).collect());
        let torrent = make_torrent(name, &[], &body, PIECE, Some(&tracker.url()));
        Swarm {
            body,
            torrent,
            peers,
            _tracker: tracker,
        }
    }

    fn blocks(&self) -> usize {
        self.body.len().div_ceil(BLOCK)
    }

    /// Starts the download on an engine whose loop runs on `clock`.
    fn start(&self, dir: &Dir, clock: &Clock) -> (Batch, Gid) {
        let o = bt_opts(&dir.0);
        let mut batch = Batch::with_clock(&o, clock.clone());
        let gid = batch.add(DownloadSpec::torrent(
            Torrent::parse(&self.torrent).unwrap(),
            o,
        ));
        (batch, gid)
    }
}

/// Polls `cond` (a hang guard, not a timing assertion: it only bounds a broken run).
fn eventually(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..6000 {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("{what} never happened");
}

/// Waits for download `gid` to end, shuts the engine down and checks the file is
/// `body`, byte for byte.
fn assert_completes(batch: Batch, gid: Gid, dir: &Dir, name: &str, body: &[u8]) {
    await_end(&batch, gid);
    let st = batch.finish().remove(0);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert!(
        std::fs::read(dir.0.join(name)).unwrap() == body,
        "the file differs from the torrent's data"
    );
}

/// Waits until download `gid` has stopped (complete, failed or removed).
fn await_end(batch: &Batch, gid: Gid) {
    eventually("the download's end", || {
        batch
            .handle
            .tell_status(gid)
            .is_ok_and(|st| st.state.is_stopped())
    });
}

/// The download is still going, short of complete.
fn assert_stalled(batch: &Batch, gid: Gid, total: usize) {
    let st = batch.handle.tell_status(gid).unwrap();
    assert_eq!(st.state, DownloadState::Active, "{st:?}");
    assert!(st.completed < total as u64, "{st:?}");
}

#[test]
fn requests_a_peer_lost_are_asked_again_after_the_request_timeout() {
    let dir = Dir::new("swarm-lost");
    // The only peer loses the first request and answers every later one: the download
    // goes on around it, and nothing but the request timeout can bring that block.
    let swarm = Swarm::new(
        "lost.bin",
        256 << 10,
        1,
        vec![Script {
            swallow_first: 1,
            ..Script::default()
        }],
    );
    let peer = &swarm.peers[0];
    let clock = Clock::manual();
    let (batch, gid) = swarm.start(&dir, &clock);
    eventually("every other block served", || {
        peer.served() == swarm.blocks() - 1
    });
    assert_stalled(&batch, gid, swarm.body.len());
    let lost = peer.requests()[0];
    clock.advance(PAST_REQUEST_TIMEOUT);
    assert_completes(batch, gid, &dir, "lost.bin", &swarm.body);
    let requests = peer.requests();
    let asked = requests.iter().filter(|r| **r == lost).count();
    assert_eq!(asked, 2, "{lost:?} asked again once: {requests:?}");
    assert_eq!(peer.connections(), 1);
}

#[test]
fn a_silent_peer_is_dropped_after_the_idle_timeout_and_an_honest_peer_finishes_its_blocks() {
    let dir = Dir::new("swarm-silent");
    // `silent` answers three requests (a piece and a half) and then nothing, staying
    // connected; `honest` chokes until the silent one is gone (so every block it is
    // asked for was given up by the other) and keeps the connection alive meanwhile.
    let swarm = Swarm::new(
        "silent.bin",
        256 << 10,
        2,
        vec![
            Script {
                answer_at_most: Some(3),
                ..Script::default()
            },
            Script {
                choke_until_released: true,
                chatty: true,
                ..Script::default()
            },
        ],
    );
    let (silent, honest) = (&swarm.peers[0], &swarm.peers[1]);
    let clock = Clock::manual();
    let (batch, gid) = swarm.start(&dir, &clock);
    eventually("the silent peer asked past what it answers", || {
        silent.served() == 3 && silent.requests().len() > 3
    });
    // The engine has read the three blocks: the last it hears from that peer is before
    // the jumps (read after one, it would count the idle time from there).
    eventually("the silent peer's blocks read", || {
        let peers = batch.handle.get_peers(gid).unwrap_or_default();
        peers
            .iter()
            .any(|p| p.addr == silent.addr() && p.downloaded == 3 * BLOCK as u64)
    });
    eventually("both peers connected", || honest.connections() == 1);
    // Past the request and snub timeouts: its requests are given up.
    clock.advance(PAST_REQUEST_TIMEOUT);
    // A keep-alive of the honest peer sent after the jump is read at the new time
    // (before the next jump, or in the same turn as it, ahead of the timeouts).
    let said = honest.keepalives();
    eventually("a keep-alive after the jump", || honest.keepalives() > said);
    assert_stalled(&batch, gid, swarm.body.len());
    // Silent for longer than the idle timeout: the connection is dropped.
    clock.advance(PAST_IDLE_TIMEOUT - PAST_REQUEST_TIMEOUT);
    eventually("the silent peer dropped", || silent.closed() == 1);
    assert_eq!(honest.closed(), 0, "the talking peer is not idle");
    honest.release();
    assert_completes(batch, gid, &dir, "silent.bin", &swarm.body);
    // The three blocks it served were kept; every other block came from `honest`, once.
    let served: Vec<_> = silent.requests()[..3].to_vec();
    let from_honest = honest.requests();
    assert_eq!(from_honest.len(), swarm.blocks() - 3, "{from_honest:?}");
    assert!(from_honest.iter().all(|r| !served.contains(r)));
    assert_eq!(
        silent.connections(),
        1,
        "not retried before its wait is over"
    );
}

#[test]
fn a_peer_choking_mid_piece_gets_the_discarded_requests_again_when_it_unchokes() {
    // BEP 3: the choke silently discards the requests in flight, and the downloader
    // must give them back to the picker itself or wait for them forever; BEP 6: the
    // choke comes with a reject for each.
    for fast in [false, true] {
        let dir = Dir::new(&format!("swarm-choke-{fast}"));
        let swarm = Swarm::new(
            "choke.bin",
            256 << 10,
            3,
            vec![Script {
                fast,
                choke_after: Some(3),
                ..Script::default()
            }],
        );
        let peer = &swarm.peers[0];
        let clock = Clock::manual();
        let (batch, gid) = swarm.start(&dir, &clock);
        eventually("the choke mid-piece", || peer.choked());
        assert_stalled(&batch, gid, swarm.body.len());
        peer.release();
        assert_completes(batch, gid, &dir, "choke.bin", &swarm.body);
        assert_eq!(peer.connections(), 1, "fast: {fast}");
    }
}

#[test]
fn a_peer_hanging_up_mid_piece_leaves_the_rest_of_the_piece_to_another() {
    let dir = Dir::new("swarm-hangup");
    // `quitter` serves three blocks (piece 0 and half of another) and hangs up;
    // `honest` unchokes only after that, so what it is asked shows what was kept.
    let swarm = Swarm::new(
        "hangup.bin",
        256 << 10,
        5,
        vec![
            Script {
                close_after: Some(3),
                ..Script::default()
            },
            Script {
                choke_until_released: true,
                ..Script::default()
            },
        ],
    );
    let (quitter, honest) = (&swarm.peers[0], &swarm.peers[1]);
    let clock = Clock::manual();
    let (batch, gid) = swarm.start(&dir, &clock);
    eventually("the quitter hung up", || quitter.closed() == 1);
    eventually("the honest peer connected", || honest.connections() == 1);
    honest.release();
    assert_completes(batch, gid, &dir, "hangup.bin", &swarm.body);
    let served: Vec<_> = quitter.requests()[..3].to_vec();
    let from_honest = honest.requests();
    assert_eq!(from_honest.len(), swarm.blocks() - 3, "{from_honest:?}");
    assert!(from_honest.iter().all(|r| !served.contains(r)));
    // The half-done piece was finished, not fetched again whole.
    let half = served[2];
    let sibling = from_honest
        .iter()
        .find(|r| r.index == half.index)
        .expect("the rest of the piece asked of the honest peer");
    assert_ne!(sibling.begin, half.begin);
}

#[test]
fn a_peer_lying_in_its_bitfield_is_asked_once_per_block_until_its_refusals_expire() {
    let dir = Dir::new("swarm-liar");
    // The liar claims every piece, has none, and rejects each request (BEP 6); the
    // honest peer chokes until the test lets it serve.
    let swarm = Swarm::new(
        "liar.bin",
        256 << 10,
        6,
        vec![
            Script {
                fast: true,
                has: Some(Vec::new()),
                ..Script::default()
            },
            Script {
                choke_until_released: true,
                chatty: true,
                ..Script::default()
            },
        ],
    );
    let (liar, honest) = (&swarm.peers[0], &swarm.peers[1]);
    let blocks = swarm.blocks();
    let clock = Clock::manual();
    let (batch, gid) = swarm.start(&dir, &clock);
    // Each rejected piece leaves the liar's bitfield: every block is asked once.
    eventually("every block asked of the liar", || {
        liar.requests().len() >= blocks
    });
    eventually("the honest peer connected", || honest.connections() == 1);
    assert_stalled(&batch, gid, swarm.body.len());
    // Taken before the jump, so every refusal of the second round comes after it. The
    // engine may read a first rejection only after the jump (that refusal then runs
    // 30 s more and its piece comes back with the third round): timed from when the
    // second round was seen complete, that third round would look early.
    let before_second_round = std::time::Instant::now();
    // Refusals expire: the liar is given another chance at each piece.
    clock.advance(Duration::from_secs(31));
    eventually("every block asked of the liar again", || {
        liar.requests().len() >= 2 * blocks
    });
    honest.release();
    assert_completes(batch, gid, &dir, "liar.bin", &swarm.body);
    let asked = liar.requests();
    let mut twice = asked[..2 * blocks].to_vec();
    twice.sort_by_key(|r| (r.index, r.begin));
    twice.dedup();
    assert_eq!(twice.len(), blocks, "each block twice: {asked:?}");
    // No more, unless the second refusals' 30 s also passed in real time (the manual
    // clock runs on with it) before the download ended: a third round is then due.
    if before_second_round.elapsed() < Duration::from_secs(30) {
        assert_eq!(
            asked.len(),
            2 * blocks,
            "each block twice, no more: {asked:?}"
        );
    }
    assert_eq!(honest.requests().len(), blocks);
}

#[test]
fn a_peer_flooding_blocks_nobody_asked_for_is_read_in_bounded_memory_and_ignored() {
    let dir = Dir::new("swarm-flood");
    // 64 MiB of `piece` messages (zeros for piece 0's first block) and a million
    // `have`s before it unchokes and serves honestly: the download can only complete
    // once all were read.
    let swarm = Swarm::new(
        "flood.bin",
        256 << 10,
        7,
        vec![Script {
            flood: 4096,
            have_storm: 1_000_000,
            ..Script::default()
        }],
    );
    let clock = Clock::manual();
    let (batch, gid) = swarm.start(&dir, &clock);
    await_end(&batch, gid);
    let held = batch.handle.held_memory().unwrap();
    // Never the flood's size.
    assert!(
        held.peer_read_peak <= PEER_READ_BOUND,
        "{held:?} over {PEER_READ_BOUND}"
    );
    assert!(held.peer_read_peak > 0, "{held:?}");
    // Unrequested blocks never took a write buffer: the flood's zeros would have
    // spoilt piece 0, and the file is byte-exact.
    assert_completes(batch, gid, &dir, "flood.bin", &swarm.body);
}

#[test]
fn a_banned_peer_is_never_reconnected_when_the_clock_passes_the_retry_wait() {
    let dir = Dir::new("swarm-banned");
    // `bad` spoils every block and is banned after its second bad piece; `control`
    // hangs up at once, so it is retried once the wait is over (and shows when that
    // moment has come); `honest` chokes until the test lets it finish.
    let swarm = Swarm::new(
        "banned.bin",
        256 << 10,
        8,
        vec![
            Script {
                corrupt: true,
                ..Script::default()
            },
            Script {
                close_after: Some(0),
                ..Script::default()
            },
            Script {
                choke_until_released: true,
                chatty: true,
                ..Script::default()
            },
        ],
    );
    let (bad, control, honest) = (&swarm.peers[0], &swarm.peers[1], &swarm.peers[2]);
    let clock = Clock::manual();
    let (batch, gid) = swarm.start(&dir, &clock);
    eventually("the bad peer banned and dropped", || bad.closed() == 1);
    eventually("the control peer hung up", || control.closed() == 1);
    eventually("the honest peer connected", || honest.connections() == 1);
    // Past the 30 s a failed peer waits before it is tried again.
    clock.advance(Duration::from_secs(31));
    eventually("the control peer retried", || control.connections() == 2);
    assert_eq!(bad.connections(), 1, "a banned peer is never retried");
    honest.release();
    assert_completes(batch, gid, &dir, "banned.bin", &swarm.body);
    assert_eq!(bad.connections(), 1);
}

#[test]
fn a_peer_sending_an_oversized_bitfield_is_dropped_before_it_is_asked_anything() {
    let dir = Dir::new("swarm-bitfield");
    // A bitfield 1 MiB longer than eight pieces need: refused by its length prefix,
    // before its bytes are waited for. The liar is the only peer, so the download
    // stays active and the connection can only end because the engine refused it.
    let swarm = Swarm::new(
        "bitfield.bin",
        256 << 10,
        9,
        vec![Script {
            oversized_bitfield: 1 << 20,
            ..Script::default()
        }],
    );
    let liar = &swarm.peers[0];
    let clock = Clock::manual();
    let (batch, gid) = swarm.start(&dir, &clock);
    eventually("the liar's connection closed", || liar.closed() == 1);
    assert!(liar.requests().is_empty());
    let st = batch.handle.tell_status(gid).unwrap();
    assert_eq!(st.state, DownloadState::Active, "{st:?}");
    let held = batch.handle.held_memory().unwrap();
    assert!(
        held.peer_read_peak <= PEER_READ_BOUND,
        "{held:?}: never the 1 MiB"
    );
}

/// A one-chunk torrent (256 KiB, one write of the engine's gathering) whose only peer
/// serves three blocks and then nothing, staying connected; started on a manual clock
/// and returned once the engine has read those three blocks.
struct ThreeBlocks {
    dir: Dir,
    swarm: Swarm,
    clock: Clock,
    batch: Batch,
    gid: Gid,
}

impl ThreeBlocks {
    fn start(name: &str, seed: u8) -> ThreeBlocks {
        let dir = Dir::new(&format!("swarm-{name}"));
        let script = Script {
            answer_at_most: Some(3),
            chatty: true,
            ..Script::default()
        };
        let swarm = Swarm::new(name, 256 << 10, seed, vec![script]);
        let clock = Clock::manual();
        let (batch, gid) = swarm.start(&dir, &clock);
        let addr = swarm.peers[0].addr();
        eventually("the peer's three blocks read", || {
            let peers = batch.handle.get_peers(gid).unwrap_or_default();
            peers
                .iter()
                .any(|p| p.addr == addr && p.downloaded == 3 * BLOCK as u64)
        });
        ThreeBlocks {
            dir,
            swarm,
            clock,
            batch,
            gid,
        }
    }

    /// Whether the file holds the torrent's bytes wherever the peer sent a block.
    fn served_bytes_on_disk(&self, name: &str) -> bool {
        let Ok(file) = std::fs::read(self.dir.0.join(name)) else {
            return false;
        };
        self.swarm.peers[0].requests()[..3].iter().all(|r| {
            let start = r.index as usize * PIECE as usize + r.begin as usize;
            let range = start..start + r.length as usize;
            file.get(range.clone()) == Some(&self.swarm.body[range])
        })
    }
}

#[test]
fn blocks_short_of_their_chunk_reach_disk_once_the_chunk_has_waited() {
    // Three of the chunk's sixteen blocks come and the rest never do. Moving the clock
    // past the chunk's wait must send those three to disk while the download stays
    // active.
    let t = ThreeBlocks::start("wait.bin", 10);
    t.clock.advance(Duration::from_secs(1));
    eventually("the three blocks on disk", || {
        t.served_bytes_on_disk("wait.bin")
    });
    assert_stalled(&t.batch, t.gid, t.swarm.body.len());
    t.batch.handle.remove(t.gid).unwrap();
    await_end(&t.batch, t.gid);
}

#[test]
fn a_removed_download_has_the_blocks_it_gathered_on_disk_when_it_stops() {
    // Removed while three blocks of its only chunk wait for the rest: the stop is told
    // only once they are written (the file is kept, as aria2 keeps it).
    let mut t = ThreeBlocks::start("stop.bin", 11);
    t.batch.handle.remove(t.gid).unwrap();
    let gid = t.gid;
    t.batch
        .wait_event(0, |e| matches!(e, Event::Stop(g) if *g == gid));
    assert!(
        t.served_bytes_on_disk("stop.bin"),
        "the blocks read before the stop are on disk"
    );
}

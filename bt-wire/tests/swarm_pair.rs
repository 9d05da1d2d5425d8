//! Two peers of this crate talking over an in-memory wire on a fake clock (quinn-proto's
//! `Pair` idea): a seeder serving a torrent written by `TorrentBuilder`, a leecher with a
//! trivial picker. Bytes cross in odd-sized chunks. The download must end byte-exact with
//! every piece matching its hash, including when the seeder chokes mid-transfer.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};
use swarmget_bt_wire::metainfo::{Metainfo, TorrentBuilder};
use swarmget_bt_wire::peer::{Peer, PeerConfig, PeerEvent};
use swarmget_bt_wire::wire::{BlockRequest, FrameDecoder, Handshake, Limits};

const PL: usize = 32 * 1024;
const BLOCK: u32 = 16 * 1024;

struct Side {
    peer: Peer,
    decoder: FrameDecoder,
}

/// What `from` sends at `now`, cut into `chunk`-byte reads.
fn pump(from: &mut Side, now: Instant, chunk: usize) -> Vec<Vec<u8>> {
    let mut bytes = Vec::new();
    from.peer.poll_transmit(now, &mut bytes);
    bytes.chunks(chunk).map(<[u8]>::to_vec).collect()
}

fn blocks(meta: &Metainfo) -> Vec<BlockRequest> {
    let mut out = Vec::new();
    for index in 0..meta.info.piece_count() {
        let size = meta.info.piece_size(index).unwrap() as u32;
        let mut begin = 0;
        while begin < size {
            out.push(BlockRequest {
                index: index as u32,
                begin,
                length: BLOCK.min(size - begin),
            });
            begin += BLOCK;
        }
    }
    out
}

/// Runs the pair until the leecher has everything; `choke_at` makes the seeder choke for
/// 50 ticks from that tick.
struct Outcome {
    got: Vec<u8>,
    data: Vec<u8>,
    meta: Metainfo,
    /// Blocks the leecher was told it would not get (and asked for again).
    dropped: usize,
}

fn download(fast: bool, chunk: usize, choke_at: Option<u64>) -> Outcome {
    let data: Vec<u8> = (0..3 * PL as u32 + 10_000)
        .map(|i| (i * 31 % 253) as u8)
        .collect();
    let hashes = data.chunks(PL).map(|p| Sha1::digest(p).into()).collect();
    let torrent = TorrentBuilder::single("f", data.len() as u64, PL as u64, hashes)
        .build()
        .unwrap();
    let meta = Metainfo::parse(&torrent).unwrap();
    let count = meta.info.piece_count() as u32;
    let limits = Limits::default().with_piece_count(count);
    let t0 = Instant::now();
    let cfg = PeerConfig::default();
    let mut seeder = Side {
        peer: Peer::new(cfg, count, fast, t0),
        decoder: FrameDecoder::new(limits),
    };
    let mut leecher = Side {
        peer: Peer::new(cfg, count, fast, t0),
        decoder: FrameDecoder::new(limits),
    };

    // Handshakes first, split like everything else.
    let info_hash = meta.wire_info_hash().unwrap();
    for (side, id) in [(&mut seeder, [1u8; 20]), (&mut leecher, [2u8; 20])] {
        let h = Handshake::new(info_hash, id, false).encode();
        for piece in h.chunks(chunk) {
            side.decoder.extend(piece);
        }
        assert_eq!(
            side.decoder.handshake().unwrap().unwrap().info_hash,
            info_hash
        );
    }
    let all = vec![0xFFu8; count.div_ceil(8) as usize];
    let mut bits = all.clone();
    if !count.is_multiple_of(8) {
        *bits.last_mut().unwrap() &= 0xFF << (8 - count % 8);
    }
    seeder.peer.send_bitfield(&bits, count, count);

    let mut todo: VecDeque<BlockRequest> = blocks(&meta).into();
    let mut done: BTreeSet<(u32, u32)> = BTreeSet::new();
    let total_blocks = todo.len();
    let mut got = vec![0u8; data.len()];
    let mut dropped = 0;
    let mut serving = VecDeque::new();
    // 20 s of fake time: well under the 60 s request timeout, so a request lost to a
    // choke must come back through `Dropped`, not by timing out.
    for tick in 0..2_000u64 {
        let now = t0 + Duration::from_millis(10 * tick);
        if choke_at == Some(tick) {
            seeder.peer.set_choking(true);
        }
        if choke_at.is_some_and(|at| tick == at + 50) {
            seeder.peer.set_choking(false);
        }
        // Seeder → leecher.
        for piece in pump(&mut seeder, now, chunk) {
            leecher.decoder.extend(&piece);
            while let Some(m) = leecher.decoder.next().unwrap() {
                if let Some((b, bytes)) = leecher.peer.handle_message(now, m).unwrap() {
                    let at = b.index as usize * PL + b.begin as usize;
                    got[at..at + bytes.len()].copy_from_slice(bytes);
                    done.insert((b.index, b.begin));
                }
            }
        }
        while let Some(event) = leecher.peer.poll_event() {
            match event {
                PeerEvent::Bitfield => leecher.peer.set_interested(true),
                PeerEvent::Dropped(blocks) => {
                    dropped += blocks.len();
                    todo.extend(
                        blocks
                            .into_iter()
                            .filter(|b| !done.contains(&(b.index, b.begin))),
                    )
                }
                _ => {}
            }
        }
        for _ in 0..leecher.peer.wants_blocks(now) {
            let Some(b) = todo.pop_front() else { break };
            leecher.peer.request(b);
        }
        leecher.peer.handle_timeout(now).unwrap();
        // Leecher → seeder.
        for piece in pump(&mut leecher, now, chunk) {
            seeder.decoder.extend(&piece);
            while let Some(m) = seeder.decoder.next().unwrap() {
                seeder.peer.handle_message(now, m).unwrap();
            }
        }
        while let Some(event) = seeder.peer.poll_event() {
            match event {
                // The choker's decision, reduced to: unchoke whoever is interested.
                PeerEvent::Interest(true)
                    if choke_at.is_none_or(|at| tick < at || tick >= at + 50) =>
                {
                    seeder.peer.set_choking(false)
                }
                PeerEvent::Request(r) => serving.push_back(r),
                _ => {}
            }
        }
        // A slow seeder: one block a tick, so requests are still queued when it chokes.
        // Those a choke discarded are refused by `send_block` and stay unserved.
        if let Some(r) = serving.pop_front() {
            let at = r.index as usize * PL + r.begin as usize;
            seeder
                .peer
                .send_block(now, r, &data[at..at + r.length as usize]);
        }
        seeder.peer.handle_timeout(now).unwrap();
        if done.len() == total_blocks {
            return Outcome {
                got,
                data,
                meta,
                dropped,
            };
        }
    }
    panic!(
        "download stalled: {}/{} blocks, {} queued",
        done.len(),
        total_blocks,
        todo.len()
    );
}

fn check(
    Outcome {
        got, data, meta, ..
    }: Outcome,
) {
    for (i, piece) in got.chunks(PL).enumerate() {
        let hash: [u8; 20] = Sha1::digest(piece).into();
        assert_eq!(hash, meta.info.piece_hashes[i], "piece {i}");
    }
    assert!(got == data, "byte-exact");
}

#[test]
fn leecher_gets_every_piece_from_the_seeder() {
    check(download(true, 777, None));
    check(download(false, 1, None));
    check(download(false, 1 << 20, None));
}

#[test]
fn a_choke_mid_transfer_costs_requests_but_not_data() {
    for fast in [false, true] {
        let outcome = download(fast, 1000, Some(3));
        assert!(
            outcome.dropped > 0,
            "the choke hit no request (fast={fast})"
        );
        check(outcome);
    }
}

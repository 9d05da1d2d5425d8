//! Which peers to unchoke: tit-for-tat with an optimistic slot while downloading (BEP 3,
//! as libtorrent and aria2's `BtLeecherStateChoke`), and aria2's seeding choker
//! (`BtSeederStateChoke`: peers with requests pending first, then those unchoked in the
//! last 20 s, the rest by upload speed, and one slot rotates) while seeding.
//!
//! Call [`Choker::run`] every [`ROUND`] (10 s). The decision is a function of the peer
//! statistics, `now`, and the caller's random `pick`; the choker keeps only the round
//! number and the current optimistic peer between calls.
//!
//! Invariants: only interested peers are unchoked; at most `slots` are; while downloading,
//! no snubbing peer is, regular slots go only to peers that sent a block within
//! [`RECIPROCATION_WINDOW`], and the optimistic peer changes at most once per
//! [`OPTIMISTIC_INTERVAL`] unless it stops being eligible.

use std::time::{Duration, Instant};

/// How often the choker runs.
pub const ROUND: Duration = Duration::from_secs(10);
/// How long an optimistic unchoke lasts while downloading.
pub const OPTIMISTIC_INTERVAL: Duration = Duration::from_secs(30);
/// While downloading, only peers that sent a block this recently earn a regular slot.
pub const RECIPROCATION_WINDOW: Duration = Duration::from_secs(30);
/// While seeding, a peer unchoked this recently keeps its slot (aria2's TIME_FRAME).
pub const RECENT_UNCHOKE: Duration = Duration::from_secs(20);

/// What the choker knows of one peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerStats {
    /// The caller's key for the peer.
    pub key: usize,
    /// The peer is interested in our pieces.
    pub interested: bool,
    /// The peer is snubbing us (left out of download-rate slots).
    pub snubbed: bool,
    /// Bytes per second we receive from it.
    pub download_rate: u64,
    /// Bytes per second we send it.
    pub upload_rate: u64,
    /// When it last sent us a block.
    pub last_block: Option<Instant>,
    /// When we unchoked it, if it is unchoked now.
    pub unchoked_at: Option<Instant>,
    /// It has requests we have not served yet (seeding: such peers come first, as in
    /// aria2, so a transfer under way is not cut off).
    pub upload_pending: bool,
}

/// The choker's memory between rounds.
#[derive(Clone, Debug)]
pub struct Choker {
    slots: usize,
    round: u32,
    optimistic: Option<(usize, Instant)>,
}

impl Choker {
    /// A choker with `slots` upload slots (aria2 and BEP 3 use 4: 3 + 1 optimistic).
    pub fn new(slots: usize) -> Self {
        Self {
            slots: slots.max(1),
            round: 0,
            optimistic: None,
        }
    }

    /// The peers to unchoke (keys, sorted); every other peer is to be choked. `pick` is
    /// the caller's random number for choosing the optimistic peer.
    pub fn run(
        &mut self,
        now: Instant,
        peers: &[PeerStats],
        seeding: bool,
        pick: u64,
    ) -> Vec<usize> {
        let mut unchoke = if seeding {
            self.seeding(now, peers, pick)
        } else {
            self.downloading(now, peers, pick)
        };
        self.round = (self.round + 1) % 3;
        unchoke.sort_unstable();
        unchoke
    }

    fn downloading(&mut self, now: Instant, peers: &[PeerStats], pick: u64) -> Vec<usize> {
        // As aria2: snubbing peers get no slot at all; a regular slot goes to the fastest
        // of those interested that sent us a block in the last 30 s.
        let reciprocating = |p: &&PeerStats| {
            p.interested
                && !p.snubbed
                && p.last_block
                    .is_some_and(|at| now.saturating_duration_since(at) < RECIPROCATION_WINDOW)
        };
        let mut fastest: Vec<&PeerStats> = peers.iter().filter(reciprocating).collect();
        fastest.sort_by(|a, b| {
            b.download_rate
                .cmp(&a.download_rate)
                .then(a.key.cmp(&b.key))
        });
        let mut unchoke: Vec<usize> = fastest.iter().take(self.slots - 1).map(|p| p.key).collect();

        let eligible: Vec<usize> = peers
            .iter()
            .filter(|p| p.interested && !p.snubbed && !unchoke.contains(&p.key))
            .map(|p| p.key)
            .collect();
        let keep = self.optimistic.filter(|(key, since)| {
            eligible.contains(key) && now.saturating_duration_since(*since) < OPTIMISTIC_INTERVAL
        });
        self.optimistic = match keep {
            Some(o) => Some(o),
            None if eligible.is_empty() => None,
            None => Some((eligible[(pick % eligible.len() as u64) as usize], now)),
        };
        unchoke.extend(self.optimistic.map(|(key, _)| key));
        unchoke
    }

    fn seeding(&mut self, now: Instant, peers: &[PeerStats], pick: u64) -> Vec<usize> {
        self.optimistic = None;
        let recent = |p: &PeerStats| {
            p.unchoked_at
                .filter(|at| now.saturating_duration_since(*at) < RECENT_UNCHOKE)
        };
        let mut order: Vec<&PeerStats> = peers.iter().filter(|p| p.interested).collect();
        // Peers with requests pending first; then recently unchoked, most recent first;
        // then the fastest to upload to.
        order.sort_by(|a, b| {
            b.upload_pending
                .cmp(&a.upload_pending)
                .then_with(|| match (recent(a), recent(b)) {
                    (Some(x), Some(y)) => y.cmp(&x).then(a.key.cmp(&b.key)),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => b.upload_rate.cmp(&a.upload_rate).then(a.key.cmp(&b.key)),
                })
        });
        // Two rounds in three keep a slot for a random peer; the third fills it by order.
        let regular = if self.round == 2 {
            self.slots
        } else {
            self.slots - 1
        };
        let mut unchoke: Vec<usize> = order.iter().take(regular).map(|p| p.key).collect();
        let rest = &order[unchoke.len()..];
        if self.round != 2 && !rest.is_empty() {
            unchoke.push(rest[(pick % rest.len() as u64) as usize].key);
        }
        unchoke
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(key: usize, down: u64, up: u64, last_block: Option<Instant>) -> PeerStats {
        PeerStats {
            key,
            interested: true,
            snubbed: false,
            download_rate: down,
            upload_rate: up,
            last_block,
            unchoked_at: None,
            upload_pending: false,
        }
    }

    #[test]
    fn downloading_unchokes_the_three_fastest_and_one_optimistic() {
        let t0 = Instant::now() + Duration::from_secs(100);
        let mut peers: Vec<PeerStats> = (0..9)
            .map(|k| peer(k, 100 * k as u64, 0, Some(t0)))
            .collect();
        peers[7].snubbed = true;
        peers[6].interested = false;
        let mut c = Choker::new(4);
        // Every peer but 8 keeps sending blocks; 8 went quiet 30 s before each round.
        let round = |c: &mut Choker, peers: &mut Vec<PeerStats>, now: Instant, pick| {
            for p in peers.iter_mut() {
                p.last_block = Some(if p.key == 8 {
                    now - RECIPROCATION_WINDOW
                } else {
                    now
                });
            }
            c.run(now, peers, false, pick)
        };
        // Regular: the fastest interested, unsnubbed peers that sent a block in the last
        // 30 s: 5, 4, 3 (8 is faster but quiet). Optimistic: one of 0, 1, 2, 8.
        assert_eq!(round(&mut c, &mut peers, t0, 1), vec![1, 3, 4, 5]);
        // The optimistic peer holds for 30 s whatever the pick...
        assert_eq!(round(&mut c, &mut peers, t0 + ROUND, 3), vec![1, 3, 4, 5]);
        assert_eq!(
            round(&mut c, &mut peers, t0 + 2 * ROUND, 3),
            vec![1, 3, 4, 5]
        );
        // ...then rotates (the snubbing 7 is never picked).
        assert_eq!(
            round(&mut c, &mut peers, t0 + 3 * ROUND, 3),
            vec![3, 4, 5, 8]
        );
        // An optimistic peer that loses interest is replaced at once.
        peers[8].interested = false;
        assert_eq!(
            round(&mut c, &mut peers, t0 + 4 * ROUND, 0),
            vec![0, 3, 4, 5]
        );
        assert_eq!(c.run(t0, &[], false, 0), Vec::<usize>::new());
    }

    #[test]
    fn seeding_keeps_recent_unchokes_then_goes_by_upload_speed() {
        let t0 = Instant::now() + Duration::from_secs(100);
        let mut peers: Vec<PeerStats> = (0..7).map(|k| peer(k, 0, 10 * k as u64, None)).collect();
        peers[0].unchoked_at = Some(t0 - Duration::from_secs(5));
        peers[1].unchoked_at = Some(t0 - Duration::from_secs(25)); // no longer recent
        peers[2].interested = false;
        let mut c = Choker::new(4);
        // Round 0: recent 0, then fastest 6, 5; a random one of the rest (4, 3, 1).
        assert_eq!(c.run(t0, &peers, true, 2), vec![0, 1, 5, 6]);
        // Round 1: same regular three, another random pick.
        assert_eq!(c.run(t0, &peers, true, 0), vec![0, 4, 5, 6]);
        // Round 2: four by order, no random slot.
        assert_eq!(c.run(t0, &peers, true, 1), vec![0, 4, 5, 6]);
        // A slow peer with requests pending comes before the others (aria2).
        peers[3].upload_pending = true;
        assert_eq!(c.run(t0, &peers, true, 0), vec![0, 3, 5, 6]);
    }
}

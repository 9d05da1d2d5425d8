//! Peers that announced themselves to us (`announce_peer`), handed out by `get_peers`.
//!
//! Invariants:
//! - at most [`PeerStoreLimits::torrents`] info-hashes and
//!   [`PeerStoreLimits::peers_per_torrent`] peers each are held, however many announces
//!   arrive: a full store replaces its stalest entry, so memory is bounded under floods;
//! - an announce expires [`PEER_TTL`] after it was made (clients re-announce every 15 to
//!   30 minutes), and expired peers are never handed out.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::id::NodeId;

/// How long an announce is kept.
pub const PEER_TTL: Duration = Duration::from_secs(30 * 60);

/// How much the store holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerStoreLimits {
    /// Info-hashes.
    pub torrents: usize,
    /// Peers per info-hash.
    pub peers_per_torrent: usize,
}

impl Default for PeerStoreLimits {
    fn default() -> Self {
        PeerStoreLimits {
            torrents: 2000,
            peers_per_torrent: 200,
        }
    }
}

/// The store.
#[derive(Clone, Debug, Default)]
pub struct PeerStore {
    limits: PeerStoreLimits,
    torrents: HashMap<NodeId, Vec<(SocketAddr, Instant)>>,
}

impl PeerStore {
    /// An empty store.
    pub fn new(limits: PeerStoreLimits) -> Self {
        PeerStore {
            limits,
            torrents: HashMap::new(),
        }
    }

    /// Info-hashes held.
    pub fn torrents(&self) -> usize {
        self.torrents.len()
    }

    /// Records that `peer` downloads `info_hash`, at `now`.
    pub fn announce(&mut self, info_hash: NodeId, peer: SocketAddr, now: Instant) {
        if self.limits.torrents == 0 || self.limits.peers_per_torrent == 0 {
            return;
        }
        if !self.torrents.contains_key(&info_hash) && self.torrents.len() >= self.limits.torrents {
            self.expire(now);
            if self.torrents.len() >= self.limits.torrents {
                // Drop the torrent announced least recently.
                let stalest = self
                    .torrents
                    .iter()
                    .map(|(k, v)| (v.iter().map(|p| p.1).max(), *k))
                    .min()
                    .map(|(_, k)| k);
                if let Some(key) = stalest {
                    self.torrents.remove(&key);
                }
            }
        }
        let peers = self.torrents.entry(info_hash).or_default();
        if let Some(known) = peers.iter_mut().find(|p| p.0 == peer) {
            known.1 = now;
            return;
        }
        if peers.len() >= self.limits.peers_per_torrent {
            let oldest = (0..peers.len())
                .min_by_key(|&i| peers[i].1)
                .expect("a full list is not empty");
            peers.swap_remove(oldest);
        }
        peers.push((peer, now));
    }

    /// Up to `max` live peers for `info_hash`.
    pub fn get(&self, info_hash: &NodeId, now: Instant, max: usize) -> Vec<SocketAddr> {
        self.torrents
            .get(info_hash)
            .into_iter()
            .flatten()
            .filter(|p| now.saturating_duration_since(p.1) < PEER_TTL)
            .take(max)
            .map(|p| p.0)
            .collect()
    }

    /// Drops expired announces.
    pub fn expire(&mut self, now: Instant) {
        self.torrents.retain(|_, peers| {
            peers.retain(|p| now.saturating_duration_since(p.1) < PEER_TTL);
            !peers.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_announces_stays_within_the_limits() {
        let t0 = Instant::now();
        let limits = PeerStoreLimits {
            torrents: 10,
            peers_per_torrent: 5,
        };
        let mut store = PeerStore::new(limits);
        for i in 0..1000u32 {
            let mut hash = [0; 20];
            hash[..4].copy_from_slice(&(i % 50).to_be_bytes());
            let peer = SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 6881));
            store.announce(NodeId(hash), peer, t0 + Duration::from_secs(u64::from(i)));
        }
        assert_eq!(store.torrents(), 10);
        assert!(store.torrents.values().all(|p| p.len() <= 5));
    }

    #[test]
    fn announces_expire() {
        let t0 = Instant::now();
        let mut store = PeerStore::new(PeerStoreLimits::default());
        let peer: SocketAddr = "1.2.3.4:5".parse().unwrap();
        store.announce(NodeId([1; 20]), peer, t0);
        assert_eq!(store.get(&NodeId([1; 20]), t0, 50), vec![peer]);
        assert!(store.get(&NodeId([1; 20]), t0 + PEER_TTL, 50).is_empty());
    }
}

//! Peer exchange (BEP 11, `ut_pex`) for public torrents under `--enable-peer-exchange`:
//! every [`PEX_INTERVAL`] each peer that speaks it hears which reachable peers we are
//! connected to since the last message and which went, and the peers it tells us
//! become sources.
//!
//! Invariants:
//! - never for private torrents (BEP 27), and not at all with the option off (our
//!   extension handshake then does not offer `ut_pex`);
//! - a message names at most [`MAX_LISTED`] added and [`MAX_LISTED`] dropped peers; a
//!   peer's messages are taken at most once per [`MIN_GAP`] (more are ignored), at most
//!   [`MAX_LISTED`] peers of each, and only while the torrent knows fewer than
//!   [`MAX_KNOWN`] peers, so a flood costs neither memory nor work.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use swarmget_bt_wire::extension::ut_pex::flags;
use swarmget_bt_wire::extension::{PexMessage, PexPeer};
use swarmget_bt_wire::peer::Peer;

use super::extension::PeerExtensions;
use super::{MAX_KNOWN, PeerConn};
use crate::engine::Engine;
use crate::gid::Gid;

/// The id under which we take `ut_pex` messages.
pub(crate) const UT_PEX: u8 = 1;
/// How often a peer hears from us (BEP 11: at most once a minute).
pub(crate) const PEX_INTERVAL: Duration = Duration::from_secs(60);
/// When there was nothing to tell, how soon to look again.
const PEX_RECHECK: Duration = Duration::from_secs(5);
/// The shortest gap between two messages of one peer that we read.
const MIN_GAP: Duration = Duration::from_secs(20);
/// Peers listed per message, added or dropped (BEP 11's limit).
const MAX_LISTED: usize = 50;

/// The address `p` can be reached on: where we connected, or for a peer that
/// connected to us the listen port its extension handshake gave.
fn reachable(p: &PeerConn) -> Option<SocketAddr> {
    // Before its handshake a peer is nobody to tell about.
    p.peer.as_ref()?;
    if !p.incoming {
        return Some(p.addr);
    }
    p.ext.port.map(|port| SocketAddr::new(p.addr.ip(), port))
}

impl Engine {
    /// Whether torrent `gid` exchanges peers.
    fn pex_allowed(&self, gid: Gid) -> bool {
        let d = &self.downloads[gid];
        d.opts.enable_peer_exchange
            && d.bt
                .as_ref()
                .is_some_and(|s| !s.torrent.metainfo().info.private)
    }

    /// A peer's `ut_pex` message: the peers it added become sources.
    pub(crate) fn pex_received(
        &mut self,
        gid: Gid,
        ext: &mut PeerExtensions,
        payload: &[u8],
        now: Instant,
    ) {
        if !self.pex_allowed(gid)
            || ext
                .last_pex
                .is_some_and(|t| now.saturating_duration_since(t) < MIN_GAP)
        {
            return;
        }
        ext.last_pex = Some(now);
        let Ok(message) = PexMessage::parse(payload) else {
            return;
        };
        let added: Vec<SocketAddr> = message
            .added
            .iter()
            .map(|p| SocketAddr::new(p.addr.ip().to_canonical(), p.addr.port()))
            .filter(|a| a.port() != 0 && !a.ip().is_unspecified())
            .take(MAX_LISTED)
            .collect();
        if let Some(swarm) = self.downloads[gid].bt.as_mut()
            && swarm.known_count() < MAX_KNOWN
        {
            swarm.origins.pex += swarm.add_peers(&added);
        }
    }

    /// Sends peer `key` of torrent `gid` what changed among our peers, when it is due.
    pub(crate) fn pump_pex(
        &mut self,
        gid: Gid,
        key: usize,
        peer: &mut Peer,
        ext: &mut PeerExtensions,
        now: Instant,
    ) {
        let (Some(their), Some(at)) = (ext.ut_pex, ext.next_pex) else {
            return;
        };
        if at > now || !self.pex_allowed(gid) {
            return;
        }
        // Nothing to tell yet: look again soon rather than in a minute.
        ext.next_pex = Some(now + PEX_RECHECK);
        let Some(swarm) = self.downloads[gid].bt.as_ref() else {
            return;
        };
        let connected: Vec<&PeerConn> = swarm
            .peer_keys
            .iter()
            .filter(|&&k| k != key)
            .filter_map(|&k| self.peers.get(k)?.as_ref())
            .collect();
        let current: HashSet<SocketAddr> = connected.iter().filter_map(|p| reachable(p)).collect();
        let added: Vec<PexPeer> = connected
            .iter()
            .filter_map(|p| Some((reachable(p)?, p.is_seed())))
            .filter(|(a, _)| !ext.told.contains(a))
            .take(MAX_LISTED)
            .map(|(addr, seed)| PexPeer {
                addr,
                flags: if seed { flags::SEED } else { 0 },
            })
            .collect();
        let dropped: Vec<SocketAddr> = ext
            .told
            .difference(&current)
            .take(MAX_LISTED)
            .copied()
            .collect();
        if added.is_empty() && dropped.is_empty() {
            return;
        }
        for p in &added {
            ext.told.insert(p.addr);
        }
        for a in &dropped {
            ext.told.remove(a);
        }
        peer.send_extended(their, &PexMessage { added, dropped }.encode());
        ext.next_pex = Some(now + PEX_INTERVAL);
    }
}

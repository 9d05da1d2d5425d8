//! The extension protocol (BEP 10) on a torrent's peer connections: our extension
//! handshake, what the peer's said, and the extension messages it sends — `ut_metadata`
//! requests answered from the torrent's info dictionary (BEP 9, so magnet links can
//! start from us) and `ut_pex` (BEP 11, [`super::pex`]).
//!
//! Invariant: a private torrent (BEP 27) advertises neither extension and ignores both.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Instant;

use swarmget_bt_wire::peer::{Peer, PeerConfig};
use swarmget_bt_wire::wire::ExtensionHandshake;

use super::metadata::{UT_METADATA, answer_metadata, extension_handshake};
use super::pex::UT_PEX;
use crate::engine::Engine;
use crate::gid::Gid;

/// What a peer's extension handshake said, and our peer exchange with it.
#[derive(Debug, Default)]
pub(crate) struct PeerExtensions {
    /// The id under which it takes `ut_metadata`.
    pub ut_metadata: Option<u8>,
    /// The id under which it takes `ut_pex`.
    pub ut_pex: Option<u8>,
    /// Its listen port (`p`), which makes an incoming peer reachable.
    pub port: Option<u16>,
    /// The peers our last PEX message left it knowing.
    pub told: HashSet<SocketAddr>,
    /// When our next PEX message may go.
    pub next_pex: Option<Instant>,
    /// When its last PEX message came.
    pub last_pex: Option<Instant>,
}

impl Engine {
    /// Our extension handshake for a peer of torrent `gid`.
    /// It names the queue of requests we keep (`reqq`): clients that size their
    /// pipeline by the rate (Transmission) would otherwise overshoot it.
    pub(crate) fn our_extension_handshake(&self, gid: Gid) -> Vec<u8> {
        let port = self.listener.as_ref().map(|l| l.port);
        let d = &self.downloads[gid];
        let agent = &d.opts.peer_agent;
        let mut ours = match d.bt.as_ref().map(|s| s.torrent.metainfo()) {
            Some(meta) if !meta.info.private => {
                let pex = d.opts.enable_peer_exchange.then_some(UT_PEX);
                extension_handshake(agent, Some(meta.info_bytes.len() as u64), port, pex)
            }
            _ => ExtensionHandshake {
                v: Some(agent.clone()),
                p: port.filter(|&p| p != 0),
                ..ExtensionHandshake::default()
            },
        };
        ours.reqq = u32::try_from(PeerConfig::default().max_incoming_requests).ok();
        ours.encode()
    }

    /// An extension message from a peer of torrent `gid`.
    pub(crate) fn peer_extended(
        &mut self,
        gid: Gid,
        peer: &mut Peer,
        ext: &mut PeerExtensions,
        id: u8,
        payload: &[u8],
        now: Instant,
    ) {
        let Some(swarm) = self.downloads[gid].bt.as_ref() else {
            return;
        };
        let meta = swarm.torrent.metainfo();
        if meta.info.private {
            return;
        }
        match id {
            0 => {
                let Ok(hs) = ExtensionHandshake::parse(payload) else {
                    return;
                };
                ext.ut_metadata = hs.id_of("ut_metadata");
                ext.ut_pex = hs.id_of("ut_pex");
                ext.port = hs.p;
                // The first PEX message goes on the next turn.
                ext.next_pex = ext.ut_pex.map(|_| now);
            }
            UT_METADATA => {
                if let Some(their) = ext.ut_metadata
                    && let Some(answer) = answer_metadata(&meta.info_bytes, payload)
                {
                    peer.send_extended(their, &answer);
                }
            }
            UT_PEX => self.pex_received(gid, ext, payload, now),
            _ => {}
        }
    }
}

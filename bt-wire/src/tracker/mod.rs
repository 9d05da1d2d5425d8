//! Trackers: HTTP announce and scrape (BEP 3, 7, 23, 48), UDP trackers (BEP 15), and
//! trying tiers in order (BEP 12). No sockets: URLs and datagrams go in and out.

mod error;
mod http;
mod tiers;
mod udp;

use std::net::{IpAddr, SocketAddr};

pub use error::TrackerError;
pub use http::{announce_url, parse_announce, parse_scrape, percent_encode, scrape_url};
pub use tiers::Tiers;
pub use udp::{MAX_SCRAPE_HASHES, UdpConfig, UdpEvent, UdpPacket, UdpTracker};

/// BEP 3 announce events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Event {
    /// A regular announce.
    #[default]
    None,
    /// The first announce of a download.
    Started,
    /// The download stops.
    Stopped,
    /// The download completed (sent once).
    Completed,
}

impl Event {
    /// The HTTP `event` value (`None` sends none).
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::Started => Some("started"),
            Self::Stopped => Some("stopped"),
            Self::Completed => Some("completed"),
        }
    }

    /// The UDP (BEP 15) event code.
    pub fn udp_code(self) -> u32 {
        match self {
            Self::None => 0,
            Self::Completed => 1,
            Self::Started => 2,
            Self::Stopped => 3,
        }
    }
}

/// What an announce tells the tracker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announce {
    /// The torrent.
    pub info_hash: [u8; 20],
    /// Our peer id.
    pub peer_id: [u8; 20],
    /// Our listen port.
    pub port: u16,
    /// Bytes uploaded since `started`.
    pub uploaded: u64,
    /// Bytes downloaded since `started`.
    pub downloaded: u64,
    /// Bytes still missing.
    pub left: u64,
    /// The event, if any.
    pub event: Event,
    /// How many peers we want (`None`: the tracker's default).
    pub numwant: Option<u32>,
    /// A per-session key proving it is us when our IP changes.
    pub key: u32,
    /// The `tracker id` a previous response gave.
    pub tracker_id: Option<String>,
    /// The address peers are to be given for us (`ip`; `None`: the one the tracker
    /// sees). UDP trackers take an IPv4 address only.
    pub ip: Option<IpAddr>,
}

/// A tracker's answer to an announce.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnnounceResponse {
    /// Seconds until the next regular announce.
    pub interval: Option<u32>,
    /// Seconds before which the tracker refuses another announce.
    pub min_interval: Option<u32>,
    /// To send back in later announces.
    pub tracker_id: Option<String>,
    /// Seeders.
    pub complete: Option<u32>,
    /// Leechers.
    pub incomplete: Option<u32>,
    /// A warning to show, the announce having succeeded.
    pub warning: Option<String>,
    /// Peers, IPv4 and IPv6.
    pub peers: Vec<SocketAddr>,
}

/// One torrent's counts in a scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScrapeStats {
    /// Seeders.
    pub complete: u32,
    /// Completed downloads ever.
    pub downloaded: u32,
    /// Leechers.
    pub incomplete: u32,
}

//! UDP trackers (BEP 15): the packets, and one tracker's client state without a socket.
//!
//! Contract (as quinn-proto and str0m): after every input — [`UdpTracker::announce`],
//! [`UdpTracker::scrape`], [`UdpTracker::handle_datagram`], [`UdpTracker::handle_timeout`]
//! — drain [`UdpTracker::poll_transmit`] and [`UdpTracker::poll_event`], then wake at
//! [`UdpTracker::poll_timeout`].
//!
//! Invariants: at most one request is in flight; a connection id is used only within 60 s
//! of its arrival; the n-th retransmission waits 15·2ⁿ s, n ≤ `max_retransmissions`
//! (8 by default), after which the request fails; a datagram is acted on only when its
//! action and transaction id answer the request in flight.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::{Announce, AnnounceResponse, ScrapeStats, TrackerError};

/// The magic constant opening a connect request.
const PROTOCOL_ID: u64 = 0x0417_2710_1980;
const CONNECT: u32 = 0;
const ANNOUNCE: u32 = 1;
const SCRAPE: u32 = 2;
const ERROR: u32 = 3;
/// A connection id is good for a minute after it arrives.
pub const CONNECTION_ID_LIFETIME: Duration = Duration::from_secs(60);
/// BEP 15's limit on info-hashes in one scrape (the packet must fit one datagram).
pub const MAX_SCRAPE_HASHES: usize = 74;

/// A datagram from a UDP tracker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UdpPacket<'a> {
    /// The answer to a connect.
    Connect {
        /// Transaction id.
        tid: u32,
        /// Connection id to use for a minute.
        connection_id: u64,
    },
    /// The answer to an announce.
    Announce {
        /// Transaction id.
        tid: u32,
        /// Seconds until the next announce.
        interval: u32,
        /// Leechers.
        leechers: u32,
        /// Seeders.
        seeders: u32,
        /// Compact peers: 6 bytes each over IPv4, 18 over IPv6.
        peers: &'a [u8],
    },
    /// The answer to a scrape: one entry per info-hash asked, in order.
    Scrape {
        /// Transaction id.
        tid: u32,
        /// Counts.
        stats: Vec<ScrapeStats>,
    },
    /// The tracker refused.
    Error {
        /// Transaction id.
        tid: u32,
        /// Its message.
        message: &'a [u8],
    },
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("length checked"))
}

impl<'a> UdpPacket<'a> {
    /// Parses a datagram from a tracker.
    pub fn parse(d: &'a [u8]) -> Result<Self, TrackerError> {
        if d.len() < 8 {
            return Err(TrackerError::BadPacket("shorter than 8 bytes"));
        }
        let tid = be32(d, 4);
        Ok(match be32(d, 0) {
            CONNECT if d.len() >= 16 => Self::Connect {
                tid,
                connection_id: u64::from_be_bytes(d[8..16].try_into().expect("16 bytes")),
            },
            ANNOUNCE if d.len() >= 20 => Self::Announce {
                tid,
                interval: be32(d, 8),
                leechers: be32(d, 12),
                seeders: be32(d, 16),
                peers: &d[20..],
            },
            SCRAPE => Self::Scrape {
                tid,
                // Bounded by the datagram: twelve bytes an entry.
                stats: d[8..]
                    .chunks_exact(12)
                    .map(|c| ScrapeStats {
                        complete: be32(c, 0),
                        downloaded: be32(c, 4),
                        incomplete: be32(c, 8),
                    })
                    .collect(),
            },
            ERROR => Self::Error {
                tid,
                message: &d[8..],
            },
            CONNECT | ANNOUNCE => return Err(TrackerError::BadPacket("truncated")),
            _ => return Err(TrackerError::BadPacket("unknown action")),
        })
    }

    /// The transaction id.
    pub fn tid(&self) -> u32 {
        match self {
            Self::Connect { tid, .. }
            | Self::Announce { tid, .. }
            | Self::Scrape { tid, .. }
            | Self::Error { tid, .. } => *tid,
        }
    }

    fn action(&self) -> u32 {
        match self {
            Self::Connect { .. } => CONNECT,
            Self::Announce { .. } => ANNOUNCE,
            Self::Scrape { .. } => SCRAPE,
            Self::Error { .. } => ERROR,
        }
    }
}

/// The 16-byte connect request.
pub fn connect_request(tid: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(16);
    p.extend_from_slice(&PROTOCOL_ID.to_be_bytes());
    p.extend_from_slice(&CONNECT.to_be_bytes());
    p.extend_from_slice(&tid.to_be_bytes());
    p
}

/// The 98-byte announce request.
pub fn announce_request(connection_id: u64, tid: u32, a: &Announce) -> Vec<u8> {
    let mut p = Vec::with_capacity(98);
    p.extend_from_slice(&connection_id.to_be_bytes());
    p.extend_from_slice(&ANNOUNCE.to_be_bytes());
    p.extend_from_slice(&tid.to_be_bytes());
    p.extend_from_slice(&a.info_hash);
    p.extend_from_slice(&a.peer_id);
    p.extend_from_slice(&a.downloaded.to_be_bytes());
    p.extend_from_slice(&a.left.to_be_bytes());
    p.extend_from_slice(&a.uploaded.to_be_bytes());
    p.extend_from_slice(&a.event.udp_code().to_be_bytes());
    // IP: 0 is the sender's.
    let ip = match a.ip {
        Some(IpAddr::V4(ip)) => ip.to_bits(),
        _ => 0,
    };
    p.extend_from_slice(&ip.to_be_bytes());
    p.extend_from_slice(&a.key.to_be_bytes());
    let numwant = a
        .numwant
        .map_or(-1, |n| i32::try_from(n).unwrap_or(i32::MAX));
    p.extend_from_slice(&numwant.to_be_bytes());
    p.extend_from_slice(&a.port.to_be_bytes());
    p
}

/// A scrape request for up to [`MAX_SCRAPE_HASHES`] torrents (more are left out).
pub fn scrape_request(connection_id: u64, tid: u32, hashes: &[[u8; 20]]) -> Vec<u8> {
    let hashes = &hashes[..hashes.len().min(MAX_SCRAPE_HASHES)];
    let mut p = Vec::with_capacity(16 + 20 * hashes.len());
    p.extend_from_slice(&connection_id.to_be_bytes());
    p.extend_from_slice(&SCRAPE.to_be_bytes());
    p.extend_from_slice(&tid.to_be_bytes());
    for h in hashes {
        p.extend_from_slice(h);
    }
    p
}

/// Compact peers from an announce answer; a partial entry at the end is dropped.
pub fn compact_peers(peers: &[u8], ipv6: bool) -> Vec<SocketAddr> {
    if ipv6 {
        peers
            .chunks_exact(18)
            .map(|c| {
                let ip: [u8; 16] = c[..16].try_into().expect("18-byte chunks");
                SocketAddr::new(
                    IpAddr::V6(Ipv6Addr::from(ip)),
                    u16::from_be_bytes([c[16], c[17]]),
                )
            })
            .collect()
    } else {
        peers
            .chunks_exact(6)
            .map(|c| {
                let ip = Ipv4Addr::new(c[0], c[1], c[2], c[3]);
                SocketAddr::new(IpAddr::V4(ip), u16::from_be_bytes([c[4], c[5]]))
            })
            .collect()
    }
}

/// Client settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpConfig {
    /// Retransmissions before giving up (BEP 15: n up to 8, 3840 s for the last wait).
    pub max_retransmissions: u32,
    /// The tracker is reached over IPv6, so peers come 18 bytes each.
    pub ipv6: bool,
}

impl Default for UdpConfig {
    fn default() -> Self {
        Self {
            max_retransmissions: 8,
            ipv6: false,
        }
    }
}

/// What a UDP tracker concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UdpEvent {
    /// An announce succeeded.
    Announced(AnnounceResponse),
    /// A scrape succeeded: counts in the order the hashes were given.
    Scraped(Vec<ScrapeStats>),
    /// The request failed: the tracker's error, or silence.
    Failed(TrackerError),
}

#[derive(Clone, Debug)]
enum Want {
    Announce(Announce),
    Scrape(Vec<[u8; 20]>),
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    tid: u32,
    /// Waiting for a connection id (else for the answer to `want`).
    connecting: bool,
    /// Retransmissions so far: the wait is 15·2^attempt s.
    attempt: u32,
    /// `None`: to be (re)sent by the next `poll_transmit`.
    deadline: Option<Instant>,
}

/// One UDP tracker's client state.
#[derive(Clone, Debug)]
pub struct UdpTracker {
    config: UdpConfig,
    rng: u64,
    connection: Option<(u64, Instant)>,
    want: Option<Want>,
    in_flight: Option<InFlight>,
    events: VecDeque<UdpEvent>,
}

impl UdpTracker {
    /// A client drawing transaction ids from a generator seeded with `seed` (the caller
    /// seeds it from the OS; no randomness is read here).
    pub fn new(config: UdpConfig, seed: u64) -> Self {
        Self {
            config,
            rng: seed | 1,
            connection: None,
            want: None,
            in_flight: None,
            events: VecDeque::new(),
        }
    }

    /// xorshift64*: unpredictable enough for transaction ids once seeded from the OS.
    fn next_tid(&mut self) -> u32 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }

    fn connection_id(&self, now: Instant) -> Option<u64> {
        self.connection
            .filter(|(_, at)| now.saturating_duration_since(*at) < CONNECTION_ID_LIFETIME)
            .map(|(id, _)| id)
    }

    /// Starts an announce, replacing any request in flight.
    pub fn announce(&mut self, now: Instant, announce: Announce) {
        self.start(now, Want::Announce(announce));
    }

    /// Starts a scrape of up to 74 torrents, replacing any request in flight.
    pub fn scrape(&mut self, now: Instant, info_hashes: Vec<[u8; 20]>) {
        self.start(now, Want::Scrape(info_hashes));
    }

    fn start(&mut self, now: Instant, want: Want) {
        self.want = Some(want);
        self.in_flight = Some(InFlight {
            tid: self.next_tid(),
            connecting: self.connection_id(now).is_none(),
            attempt: 0,
            deadline: None,
        });
    }

    /// Whether a request is under way.
    pub fn is_busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// The datagram to send now, if any.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        let connection = self.connection_id(now);
        let mut f = self.in_flight.filter(|f| f.deadline.is_none())?;
        // A retransmitted request whose connection id expired meanwhile reconnects first.
        if !f.connecting && connection.is_none() {
            f.connecting = true;
            f.tid = self.next_tid();
        }
        let packet = match (&self.want, f.connecting, connection) {
            (_, true, _) => connect_request(f.tid),
            (Some(Want::Announce(a)), false, Some(id)) => announce_request(id, f.tid, a),
            (Some(Want::Scrape(h)), false, Some(id)) => scrape_request(id, f.tid, h),
            _ => return None,
        };
        let wait = Duration::from_secs(15u64 << f.attempt.min(8));
        f.deadline = Some(now + wait);
        self.in_flight = Some(f);
        Some(packet)
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.in_flight.and_then(|f| f.deadline)
    }

    /// Retransmits (or gives up on) a request whose wait is over.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(mut f) = self.in_flight else { return };
        if f.deadline.is_none_or(|d| now < d) {
            return;
        }
        if f.attempt >= self.config.max_retransmissions {
            self.fail(TrackerError::Timeout(f.attempt));
            return;
        }
        f.attempt += 1;
        f.deadline = None;
        self.in_flight = Some(f);
    }

    fn fail(&mut self, error: TrackerError) {
        self.in_flight = None;
        self.want = None;
        self.events.push_back(UdpEvent::Failed(error));
    }

    /// Whether `packet` answers the request in flight: sent, same transaction id, and the
    /// action asked for (or an error).
    fn answers(&self, packet: &UdpPacket<'_>) -> bool {
        let Some(f) = self.in_flight.filter(|f| f.deadline.is_some()) else {
            return false;
        };
        let expected = match (f.connecting, &self.want) {
            (true, _) => CONNECT,
            (false, Some(Want::Announce(_))) => ANNOUNCE,
            (false, _) => SCRAPE,
        };
        packet.tid() == f.tid && (packet.action() == expected || packet.action() == ERROR)
    }

    /// Whether `datagram` answers the request in flight (for routing one socket's
    /// datagrams among trackers).
    pub fn accepts(&self, datagram: &[u8]) -> bool {
        UdpPacket::parse(datagram).is_ok_and(|p| self.answers(&p))
    }

    /// Takes a datagram from the tracker; those not answering the request in flight
    /// (stale, forged, malformed, of another action) are ignored and `false` returned.
    pub fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) -> bool {
        let Ok(packet) = UdpPacket::parse(datagram) else {
            return false;
        };
        if !self.answers(&packet) {
            return false;
        }
        match packet {
            UdpPacket::Connect { connection_id, .. } => {
                self.connection = Some((connection_id, now));
                // The request proper starts now, with its own transaction and backoff.
                self.in_flight = Some(InFlight {
                    tid: self.next_tid(),
                    connecting: false,
                    attempt: 0,
                    deadline: None,
                });
            }
            UdpPacket::Announce {
                interval,
                leechers,
                seeders,
                peers,
                ..
            } => {
                let response = AnnounceResponse {
                    interval: Some(interval),
                    complete: Some(seeders),
                    incomplete: Some(leechers),
                    peers: compact_peers(peers, self.config.ipv6),
                    ..AnnounceResponse::default()
                };
                self.in_flight = None;
                self.want = None;
                self.events.push_back(UdpEvent::Announced(response));
            }
            UdpPacket::Scrape { mut stats, .. } => {
                // One entry per torrent asked: more would name torrents we did not ask
                // about (callers pair the entries with their hashes in order).
                let asked = match &self.want {
                    Some(Want::Scrape(hashes)) => hashes.len().min(MAX_SCRAPE_HASHES),
                    _ => 0,
                };
                stats.truncate(asked);
                self.in_flight = None;
                self.want = None;
                self.events.push_back(UdpEvent::Scraped(stats));
            }
            UdpPacket::Error { message, .. } => {
                let message = String::from_utf8_lossy(message).into_owned();
                self.fail(TrackerError::Failure(message));
            }
        }
        true
    }

    /// The next conclusion reached.
    pub fn poll_event(&mut self) -> Option<UdpEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests;

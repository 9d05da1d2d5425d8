//! Tracker announces for torrent downloads: HTTP, HTTPS and UDP (BEP 15).
//!
//! An announce is one small blocking exchange on a short-lived worker thread (like a
//! name lookup: it resolves the tracker's host too), answered through a channel and the
//! loop's waker, so the loop never waits on a tracker. bt-wire builds the URL and parses
//! the bencoded answer, and drives the UDP protocol (connection ids, transaction ids,
//! retransmission) as a sans-IO machine this thread feeds with datagrams and the time;
//! a UDP tracker needs no DHT socket (aria2 needs its DHT on for UDP trackers). HTTPS
//! trackers are checked with the download's TLS settings (`--ca-certificate`,
//! `--check-certificate`). BEP 12 tiers decide which tracker is asked.
//!
//! `--bt-exclude-tracker` and `--bt-tracker` shape the tiers (aria2's order: exclusions
//! first, then each added URI as a tier of its own), `--bt-tracker-interval` overrides
//! the tracker's interval, and `--bt-tracker-connect-timeout`/`--bt-tracker-timeout`
//! bound each announce.
//!
//! Invariants: at most one announce per download is in flight; a response body larger
//! than [`MAX_RESPONSE`] is refused before it is parsed; a UDP announce gives up after
//! `--bt-tracker-timeout` whatever the retransmission schedule.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use swarmget_bt_wire::tracker::{
    Announce, AnnounceResponse, Event, Tiers, UdpConfig, UdpEvent, UdpTracker, announce_url,
};

use crate::gid::Gid;

/// The most a tracker response may hold.
const MAX_RESPONSE: usize = 1 << 20;
/// Used when a tracker names no interval.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(1800);
/// After every tracker failed, wait this long before starting over.
const RETRY: Duration = Duration::from_secs(60);

/// A finished announce.
#[derive(Debug)]
pub(crate) struct AnnounceDone {
    pub gid: Gid,
    pub event: Event,
    pub result: Result<AnnounceResponse, String>,
}

/// One torrent's trackers and when to announce next.
#[derive(Debug)]
pub(crate) struct Announcer {
    tiers: Tiers,
    /// The next regular announce (`None`: at once).
    next_at: Option<Instant>,
    pub in_flight: bool,
    /// `started` has been acknowledged by some tracker.
    started: bool,
    pub completed_sent: bool,
    /// `stopped` was sent after the download stopped running.
    stopped_sent: bool,
    tracker_id: Option<String>,
    key: u32,
    /// `--bt-tracker-interval` (zero: the tracker's).
    interval: Duration,
}

/// The tiers a torrent announces to: its own without `--bt-exclude-tracker`'s URIs
/// (every one with `*`), then each `--bt-tracker` URI as a tier of its own.
pub(crate) fn tiers_for(mut tiers: Vec<Vec<String>>, opts: &crate::Options) -> Vec<Vec<String>> {
    let excluded = |uri: &String| opts.bt_exclude_tracker.iter().any(|x| x == "*" || x == uri);
    for tier in &mut tiers {
        tier.retain(|uri| !excluded(uri));
    }
    tiers.retain(|tier| !tier.is_empty());
    for uri in &opts.bt_tracker {
        if !tiers.iter().flatten().any(|t| t == uri) {
            tiers.push(vec![uri.clone()]);
        }
    }
    tiers
}

impl Announcer {
    /// Announces to `tiers`, every `interval` when not zero (else the tracker's).
    pub fn new(tiers: Vec<Vec<String>>, interval: Duration) -> Announcer {
        Announcer {
            interval,
            tiers: Tiers::new(tiers, |_| {}),
            next_at: None,
            in_flight: false,
            started: false,
            completed_sent: false,
            stopped_sent: false,
            tracker_id: None,
            key: std::process::id().rotate_left(13) ^ 0x5eed_cafe,
        }
    }

    /// The event of an announce due at `now`, if one is.
    pub fn due(&self, now: Instant) -> Option<Event> {
        if self.in_flight || self.tiers.current().is_none() {
            return None;
        }
        if !self.started {
            return self
                .next_at
                .is_none_or(|t| t <= now)
                .then_some(Event::Started);
        }
        self.next_at.is_none_or(|t| t <= now).then_some(Event::None)
    }

    /// Whether a `stopped` is owed: a tracker heard `started` and nothing since said we
    /// left. Marks it sent.
    pub fn take_stop(&mut self) -> bool {
        let due = self.started && !self.stopped_sent && !self.in_flight;
        self.stopped_sent |= due;
        due
    }

    /// The download runs again after a `stopped`: the next announce is a `started`.
    pub fn rejoin(&mut self) {
        if self.stopped_sent {
            self.stopped_sent = false;
            self.started = false;
            self.next_at = None;
        }
    }

    /// Starts an announce on a worker thread; `done` receives its answer, then `wake` runs.
    pub fn send(
        &mut self,
        gid: Gid,
        mut announce: Announce,
        net: TrackerNet,
        done: Sender<AnnounceDone>,
        wake: impl Fn() + Send + 'static,
    ) {
        let Some(base) = self.tiers.current() else {
            return;
        };
        announce.key = self.key;
        announce.tracker_id = self.tracker_id.clone();
        let event = announce.event;
        let base = base.to_string();
        self.in_flight = true;
        let spawned = std::thread::Builder::new()
            .name("swarmget-tracker".into())
            .spawn(move || {
                let result = if base.starts_with("udp://") {
                    fetch_udp(&base, announce, &net)
                } else {
                    fetch(&announce_url(&base, &announce), &net)
                };
                let _ = done.send(AnnounceDone { gid, event, result });
                wake();
            });
        if spawned.is_err() {
            self.in_flight = false;
        }
    }

    /// Takes an announce's answer; returns the peers, or the error to tell.
    pub fn answered(
        &mut self,
        event: Event,
        result: Result<AnnounceResponse, String>,
        now: Instant,
    ) -> Result<AnnounceResponse, String> {
        self.in_flight = false;
        match result {
            Ok(r) => {
                self.tiers.succeeded();
                if event == Event::Started {
                    self.started = true;
                }
                if r.tracker_id.is_some() {
                    self.tracker_id = r.tracker_id.clone();
                }
                let interval = r
                    .interval
                    .map_or(DEFAULT_INTERVAL, |s| Duration::from_secs(s.into()));
                let min = r
                    .min_interval
                    .map_or(Duration::ZERO, |s| Duration::from_secs(s.into()));
                self.next_at = Some(
                    now + match self.interval {
                        Duration::ZERO => interval.max(min),
                        forced => forced,
                    },
                );
                Ok(r)
            }
            Err(e) => {
                if !self.tiers.failed() {
                    self.next_at = Some(now + RETRY);
                }
                Err(e)
            }
        }
    }
}

/// How announces reach a tracker: the options that shape every connection
/// (`--interface`, `--multiple-interface`, `--async-dns-server`) and TLS.
#[derive(Clone)]
pub(crate) struct TrackerNet {
    /// The download's options (the interface ones).
    pub opts: Arc<crate::Options>,
    /// `--async-dns-server` (empty: the system's resolver).
    pub dns_servers: Vec<SocketAddr>,
    /// Whether AAAA records are wanted.
    pub ipv6: bool,
    /// For HTTPS trackers.
    pub tls: Arc<rustls::ClientConfig>,
}

impl TrackerNet {
    /// The local address for a connection to `peer` (the first of
    /// `--multiple-interface`: one announce, one connection).
    fn local(&self, peer: &SocketAddr) -> Result<Option<std::net::IpAddr>, String> {
        crate::socket::local_address(&self.opts, &mut 0, peer).map_err(|e| e.to_string())
    }

    /// The addresses of `host:port`.
    fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let host = host.trim_matches(['[', ']']);
        if self.dns_servers.is_empty() {
            return resolve(host, port);
        }
        crate::dns_stub::lookup(&self.dns_servers, host, self.ipv6)
            .map(|ips| {
                ips.into_iter()
                    .map(|ip| SocketAddr::new(ip, port))
                    .collect()
            })
            .map_err(|e| format!("cannot resolve {host}: {e}"))
    }
}

/// The addresses of `host:port` from the system's resolver.
fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> = (host.trim_matches(['[', ']']), port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("cannot resolve {host}"));
    }
    Ok(addrs)
}

/// One HTTP(S) GET of an announce URL, returning the parsed response.
fn fetch(url: &str, net: &TrackerNet) -> Result<AnnounceResponse, String> {
    let body = get(url, net)?;
    swarmget_bt_wire::tracker::parse_announce(&body).map_err(|e| e.to_string())
}

/// One HTTP(S) GET of a tracker URL (announce or scrape), returning the body of a
/// 200 answer of at most [`MAX_RESPONSE`] bytes.
pub(super) fn get(url: &str, net: &TrackerNet) -> Result<Vec<u8>, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("bad tracker URL: {e}"))?;
    let secure = match parsed.scheme() {
        "http" => false,
        "https" => true,
        other => return Err(format!("{other} trackers are not supported")),
    };
    let host = parsed.host_str().ok_or("tracker URL without host")?;
    let port = parsed.port_or_known_default().unwrap_or(80);
    let mut last = format!("cannot resolve {host}");
    let mut sock = None;
    for a in net.resolve(host, port)? {
        let connected = net.local(&a).and_then(|local| {
            let timeout = net.opts.bt_tracker_connect_timeout;
            crate::socket::connect_blocking(a, local, timeout).map_err(|e| match e.kind() {
                ErrorKind::TimedOut => format!(
                    "no connection within {} s (--bt-tracker-connect-timeout)",
                    timeout.as_secs()
                ),
                _ => e.to_string(),
            })
        });
        match connected {
            Ok(s) => {
                sock = Some(s);
                break;
            }
            Err(e) => last = format!("cannot connect to {a}: {e}"),
        }
    }
    let sock = sock.ok_or(last)?;
    // The whole exchange within --bt-tracker-timeout: each read and write gets what is
    // left of it.
    let timeout = net.opts.bt_tracker_timeout;
    let sock = Deadline {
        sock,
        deadline: Instant::now() + timeout,
        timeout,
    };
    let mut sock: Box<dyn ReadWrite> = if secure {
        let name =
            rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string())
                .map_err(|e| format!("bad tracker host {host}: {e}"))?;
        let conn = rustls::ClientConnection::new(net.tls.clone(), name)
            .map_err(|e| format!("TLS to {host}: {e}"))?;
        Box::new(rustls::StreamOwned::new(conn, sock))
    } else {
        Box::new(sock)
    };
    let target = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_string(),
    };
    let host_header = match parsed.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let request = format!(
        "GET {target} HTTP/1.0\r\nHost: {host_header}\r\nUser-Agent: swarmget/{}\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    sock.write_all(request.as_bytes())
        .map_err(|e| format!("tracker request failed: {e}"))?;
    let mut raw = Vec::new();
    match sock.take(MAX_RESPONSE as u64 + 1).read_to_end(&mut raw) {
        Ok(_) => {}
        // A TLS server that closes without close_notify: the body is delimited by the
        // close (HTTP/1.0), so what came is the answer; the header check below tells a
        // cut one.
        Err(e) if secure && e.kind() == ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(format!("tracker response failed: {e}")),
    }
    if raw.len() > MAX_RESPONSE {
        return Err("tracker response too large".into());
    }
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("tracker response without a header end")?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(format!("tracker answered {status}"));
    }
    raw.drain(..head_end + 4);
    Ok(raw)
}

/// A byte stream both ways: a plain socket or a TLS one.
trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// One UDP announce (BEP 15).
fn fetch_udp(url: &str, announce: Announce, net: &TrackerNet) -> Result<AnnounceResponse, String> {
    match udp_exchange(url, net, |t, now| t.announce(now, announce))? {
        UdpEvent::Announced(r) => Ok(r),
        _ => Err("a scrape answer to an announce".into()),
    }
}

/// One UDP exchange (BEP 15) that `start` begins: bt-wire's client machine fed with
/// datagrams and the time until it answers (the event returned), fails, or
/// `--bt-tracker-timeout` passes.
pub(super) fn udp_exchange(
    url: &str,
    net: &TrackerNet,
    start: impl FnOnce(&mut UdpTracker, Instant),
) -> Result<UdpEvent, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("bad tracker URL: {e}"))?;
    let host = parsed.host_str().ok_or("tracker URL without host")?;
    let port = parsed.port().ok_or("UDP tracker URL without a port")?;
    let addr = net.resolve(host, port)?[0];
    let local: SocketAddr = match net.local(&addr)? {
        Some(ip) => (ip, 0).into(),
        None if addr.is_ipv4() => ([0, 0, 0, 0], 0).into(),
        None => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = UdpSocket::bind(local).map_err(|e| format!("UDP socket: {e}"))?;
    sock.connect(addr)
        .map_err(|e| format!("cannot reach {addr}: {e}"))?;
    let timeout = net.opts.bt_tracker_timeout;
    let config = UdpConfig {
        max_retransmissions: retransmissions_within(timeout),
        ipv6: addr.is_ipv6(),
    };
    let mut tracker = UdpTracker::new(config, random_seed());
    let started = Instant::now();
    start(&mut tracker, started);
    let mut buf = [0u8; 2048];
    loop {
        let now = Instant::now();
        tracker.handle_timeout(now);
        if let Some(datagram) = tracker.poll_transmit(now) {
            sock.send(&datagram)
                .map_err(|e| format!("cannot send to {addr}: {e}"))?;
        }
        match tracker.poll_event() {
            Some(UdpEvent::Failed(e)) => return Err(e.to_string()),
            Some(answer) => return Ok(answer),
            None => {}
        }
        let deadline = started + timeout;
        if now >= deadline {
            return Err(format!("no answer from {addr} within {timeout:?}"));
        }
        let wake = tracker.poll_timeout().unwrap_or(deadline).min(deadline);
        let wait = wake
            .saturating_duration_since(now)
            .max(Duration::from_millis(1));
        let _ = sock.set_read_timeout(Some(wait));
        match sock.recv(&mut buf) {
            Ok(n) => {
                tracker.handle_datagram(Instant::now(), &buf[..n]);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            // An ICMP port unreachable for an earlier datagram: the retransmission
            // schedule decides when to give up.
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                std::thread::sleep(wait);
            }
            Err(e) => return Err(format!("UDP tracker {addr}: {e}")),
        }
    }
}

/// How many BEP 15 retransmissions (after 15·2ⁿ s each) fit in `timeout`: 1 for the
/// default 60 s (15 s, then 30 s).
fn retransmissions_within(timeout: Duration) -> u32 {
    let mut n = 0;
    let mut spent = 15;
    while spent + (15 << (n + 1)) <= timeout.as_secs() && n < 8 {
        n += 1;
        spent += 15 << n;
    }
    n
}

/// A socket whose reads and writes all end by one deadline.
struct Deadline {
    sock: std::net::TcpStream,
    deadline: Instant,
    /// `--bt-tracker-timeout`, for the error.
    timeout: Duration,
}

impl Deadline {
    /// Sets the socket's timeouts to what is left; fails once nothing is.
    fn arm(&self) -> std::io::Result<()> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.timed_out());
        }
        self.sock.set_read_timeout(Some(left))?;
        self.sock.set_write_timeout(Some(left))
    }

    fn timed_out(&self) -> std::io::Error {
        std::io::Error::new(
            ErrorKind::TimedOut,
            format!(
                "no answer within {} s (--bt-tracker-timeout)",
                self.timeout.as_secs()
            ),
        )
    }

    /// A socket timeout (`EAGAIN` from `SO_RCVTIMEO`) is the deadline passing.
    fn deadline_error(&self, e: std::io::Error) -> std::io::Error {
        match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => self.timed_out(),
            _ => e,
        }
    }
}

impl Read for Deadline {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.arm()?;
        self.sock.read(buf).map_err(|e| self.deadline_error(e))
    }
}

impl Write for Deadline {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.arm()?;
        self.sock.write(buf).map_err(|e| self.deadline_error(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.sock.flush()
    }
}

/// A seed for transaction ids, from the standard library's per-process random keys.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn started_first_then_at_the_interval_and_tiers_on_failure() {
        let t0 = Instant::now();
        let mut a = Announcer::new(vec![vec!["http://a/announce".into()]], Duration::ZERO);
        assert_eq!(a.due(t0), Some(Event::Started));
        a.in_flight = true;
        assert_eq!(a.due(t0), None);
        let r = AnnounceResponse {
            interval: Some(100),
            ..Default::default()
        };
        a.answered(Event::Started, Ok(r), t0).unwrap();
        assert_eq!(a.due(t0 + Duration::from_secs(99)), None);
        assert_eq!(a.due(t0 + Duration::from_secs(100)), Some(Event::None));
        a.answered(Event::None, Err("down".into()), t0).unwrap_err();
        assert_eq!(a.due(t0 + Duration::from_secs(59)), None);
        assert_eq!(a.due(t0 + RETRY), Some(Event::None));
    }

    #[test]
    fn bt_tracker_interval_overrides_the_trackers() {
        let t0 = Instant::now();
        let mut o = crate::Options::default();
        o.set("bt-tracker-interval", "5").unwrap();
        let mut a = Announcer::new(vec![vec!["http://a/".into()]], o.bt_tracker_interval);
        let r = AnnounceResponse {
            interval: Some(100),
            min_interval: Some(50),
            ..Default::default()
        };
        a.answered(Event::Started, Ok(r), t0).unwrap();
        assert_eq!(a.due(t0 + Duration::from_secs(4)), None);
        assert_eq!(a.due(t0 + Duration::from_secs(5)), Some(Event::None));
    }

    #[test]
    fn excluded_trackers_go_and_added_ones_come_last_each_its_own_tier() {
        let tiers = vec![
            vec!["http://a/".to_string(), "http://b/".to_string()],
            vec!["udp://c:1".to_string()],
        ];
        let mut o = crate::Options::default();
        o.set("bt-exclude-tracker", "udp://c:1,http://a/").unwrap();
        o.set("bt-tracker", "http://d/,http://b/").unwrap();
        o.set("bt-tracker", "http://e/").unwrap();
        assert_eq!(
            tiers_for(tiers.clone(), &o),
            [vec!["http://b/"], vec!["http://d/"], vec!["http://e/"]]
        );
        o.set("bt-exclude-tracker", "*").unwrap();
        assert_eq!(
            tiers_for(tiers.clone(), &o),
            [vec!["http://d/"], vec!["http://b/"], vec!["http://e/"]]
        );
        assert_eq!(tiers_for(tiers.clone(), &crate::Options::default()), tiers);
    }

    #[test]
    fn udp_retransmissions_fit_the_tracker_timeout() {
        let n = |s| retransmissions_within(Duration::from_secs(s));
        // 15 s; 15 + 30; 15 + 30 + 60 …
        assert_eq!(
            (n(1), n(44), n(45), n(60), n(105), n(600)),
            (0, 0, 1, 1, 2, 4)
        );
    }
}

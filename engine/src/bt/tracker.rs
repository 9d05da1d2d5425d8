//! HTTP tracker announces for torrent downloads.
//!
//! An announce is one small blocking request on a short-lived worker thread (like a name
//! lookup: it resolves the tracker's host too), answered through a channel and the loop's
//! waker, so the loop never waits on a tracker. bt-wire builds the URL and parses the
//! bencoded answer; BEP 12 tiers decide which tracker is asked.
//!
//! Invariants: at most one announce per download is in flight; a response body larger
//! than [`MAX_RESPONSE`] is refused before it is parsed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use swarmget_bt_wire::tracker::{Announce, AnnounceResponse, Event, Tiers, announce_url};

use crate::gid::Gid;

/// The most a tracker response may hold.
const MAX_RESPONSE: usize = 1 << 20;
/// aria2's `--bt-tracker-connect-timeout` and `--bt-tracker-timeout` defaults.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
const TIMEOUT: Duration = Duration::from_secs(60);
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
    tracker_id: Option<String>,
    key: u32,
}

impl Announcer {
    pub fn new(tiers: Vec<Vec<String>>) -> Announcer {
        Announcer {
            tiers: Tiers::new(tiers, |_| {}),
            next_at: None,
            in_flight: false,
            started: false,
            completed_sent: false,
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

    /// Starts an announce on a worker thread; `done` receives its answer, then `wake` runs.
    #[allow(clippy::too_many_arguments)]
    pub fn send(
        &mut self,
        gid: Gid,
        mut announce: Announce,
        done: Sender<AnnounceDone>,
        wake: impl Fn() + Send + 'static,
    ) {
        let Some(base) = self.tiers.current() else {
            return;
        };
        announce.key = self.key;
        announce.tracker_id = self.tracker_id.clone();
        let event = announce.event;
        let url = announce_url(base, &announce);
        self.in_flight = true;
        let spawned = std::thread::Builder::new()
            .name("swarmget-tracker".into())
            .spawn(move || {
                let result = fetch(&url);
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
                self.next_at = Some(now + interval.max(min));
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

/// One HTTP GET of an announce URL, returning the parsed response.
fn fetch(url: &str) -> Result<AnnounceResponse, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("bad tracker URL: {e}"))?;
    if parsed.scheme() != "http" {
        return Err(format!(
            "{} trackers are not supported yet",
            parsed.scheme()
        ));
    }
    let host = parsed.host_str().ok_or("tracker URL without host")?;
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addrs: Vec<SocketAddr> = (host.trim_matches(['[', ']']), port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let mut last = format!("cannot resolve {host}");
    let mut sock = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
            Ok(s) => {
                sock = Some(s);
                break;
            }
            Err(e) => last = format!("cannot connect to {a}: {e}"),
        }
    }
    let mut sock = sock.ok_or(last)?;
    let _ = sock.set_read_timeout(Some(TIMEOUT));
    let _ = sock.set_write_timeout(Some(TIMEOUT));
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
    sock.take(MAX_RESPONSE as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| format!("tracker response failed: {e}"))?;
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
    swarmget_bt_wire::tracker::parse_announce(&raw[head_end + 4..]).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn started_first_then_at_the_interval_and_tiers_on_failure() {
        let t0 = Instant::now();
        let mut a = Announcer::new(vec![vec!["http://a/announce".into()]]);
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
}

//! HTTP trackers: the announce URL, its bencoded response, and scrape (BEP 48).

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use swarmget_bencode::{Decoder, Dict, Value};

use super::{Announce, AnnounceResponse, ScrapeStats, TrackerError};

/// Percent-encodes bytes for a query string, leaving RFC 3986's unreserved characters.
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The announce URL for `base` (which may carry a query of its own, such as a passkey).
pub fn announce_url(base: &str, a: &Announce) -> String {
    let mut url = base.to_string();
    url.push(if base.contains('?') { '&' } else { '?' });
    let _ = write!(
        url,
        "info_hash={}&peer_id={}&port={}&uploaded={}&downloaded={}&left={}&compact=1&no_peer_id=1&key={:08X}",
        percent_encode(&a.info_hash),
        percent_encode(&a.peer_id),
        a.port,
        a.uploaded,
        a.downloaded,
        a.left,
        a.key,
    );
    if let Some(event) = a.event.as_str() {
        let _ = write!(url, "&event={event}");
    }
    if let Some(n) = a.numwant {
        let _ = write!(url, "&numwant={n}");
    }
    if let Some(id) = &a.tracker_id {
        let _ = write!(url, "&trackerid={}", percent_encode(id.as_bytes()));
    }
    if let Some(ip) = a.ip {
        let _ = write!(url, "&ip={}", percent_encode(ip.to_string().as_bytes()));
    }
    url
}

/// BEP 48: the scrape URL, when the announce URL's last path segment starts with
/// `announce` (which becomes `scrape`); `None` when the tracker cannot be scraped.
pub fn scrape_url(announce: &str, info_hashes: &[[u8; 20]]) -> Option<String> {
    let (path, query) = match announce.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (announce, None),
    };
    let slash = path.rfind('/')?;
    let last = &path[slash + 1..];
    let rest = last.strip_prefix("announce")?;
    let mut url = format!("{}/scrape{rest}", &path[..slash]);
    let mut sep = '?';
    if let Some(q) = query {
        let _ = write!(url, "?{q}");
        sep = '&';
    }
    for h in info_hashes {
        let _ = write!(url, "{sep}info_hash={}", percent_encode(h));
        sep = '&';
    }
    Some(url)
}

fn top(body: &[u8]) -> Result<Value<'_>, TrackerError> {
    let value = Decoder::new().lenient(true).decode(body)?.value;
    if value.as_dict().is_none() {
        return Err(TrackerError::NotADictionary);
    }
    Ok(value)
}

fn text(dict: &Dict<'_>, key: &str) -> Option<String> {
    dict.get(key)
        .and_then(Value::as_bytes)
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

/// A count or interval: non-negative integers only, saturated to `u32`.
fn count(dict: &Dict<'_>, key: &str) -> Option<u32> {
    let n = dict.get(key)?.as_int()?;
    (n >= 0).then(|| u32::try_from(n).unwrap_or(u32::MAX))
}

/// Parses an announce response. A `failure reason` is an error carrying the tracker's text.
pub fn parse_announce(body: &[u8]) -> Result<AnnounceResponse, TrackerError> {
    let value = top(body)?;
    let dict = value.as_dict().expect("checked by top");
    if let Some(reason) = text(dict, "failure reason") {
        return Err(TrackerError::Failure(reason));
    }
    let mut r = AnnounceResponse {
        interval: count(dict, "interval"),
        min_interval: count(dict, "min interval"),
        tracker_id: text(dict, "tracker id"),
        complete: count(dict, "complete"),
        incomplete: count(dict, "incomplete"),
        warning: text(dict, "warning message"),
        peers: Vec::new(),
    };
    match dict.get("peers") {
        None => {}
        Some(v) => match (v.as_bytes(), v.as_list()) {
            (Some(compact), _) => r.peers.extend(compact_v4(compact)?),
            (_, Some(list)) => r.peers.extend(list.iter().filter_map(dict_peer)),
            _ => return Err(TrackerError::Malformed("peers")),
        },
    }
    if let Some(v) = dict.get("peers6") {
        let compact = v.as_bytes().ok_or(TrackerError::Malformed("peers6"))?;
        r.peers.extend(compact_v6(compact)?);
    }
    Ok(r)
}

/// BEP 23: six bytes a peer, address then port, big-endian.
fn compact_v4(b: &[u8]) -> Result<impl Iterator<Item = SocketAddr> + '_, TrackerError> {
    if !b.len().is_multiple_of(6) {
        return Err(TrackerError::Malformed("peers"));
    }
    Ok(b.chunks_exact(6).map(|c| {
        let ip = Ipv4Addr::new(c[0], c[1], c[2], c[3]);
        SocketAddr::new(IpAddr::V4(ip), u16::from_be_bytes([c[4], c[5]]))
    }))
}

/// BEP 7: eighteen bytes a peer.
fn compact_v6(b: &[u8]) -> Result<impl Iterator<Item = SocketAddr> + '_, TrackerError> {
    if !b.len().is_multiple_of(18) {
        return Err(TrackerError::Malformed("peers6"));
    }
    Ok(b.chunks_exact(18).map(|c| {
        let ip: [u8; 16] = c[..16].try_into().expect("18-byte chunks");
        SocketAddr::new(
            IpAddr::V6(Ipv6Addr::from(ip)),
            u16::from_be_bytes([c[16], c[17]]),
        )
    }))
}

/// BEP 3's original form: `{ip, port, peer id}`; entries whose `ip` is not an address
/// (host names are not resolved here) or whose port is out of range are skipped.
fn dict_peer(v: &Value<'_>) -> Option<SocketAddr> {
    let ip: IpAddr = v.get("ip")?.as_str()?.parse().ok()?;
    let port = u16::try_from(v.get("port")?.as_int()?).ok()?;
    Some(SocketAddr::new(ip, port))
}

/// Parses a scrape response: each torrent's counts, by info-hash.
pub fn parse_scrape(body: &[u8]) -> Result<Vec<([u8; 20], ScrapeStats)>, TrackerError> {
    let value = top(body)?;
    let dict = value.as_dict().expect("checked by top");
    if let Some(reason) = text(dict, "failure reason") {
        return Err(TrackerError::Failure(reason));
    }
    let files = dict
        .get("files")
        .and_then(Value::as_dict)
        .ok_or(TrackerError::Malformed("files"))?;
    let mut out = Vec::new();
    for (hash, stats) in files.iter() {
        let hash: [u8; 20] = hash
            .try_into()
            .map_err(|_| TrackerError::Malformed("files"))?;
        let stats = stats.as_dict().ok_or(TrackerError::Malformed("files"))?;
        out.push((
            hash,
            ScrapeStats {
                complete: count(stats, "complete").unwrap_or(0),
                downloaded: count(stats, "downloaded").unwrap_or(0),
                incomplete: count(stats, "incomplete").unwrap_or(0),
            },
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::Event;
    use super::*;

    fn announce() -> Announce {
        Announce {
            info_hash:
                *b"\x12\x34\x56\x78\x9a\xbc\xde\xf1\x23\x45\x67\x89\xab\xcd\xef\x12\x34\x56\x78\x9a",
            peer_id: *b"-SG0001-abc~def.ghi_",
            port: 6881,
            uploaded: 1,
            downloaded: 2,
            left: 3,
            event: Event::Started,
            numwant: Some(50),
            key: 0xDEADBEEF,
            tracker_id: Some("id 1".into()),
            ip: None,
        }
    }

    #[test]
    fn announce_url_encodes_every_field() {
        assert_eq!(
            announce_url("http://t.example/announce", &announce()),
            "http://t.example/announce?info_hash=%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A\
             &peer_id=-SG0001-abc~def.ghi_&port=6881&uploaded=1&downloaded=2&left=3&compact=1\
             &no_peer_id=1&key=DEADBEEF&event=started&numwant=50&trackerid=id%201"
        );
        let mut quiet = announce();
        quiet.event = Event::None;
        quiet.numwant = None;
        quiet.tracker_id = None;
        let url = announce_url("http://t/a?passkey=x", &quiet);
        assert!(url.starts_with("http://t/a?passkey=x&info_hash="), "{url}");
        assert!(!url.contains("event=") && !url.contains("numwant") && !url.contains("ip="));
        quiet.ip = Some("2001:db8::1".parse().unwrap());
        let url = announce_url("http://t/a", &quiet);
        assert!(url.ends_with("&ip=2001%3Adb8%3A%3A1"), "{url}");
    }

    #[test]
    fn responses_compact_dict_and_ipv6_peers() {
        let body = b"d8:completei5e10:incompletei3e8:intervali1800e12:min intervali60e5:peers12:\x7f\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\x00\x50\
6:peers618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe2\
10:tracker id3:abc15:warning message4:slowe";
        let r = parse_announce(body).unwrap();
        assert_eq!(r.interval, Some(1800));
        assert_eq!(r.min_interval, Some(60));
        assert_eq!((r.complete, r.incomplete), (Some(5), Some(3)));
        assert_eq!(r.tracker_id.as_deref(), Some("abc"));
        assert_eq!(r.warning.as_deref(), Some("slow"));
        let peers: Vec<String> = r.peers.iter().map(|p| p.to_string()).collect();
        assert_eq!(peers, ["127.0.0.1:6881", "10.0.0.2:80", "[::1]:6882"]);

        let dicts = b"d8:intervali5e5:peersld2:ip9:127.0.0.17:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti7eed2:ip4:host4:porti8eed2:ip3:::14:porti70000eeee";
        let r = parse_announce(dicts).unwrap();
        assert_eq!(r.peers, vec!["127.0.0.1:7".parse().unwrap()]);
    }

    #[test]
    fn failures_and_malformed_fields() {
        assert_eq!(
            parse_announce(b"d14:failure reason9:not founde"),
            Err(TrackerError::Failure("not found".into()))
        );
        assert_eq!(
            parse_announce(b"d5:peers5:abcdee"),
            Err(TrackerError::Malformed("peers"))
        );
        assert_eq!(
            parse_announce(b"d6:peers64:abcde"),
            Err(TrackerError::Malformed("peers6"))
        );
        assert_eq!(parse_announce(b"le"), Err(TrackerError::NotADictionary));
        assert!(matches!(
            parse_announce(b"<html>"),
            Err(TrackerError::Bencode(_))
        ));
        let r = parse_announce(b"d8:intervali-5ee").unwrap();
        assert_eq!(r.interval, None, "a negative interval is not one");
    }

    #[test]
    fn scrape_urls_and_responses() {
        let h = [0x41u8; 20];
        assert_eq!(
            scrape_url("http://t/announce", &[h]).as_deref(),
            Some("http://t/scrape?info_hash=AAAAAAAAAAAAAAAAAAAA")
        );
        assert_eq!(
            scrape_url("http://t/x/announce.php?pk=1", &[h, h]).as_deref(),
            Some(
                "http://t/x/scrape.php?pk=1&info_hash=AAAAAAAAAAAAAAAAAAAA&info_hash=AAAAAAAAAAAAAAAAAAAA"
            )
        );
        assert_eq!(scrape_url("http://t/a", &[h]), None);
        assert_eq!(scrape_url("http://t/announce/x", &[h]), None);
        let body =
            b"d5:filesd20:AAAAAAAAAAAAAAAAAAAAd8:completei1e10:downloadedi2e10:incompletei3eeee";
        assert_eq!(
            parse_scrape(body),
            Ok(vec![(
                h,
                ScrapeStats {
                    complete: 1,
                    downloaded: 2,
                    incomplete: 3
                }
            )])
        );
        assert_eq!(
            parse_scrape(b"d5:filesd3:abcdeee"),
            Err(TrackerError::Malformed("files"))
        );
    }
}

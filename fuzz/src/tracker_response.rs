//! Arbitrary bytes as an HTTP tracker's bencoded announce and scrape responses, and as an
//! announce URL: nothing panics, and peers come only from whole compact entries or valid
//! dictionaries (never more than the body could hold).

use swarmget_bt_wire::tracker::{
    Announce, Event, announce_url, parse_announce, parse_scrape, scrape_url,
};

/// Parses `data` as every HTTP tracker answer.
pub fn run(data: &[u8]) {
    if let Ok(r) = parse_announce(data) {
        assert!(
            r.peers.len() <= data.len() / 6,
            "more peers than bytes allow"
        );
    }
    if let Ok(files) = parse_scrape(data) {
        assert!(files.len() <= data.len() / 20);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let a = Announce {
            info_hash: [0xFF; 20],
            peer_id: [b'-'; 20],
            port: 6881,
            uploaded: 0,
            downloaded: 0,
            left: u64::MAX,
            event: Event::Started,
            numwant: Some(50),
            key: 1,
            tracker_id: Some(text.to_string()),
            ip: None,
        };
        let url = announce_url(text, &a);
        assert!(url.starts_with(text));
        if let Some(s) = scrape_url(text, &[[0; 20]]) {
            assert!(s.contains("scrape"));
        }
    }
}

//! Arbitrary bytes as UDP tracker datagrams, fed to a client mid-announce or, when bit 2
//! of the first input byte is set, mid-scrape (BEP 15 action 2, of three torrents).
//!
//! Input: datagrams, each a length byte then that many bytes. Before each is handed to the
//! client, bytes 4..8 are set to the transaction id in flight when the first input byte is
//! odd (so fuzzing reaches past the transaction check), and left as they are otherwise.
//! A scrape answer never has more entries than torrents asked for.
//!
//! Invariants besides "never panics": a datagram the client takes was one it `accepts`;
//! at most one request is in flight, so each `poll_transmit` gives at most one datagram; a
//! client that is not busy has no timeout; every conclusion is reported once.

use std::time::{Duration, Instant};

use swarmget_bt_wire::tracker::{Announce, Event, UdpConfig, UdpEvent, UdpPacket, UdpTracker};

fn announce() -> Announce {
    Announce {
        info_hash: [1; 20],
        peer_id: [2; 20],
        port: 6881,
        uploaded: 0,
        downloaded: 0,
        left: 100,
        event: Event::None,
        numwant: None,
        key: 3,
        tracker_id: None,
        ip: None,
    }
}

/// Feeds `data`'s datagrams to a client as described in the module documentation.
pub fn run(data: &[u8]) {
    let _ = UdpPacket::parse(data);
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let patch = flags & 1 != 0;
    let t0 = Instant::now();
    let mut now = t0;
    let mut client = UdpTracker::new(
        UdpConfig {
            ipv6: flags & 2 != 0,
            ..UdpConfig::default()
        },
        7,
    );
    let scrape = flags & 4 != 0;
    let start = |client: &mut UdpTracker, now| {
        if scrape {
            client.scrape(now, vec![[1; 20], [2; 20], [3; 20]]);
        } else {
            client.announce(now, announce());
        }
    };
    start(&mut client, now);
    let mut last_tid = None;
    while let Some((&len, tail)) = rest.split_first() {
        let len = (len as usize).min(tail.len());
        let mut datagram = tail[..len].to_vec();
        rest = &tail[len..];
        if let Some(sent) = client.poll_transmit(now) {
            last_tid = Some(sent[12..16].to_vec());
            assert_eq!(client.poll_transmit(now), None);
        }
        if patch
            && datagram.len() >= 8
            && let Some(tid) = &last_tid
        {
            datagram[4..8].copy_from_slice(tid);
        }
        let accepted = client.accepts(&datagram);
        assert_eq!(client.handle_datagram(now, &datagram), accepted);
        let mut concluded = 0;
        while let Some(event) = client.poll_event() {
            concluded += 1;
            match event {
                UdpEvent::Announced(r) => assert!(r.peers.len() <= datagram.len() / 6),
                UdpEvent::Scraped(stats) => assert!(scrape && stats.len() <= 3),
                UdpEvent::Failed(_) => {}
            }
        }
        assert!(concluded <= 1);
        if !client.is_busy() {
            assert_eq!(client.poll_timeout(), None);
            start(&mut client, now);
        }
        now += Duration::from_secs(len as u64 * 3);
        client.handle_timeout(now);
    }
}

use super::super::Event;
use super::*;

fn announce() -> Announce {
    Announce {
        info_hash: [0xAA; 20],
        peer_id: [0xBB; 20],
        port: 6881,
        uploaded: 1,
        downloaded: 2,
        left: 3,
        event: Event::Started,
        numwant: None,
        key: 7,
        tracker_id: None,
        ip: None,
    }
}

/// (action, tid) of a request, as a tracker reads it.
fn request(p: &[u8]) -> (u32, u32) {
    (be32(p, 8), be32(p, 12))
}

fn connect_reply(tid: u32, id: u64) -> Vec<u8> {
    let mut p = CONNECT.to_be_bytes().to_vec();
    p.extend_from_slice(&tid.to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p
}

fn announce_reply(tid: u32, peers: &[u8]) -> Vec<u8> {
    let mut p = ANNOUNCE.to_be_bytes().to_vec();
    for n in [tid, 1800, 4, 9] {
        p.extend_from_slice(&n.to_be_bytes());
    }
    p.extend_from_slice(peers);
    p
}

#[test]
fn connect_then_announce() {
    let t0 = Instant::now();
    let mut c = UdpTracker::new(UdpConfig::default(), 42);
    c.announce(t0, announce());
    let connect = c.poll_transmit(t0).unwrap();
    assert_eq!(connect.len(), 16);
    assert_eq!(connect[..8], 0x41727101980u64.to_be_bytes());
    assert_eq!(c.poll_transmit(t0), None, "sent once until its timeout");
    let (action, tid) = (be32(&connect, 8), be32(&connect, 12));
    assert_eq!(action, CONNECT);

    assert!(
        !c.handle_datagram(t0, &connect_reply(tid ^ 1, 5)),
        "another transaction"
    );
    assert!(c.handle_datagram(t0, &connect_reply(tid, 0x1122_3344_5566_7788)));
    let req = c.poll_transmit(t0).unwrap();
    assert_eq!(req.len(), 98);
    assert_eq!(req[..8], 0x1122_3344_5566_7788u64.to_be_bytes());
    let (action, tid) = request(&req);
    assert_eq!(action, ANNOUNCE);
    assert_eq!(&req[16..36], &[0xAA; 20]);
    assert_eq!(be32(&req, 80), 2, "event started");
    assert_eq!(be32(&req, 84), 0, "IP: the sender's");
    let ip = Announce {
        ip: Some("1.2.3.4".parse().unwrap()),
        ..announce()
    };
    let with_ip = announce_request(7, 1, &ip);
    assert_eq!(with_ip[84..88], [1, 2, 3, 4], "--bt-external-ip");
    assert_eq!(
        be32(&req, 92),
        u32::MAX,
        "numwant -1: the tracker's default"
    );
    assert_eq!(req[96..98], 6881u16.to_be_bytes());

    let peers = [127, 0, 0, 1, 0x1A, 0xE1, 10, 0, 0, 2, 0, 80, 9];
    assert!(c.handle_datagram(t0, &announce_reply(tid, &peers)));
    match c.poll_event() {
        Some(UdpEvent::Announced(r)) => {
            assert_eq!(r.interval, Some(1800));
            assert_eq!((r.incomplete, r.complete), (Some(4), Some(9)));
            let peers: Vec<String> = r.peers.iter().map(|p| p.to_string()).collect();
            assert_eq!(peers, ["127.0.0.1:6881", "10.0.0.2:80"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(!c.is_busy());
}

#[test]
fn retransmissions_wait_15_times_2_to_the_n_then_fail() {
    let mut now = Instant::now();
    let mut c = UdpTracker::new(UdpConfig::default(), 1);
    c.announce(now, announce());
    let mut waits = Vec::new();
    loop {
        if c.poll_transmit(now).is_none() {
            break;
        }
        let deadline = c.poll_timeout().unwrap();
        waits.push(deadline.duration_since(now).as_secs());
        c.handle_timeout(deadline - Duration::from_millis(1));
        assert_eq!(c.poll_transmit(deadline), None, "not before the deadline");
        now = deadline;
        c.handle_timeout(now);
    }
    assert_eq!(waits, [15, 30, 60, 120, 240, 480, 960, 1920, 3840]);
    assert_eq!(
        c.poll_event(),
        Some(UdpEvent::Failed(TrackerError::Timeout(8)))
    );
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn connection_id_lasts_one_minute() {
    let t0 = Instant::now();
    let mut c = UdpTracker::new(UdpConfig::default(), 9);
    c.announce(t0, announce());
    let (_, tid) = (0, be32(&c.poll_transmit(t0).unwrap(), 12));
    c.handle_datagram(t0, &connect_reply(tid, 77));
    let (_, tid) = request(&c.poll_transmit(t0).unwrap());
    c.handle_datagram(t0, &announce_reply(tid, &[]));
    assert!(matches!(c.poll_event(), Some(UdpEvent::Announced(_))));

    let t59 = t0 + Duration::from_secs(59);
    c.announce(t59, announce());
    let direct = c.poll_transmit(t59).unwrap();
    assert_eq!(
        (direct.len(), direct[..8] == 77u64.to_be_bytes()),
        (98, true)
    );
    // Its retransmission falls after the id expired: it reconnects instead.
    let later = c.poll_timeout().unwrap();
    c.handle_timeout(later);
    assert_eq!(c.poll_transmit(later).unwrap().len(), 16);

    let t60 = t0 + Duration::from_secs(60);
    c.announce(t60, announce());
    assert_eq!(
        c.poll_transmit(t60).unwrap().len(),
        16,
        "expired: connect first"
    );
}

#[test]
fn error_action_and_scrape() {
    let t0 = Instant::now();
    let mut c = UdpTracker::new(UdpConfig::default(), 3);
    c.scrape(t0, vec![[1; 20], [2; 20]]);
    let tid = be32(&c.poll_transmit(t0).unwrap(), 12);
    c.handle_datagram(t0, &connect_reply(tid, 5));
    let req = c.poll_transmit(t0).unwrap();
    assert_eq!(req.len(), 16 + 40);
    let (action, tid) = request(&req);
    assert_eq!(action, SCRAPE);
    let mut reply = SCRAPE.to_be_bytes().to_vec();
    // A third entry, for a torrent not asked about, is left out.
    for n in [tid, 1, 2, 3, 4, 5, 6, 7, 8, 9] {
        reply.extend_from_slice(&n.to_be_bytes());
    }
    // An announce answer to a scrape is not accepted, nor routed to this tracker.
    assert!(!c.accepts(&announce_reply(tid, &[])));
    assert!(!c.handle_datagram(t0, &announce_reply(tid, &[])));
    assert!(c.accepts(&reply));
    assert!(c.handle_datagram(t0, &reply));
    assert_eq!(
        c.poll_event(),
        Some(UdpEvent::Scraped(vec![
            ScrapeStats {
                complete: 1,
                downloaded: 2,
                incomplete: 3
            },
            ScrapeStats {
                complete: 4,
                downloaded: 5,
                incomplete: 6
            },
        ]))
    );

    c.announce(t0, announce());
    let (_, tid) = request(&c.poll_transmit(t0).unwrap());
    let mut err = ERROR.to_be_bytes().to_vec();
    err.extend_from_slice(&tid.to_be_bytes());
    err.extend_from_slice(b"torrent not registered");
    assert!(c.handle_datagram(t0, &err));
    assert_eq!(
        c.poll_event(),
        Some(UdpEvent::Failed(TrackerError::Failure(
            "torrent not registered".into()
        )))
    );
}

#[test]
fn packets_too_short_are_refused() {
    assert_eq!(
        UdpPacket::parse(&[0; 7]),
        Err(TrackerError::BadPacket("shorter than 8 bytes"))
    );
    assert_eq!(
        UdpPacket::parse(&[0; 12]),
        Err(TrackerError::BadPacket("truncated"))
    );
    let mut odd = 9u32.to_be_bytes().to_vec();
    odd.extend_from_slice(&[0; 4]);
    assert_eq!(
        UdpPacket::parse(&odd),
        Err(TrackerError::BadPacket("unknown action"))
    );
    assert_eq!(compact_peers(&[0; 19], true).len(), 1);
}

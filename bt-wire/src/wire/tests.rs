use proptest::prelude::*;

use super::*;

fn encode(m: &Message<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    m.encode(&mut out);
    out
}

fn limits(pieces: u32) -> Limits {
    Limits::default().with_piece_count(pieces)
}

/// Every message the crate knows, for a torrent of 20 pieces.
fn every_message<'a>(block: &'a [u8], bits: &'a [u8], ext: &'a [u8]) -> Vec<Message<'a>> {
    let r = BlockRequest {
        index: 3,
        begin: 16384,
        length: 16384,
    };
    vec![
        Message::KeepAlive,
        Message::Choke,
        Message::Unchoke,
        Message::Interested,
        Message::NotInterested,
        Message::Have(19),
        Message::Bitfield(bits),
        Message::Request(r),
        Message::Piece {
            index: 1,
            begin: 0,
            data: block,
        },
        Message::Cancel(r),
        Message::Port(6881),
        Message::Suggest(2),
        Message::HaveAll,
        Message::HaveNone,
        Message::Reject(r),
        Message::AllowedFast(7),
        Message::Extended {
            id: 0,
            payload: ext,
        },
        Message::Unknown {
            id: 99,
            payload: b"??",
        },
    ]
}

#[test]
fn every_message_round_trips_with_its_wire_bytes() {
    let block = vec![0xAB; 16384];
    let bits = [0xFF, 0xFF, 0xF0];
    let all = every_message(&block, &bits, b"de");
    let mut d = FrameDecoder::new(limits(20));
    for m in &all {
        d.extend(&encode(m));
    }
    for m in &all {
        assert_eq!(d.next().unwrap().as_ref(), Some(m));
    }
    assert_eq!(d.next(), Ok(None));
    assert_eq!(d.buffered(), 0);
    // Spot-check the bytes against BEP 3 and BEP 6.
    assert_eq!(encode(&Message::Have(1)), [0, 0, 0, 5, 4, 0, 0, 0, 1]);
    assert_eq!(encode(&Message::HaveAll), [0, 0, 0, 1, 0x0E]);
    assert_eq!(encode(&Message::Port(0x1AE1)), [0, 0, 0, 3, 9, 0x1A, 0xE1]);
    assert_eq!(
        &encode(&Message::Piece {
            index: 1,
            begin: 2,
            data: b"xyz"
        })[..13],
        piece_header(1, 2, 3)
    );
}

#[test]
fn lengths_are_refused_from_the_header_alone() {
    let mut d = FrameDecoder::new(limits(20));
    // A 4 GiB piece: refused with only five bytes seen.
    d.extend(&[0xFF, 0xFF, 0xFF, 0xFF, 7]);
    assert_eq!(
        d.next(),
        Err(WireError::TooLong {
            length: u32::MAX,
            max: 2 + 128 * 1024
        })
    );
    // Before the id arrives, a length beyond every message is already refused.
    let mut d = FrameDecoder::new(limits(20));
    d.extend(&[0x7F, 0, 0, 0]);
    assert!(matches!(d.next(), Err(WireError::TooLong { .. })));
    // A `have` must be exactly five bytes long.
    let mut d = FrameDecoder::new(limits(20));
    d.extend(&[0, 0, 0, 6, 4]);
    assert!(matches!(
        d.next(),
        Err(WireError::BadLength {
            id: 4,
            length: 6,
            ..
        })
    ));
    // A block one byte over 16 KiB.
    let mut big = Vec::new();
    Message::Piece {
        index: 0,
        begin: 0,
        data: &vec![0; 16385],
    }
    .encode(&mut big);
    let mut d = FrameDecoder::new(limits(20));
    d.extend(&big[..5]);
    assert!(matches!(d.next(), Err(WireError::BadLength { id: 7, .. })));
    // A request for more than a block.
    let req = BlockRequest {
        index: 0,
        begin: 0,
        length: 16385,
    };
    let mut d = FrameDecoder::new(limits(20));
    d.extend(&encode(&Message::Request(req)));
    assert!(matches!(
        d.next(),
        Err(WireError::BadLength {
            id: 6,
            length: 16385,
            ..
        })
    ));
}

#[test]
fn bitfields_are_checked_against_the_piece_count() {
    let mut d = FrameDecoder::new(limits(20));
    d.extend(&encode(&Message::Bitfield(&[0xFF, 0xFF])));
    assert!(matches!(
        d.next(),
        Err(WireError::BadLength {
            id: 5,
            length: 3,
            min: 4,
            max: 4
        })
    ));
    let mut d = FrameDecoder::new(limits(20));
    d.extend(&encode(&Message::Bitfield(&[0xFF, 0xFF, 0xF8])));
    assert_eq!(d.next(), Err(WireError::SpareBitsSet));
    let mut d = FrameDecoder::new(limits(20));
    d.extend(&encode(&Message::Have(20)));
    assert_eq!(
        d.next(),
        Err(WireError::PieceIndex {
            index: 20,
            count: 20
        })
    );
    // Without a piece count (magnet, before metadata) any bitfield up to the bound passes.
    let mut d = FrameDecoder::new(Limits::default());
    d.extend(&encode(&Message::Bitfield(&[0xFF; 3])));
    assert_eq!(d.next(), Ok(Some(Message::Bitfield(&[0xFF; 3]))));
}

#[test]
fn handshake_bits_and_early_refusal() {
    let h = Handshake::new([1; 20], [2; 20], true);
    assert!(h.fast() && h.extension_protocol() && h.dht());
    let bytes = h.encode();
    assert_eq!(&bytes[..20], PROTOCOL);
    assert_eq!(bytes[20..28], [0, 0, 0, 0, 0, 0x10, 0, 0x05]);
    let mut d = FrameDecoder::new(limits(1));
    d.extend(&bytes[..30]);
    assert_eq!(d.handshake(), Ok(None));
    d.extend(&bytes[30..]);
    d.extend(&encode(&Message::HaveAll));
    assert_eq!(d.handshake(), Ok(Some(h)));
    assert_eq!(d.next(), Ok(Some(Message::HaveAll)));
    assert!(!Handshake::new([0; 20], [0; 20], false).dht());
    assert_eq!(
        Handshake::parse(b"\x13BitTorrent protoXol"),
        Err(WireError::BadHandshake)
    );
    assert_eq!(
        Handshake::parse(b"GET / HTTP/1.1"),
        Err(WireError::BadHandshake)
    );
}

#[test]
fn extension_handshake_fields() {
    let mut h = ExtensionHandshake::default();
    h.m.insert("ut_metadata".into(), 3);
    h.m.insert("ut_pex".into(), 0);
    h.v = Some("swarmget 0.1".into());
    h.p = Some(6881);
    h.reqq = Some(250);
    h.metadata_size = Some(31_235);
    h.yourip = Some(vec![127, 0, 0, 1]);
    let bytes = h.encode();
    assert_eq!(ExtensionHandshake::parse(&bytes), Ok(h.clone()));
    assert_eq!(h.id_of("ut_metadata"), Some(3));
    assert_eq!(h.id_of("ut_pex"), None, "0 disables");
    // A libtorrent-style handshake with fields of its own and an id out of range.
    let lt = b"d1:md11:lt_donthavei7e6:ut_foo3:bar6:ut_bigi300ee1:pi6881e4:reqqi500e1:v16:libtorrent 2.0.9e";
    let parsed = ExtensionHandshake::parse(lt).unwrap();
    assert_eq!(parsed.id_of("lt_donthave"), Some(7));
    assert_eq!(parsed.m.len(), 1);
    assert_eq!(parsed.reqq, Some(500));
    assert_eq!(
        ExtensionHandshake::parse(b"le"),
        Err(WireError::BadExtensionHandshake("not a dictionary"))
    );
}

/// (kind, a, b, c, payload) → a message for a torrent of 64 pieces.
fn build(kind: u8, a: u32, b: u32, c: u32, payload: &[u8]) -> Message<'_> {
    let r = BlockRequest {
        index: a % 64,
        begin: b,
        length: c % 16385,
    };
    match kind % 18 {
        0 => Message::KeepAlive,
        1 => Message::Choke,
        2 => Message::Unchoke,
        3 => Message::Interested,
        4 => Message::NotInterested,
        5 => Message::Have(a % 64),
        6 => Message::Bitfield(&payload[..8.min(payload.len())]),
        7 => Message::Request(r),
        8 => Message::Piece {
            index: a % 64,
            begin: b,
            data: payload,
        },
        9 => Message::Cancel(r),
        10 => Message::Port(a as u16),
        11 => Message::Suggest(a % 64),
        12 => Message::HaveAll,
        13 => Message::HaveNone,
        14 => Message::Reject(r),
        15 => Message::AllowedFast(a % 64),
        16 => Message::Extended {
            id: b as u8,
            payload,
        },
        _ => Message::Unknown {
            id: 100 + (c % 100) as u8,
            payload,
        },
    }
}

fn messages() -> impl Strategy<Value = Vec<(u8, u32, u32, u32, Vec<u8>)>> {
    prop::collection::vec(
        (
            any::<u8>(),
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            prop::collection::vec(any::<u8>(), 8..200),
        ),
        0..24,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// decode ∘ encode is the identity, whatever the chunking of the stream.
    #[test]
    fn split_stream_decodes_to_what_was_encoded(specs in messages(), cuts in prop::collection::vec(1usize..300, 0..40)) {
        let msgs: Vec<Message<'_>> = specs.iter().map(|(k, a, b, c, p)| build(*k, *a, *b, *c, p)).collect();
        let mut stream = Vec::new();
        for m in &msgs {
            m.encode(&mut stream);
        }
        let mut d = FrameDecoder::new(limits(64));
        let mut got: Vec<Vec<u8>> = Vec::new();
        let mut rest = stream.as_slice();
        let mut cuts = cuts.into_iter();
        while !rest.is_empty() {
            let n = cuts.next().unwrap_or(rest.len()).min(rest.len());
            d.extend(&rest[..n]);
            rest = &rest[n..];
            while let Some(m) = d.next().unwrap() {
                got.push(encode(&m));
            }
        }
        let want: Vec<Vec<u8>> = msgs.iter().map(encode).collect();
        prop_assert_eq!(got, want);
        prop_assert_eq!(d.buffered(), 0);
    }

    /// Arbitrary bytes never panic the decoder, and it never holds a frame beyond its limits.
    #[test]
    fn arbitrary_bytes_are_refused_or_decoded(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut d = FrameDecoder::new(limits(64));
        d.extend(&bytes);
        while let Ok(Some(_)) = d.next() {}
    }
}

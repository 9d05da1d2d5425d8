use sha1::{Digest, Sha1};

use super::ut_metadata::{METADATA_PIECE, piece_count};
use super::ut_pex::{MAX_PEERS, flags};
use super::*;

#[test]
fn metadata_messages_round_trip_and_match_bep_9() {
    let request = MetadataMessage::parse(b"d8:msg_typei0e5:piecei0ee").unwrap();
    assert_eq!(request, MetadataMessage::Request { piece: 0 });
    let data = b"d8:msg_typei1e5:piecei0e10:total_sizei3eexyz";
    assert_eq!(
        MetadataMessage::parse(data).unwrap(),
        MetadataMessage::Data {
            piece: 0,
            total_size: 3,
            data: b"xyz"
        }
    );
    for m in [
        MetadataMessage::Request { piece: 5 },
        MetadataMessage::Reject { piece: 1 },
        MetadataMessage::Data {
            piece: 1,
            total_size: METADATA_PIECE as u64 + 2,
            data: b"ab",
        },
    ] {
        let mut out = Vec::new();
        m.encode(&mut out);
        assert_eq!(MetadataMessage::parse(&out), Ok(m));
    }
}

#[test]
fn oversized_metadata_and_wrong_piece_lengths_are_refused() {
    let huge = format!(
        "d8:msg_typei1e5:piecei0e10:total_sizei{}ee",
        MAX_METADATA_SIZE + 1
    );
    assert_eq!(
        MetadataMessage::parse(huge.as_bytes()),
        Err(ExtensionError::MetadataSize {
            size: MAX_METADATA_SIZE + 1,
            max: MAX_METADATA_SIZE
        })
    );
    assert!(matches!(
        MetadataAssembler::<u8>::new([0; 20], MAX_METADATA_SIZE + 1),
        Err(ExtensionError::MetadataSize { .. })
    ));
    let short = b"d8:msg_typei1e5:piecei0e10:total_sizei5eexyz";
    assert_eq!(
        MetadataMessage::parse(short),
        Err(ExtensionError::PieceLength {
            piece: 0,
            got: 3,
            expected: 5
        })
    );
    let beyond = b"d8:msg_typei1e5:piecei1e10:total_sizei5ee";
    assert!(matches!(
        MetadataMessage::parse(beyond),
        Err(ExtensionError::PieceIndex { piece: 1, last: 0 })
    ));
}

fn info(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn feed(
    assembler: &mut MetadataAssembler<u8>,
    metadata: &[u8],
    peer_of: impl Fn(u32) -> u8,
) -> Progress<u8> {
    let mut last = Progress::NeedMore;
    for piece in 0..piece_count(metadata.len() as u64) {
        let chunk = metadata.chunks(METADATA_PIECE).nth(piece as usize).unwrap();
        last = assembler
            .add_piece(peer_of(piece), piece, metadata.len() as u64, chunk)
            .unwrap();
    }
    last
}

#[test]
fn metadata_is_handed_out_only_once_it_hashes_to_the_info_hash() {
    let metadata = info(3 * METADATA_PIECE + 100);
    let info_hash: [u8; 20] = Sha1::digest(&metadata).into();
    let mut a = MetadataAssembler::new(info_hash, metadata.len() as u64).unwrap();
    assert_eq!(a.next_request(1), Some(0));
    assert_eq!(a.next_request(2), Some(1));
    a.release(1);
    assert_eq!(
        a.next_request(3),
        Some(0),
        "released pieces are asked again"
    );

    // Peer 9 lies in every piece: the whole is discarded and peer 9 refused.
    let mut bad = metadata.clone();
    bad[5] ^= 1;
    assert_eq!(feed(&mut a, &bad, |_| 9), Progress::HashMismatch(vec![9]));
    assert!(a.is_banned(9));
    assert_eq!(a.next_request(9), None);
    // A liar mixed with an honest peer: discarded, both named, neither banned.
    assert_eq!(
        feed(&mut a, &bad, |p| if p == 0 { 4 } else { 5 }),
        Progress::HashMismatch(vec![4, 5])
    );
    assert!(!a.is_banned(4) && !a.is_banned(5));
    // Then honest peers deliver.
    assert_eq!(
        feed(&mut a, &metadata, |p| p as u8),
        Progress::Complete(metadata.clone())
    );
}

#[test]
fn a_piece_for_another_size_is_refused() {
    let mut a = MetadataAssembler::<u8>::new([0; 20], 100).unwrap();
    assert_eq!(
        a.add_piece(1, 0, 101, &[0; 100]),
        Err(ExtensionError::SizeMismatch {
            got: 101,
            expected: 100
        })
    );
}

#[test]
fn pex_round_trips_with_flags_and_bounds_its_lists() {
    let m = PexMessage {
        added: vec![
            PexPeer {
                addr: "192.0.2.1:6881".parse().unwrap(),
                flags: flags::SEED | flags::REACHABLE,
            },
            PexPeer {
                addr: "[2001:db8::1]:51413".parse().unwrap(),
                flags: flags::UTP,
            },
        ],
        dropped: vec!["198.51.100.2:1".parse().unwrap()],
    };
    assert_eq!(PexMessage::parse(&m.encode()), Ok(m));

    // Flags may be missing.
    let bare = b"d5:added6:\xc0\x00\x02\x01\x1a\xe1e";
    assert_eq!(PexMessage::parse(bare).unwrap().added[0].flags, 0);

    let mut long = b"d5:added".to_vec();
    let n = MAX_PEERS + 1;
    long.extend_from_slice(format!("{}:", n * 6).as_bytes());
    long.extend(std::iter::repeat_n(1u8, n * 6));
    long.push(b'e');
    assert_eq!(
        PexMessage::parse(&long),
        Err(ExtensionError::TooManyPeers {
            list: "added",
            count: n,
            max: MAX_PEERS
        })
    );
    assert_eq!(
        PexMessage::parse(b"d5:added5:abcdee"),
        Err(ExtensionError::Field("added"))
    );
}

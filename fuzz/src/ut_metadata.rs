//! Arbitrary bytes as a BEP 9 `ut_metadata` message, and as a piece for the metadata
//! assembler.
//!
//! Invariants checked besides "never panics":
//! - a message that parses re-encodes to bytes that parse to the same message;
//! - a data piece is never longer than 16 KiB and its size never over 16 MiB;
//! - the assembler completes only with bytes whose SHA-1 is the info-hash: fed a
//!   one-piece metadata under its own hash it completes with exactly those bytes, under
//!   any other hash it reports a mismatch.

use sha1::{Digest, Sha1};
use swarmget_bt_wire::extension::{
    MAX_METADATA_SIZE, METADATA_PIECE, MetadataAssembler, MetadataMessage, Progress,
};

/// Parses `data` as described in the module documentation.
pub fn run(data: &[u8]) {
    let Ok(message) = MetadataMessage::parse(data) else {
        return;
    };
    let mut again = Vec::new();
    message.encode(&mut again);
    assert_eq!(MetadataMessage::parse(&again), Ok(message));
    let MetadataMessage::Data {
        piece,
        total_size,
        data: bytes,
    } = message
    else {
        return;
    };
    assert!(bytes.len() <= METADATA_PIECE && total_size <= MAX_METADATA_SIZE);
    let hash: [u8; 20] = Sha1::digest(bytes).into();
    for (info_hash, honest) in [(hash, true), ([0; 20], hash == [0; 20])] {
        let mut a = MetadataAssembler::new(info_hash, total_size).expect("size was checked");
        let progress = a
            .add_piece(1u8, piece, total_size, bytes)
            .expect("piece was checked");
        let whole = total_size as usize == bytes.len();
        match progress {
            Progress::Complete(got) => assert!(whole && honest && got == bytes),
            Progress::HashMismatch(peers) => assert!(whole && !honest && peers == [1]),
            Progress::NeedMore => assert!(!whole),
        }
    }
}

//! Fuzz body: SHA-1 of two inputs made together (`Hasher::update_pair`, the two-stream
//! compression of `engine/src/digest/sha1_pair.rs`) is each input's SHA-1 as the `sha1`
//! crate makes it alone, however the inputs are cut into calls.
//!
//! The first byte splits the rest into the two inputs; the next bytes (one per call,
//! cycled) give each call's lengths, so the fuzzer reaches partial blocks pending on
//! either side, calls where one side is empty, and long runs of whole blocks.

use sha1::Digest as _;
use swarmget_engine::digest::{HashKind, Hasher};

/// Hashes the two inputs `data` encodes, paired, and checks both digests.
pub fn run(data: &[u8]) {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = (split as usize * rest.len()) / 255;
    let (a, b) = rest.split_at(cut);
    // Call lengths come from the inputs' own bytes: any byte pattern is a schedule.
    let steps: Vec<(usize, usize)> = rest
        .chunks(2)
        .map(|p| (step(p[0]), step(*p.get(1).unwrap_or(&0))))
        .chain(std::iter::once((64, 64)))
        .collect();
    let (mut x, mut y) = (Hasher::new(HashKind::Sha1), Hasher::new(HashKind::Sha1));
    let (mut at_a, mut at_b) = (0, 0);
    for &(na, nb) in steps.iter().cycle() {
        if at_a == a.len() && at_b == b.len() {
            break;
        }
        let end_a = (at_a + na).min(a.len());
        let end_b = (at_b + nb).min(b.len());
        Hasher::update_pair(&mut x, &a[at_a..end_a], &mut y, &b[at_b..end_b]);
        (at_a, at_b) = (end_a, end_b);
    }
    assert_eq!(
        x.finish().bytes,
        sha1::Sha1::digest(a).to_vec(),
        "first input"
    );
    assert_eq!(
        y.finish().bytes,
        sha1::Sha1::digest(b).to_vec(),
        "second input"
    );
}

/// A call's length from one byte: small lengths around a block, or whole runs of
/// blocks, so both the pending-block paths and the paired compression are reached.
fn step(byte: u8) -> usize {
    match byte % 4 {
        0 => (byte as usize) % 130,
        1 => 64 * (1 + (byte as usize >> 2)),
        _ => 1 + (byte as usize >> 2),
    }
}

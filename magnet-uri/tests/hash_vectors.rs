//! Hash values against the reference text and against `rhash`.
//!
//! The inputs are prefixes of one pseudo-random stream, cut at sizes that sit on and
//! around every boundary the algorithms care about: TTH leaves (1024), AICH blocks
//! (184,320) and ed2k/AICH parts (9,728,000).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use swarmget_magnet_uri::hash::{Algorithms, Digests, Hasher, hash_reader};
use swarmget_magnet_uri::{ExactTopic, Magnet};

const SIZES: [usize; 11] = [
    0, 1, 1023, 1024, 1025, 184_320, 184_321, 9_728_000, 9_728_001, 19_456_000, 20_000_000,
];

/// What `rhash --magnet --crc32 --md5 --sha1 --tth --ed2k --aich size-N.bin` (RHash 1.4.3)
/// printed for these inputs, in `SIZES` order.
const RHASH: [&str; 11] = [
    "magnet:?xl=0&dn=size-0.bin&xt=urn:crc32:00000000&xt=urn:md5:d41d8cd98f00b204e9800998ecf8427e&xt=urn:sha1:3i42h3s6nnfq2msvx7xzkyayscx5qbyj&xt=urn:tree:tiger:lwpnacqdbzryxw3vhjvcj64qbznghohhhzwclnq&xt=urn:ed2k:31d6cfe0d16ae931b73c59d7e0c089c0&xt=urn:aich:3i42h3s6nnfq2msvx7xzkyayscx5qbyj",
    "magnet:?xl=1&dn=size-1.bin&xt=urn:crc32:7a6530d8&xt=urn:md5:3beb9cf0eab8cbf2215990b4a6bdc271&xt=urn:sha1:eqol23p3nzj4ipdtwyxzhbbvsci5zp2w&xt=urn:tree:tiger:se5wg7c7czihnshccqc6bze6zri3x3f7izppt6a&xt=urn:ed2k:498c221469eb77be346f3a2e65c1821c&xt=urn:aich:eqol23p3nzj4ipdtwyxzhbbvsci5zp2w",
    "magnet:?xl=1023&dn=size-1023.bin&xt=urn:crc32:40dbdef5&xt=urn:md5:d591047f72defb791a92e6c9b3797952&xt=urn:sha1:v35y6u35jmbrstd62xa3ofx2uu62oy6w&xt=urn:tree:tiger:dn3sywdclzorg3mizdg3ovpknsfoa3qa2zhbr7i&xt=urn:ed2k:5d1b0bd704ba764aea921acfe72f0870&xt=urn:aich:v35y6u35jmbrstd62xa3ofx2uu62oy6w",
    "magnet:?xl=1024&dn=size-1024.bin&xt=urn:crc32:a9f31ffd&xt=urn:md5:8fa6db0a3b35c6877b2d69f102295950&xt=urn:sha1:muc42pqztkv6ogkqgzbyn7n7wn2xlwdu&xt=urn:tree:tiger:bfh6igxu2eruhxmowzovemr3zaks3jmhe5ff2cq&xt=urn:ed2k:a2ecd3fe1eb12987c0986e55157a8519&xt=urn:aich:muc42pqztkv6ogkqgzbyn7n7wn2xlwdu",
    "magnet:?xl=1025&dn=size-1025.bin&xt=urn:crc32:a7c1bf0e&xt=urn:md5:0eaf0e3f8cfdd0b5c2aaed955b61b798&xt=urn:sha1:ytoto42nsl63qh6oeboeg5orcsrkge5u&xt=urn:tree:tiger:iq2vdfbjlt63xjsjbbj6vdcdt2lrtgwatfrrzja&xt=urn:ed2k:ce8dffedab98dff4cea01e7811cbc1b5&xt=urn:aich:ytoto42nsl63qh6oeboeg5orcsrkge5u",
    "magnet:?xl=184320&dn=size-184320.bin&xt=urn:crc32:5d2b34bc&xt=urn:md5:c074150becaf1615935cdb00cc0d592f&xt=urn:sha1:27hdrhxgxgoz7cfkkaaovb3xuesetodp&xt=urn:tree:tiger:hl2a4yc7shj2d2bz4e5qm7cjf5sqppdl55tikri&xt=urn:ed2k:0a6b3a40d8dc77ad41de48275eac645f&xt=urn:aich:27hdrhxgxgoz7cfkkaaovb3xuesetodp",
    "magnet:?xl=184321&dn=size-184321.bin&xt=urn:crc32:74e393de&xt=urn:md5:3b6fa82390630a1fcc355013cff5f3ec&xt=urn:sha1:p7qg4kcuvud5vmrg7tffmqxhqkziizt2&xt=urn:tree:tiger:yqhnbjt6upzgq2dmywqylwjxwris3odrsgir7oq&xt=urn:ed2k:85ec956d65f6c92f42f33cba5f69f425&xt=urn:aich:oc3tyrol2nwnfi4rp267f5zjo55z2p2e",
    "magnet:?xl=9728000&dn=size-9728000.bin&xt=urn:crc32:3f8e5706&xt=urn:md5:7dd90cc23de38ad6faae7e5d7bd80b97&xt=urn:sha1:3zs5yriynriwb7i5ivs7dv5bprwhqy3o&xt=urn:tree:tiger:hg7hxb5zx6iwmrcbhv3ib6v47yhfe4sbeq7bnfa&xt=urn:ed2k:da271219a3b00095f2206a514bacd738&xt=urn:aich:73y3m24ujikyhegddz4njf3nwmvo3il2",
    "magnet:?xl=9728001&dn=size-9728001.bin&xt=urn:crc32:abe1d97e&xt=urn:md5:5a419e6dbe51371f956473606e25f8d9&xt=urn:sha1:7bcfy4d3qnirlgoquabymh7ossban3ti&xt=urn:tree:tiger:em2367svoxj2a7azby5tuha6uhig2occy4gzbbi&xt=urn:ed2k:b9c923a1987f1d051b5dc2971a4625ea&xt=urn:aich:gk5bpeaxorpjqn4u5hymowzfvkokzf23",
    "magnet:?xl=19456000&dn=size-19456000.bin&xt=urn:crc32:c339d54d&xt=urn:md5:75b27e6360e0853665c3ea046b2a0758&xt=urn:sha1:6wylorgu5l77ssgmaaow5grrai6yl2tm&xt=urn:tree:tiger:zalzspzpk36yl3fzkutfrj6vgcl5jmyj7ukdwvi&xt=urn:ed2k:94dfb3e5a65a3ff48d47b54adfcec203&xt=urn:aich:paim5orhwm7gflyfxyyabaxbrvludozs",
    "magnet:?xl=20000000&dn=size-20000000.bin&xt=urn:crc32:9e5c865a&xt=urn:md5:4fcf2b2de044289c4d5429b89d42b705&xt=urn:sha1:6qndxdruxqd4vpfbs2swovmexry2exp2&xt=urn:tree:tiger:via3nje7wcsa73zh5co6w4wkdhec3nsi53p557q&xt=urn:ed2k:3eb37d17f8d82d68cf3f891ca861d46d&xt=urn:aich:vjtfgfj5sxbrugu4ef5staifuy6zvkhj",
];

/// xorshift64 from a fixed seed, little-endian words: the same bytes on every machine.
fn stream() -> &'static [u8] {
    static DATA: OnceLock<Vec<u8>> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut data = Vec::with_capacity(20_000_000);
        while data.len() < 20_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            data.extend_from_slice(&state.to_le_bytes());
        }
        data
    })
}

/// Digests of every prefix in `SIZES`, from one pass: the hasher is cloned at each cut.
fn prefix_digests() -> Vec<Digests> {
    let data = stream();
    let mut hasher = Hasher::new(Algorithms::ALL);
    let mut done = 0;
    let mut out = Vec::new();
    for size in SIZES {
        // Uneven update sizes, so no boundary lines up with an update.
        for piece in data[done..size].chunks(777_777) {
            hasher.update(piece);
        }
        done = size;
        out.push(hasher.clone().finish());
    }
    out
}

fn link(size: usize, digests: &Digests) -> String {
    Magnet::from_hashes(&format!("size-{size}.bin"), size as u64, digests).to_string()
}

#[test]
fn empty_file_matches_the_reference_text() {
    let d = Hasher::new(Algorithms::ALL).finish();
    let reference = Magnet::parse(
        "magnet:?xt=urn:ed2k:31D6CFE0D16AE931B73C59D7E0C089C0&xl=0&dn=zero_len.fil\
         &xt=urn:bitprint:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ.LWPNACQDBZRYXW3VHJVCJ64QBZNGHOHHHZWCLNQ\
         &xt=urn:md5:D41D8CD98F00B204E9800998ECF8427E",
    )
    .unwrap();
    let group = reference.first().unwrap();
    assert_eq!(group.exact_length, Some(d.size));
    assert!(
        group
            .exact_topics
            .contains(&ExactTopic::Ed2k(d.ed2k.unwrap()))
    );
    assert!(
        group
            .exact_topics
            .contains(&ExactTopic::Md5(d.md5.unwrap()))
    );
    assert!(group.exact_topics.contains(&ExactTopic::Bitprint {
        sha1: d.sha1.unwrap(),
        tth: d.tth.unwrap()
    }));
    // AICH of a file of at most one block is its SHA-1.
    assert_eq!(d.aich, d.sha1);
    assert_eq!(d.crc32, Some(0));
}

#[test]
fn awkward_sizes_match_recorded_rhash_output() {
    for ((size, digests), expected) in SIZES.into_iter().zip(prefix_digests()).zip(RHASH) {
        assert_eq!(link(size, &digests), expected, "size {size}");
        // And the parser reads rhash's link back to the same values.
        assert_eq!(
            Magnet::parse(expected).unwrap(),
            Magnet::from_hashes(&format!("size-{size}.bin"), size as u64, &digests)
        );
    }
}

#[test]
fn two_thread_reader_matches_the_single_hasher() {
    let digests = prefix_digests();
    // Sizes around the 1 MiB read buffer decide between one and two threads.
    for (size, expected) in SIZES
        .into_iter()
        .zip(&digests)
        .filter(|(s, _)| *s > 1 << 20 || *s < 2000)
    {
        let got = hash_reader(&stream()[..size], Algorithms::ALL).unwrap();
        assert_eq!(&got, expected, "size {size}");
    }
    // One algorithm cannot be split; a subset is computed alone.
    let only_tth = hash_reader(
        &stream()[..3_000_000],
        Algorithms::NONE.with(swarmget_magnet_uri::hash::Algorithm::Tth),
    )
    .unwrap();
    let mut hasher = Hasher::new(Algorithms::NONE.with(swarmget_magnet_uri::hash::Algorithm::Tth));
    hasher.update(&stream()[..3_000_000]);
    assert_eq!(only_tth, hasher.finish());
    assert_eq!(only_tth.sha1, None);
}

/// Whether `rhash` runs here. Where it does not, the comparison is skipped with a note,
/// except under `CI=true`: `cargo xtask ci` installs rhash, so a missing one there means
/// the comparison stopped running, which must fail rather than pass unseen.
fn rhash_installed() -> bool {
    if Command::new("rhash").arg("--version").output().is_ok() {
        return true;
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "rhash is not installed, and under CI=true the comparison must run \
         (cargo xtask ci installs it)"
    );
    false
}

/// Runs the real `rhash` on files of the same bytes. Skipped, with a note, only where
/// `rhash` is not installed outside CI; the recorded output above is checked regardless.
#[test]
fn awkward_sizes_match_installed_rhash() {
    if !rhash_installed() {
        eprintln!("note: rhash not installed; comparing against recorded output only");
        return;
    }
    let dir = TempDir::new("rhash-compare");
    let mut files = Vec::new();
    for size in SIZES {
        let path = dir.0.join(format!("size-{size}.bin"));
        std::fs::write(&path, &stream()[..size]).unwrap();
        files.push(path);
    }
    let output = Command::new("rhash")
        .args([
            "--magnet", "--crc32", "--md5", "--sha1", "--tth", "--ed2k", "--aich",
        ])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "rhash failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), SIZES.len());
    for ((size, digests), line) in SIZES.into_iter().zip(prefix_digests()).zip(lines) {
        assert_eq!(link(size, &digests), line, "size {size}");
    }
}

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("swarmget-magnet-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

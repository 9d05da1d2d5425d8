//! parse(write(m)) == m for models built from every field the model has.

use std::num::NonZeroU64;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use swarmget_metalink::{
    File, FileName, Format, Hash, HashAlgorithm, Location, MetaUrl, Metalink, Origin, ParseOptions,
    Pieces, Priority, Publisher, Resource, Signature, Timestamp, Url, parse, write,
};

/// Text as the parser returns it: anything XML can carry (markup characters, CR,
/// tabs, non-ASCII, C1 controls), without surrounding XML white space.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 <>&\"'\\]=;/.é日\u{85}\u{1F600}\t\n\r-]{0,24}"
        .prop_map(|s| s.trim_matches([' ', '\t', '\r', '\n']).to_owned())
}

fn algorithm() -> impl Strategy<Value = HashAlgorithm> {
    prop::sample::select(HashAlgorithm::STRONGEST_FIRST.to_vec())
}

fn hash() -> impl Strategy<Value = Hash> {
    algorithm().prop_flat_map(|a| {
        vec(any::<u8>(), a.digest_len()).prop_map(move |bytes| Hash::new(a, bytes).unwrap())
    })
}

fn file_name() -> impl Strategy<Value = FileName> {
    vec("[a-zA-Z0-9 ._ü-]{1,10}", 1..4)
        .prop_filter_map("unsafe name", |parts| FileName::new(&parts.join("/")).ok())
}

fn url() -> impl Strategy<Value = Url> {
    (
        prop::sample::select(vec!["http", "https", "ftp"]),
        "[a-z][a-z0-9-]{0,10}(\\.[a-z]{2,3})?",
        option::of(1u16..),
        vec("[a-zA-Z0-9_.~ é%-]{0,8}", 0..4),
        option::of("[a-z0-9=&]{0,10}"),
    )
        .prop_filter_map("not a URL", |(scheme, host, port, path, query)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let query = query.map(|q| format!("?{q}")).unwrap_or_default();
            Url::parse(&format!(
                "{scheme}://{host}{port}/{}{query}",
                path.join("/")
            ))
            .ok()
        })
}

fn priority() -> impl Strategy<Value = Option<Priority>> {
    option::of((1u32..=999_999).prop_map(|p| Priority::new(p).unwrap()))
}

fn location() -> impl Strategy<Value = Option<Location>> {
    option::of("[a-zA-Z]{2}".prop_map(|l| Location::new(&l).unwrap()))
}

fn timestamp() -> impl Strategy<Value = Option<Timestamp>> {
    option::of(
        (-62_135_596_800i64..=253_402_300_799)
            .prop_map(|s| Timestamp::from_unix_seconds(s).unwrap()),
    )
}

/// Piece lists of `algorithm` and a length; their counts are fixed up to fit the
/// file's size in `file()`.
fn pieces_spec() -> impl Strategy<Value = (HashAlgorithm, u64, u8, usize)> {
    (algorithm(), 1u64..=1 << 40, any::<u8>(), 0usize..5)
}

fn build_pieces(
    (algorithm, length, seed, count): (HashAlgorithm, u64, u8, usize),
    size: Option<u64>,
) -> Pieces {
    // With a size, the count is what the size makes; keep it small by making the
    // pieces long enough.
    let (length, count) = match size {
        Some(size) => {
            let length = length.max(size.div_ceil(4)).max(1);
            (length, size.div_ceil(length) as usize)
        }
        None => (length, count),
    };
    let mut pieces = Pieces::new(algorithm, NonZeroU64::new(length).unwrap());
    for i in 0..count {
        let digest = vec![seed.wrapping_add(i as u8); algorithm.digest_len()];
        pieces.push(&Hash::new(algorithm, digest).unwrap()).unwrap();
    }
    pieces
}

fn resource() -> impl Strategy<Value = Resource> {
    (url(), location(), priority()).prop_map(|(url, location, priority)| Resource {
        url,
        location,
        priority,
    })
}

fn metaurl() -> impl Strategy<Value = MetaUrl> {
    (
        url(),
        prop_oneof![Just("torrent".to_owned()), text()],
        option::of(file_name()),
        priority(),
    )
        .prop_map(|(url, media_type, name, priority)| MetaUrl {
            url,
            media_type,
            name,
            priority,
        })
}

fn file() -> impl Strategy<Value = File> {
    let descriptive = (
        file_name(),
        option::of(any::<u64>()),
        option::of(text()),
        option::of(text()),
        vec(text(), 0..3),
        vec(text(), 0..3),
        option::of(text()),
        option::of((text(), option::of(text()))),
        option::of(text()),
    );
    let verification = (
        vec(hash(), 0..4),
        vec(pieces_spec(), 0..3),
        vec(resource(), 0..5),
        vec(metaurl(), 0..3),
        option::of((text(), text())),
    );
    (descriptive, verification).prop_map(
        |(
            (name, size, identity, version, languages, oses, description, publisher, copyright),
            (hashes, pieces, urls, metaurls, signature),
        )| File {
            name,
            size,
            identity,
            version,
            languages,
            oses,
            description,
            publisher: publisher.map(|(name, url)| Publisher { name, url }),
            copyright,
            hashes,
            pieces: pieces.into_iter().map(|p| build_pieces(p, size)).collect(),
            urls,
            metaurls,
            signature: signature.map(|(media_type, body)| Signature { media_type, body }),
        },
    )
}

fn metalink() -> impl Strategy<Value = Metalink> {
    (
        option::of(text()),
        option::of((url(), any::<bool>())),
        timestamp(),
        timestamp(),
        vec(file(), 1..4),
    )
        .prop_map(|(generator, origin, published, updated, files)| Metalink {
            generator,
            origin: origin.map(|(url, dynamic)| Origin { url, dynamic }),
            published,
            updated,
            files,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parse_of_write_is_identity(m in metalink()) {
        let xml = write(&m).unwrap();
        let parsed = parse(xml.as_bytes(), &ParseOptions::default())
            .unwrap_or_else(|e| panic!("{e}\n{xml}"));
        prop_assert_eq!(parsed.format, Format::V4);
        prop_assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        prop_assert_eq!(parsed.metalink, m);
    }
}

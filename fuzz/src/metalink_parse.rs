//! Fuzz body: parsing any bytes as a Metalink document never panics, what parses
//! keeps the model's promises (safe names, in-range priorities, piece lists that fit
//! the size), and writing it as Metalink 4 reads back to the same model.

use swarmget_metalink::{FileName, Limits, ParseOptions, Preferences, Protocol, Url, parse, write};

/// Parses `data` with a base URI (so relative URLs resolve) under small limits, then
/// checks the invariants and the write/parse round trip.
pub fn run(data: &[u8]) {
    let options = ParseOptions {
        base_uri: Url::parse("http://fuzz.example/dir/doc.meta4").ok(),
        // Small bounds keep each run fast and let the fuzzer reach them.
        limits: Limits {
            max_document_bytes: 1 << 20,
            max_nodes: 50_000,
            max_files: 1_000,
            max_sources_per_file: 1_000,
        },
    };
    let Ok(parsed) = parse(data, &options) else {
        return;
    };
    let metalink = &parsed.metalink;
    assert!(!metalink.files.is_empty());
    for file in &metalink.files {
        let name = file.name.as_str();
        assert!(
            FileName::new(name).is_ok(),
            "unsafe name {name:?} got through"
        );
        assert!(!name.split(['/', '\\']).any(|c| c == ".." || c.is_empty()));
        for metaurl in &file.metaurls {
            if let Some(member) = &metaurl.name {
                assert!(FileName::new(member.as_str()).is_ok());
            }
        }
        for hash in &file.hashes {
            assert_eq!(hash.bytes().len(), hash.algorithm().digest_len());
        }
        for pieces in &file.pieces {
            if let Some(size) = file.size {
                assert_eq!(pieces.expected_count(size), pieces.len() as u64);
            }
            assert_eq!(pieces.iter().count(), pieces.len());
        }
        let preferences = Preferences {
            locations: Preferences::parse_locations("de,us").unwrap_or_default(),
            protocol: Some(Protocol::Https),
            ..Preferences::default()
        };
        assert_eq!(file.ordered_urls(&preferences).len(), file.urls.len());
        assert_eq!(file.ordered_metaurls().len(), file.metaurls.len());
        if let Some(best) = file.strongest_hash() {
            assert!(
                file.hashes
                    .iter()
                    .all(|h| h.algorithm() <= best.algorithm())
            );
        }
    }

    let xml = match write(metalink) {
        Ok(xml) => xml,
        Err(e) => panic!("a parsed model cannot be written: {e}"),
    };
    // Every URL is absolute now, so no base is needed to read it back.
    match parse(xml.as_bytes(), &ParseOptions::default()) {
        Ok(again) => assert_eq!(
            &again.metalink, metalink,
            "round trip changed the model:\n{xml}"
        ),
        Err(e) => panic!("written document does not parse: {e}\n{xml}"),
    }
}

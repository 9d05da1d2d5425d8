//! Fuzz body: any text as a `Link` or `Digest` header value never panics; mirror
//! ordering is a permutation; a `Digest` value that parses formats to one that
//! parses back the same.

use swarmget_metalink::http::{
    MetalinkLinks, format_digest_header, parse_digest_header, parse_link_header,
};
use swarmget_metalink::{Preferences, Url};

/// Reads `data` (lossily as UTF-8, since header bytes arrive raw) as both headers.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(base) = Url::parse("http://fuzz.example/dir/file.iso") else {
        return;
    };

    if let Ok(links) = parse_link_header(&text, &base) {
        let metalink = MetalinkLinks::from_links(&links);
        let preferences = Preferences {
            locations: Preferences::parse_locations("de,jp").unwrap_or_default(),
            ..Preferences::default()
        };
        let ordered = metalink.ordered_mirrors(&preferences);
        assert_eq!(ordered.len(), metalink.mirrors.len());
        for mirror in &metalink.mirrors {
            assert!(ordered.iter().any(|m| std::ptr::eq(*m, mirror)));
        }
        assert!(metalink.mirrors.len() <= links.len());
    }

    if let Ok(hashes) = parse_digest_header(&text) {
        for pair in hashes.windows(2) {
            assert!(
                pair[0].algorithm() > pair[1].algorithm(),
                "not strongest first or repeated"
            );
        }
        let formatted = format_digest_header(&hashes);
        match parse_digest_header(&formatted) {
            Ok(again) => assert_eq!(again, hashes, "{formatted}"),
            Err(e) => panic!("formatted digest {formatted:?} does not parse: {e}"),
        }
    }
}

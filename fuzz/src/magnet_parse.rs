//! Fuzz body: parsing any text never panics, and a link that parses formats to a link
//! that parses back to the same value.

use swarmget_magnet_uri::Magnet;

/// Parses `data` as a magnet link; if it parses, checks the format/parse round trip.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(magnet) = Magnet::parse(text) else {
        return;
    };
    let formatted = magnet.to_string();
    match Magnet::parse(&formatted) {
        Ok(again) => assert_eq!(
            again, magnet,
            "{text:?} formatted as {formatted:?} reads back differently"
        ),
        Err(e) => panic!("{text:?} formatted as {formatted:?}, which does not parse: {e}"),
    }
}

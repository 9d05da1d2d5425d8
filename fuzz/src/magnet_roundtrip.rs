//! Fuzz body: formatting is stable — formatting the parse of a formatted link gives the
//! same string.

use swarmget_magnet_uri::Magnet;

/// Parses `data`; if it is a link, formats it, re-parses and re-formats, and requires
/// the two strings to be equal.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(magnet) = Magnet::parse(text) else {
        return;
    };
    let once = magnet.to_string();
    let Ok(reparsed) = Magnet::parse(&once) else {
        panic!("{text:?} formatted as {once:?}, which does not parse");
    };
    let twice = reparsed.to_string();
    assert_eq!(once, twice, "formatting {text:?} is not stable");
}

//! swarmget's fuzz targets as ordinary functions.
//!
//! Each module holds one target's body, `run(&[u8])`, which must never panic. The
//! libFuzzer binaries in `fuzz_targets/` call these (`cargo xtask fuzz <target>`), and
//! `tests/corpus.rs` replays every file of `corpus/<target>/` through them on the stable
//! toolchain, so a crash found once stays fixed.

pub mod bencode_decode;
pub mod bencode_roundtrip;
pub mod control_decode;
pub mod cookie_jar;
pub mod dht_file;
pub mod dns_answer;
pub mod ftp_reply;
pub mod http_response;
pub mod jsonrpc_request;
pub mod krpc_decode;
pub mod lpd_message;
pub mod magnet_parse;
pub mod metainfo_parse;
pub mod metalink_http_headers;
pub mod metalink_parse;
pub mod netrc_parse;
pub mod no_proxy_parse;
pub mod param_uri_expand;
pub mod peer_wire_decode;
pub mod proxy_reply;
pub mod proxy_uri_parse;
pub mod sha1_pair;
pub mod tracker_response;
pub mod udp_tracker_packet;
pub mod ut_metadata;
pub mod ut_pex;
pub mod websocket_frame;
pub mod xmlrpc_request;

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz_targets/<name>.rs` binary and corpus folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("bencode_decode", bencode_decode::run),
    ("bencode_roundtrip", bencode_roundtrip::run),
    ("control_decode", control_decode::run),
    ("cookie_jar", cookie_jar::run),
    ("dht_file", dht_file::run),
    ("dns_answer", dns_answer::run),
    ("ftp_reply", ftp_reply::run),
    ("http_response", http_response::run),
    ("jsonrpc_request", jsonrpc_request::run),
    ("lpd_message", lpd_message::run),
    ("krpc_decode", krpc_decode::run),
    ("magnet_parse", magnet_parse::run),
    ("metainfo_parse", metainfo_parse::run),
    ("metalink_http_headers", metalink_http_headers::run),
    ("metalink_parse", metalink_parse::run),
    ("netrc_parse", netrc_parse::run),
    ("no_proxy_parse", no_proxy_parse::run),
    ("param_uri_expand", param_uri_expand::run),
    ("peer_wire_decode", peer_wire_decode::run),
    ("proxy_reply", proxy_reply::run),
    ("proxy_uri_parse", proxy_uri_parse::run),
    ("sha1_pair", sha1_pair::run),
    ("tracker_response", tracker_response::run),
    ("udp_tracker_packet", udp_tracker_packet::run),
    ("ut_metadata", ut_metadata::run),
    ("ut_pex", ut_pex::run),
    ("websocket_frame", websocket_frame::run),
    ("xmlrpc_request", xmlrpc_request::run),
];

//! `cargo xtask bench metalink [--runs N] [--size-mib N] [--only TEXT]...`
//!
//! One file served by three loopback mirrors at once — nginx over HTTP, the same nginx
//! over HTTPS (a P-256 certificate from a test CA) and vsftpd over FTP — and described by
//! a generated Metalink 4 document with a SHA-256 of the whole file and SHA-1 chunk
//! checksums of 1 MiB. swarmget and aria2c each get the document with `-M` and the same
//! connection options; both verify chunks as they arrive (aria2c's
//! `--realtime-chunk-checksum` defaults to true, which the report states from aria2c's
//! own help). The machinery is [`super::compare`]'s.

use super::compare::{
    Case, Client, Options, Server, Setup, Source, Workload, compare, package_version, version,
};
use crate::meta4::{self, MetaFile};
use crate::nginx::{self, Nginx};
use crate::tls::TestPki;
use crate::vsftpd::{self, Vsftpd};

/// The chunk length of the document's SHA-1 checksums.
const PIECE_LEN: u64 = 1 << 20;

/// Twelve connections over the three mirrors, each client spreading them its own way.
/// `-x12` because aria2c counts its connections per host name, and all three mirrors
/// are 127.0.0.1; swarmget counts per mirror.
const SPLITS: [&[&str]; 1] = [&["-x12", "-s12", "-k1M"]];

/// For both clients: all three mirrors are one host, and aria2's default
/// `--metalink-enable-unique-protocol=true` keeps one scheme per host (swarmget before
/// it starts, aria2c once its first connection succeeds), which would leave one mirror.
const ALL_MIRRORS: &str = "--metalink-enable-unique-protocol=false";

pub fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse("metalink", args)?;
    let nginx_bin = nginx::binary()?;
    let vsftpd_bin = vsftpd::binary()?;
    let setup = Setup::prepare(options)?;
    let (data_dir, payload) = setup.big_payload()?;
    let pki = TestPki::generate(&setup.scratch.subdir("tls")?)?;
    let nginx = Nginx::start(
        &nginx_bin,
        &setup.scratch.path().join("nginx"),
        &data_dir,
        &pki,
    )?;
    let vsftpd = Vsftpd::start(&vsftpd_bin, &setup.scratch.path().join("vsftpd"), &data_dir)?;
    let server = Server {
        name: "nginx+vsftpd",
        pids: vec![nginx.pid(), vsftpd.pid()],
        description: format!(
            "three mirrors on 127.0.0.1: {} over HTTP and over HTTPS (P-256), {} \
             (anonymous FTP, passive mode, sendfile)",
            version("nginx", &["-v"]),
            package_version("vsftpd")
        ),
    };

    eprintln!("bench: hashing {} in 1 MiB chunks", payload.name);
    let doc = setup.scratch.path().join("bench.meta4");
    let urls = vec![
        nginx.url(false, &payload.name),
        nginx.url(true, &payload.name),
        vsftpd.url(&payload.name),
    ];
    let file = MetaFile::of(
        &payload.name,
        &data_dir.join(&payload.name),
        &payload,
        PIECE_LEN,
        urls,
    )?;
    meta4::write(&doc, &[file])?;

    let source = Source::Metalink(doc);
    let ca = Some(pki.ca.clone());
    let baseline = super::compare::baseline().map(|_| Client::Baseline);
    let mut cases = Vec::new();
    for split in SPLITS {
        let split = [split, &[ALL_MIRRORS]].concat();
        for client in [Client::Swarmget, Client::Aria2c]
            .into_iter()
            .chain(baseline)
        {
            cases.push(Case::new(client, "metalink", &split, source.clone()).ca(ca.clone()));
        }
    }
    let mut workload = Workload::file(payload);
    workload.notes.push(format!(
        "The document lists the mirrors in that order (priority 1-3) with a SHA-256 of the \
         whole file and SHA-1 chunk checksums of {} KiB. Both clients verify the chunks as \
         they arrive: aria2c's `--realtime-chunk-checksum` is {} here (its own `--help`), \
         swarmget's default is the same.",
        PIECE_LEN >> 10,
        aria2c_realtime_checksum_default()
    ));
    compare(&setup, &server, &workload, cases)
}

/// `Default: true` (or whatever it says) from `aria2c --help=realtime-chunk-checksum`.
fn aria2c_realtime_checksum_default() -> String {
    std::process::Command::new("aria2c")
        .arg("--help=realtime-chunk-checksum")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.trim().strip_prefix("Default: ").map(str::to_string))
        })
        .map_or_else(
            || "unknown (aria2c's help does not say)".into(),
            |d| format!("`{d}` by default"),
        )
}

//! `cargo xtask bench bt [--runs N] [--size-mib N] [--only TEXT]...`
//!
//! One libtorrent seeder (python3-libtorrent through our peer script, 127.0.0.1 only,
//! DHT and the rest off) seeding the `--size-mib` file, a tracker thread that names only
//! it, and three clients taking turns fetching the torrent without seeding afterwards:
//! swarmget, aria2c and libtorrent itself (the same script as a leecher). The machinery
//! is [`super::compare`]'s.

use std::process::Child;

use super::compare::{
    Case, Client, Options, Server, Setup, Source, Workload, compare, package_version, version,
};
use crate::child::stop;
use crate::cmd::apt_install;
use crate::loopback::{free_ports, wait_ready};
use crate::swarm::{self, Tracker, libtorrent, tail};

/// libtorrent's choice for a GiB: 1 MiB pieces.
const PIECE_LEN: u64 = 1 << 20;

pub fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse("bt", args)?;
    apt_install(&["python3-libtorrent"])?;
    let setup = Setup::prepare(options)?;
    let (data_dir, payload) = setup.big_payload()?;
    let port = free_ports(1)?[0];
    let tracker = Tracker::start(port)?;
    let dir = setup.scratch.subdir("bt")?;
    let torrent = dir.join("bench.torrent");
    eprintln!("bench: hashing {} in 1 MiB pieces", payload.name);
    swarm::write_torrent(
        &data_dir.join(&payload.name),
        PIECE_LEN,
        &tracker.url,
        &torrent,
    )?;
    let mut seeder = libtorrent(&dir, "seed", &torrent, &data_dir, port)?;
    let log = dir.join("libtorrent-seed.log");
    eprintln!("bench: libtorrent checks the file before seeding it");
    let ready = wait_ready(&mut seeder, || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.lines().any(|l| l == "seeding"))
    });
    let outcome = ready
        .map_err(|e| format!("libtorrent seeding: {e}\n{}", tail(&log)))
        .and_then(|()| bench(&setup, &seeder, &torrent, payload));
    stop(&mut seeder);
    outcome
}

fn bench(
    setup: &Setup,
    seeder: &Child,
    torrent: &std::path::Path,
    payload: crate::payload::Payload,
) -> Result<(), String> {
    let lt = package_version("python3-libtorrent");
    let server = Server {
        name: "libtorrent",
        pids: vec![seeder.id()],
        description: format!(
            "one libtorrent seeder ({lt}, default settings, TCP on 127.0.0.1 only) behind \
             an HTTP tracker thread naming only it"
        ),
    };
    let source = Source::Torrent {
        torrent: torrent.to_path_buf(),
        script: swarm::write_lt_peer(setup.scratch.path())?,
    };
    let baseline = super::compare::baseline().map(|_| Client::Baseline);
    let cases = [Client::Swarmget, Client::Aria2c, Client::Libtorrent]
        .into_iter()
        .chain(baseline)
        .map(|client| Case::new(client, "bt", &[], source.clone()))
        .collect();
    let mut workload = Workload::file(payload);
    workload.notes.push(format!(
        "A v1 torrent of 1 MiB pieces. Each client fetches it and exits without seeding \
         (swarmget and aria2c with `--seed-time=0`; aria2c with DHT, LPD and PEX off); \
         libtorrent is the same python3-libtorrent as a leecher ({}), exiting once it has \
         every piece.",
        version("/usr/bin/python3", &["--version"])
    ));
    compare(setup, &server, &workload, cases)
}

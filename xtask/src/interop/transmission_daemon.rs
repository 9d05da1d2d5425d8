//! The `transmission-daemon` case of `cargo xtask interop`: Debian's Transmission
//! daemon seeds the Metalink cases' file to swarmget. It runs in the foreground with a
//! config directory of the case's own (`settings.json`: peers on 127.0.0.1 only, no
//! DHT, LPD, PEX, uTP or port mapping, plain connections preferred, RPC on a loopback
//! port without a login, the served directory as its download directory) and is driven
//! over its RPC by `transmission-remote`: the torrent is added, and swarmget starts
//! only once the daemon says it checked the file and seeds it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::Env;
use super::bt::{LEECH_LIMIT, fetch_from, wait_for, write_torrent};
use crate::child::stop;
use crate::loopback::{free_ports, wait_ready};
use crate::swarm::{Tracker, tail};

/// swarmget downloads a torrent from `transmission-daemon` seeding it.
pub fn from_daemon(env: &Env, dir: &Path) -> Result<(), String> {
    let ports = free_ports(2)?;
    let (peer_port, rpc_port) = (ports[0], ports[1]);
    let tracker = Tracker::start(peer_port)?;
    let torrent = write_torrent(env, dir, &tracker.url)?;
    let mut daemon = Daemon::start(dir, &env.www, peer_port, rpc_port)?;
    // It checks the served file against the piece hashes first, then seeds.
    let added = remote(&daemon.rpc, &["-a", &torrent.to_string_lossy()]).and_then(|out| {
        if out.contains("\"success\"") {
            Ok(())
        } else {
            Err(format!(
                "transmission-daemon did not add the torrent: {out}"
            ))
        }
    });
    let seeding = added.and_then(|()| {
        let rpc = daemon.rpc.clone();
        let seeding = || remote(&rpc, &["-t", "1", "-i"]).is_ok_and(|i| seeds(&i));
        wait_for(&mut daemon.child, LEECH_LIMIT, seeding).map_err(|e| {
            format!(
                "transmission-daemon seeding: {e}\n{}\n{}",
                remote(&daemon.rpc, &["-t", "1", "-i"]).unwrap_or_else(|e| e),
                tail(&daemon.log)
            )
        })
    });
    let log = daemon.log.clone();
    fetch_from(env, dir, &torrent, daemon.child, seeding)
        .map_err(|e| format!("{e}\ntransmission-daemon:\n{}", tail(&log)))
}

/// Whether `transmission-remote -i` says the torrent is complete and seeding: its
/// state is "Idle" for a seeding torrent that uploads nothing (yet), "Seeding" once it
/// does, and it counts a seeding time only in the seeding state.
fn seeds(info: &str) -> bool {
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.trim().strip_prefix(name).map(str::trim))
            .map(str::to_owned)
    };
    matches!(field("State:").as_deref(), Some("Idle" | "Seeding"))
        && field("Percent Done:").as_deref() == Some("100%")
        && field("Seeding Time:").is_some()
}

/// A `transmission-daemon` process and its RPC address.
struct Daemon {
    child: Child,
    /// `127.0.0.1:PORT`, as `transmission-remote` takes it.
    rpc: String,
    /// Its log (`--logfile`) and standard output and error.
    log: PathBuf,
}

impl Daemon {
    /// Starts the daemon with `DIR/transmission-daemon` as its config directory, its
    /// torrents' data in `data`, peers on 127.0.0.1:`peer_port`, and waits until its
    /// RPC on 127.0.0.1:`rpc_port` answers.
    fn start(dir: &Path, data: &Path, peer_port: u16, rpc_port: u16) -> Result<Daemon, String> {
        let config = dir.join("transmission-daemon");
        std::fs::create_dir_all(&config).map_err(|e| e.to_string())?;
        let settings = format!(
            "{{\"dht-enabled\": false, \"lpd-enabled\": false, \"pex-enabled\": false, \
             \"utp-enabled\": false, \"port-forwarding-enabled\": false, \
             \"bind-address-ipv4\": \"127.0.0.1\", \"bind-address-ipv6\": \"::1\", \
             \"peer-port\": {peer_port}, \"peer-port-random-on-start\": false, \
             \"encryption\": 0, \"blocklist-enabled\": false, \
             \"ratio-limit-enabled\": false, \"idle-seeding-limit-enabled\": false, \
             \"rename-partial-files\": false, \"watch-dir-enabled\": false, \
             \"download-dir\": \"{}\", \"start-added-torrents\": true, \
             \"rpc-enabled\": true, \"rpc-bind-address\": \"127.0.0.1\", \
             \"rpc-port\": {rpc_port}, \"rpc-authentication-required\": false, \
             \"rpc-whitelist-enabled\": true, \"rpc-whitelist\": \"127.0.0.1\", \
             \"rpc-host-whitelist-enabled\": false}}",
            data.display()
        );
        std::fs::write(config.join("settings.json"), settings).map_err(|e| e.to_string())?;
        let log = dir.join("transmission-daemon.log");
        let out = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("transmission-daemon")
            .arg("--foreground")
            .arg("--config-dir")
            .arg(&config)
            .arg("--log-info")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start transmission-daemon: {e}"))?;
        let mut daemon = Daemon {
            child,
            rpc: format!("127.0.0.1:{rpc_port}"),
            log,
        };
        let rpc = daemon.rpc.clone();
        let up = wait_ready(&mut daemon.child, || remote(&rpc, &["-si"]).is_ok())
            .map_err(|e| format!("transmission-daemon RPC: {e}\n{}", tail(&daemon.log)));
        if let Err(e) = up {
            stop(&mut daemon.child);
            return Err(e);
        }
        Ok(daemon)
    }
}

/// `transmission-remote RPC ARGS`: its output, or an error with it.
fn remote(rpc: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new("transmission-remote")
        .arg(rpc)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run transmission-remote: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "transmission-remote {rpc} {}: {}\n{text}",
            args.join(" "),
            out.status
        ))
    }
}

//! Local peer discovery (BEP 14) between two swarmget processes inside a network
//! namespace this test creates (its loopback the only interface, multicast on), so
//! no announce reaches a real network. Needs root and iproute2's `ip`; without them
//! the tests are skipped, except under CI=true, where that is a failure.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::TempDir;
use swarmget_test_support::make_torrent;

const PIECE: u64 = 32 << 10;

/// A network namespace with `lo` up and multicast routed to it; deleted on drop.
struct Netns(String);

impl Netns {
    /// The namespace, with multicast routed to `lo` when `route`: without the route a
    /// socket can reach the group only on an interface it names.
    fn create(route: bool) -> Result<Netns, String> {
        // One namespace per test: the tests of this file run in one process at once.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("sglpd{}-{n}", std::process::id());
        let ip = |args: &[&str]| -> Result<(), String> {
            let out = Command::new("ip")
                .args(args)
                .output()
                .map_err(|e| format!("ip: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "ip {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        };
        ip(&["netns", "add", &name])?;
        let ns = Netns(name);
        ip(&["-n", &ns.0, "link", "set", "lo", "up"])?;
        ip(&["-n", &ns.0, "link", "set", "lo", "multicast", "on"])?;
        if route {
            ip(&["-n", &ns.0, "route", "add", "224.0.0.0/4", "dev", "lo"])?;
        }
        Ok(ns)
    }

    /// swarmget run inside the namespace, with `home` as its HOME.
    fn swarmget(&self, home: &Path) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.0, env!("CARGO_BIN_EXE_swarmget")])
            .arg("--no-conf")
            .env("HOME", home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.0])
            .status();
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn two_swarmgets_find_each_other_by_local_peer_discovery() {
    meet_by_lpd(true, &[]);
}

/// Without a multicast route, the group is reachable only on the interface
/// `--bt-lpd-interface` names: ignored, neither side could join or send.
#[test]
fn bt_lpd_interface_takes_discovery_to_the_named_interface() {
    meet_by_lpd(false, &["--bt-lpd-interface=lo"]);
}

/// A seeder and a leecher with LPD on (and `extra` options) in a namespace made with
/// `route` or not: the leecher must get the file from the seeder, met through LPD.
fn meet_by_lpd(route: bool, extra: &[&str]) {
    let ns = match Netns::create(route) {
        Ok(ns) => ns,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipped: cannot make a network namespace: {e}");
            return;
        }
        Err(e) => panic!("cannot make a network namespace (root and iproute2 needed): {e}"),
    };
    let dir = TempDir::new("lpd");
    let body: Vec<u8> = (0..150_000u32)
        .map(|i| (i.wrapping_mul(7) >> 2) as u8)
        .collect();
    // No tracker, no DHT: the two can meet only through LPD.
    let torrent = dir.join("l.torrent");
    std::fs::write(&torrent, make_torrent("l.bin", &[], &body, PIECE, None)).unwrap();
    let (seed_dir, leech_dir) = (dir.join("seed"), dir.join("leech"));
    std::fs::create_dir_all(&seed_dir).unwrap();
    std::fs::write(seed_dir.join("l.bin"), &body).unwrap();
    let common = ["--enable-dht=false", "--listen-port=6881-6999"];
    let _seeder = Killed(
        ns.swarmget(dir.path())
            .args(common)
            .args(extra)
            .args([
                "--bt-enable-lpd",
                "--bt-seed-unverified",
                "--seed-ratio=0.0",
            ])
            .arg("-d")
            .arg(&seed_dir)
            .arg(&torrent)
            .spawn()
            .unwrap(),
    );
    let mut leecher = ns
        .swarmget(dir.path())
        .args(common)
        .args(extra)
        .args(["--bt-enable-lpd", "--seed-time=0"])
        .arg("-d")
        .arg(&leech_dir)
        .arg(&torrent)
        .spawn()
        .unwrap();
    let mut status = None;
    for _ in 0..1200 {
        if let Some(s) = leecher.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let Some(status) = status else {
        let _ = leecher.kill();
        panic!("the leecher never finished: LPD did not bring the two together");
    };
    assert!(status.success(), "{status:?}");
    assert_eq!(std::fs::read(leech_dir.join("l.bin")).unwrap(), body);
}

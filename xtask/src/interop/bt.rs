//! BitTorrent cases of `cargo xtask interop`: aria2c seeds a torrent of the Metalink
//! cases' file (checked with `-V` first), a tracker on a loopback port (a thread here:
//! it answers every announce with the one peer it is told to name) introduces the
//! peers, and swarmget downloads the torrent from aria2c — then seeds it to a second
//! aria2c. The same with libtorrent (python3-libtorrent, driven by our own script):
//! swarmget downloads from a libtorrent seeder, and seeds (after `-V` over a copy of the
//! file) to a libtorrent leecher. Every copy must be exact. `swarmget make-torrent`'s
//! output is read by Transmission's `transmission-show` and seeded by libtorrent (which
//! checks the file against its piece hashes first), and swarmget downloads it from there.
//! Magnet links: from libtorrent found through the DHT alone, and from Transmission
//! named by the link's `x.pe` alone; and a seeder swarmget can learn only by PEX.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::Env;
use crate::child::{stop, wait_or_kill};
use crate::loopback::{free_ports, wait_ready};
use crate::payload::Payload;
use crate::swarm::{self, Tracker, libtorrent, libtorrent_with, tail};

/// 256 KiB pieces: a few MiB make a few dozen, the last one short.
const PIECE_LEN: u64 = 256 << 10;

/// swarmget downloads a single-file torrent from aria2c seeding it.
pub fn from_aria2c(env: &Env, dir: &Path) -> Result<(), String> {
    let port = free_ports(1)?[0];
    let tracker = Tracker::start(port)?;
    let torrent_path = write_torrent(env, dir, &tracker.url)?;
    let seeder = aria2c_seeder(env, dir, &torrent_path, port)?;
    fetch_from(env, dir, &torrent_path, seeder, Ok(()))
}

/// swarmget downloads `torrent` (without seeding) while `seeder` runs, once `ready`
/// says it is; the seeder is stopped and the copy checked.
pub(super) fn fetch_from(
    env: &Env,
    dir: &Path,
    torrent: &Path,
    mut seeder: Child,
    ready: Result<(), String>,
) -> Result<(), String> {
    let outcome = ready.and_then(|()| {
        env.run(
            dir,
            &[
                "--listen-port=0",
                "--seed-time=0",
                &torrent.to_string_lossy(),
            ],
        )
    });
    stop(&mut seeder);
    outcome?.expect(0)?;
    env.meta.verify(&dir.join("out").join(&env.meta.name))
}

/// aria2c downloads a torrent from swarmget seeding it: swarmget fetches it from an
/// aria2c seeder first (the tracker names only that one) and stays to seed; the aria2c
/// seeder is stopped, the tracker names swarmget instead, and a second aria2c downloads
/// the torrent from swarmget alone.
pub fn to_aria2c(env: &Env, dir: &Path) -> Result<(), String> {
    let ports = free_ports(3)?;
    let (aria2c_port, swarmget_port, leecher_port) = (ports[0], ports[1], ports[2]);
    let tracker = Tracker::start(aria2c_port)?;
    let torrent_path = write_torrent(env, dir, &tracker.url)?;
    let mut seeder = aria2c_seeder(env, dir, &torrent_path, aria2c_port)?;
    let (mut swarmget, log) = seeder_swarmget(env, dir, &[], swarmget_port, &torrent_path)?;
    let copy = dir.join("out").join(&env.meta.name);
    let fetched = wait_ready(&mut swarmget, || env.meta.verify(&copy).is_ok())
        .map_err(|e| format!("swarmget fetching from aria2c: {e}\n{}", tail(&log)));
    stop(&mut seeder);
    let leeched = fetched.and_then(|()| {
        tracker.name(swarmget_port);
        aria2c_leecher(dir, &torrent_path, leecher_port)
    });
    seeded_to(&env.meta, dir, swarmget, &log, leeched)
}

/// `swarmget make-torrent` of the Metalink cases' file: `transmission-show` reads it
/// and names the info-hash swarmget's `-S` names; libtorrent seeds it (its check of
/// the served file against the piece hashes passed); swarmget downloads it from there.
pub fn made_torrent(env: &Env, dir: &Path) -> Result<(), String> {
    let port = free_ports(1)?[0];
    let tracker = Tracker::start(port)?;
    let torrent = dir.join("made.torrent");
    let made = Command::new(&env.swarmget)
        .args(["make-torrent", "-a", &tracker.url, "-l", "256K", "-o"])
        .arg(&torrent)
        .arg(env.www.join(&env.meta.name))
        .output()
        .map_err(|e| format!("cannot run swarmget make-torrent: {e}"))?;
    if !made.status.success() {
        return Err(format!(
            "swarmget make-torrent: {}\n{}",
            made.status,
            String::from_utf8_lossy(&made.stderr)
        ));
    }
    let hash = info_hash(env, dir, &torrent)?;
    let shown = Command::new("transmission-show")
        .arg(&torrent)
        .output()
        .map_err(|e| format!("cannot run transmission-show: {e}"))?;
    let text = String::from_utf8_lossy(&shown.stdout);
    if !shown.status.success() || !text.contains(&hash) {
        return Err(format!(
            "transmission-show {} (want info-hash {hash}):\n{text}{}",
            shown.status,
            String::from_utf8_lossy(&shown.stderr)
        ));
    }
    let seeder = libtorrent(dir, "seed", &torrent, &env.www, port)?;
    fetch_once_seeding(env, dir, &torrent, seeder, "libtorrent", libtorrent_seeding)
}

/// swarmget downloads a torrent from Transmission (`transmission-cli`) seeding it.
pub fn from_transmission(env: &Env, dir: &Path) -> Result<(), String> {
    let port = free_ports(1)?[0];
    let tracker = Tracker::start(port)?;
    let torrent_path = write_torrent(env, dir, &tracker.url)?;
    let seeder = transmission(dir, "seed", &torrent_path, &env.www, port)?;
    fetch_once_seeding(env, dir, &torrent_path, seeder, "transmission", |log| {
        log.contains("Seeding")
    })
}

/// Transmission downloads the 64 MiB file from swarmget seeding it at once, its copy
/// taken as whole without a check (`--bt-seed-unverified`): Transmission's pipeline,
/// sized by the rate it measures, would outgrow 500 requests unless it heeds our `reqq`.
pub fn to_transmission(env: &Env, dir: &Path) -> Result<(), String> {
    transmission_leeches(env, &env.big, dir, "--bt-seed-unverified")
}

/// Transmission downloads the Metalink cases' file from swarmget, swarmget checking
/// its copy with `-V` as Transmission connects.
pub fn to_transmission_checking(env: &Env, dir: &Path) -> Result<(), String> {
    transmission_leeches(env, &env.meta, dir, "-V")
}

/// Transmission leeching `payload` from swarmget started with `check`.
fn transmission_leeches(
    env: &Env,
    payload: &Payload,
    dir: &Path,
    check: &str,
) -> Result<(), String> {
    let ports = free_ports(2)?;
    let (swarmget_port, leecher_port) = (ports[0], ports[1]);
    // Transmission 3.00 takes no loopback peer from a tracker (127/8 is a "martian"
    // address to it), so the tracker names the leecher and swarmget connects to it.
    let tracker = Tracker::start(leecher_port)?;
    let torrent_path = dir.join("seed.torrent");
    swarm::write_torrent(
        &env.www.join(&payload.name),
        PIECE_LEN,
        &tracker.url,
        &torrent_path,
    )?;
    let out = dir.join("out");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    std::fs::copy(env.www.join(&payload.name), out.join(&payload.name))
        .map_err(|e| format!("cannot copy the file to seed: {e}"))?;
    let leech = dir.join("leech");
    std::fs::create_dir_all(&leech).map_err(|e| e.to_string())?;
    let leech_log = dir.join("transmission-leech.log");
    let mut leecher = transmission(dir, "leech", &torrent_path, &leech, leecher_port)?;
    // swarmget connects at its first announce (and again only 30 s after a failure):
    // Transmission must take connections by then, which it does once its own check
    // of the (empty) download is over and it announced.
    let listening = wait_ready(&mut leecher, || tracker.announces() > 0)
        .map_err(|e| format!("transmission leecher: {e}\n{}", tail(&leech_log)));
    if let Err(e) = listening {
        stop(&mut leecher);
        return Err(e);
    }
    let (swarmget, log) = seeder_swarmget(env, dir, &[check], swarmget_port, &torrent_path)?;
    let copy = leech.join(&payload.name);
    // Transmission decides its interest every ten seconds.
    let leeched =
        wait_for(&mut leecher, LEECH_LIMIT, || payload.verify(&copy).is_ok()).map_err(|e| {
            format!(
                "transmission downloading from swarmget: {e}\n{}",
                tail(&leech_log)
            )
        });
    stop(&mut leecher);
    seeded_to(payload, dir, swarmget, &log, leeched)
}

/// How long a leecher may take over a case's file.
pub(super) const LEECH_LIMIT: Duration = Duration::from_secs(120);

/// Waits until `done` holds, while `child` runs, for at most `limit`.
pub(super) fn wait_for(
    child: &mut Child,
    limit: Duration,
    done: impl Fn() -> bool,
) -> Result<(), String> {
    let end = std::time::Instant::now() + limit;
    while std::time::Instant::now() < end {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("it exited with {status}"));
        }
        if done() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("not done within {} s", limit.as_secs()))
}

/// `transmission-cli` on `torrent` with its data in `data`, listening on `port`, its
/// settings (`DIR/transmission-ROLE/settings.json`) keeping it on loopback and to the
/// tracker (no DHT, LPD, PEX, uTP, port mapping; plain connections preferred); output to
/// `DIR/transmission-ROLE.log`.
fn transmission(
    dir: &Path,
    role: &str,
    torrent: &Path,
    data: &Path,
    port: u16,
) -> Result<Child, String> {
    let config = dir.join(format!("transmission-{role}"));
    std::fs::create_dir_all(&config).map_err(|e| e.to_string())?;
    let settings = format!(
        "{{\"dht-enabled\": false, \"lpd-enabled\": false, \"pex-enabled\": false, \
         \"utp-enabled\": false, \"port-forwarding-enabled\": false, \
         \"bind-address-ipv4\": \"127.0.0.1\", \"encryption\": 0, \
         \"peer-port\": {port}, \"rename-partial-files\": false, \
         \"ratio-limit-enabled\": false, \"rpc-enabled\": false}}"
    );
    std::fs::write(config.join("settings.json"), settings).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(dir.join(format!("transmission-{role}.log")))
        .map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    Command::new("transmission-cli")
        .arg("-g")
        .arg(&config)
        .arg("-w")
        .arg(data)
        .args(["-p", &port.to_string(), "-M"])
        .arg(torrent)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start transmission-cli: {e}"))
}

/// swarmget downloads a torrent from libtorrent seeding it, the two meeting through
/// opentracker (Debian's, on a loopback port) as an HTTP tracker.
pub fn opentracker_http(env: &Env, dir: &Path) -> Result<(), String> {
    through_opentracker(env, dir, "http")
}

/// The same with opentracker as a UDP tracker (BEP 15).
pub fn opentracker_udp(env: &Env, dir: &Path) -> Result<(), String> {
    through_opentracker(env, dir, "udp")
}

fn through_opentracker(env: &Env, dir: &Path, scheme: &str) -> Result<(), String> {
    let ports = free_ports(2)?;
    let (tracker_port, seeder_port) = (ports[0], ports[1]);
    let url = format!("{scheme}://127.0.0.1:{tracker_port}/announce");
    let torrent = write_torrent(env, dir, &url)?;
    let hash = info_hash(env, dir, &torrent)?;
    // Debian builds opentracker with a whitelist of info-hashes; started as root it
    // changes root to its `tracker.rootdir`, so the list's path is inside that.
    std::fs::write(dir.join("whitelist.txt"), format!("{hash}\n")).map_err(|e| e.to_string())?;
    let config = format!(
        "tracker.rootdir {}\naccess.whitelist /whitelist.txt\nlisten.tcp 127.0.0.1:{tracker_port}\n\
         listen.udp 127.0.0.1:{tracker_port}\n",
        dir.display()
    );
    std::fs::write(dir.join("opentracker.conf"), config).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(dir.join("opentracker.log")).map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let mut tracker = Command::new("opentracker")
        .arg("-f")
        .arg(dir.join("opentracker.conf"))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start opentracker: {e}"))?;
    let outcome = wait_ready(&mut tracker, || {
        TcpStream::connect(("127.0.0.1", tracker_port)).is_ok()
    })
    .map_err(|e| format!("opentracker: {e}\n{}", tail(&dir.join("opentracker.log"))))
    .and_then(|()| {
        let mut seeder = libtorrent(dir, "seed", &torrent, &env.www, seeder_port)?;
        // swarmget must find the seeder at its first announce (the next is half an
        // hour away): wait until opentracker counts it as a seed.
        let seeded =
            wait_ready(&mut seeder, || scrape_complete(tracker_port, &hash) >= 1).map_err(|e| {
                format!(
                    "libtorrent seeding through opentracker: {e}\n{}\n{}",
                    tail(&dir.join("libtorrent-seed.log")),
                    tail(&dir.join("opentracker.log"))
                )
            });
        // swarmget's own scrape (BEP 48 over http, BEP 15 over udp) sees the seed too.
        let scraped = seeded.and_then(|()| swarmget_scrape(env, dir, &torrent, &url));
        fetch_from(env, dir, &torrent, seeder, scraped)
    });
    stop(&mut tracker);
    outcome
}

/// `swarmget scrape` of `torrent` must say its tracker `url` counts a seeder.
fn swarmget_scrape(env: &Env, dir: &Path, torrent: &Path, url: &str) -> Result<(), String> {
    let out = Command::new(&env.swarmget)
        .arg("scrape")
        .arg(torrent)
        .output()
        .map_err(|e| format!("cannot run swarmget scrape: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    std::fs::write(dir.join("scrape.txt"), text.as_bytes()).map_err(|e| e.to_string())?;
    // "URL: N seeders, N leechers, N completed"
    let seeders = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{url}: ")))
        .and_then(|rest| rest.split(' ').next()?.parse::<u64>().ok());
    match seeders {
        Some(n) if out.status.success() && n >= 1 => Ok(()),
        _ => Err(format!(
            "swarmget scrape {}: {}\n{text}{}",
            torrent.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

/// The info-hash of `torrent` as 40 hex digits, from swarmget's `-S`.
fn info_hash(env: &Env, dir: &Path, torrent: &Path) -> Result<String, String> {
    let shown = env.run(dir, &["-S", &torrent.to_string_lossy()])?;
    shown.expect(0)?;
    let listing = std::fs::read_to_string(&shown.log).map_err(|e| e.to_string())?;
    listing
        .lines()
        .find_map(|l| l.strip_prefix("Info Hash: "))
        .map(|h| h.trim().to_string())
        .ok_or_else(|| format!("swarmget -S names no info-hash:\n{listing}"))
}

/// How many seeds opentracker on `port` counts for the torrent of `hash` (hex), by an
/// HTTP scrape; 0 when it cannot say.
fn scrape_complete(port: u16, hash: &str) -> u64 {
    use std::io::{Read, Write};
    let encoded: String = hash
        .as_bytes()
        .chunks(2)
        .map(|pair| format!("%{}", String::from_utf8_lossy(pair)))
        .collect();
    let Ok(mut sock) = TcpStream::connect(("127.0.0.1", port)) else {
        return 0;
    };
    let _ = sock.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /scrape?info_hash={encoded} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    if sock.write_all(request.as_bytes()).is_err() {
        return 0;
    }
    let mut answer = Vec::new();
    let _ = sock.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.split("8:completei")
        .nth(1)
        .and_then(|rest| rest.split('e').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// swarmget downloads a torrent from libtorrent seeding it.
pub fn from_libtorrent(env: &Env, dir: &Path) -> Result<(), String> {
    let port = free_ports(1)?[0];
    let tracker = Tracker::start(port)?;
    let torrent_path = write_torrent(env, dir, &tracker.url)?;
    let seeder = libtorrent(dir, "seed", &torrent_path, &env.www, port)?;
    fetch_once_seeding(
        env,
        dir,
        &torrent_path,
        seeder,
        "libtorrent",
        libtorrent_seeding,
    )
}

/// Whether our libtorrent script's log says it seeds (its check of the file passed).
fn libtorrent_seeding(log: &str) -> bool {
    log.lines().any(|l| l == "seeding")
}

/// swarmget downloads `torrent` from `seeder` (`client`, logging to
/// `DIR/CLIENT-seed.log`) once `seeding` says its log shows it seeds.
fn fetch_once_seeding(
    env: &Env,
    dir: &Path,
    torrent: &Path,
    mut seeder: Child,
    client: &str,
    seeding: impl Fn(&str) -> bool,
) -> Result<(), String> {
    let log = dir.join(format!("{client}-seed.log"));
    let ready = until_logged(&mut seeder, &log, &format!("{client} seeding"), seeding);
    fetch_from(env, dir, torrent, seeder, ready)
}

/// Waits until `child`'s `log` shows `ready`; the error says `what` and ends the log.
fn until_logged(
    child: &mut Child,
    log: &Path,
    what: &str,
    ready: impl Fn(&str) -> bool,
) -> Result<(), String> {
    wait_ready(child, || {
        std::fs::read_to_string(log).is_ok_and(|t| ready(&t))
    })
    .map_err(|e| format!("{what}: {e}\n{}", tail(log)))
}

/// swarmget on `target` (a torrent file or a magnet link) with its DHT off, leaving
/// once the download completes.
fn run_without_dht(env: &Env, dir: &Path, target: &str) -> Result<super::Outcome, String> {
    env.run(
        dir,
        &[
            "--listen-port=0",
            "--seed-time=0",
            "--enable-dht=false",
            target,
        ],
    )
}

/// swarmget downloads a magnet link that names only the info-hash from a libtorrent
/// seeder it can find only through the DHT: no tracker, no peer in the link. swarmget
/// runs first with its DHT on a known port; libtorrent joins the DHT through it and
/// announces the torrent to it (BEP 5 `announce_peer`), and swarmget fetches the
/// metadata (BEP 9) and then the file from libtorrent.
pub fn magnet_from_libtorrent_dht(env: &Env, dir: &Path) -> Result<(), String> {
    let ports = free_ports(3)?;
    let (lt_port, listen_port, dht_port) = (ports[0], ports[1], ports[2]);
    let torrent_path = write_torrent(env, dir, "")?;
    let link = format!("magnet:?xt=urn:btih:{}", v1_hex(&torrent_path)?);
    let args = [
        format!("--listen-port={listen_port}"),
        format!("--dht-listen-port={dht_port}"),
        format!("--dht-file-path={}", dir.join("dht.dat").display()),
        "--seed-time=0".to_string(),
        link,
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (mut cmd, log) = env.command(dir, "swarmget.log", &args)?;
    let mut swarmget = cmd
        .spawn()
        .map_err(|e| format!("cannot start swarmget: {e}"))?;
    let node = vec![format!("127.0.0.1:{dht_port}")];
    let seeder = libtorrent_with(dir, "dhtseed", &torrent_path, &env.www, lt_port, &node);
    let status = seeder.and_then(|mut seeder| {
        let status =
            wait_or_kill(&mut swarmget, Duration::from_secs(150)).map_err(|e| e.to_string());
        stop(&mut seeder);
        status
    });
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            stop(&mut swarmget);
            return Err(e);
        }
    };
    match status.and_then(|s| s.code()) {
        Some(0) => env.meta.verify(&dir.join("out").join(&env.meta.name)),
        code => Err(format!(
            "swarmget on the magnet link: exit {code:?}\n{}\nlibtorrent:\n{}",
            tail(&log),
            tail(&dir.join("libtorrent-dhtseed.log"))
        )),
    }
}

/// swarmget downloads a magnet link whose one source is its `x.pe`: Transmission
/// (transmission-cli) seeding the torrent, which has no tracker, with the DHT off on
/// both sides; the metadata (BEP 9) and then the file both come from Transmission.
pub fn magnet_x_pe_transmission(env: &Env, dir: &Path) -> Result<(), String> {
    let port = free_ports(1)?[0];
    let torrent_path = write_torrent(env, dir, "")?;
    let link = format!(
        "magnet:?xt=urn:btih:{}&x.pe=127.0.0.1:{port}",
        v1_hex(&torrent_path)?
    );
    let mut seeder = transmission(dir, "seed", &torrent_path, &env.www, port)?;
    let log = dir.join("transmission-seed.log");
    let outcome = until_logged(&mut seeder, &log, "transmission seeding", |t| {
        t.contains("Seeding")
    })
    .and_then(|()| run_without_dht(env, dir, &link));
    stop(&mut seeder);
    outcome?.expect(0)?;
    env.meta.verify(&dir.join("out").join(&env.meta.name))
}

/// swarmget finds the one seeder by peer exchange alone: the tracker names only
/// libtorrent A, which downloads nothing (upload mode) and is connected to libtorrent
/// B, the only peer with the file. B has PEX off and the tracker never names anyone
/// but A, so B cannot find swarmget: the file arrives only if swarmget connects to B,
/// which it knows from A's `ut_pex` message.
pub fn pex_from_libtorrent(env: &Env, dir: &Path) -> Result<(), String> {
    let ports = free_ports(2)?;
    let (a_port, b_port) = (ports[0], ports[1]);
    let tracker = Tracker::start(a_port)?;
    let torrent_path = write_torrent(env, dir, &tracker.url)?;
    let mut seeder = libtorrent(dir, "seednopex", &torrent_path, &env.www, b_port)?;
    let b_log = dir.join("libtorrent-seednopex.log");
    let seeding = until_logged(
        &mut seeder,
        &b_log,
        "libtorrent B seeding",
        libtorrent_seeding,
    );
    if let Err(e) = seeding {
        stop(&mut seeder);
        return Err(e);
    }
    let empty = dir.join("hub");
    let hub = std::fs::create_dir_all(&empty)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            let peer = vec![format!("127.0.0.1:{b_port}")];
            libtorrent_with(dir, "hub", &torrent_path, &empty, a_port, &peer)
        });
    let mut hub = match hub {
        Ok(hub) => hub,
        Err(e) => {
            stop(&mut seeder);
            return Err(e);
        }
    };
    let a_log = dir.join("libtorrent-hub.log");
    let outcome = until_logged(&mut hub, &a_log, "libtorrent A reaching B", |t| {
        t.lines().any(|l| l == "connected")
    })
    .and_then(|()| run_without_dht(env, dir, &torrent_path.to_string_lossy()));
    stop(&mut hub);
    stop(&mut seeder);
    outcome?.expect(0).map_err(|e| {
        format!(
            "{e}\nlibtorrent A:\n{}\nlibtorrent B:\n{}",
            tail(&a_log),
            tail(&b_log)
        )
    })?;
    env.meta.verify(&dir.join("out").join(&env.meta.name))
}

/// A torrent file's v1 info-hash in hex.
fn v1_hex(torrent: &Path) -> Result<String, String> {
    let bytes = std::fs::read(torrent).map_err(|e| e.to_string())?;
    let info_hash = swarmget_bt_wire::Metainfo::parse(&bytes)
        .ok()
        .and_then(|m| m.info_hash)
        .ok_or("the torrent written has no v1 info-hash")?;
    Ok(info_hash.iter().map(|b| format!("{b:02x}")).collect())
}

/// libtorrent downloads a torrent from swarmget seeding it: swarmget checks a copy of
/// the file with `-V` and seeds it at once; the tracker names only swarmget.
pub fn to_libtorrent(env: &Env, dir: &Path) -> Result<(), String> {
    let ports = free_ports(2)?;
    let (swarmget_port, leecher_port) = (ports[0], ports[1]);
    let tracker = Tracker::start(swarmget_port)?;
    let torrent_path = write_torrent(env, dir, &tracker.url)?;
    let out = dir.join("out");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    std::fs::copy(env.www.join(&env.meta.name), out.join(&env.meta.name))
        .map_err(|e| format!("cannot copy the file to seed: {e}"))?;
    let (mut swarmget, log) = seeder_swarmget(env, dir, &["-V"], swarmget_port, &torrent_path)?;
    let listening = wait_ready(&mut swarmget, || {
        TcpStream::connect(("127.0.0.1", swarmget_port)).is_ok()
    })
    .map_err(|e| format!("swarmget seeding: {e}\n{}", tail(&log)));
    let leeched = listening.and_then(|()| {
        let mut leecher = libtorrent(
            dir,
            "leech",
            &torrent_path,
            &dir.join("leech"),
            leecher_port,
        )?;
        let status =
            wait_or_kill(&mut leecher, Duration::from_secs(150)).map_err(|e| e.to_string())?;
        match status.and_then(|s| s.code()) {
            Some(0) => Ok(()),
            code => Err(format!(
                "libtorrent downloading from swarmget: exit {code:?}\n{}",
                tail(&dir.join("libtorrent-leech.log"))
            )),
        }
    });
    seeded_to(&env.meta, dir, swarmget, &log, leeched)
}

/// swarmget with `extra` options on `torrent`, listening on `port` and seeding without
/// a ratio limit; returns it and its log.
pub(super) fn seeder_swarmget(
    env: &Env,
    dir: &Path,
    extra: &[&str],
    port: u16,
    torrent: &Path,
) -> Result<(Child, PathBuf), String> {
    let listen = format!("--listen-port={port}");
    let torrent = torrent.to_string_lossy();
    let args = [extra, &[&listen, "--seed-ratio=0.0", &torrent]].concat();
    let (mut cmd, log) = env.command(dir, "swarmget.log", &args)?;
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start swarmget: {e}"))?;
    Ok((child, log))
}

/// Ends a case where a leecher fetched from seeding swarmget (`leeched`): swarmget must
/// still be seeding, and the leecher's copy in `DIR/leech` exact.
pub(super) fn seeded_to(
    payload: &Payload,
    dir: &Path,
    mut swarmget: Child,
    log: &Path,
    leeched: Result<(), String>,
) -> Result<(), String> {
    let still_seeding = matches!(swarmget.try_wait(), Ok(None));
    stop(&mut swarmget);
    leeched?;
    if !still_seeding {
        return Err(format!("swarmget exited instead of seeding\n{}", tail(log)));
    }
    payload.verify(&dir.join("leech").join(&payload.name))
}

/// The torrent of the Metalink cases' file, announcing to `tracker`, as
/// `DIR/seed.torrent`.
pub(super) fn write_torrent(env: &Env, dir: &Path, tracker: &str) -> Result<PathBuf, String> {
    let path = dir.join("seed.torrent");
    swarm::write_torrent(&env.www.join(&env.meta.name), PIECE_LEN, tracker, &path)?;
    Ok(path)
}

/// aria2c's options that keep it on loopback and to the tracker alone.
const ARIA2C_QUIET: [&str; 6] = [
    "--no-conf",
    "--enable-dht=false",
    "--enable-dht6=false",
    "--bt-enable-lpd=false",
    "--enable-peer-exchange=false",
    "--summary-interval=0",
];

/// aria2c seeding the torrent from the served file (checked with `-V` first), once it
/// listens on `port`.
fn aria2c_seeder(env: &Env, dir: &Path, torrent: &Path, port: u16) -> Result<Child, String> {
    let log = std::fs::File::create(dir.join("aria2c.log")).map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let mut seeder = Command::new("aria2c")
        .args(ARIA2C_QUIET)
        .args(["--check-integrity=true", "--seed-ratio=0.0"])
        .arg(format!("--listen-port={port}"))
        .arg(format!("--dir={}", env.www.display()))
        .arg(torrent)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start aria2c: {e}"))?;
    wait_ready(&mut seeder, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    })
    .map_err(|e| format!("aria2c seeding: {e}"))?;
    Ok(seeder)
}

/// aria2c downloading the torrent into `DIR/leech` and exiting (no seeding).
fn aria2c_leecher(dir: &Path, torrent: &Path, port: u16) -> Result<(), String> {
    let log_path = dir.join("aria2c-leecher.log");
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let mut leecher = Command::new("aria2c")
        .args(ARIA2C_QUIET)
        .args(["--seed-time=0", "--bt-stop-timeout=60"])
        .arg(format!("--listen-port={port}"))
        .arg(format!("--dir={}", dir.join("leech").display()))
        .arg(torrent)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start aria2c: {e}"))?;
    let status = wait_or_kill(&mut leecher, Duration::from_secs(120)).map_err(|e| e.to_string())?;
    match status.and_then(|s| s.code()) {
        Some(0) => Ok(()),
        code => Err(format!(
            "aria2c downloading from swarmget: exit {code:?}\n{}",
            tail(&log_path)
        )),
    }
}

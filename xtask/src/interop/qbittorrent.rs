//! qBittorrent cases of `cargo xtask interop`: Debian's `qbittorrent-nox` (libtorrent
//! 2 under qBittorrent's own settings) seeds the Metalink cases' file to swarmget, and
//! downloads it from swarmget seeding it. It runs headless in a profile directory of
//! the case's own, configured through its `qBittorrent.conf` (legal notice accepted,
//! peers and Web UI on 127.0.0.1 only, no DHT, LSD, PEX, UPnP, uTP or encryption, no
//! queueing, no look-up of peers' countries (it would download a database), the Web
//! UI open to localhost without a login) and driven over its Web API
//! (v2) with curl. The tracker names the one peer each side should meet.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Env;
use super::bt::{LEECH_LIMIT, fetch_from, seeded_to, seeder_swarmget, wait_for, write_torrent};
use crate::child::stop;
use crate::loopback::{free_ports, wait_ready};
use crate::swarm::{Tracker, tail};

/// How often a leeching qBittorrent is asked to announce again.
const REANNOUNCE_EVERY: Duration = Duration::from_secs(5);

/// swarmget downloads a torrent from qBittorrent seeding it.
pub fn from_qbittorrent(env: &Env, dir: &Path) -> Result<(), String> {
    let ports = free_ports(2)?;
    let (peer_port, webui_port) = (ports[0], ports[1]);
    let tracker = Tracker::start(peer_port)?;
    let torrent = write_torrent(env, dir, &tracker.url)?;
    let mut qb = QBittorrent::start(dir, peer_port, webui_port)?;
    // It checks the served file against the piece hashes, then seeds and announces
    // (a connection before its announce was reset: swarmget would retry 30 s later).
    let seeding = qb.api.add(&torrent, &env.www).and_then(|()| {
        let ready = || qb.api.seeding() && tracker.announces() > 0;
        wait_for(&mut qb.child, LEECH_LIMIT, ready).map_err(|e| {
            format!(
                "qBittorrent seeding: {e}: {}\n{}",
                qb.api.info(),
                tail(&qb.log)
            )
        })
    });
    fetch_from(env, dir, &torrent, qb.child, seeding)
}

/// qBittorrent downloads a torrent from swarmget seeding it (its copy taken as whole
/// with `--bt-seed-unverified`); the tracker names only swarmget.
pub fn to_qbittorrent(env: &Env, dir: &Path) -> Result<(), String> {
    let ports = free_ports(3)?;
    let (swarmget_port, peer_port, webui_port) = (ports[0], ports[1], ports[2]);
    let tracker = Tracker::start(swarmget_port)?;
    let torrent = write_torrent(env, dir, &tracker.url)?;
    let out = dir.join("out");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    std::fs::copy(env.www.join(&env.meta.name), out.join(&env.meta.name))
        .map_err(|e| format!("cannot copy the file to seed: {e}"))?;
    let (mut swarmget, log) =
        seeder_swarmget(env, dir, &["--bt-seed-unverified"], swarmget_port, &torrent)?;
    let listening = wait_ready(&mut swarmget, || {
        std::net::TcpStream::connect(("127.0.0.1", swarmget_port)).is_ok()
    })
    .map_err(|e| format!("swarmget seeding: {e}\n{}", tail(&log)));
    let leech = dir.join("leech");
    let leeched = listening.and_then(|()| {
        std::fs::create_dir_all(&leech).map_err(|e| e.to_string())?;
        let mut qb = QBittorrent::start(dir, peer_port, webui_port)?;
        let copy = leech.join(&env.meta.name);
        // A first announce that fails (a loaded machine) is retried by qBittorrent
        // only a minute or more later: asked again every few seconds, it does not
        // decide the case.
        let asked = std::cell::Cell::new(Instant::now());
        let done = qb.api.add(&torrent, &leech).and_then(|()| {
            wait_for(&mut qb.child, LEECH_LIMIT, || {
                if asked.get().elapsed() >= REANNOUNCE_EVERY {
                    let _ = qb.api.reannounce();
                    asked.set(Instant::now());
                }
                env.meta.verify(&copy).is_ok()
            })
            .map_err(|e| {
                format!(
                    "qBittorrent downloading from swarmget: {e} ({} announces): {}\n{}",
                    tracker.announces(),
                    qb.api.info(),
                    tail(&qb.log)
                )
            })
        });
        stop(&mut qb.child);
        done
    });
    seeded_to(&env.meta, dir, swarmget, &log, leeched)
}

/// A `qbittorrent-nox` process and the way to its Web API.
struct QBittorrent {
    child: Child,
    api: WebApi,
    /// Its standard output and error.
    log: PathBuf,
}

/// qBittorrent's Web API (v2).
struct WebApi {
    /// `http://127.0.0.1:PORT/api/v2`.
    root: String,
}

impl QBittorrent {
    /// Starts qBittorrent with a fresh profile in `DIR/qbittorrent`, peers on
    /// 127.0.0.1:`peer_port`, and waits for its Web UI on 127.0.0.1:`webui_port`.
    fn start(dir: &Path, peer_port: u16, webui_port: u16) -> Result<QBittorrent, String> {
        let profile = dir.join("qbittorrent");
        let config = profile.join("qBittorrent").join("config");
        std::fs::create_dir_all(&config).map_err(|e| e.to_string())?;
        let downloads = profile.join("downloads");
        std::fs::write(
            config.join("qBittorrent.conf"),
            settings(peer_port, webui_port, &downloads),
        )
        .map_err(|e| e.to_string())?;
        let log = dir.join("qbittorrent.log");
        let out = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("qbittorrent-nox")
            .arg(format!("--profile={}", profile.display()))
            .arg(format!("--webui-port={webui_port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start qbittorrent-nox: {e}"))?;
        let mut qb = QBittorrent {
            child,
            api: WebApi {
                root: format!("http://127.0.0.1:{webui_port}/api/v2"),
            },
            log,
        };
        let up = wait_ready(&mut qb.child, || qb.api.get("app/version").is_ok())
            .map_err(|e| format!("qbittorrent-nox Web UI: {e}\n{}", tail(&qb.log)));
        if let Err(e) = up {
            stop(&mut qb.child);
            return Err(e);
        }
        Ok(qb)
    }
}

impl WebApi {
    /// Adds `torrent`, its data (to check and seed, or to fill) in `save_path`.
    fn add(&self, torrent: &Path, save_path: &Path) -> Result<(), String> {
        let out = curl(&[
            "-F".into(),
            format!("torrents=@{}", torrent.display()),
            "-F".into(),
            format!("savepath={}", save_path.display()),
            format!("{}/torrents/add", self.root),
        ])?;
        if out.trim() == "Ok." {
            Ok(())
        } else {
            Err(format!("qBittorrent refused the torrent: {out}"))
        }
    }

    /// Its one torrent's state, as the Web API gives it (JSON).
    fn info(&self) -> String {
        self.get("torrents/info").unwrap_or_else(|e| e)
    }

    /// Whether its one torrent seeds: checked whole and serving (while it checks,
    /// its progress is the check's, and peers are turned away).
    fn seeding(&self) -> bool {
        let info = self.info();
        ["\"state\":\"stalledUP\"", "\"state\":\"uploading\""]
            .iter()
            .any(|s| info.contains(s))
    }

    /// Asks it to announce its torrents now.
    fn reannounce(&self) -> Result<String, String> {
        curl(&[
            "-d".into(),
            "hashes=all".into(),
            format!("{}/torrents/reannounce", self.root),
        ])
    }

    fn get(&self, what: &str) -> Result<String, String> {
        curl(&[format!("{}/{what}", self.root)])
    }
}

/// `curl -sSf ARGS`'s output.
fn curl(args: &[String]) -> Result<String, String> {
    let out = Command::new("curl")
        .args(["-sSf", "--max-time", "5"])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run curl: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "curl {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// qBittorrent 4.5's settings for a headless test peer on loopback.
fn settings(peer_port: u16, webui_port: u16, downloads: &Path) -> String {
    format!(
        "[LegalNotice]\n\
         Accepted=true\n\
         \n\
         [BitTorrent]\n\
         Session\\Port={peer_port}\n\
         Session\\Interface=lo\n\
         Session\\InterfaceName=lo\n\
         Session\\InterfaceAddress=127.0.0.1\n\
         Session\\DHTEnabled=false\n\
         Session\\LSDEnabled=false\n\
         Session\\PeXEnabled=false\n\
         Session\\BTProtocol=TCP\n\
         Session\\Encryption=2\n\
         Session\\AnonymousModeEnabled=false\n\
         Session\\QueueingSystemEnabled=false\n\
         Session\\DefaultSavePath={downloads}\n\
         \n\
         [Preferences]\n\
         Connection\\UPnP=false\n\
         Connection\\ResolvePeerCountries=false\n\
         Connection\\PortRangeMin={peer_port}\n\
         WebUI\\Address=127.0.0.1\n\
         WebUI\\Port={webui_port}\n\
         WebUI\\LocalHostAuth=false\n\
         WebUI\\CSRFProtection=false\n\
         WebUI\\HostHeaderValidation=false\n\
         WebUI\\UseUPnP=false\n",
        downloads = downloads.display()
    )
}

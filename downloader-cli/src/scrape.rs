//! `swarmget scrape [--json] FILE.torrent`: what each of a torrent's trackers counts for
//! it — seeders, leechers and completed downloads — by a scrape (BEP 48 over HTTP(S),
//! BEP 15 over UDP), without announcing. aria2 has no such command.
//!
//! Exit status: 0 when some tracker answered; 6 (network problem) when none did; 26 for
//! a torrent that cannot be read; 28 for bad arguments.

use std::process::ExitCode;

use swarmget_engine::{ErrorCode, Options, Torrent};

const USAGE: &str = "\
Usage: swarmget scrape [--json] FILE.torrent

Asks each tracker of the torrent how many seeders, leechers and completed
downloads it counts (a scrape: BEP 48 for http(s) trackers, BEP 15 for udp).

Options:
  -j, --json   one JSON object per tracker, in an array
  -h, --help   print this help

Exit status: 0 when some tracker answered; 6 when none did; 26 for a torrent
that cannot be read; 28 for bad arguments.
";

/// Runs `swarmget scrape` with the arguments after the subcommand.
pub fn run(args: &[String]) -> ExitCode {
    let (mut json, mut path) = (false, None);
    for a in args {
        match a.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "-j" | "--json" => json = true,
            p if !p.starts_with('-') && path.is_none() => path = Some(p),
            other => return refuse(&format!("unexpected argument `{other}`")),
        }
    }
    let Some(path) = path else {
        return refuse("a .torrent file is required");
    };
    let torrent = match std::fs::read(path)
        .map_err(|e| format!("{path}: {e}"))
        .and_then(|b| Torrent::parse(&b).map_err(|e| e.to_string()))
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("swarmget scrape: {e}");
            return ExitCode::from(ErrorCode::BtMetainfo.exit_code());
        }
    };
    let hash = torrent.info_hash();
    let opts = Options::default();
    let mut answered = 0;
    let mut rows = Vec::new();
    for tracker in torrent.metainfo().tracker_tiers().into_iter().flatten() {
        let result = swarmget_engine::scrape(&tracker, &[hash], &opts);
        let stats = result.map(|files| files.into_iter().find(|(h, _)| *h == hash));
        let row = match &stats {
            Ok(Some((_, s))) => {
                answered += 1;
                serde_json::json!({"tracker": tracker, "complete": s.complete,
                    "incomplete": s.incomplete, "downloaded": s.downloaded})
            }
            Ok(None) => {
                answered += 1;
                serde_json::json!({"tracker": tracker, "error": "the tracker does not know the torrent"})
            }
            Err(e) => serde_json::json!({"tracker": tracker, "error": e.message}),
        };
        if !json {
            match &stats {
                Ok(Some((_, s))) => println!(
                    "{tracker}: {} seeders, {} leechers, {} completed",
                    s.complete, s.incomplete, s.downloaded
                ),
                _ => println!("{tracker}: {}", row["error"].as_str().unwrap_or_default()),
            }
        }
        rows.push(row);
    }
    if json {
        println!("{}", serde_json::Value::Array(rows));
    }
    if answered > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(ErrorCode::Network.exit_code())
    }
}

fn refuse(message: &str) -> ExitCode {
    eprintln!("swarmget scrape: {message}\n\n{USAGE}");
    ExitCode::from(ErrorCode::BadOption.exit_code())
}

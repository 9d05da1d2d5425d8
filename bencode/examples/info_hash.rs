//! Prints the BitTorrent v1 info-hash of a `.torrent` file: the SHA-1 of the `info`
//! dictionary's bytes exactly as they appear in the file.
//!
//! ```sh
//! cargo run -p swarmget-bencode --example info_hash -- some.torrent
//! ```

use std::process::ExitCode;

use sha1::{Digest, Sha1};
use swarmget_bencode::Decoder;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: info_hash <file.torrent>");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("{}: {error}", path.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    // Real torrents are not always canonical; read them anyway and say where they are not.
    let decoded = match Decoder::new().lenient(true).decode(&bytes) {
        Ok(decoded) => decoded,
        Err(error) => {
            eprintln!("{}: not bencode: {error}", path.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    for warning in &decoded.warnings {
        eprintln!("warning: {warning}");
    }
    let Some(info) = decoded
        .value
        .get("info")
        .filter(|info| info.as_dict().is_some())
    else {
        eprintln!("{}: no info dictionary", path.to_string_lossy());
        return ExitCode::FAILURE;
    };

    let hash = Sha1::digest(info.raw());
    let hex: String = hash.iter().map(|byte| format!("{byte:02x}")).collect();
    let name = info
        .get("name")
        .and_then(|name| name.as_str())
        .unwrap_or("?");
    println!("{hex}  {name}");
    println!(
        "info dictionary: bytes {}..{} of {}",
        info.span().start,
        info.span().end,
        bytes.len()
    );
    ExitCode::SUCCESS
}

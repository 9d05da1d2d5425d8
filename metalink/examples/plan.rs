//! Prints the download plan for a Metalink document: which files, which hash to
//! check, and the mirrors in the order to try them.
//!
//! `cargo run -p swarmget-metalink --example plan -- [FILE.meta4] [LOCATIONS]`
//! Without a file, a built-in MirrorBrain-style document is used.

use swarmget_metalink::{ParseOptions, Preferences, parse};

const BUILT_IN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<metalink xmlns="urn:ietf:params:xml:ns:metalink">
  <generator>MirrorBrain/2.19.0</generator>
  <file name="Example-NET-x86_64.iso">
    <size>13631488</size>
    <hash type="md5">5d8b2e0c3d2b3e1e8a3f0b6bd6d5d1a4</hash>
    <hash type="sha-256">0b5e5f1f0b0a4d8bb2e0a0f1e9d1c0b3a2f4e6d8c0b2a4f6e8d0c2b4a6f8e0d2</hash>
    <url location="de" priority="1">http://ftp.example.de/iso/Example-NET-x86_64.iso</url>
    <url location="us" priority="2">https://mirrors.example.edu/iso/Example-NET-x86_64.iso</url>
    <url location="jp" priority="3">ftp://ftp.example.jp/iso/Example-NET-x86_64.iso</url>
    <metaurl mediatype="torrent">http://download.example.org/iso/Example-NET-x86_64.iso.torrent</metaurl>
  </file>
</metalink>"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let document = match args.first() {
        Some(path) => std::fs::read(path)?,
        None => BUILT_IN.as_bytes().to_vec(),
    };
    let preferences = Preferences {
        locations: Preferences::parse_locations(args.get(1).map_or("jp", String::as_str))
            .map_err(|bad| format!("not a country code: {bad}"))?,
        ..Preferences::default()
    };
    let parsed = parse(&document, &ParseOptions::default())?;
    for warning in &parsed.warnings {
        eprintln!("warning: {warning}");
    }
    for (index, file) in parsed.metalink.select_files(&preferences) {
        let size = file
            .size
            .map_or_else(|| "size unknown".to_owned(), |s| format!("{s} bytes"));
        println!("{}. {} ({size})", index + 1, file.name);
        if let Some(hash) = file.strongest_hash() {
            println!("   verify {} {}", hash.algorithm(), hash.to_hex());
        }
        for url in file.ordered_urls(&preferences) {
            println!("   try {}", url.url);
        }
        for metaurl in file.ordered_metaurls() {
            println!("   meta {} {}", metaurl.media_type, metaurl.url);
        }
    }
    Ok(())
}

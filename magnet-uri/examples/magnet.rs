//! Parse a magnet link and read its typed hashes, then hash some bytes and build a link.
//!
//! `cargo run -p swarmget-magnet-uri --example magnet -- [LINK]`

use swarmget_magnet_uri::hash::{Algorithms, Hasher};
use swarmget_magnet_uri::{ExactTopic, Magnet};

fn main() {
    let link = std::env::args().nth(1).unwrap_or_else(|| {
        "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Some%20File.iso\
         &tr=udp%3A%2F%2Ftracker.example.org%3A6969&so=0,2-3&x.pe=[2001:db8::1]:6881"
            .to_owned()
    });
    match Magnet::parse(&link) {
        Ok(magnet) => {
            for (i, group) in magnet.groups.iter().enumerate() {
                println!("file {}: {:?}", i + 1, group.display_name);
                for topic in &group.exact_topics {
                    match topic {
                        ExactTopic::Btih(hash) => {
                            println!("  BitTorrent v1 info hash, {} bytes", hash.len())
                        }
                        ExactTopic::Other { urn } => println!("  unknown URN kept: {urn}"),
                        other => println!("  {}: {other}", other.kind().unwrap_or("?")),
                    }
                }
                println!("  trackers: {:?}", group.trackers);
                println!(
                    "  peers: {:?}",
                    group
                        .peers
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                );
            }
            println!("canonical: {magnet}");
        }
        Err(e) => {
            eprintln!("not a valid magnet link: {e}");
            std::process::exit(1);
        }
    }

    let mut hasher = Hasher::new(Algorithms::ALL);
    hasher.update(b"hello, magnet\n");
    let digests = hasher.finish();
    println!(
        "{}",
        Magnet::from_hashes("hello.txt", digests.size, &digests)
    );
}

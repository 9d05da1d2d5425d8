//! A peer that serves only a torrent's metadata (BEP 9 over BEP 10), honestly or not,
//! for magnet-link tests: it answers the handshake, sends an extension handshake
//! announcing `ut_metadata` and a metadata size, and answers every `ut_metadata`
//! request with a data message.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;

use swarmget_bt_wire::extension::{METADATA_PIECE, MetadataMessage};
use swarmget_bt_wire::wire::{ExtensionHandshake, Message};

use crate::peer_io::{each_message, greet, send_extended};

/// How the peer behaves.
pub enum MetadataBehaviour {
    /// Serves the true metadata, once `gate` gives the word (or at once without one).
    Honest {
        /// Holds the extension handshake back until a message (or a hang-up) arrives.
        gate: Option<Receiver<()>>,
    },
    /// Announces the true size and serves bytes that do not hash to the info-hash.
    Liar,
    /// Announces a metadata size of `size` bytes and nothing more.
    Size(u64),
}

/// The peer: it serves every connection the same way until the process ends.
pub struct MetadataPeer {
    addr: SocketAddr,
    served: Arc<Mutex<usize>>,
}

impl MetadataPeer {
    /// A peer of `info_hash` holding `info` (the info dictionary's bytes) that behaves
    /// as `behaviour` says; `done` hears once for each connection that ends.
    pub fn start(
        info_hash: [u8; 20],
        info: Vec<u8>,
        behaviour: MetadataBehaviour,
        done: Option<Sender<()>>,
    ) -> MetadataPeer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let served = Arc::new(Mutex::new(0));
        let count = served.clone();
        thread::spawn(move || {
            let mut behaviour = behaviour;
            for sock in listener.incoming() {
                let Ok(sock) = sock else { return };
                let _ = serve(sock, info_hash, &info, &mut behaviour, &count);
                if let Some(done) = &done {
                    let _ = done.send(());
                }
            }
        });
        MetadataPeer { addr, served }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Data messages sent.
    pub fn served(&self) -> usize {
        *self.served.lock().unwrap()
    }
}

fn serve(
    mut sock: TcpStream,
    info_hash: [u8; 20],
    info: &[u8],
    behaviour: &mut MetadataBehaviour,
    served: &Mutex<usize>,
) -> std::io::Result<()> {
    if !greet(&mut sock, info_hash, *b"-MD0001-metadatapeer")? {
        return Ok(());
    }
    if let MetadataBehaviour::Honest { gate: Some(gate) } = behaviour {
        let _ = gate.recv();
    }
    let size = match behaviour {
        MetadataBehaviour::Size(size) => *size,
        _ => info.len() as u64,
    };
    let ours = ExtensionHandshake {
        m: BTreeMap::from([("ut_metadata".to_string(), 1)]),
        metadata_size: Some(size),
        ..ExtensionHandshake::default()
    };
    send_extended(&mut sock, 0, &ours.encode())?;
    let liar = matches!(behaviour, MetadataBehaviour::Liar);
    let mut their_id = None;
    each_message(&mut sock, |msg, out| {
        let Message::Extended { id, payload } = msg else {
            return;
        };
        if id == 0 {
            their_id = ExtensionHandshake::parse(payload)
                .ok()
                .and_then(|h| h.id_of("ut_metadata"));
            return;
        }
        let (Ok(MetadataMessage::Request { piece }), Some(their)) =
            (MetadataMessage::parse(payload), their_id)
        else {
            return;
        };
        let start = piece as usize * METADATA_PIECE;
        let Some(data) = info.get(start..(start + METADATA_PIECE).min(info.len())) else {
            return;
        };
        let mut data = data.to_vec();
        if liar {
            data.iter_mut().for_each(|b| *b ^= 0x5a);
        }
        let mut reply = Vec::new();
        MetadataMessage::Data {
            piece,
            total_size: size,
            data: &data,
        }
        .encode(&mut reply);
        Message::Extended {
            id: their,
            payload: &reply,
        }
        .encode(out);
        *served.lock().unwrap() += 1;
    })
}

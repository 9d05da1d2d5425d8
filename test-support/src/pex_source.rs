//! A peer that has no piece and speaks only peer exchange (BEP 11), for PEX tests: it
//! answers the handshake, sends an extension handshake offering `ut_pex` and one PEX
//! message naming the peers it is given, and records the extension handshake and the
//! PEX messages it receives.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use swarmget_bt_wire::extension::{PexMessage, PexPeer};
use swarmget_bt_wire::wire::{ExtensionHandshake, Message};

use crate::peer_io::{each_message, greet, send_extended};

/// Our `ut_pex` id.
const UT_PEX: u8 = 7;

#[derive(Default)]
struct Log {
    handshakes: Vec<ExtensionHandshake>,
    received: Vec<PexMessage>,
}

/// The peer; it serves every connection until the process ends.
pub struct PexSource {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
}

impl PexSource {
    /// A peer of `info_hash` that tells whoever connects about `peers`.
    pub fn start(info_hash: [u8; 20], peers: Vec<SocketAddr>) -> PexSource {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Log::default()));
        let shared = log.clone();
        thread::spawn(move || {
            for sock in listener.incoming() {
                let Ok(sock) = sock else { return };
                let (peers, log) = (peers.clone(), shared.clone());
                thread::spawn(move || serve(sock, info_hash, &peers, &log));
            }
        });
        PexSource { addr, log }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The extension handshakes received.
    pub fn handshakes(&self) -> Vec<ExtensionHandshake> {
        self.log.lock().unwrap().handshakes.clone()
    }

    /// The PEX messages received.
    pub fn received(&self) -> Vec<PexMessage> {
        self.log.lock().unwrap().received.clone()
    }
}

fn serve(
    mut sock: TcpStream,
    info_hash: [u8; 20],
    peers: &[SocketAddr],
    log: &Mutex<Log>,
) -> std::io::Result<()> {
    // One peer id per source (a client drops a second connection with the same id).
    let mut peer_id = *b"-PX0001-pexsource000";
    let port = sock.local_addr()?.port().to_string();
    peer_id[20 - port.len()..].copy_from_slice(port.as_bytes());
    if !greet(&mut sock, info_hash, peer_id)? {
        return Ok(());
    }
    let ours = ExtensionHandshake {
        m: BTreeMap::from([("ut_pex".to_string(), UT_PEX)]),
        ..ExtensionHandshake::default()
    };
    send_extended(&mut sock, 0, &ours.encode())?;
    let ours = PexMessage {
        added: peers
            .iter()
            .map(|&addr| PexPeer { addr, flags: 0 })
            .collect(),
        dropped: Vec::new(),
    };
    each_message(&mut sock, |msg, out| match msg {
        Message::Extended { id: 0, payload } => {
            let Ok(h) = ExtensionHandshake::parse(payload) else {
                return;
            };
            // Told once, as soon as the peer says where it takes PEX.
            if let Some(id) = h.id_of("ut_pex") {
                Message::Extended {
                    id,
                    payload: &ours.encode(),
                }
                .encode(out);
            }
            log.lock().unwrap().handshakes.push(h);
        }
        Message::Extended {
            id: UT_PEX,
            payload,
        } => {
            if let Ok(m) = PexMessage::parse(payload) {
                log.lock().unwrap().received.push(m);
            }
        }
        _ => {}
    })
}

//! A peer that has no piece and speaks only peer exchange (BEP 11), for PEX tests: it
//! answers the handshake, sends an extension handshake offering `ut_pex` and one PEX
//! message naming the peers it is given, and records the extension handshake and the
//! PEX messages it receives.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use swarmget_bt_wire::extension::{PexMessage, PexPeer};
use swarmget_bt_wire::wire::{ExtensionHandshake, FrameDecoder, Handshake, Limits, Message};

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
    let mut hs = [0u8; Handshake::LEN];
    sock.read_exact(&mut hs)?;
    if Handshake::parse(&hs)
        .ok()
        .flatten()
        .is_none_or(|h| h.info_hash != info_hash)
    {
        return Ok(());
    }
    // One peer id per source (a client drops a second connection with the same id).
    let mut peer_id = *b"-PX0001-pexsource000";
    let port = sock.local_addr()?.port().to_string();
    peer_id[20 - port.len()..].copy_from_slice(port.as_bytes());
    let mut out = Handshake::new(info_hash, peer_id, false).encode().to_vec();
    let ours = ExtensionHandshake {
        m: BTreeMap::from([("ut_pex".to_string(), UT_PEX)]),
        ..ExtensionHandshake::default()
    };
    Message::Extended {
        id: 0,
        payload: &ours.encode(),
    }
    .encode(&mut out);
    sock.write_all(&out)?;
    let mut their_pex = None;
    let mut told = false;
    let mut decoder = FrameDecoder::new(Limits::default());
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = sock.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        decoder.extend(&buf[..n]);
        while let Some(msg) = decoder.next().map_err(std::io::Error::other)? {
            match msg {
                Message::Extended { id: 0, payload } => {
                    if let Ok(h) = ExtensionHandshake::parse(payload) {
                        their_pex = h.id_of("ut_pex");
                        log.lock().unwrap().handshakes.push(h);
                    }
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
            }
        }
        if let (Some(id), false) = (their_pex, told) {
            told = true;
            let message = PexMessage {
                added: peers
                    .iter()
                    .map(|&addr| PexPeer { addr, flags: 0 })
                    .collect(),
                dropped: Vec::new(),
            };
            let mut out = Vec::new();
            Message::Extended {
                id,
                payload: &message.encode(),
            }
            .encode(&mut out);
            sock.write_all(&out)?;
        }
    }
}

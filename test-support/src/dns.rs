//! A DNS server on loopback UDP for `--async-dns-server` tests: it answers A and AAAA
//! queries for the names it was given, NXDOMAIN for others, and remembers each name
//! it was asked.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running DNS server; stops when dropped.
pub struct DnsServer {
    addr: SocketAddr,
    asked: Arc<Mutex<Vec<String>>>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    /// Serves `names` (lower-case, without the final dot) on 127.0.0.1, a free port.
    pub fn start(names: &[(&str, IpAddr)]) -> io::Result<DnsServer> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        let addr = socket.local_addr()?;
        let mut table: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for (name, ip) in names {
            table.entry(name.to_string()).or_default().push(*ip);
        }
        let asked = Arc::new(Mutex::new(Vec::new()));
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let (asked, stopping) = (asked.clone(), stopping.clone());
            std::thread::Builder::new()
                .name(format!("test-dns-{}", addr.port()))
                .spawn(move || serve(&socket, &table, &asked, &stopping))?
        };
        Ok(DnsServer {
            addr,
            asked,
            stopping,
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every name asked for, in order (one entry per query).
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    socket: &UdpSocket,
    table: &HashMap<String, Vec<IpAddr>>,
    asked: &Mutex<Vec<String>>,
    stopping: &AtomicBool,
) {
    let mut buf = [0u8; 512];
    while !stopping.load(Ordering::SeqCst) {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let Some((name, qtype, question_end)) = question(&buf[..n]) else {
            continue;
        };
        asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(name.clone());
        let mut reply = buf[..question_end].to_vec();
        reply[2] = 0x81; // response, recursion desired
        reply[3] = 0x80; // recursion available, no error
        reply[6..12].fill(0);
        match table.get(&name) {
            None => reply[3] |= 3, // NXDOMAIN
            Some(ips) => {
                let records: Vec<&IpAddr> = ips
                    .iter()
                    .filter(|ip| (qtype == 1 && ip.is_ipv4()) || (qtype == 28 && ip.is_ipv6()))
                    .collect();
                reply[6..8].copy_from_slice(&(records.len() as u16).to_be_bytes());
                for ip in records {
                    reply.extend_from_slice(&[0xc0, 12]);
                    reply.extend_from_slice(&qtype.to_be_bytes());
                    reply.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
                    let data = match ip {
                        IpAddr::V4(v4) => v4.octets().to_vec(),
                        IpAddr::V6(v6) => v6.octets().to_vec(),
                    };
                    reply.extend_from_slice(&(data.len() as u16).to_be_bytes());
                    reply.extend_from_slice(&data);
                }
            }
        }
        let _ = socket.send_to(&reply, from);
    }
}

/// The first question's name (lower-case), type and where the question ends.
fn question(msg: &[u8]) -> Option<(String, u16, usize)> {
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*msg.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(msg.get(at..at + len)?).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*msg.get(at)?, *msg.get(at + 1)?]);
    Some((labels.join("."), qtype, at + 4))
}

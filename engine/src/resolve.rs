//! Name resolution on a worker thread: `getaddrinfo` blocks, so the loop hands each
//! lookup to this thread and hears back through its waker. With `--async-dns-server`
//! the thread asks those servers itself (A and AAAA over UDP, [`crate::dns_message`])
//! instead of the system's resolver.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;

/// A finished lookup.
pub struct Resolved {
    /// The caller's tag for this lookup.
    pub tag: usize,
    /// Addresses in the resolver's order, or the failure.
    pub result: std::io::Result<Vec<SocketAddr>>,
}

/// Handle on the resolver thread.
pub struct Resolver {
    jobs: Option<Sender<(usize, String, u16)>>,
    thread: Option<JoinHandle<()>>,
}

impl Resolver {
    /// Starts the thread; `notify` runs after each answer is queued on `done`.
    /// `servers` (`--async-dns-server`) replace the system's resolver when given;
    /// `ipv6` says whether AAAA records are asked for.
    pub fn start(
        done: Sender<Resolved>,
        notify: impl Fn() + Send + 'static,
        servers: Vec<SocketAddr>,
        ipv6: bool,
    ) -> Resolver {
        let (jobs, rx) = channel::<(usize, String, u16)>();
        let thread = std::thread::Builder::new()
            .name("swarmget-dns".into())
            .spawn(move || {
                for (tag, host, port) in rx {
                    let result = if servers.is_empty() {
                        (host.as_str(), port).to_socket_addrs().map(|a| a.collect())
                    } else {
                        crate::dns_stub::lookup(&servers, &host, ipv6).map(|ips| {
                            ips.into_iter()
                                .map(|ip| SocketAddr::new(ip, port))
                                .collect()
                        })
                    };
                    if done.send(Resolved { tag, result }).is_err() {
                        return;
                    }
                    notify();
                }
            })
            .expect("spawn resolver thread");
        Resolver {
            jobs: Some(jobs),
            thread: Some(thread),
        }
    }

    /// Queues a lookup of `host:port`.
    pub fn lookup(&self, tag: usize, host: &str, port: u16) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send((tag, host.to_string(), port));
        }
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            // A lookup in progress may take a while; do not hold up exit for it.
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

/// Orders addresses for Happy Eyeballs (RFC 8305 §4): alternate families, starting
/// with the family of the first address the resolver returned.
pub fn interleave(addrs: Vec<SocketAddr>, disable_ipv6: bool) -> Vec<SocketAddr> {
    let first_v6 = addrs.first().is_some_and(|a| a.is_ipv6());
    let (mut v6, mut v4): (Vec<_>, Vec<_>) = addrs.into_iter().partition(|a| a.is_ipv6());
    if disable_ipv6 {
        v6.clear();
    }
    let (mut a, mut b) = if first_v6 {
        (v6, v4.split_off(0))
    } else {
        (std::mem::take(&mut v4), v6)
    };
    a.reverse();
    b.reverse();
    let mut out = Vec::with_capacity(a.len() + b.len());
    loop {
        match (a.pop(), b.pop()) {
            (None, None) => return out,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaves_families_starting_with_the_first() {
        let addrs: Vec<SocketAddr> = [
            "[::1]:80",
            "[::2]:80",
            "1.1.1.1:80",
            "2.2.2.2:80",
            "3.3.3.3:80",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let got: Vec<String> = interleave(addrs.clone(), false)
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(
            got,
            [
                "[::1]:80",
                "1.1.1.1:80",
                "[::2]:80",
                "2.2.2.2:80",
                "3.3.3.3:80"
            ]
        );
        let v4only = interleave(addrs, true);
        assert!(v4only.iter().all(|a| a.is_ipv4()) && v4only.len() == 3);
    }
}

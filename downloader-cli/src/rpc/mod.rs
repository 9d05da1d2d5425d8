//! `--enable-rpc`: swarmget as an aria2-compatible daemon.
//!
//! The process starts the engine, queues the command line's downloads (paused with
//! `--pause`), and serves aria2's JSON-RPC, XML-RPC and WebSocket interface on its own
//! thread ([`server`]) until `aria2.shutdown`/`forceShutdown` or SIGINT/SIGTERM. An
//! empty queue does not end it.

mod methods;
mod paths;
mod render;
mod server;
mod session;
mod tls;

use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::sync::mpsc::RecvTimeoutError;
use std::time::Instant;

use swarmget_engine::log::LogLevel;
use swarmget_engine::{DownloadSpec, DownloadState, Engine, ErrorCode, Event, Options};
use swarmget_rpc::auth::{BasicAuth, Secret};

/// Runs the daemon; returns the exit code.
pub fn run(opts: &Options, specs: Vec<DownloadSpec>) -> u8 {
    if opts.save_session.is_none() && !opts.save_session_interval.is_zero() {
        eprintln!("swarmget: --save-session-interval needs --save-session");
        return ErrorCode::BadOption.exit_code();
    }
    let tls = match tls::server_config(opts) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("swarmget: RPC: {e}");
            return ErrorCode::Unknown.exit_code();
        }
    };
    let listeners = match listen(opts) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "swarmget: RPC: cannot listen on port {}: {e}",
                opts.rpc_listen_port
            );
            return ErrorCode::Unknown.exit_code();
        }
    };
    for l in &listeners {
        if let Ok(addr) = l.local_addr() {
            eprintln!("swarmget: RPC: listening on {addr}");
        }
    }
    // Listening, and no thread started yet: the moment to detach.
    if opts.daemon
        && let Err(e) = crate::daemon::detach()
    {
        eprintln!("swarmget: {e}");
        return ErrorCode::Unknown.exit_code();
    }
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("swarmget: cannot read the working directory: {e}");
            return ErrorCode::Unknown.exit_code();
        }
    };
    let log = match crate::log::LogFile::open(opts) {
        Ok(log) => log,
        Err(e) => {
            eprintln!("swarmget: {e}");
            return e.code.exit_code();
        }
    };
    let handle = match Engine::start(opts) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("swarmget: cannot start: {e}");
            return ErrorCode::Unknown.exit_code();
        }
    };
    if let Some(pid) = opts.stop_with_process {
        crate::daemon::stop_with_process(pid, handle.interrupter());
    }
    let (Ok(events), Ok(rpc_events)) = (handle.subscribe(), handle.subscribe()) else {
        return ErrorCode::Unknown.exit_code();
    };
    for spec in specs {
        if let Err(e) = handle.add(spec) {
            eprintln!("swarmget: {e}");
        }
    }
    let methods = methods::Methods::new(
        handle.clone(),
        opts.rpc_secret.as_deref().map(Secret::new),
        methods::confinement(&cwd, opts),
    );
    let config = server::Config {
        max_request: opts.rpc_max_request_size as usize,
        allow_origin_all: opts.rpc_allow_origin_all,
        tls,
        basic_auth: opts.rpc_user.as_deref().map(|user| {
            eprintln!("swarmget: warning: --rpc-user and --rpc-passwd are deprecated (as in aria2); use --rpc-secret");
            BasicAuth::new(user, opts.rpc_passwd.as_deref().unwrap_or(""))
        }),
    };
    let server =
        match server::Server::new(listeners, methods, config, rpc_events, handle.interrupter()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("swarmget: RPC: {e}");
                return ErrorCode::Unknown.exit_code();
            }
        };
    let thread = std::thread::Builder::new()
        .name("rpc".into())
        .spawn(move || server.run());
    if let Err(e) = thread {
        eprintln!("swarmget: RPC: {e}");
        return ErrorCode::Unknown.exit_code();
    }
    crate::install_signal_handlers(handle.interrupter());
    // The engine halts on SIGINT/SIGTERM or when the server asks it to (shutdown).
    let hooks = crate::hooks::Hooks::new(opts);
    // Notices and log records as the command line shows them; no live line (the
    // daemon's downloads are the clients' to show).
    let tty = if opts.stderr {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    let mut console = crate::readout::Console::new(opts, tty, log);
    // --save-session-interval: the session is written again whenever it comes round.
    let interval = opts
        .save_session
        .as_ref()
        .filter(|_| !opts.save_session_interval.is_zero())
        .map(|path| (path, opts.save_session_interval));
    let mut next_save = interval.map(|(_, every)| Instant::now() + every);
    loop {
        let event = match next_save {
            None => match events.recv() {
                Ok(e) => e,
                Err(_) => break,
            },
            Some(at) => match events.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(e) => e,
                Err(RecvTimeoutError::Timeout) => {
                    if let Some((path, every)) = interval {
                        if let Err(e) = session::save(&handle, path) {
                            eprintln!("swarmget: {e}");
                        }
                        next_save = Some(Instant::now() + every);
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            },
        };
        hooks.fire(&handle, &event);
        match event {
            Event::Halted => break,
            Event::Notice(gid, message) => console.record(LogLevel::Warn, Some(gid), &message),
            Event::Log(level, gid, message) => console.record(level, gid, &message),
            Event::Complete(gid) | Event::Error(gid) | Event::Stop(gid) => {
                if let Ok(st) = handle.tell_status(gid) {
                    console.finished(&st);
                }
            }
            Event::Start(_) | Event::Pause(_) | Event::BtComplete(_) => {}
        }
    }
    // The halted engine still answers: its downloads stopped resumably, as waiting.
    if let Some(path) = &opts.save_session
        && let Err(e) = session::save(&handle, path)
    {
        eprintln!("swarmget: {e}");
    }
    let Ok(results) = handle.shutdown() else {
        return ErrorCode::Unknown.exit_code();
    };
    console.print(&crate::readout::results_table(
        &results,
        opts.download_result,
    ));
    // As aria2's daemon: the last error, else success (unfinished downloads were the
    // client's to manage).
    results
        .iter()
        .rev()
        .find_map(|r| match &r.state {
            DownloadState::Error(e) => Some(e.code.exit_code()),
            _ => None,
        })
        .unwrap_or(0)
}

/// The listening sockets: loopback (IPv4 and, where available, IPv6) unless
/// `--rpc-listen-all`. With port 0 the IPv6 socket takes the port IPv4 got.
fn listen(opts: &Options) -> std::io::Result<Vec<TcpListener>> {
    let (v4, v6): (IpAddr, IpAddr) = if opts.rpc_listen_all {
        (Ipv4Addr::UNSPECIFIED.into(), Ipv6Addr::UNSPECIFIED.into())
    } else {
        (Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into())
    };
    let first = TcpListener::bind(SocketAddr::new(v4, opts.rpc_listen_port))?;
    let port = first.local_addr()?.port();
    let mut all = vec![first];
    // IPv6 is optional: a host without it still serves IPv4.
    if let Ok(l) = bind_v6_only(SocketAddr::new(v6, port)) {
        all.push(l);
    }
    Ok(all)
}

fn bind_v6_only(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let s = socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::STREAM, None)?;
    s.set_only_v6(true)?;
    s.set_reuse_address(true)?;
    s.bind(&addr.into())?;
    s.listen(128)?;
    Ok(s.into())
}

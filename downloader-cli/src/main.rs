//! `swarmget`: an aria2c-compatible download utility.
//!
//! `swarmget [OPTIONS] URI…` downloads (URIs given together are mirrors of one file,
//! or separate downloads with `-Z`); `-i FILE` reads downloads from an input file.
//! `swarmget magnet …` and `swarmget metalink …` are tools over the format crates.
//! Exit codes are aria2c's.

mod args;
mod aria2_options;
mod daemon;
mod feed;
mod flags;
mod help;
mod hex;
mod hooks;
mod input_file;
mod inputs;
mod log;
mod magnet;
mod make_torrent;
mod metalink;
mod readout;
mod rpc;
mod scrape;
#[cfg(test)]
mod scratch;
mod show_files;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use swarmget_engine::log::LogLevel;
use swarmget_engine::{
    DownloadSpec, DownloadState, Engine, Error, ErrorCode, Event, Handle, Interrupter, Options,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("magnet") => magnet::run(&args[1..]),
        Some("metalink") => metalink::run(&args[1..]),
        Some("make-torrent") => make_torrent::run(&args[1..]),
        Some("scrape") => scrape::run(&args[1..]),
        _ => ExitCode::from(download(&args)),
    }
}

fn download(args: &[String]) -> u8 {
    let cl = match args::parse_command_line(args) {
        Ok(cl) => cl,
        Err(e) => {
            eprintln!("swarmget: {e}\nUsage: swarmget [OPTIONS] [URI]... (see --help)");
            return ErrorCode::BadOption.exit_code();
        }
    };
    if cl.version {
        println!("swarmget version {}", env!("CARGO_PKG_VERSION"));
        println!("Enabled Features: HTTP, HTTPS, Message Digest");
        // aria2 lists its digests here; these are the names `--checksum` accepts.
        let kinds: Vec<&str> = swarmget_engine::digest::HashKind::ALL
            .iter()
            .rev()
            .map(|k| k.name())
            .collect();
        println!("Hash Algorithms: {}", kinds.join(", "));
        return 0;
    }
    if let Some(tag) = &cl.help {
        print!("{}", help::render(tag));
        return 0;
    }
    let opts = match args::global_options(&cl, &mut |w| eprintln!("swarmget: warning: {w}")) {
        Ok(o) => o,
        Err((code, e)) => {
            eprintln!("swarmget: {e}");
            return code;
        }
    };
    if opts.show_files {
        let (stdin, stdout, stderr) = (std::io::stdin(), std::io::stdout(), std::io::stderr());
        return show_files::run(
            &cl.uris,
            &opts,
            &mut stdin.lock(),
            &mut stdout.lock(),
            &mut stderr.lock(),
        );
    }
    let specs = match specs(&cl.uris, &opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("swarmget: {e}");
            return e.code.exit_code();
        }
    };
    let mut feed = match feed::Feed::new(specs, &opts) {
        Ok(feed) => feed,
        Err(e) => {
            eprintln!("swarmget: {e}");
            return e.code.exit_code();
        }
    };
    raise_open_file_limit(opts.rlimit_nofile);
    if opts.enable_rpc {
        return rpc::run(&opts, feed.into_specs());
    }
    // Only the daemon saves sessions so far (nothing accepted and then ignored).
    if opts.save_session.is_some() || !opts.save_session_interval.is_zero() {
        eprintln!("swarmget: --save-session needs --enable-rpc");
        return ErrorCode::BadOption.exit_code();
    }
    if feed.is_empty() {
        eprintln!("swarmget: no URI to download. Usage: swarmget [OPTIONS] [URI]... (see --help)");
        return ErrorCode::Unknown.exit_code();
    }
    let log = match log::LogFile::open(&opts) {
        Ok(log) => log,
        Err(e) => {
            eprintln!("swarmget: {e}");
            return e.code.exit_code();
        }
    };
    if opts.daemon
        && let Err(e) = daemon::detach()
    {
        eprintln!("swarmget: {e}");
        return ErrorCode::Unknown.exit_code();
    }
    let handle = match Engine::start(&opts) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("swarmget: cannot start: {e}");
            return ErrorCode::Unknown.exit_code();
        }
    };
    if let Some(pid) = opts.stop_with_process {
        daemon::stop_with_process(pid, handle.interrupter());
    }
    let Ok(events) = handle.subscribe() else {
        return ErrorCode::Unknown.exit_code();
    };
    feed.top_up(&handle);
    install_signal_handlers(handle.interrupter());
    let tty = if opts.stderr {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    let mut console = readout::Console::new(&opts, tty, log);
    let hooks = hooks::Hooks::new(&opts);
    follow(&handle, &events, &mut console, &mut feed, &hooks);
    let forgotten = handle.forgotten().unwrap_or_default();
    let Ok(mut results) = handle.shutdown() else {
        return ErrorCode::Unknown.exit_code();
    };
    // The table lists downloads in the order they were given; downloads that others
    // produced come after them.
    results.sort_by_key(|r| feed.order.position(r.gid));
    for r in results.iter().filter(|r| !r.state.is_stopped()) {
        console.finished(r);
    }
    console.print(&readout::results_table(&results, opts.download_result));
    // aria2: the last error wins; "unfinished" only when nothing failed. Results
    // dropped under --max-download-result count too.
    let mut code = feed
        .last_error
        .or(forgotten.last_error)
        .map(ErrorCode::exit_code)
        .unwrap_or(0);
    let mut unfinished = forgotten.removed > 0;
    for r in &results {
        match &r.state {
            DownloadState::Error(e) => code = e.code.exit_code(),
            DownloadState::Complete => {}
            DownloadState::Removed
            | DownloadState::Active
            | DownloadState::Waiting
            | DownloadState::Paused => unfinished = true,
        }
    }
    if code == 0 && unfinished {
        code = ErrorCode::Unfinished.exit_code();
    }
    code
}

/// Shows progress and events until the queue is empty or the engine halts (an
/// interrupt or `--stop`), as aria2 does when it runs without RPC.
fn follow(
    handle: &Handle,
    events: &Receiver<Event>,
    console: &mut readout::Console,
    feed: &mut feed::Feed,
    hooks: &hooks::Hooks,
) {
    let idle = |feed: &feed::Feed| {
        feed.is_empty()
            && handle
                .global_stat()
                // Paused downloads wait for an RPC client that the command line has not.
                .is_ok_and(|s| s.num_active + s.num_waiting == s.num_paused)
    };
    // Nothing may be queued at all (every URI refused); then there is nothing to wait
    // for but the events already sent.
    let mut check_idle = true;
    let mut next_tick = Instant::now();
    loop {
        let event = if check_idle && idle(feed) {
            // Everything has ended: show what is left to show, then stop.
            match events.try_recv() {
                Ok(event) => event,
                Err(_) => return,
            }
        } else {
            let wait = next_tick.saturating_duration_since(Instant::now());
            match events.recv_timeout(wait) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => {
                    next_tick = Instant::now();
                    redraw(handle, console, &mut next_tick);
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        check_idle = false;
        hooks.fire(handle, &event);
        match event {
            Event::Notice(gid, message) => console.record(LogLevel::Warn, Some(gid), &message),
            Event::Log(level, gid, message) => console.record(level, gid, &message),
            Event::Complete(gid) | Event::Error(gid) | Event::Stop(gid) => {
                if let Ok(st) = handle.tell_status(gid) {
                    console.finished(&st);
                }
                feed.order.stopped(gid);
                feed.top_up(handle);
                check_idle = true;
            }
            Event::Halted => return,
            Event::Start(_) | Event::Pause(_) | Event::BtComplete(_) => {}
        }
        // A stream of events must not starve the readout.
        redraw(handle, console, &mut next_tick);
    }
}

/// Draws the readout when `next_tick` has come, and sets the next one.
fn redraw(handle: &Handle, console: &mut readout::Console, next_tick: &mut Instant) {
    const TICK: Duration = Duration::from_millis(500);
    let now = Instant::now();
    if now >= *next_tick {
        if let Ok(active) = handle.tell_active() {
            console.progress(now, &active);
        }
        *next_tick = now + TICK;
    }
}

/// Turns `-M` and the command-line arguments (URIs, magnet links, local Metalink
/// documents) into downloads; the input file's follow through the feed.
fn specs(uris: &[String], opts: &Options) -> Result<Vec<DownloadSpec>, Error> {
    let mut warn = |w: String| eprintln!("swarmget: warning: {w}");
    if let Some(path) = &opts.torrent_file {
        let mut specs = inputs::torrent_option(path, uris, opts)?;
        if let Some(source) = &opts.metalink_file {
            specs.extend(inputs::metalink_option(source, &[], opts, &mut warn)?);
        }
        return Ok(specs);
    }
    if let Some(source) = &opts.metalink_file {
        return inputs::metalink_option(source, uris, opts, &mut warn);
    }
    inputs::arguments(uris, opts, &mut warn)
}

/// `--rlimit-nofile`: raises the soft limit of open files to `wanted`, as aria2 does:
/// never lowering it and never past the hard limit. A refusal is not worth stopping
/// for (the downloads run with the limit there is).
fn raise_open_file_limit(wanted: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return;
        }
        let target = wanted.min(limit.rlim_max);
        if target > limit.rlim_cur {
            limit.rlim_cur = target;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

static INTERRUPT: OnceLock<Interrupter> = OnceLock::new();

extern "C" fn on_signal(_: libc::c_int) {
    // Interrupter::interrupt only stores an atomic flag and writes to an eventfd,
    // both async-signal-safe; the engine halts on its next turn.
    if let Some(interrupter) = INTERRUPT.get() {
        interrupter.interrupt();
    }
}

pub(crate) fn install_signal_handlers(interrupter: Interrupter) {
    let _ = INTERRUPT.set(interrupter);
    // SAFETY: the handler only performs an atomic store and an eventfd write.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
}

//! `swarmget`: an aria2c-compatible download utility.
//!
//! `swarmget [OPTIONS] URI…` downloads (URIs given together are mirrors of one file,
//! or separate downloads with `-Z`); `-i FILE` reads downloads from an input file.
//! `swarmget magnet …` and `swarmget metalink …` are tools over the format crates.
//! Exit codes are aria2c's.

mod args;
mod flags;
mod help;
mod inputs;
mod magnet;
mod magnet_download;
mod metalink;
mod metalink_download;
mod readout;
mod show_files;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use swarmget_engine::{DownloadSpec, DownloadState, Engine, Error, ErrorCode, Options};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("magnet") => magnet::run(&args[1..]),
        Some("metalink") => metalink::run(&args[1..]),
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
        println!("Hash Algorithms: sha-1, sha-224, sha-256, sha-384, sha-512, md5");
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
    if specs.is_empty() {
        eprintln!("swarmget: no URI to download. Usage: swarmget [OPTIONS] [URI]... (see --help)");
        return ErrorCode::Unknown.exit_code();
    }
    let mut engine = match Engine::new(&opts) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("swarmget: cannot start: {e}");
            return ErrorCode::Unknown.exit_code();
        }
    };
    let mut last_error = None;
    for spec in specs {
        if let Err(e) = engine.add(spec) {
            eprintln!("swarmget: {e}");
            last_error = Some(e.code);
        }
    }
    install_signal_handlers(engine.interrupt_flag());
    let tty = std::io::stdout().is_terminal();
    let mut console = readout::Console::new(&opts, tty);
    let results = engine.run(&mut console);
    if !opts.quiet {
        print!("{}", readout::results_table(&results, opts.download_result));
    }
    // aria2: the last error wins; "unfinished" only when nothing failed.
    let mut code = last_error.map(ErrorCode::exit_code).unwrap_or(0);
    let mut unfinished = false;
    for r in &results {
        match &r.state {
            DownloadState::Error(e) => code = e.code.exit_code(),
            DownloadState::Stopped | DownloadState::Active | DownloadState::Waiting => {
                unfinished = true
            }
            DownloadState::Complete => {}
        }
    }
    if code == 0 && unfinished {
        code = ErrorCode::Unfinished.exit_code();
    }
    code
}

/// Turns `-M`, command-line arguments (URIs, magnet links, local Metalink documents)
/// and the input file into downloads.
fn specs(uris: &[String], opts: &Options) -> Result<Vec<DownloadSpec>, Error> {
    let mut warn = |w: String| eprintln!("swarmget: warning: {w}");
    if let Some(source) = &opts.metalink_file {
        return inputs::metalink_option(source, uris, opts, &mut warn);
    }
    let mut specs = inputs::arguments(uris, opts, &mut warn)?;
    if let Some(input) = &opts.input_file {
        let unknown = |e: String| Error::new(ErrorCode::Unknown, e);
        for entry in args::read_input(input).map_err(unknown)? {
            let options = args::entry_options(opts, &entry).map_err(unknown)?;
            specs.extend(inputs::arguments(&entry.uris, &options, &mut warn)?);
        }
    }
    Ok(specs)
}

static INTERRUPT: OnceLock<Arc<AtomicBool>> = OnceLock::new();

extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: the event loop notices within one turn (its poll wakes
    // with EINTR or within half a second).
    if let Some(flag) = INTERRUPT.get() {
        flag.store(true, Ordering::Relaxed);
    }
}

fn install_signal_handlers(flag: Arc<AtomicBool>) {
    let _ = INTERRUPT.set(flag);
    // SAFETY: the handler only performs an atomic store.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
}

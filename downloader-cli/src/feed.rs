//! Downloads handed to the engine as it has room for them.
//!
//! The command line's downloads come first, then the input file's, one entry at a
//! time: the engine holds at most a window of queued downloads beyond the running
//! ones, and the feed tops it up whenever one stops. So an input file of a million
//! URIs runs in the memory of a few hundred downloads (with `--max-download-result`
//! bounding the results kept).
//!
//! Without `--deferred-input` the whole file is read once before anything starts,
//! as aria2 does, so a bad line stops the run before any download; the entries are
//! then read again as they are needed (standard input, which cannot be read twice,
//! is kept in memory). With it, a bad entry is reported when it is reached and
//! skipped, and its error counts in the exit code.

use std::collections::{HashMap, VecDeque};
use std::io::BufRead;

use swarmget_engine::{DownloadSpec, Error, ErrorCode, Gid, Handle, Options};

use crate::input_file::{InputEntry, InputReader};
use crate::{args, inputs};

type Entries = Box<dyn Iterator<Item = Result<InputEntry, String>>>;

/// Where downloads come from, and what became of adding them.
pub struct Feed {
    /// Downloads made and not yet added (the command line's, or one entry's).
    pending: VecDeque<DownloadSpec>,
    /// The input file's entries not yet read.
    entries: Option<Entries>,
    /// The global options entries start from.
    opts: Options,
    /// Queued downloads (waiting or running) the engine is given at most.
    window: usize,
    /// The order downloads were added in, for the results table.
    pub order: Order,
    /// The error of the last download that could not be made or added.
    pub last_error: Option<ErrorCode>,
    /// `--pause` was dropped from a download (it needs RPC) and the user was told.
    pause_warned: bool,
}

impl Feed {
    /// A feed of the command line's `specs`, then the input file's entries (read as
    /// `opts` says).
    pub fn new(specs: Vec<DownloadSpec>, opts: &Options) -> Result<Feed, Error> {
        // -M takes precedence over -i, as in aria2 (the -M reader says so).
        let entries = match (&opts.input_file, &opts.metalink_file) {
            (Some(source), None) => Some(open_entries(source, opts)?),
            _ => None,
        };
        Ok(Feed {
            pending: specs.into(),
            entries,
            opts: opts.clone(),
            window: opts.max_concurrent_downloads.saturating_mul(4).max(64),
            order: Order::new(opts.max_download_result),
            last_error: None,
            pause_warned: false,
        })
    }

    /// Whether every download has been handed over.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.entries.is_none()
    }

    /// Every download at once, as they are (`--pause` kept), for the RPC daemon,
    /// whose clients see the whole queue (as aria2's do).
    pub fn into_specs(mut self) -> Vec<DownloadSpec> {
        let mut specs = Vec::new();
        while let Some(spec) = self.next_spec() {
            specs.push(spec);
        }
        specs
    }

    /// Adds downloads until the engine holds `window` queued ones or the feed is
    /// empty.
    pub fn top_up(&mut self, handle: &Handle) {
        let Ok(stat) = handle.global_stat() else {
            return;
        };
        let mut queued = stat.num_active + stat.num_waiting;
        while queued < self.window {
            let Some(mut spec) = self.next_spec() else {
                return;
            };
            // A paused download waits for an RPC client to unpause it, and the
            // command line has none: aria2 ignores --pause without --enable-rpc.
            if spec.options.pause {
                if !std::mem::replace(&mut self.pause_warned, true) {
                    eprintln!(
                        "swarmget: warning: --pause has effect only with RPC; downloading now"
                    );
                }
                spec.options.pause = false;
            }
            match handle.add(spec) {
                Ok(gid) => {
                    self.order.added(gid);
                    queued += 1;
                }
                Err(e) => {
                    eprintln!("swarmget: {e}");
                    self.last_error = Some(e.code);
                }
            }
        }
    }

    /// The next download: a pending one, else the next input entry's.
    fn next_spec(&mut self) -> Option<DownloadSpec> {
        loop {
            if let Some(spec) = self.pending.pop_front() {
                return Some(spec);
            }
            let entries = self.entries.as_mut()?;
            let Some(entry) = entries.next() else {
                self.entries = None;
                return None;
            };
            match entry_specs(entry, &self.opts) {
                Ok(specs) => self.pending.extend(specs),
                Err(e) => {
                    eprintln!("swarmget: {e}");
                    self.last_error = Some(e.code);
                }
            }
        }
    }
}

/// The downloads of one input entry.
fn entry_specs(
    entry: Result<InputEntry, String>,
    opts: &Options,
) -> Result<Vec<DownloadSpec>, Error> {
    let unknown = |e: String| Error::new(ErrorCode::Unknown, e);
    let entry = entry.map_err(unknown)?;
    let options = args::entry_options(opts, &entry).map_err(unknown)?;
    inputs::arguments(&entry.uris, &options, &mut |w| {
        eprintln!("swarmget: warning: {w}")
    })
}

/// The input file's entries, checked whole first unless `--deferred-input`.
fn open_entries(source: &str, opts: &Options) -> Result<Entries, Error> {
    let unknown = |e: String| Error::new(ErrorCode::Unknown, e);
    let open = || -> Result<Box<dyn BufRead>, Error> {
        let file = std::fs::File::open(source).map_err(|e| unknown(format!("{source}: {e}")))?;
        Ok(Box::new(std::io::BufReader::new(file)))
    };
    if source == "-" {
        let stdin: Box<dyn BufRead> = Box::new(std::io::stdin().lock());
        let reader = InputReader::new(stdin, "-");
        if opts.deferred_input {
            return Ok(Box::new(reader));
        }
        let entries: Vec<_> = reader.collect::<Result<_, _>>().map_err(unknown)?;
        for entry in &entries {
            entry_specs(Ok(entry.clone()), opts)?;
        }
        return Ok(Box::new(entries.into_iter().map(Ok)));
    }
    if !opts.deferred_input {
        for entry in InputReader::new(open()?, source) {
            entry_specs(entry, opts)?;
        }
    }
    Ok(Box::new(InputReader::new(open()?, source)))
}

/// The order downloads were added in, remembered for the results still kept.
///
/// The engine keeps the results of the last `--max-download-result` stopped
/// downloads; the table lists those in the order they were given. Positions of
/// downloads that stopped long enough ago to have been dropped are forgotten too, so
/// the map stays as small as what the engine keeps.
pub struct Order {
    next: u64,
    position: HashMap<Gid, u64>,
    stopped: VecDeque<Gid>,
    keep: usize,
}

impl Order {
    fn new(max_download_result: usize) -> Order {
        Order {
            next: 0,
            position: HashMap::new(),
            stopped: VecDeque::new(),
            keep: max_download_result,
        }
    }

    fn added(&mut self, gid: Gid) {
        self.position.insert(gid, self.next);
        self.next += 1;
    }

    /// Download `gid` stopped (its result may be dropped once `keep` more stop).
    pub fn stopped(&mut self, gid: Gid) {
        self.stopped.push_back(gid);
        // Twice what the engine keeps: a result it still holds is never unplaced.
        while self.stopped.len() > self.keep.saturating_mul(2).max(64) {
            if let Some(old) = self.stopped.pop_front() {
                self.position.remove(&old);
            }
        }
    }

    /// Where `gid` was added (downloads that others produced come last).
    pub fn position(&self, gid: Gid) -> u64 {
        self.position.get(&gid).copied().unwrap_or(u64::MAX)
    }
}

//! The disk worker: a thread that opens, allocates, writes, hashes and saves control
//! files for the event loop, so the loop never blocks on the filesystem and the second
//! core does the page-cache copies while the first reads sockets.
//!
//! Jobs run in the order they were sent. That order is what makes resume crash-safe: a
//! control-file save queued after some writes runs after them, so it can only record
//! pieces whose bytes the worker already handed to the kernel.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use crate::control::ControlRecord;
use crate::digest::{Digest, Hasher};
use crate::options::FileAllocation;

/// Which download a job belongs to.
pub type Gid = u64;

/// Work for the disk thread.
pub enum DiskJob {
    /// Reserve space for the output file (`--file-allocation`).
    Allocate {
        /// Download.
        gid: Gid,
        /// The open file.
        file: Arc<File>,
        /// Final length.
        len: u64,
        /// How to allocate.
        allocation: FileAllocation,
    },
    /// Write `buf` at `offset`.
    Write {
        /// Download.
        gid: Gid,
        /// The open file.
        file: Arc<File>,
        /// Byte offset in the file.
        offset: u64,
        /// The buffer; its first `len` bytes are written, and it comes back in
        /// [`DiskDone::Wrote`] for reuse.
        buf: Vec<u8>,
        /// Bytes of `buf` to write.
        len: usize,
    },
    /// Save a control file (crash-safely).
    SaveControl {
        /// Download.
        gid: Gid,
        /// Control file path.
        path: PathBuf,
        /// What to record.
        record: ControlRecord,
    },
    /// Hash a whole file and compare with `expect`.
    Verify {
        /// Download.
        gid: Gid,
        /// File to read.
        path: PathBuf,
        /// Expected digest.
        expect: Digest,
    },
    /// Delete a control file (the download finished).
    RemoveControl {
        /// Download.
        gid: Gid,
        /// Control file path.
        path: PathBuf,
    },
    /// Set the file's final length (streamed downloads of unknown length).
    Truncate {
        /// Download.
        gid: Gid,
        /// The open file.
        file: Arc<File>,
        /// Final length.
        len: u64,
    },
}

/// What the disk thread reports back.
pub enum DiskDone {
    /// [`DiskJob::Allocate`] finished.
    Allocated {
        /// Download.
        gid: Gid,
        /// Outcome.
        result: io::Result<()>,
    },
    /// [`DiskJob::Write`] finished.
    Wrote {
        /// Download.
        gid: Gid,
        /// Offset written.
        offset: u64,
        /// The buffer, for reuse.
        buf: Vec<u8>,
        /// Bytes that were written from it.
        len: usize,
        /// Outcome.
        result: io::Result<()>,
    },
    /// [`DiskJob::SaveControl`] finished.
    Saved {
        /// Download.
        gid: Gid,
        /// Outcome.
        result: io::Result<()>,
    },
    /// [`DiskJob::Verify`] finished: `Ok(true)` when the digest matched.
    Verified {
        /// Download.
        gid: Gid,
        /// Outcome.
        result: io::Result<bool>,
    },
    /// [`DiskJob::RemoveControl`] finished.
    Removed {
        /// Download.
        gid: Gid,
    },
    /// [`DiskJob::Truncate`] finished.
    Truncated {
        /// Download.
        gid: Gid,
        /// Outcome.
        result: io::Result<()>,
    },
}

/// Handle on the disk thread.
pub struct DiskWorker {
    jobs: Option<Sender<DiskJob>>,
    thread: Option<JoinHandle<()>>,
}

impl DiskWorker {
    /// Starts the thread; `notify` runs after each completion is queued on `done`
    /// (the engine passes its `mio::Waker`).
    pub fn start(done: Sender<DiskDone>, notify: impl Fn() + Send + 'static) -> DiskWorker {
        let (jobs, rx) = channel();
        let thread = std::thread::Builder::new()
            .name("swarmget-disk".into())
            .spawn(move || work(rx, done, notify))
            .expect("spawn disk thread");
        DiskWorker {
            jobs: Some(jobs),
            thread: Some(thread),
        }
    }

    /// Queues a job.
    pub fn send(&self, job: DiskJob) {
        if let Some(jobs) = &self.jobs {
            // The thread only stops when this handle drops, so sending cannot fail.
            let _ = jobs.send(job);
        }
    }
}

impl Drop for DiskWorker {
    fn drop(&mut self) {
        // Closing the channel lets the thread drain what is queued and stop.
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn work(rx: Receiver<DiskJob>, done: Sender<DiskDone>, notify: impl Fn()) {
    for job in rx {
        let report = match job {
            DiskJob::Allocate {
                gid,
                file,
                len,
                allocation,
            } => DiskDone::Allocated {
                gid,
                result: allocate(&file, len, allocation),
            },
            DiskJob::Write {
                gid,
                file,
                offset,
                buf,
                len,
            } => {
                let result = file.write_all_at(&buf[..len], offset);
                DiskDone::Wrote {
                    gid,
                    offset,
                    buf,
                    len,
                    result,
                }
            }
            DiskJob::SaveControl { gid, path, record } => DiskDone::Saved {
                gid,
                result: record.save(&path),
            },
            DiskJob::Verify { gid, path, expect } => DiskDone::Verified {
                gid,
                result: verify(&path, &expect),
            },
            DiskJob::RemoveControl { gid, path } => {
                let _ = std::fs::remove_file(&path);
                DiskDone::Removed { gid }
            }
            DiskJob::Truncate { gid, file, len } => DiskDone::Truncated {
                gid,
                result: file.set_len(len),
            },
        };
        if done.send(report).is_err() {
            return;
        }
        notify();
    }
}

/// Reserves `len` bytes for `file`.
///
/// `prealloc` asks the filesystem for the blocks with `fallocate` and falls back to
/// writing zeros where that is not supported (aria2 always writes zeros, which costs
/// a full extra pass over the disk); `falloc` insists on `fallocate`; `trunc` only sets
/// the length (a sparse file); `none` does nothing.
fn allocate(file: &File, len: u64, how: FileAllocation) -> io::Result<()> {
    let current = file.metadata()?.len();
    match how {
        FileAllocation::None => Ok(()),
        FileAllocation::Trunc => {
            if current < len {
                file.set_len(len)?;
            }
            Ok(())
        }
        FileAllocation::Falloc => fallocate(file, len),
        FileAllocation::Prealloc => match fallocate(file, len) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => zero_fill(file, current, len),
            Err(e) => Err(e),
        },
    }
}

fn fallocate(file: &File, len: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let len = libc::off_t::try_from(len).map_err(|_| io::Error::other("file too large"))?;
    // SAFETY: plain syscall on a valid, open descriptor.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

fn zero_fill(file: &File, from: u64, to: u64) -> io::Result<()> {
    let zeros = vec![0u8; 1 << 20];
    let mut pos = from;
    while pos < to {
        let n = (to - pos).min(zeros.len() as u64) as usize;
        file.write_all_at(&zeros[..n], pos)?;
        pos += n as u64;
    }
    Ok(())
}

fn verify(path: &PathBuf, expect: &Digest) -> io::Result<bool> {
    let mut file = File::open(path)?;
    let mut hasher = Hasher::new(expect.kind);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finish() == *expect)
}

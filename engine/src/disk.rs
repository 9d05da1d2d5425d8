//! The disk worker: a thread that opens, allocates, writes, hashes and saves control
//! files for the event loop, so the loop never blocks on the filesystem and the second
//! core does the page-cache copies while the first reads sockets.
//!
//! Jobs run in the order they were sent. That order is what makes resume crash-safe: a
//! control-file save queued after some writes runs after them, so it can only record
//! pieces whose bytes the worker already handed to the kernel. It also makes
//! [`DiskJob::CloseFiles`] safe without an answer: every job sent after it finds the
//! files closed.
//!
//! Two ways to address bytes: the first jobs carry an open file and a file offset (one
//! file per download, as the engine has today); the `Storage` jobs carry a byte-space
//! offset in a [`Storage`], split across its files and opened lazily through the
//! worker's bounded [`FileCache`]. The answers are the same [`DiskDone`] variants, so a
//! `Wrote` always reports the offset the job was given.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use crate::bt::resume::{OnDisk, inspect};
use crate::control::ControlState;
use crate::file_cache::{DEFAULT_MAX_OPEN_FILES, FileCache};
use crate::naming::{OutputRequest, Prepared, prepare};
use crate::options::FileAllocation;
use crate::storage::Storage;

/// Which download a job belongs to.
pub use crate::gid::Gid;

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
    /// Delete a control file (the download finished).
    RemoveControl {
        /// Download.
        gid: Gid,
        /// Control file path.
        path: PathBuf,
    },
    /// Delete a file the download no longer needs (a torrent's part file, the files
    /// `--bt-remove-unselected-file` removes); answered by [`DiskDone::Removed`]. A
    /// file that is not there is no error.
    RemoveFile {
        /// Download.
        gid: Gid,
        /// The file.
        path: PathBuf,
    },
    /// Give a finished file the server's modification time (`--remote-time`).
    SetModified {
        /// Download.
        gid: Gid,
        /// The file.
        path: PathBuf,
        /// Its new modification time.
        time: std::time::SystemTime,
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
    /// Create every stored file of a storage (with parent directories) and reserve its
    /// length (`--file-allocation`); answered by [`DiskDone::Allocated`]. Unwanted and
    /// padding files are not created.
    AllocateStorage {
        /// Download.
        gid: Gid,
        /// The byte space.
        storage: Arc<Storage>,
        /// How to allocate.
        allocation: FileAllocation,
    },
    /// Write `buf[..len]` at byte-space `offset` of a storage, split across its files;
    /// answered by [`DiskDone::Wrote`] with the same `offset`.
    WriteStorage {
        /// Download.
        gid: Gid,
        /// The byte space.
        storage: Arc<Storage>,
        /// Offset in the byte space.
        offset: u64,
        /// The buffer; comes back in [`DiskDone::Wrote`] for reuse.
        buf: Vec<u8>,
        /// Bytes of `buf` to write.
        len: usize,
        /// The loop hashed these bytes already (a chunk of peers' blocks); said again
        /// in the answer.
        hashed: bool,
    },
    /// Save a version-2 control record (several files, verified pieces, partial
    /// ranges) crash-safely; answered by [`DiskDone::Saved`].
    SaveState {
        /// Download.
        gid: Gid,
        /// Control file path.
        path: PathBuf,
        /// What to record.
        state: ControlState,
    },
    /// Read `len` bytes at byte-space `offset` of a storage (a block a peer asked for);
    /// answered by [`DiskDone::Read`] carrying `tag` back.
    ReadStorage {
        /// Download.
        gid: Gid,
        /// The byte space.
        storage: Arc<Storage>,
        /// Offset in the byte space.
        offset: u64,
        /// Bytes to read.
        len: usize,
        /// The caller's note of what the bytes are for.
        tag: ReadTag,
    },
    /// Decide, create and open a single-file download's output (aria2's rules for an
    /// existing file, its control file read); answered by [`DiskDone::Prepared`].
    PrepareOutput {
        /// Download.
        gid: Gid,
        /// What to settle.
        request: OutputRequest,
    },
    /// Read at most `limit` bytes of `path` (a longer file is an error); answered by
    /// [`DiskDone::FileRead`].
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The most it may hold.
        limit: usize,
        /// What the bytes are for.
        purpose: ReadPurpose,
    },
    /// Write `bytes` to `path` crash-safely (temporary file, fsync, rename), creating
    /// its directory; answered by [`DiskDone::FileSaved`].
    SaveFile {
        /// Download.
        gid: Gid,
        /// Where.
        path: PathBuf,
        /// What.
        bytes: Vec<u8>,
    },
    /// Read what is on disk of a torrent before it first runs (its control file, each
    /// file's length); answered by [`DiskDone::Inspected`].
    InspectTorrent {
        /// Download.
        gid: Gid,
        /// The byte space.
        storage: Arc<Storage>,
        /// The control file.
        control: PathBuf,
        /// `--remove-control-file`: delete it first.
        remove_control: bool,
    },
    /// `--conditional-get`: the modification time of `path`, when it exists without a
    /// control file beside it (a partial download is no copy of the server's);
    /// answered by [`DiskDone::LastModified`].
    LastModified {
        /// Download.
        gid: Gid,
        /// The file the download would write.
        path: PathBuf,
    },
    /// Close the cached handles of a storage's files, before they are deleted, renamed
    /// or handed to another download. Not answered: later jobs run after it.
    CloseFiles {
        /// The byte space.
        storage: Arc<Storage>,
    },
    /// Keep at most this many files open from now on (`--bt-max-open-files` changed by
    /// `changeGlobalOption`). Not answered.
    MaxOpenFiles(usize),
}

/// What a [`DiskJob::ReadFile`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadPurpose {
    /// A DHT routing table file (`--dht-file-path`, `--dht-file-path6`), read when the
    /// DHT starts for download `Gid`.
    DhtTable(swarmget_bt_dht::Family, Gid),
}

/// What a [`DiskJob::ReadStorage`] is for: the peer connection (its key and the serial
/// that tells a reused key apart) and the block it asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadTag {
    /// The connection's key.
    pub key: usize,
    /// The connection's serial number.
    pub serial: u64,
    /// The block: piece, offset in the piece, length.
    pub block: swarmget_bt_wire::wire::BlockRequest,
}

/// What the disk thread reports back.
pub enum DiskDone {
    /// [`DiskJob::ReadStorage`] finished.
    Read {
        /// Download.
        gid: Gid,
        /// The job's tag.
        tag: ReadTag,
        /// The bytes, or why they could not be read.
        result: io::Result<Vec<u8>>,
    },
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
        /// The job's `hashed` ([`DiskJob::Write`]'s bytes never are).
        hashed: bool,
    },
    /// [`DiskJob::SaveState`] finished.
    Saved {
        /// Download.
        gid: Gid,
        /// Outcome.
        result: io::Result<()>,
    },
    /// [`DiskJob::RemoveControl`] finished.
    Removed {
        /// Download.
        gid: Gid,
    },
    /// [`DiskJob::SetModified`] finished.
    Modified {
        /// Download.
        gid: Gid,
        /// Outcome.
        result: io::Result<()>,
    },
    /// [`DiskJob::PrepareOutput`] finished.
    Prepared {
        /// Download.
        gid: Gid,
        /// The file and how it starts, or why it cannot.
        result: Result<Prepared, crate::error::Error>,
    },
    /// [`DiskJob::ReadFile`] finished.
    FileRead {
        /// The file.
        path: PathBuf,
        /// What the bytes are for.
        purpose: ReadPurpose,
        /// The bytes, or why not.
        result: io::Result<Vec<u8>>,
    },
    /// [`DiskJob::SaveFile`] finished.
    FileSaved {
        /// Download.
        gid: Gid,
        /// The file.
        path: PathBuf,
        /// Outcome.
        result: io::Result<()>,
    },
    /// [`DiskJob::LastModified`] finished.
    LastModified {
        /// Download.
        gid: Gid,
        /// The file.
        path: PathBuf,
        /// Its modification time; `None` when it is not there, or is partial.
        time: Option<std::time::SystemTime>,
    },
    /// [`DiskJob::InspectTorrent`] finished.
    Inspected {
        /// Download.
        gid: Gid,
        /// What is there.
        found: OnDisk,
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
    /// (the engine passes its `mio::Waker`). Storage jobs keep up to
    /// [`DEFAULT_MAX_OPEN_FILES`] files open.
    pub fn start(done: Sender<DiskDone>, notify: impl Fn() + Send + 'static) -> DiskWorker {
        DiskWorker::start_with_max_open_files(done, DEFAULT_MAX_OPEN_FILES, notify)
    }

    /// [`DiskWorker::start`] with at most `max_open_files` files open at once for storage
    /// jobs (`--bt-max-open-files`).
    pub fn start_with_max_open_files(
        done: Sender<DiskDone>,
        max_open_files: usize,
        notify: impl Fn() + Send + 'static,
    ) -> DiskWorker {
        let (jobs, rx) = channel();
        let thread = std::thread::Builder::new()
            .name("swarmget-disk".into())
            .spawn(move || work(rx, done, FileCache::new(max_open_files), notify))
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

fn work(rx: Receiver<DiskJob>, done: Sender<DiskDone>, mut files: FileCache, notify: impl Fn()) {
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
                    hashed: false,
                }
            }
            DiskJob::RemoveControl { gid, path } | DiskJob::RemoveFile { gid, path } => {
                let _ = std::fs::remove_file(&path);
                DiskDone::Removed { gid }
            }
            DiskJob::SetModified { gid, path, time } => DiskDone::Modified {
                gid,
                result: std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(time)),
            },
            DiskJob::Truncate { gid, file, len } => DiskDone::Truncated {
                gid,
                result: file.set_len(len),
            },
            DiskJob::AllocateStorage {
                gid,
                storage,
                allocation,
            } => DiskDone::Allocated {
                gid,
                result: allocate_storage(&mut files, &storage, allocation),
            },
            DiskJob::WriteStorage {
                gid,
                storage,
                offset,
                buf,
                len,
                hashed,
            } => {
                let result = files.write(&storage, offset, &buf[..len]);
                DiskDone::Wrote {
                    gid,
                    offset,
                    buf,
                    len,
                    result,
                    hashed,
                }
            }
            DiskJob::SaveState { gid, path, state } => DiskDone::Saved {
                gid,
                result: state.save(&path),
            },
            DiskJob::ReadStorage {
                gid,
                storage,
                offset,
                len,
                tag,
            } => {
                let mut buf = vec![0; len];
                let result = files.read(&storage, offset, &mut buf).map(|()| buf);
                DiskDone::Read { gid, tag, result }
            }
            DiskJob::PrepareOutput { gid, request } => DiskDone::Prepared {
                gid,
                result: prepare(&request),
            },
            DiskJob::ReadFile {
                path,
                limit,
                purpose,
            } => {
                let result = read_bounded(&path, limit);
                DiskDone::FileRead {
                    path,
                    purpose,
                    result,
                }
            }
            DiskJob::LastModified { gid, path } => {
                let partial = crate::control::control_path(&path).exists();
                let time = (!partial)
                    .then(|| std::fs::metadata(&path).and_then(|m| m.modified()).ok())
                    .flatten();
                DiskDone::LastModified { gid, path, time }
            }
            DiskJob::SaveFile { gid, path, bytes } => {
                let result = path
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| crate::control::save_bytes(&path, &bytes));
                DiskDone::FileSaved { gid, path, result }
            }
            DiskJob::InspectTorrent {
                gid,
                storage,
                control,
                remove_control,
            } => {
                // Handles cached for this storage would outlive a deleted file.
                files.close_storage(&storage);
                DiskDone::Inspected {
                    gid,
                    found: inspect(&storage, &control, remove_control),
                }
            }
            DiskJob::CloseFiles { storage } => {
                files.close_storage(&storage);
                continue;
            }
            DiskJob::MaxOpenFiles(n) => {
                files.set_capacity(n);
                continue;
            }
        };
        if done.send(report).is_err() {
            return;
        }
        notify();
    }
}

/// The bytes of `path`, refused when it holds more than `limit`.
fn read_bounded(path: &std::path::Path, limit: usize) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    File::open(path)?
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {limit} bytes"),
        ));
    }
    Ok(bytes)
}

/// Creates and allocates every stored file of `storage`.
fn allocate_storage(
    files: &mut FileCache,
    storage: &Storage,
    how: FileAllocation,
) -> io::Result<()> {
    for f in storage.files().iter().filter(|f| f.stored()) {
        let file = files.for_write(&f.path)?;
        // Creating it is all an empty file needs (fallocate refuses a zero length).
        if f.length > 0 {
            allocate(&file, f.length, how)?;
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    const G1: crate::gid::Gid = crate::gid::Gid::new(1);
    const G2: crate::gid::Gid = crate::gid::Gid::new(2);
    const G7: crate::gid::Gid = crate::gid::Gid::new(7);
    use super::*;
    use crate::storage::FileEntry;
    use crate::test_dir::TestDir;
    use std::path::Path;
    use std::sync::mpsc::Receiver;
    use std::time::Duration;

    fn worker(max_open: usize) -> (DiskWorker, Receiver<DiskDone>) {
        let (tx, rx) = channel();
        (
            DiskWorker::start_with_max_open_files(tx, max_open, || {}),
            rx,
        )
    }

    fn next(rx: &Receiver<DiskDone>) -> DiskDone {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the disk worker answers")
    }

    fn nested(dir: &Path) -> Arc<Storage> {
        let entry = |name: &str, offset, length, wanted| FileEntry {
            path: dir.join(name),
            offset,
            length,
            wanted,
            padding: false,
        };
        Arc::new(
            Storage::new(
                vec![
                    entry("top", 0, 6, true),
                    entry("a/b/nested", 6, 4, true),
                    entry("a/skipped", 10, 5, false),
                    entry("a/empty", 15, 0, true),
                    entry("last", 15, 5, true),
                ],
                8,
            )
            .unwrap(),
        )
    }

    #[test]
    fn storage_jobs_allocate_and_write_across_nested_files_but_never_unwanted_ones() {
        let dir = TestDir::new("disk-storage");
        let storage = nested(dir.path());
        let (disk, rx) = worker(2);
        disk.send(DiskJob::AllocateStorage {
            gid: G1,
            storage: storage.clone(),
            allocation: FileAllocation::Trunc,
        });
        match next(&rx) {
            DiskDone::Allocated { gid: G1, result } => result.unwrap(),
            _ => panic!("expected Allocated"),
        }
        let p = |n: &str| dir.path().join(n);
        assert_eq!(std::fs::metadata(p("a/b/nested")).unwrap().len(), 4);
        assert_eq!(std::fs::metadata(p("a/empty")).unwrap().len(), 0);
        assert!(!p("a/skipped").exists());

        let data: Vec<u8> = (0..20u8).map(|b| b + b'a').collect();
        let mut buf = data.clone();
        buf.extend_from_slice(b"spare capacity");
        disk.send(DiskJob::WriteStorage {
            gid: G1,
            storage: storage.clone(),
            offset: 0,
            buf,
            len: 20,
            hashed: false,
        });
        match next(&rx) {
            DiskDone::Wrote {
                gid: G1,
                offset: 0,
                len: 20,
                buf,
                result,
                hashed: false,
            } => {
                result.unwrap();
                assert_eq!(&buf[20..], b"spare capacity", "buffer comes back whole");
            }
            _ => panic!("expected Wrote"),
        }
        assert_eq!(std::fs::read(p("top")).unwrap(), &data[0..6]);
        assert_eq!(std::fs::read(p("a/b/nested")).unwrap(), &data[6..10]);
        assert_eq!(std::fs::read(p("last")).unwrap(), &data[15..20]);
        assert!(!p("a/skipped").exists());
    }

    #[test]
    fn a_saved_state_is_written_behind_the_writes_queued_before_it() {
        let dir = TestDir::new("disk-state");
        let storage = nested(dir.path());
        let (disk, rx) = worker(4);
        let mut state = ControlState::new(&storage, dir.path(), "http://m/x".into()).unwrap();
        state.verified.set(0);
        state.partial = vec![8..10, 12..14];
        disk.send(DiskJob::WriteStorage {
            gid: G2,
            storage: storage.clone(),
            offset: 0,
            buf: vec![1; 8],
            len: 8,
            hashed: false,
        });
        let path = dir.path().join("x.swarmget");
        disk.send(DiskJob::SaveState {
            gid: G2,
            path: path.clone(),
            state: state.clone(),
        });
        assert!(matches!(next(&rx), DiskDone::Wrote { result: Ok(()), .. }));
        match next(&rx) {
            DiskDone::Saved { gid: G2, result } => result.unwrap(),
            _ => panic!("expected Saved"),
        }
        assert_eq!(ControlState::load(&path).unwrap(), Some(state));
    }

    #[test]
    fn a_write_past_the_end_reports_an_error_with_its_offset() {
        let dir = TestDir::new("disk-past-end");
        let storage = nested(dir.path());
        let (disk, rx) = worker(4);
        disk.send(DiskJob::WriteStorage {
            gid: G7,
            storage,
            offset: 18,
            buf: vec![0; 4],
            len: 4,
            hashed: false,
        });
        match next(&rx) {
            DiskDone::Wrote {
                gid: G7,
                offset: 18,
                result,
                ..
            } => assert_eq!(result.unwrap_err().kind(), io::ErrorKind::InvalidInput),
            _ => panic!("expected Wrote"),
        }
    }

    #[test]
    fn close_files_lets_a_replaced_file_be_written_fresh() {
        let dir = TestDir::new("disk-close");
        let storage = Arc::new(Storage::single(dir.path().join("f"), 3, 4).unwrap());
        let (disk, rx) = worker(4);
        let write = |b: &[u8]| DiskJob::WriteStorage {
            gid: G1,
            storage: storage.clone(),
            offset: 0,
            buf: b.to_vec(),
            len: b.len(),
            hashed: false,
        };
        disk.send(write(b"abc"));
        assert!(matches!(next(&rx), DiskDone::Wrote { result: Ok(()), .. }));
        // The download is removed and its file deleted; a new one takes the name.
        disk.send(DiskJob::CloseFiles {
            storage: storage.clone(),
        });
        let state = ControlState::new(&storage, dir.path(), String::new()).unwrap();
        disk.send(DiskJob::SaveState {
            gid: G1,
            path: dir.path().join("sync.swarmget"),
            state,
        });
        assert!(matches!(next(&rx), DiskDone::Saved { result: Ok(()), .. }));
        std::fs::remove_file(dir.path().join("f")).unwrap();
        disk.send(write(b"xyz"));
        assert!(matches!(next(&rx), DiskDone::Wrote { result: Ok(()), .. }));
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"xyz");
    }
}

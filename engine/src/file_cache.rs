//! Positional reads and writes addressed in a [`Storage`]'s byte space, through a bounded
//! cache of open file handles.
//!
//! A torrent or Metalink download can have thousands of files; keeping one descriptor per
//! file open would exhaust the process's limit, and reopening a file for every 16 KiB
//! block would cost a path lookup per write. The cache keeps the most recently used
//! handles (aria2's and libtorrent's `--bt-max-open-files` / `file_pool_size`, default 100)
//! and closes the least recently used one when a new one is needed.
//!
//! Invariants:
//! - at most `capacity` handles are open at any time (capacity is at least 1);
//! - a handle given out for writing was opened read-write; a file is only ever created
//!   by [`FileCache::write`] or [`FileCache::create`] for a stored (wanted, non-padding)
//!   entry, so nothing appears on disk for an unwanted file;
//! - parent directories are created lazily, the first time a file under them is created;
//! - a handle is keyed by path, so the owner must [`FileCache::close`] a storage's files
//!   before they are deleted or renamed, or a later write could reach the old inode.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::storage::Storage;

/// aria2's default for `--bt-max-open-files`.
pub const DEFAULT_MAX_OPEN_FILES: usize = 100;

struct Slot {
    file: Arc<File>,
    writable: bool,
    last_used: u64,
}

/// A bounded, least-recently-used cache of open files.
pub struct FileCache {
    capacity: usize,
    slots: HashMap<PathBuf, Slot>,
    clock: u64,
}

impl FileCache {
    /// A cache holding at most `capacity` open files (at least one).
    pub fn new(capacity: usize) -> FileCache {
        FileCache {
            capacity: capacity.max(1),
            slots: HashMap::new(),
            clock: 0,
        }
    }

    /// Number of open handles.
    pub fn open_count(&self) -> usize {
        self.slots.len()
    }

    /// A handle for writing `path`, creating the file (and its parent directories) if
    /// it does not exist.
    pub fn for_write(&mut self, path: &Path) -> io::Result<Arc<File>> {
        self.get(path, true)
    }

    /// A handle for reading `path`; a missing file is `NotFound` (never created).
    pub fn for_read(&mut self, path: &Path) -> io::Result<Arc<File>> {
        self.get(path, false)
    }

    fn get(&mut self, path: &Path, write: bool) -> io::Result<Arc<File>> {
        self.clock += 1;
        if let Some(slot) = self.slots.get_mut(path)
            && (slot.writable || !write)
        {
            slot.last_used = self.clock;
            return Ok(slot.file.clone());
        }
        let file = Arc::new(if write {
            open_for_write(path)?
        } else {
            File::open(path)?
        });
        if !self.slots.contains_key(path) && self.slots.len() >= self.capacity {
            self.evict_oldest();
        }
        self.slots.insert(
            path.to_path_buf(),
            Slot {
                file: file.clone(),
                writable: write,
                last_used: self.clock,
            },
        );
        Ok(file)
    }

    fn evict_oldest(&mut self) {
        // A linear scan, on a miss only: with ~100 handles it costs less than the open
        // that follows it, and needs no second index kept in step.
        if let Some(oldest) = self
            .slots
            .iter()
            .min_by_key(|(_, s)| s.last_used)
            .map(|(p, _)| p.clone())
        {
            self.slots.remove(&oldest);
        }
    }

    /// Keeps at most `capacity` (at least one) handles from now on, closing the least
    /// recently used ones beyond it (`--bt-max-open-files` changed at run time).
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        while self.slots.len() > self.capacity {
            self.evict_oldest();
        }
    }

    /// Closes the handle of `path`, if open.
    pub fn close(&mut self, path: &Path) {
        self.slots.remove(path);
    }

    /// Closes the handles of every file of `storage`.
    pub fn close_storage(&mut self, storage: &Storage) {
        for f in storage.files() {
            self.slots.remove(&f.path);
        }
        if let Some(part) = storage.part_file() {
            self.slots.remove(part);
        }
    }

    /// Creates every stored file of `storage` that does not exist yet (empty files
    /// included: no write will ever create those), leaving existing ones as they are.
    pub fn create(&mut self, storage: &Storage) -> io::Result<()> {
        for f in storage.files().iter().filter(|f| f.stored()) {
            self.for_write(&f.path)?;
        }
        Ok(())
    }

    /// Writes `buf` at byte-space offset `offset`, split across the files it spans.
    ///
    /// Bytes that fall in padding files are not stored, nor those of unwanted files
    /// unless the storage has a part file (see the storage module). A range past the
    /// end of the byte space is refused before anything is written.
    pub fn write(&mut self, storage: &Storage, offset: u64, buf: &[u8]) -> io::Result<()> {
        let range = byte_range(storage, offset, buf.len())?;
        for seg in storage.segments(range) {
            let entry = &storage.files()[seg.file];
            let at = (seg.offset - offset) as usize;
            let bytes = &buf[at..at + seg.len as usize];
            if seg.stored {
                self.for_write(&entry.path)?
                    .write_all_at(bytes, seg.file_offset)?;
            } else if let (false, Some(part)) = (entry.padding, storage.part_file()) {
                self.for_write(part)?.write_all_at(bytes, seg.offset)?;
            }
        }
        Ok(())
    }

    /// Fills `buf` from byte-space offset `offset`, across files.
    ///
    /// Padding files read as zeros, unwanted files from the part file. A missing file is
    /// `NotFound`, a file shorter than its entry is `UnexpectedEof`, and bytes of an
    /// unwanted file without a part file are `NotFound` too: in every case the bytes
    /// are not on disk.
    pub fn read(&mut self, storage: &Storage, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let range = byte_range(storage, offset, buf.len())?;
        for seg in storage.segments(range) {
            let entry = &storage.files()[seg.file];
            let at = (seg.offset - offset) as usize;
            let out = &mut buf[at..at + seg.len as usize];
            if entry.padding {
                out.fill(0);
            } else if let (false, Some(part)) = (entry.wanted, storage.part_file()) {
                self.for_read(part)?.read_exact_at(out, seg.offset)?;
            } else if !entry.wanted {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "{} is not wanted, so its bytes are not kept",
                        entry.path.display()
                    ),
                ));
            } else {
                self.for_read(&entry.path)?
                    .read_exact_at(out, seg.file_offset)?;
            }
        }
        Ok(())
    }
}

/// `offset..offset + len`, checked against the byte space.
fn byte_range(storage: &Storage, offset: u64, len: usize) -> io::Result<std::ops::Range<u64>> {
    let range = offset
        .checked_add(len as u64)
        .map(|end| offset..end)
        .filter(|r| storage.contains(r))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{len} bytes at offset {offset} run past the end of the download ({} bytes)",
                    storage.total_len()
                ),
            )
        })?;
    Ok(range)
}

fn open_for_write(path: &Path) -> io::Result<File> {
    let open = || {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
    };
    match open() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // The first file under a directory that does not exist yet.
            match path.parent().filter(|p| !p.as_os_str().is_empty()) {
                Some(dir) => std::fs::create_dir_all(dir)?,
                None => return Err(e),
            }
            open()
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::FileEntry;
    use crate::test_dir::TestDir;

    fn three_files(dir: &Path) -> Storage {
        Storage::from_lengths(
            [
                (dir.join("a"), 5, true),
                (dir.join("sub/deeper/b"), 3, true),
                (dir.join("c"), 4, true),
            ],
            4,
        )
        .unwrap()
    }

    #[test]
    fn a_write_across_files_lands_in_each_and_reads_back() {
        let dir = TestDir::new("cache-split");
        let s = three_files(dir.path());
        let mut cache = FileCache::new(8);
        cache.write(&s, 3, b"xyzuvw").unwrap();
        assert_eq!(std::fs::read(dir.path().join("a")).unwrap(), b"\0\0\0xy");
        assert_eq!(
            std::fs::read(dir.path().join("sub/deeper/b")).unwrap(),
            b"zuv"
        );
        assert_eq!(std::fs::read(dir.path().join("c")).unwrap(), b"w");
        let mut back = [0u8; 6];
        cache.read(&s, 3, &mut back).unwrap();
        assert_eq!(&back, b"xyzuvw");
    }

    #[test]
    fn past_the_end_is_refused_and_nothing_is_written() {
        let dir = TestDir::new("cache-end");
        let s = three_files(dir.path());
        let mut cache = FileCache::new(8);
        let err = cache.write(&s, 10, b"abc").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(!dir.path().join("c").exists());
        let err = cache.write(&s, u64::MAX, b"a").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn unwanted_files_are_never_created_and_padding_reads_as_zeros() {
        let dir = TestDir::new("cache-unwanted");
        let p = |n: &str| dir.path().join(n);
        let s = Storage::new(
            vec![
                FileEntry {
                    path: p("a"),
                    offset: 0,
                    length: 4,
                    wanted: true,
                    padding: false,
                },
                FileEntry {
                    path: p("pad"),
                    offset: 4,
                    length: 2,
                    wanted: true,
                    padding: true,
                },
                FileEntry {
                    path: p("skip"),
                    offset: 6,
                    length: 4,
                    wanted: false,
                    padding: false,
                },
            ],
            4,
        )
        .unwrap();
        let mut cache = FileCache::new(8);
        cache.create(&s).unwrap();
        cache.write(&s, 0, b"abcdPPssss").unwrap();
        assert!(!p("skip").exists());
        assert!(!p("pad").exists());
        let mut buf = [9u8; 6];
        cache.read(&s, 0, &mut buf).unwrap();
        assert_eq!(&buf, b"abcd\0\0");
        let err = cache.read(&s, 5, &mut [0u8; 2]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn missing_and_short_files_read_as_not_found_and_eof() {
        let dir = TestDir::new("cache-short");
        let s = three_files(dir.path());
        let mut cache = FileCache::new(8);
        let err = cache.read(&s, 0, &mut [0u8; 2]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(!dir.path().join("a").exists(), "a read created the file");
        cache.write(&s, 0, b"ab").unwrap();
        let err = cache.read(&s, 0, &mut [0u8; 4]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn the_cache_stays_bounded_and_evicts_the_least_recently_used() {
        let dir = TestDir::new("cache-lru");
        let s = Storage::from_lengths(
            (0..5).map(|i| (dir.path().join(format!("f{i}")), 1, true)),
            1,
        )
        .unwrap();
        let mut cache = FileCache::new(2);
        for i in 0..5u64 {
            cache.write(&s, i, &[i as u8]).unwrap();
            assert!(cache.open_count() <= 2);
        }
        // f3 and f4 are open; touching f3 makes f4 the oldest.
        let f3 = dir.path().join("f3");
        let f4 = dir.path().join("f4");
        let before = cache.for_read(&f3).unwrap();
        cache.write(&s, 0, b"z").unwrap();
        assert!(Arc::ptr_eq(&before, &cache.for_read(&f3).unwrap()));
        assert!(!cache.slots.contains_key(&f4));
        let mut all = [0u8; 5];
        cache.read(&s, 0, &mut all).unwrap();
        assert_eq!(&all, b"z\x01\x02\x03\x04");
    }

    #[test]
    fn a_smaller_capacity_closes_the_least_recently_used_at_once() {
        let dir = TestDir::new("cache-capacity");
        let s = Storage::from_lengths(
            (0..4).map(|i| (dir.path().join(format!("f{i}")), 1, true)),
            1,
        )
        .unwrap();
        let mut cache = FileCache::new(8);
        for i in 0..4u64 {
            cache.write(&s, i, &[i as u8]).unwrap();
        }
        assert_eq!(cache.open_count(), 4);
        cache.set_capacity(1);
        assert_eq!(cache.open_count(), 1);
        assert!(cache.slots.contains_key(&dir.path().join("f3")));
    }

    #[test]
    fn a_read_only_handle_is_reopened_for_writing() {
        let dir = TestDir::new("cache-rw");
        let s = Storage::single(dir.path().join("f"), 4, 4).unwrap();
        std::fs::write(dir.path().join("f"), b"abcd").unwrap();
        let mut cache = FileCache::new(4);
        let mut buf = [0u8; 4];
        cache.read(&s, 0, &mut buf).unwrap();
        cache.write(&s, 1, b"X").unwrap();
        cache.read(&s, 0, &mut buf).unwrap();
        assert_eq!(&buf, b"aXcd");
    }

    #[test]
    fn closing_a_storage_drops_its_handles() {
        let dir = TestDir::new("cache-close");
        let s = three_files(dir.path());
        let mut cache = FileCache::new(8);
        cache.create(&s).unwrap();
        assert_eq!(cache.open_count(), 3);
        cache.close_storage(&s);
        assert_eq!(cache.open_count(), 0);
        // A file replaced on disk after closing is the one written next.
        std::fs::remove_file(dir.path().join("c")).unwrap();
        cache.write(&s, 8, b"q").unwrap();
        assert_eq!(std::fs::read(dir.path().join("c")).unwrap(), b"q");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Whatever the layout and the writes, each file on disk holds exactly its slice
        /// of the byte space, and reading the space back gives what was written.
        #[test]
        fn writes_land_in_the_right_files_and_read_back(
            lengths in proptest::collection::vec(0u64..40, 1..6),
            writes in proptest::collection::vec((0u64..1000, 1usize..60, proptest::prelude::any::<u8>()), 0..12),
        ) {
            let dir = TestDir::new("cache-prop");
            let s = Storage::from_lengths(
                lengths.iter().enumerate().map(|(i, &l)| (dir.path().join(format!("d{i}/f")), l, true)),
                16,
            )
            .unwrap();
            let total = s.total_len() as usize;
            let mut model = vec![0u8; total];
            let mut cache = FileCache::new(2);
            cache.write(&s, 0, &model).unwrap();
            cache.create(&s).unwrap();
            for (at, len, byte) in writes {
                if total == 0 {
                    break;
                }
                let at = (at as usize) % total;
                let len = len.min(total - at);
                let data: Vec<u8> = (0..len).map(|i| byte.wrapping_add(i as u8)).collect();
                cache.write(&s, at as u64, &data).unwrap();
                model[at..at + len].copy_from_slice(&data);
            }
            for f in s.files() {
                let on_disk = std::fs::read(&f.path).unwrap();
                proptest::prop_assert_eq!(&on_disk[..], &model[f.range().start as usize..f.range().end as usize]);
            }
            let mut back = vec![1u8; total];
            cache.read(&s, 0, &mut back).unwrap();
            proptest::prop_assert_eq!(back, model);
        }
    }
}

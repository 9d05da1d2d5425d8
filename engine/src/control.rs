//! The control file, `FILE.swarmget`, beside a download in progress.
//!
//! It records which pieces are on disk so `-c` can resume after a stop or a crash. The
//! layout (all integers big-endian):
//!
//! | field          | bytes | meaning                                         |
//! |----------------|-------|-------------------------------------------------|
//! | magic          | 8     | `SWARMGET`                                      |
//! | version        | 2     | `00 01`                                         |
//! | flags          | 2     | reserved, zero                                  |
//! | total length   | 8     | the download's length in bytes                  |
//! | piece length   | 8     | bytes per piece (the last may be shorter)       |
//! | source length  | 4     | bytes of the source URI that follows (≤ 64 KiB) |
//! | source         | n     | the URI the download started from, UTF-8        |
//! | bitfield length| 4     | must be `ceil(ceil(total / piece) / 8)`         |
//! | bitfield       | n     | done pieces, most significant bit first         |
//! | crc32          | 4     | CRC-32 of every byte before it                  |
//!
//! Saving is crash-safe: the bytes go to `FILE.swarmget.tmp`, which is fsynced and then
//! renamed over the old control file (and the directory fsynced), so a reader sees
//! either the old or the new record, never a torn one. A piece is set only after the
//! disk worker confirmed all its bytes written, and the save is queued on that same
//! worker behind those writes.
//!
//! Unlike aria2's `.aria2` file this one carries a checksum, so a damaged record is
//! detected instead of trusted.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::bitfield::Bitfield;

const MAGIC: &[u8; 8] = b"SWARMGET";
const VERSION: u16 = 1;
const MAX_SOURCE: usize = 64 * 1024;

/// What a control file records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlRecord {
    /// Length of the whole download.
    pub total_len: u64,
    /// Piece length.
    pub piece_len: u64,
    /// The URI the download started from.
    pub source: String,
    /// Done pieces.
    pub done: Bitfield,
}

/// Why a control file could not be used.
#[derive(Debug)]
pub enum ControlError {
    /// Reading or writing failed.
    Io(io::Error),
    /// The bytes are not a control file of this version, or are damaged.
    Corrupt(&'static str),
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlError::Io(e) => write!(f, "control file: {e}"),
            ControlError::Corrupt(why) => write!(f, "control file is damaged: {why}"),
        }
    }
}

impl std::error::Error for ControlError {}

impl From<io::Error> for ControlError {
    fn from(e: io::Error) -> Self {
        ControlError::Io(e)
    }
}

/// The control file path for a download written to `path`.
pub fn control_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".swarmget");
    PathBuf::from(name)
}

impl ControlRecord {
    /// The record as bytes.
    pub fn encode(&self) -> Vec<u8> {
        let source = &self.source.as_bytes()[..self.source.len().min(MAX_SOURCE)];
        let bits = self.done.as_bytes();
        let mut out = Vec::with_capacity(48 + source.len() + bits.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&self.total_len.to_be_bytes());
        out.extend_from_slice(&self.piece_len.to_be_bytes());
        out.extend_from_slice(&(source.len() as u32).to_be_bytes());
        out.extend_from_slice(source);
        out.extend_from_slice(&(bits.len() as u32).to_be_bytes());
        out.extend_from_slice(bits);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    /// Reads a record, checking every field.
    pub fn decode(bytes: &[u8]) -> Result<ControlRecord, ControlError> {
        let body_len = bytes
            .len()
            .checked_sub(4)
            .ok_or(ControlError::Corrupt("too short"))?;
        let (body, crc) = bytes.split_at(body_len);
        let mut r = Reader(body);
        if r.take(8)? != MAGIC {
            return Err(ControlError::Corrupt("not a swarmget control file"));
        }
        if r.u16()? != VERSION {
            return Err(ControlError::Corrupt("unknown version"));
        }
        if crc32fast::hash(body).to_be_bytes() != crc {
            return Err(ControlError::Corrupt("checksum mismatch"));
        }
        let _flags = r.u16()?;
        let total_len = r.u64()?;
        let piece_len = r.u64()?;
        if piece_len == 0 {
            return Err(ControlError::Corrupt("piece length is zero"));
        }
        let source_len = r.u32()? as usize;
        if source_len > MAX_SOURCE {
            return Err(ControlError::Corrupt("source too long"));
        }
        let source = String::from_utf8(r.take(source_len)?.to_vec())
            .map_err(|_| ControlError::Corrupt("source is not UTF-8"))?;
        let pieces = usize::try_from(total_len.div_ceil(piece_len))
            .map_err(|_| ControlError::Corrupt("too many pieces"))?;
        let bits_len = r.u32()? as usize;
        if bits_len != pieces.div_ceil(8) {
            return Err(ControlError::Corrupt("bitfield length does not match"));
        }
        let done = Bitfield::from_bytes(r.take(bits_len)?, pieces)
            .ok_or(ControlError::Corrupt("bitfield has spare bits set"))?;
        if !r.0.is_empty() {
            return Err(ControlError::Corrupt("trailing bytes"));
        }
        Ok(ControlRecord {
            total_len,
            piece_len,
            source,
            done,
        })
    }

    /// Loads the control file at `path`; `Ok(None)` if there is none.
    pub fn load(path: &Path) -> Result<Option<ControlRecord>, ControlError> {
        match fs::read(path) {
            Ok(bytes) => ControlRecord::decode(&bytes).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Saves crash-safely: temporary file, fsync, rename, fsync of the directory.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            f.write_all(&self.encode())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Makes the rename itself durable; not every filesystem allows it.
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ControlError> {
        if self.0.len() < n {
            return Err(ControlError::Corrupt("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u16(&mut self) -> Result<u16, ControlError> {
        Ok(u16::from_be_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    fn u32(&mut self) -> Result<u32, ControlError> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, ControlError> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ControlRecord {
        let mut done = Bitfield::new(11);
        done.set(0);
        done.set(10);
        ControlRecord {
            total_len: 10 * 1024 * 1024 + 5,
            piece_len: 1024 * 1024,
            source: "http://127.0.0.1/f".into(),
            done,
        }
    }

    #[test]
    fn round_trip() {
        let rec = sample();
        assert_eq!(ControlRecord::decode(&rec.encode()).unwrap(), rec);
    }

    #[test]
    fn every_single_byte_flip_and_truncation_is_caught() {
        let bytes = sample().encode();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            assert!(ControlRecord::decode(&b).is_err(), "flip at {i} accepted");
            assert!(
                ControlRecord::decode(&bytes[..i]).is_err(),
                "cut at {i} accepted"
            );
        }
    }

    #[test]
    fn save_replaces_atomically_and_load_reads_back() {
        let dir = std::env::temp_dir().join(format!("swarmget-ctl-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = control_path(&dir.join("f.bin"));
        assert!(ControlRecord::load(&path).unwrap().is_none());
        let mut rec = sample();
        rec.save(&path).unwrap();
        rec.done.set(5);
        rec.save(&path).unwrap();
        assert_eq!(ControlRecord::load(&path).unwrap(), Some(rec));
        assert!(!dir.join("f.bin.swarmget.tmp").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}

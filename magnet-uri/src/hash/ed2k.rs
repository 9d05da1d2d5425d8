//! eDonkey2000 hash, with the eMule rule for chunk-sized files.
//!
//! The file is cut into 9,728,000-byte chunks, each hashed with MD4.
//!
//! * A file shorter than one chunk hashes to the MD4 of its bytes.
//! * Otherwise the hash is the MD4 of the concatenated chunk MD4s, where the last, partial
//!   chunk counts even when it is empty: a file whose size is an exact multiple of
//!   9,728,000 bytes gets the MD4 of the empty string appended as an extra chunk hash.
//!
//! This is the rule of eMule (`CKnownFile::CreateFromFile`), aMule and `rhash --ed2k`
//! (the tests compare against `rhash`). Some other tools leave the empty chunk out, which
//! changes the hash of exact-multiple sizes only.

use md4::{Digest, Md4};

/// Bytes per chunk (and per eDonkey "part").
pub const CHUNK_SIZE: u64 = 9_728_000;

/// Streaming ed2k hasher.
#[derive(Clone, Default)]
pub struct Ed2k {
    chunk: Md4,
    chunk_len: u64,
    /// MD4 over the chunk hashes finished so far.
    chunk_hashes: Md4,
    chunks: u64,
}

impl Ed2k {
    /// A hasher for an empty input.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = CHUNK_SIZE - self.chunk_len;
            let take = usize::try_from(room).map_or(data.len(), |room| room.min(data.len()));
            let (head, rest) = data.split_at(take);
            self.chunk.update(head);
            self.chunk_len += take as u64;
            data = rest;
            if self.chunk_len == CHUNK_SIZE {
                let chunk = std::mem::take(&mut self.chunk);
                self.chunk_hashes.update(chunk.finalize());
                self.chunk_len = 0;
                self.chunks += 1;
            }
        }
    }

    /// The ed2k hash.
    pub fn finish(self) -> [u8; 16] {
        let last = self.chunk.finalize();
        if self.chunks == 0 {
            return last.into();
        }
        // The partial (possibly empty) last chunk is part of the list.
        let mut hashes = self.chunk_hashes;
        hashes.update(last);
        hashes.finalize().into()
    }
}

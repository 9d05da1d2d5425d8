//! Writing v1 torrents, for `make-torrent`, `--bt-save-metadata` and tests.
//!
//! Invariant: [`TorrentBuilder::build`] returns only bytes that [`Metainfo::parse`] accepts;
//! it parses its own output before handing it back.

use swarmget_bencode::Encoder;

use super::{Metainfo, MetainfoError};

/// What a v1 torrent holds. Hashing the data is the caller's job (on its own threads).
#[derive(Clone, Debug, Default)]
pub struct TorrentBuilder {
    name: String,
    /// `None`: single file of `length`; `Some`: the files below `name`.
    files: Option<Vec<(Vec<String>, u64)>>,
    length: u64,
    piece_length: u64,
    piece_hashes: Vec<[u8; 20]>,
    tiers: Vec<Vec<String>>,
    web_seeds: Vec<String>,
    private: bool,
    comment: Option<String>,
    created_by: Option<String>,
    creation_date: Option<i64>,
}

impl TorrentBuilder {
    /// A single-file torrent.
    pub fn single(name: &str, length: u64, piece_length: u64, piece_hashes: Vec<[u8; 20]>) -> Self {
        Self {
            name: name.to_string(),
            length,
            piece_length,
            piece_hashes,
            ..Self::default()
        }
    }

    /// A multi-file torrent: `files` are paths below the directory `name`, with lengths.
    pub fn multi(
        name: &str,
        files: Vec<(Vec<String>, u64)>,
        piece_length: u64,
        piece_hashes: Vec<[u8; 20]>,
    ) -> Self {
        Self {
            name: name.to_string(),
            files: Some(files),
            piece_length,
            piece_hashes,
            ..Self::default()
        }
    }

    /// Tracker tiers: the first URL becomes `announce`; `announce-list` is written when
    /// there is more than one URL.
    pub fn trackers(mut self, tiers: Vec<Vec<String>>) -> Self {
        self.tiers = tiers.into_iter().filter(|t| !t.is_empty()).collect();
        self
    }

    /// BEP 19 web seeds (`url-list`).
    pub fn web_seeds(mut self, urls: Vec<String>) -> Self {
        self.web_seeds = urls;
        self
    }

    /// BEP 27 private flag.
    pub fn private(mut self, private: bool) -> Self {
        self.private = private;
        self
    }

    /// `comment`.
    pub fn comment(mut self, comment: &str) -> Self {
        self.comment = Some(comment.to_string());
        self
    }

    /// `created by`.
    pub fn created_by(mut self, created_by: &str) -> Self {
        self.created_by = Some(created_by.to_string());
        self
    }

    /// `creation date`, seconds since the epoch (given in: no clock is read here).
    pub fn creation_date(mut self, seconds: i64) -> Self {
        self.creation_date = Some(seconds);
        self
    }

    /// The `info` dictionary alone, bencoded.
    pub fn info_bytes(&self) -> Result<Vec<u8>, MetainfoError> {
        let length = i64::try_from(self.length).map_err(|_| MetainfoError::TotalTooLarge)?;
        let mut lengths = Vec::new();
        for (_, len) in self.files.iter().flatten() {
            lengths.push(i64::try_from(*len).map_err(|_| MetainfoError::TotalTooLarge)?);
        }
        let piece_length =
            i64::try_from(self.piece_length).map_err(|_| MetainfoError::Build("piece length"))?;
        let pieces = self.piece_hashes.concat();
        let mut e = Encoder::new();
        e.value().dict(|d| {
            match &self.files {
                None => d.entry(b"length").int(length),
                Some(files) => d.entry(b"files").list(|l| {
                    for ((path, _), len) in files.iter().zip(&lengths) {
                        l.item().dict(|f| {
                            f.entry(b"length").int(*len);
                            f.entry(b"path").list(|p| {
                                for c in path {
                                    p.item().str(c);
                                }
                            });
                        });
                    }
                }),
            }
            d.entry(b"name").str(&self.name);
            d.entry(b"piece length").int(piece_length);
            d.entry(b"pieces").bytes(&pieces);
            if self.private {
                d.entry(b"private").int(1);
            }
        });
        Ok(e.into_bytes())
    }

    /// The whole `.torrent`, checked by parsing it back.
    pub fn build(&self) -> Result<Vec<u8>, MetainfoError> {
        let info = self.info_bytes()?;
        let info = swarmget_bencode::decode(&info)?;
        let urls: Vec<&String> = self.tiers.iter().flatten().collect();
        let mut e = Encoder::new();
        e.value().dict(|d| {
            if let Some(first) = urls.first() {
                d.entry(b"announce").str(first);
            }
            if urls.len() > 1 {
                d.entry(b"announce-list").list(|l| {
                    for tier in &self.tiers {
                        l.item().list(|t| {
                            for url in tier {
                                t.item().str(url);
                            }
                        });
                    }
                });
            }
            if let Some(c) = &self.comment {
                d.entry(b"comment").str(c);
            }
            if let Some(c) = &self.created_by {
                d.entry(b"created by").str(c);
            }
            if let Some(date) = self.creation_date {
                d.entry(b"creation date").int(date);
            }
            d.entry(b"info").raw_value(&info);
            match self.web_seeds.as_slice() {
                [] => {}
                [one] => d.entry(b"url-list").str(one),
                many => d.entry(b"url-list").list(|l| {
                    for url in many {
                        l.item().str(url);
                    }
                }),
            }
        });
        let bytes = e.into_bytes();
        Metainfo::parse(&bytes)?;
        Ok(bytes)
    }
}

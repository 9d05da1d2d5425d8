//! Metalink 4 documents (RFC 5854) written for the loopback checks: each file with its
//! size, a SHA-256 of the whole, SHA-1 chunk checksums (`<pieces>`) and its mirrors in
//! preference order. Written by hand rather than by the metalink crate, so a bug in the
//! crate's writer cannot hide the same bug in its reader.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha1::{Digest, Sha1};

use crate::payload::Payload;

/// One `<file>` of a document.
pub struct MetaFile {
    /// The `name` attribute: the path the download gets under `-d`, `/`-separated.
    pub name: String,
    /// Its length in bytes.
    pub size: u64,
    /// SHA-256 of the whole file, lowercase hex.
    pub sha256: String,
    /// The chunk length of `pieces`.
    pub piece_len: u64,
    /// SHA-1 of each `piece_len` chunk in order (the last one may be short), lowercase hex.
    pub pieces: Vec<String>,
    /// Mirrors in preference order: the first gets `priority="1"`.
    pub urls: Vec<String>,
}

impl MetaFile {
    /// Describes `source` (a served file whose SHA-256 `payload` already knows) under the
    /// name `name`, with chunk checksums of `piece_len` bytes read from the file itself.
    pub fn of(
        name: &str,
        source: &Path,
        payload: &Payload,
        piece_len: u64,
        urls: Vec<String>,
    ) -> Result<MetaFile, String> {
        Ok(MetaFile {
            name: name.to_string(),
            size: payload.len,
            sha256: payload.sha256.clone(),
            piece_len,
            pieces: piece_hashes(source, piece_len)?,
            urls,
        })
    }
}

/// The SHA-1 of each `piece_len` chunk of `path`, as lowercase hex.
pub fn piece_hashes(path: &Path, piece_len: u64) -> Result<Vec<String>, String> {
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut file = File::open(path).map_err(fail)?;
    let len = usize::try_from(piece_len).map_err(|_| format!("piece length {piece_len}"))?;
    let mut buf = vec![0; len];
    let mut hashes = Vec::new();
    loop {
        // Fill the whole chunk: `read` may return less before the end of the file.
        let mut filled = 0;
        while filled < len {
            match file.read(&mut buf[filled..]).map_err(fail)? {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            return Ok(hashes);
        }
        hashes.push(hex(&Sha1::digest(&buf[..filled])));
        if filled < len {
            return Ok(hashes);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The document's text.
pub fn document(files: &[MetaFile]) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">\n\
         \x20 <generator>cargo xtask</generator>\n",
    );
    for f in files {
        let _ = writeln!(x, "  <file name=\"{}\">", escape(&f.name));
        let _ = writeln!(x, "    <size>{}</size>", f.size);
        let _ = writeln!(x, "    <hash type=\"sha-256\">{}</hash>", f.sha256);
        let _ = writeln!(x, "    <pieces length=\"{}\" type=\"sha-1\">", f.piece_len);
        for p in &f.pieces {
            let _ = writeln!(x, "      <hash>{p}</hash>");
        }
        x.push_str("    </pieces>\n");
        for (i, url) in f.urls.iter().enumerate() {
            let _ = writeln!(x, "    <url priority=\"{}\">{}</url>", i + 1, escape(url));
        }
        x.push_str("  </file>\n");
    }
    x.push_str("</metalink>\n");
    x
}

/// Writes `files`' document to `path`.
pub fn write(path: &Path, files: &[MetaFile]) -> Result<(), String> {
    std::fs::write(path, document(files)).map_err(|e| format!("{}: {e}", path.display()))
}

/// Text as XML character data or an attribute value in double quotes.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::{MetaFile, document, piece_hashes};

    #[test]
    fn pieces_cover_the_file_and_the_last_one_is_short() {
        let dir = std::env::temp_dir().join(format!("xtask-meta4-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("abc");
        std::fs::write(&path, b"abcabc!").unwrap();
        let hashes = piece_hashes(&path, 3).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        // sha1("abc") twice, then sha1("!").
        let abc = "a9993e364706816aba3e25717850c26c9cd0d89d";
        assert_eq!(
            hashes,
            [abc, abc, "0ab8318acaf6e678dd02e2b5c343ed41111b393d"]
        );
    }

    #[test]
    fn a_document_lists_hashes_and_mirrors_in_order() {
        let text = document(&[MetaFile {
            name: "sub/a&b.bin".into(),
            size: 7,
            sha256: "00".repeat(32),
            piece_len: 3,
            pieces: vec!["11".repeat(20), "22".repeat(20)],
            urls: vec!["http://h/a?x=1&y=2".into(), "ftp://h/a".into()],
        }]);
        assert!(text.contains("<file name=\"sub/a&amp;b.bin\">"));
        assert!(text.contains("<pieces length=\"3\" type=\"sha-1\">"));
        let first = text.find("priority=\"1\">http://h/a?x=1&amp;y=2<").unwrap();
        let second = text.find("priority=\"2\">ftp://h/a<").unwrap();
        assert!(first < second);
    }
}

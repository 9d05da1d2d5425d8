//! Files to download: random bytes (nothing compresses or dedups them) and their SHA-256.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::process::Command;

/// A file served to the downloaders, with what a correct copy must look like.
pub struct Payload {
    /// The name under the server's root, which is also the name the download gets.
    pub name: String,
    /// Its length in bytes.
    pub len: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}

impl Payload {
    /// Writes `len` random bytes to `dir/name` and hashes them.
    pub fn random(dir: &Path, name: &str, len: u64) -> Result<Payload, String> {
        let path = dir.join(name);
        write_random(&path, len)?;
        Payload::existing(&path)
    }

    /// Describes a file that is already there.
    pub fn existing(path: &Path) -> Result<Payload, String> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: no usable file name", path.display()))?
            .to_string();
        let len = std::fs::metadata(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        Ok(Payload {
            name,
            len,
            sha256: sha256(path)?,
        })
    }

    /// Checks that `copy` holds exactly this payload's bytes.
    pub fn verify(&self, copy: &Path) -> Result<(), String> {
        let len = std::fs::metadata(copy)
            .map_err(|e| format!("{}: {e}", copy.display()))?
            .len();
        if len != self.len {
            return Err(format!(
                "{}: {len} bytes, expected {}",
                copy.display(),
                self.len
            ));
        }
        let got = sha256(copy)?;
        if got != self.sha256 {
            return Err(format!(
                "{}: sha256 {got}, expected {}",
                copy.display(),
                self.sha256
            ));
        }
        Ok(())
    }
}

/// Writes `len` bytes from /dev/urandom to `path`, through a temporary name so an
/// interrupted run never leaves a short file under the real one.
pub fn write_random(path: &Path, len: u64) -> Result<(), String> {
    let tmp = path.with_extension("partial");
    let result = (|| {
        let mut out = File::create(&tmp)?;
        let copied = io::copy(&mut File::open("/dev/urandom")?.take(len), &mut out)?;
        if copied != len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "/dev/urandom ran dry",
            ));
        }
        out.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| format!("{}: {e}", path.display()))
}

/// SHA-256 of a file as lowercase hex. `openssl dgst` rather than `sha256sum`: it uses
/// the SHA extensions and hashes a GiB several times faster, and openssl is needed for
/// the test CA anyway.
pub fn sha256(path: &Path) -> Result<String, String> {
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-r"])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl dgst {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text.split_whitespace().next().unwrap_or_default();
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err(format!(
            "openssl dgst {}: unexpected output `{text}`",
            path.display()
        ))
    }
}

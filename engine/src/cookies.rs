//! The engine's cookie jar: loaded from `--load-cookies` when the engine starts, fed
//! by every `Set-Cookie` a server sends (redirects included), asked for the `Cookie`
//! header of every request, and written to `--save-cookies` when the engine stops.
//! One jar for every download, as in aria2.

use std::io;
use std::path::Path;

use swarmget_cookies::CookieJar;

use crate::options::Options;

/// Unix seconds now: cookie expiry is wall-clock time.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The jar `--load-cookies` names (empty without it). A file that cannot be read or
/// parsed is an error: the downloads would otherwise go without the cookies the user
/// meant them to carry.
pub(crate) fn load(opts: &Options) -> io::Result<CookieJar> {
    let mut jar = CookieJar::new();
    if let Some(path) = &opts.load_cookies {
        let bytes = std::fs::read(path).map_err(|e| {
            io::Error::new(e.kind(), format!("--load-cookies {}: {e}", path.display()))
        })?;
        if bytes.starts_with(b"SQLite format 3\0") {
            let (_, encrypted) =
                crate::cookie_db::load(path, &mut jar, unix_now()).map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("--load-cookies {}: {e}", path.display()),
                    )
                })?;
            if encrypted > 0 {
                eprintln!(
                    "swarmget: warning: --load-cookies {}: {encrypted} encrypted cookies skipped \
                     (the browser's keyring holds their key)",
                    path.display()
                );
            }
            return Ok(jar);
        }
        let text = String::from_utf8_lossy(&bytes);
        jar.load_netscape(&text, unix_now()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("--load-cookies {}: {e}", path.display()),
            )
        })?;
    }
    Ok(jar)
}

/// Writes `jar` to `path` in Netscape format, through a temporary file and a rename
/// so a crash never leaves half a file.
pub(crate) fn save(jar: &CookieJar, path: &Path) -> io::Result<()> {
    let tmp = path.with_extension("swarmget-tmp");
    std::fs::write(&tmp, jar.to_netscape(unix_now()))?;
    std::fs::rename(&tmp, path)
}

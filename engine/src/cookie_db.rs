//! `--load-cookies` from a browser's SQLite database: Firefox's `cookies.sqlite`
//! (`moz_cookies`) and Chromium's `Cookies` (`cookies`), as aria2 reads them.
//!
//! The database is opened read-only through SQLite itself (rusqlite, bundled), so a
//! write-ahead log beside it is applied as the browser would. Chromium's encrypted
//! values (`encrypted_value`, keyed by the desktop's keyring) cannot be read: those
//! rows are skipped and counted in a warning; a database with only such rows is an
//! error, not an empty jar.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use swarmget_cookies::{Cookie, CookieJar};

/// Seconds from 1601-01-01 (Chromium's epoch) to 1970-01-01.
const WINDOWS_TO_UNIX_SECS: i64 = 11_644_473_600;

/// Adds the cookies of the database at `path` to `jar`; returns how many were read
/// and how many encrypted ones were skipped.
pub(crate) fn load(path: &Path, jar: &mut CookieJar, now: i64) -> Result<(usize, usize), String> {
    let db = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| e.to_string())?;
    let has = |table: &str| -> Result<bool, String> {
        db.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |row| row.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .map_err(|e| e.to_string())
    };
    let rows = if has("moz_cookies")? {
        firefox(&db)?
    } else if has("cookies")? {
        chromium(&db)?
    } else {
        return Err("neither Firefox's moz_cookies nor Chromium's cookies table is there".into());
    };
    let mut read = 0;
    let mut encrypted = 0;
    for row in rows {
        match row {
            Row::Cookie(cookie) => {
                jar.insert(cookie, now);
                read += 1;
            }
            Row::Encrypted => encrypted += 1,
        }
    }
    if read == 0 && encrypted > 0 {
        return Err(format!(
            "all {encrypted} cookies are encrypted by the browser and cannot be read"
        ));
    }
    Ok((read, encrypted))
}

enum Row {
    Cookie(Cookie),
    Encrypted,
}

fn firefox(db: &Connection) -> Result<Vec<Row>, String> {
    let mut stmt = db
        .prepare("SELECT name, value, host, path, isSecure, isHttpOnly, expiry FROM moz_cookies")
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for row in rows {
        let (name, value, host, path, secure, http_only, expiry) =
            row.map_err(|e| e.to_string())?;
        // Firefox 123 moved expiry from seconds to milliseconds; no cookie expires
        // after the year 5000, so a larger number is milliseconds.
        let expiry = if expiry > 100_000_000_000 {
            expiry / 1000
        } else {
            expiry
        };
        let cookie = Cookie::from_store(
            &name,
            &value,
            &host,
            &path,
            secure != 0,
            http_only != 0,
            (expiry > 0).then_some(expiry),
        )
        .map_err(|e| format!("cookie {name} for {host}: {e}"))?;
        out.push(Row::Cookie(cookie));
    }
    Ok(out)
}

fn chromium(db: &Connection) -> Result<Vec<Row>, String> {
    let mut stmt = db
        .prepare(
            "SELECT name, value, host_key, path, is_secure, is_httponly, expires_utc, \
             length(encrypted_value) FROM cookies",
        )
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Option<i64>>(7)?,
            ))
        })
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for row in rows {
        let (name, value, host, path, secure, http_only, expires, encrypted) =
            row.map_err(|e| e.to_string())?;
        if value.is_empty() && encrypted.unwrap_or(0) > 0 {
            out.push(Row::Encrypted);
            continue;
        }
        // Microseconds since 1601-01-01; 0 is a session cookie.
        let expires = (expires > 0).then(|| expires / 1_000_000 - WINDOWS_TO_UNIX_SECS);
        let cookie = Cookie::from_store(
            &name,
            &value,
            &host,
            &path,
            secure != 0,
            http_only != 0,
            expires,
        )
        .map_err(|e| format!("cookie {name} for {host}: {e}"))?;
        out.push(Row::Cookie(cookie));
    }
    Ok(out)
}

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

/// The columns both browsers keep, in one order: name, value, host, path, secure,
/// http-only, expiry (in the browser's unit), length of an encrypted value.
type Columns = (String, String, String, String, i64, i64, i64, Option<i64>);

fn columns(db: &Connection, sql: &str) -> Result<Vec<Columns>, String> {
    let mut stmt = db.prepare(sql).map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .map_err(|e| e.to_string())?;
    rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
}

/// A row as a cookie (`expires` already in Unix seconds), or skipped when encrypted.
fn row(c: Columns, expires: Option<i64>) -> Result<Row, String> {
    let (name, value, host, path, secure, http_only, _, encrypted) = c;
    if value.is_empty() && encrypted.unwrap_or(0) > 0 {
        return Ok(Row::Encrypted);
    }
    Cookie::from_store(
        &name,
        &value,
        &host,
        &path,
        secure != 0,
        http_only != 0,
        expires,
    )
    .map(Row::Cookie)
    .map_err(|e| format!("cookie {name} for {host}: {e}"))
}

fn firefox(db: &Connection) -> Result<Vec<Row>, String> {
    let sql = "SELECT name, value, host, path, isSecure, isHttpOnly, expiry, NULL FROM moz_cookies";
    columns(db, sql)?
        .into_iter()
        .map(|c| {
            // Firefox 123 moved expiry from seconds to milliseconds; no cookie expires
            // after the year 5000, so a larger number is milliseconds.
            let expiry = if c.6 > 100_000_000_000 {
                c.6 / 1000
            } else {
                c.6
            };
            row(c, (expiry > 0).then_some(expiry))
        })
        .collect()
}

fn chromium(db: &Connection) -> Result<Vec<Row>, String> {
    let sql = "SELECT name, value, host_key, path, is_secure, is_httponly, expires_utc, \
               length(encrypted_value) FROM cookies";
    columns(db, sql)?
        .into_iter()
        .map(|c| {
            // Microseconds since 1601-01-01; 0 is a session cookie.
            let expires = (c.6 > 0).then(|| c.6 / 1_000_000 - WINDOWS_TO_UNIX_SECS);
            row(c, expires)
        })
        .collect()
}

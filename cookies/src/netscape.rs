//! The Netscape/Mozilla `cookies.txt` format (curl, wget, browser exports, aria2's
//! `--load-cookies`/`--save-cookies`): one cookie per line, seven TAB-separated fields
//! — domain, include-subdomains flag, path, secure flag, expiry (Unix seconds, 0 for a
//! session cookie), name, value. `#` starts a comment, except the `#HttpOnly_` prefix
//! some writers put before the domain.

use thiserror::Error;

use crate::jar::{Cookie, CookieJar, MAX_COOKIE_BYTES};

/// A line of a cookie file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("cookie file line {line}: {why}")]
pub struct CookieFileError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub why: String,
}

const HTTP_ONLY: &str = "#HttpOnly_";

impl CookieJar {
    /// Adds the cookies of a `cookies.txt` text, dropping those expired at `now`;
    /// returns how many were kept. On error nothing is added.
    pub fn load_netscape(&mut self, text: &str, now: i64) -> Result<usize, CookieFileError> {
        let mut read = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            let (line, http_only) = match line.strip_prefix(HTTP_ONLY) {
                Some(rest) => (rest, true),
                None => (line, false),
            };
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| CookieFileError {
                line: i + 1,
                why: why.to_string(),
            };
            let fields: Vec<&str> = line.split('\t').collect();
            // A value-less cookie is sometimes written without its last TAB.
            let (domain, subdomains, path, secure, expiry, name, value) = match fields[..] {
                [d, f, p, s, e, n, v] => (d, f, p, s, e, n, v),
                [d, f, p, s, e, n] => (d, f, p, s, e, n, ""),
                _ => return Err(bad("expected 7 TAB-separated fields")),
            };
            let flag = |text: &str, what: &str| match text.to_ascii_uppercase().as_str() {
                "TRUE" => Ok(true),
                "FALSE" => Ok(false),
                _ => Err(bad(&format!("{what} must be TRUE or FALSE"))),
            };
            let subdomains = flag(subdomains, "the subdomain flag")?;
            let secure = flag(secure, "the secure flag")?;
            let expiry: i64 = expiry
                .trim()
                .parse()
                .map_err(|_| bad("the expiry is not a number"))?;
            let domain = domain.trim_start_matches('.').to_ascii_lowercase();
            if domain.is_empty() || name.is_empty() {
                return Err(bad("empty domain or name"));
            }
            if name.len() + value.len() > MAX_COOKIE_BYTES {
                return Err(bad("cookie longer than 4096 bytes"));
            }
            read.push(Cookie {
                name: name.to_string(),
                value: value.to_string(),
                domain,
                host_only: !subdomains,
                path: if path.starts_with('/') { path } else { "/" }.to_string(),
                secure,
                http_only,
                expires: (expiry != 0).then_some(expiry),
                created: 0,
            });
        }
        let mut kept = 0;
        for cookie in read {
            if !cookie.expired(now) {
                kept += 1;
            }
            self.insert(cookie, now);
        }
        Ok(kept)
    }

    /// The jar as a `cookies.txt` text, without cookies expired at `now`. Session
    /// cookies are written with expiry 0, as aria2 writes them.
    pub fn to_netscape(&self, now: i64) -> String {
        let mut out = String::from("# Netscape HTTP Cookie File\n");
        for c in self.cookies().iter().filter(|c| !c.expired(now)) {
            let tf = |b: bool| if b { "TRUE" } else { "FALSE" };
            out.push_str(&format!(
                "{}{}{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                if c.http_only { HTTP_ONLY } else { "" },
                if c.host_only { "" } else { "." },
                c.domain,
                tf(!c.host_only),
                c.path,
                tf(c.secure),
                c.expires.unwrap_or(0),
                c.name,
                c.value
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn reads_curl_and_browser_exports_and_writes_them_back() {
        let text = "# Netscape HTTP Cookie File\n\
            .example.com\tTRUE\t/\tFALSE\t0\tsession\ts1\n\
            #HttpOnly_www.example.com\tFALSE\t/dl\tTRUE\t1900000000\tauth\tt0k\r\n\
            old.example.com\tFALSE\t/\tFALSE\t1000\tgone\tx\n\
            \n\
            example.org\tFALSE\t/\tFALSE\t0\tempty\n";
        let mut jar = CookieJar::new();
        assert_eq!(jar.load_netscape(text, NOW), Ok(3));
        let u = Url::parse("https://www.example.com/dl/f").unwrap();
        assert_eq!(
            jar.header_for(&u, NOW).as_deref(),
            Some("auth=t0k; session=s1")
        );
        let saved = jar.to_netscape(NOW);
        let mut again = CookieJar::new();
        assert_eq!(again.load_netscape(&saved, NOW), Ok(3));
        assert_eq!(again.cookies(), jar.cookies());
        assert!(
            saved.contains("#HttpOnly_www.example.com\tFALSE\t/dl\tTRUE\t1900000000\tauth\tt0k\n")
        );
    }

    #[test]
    fn bad_lines_are_named() {
        let mut jar = CookieJar::new();
        let e = jar.load_netscape("# c\nhost\tTRUE\t/\n", NOW).unwrap_err();
        assert_eq!(e.line, 2);
        let e = jar
            .load_netscape("h\tMAYBE\t/\tFALSE\t0\tn\tv\n", NOW)
            .unwrap_err();
        assert!(e.why.contains("TRUE or FALSE"), "{e}");
        assert!(
            jar.load_netscape("h\tTRUE\t/\tFALSE\tsoon\tn\tv\n", NOW)
                .is_err()
        );
        assert!(jar.cookies().is_empty(), "nothing added on error");
    }
}

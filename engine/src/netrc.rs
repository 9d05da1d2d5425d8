//! `.netrc` files (the format of BSD ftp, curl and aria2): whitespace-separated tokens,
//! `machine NAME` (or `default`) followed by `login`, `password` and `account` values;
//! `macdef NAME` starts a macro that runs to the next empty line and is skipped.
//!
//! Parsing is pure; the engine reads the file (`--netrc-path`, `~/.netrc` by default
//! in the CLI) once at start, and uses an entry for HTTP(S) and FTP when neither the
//! URI nor `--http-user`/`--ftp-user` names a user, as aria2 does.

use std::fmt;

/// One machine's credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Machine {
    /// The host name, lowercase (empty for `default`).
    pub name: String,
    /// `login`, empty when not given.
    pub login: String,
    /// `password`, empty when not given.
    pub password: String,
}

impl fmt::Debug for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Machine")
            .field("name", &self.name)
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// A parsed `.netrc`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Netrc {
    machines: Vec<Machine>,
    default: Option<Machine>,
}

/// Why a `.netrc` could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetrcError {
    /// 1-based line of the offending token.
    pub line: usize,
    /// What is wrong.
    pub why: String,
}

impl fmt::Display for NetrcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "netrc line {}: {}", self.line, self.why)
    }
}

impl std::error::Error for NetrcError {}

impl Netrc {
    /// Parses a `.netrc` text.
    pub fn parse(text: &str) -> Result<Netrc, NetrcError> {
        let mut netrc = Netrc::default();
        let mut current: Option<Machine> = None;
        let mut lines = text.lines().enumerate().peekable();
        // Tokens with their line numbers, macros skipped as they come.
        let mut tokens: Vec<(usize, &str)> = Vec::new();
        while let Some((n, line)) = lines.next() {
            for word in line.split_whitespace() {
                if word == "macdef" {
                    // The macro's name ends this line; its body runs to an empty line.
                    while lines.peek().is_some_and(|(_, l)| !l.trim().is_empty()) {
                        lines.next();
                    }
                    break;
                }
                tokens.push((n + 1, word));
            }
        }
        let mut it = tokens.into_iter();
        let finish = |netrc: &mut Netrc, m: Option<Machine>| {
            if let Some(m) = m {
                if m.name.is_empty() {
                    netrc.default = Some(m);
                } else {
                    netrc.machines.push(m);
                }
            }
        };
        while let Some((line, token)) = it.next() {
            let mut value = |what: &str| {
                it.next().map(|(_, v)| v.to_string()).ok_or(NetrcError {
                    line,
                    why: format!("'{what}' without a value"),
                })
            };
            match token {
                "machine" => {
                    // Stored as lookups see hosts: IPv6 brackets off, ASCII lowercase.
                    let name = value("machine")?;
                    let name = name
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_ascii_lowercase();
                    finish(&mut netrc, current.take());
                    current = Some(Machine {
                        name,
                        login: String::new(),
                        password: String::new(),
                    });
                }
                "default" => {
                    finish(&mut netrc, current.take());
                    current = Some(Machine {
                        name: String::new(),
                        login: String::new(),
                        password: String::new(),
                    });
                }
                "login" | "password" | "account" => {
                    let v = value(token)?;
                    let Some(m) = current.as_mut() else {
                        return Err(NetrcError {
                            line,
                            why: format!("'{token}' before any 'machine'"),
                        });
                    };
                    match token {
                        "login" => m.login = v,
                        "password" => m.password = v,
                        _ => {}
                    }
                }
                other => {
                    return Err(NetrcError {
                        line,
                        why: format!("unknown token '{other}'"),
                    });
                }
            }
        }
        finish(&mut netrc, current);
        Ok(netrc)
    }

    /// The entry for `host` (case-insensitive), else the `default` entry.
    pub fn find(&self, host: &str) -> Option<&Machine> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.machines
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(host))
            .or(self.default.as_ref())
    }
}

/// Reads the `.netrc` at `path` for the engine: `Ok(None)` when it does not exist, or
/// when group or others may read it (aria2 then ignores it, saying why in `warn`).
pub(crate) fn load(
    path: &std::path::Path,
    warn: &mut dyn FnMut(String),
) -> std::io::Result<Option<Netrc>> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if meta.permissions().mode() & 0o077 != 0 {
        warn(format!(
            "{} is readable by others (mode {:o}): not used; chmod 600 it",
            path.display(),
            meta.permissions().mode() & 0o777
        ));
        return Ok(None);
    }
    if meta.len() > 1 << 20 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: larger than 1 MiB", path.display()),
        ));
    }
    let text = std::fs::read_to_string(path)?;
    Netrc::parse(&text).map(Some).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machines_default_and_macros() {
        let n = Netrc::parse(
            "machine Files.Example login alice password s3cret\n\
             macdef init\ncd /pub\nbinary\n\n\
             machine other login bob account x\n\
             default login anonymous password me@example\n",
        )
        .unwrap();
        let m = n.find("files.example").unwrap();
        assert_eq!((m.login.as_str(), m.password.as_str()), ("alice", "s3cret"));
        assert_eq!(n.find("other").unwrap().password, "");
        assert_eq!(n.find("unknown").unwrap().login, "anonymous");
        assert!(!format!("{m:?}").contains("s3cret"));
        // Brackets on either side (found by the netrc_parse fuzz target).
        let v6 = Netrc::parse("machine [::1] login a\nmachine odd] login b").unwrap();
        assert_eq!(v6.find("::1").unwrap().login, "a");
        assert_eq!(v6.find("[::1]").unwrap().login, "a");
        assert_eq!(v6.find("odd]").unwrap().login, "b");
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        let e = Netrc::parse("machine a\nlogin\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(Netrc::parse("login x").is_err());
        assert!(
            Netrc::parse("machine a lgin x")
                .unwrap_err()
                .why
                .contains("lgin")
        );
        assert_eq!(Netrc::parse("").unwrap().find("a"), None);
    }
}

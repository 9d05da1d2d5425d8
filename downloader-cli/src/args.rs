//! Command line, config file and input file, all read through the engine's one option
//! table, with aria2's precedence: defaults < config file < proxy environment variables
//! < command line.

use std::path::{Path, PathBuf};

use swarmget_engine::Options;
use swarmget_engine::options::{Arg, OptionDef, find, find_short};

use crate::input_file::InputEntry;

/// What the command line asks for.
pub struct CommandLine {
    /// `name=value` pairs in the order given.
    pub pairs: Vec<(&'static OptionDef, String)>,
    /// URIs.
    pub uris: Vec<String>,
    /// `--help[=TAG]`.
    pub help: Option<String>,
    /// `--version`.
    pub version: bool,
}

/// Splits argv into options and URIs. Errors are aria2's "bad option" (exit 28).
pub fn parse_command_line(args: &[String]) -> Result<CommandLine, String> {
    let mut cl = CommandLine {
        pairs: Vec::new(),
        uris: Vec::new(),
        help: None,
        version: false,
    };
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            cl.uris.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            match name {
                "help" => {
                    cl.help = Some(inline.unwrap_or_else(|| "#basic".into()));
                    continue;
                }
                "version" => {
                    cl.version = true;
                    continue;
                }
                _ => {}
            }
            let def = find(name).ok_or_else(|| format!("unrecognized option '--{name}'"))?;
            let value = match (def.arg, inline) {
                (_, Some(v)) => v,
                (Arg::Bool, None) => "true".into(),
                (Arg::Value, None) => {
                    let v = args
                        .get(i)
                        .ok_or_else(|| format!("option '--{name}' requires an argument"))?;
                    i += 1;
                    v.clone()
                }
            };
            cl.pairs.push((def, value));
        } else if let Some(short) = a.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (pos, c) in short.char_indices() {
                match c {
                    'h' => {
                        cl.help = Some("#basic".into());
                        continue;
                    }
                    'v' => {
                        cl.version = true;
                        continue;
                    }
                    _ => {}
                }
                let def = find_short(c).ok_or_else(|| format!("invalid option -- '{c}'"))?;
                let rest = &short[pos + c.len_utf8()..];
                match def.arg {
                    // aria2: a short boolean takes its value only when glued (-Vfalse).
                    Arg::Bool => {
                        if rest == "true" || rest == "false" {
                            cl.pairs.push((def, rest.to_string()));
                            break;
                        }
                        cl.pairs.push((def, "true".into()));
                    }
                    Arg::Value => {
                        let value = if !rest.is_empty() {
                            rest.to_string()
                        } else {
                            let v = args
                                .get(i)
                                .ok_or_else(|| format!("option requires an argument -- '{c}'"))?;
                            i += 1;
                            v.clone()
                        };
                        cl.pairs.push((def, value));
                        break;
                    }
                }
            }
        } else {
            cl.uris.push(a.clone());
        }
    }
    Ok(cl)
}

/// Builds the global options: defaults, then the config file, then the proxy
/// environment variables, then the command line.
pub fn global_options(
    cl: &CommandLine,
    warn: &mut dyn FnMut(String),
) -> Result<Options, (u8, String)> {
    let mut probe = Options::default();
    for (def, v) in &cl.pairs {
        if matches!(def.name, "conf-path" | "no-conf") {
            (def.apply)(&mut probe, v).map_err(|e| (28, e))?;
        }
    }
    let mut opts = Options::default();
    if !probe.no_conf {
        let (path, explicit) = match &probe.conf_path {
            Some(p) => (Some(p.clone()), true),
            None => (default_conf_path(), false),
        };
        if let Some(path) = path {
            match std::fs::read_to_string(&path) {
                Ok(text) => apply_conf(&mut opts, &text, &path, warn)?,
                Err(e) if explicit => {
                    return Err((
                        1,
                        format!("cannot read configuration file {}: {e}", path.display()),
                    ));
                }
                Err(_) => {}
            }
        }
    }
    apply_env(&mut opts, &|name| std::env::var(name).ok(), warn);
    for (def, v) in &cl.pairs {
        (def.apply)(&mut opts, v).map_err(|e| (28, format!("--{}: {e}", def.name)))?;
    }
    if opts.netrc_path.is_none()
        && let Some(home) = std::env::var_os("HOME")
    {
        opts.netrc_path = Some(PathBuf::from(home).join(".netrc"));
    }
    if opts.dht.file_path.is_none() {
        opts.dht.file_path = default_dht_path("dht.dat");
    }
    if opts.dht.file_path6.is_none() {
        opts.dht.file_path6 = default_dht_path("dht6.dat");
    }
    Ok(opts)
}

/// aria2's default place for a DHT routing table: `~/.aria2/NAME` if it exists (aria2's
/// old place), else `$XDG_CACHE_HOME/aria2/NAME` (`~/.cache/aria2/NAME`).
fn default_dht_path(name: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let legacy = home.join(".aria2").join(name);
    if legacy.exists() {
        return Some(legacy);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".cache"));
    Some(cache.join("aria2").join(name))
}

/// The environment variables aria2 reads, and the option each sets.
const PROXY_ENV: &[(&str, &str)] = &[
    ("http_proxy", "http-proxy"),
    ("https_proxy", "https-proxy"),
    ("ftp_proxy", "ftp-proxy"),
    ("all_proxy", "all-proxy"),
    ("no_proxy", "no-proxy"),
];

/// Applies `http_proxy`, `https_proxy`, `ftp_proxy`, `all_proxy` and `no_proxy` (each
/// in lower case, else upper case, as aria2 reads them) over the config file. A value
/// that does not parse is reported through `warn` and not applied: aria2 prints the
/// error and goes on, and a shell's stray variable should not stop every download.
pub fn apply_env(
    opts: &mut Options,
    lookup: &dyn Fn(&str) -> Option<String>,
    warn: &mut dyn FnMut(String),
) {
    for (var, option) in PROXY_ENV {
        let upper = var.to_ascii_uppercase();
        let Some((name, value)) = lookup(var)
            .map(|v| (*var, v))
            .or_else(|| lookup(&upper).map(|v| (upper.as_str(), v)))
        else {
            continue;
        };
        if let Err(e) = opts.set(option, &value) {
            warn(format!("environment variable {name} ignored: {e}"));
        }
    }
}

/// aria2's default locations: `~/.aria2/aria2.conf` if present, else
/// `$XDG_CONFIG_HOME/aria2/aria2.conf`.
fn default_conf_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let legacy = home.join(".aria2/aria2.conf");
    if legacy.exists() {
        return Some(legacy);
    }
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".config"));
    Some(xdg.join("aria2/aria2.conf"))
}

/// Applies a config file: `name=value` lines, `#` comments. An unknown name is a
/// warning (aria2 does the same); a bad value is an error (exit 28).
pub fn apply_conf(
    opts: &mut Options,
    text: &str,
    path: &Path,
    warn: &mut dyn FnMut(String),
) -> Result<(), (u8, String)> {
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            warn(format!(
                "{}:{}: ignoring line without '='",
                path.display(),
                n + 1
            ));
            continue;
        };
        let name = name.trim();
        match find(name) {
            Some(def) => (def.apply)(opts, value.trim())
                .map_err(|e| (28, format!("{}:{}: {name}: {e}", path.display(), n + 1)))?,
            // An option aria2 has and swarmget lacks would be silently not done.
            None if crate::aria2_options::knows(name) => {
                return Err((
                    28,
                    format!(
                        "{}:{}: option '{name}' is aria2's but not supported by swarmget yet; \
                         remove the line to go on without it",
                        path.display(),
                        n + 1
                    ),
                ));
            }
            None => warn(format!(
                "{}:{}: unknown option '{name}' ignored",
                path.display(),
                n + 1
            )),
        }
    }
    Ok(())
}

/// Applies an input entry's option lines on top of the global options. Only
/// per-download options are allowed there, as in aria2.
pub fn entry_options(global: &Options, entry: &InputEntry) -> Result<Options, String> {
    let mut opts = global.clone();
    // Cumulative options start fresh per entry rather than piling onto the global list.
    if entry.options.iter().any(|(n, _)| n == "header") {
        opts.headers.clear();
    }
    for (name, value) in &entry.options {
        let def = find(name).ok_or_else(|| format!("unknown option '{name}' in input file"))?;
        if !def.per_download {
            return Err(format!("option '{name}' cannot be set per download"));
        }
        (def.apply)(&mut opts, value).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input_file::parse_input;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn short_long_and_glued_forms() {
        let cl = parse_command_line(&argv(&[
            "-x16",
            "-s",
            "8",
            "--dir=/tmp",
            "--out",
            "f",
            "-c",
            "-Vfalse",
            "http://h/a",
            "-W",
        ]));
        // -W is not in the table: an unknown short flag is an error.
        assert_eq!(cl.err().as_deref(), Some("invalid option -- 'W'"));
        let cl = parse_command_line(&argv(&[
            "-x16",
            "-s",
            "8",
            "--dir=/tmp",
            "--out",
            "f",
            "-cq",
            "-Vfalse",
            "-SM",
            "-",
            "http://h/a",
        ]))
        .unwrap();
        let names: Vec<_> = cl
            .pairs
            .iter()
            .map(|(d, v)| format!("{}={v}", d.name))
            .collect();
        assert_eq!(
            names,
            [
                "max-connection-per-server=16",
                "split=8",
                "dir=/tmp",
                "out=f",
                "continue=true",
                "quiet=true",
                "check-integrity=false",
                "show-files=true",
                "metalink-file=-",
            ]
        );
        assert_eq!(cl.uris, ["http://h/a"]);
        let error = |args: &[&str]| parse_command_line(&argv(args)).err();
        assert_eq!(
            error(&["--nope"]).as_deref(),
            Some("unrecognized option '--nope'")
        );
        assert_eq!(
            error(&["--split"]).as_deref(),
            Some("option '--split' requires an argument")
        );
        assert_eq!(
            error(&["-s"]).as_deref(),
            Some("option requires an argument -- 's'")
        );
    }

    #[test]
    fn proxy_environment_lower_case_first() {
        let env = |name: &str| match name {
            "http_proxy" => Some("lower:1".to_string()),
            "HTTP_PROXY" => Some("upper:2".to_string()),
            "HTTPS_PROXY" => Some("socks5h://s:3".to_string()),
            "NO_PROXY" => Some("localhost,.corp".to_string()),
            "ftp_proxy" => Some("ftp://bad".to_string()),
            _ => None,
        };
        let mut opts = Options::default();
        let mut warnings = Vec::new();
        apply_env(&mut opts, &env, &mut |w| warnings.push(w));
        assert_eq!(opts.http_proxy.as_ref().unwrap().host, "lower");
        assert_eq!(opts.https_proxy.as_ref().unwrap().port, 3);
        assert!(opts.no_proxy.matches("a.corp") && opts.no_proxy.matches("localhost"));
        assert_eq!(opts.ftp_proxy, None);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("ftp_proxy"), "{warnings:?}");
    }

    #[test]
    fn conf_then_command_line() {
        let mut warnings = Vec::new();
        let mut opts = Options::default();
        apply_conf(
            &mut opts,
            "# c\nsplit=3\nnot-an-aria2-option=5\n\nmax-tries = 2\n",
            Path::new("a.conf"),
            &mut |w| warnings.push(w),
        )
        .unwrap();
        assert_eq!((opts.split, opts.max_tries), (3, 2));
        assert_eq!(
            warnings,
            ["a.conf:3: unknown option 'not-an-aria2-option' ignored"],
            "a key aria2 does not know either only warns"
        );
        let bad = apply_conf(&mut opts, "split=zero\n", Path::new("a.conf"), &mut |_| {});
        assert_eq!(bad.unwrap_err().0, 28);
    }

    #[test]
    fn an_aria2_option_swarmget_cannot_honour_is_an_error_naming_its_line() {
        let mut opts = Options::default();
        let err = apply_conf(
            &mut opts,
            "split=3\n\nevent-poll=epoll\n",
            Path::new("aria2.conf"),
            &mut |w| panic!("warned instead: {w}"),
        )
        .unwrap_err();
        assert_eq!(err.0, 28);
        assert!(
            err.1
                .starts_with("aria2.conf:3: option 'event-poll' is aria2's"),
            "{}",
            err.1
        );
    }

    #[test]
    fn input_file_entries() {
        let text = "# list\nhttp://a/f\thttp://b/f\n  out=f.bin\n\tsplit=2\nhttp://c/g\n";
        let entries = parse_input(text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].uris, ["http://a/f", "http://b/f"]);
        let o = entry_options(&Options::default(), &entries[0]).unwrap();
        assert_eq!((o.out.as_deref(), o.split), (Some("f.bin"), 2));
        assert_eq!(
            parse_input("  out=x\n").err().as_deref(),
            Some("input line 1: option before any URI")
        );
        assert_eq!(
            parse_input("http://a/f\n  out\n").err().as_deref(),
            Some("input line 2: expected name=value")
        );
        let global_only = InputEntry {
            uris: vec![],
            options: vec![("max-concurrent-downloads".into(), "2".into())],
        };
        assert_eq!(
            entry_options(&Options::default(), &global_only)
                .err()
                .as_deref(),
            Some("option 'max-concurrent-downloads' cannot be set per download")
        );
    }
}

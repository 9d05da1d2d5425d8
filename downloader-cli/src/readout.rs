//! What a person sees: the live line on a terminal, aria2's periodic summary when not
//! on one, notices, and the "Download Results" table at the end.

use std::io::Write;
use std::time::{Duration, Instant};

use swarmget_engine::log::LogLevel;
use swarmget_engine::options::ResultFormat;
use swarmget_engine::{DownloadState, DownloadStatus, Gid, Options};

use crate::log::LogFile;

/// aria2-style size: base-1024 units, one decimal below 10 (`8.1MiB`, `12MiB`).
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["", "Ki", "Mi", "Gi"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 922.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit > 0 && v < 10.0 {
        format!("{v:.1}{}B", UNITS[unit])
    } else {
        format!("{}{}B", v as u64, UNITS[unit])
    }
}

/// A size as `--human-readable` asks: [`size`], or every digit in thousands as aria2
/// writes them without it (`2,621,440B`).
pub fn size_as(bytes: u64, human: bool) -> String {
    if human {
        return size(bytes);
    }
    let digits = bytes.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out + "B"
}

/// aria2-style duration: `1h2m3s`, zero parts dropped.
pub fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out += &format!("{h}h");
    }
    if m > 0 {
        out += &format!("{m}m");
    }
    if s > 0 || out.is_empty() {
        out += &format!("{s}s");
    }
    out
}

fn gid6(gid: Gid) -> String {
    gid.to_string()[..6].to_string()
}

/// One download's bracketed readout: `[#37dbac 8.1MiB/28MiB(28%) CN:4 DL:4.0MiB ETA:5s]`
/// (sizes in bytes without `human`).
pub fn line(st: &DownloadStatus, human: bool) -> String {
    let size = |b| size_as(b, human);
    let mut s = format!("[#{} {}", gid6(st.gid), size(st.completed));
    if let Some(total) = st.total {
        s += &format!("/{}", size(total));
        if let Some(pct) = (st.completed * 100).checked_div(total) {
            s += &format!("({pct}%)");
        }
    }
    s += &format!(" CN:{}", st.connections);
    if st.state == DownloadState::Active {
        s += &format!(" DL:{}", size(st.speed));
        if let (Some(total), true) = (st.total, st.speed > 0) {
            let eta = total.saturating_sub(st.completed) / st.speed;
            if eta > 0 {
                s += &format!(" ETA:{}", duration(eta));
            }
        }
    }
    s + "]"
}

/// What the CLI shows while the engine works, and the log file beside it.
pub struct Console {
    /// Standard output, or standard error with `--stderr`.
    out: Box<dyn Write>,
    /// Its descriptor, for the terminal's width.
    fd: libc::c_int,
    /// `-l/--log`.
    log: Option<LogFile>,
    /// `--console-log-level`; `None` with `-q`.
    level: Option<LogLevel>,
    tty: bool,
    /// `--enable-color`, on a terminal.
    color: bool,
    /// `--truncate-console-readout`.
    truncate: bool,
    show_readout: bool,
    summary_interval: Duration,
    last_summary: Option<Instant>,
    drawn: bool,
    /// `--human-readable`.
    human: bool,
}

/// ANSI colours, as aria2 gives its levels and speeds.
mod ansi {
    pub const RESET: &str = "\x1b[0m";
    pub const SPEED: &str = "\x1b[1;32m";
    pub const ETA: &str = "\x1b[1;33m";

    pub fn level(level: super::LogLevel) -> &'static str {
        use super::LogLevel::*;
        match level {
            Debug => "\x1b[1;37m",
            Info => "\x1b[1;36m",
            Notice => "\x1b[1;32m",
            Warn => "\x1b[1;33m",
            Error => "\x1b[1;31m",
        }
    }
}

impl Console {
    /// A console for these options; `tty` says whether its output (standard error with
    /// `--stderr`) is a terminal.
    pub fn new(opts: &Options, tty: bool, log: Option<LogFile>) -> Console {
        let (out, fd): (Box<dyn Write>, _) = if opts.stderr {
            (Box::new(std::io::stderr()), libc::STDERR_FILENO)
        } else {
            (Box::new(std::io::stdout()), libc::STDOUT_FILENO)
        };
        Console {
            out,
            fd,
            log,
            level: (!opts.quiet).then_some(opts.console_log_level),
            tty,
            color: tty && opts.enable_color,
            truncate: opts.truncate_console_readout,
            show_readout: !opts.quiet && opts.show_console_readout,
            summary_interval: opts.summary_interval,
            last_summary: None,
            drawn: false,
            human: opts.human_readable,
        }
    }

    /// Writes text as it is (the results table), unless `-q`.
    pub fn print(&mut self, text: &str) {
        if self.level.is_some() {
            self.clear_line();
            let _ = write!(self.out, "{text}");
            let _ = self.out.flush();
        }
    }

    fn clear_line(&mut self) {
        if self.drawn {
            let _ = write!(self.out, "\r{:79}\r", "");
            self.drawn = false;
        }
    }

    /// A record for the log file (at or above `--log-level`) and the console (at or
    /// above `--console-log-level`).
    pub fn record(&mut self, level: LogLevel, gid: Option<Gid>, msg: &str) {
        if let Some(log) = self.log.as_mut() {
            log.record(level, gid, msg);
        }
        if self.level.is_none_or(|l| level < l) {
            return;
        }
        self.clear_line();
        let tag = if self.color {
            format!("{}{level}{}", ansi::level(level), ansi::RESET)
        } else {
            level.to_string()
        };
        let _ = writeln!(self.out, "\n{} [{tag}] {msg}", timestamp());
        let _ = self.out.flush();
    }

    /// Redraws the live line (or prints a summary when due) from active downloads.
    pub fn progress(&mut self, now: Instant, downloads: &[DownloadStatus]) {
        if !self.show_readout {
            return;
        }
        let active: Vec<&DownloadStatus> = downloads
            .iter()
            .filter(|d| d.state == DownloadState::Active)
            .collect();
        if active.is_empty() {
            return;
        }
        // aria2 prints the summary on a terminal too, above the live line.
        if self.summary_interval > Duration::ZERO {
            let due = self
                .last_summary
                .is_none_or(|t| now - t >= self.summary_interval);
            if due && self.last_summary.is_some() {
                self.clear_line();
                let mut text = format!(
                    "\n *** Download Progress Summary as of {} *** \n{}\n",
                    timestamp(),
                    "=".repeat(79)
                );
                for d in &active {
                    text += &line(d, self.human);
                    text += "\n";
                    if let Some(p) = &d.path {
                        text += &format!("FILE: {}\n", p.display());
                    }
                    text += &"-".repeat(79);
                    text += "\n";
                }
                let _ = write!(self.out, "{text}");
            }
            if due {
                self.last_summary = Some(now);
            }
        }
        if self.tty {
            let text = if active.len() == 1 {
                line(active[0], self.human)
            } else {
                let speed: u64 = active.iter().map(|d| d.speed).sum();
                let mut t = format!("[DL:{}]", size_as(speed, self.human));
                for d in active.iter().take(5) {
                    t += &line(d, self.human);
                }
                if active.len() > 5 {
                    t += &format!("(+{})", active.len() - 5);
                }
                t
            };
            let text: String = if self.truncate {
                let width = terminal_width(self.fd).saturating_sub(1);
                text.chars().take(width).collect()
            } else {
                text
            };
            let pad = text.chars().count();
            let shown = if self.color { colorize(&text) } else { text };
            let _ = write!(self.out, "\r{:pad$}\r{shown}", "");
            self.drawn = true;
        }
        let _ = self.out.flush();
    }

    /// Logs how a download ended (or that it is left unfinished at exit).
    pub fn finished(&mut self, d: &DownloadStatus) {
        let path = d
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| d.uri.clone());
        let gid = Some(d.gid);
        match &d.state {
            DownloadState::Complete => {
                self.record(LogLevel::Notice, gid, &format!("Download complete: {path}"))
            }
            DownloadState::Error(e) => {
                self.record(
                    LogLevel::Error,
                    gid,
                    &format!("Download aborted. URI={}\n  -> {e}", d.uri),
                );
                self.record(
                    LogLevel::Notice,
                    gid,
                    &format!("Download GID#{} not complete: {path}", d.gid),
                );
            }
            DownloadState::Removed => self.record(
                LogLevel::Notice,
                gid,
                &format!("Download GID#{} removed: {path}", d.gid),
            ),
            DownloadState::Active | DownloadState::Waiting | DownloadState::Paused => self.record(
                LogLevel::Notice,
                gid,
                &format!("Download GID#{} not complete: {path}", d.gid),
            ),
        }
    }
}

/// The live line with its speeds and ETA coloured (on a line already cut to width,
/// so a colour never counts against the width).
fn colorize(text: &str) -> String {
    const LABELS: [(&str, &str); 2] = [("DL:", ansi::SPEED), ("ETA:", ansi::ETA)];
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    loop {
        let next = LABELS
            .iter()
            .filter_map(|(label, colour)| rest.find(label).map(|i| (i + label.len(), *colour)))
            .min();
        let Some((start, colour)) = next else {
            break;
        };
        let end = rest[start..]
            .find([' ', ']'])
            .map_or(rest.len(), |e| start + e);
        out += &rest[..start];
        out += colour;
        out += &rest[start..end];
        out += ansi::RESET;
        rest = &rest[end..];
    }
    out + rest
}

/// aria2's end table.
pub fn results_table(results: &[DownloadStatus], format: ResultFormat) -> String {
    if format == ResultFormat::Hide || results.is_empty() {
        return String::new();
    }
    let full = format == ResultFormat::Full;
    let mut out = if full {
        String::from(
            "\nDownload Results:\ngid   |stat|avg speed  |  %|path/URI\n\
             ======+====+===========+===+===================================================\n",
        )
    } else {
        String::from(
            "\nDownload Results:\ngid   |stat|avg speed  |path/URI\n\
             ======+====+===========+=======================================================\n",
        )
    };
    let mut seen = [false; 4];
    for r in results {
        let (stat, k) = match r.state {
            DownloadState::Complete => ("OK  ", 0),
            DownloadState::Error(_) => ("ERR ", 1),
            DownloadState::Active | DownloadState::Waiting | DownloadState::Paused => ("INPR", 2),
            DownloadState::Removed => ("RM  ", 3),
        };
        seen[k] = true;
        let speed = if r.average_speed > 0 {
            format!("{:>8}/s", size(r.average_speed))
        } else {
            format!("{:>10}", "n/a")
        };
        let head = format!("{}|{stat}|{speed:>11}|", gid6(r.gid));
        if full {
            out += &full_rows(r, &head);
            continue;
        }
        let path = r
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| r.uri.clone());
        out += &format!("{head}{path}\n");
    }
    out += "\nStatus Legend:\n";
    let legend = [
        "(OK):download completed.",
        "(ERR):error occurred.",
        "(INPR):download in-progress.",
        "(RM):download removed.",
    ];
    for (i, text) in legend.iter().enumerate() {
        if seen[i] {
            out += text;
            out += "\n";
        }
    }
    if seen[1] || seen[2] {
        out += "\nswarmget will resume download if the transfer is restarted.\n";
    }
    out
}

/// `--download-result=full`: a row per selected file with its completion in percent,
/// the download's columns on the first (aria2's `formatDownloadResultFull`).
fn full_rows(r: &DownloadStatus, head: &str) -> String {
    let mut out = String::new();
    for f in r.files.iter().filter(|f| f.selected) {
        out += if out.is_empty() {
            head
        } else {
            "      |    |           |"
        };
        match (f.completed * 100).checked_div(f.length) {
            Some(pct) => out += &format!("{pct:>3}|"),
            None => out += "  -|",
        }
        let path = f.path.as_ref().map(|p| p.display().to_string());
        let uri = || {
            f.uris
                .first()
                .map_or_else(|| r.uri.clone(), |u| u.uri.clone())
        };
        out += &path.unwrap_or_else(uri);
        out += "\n";
    }
    if out.is_empty() {
        out = format!("{head}  -|n/a\n");
    }
    out
}

fn timestamp() -> String {
    // Local time without a timezone database: UTC, like aria2 in a container.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86400, secs % 86400);
    let (y, m, d) = civil_from_days(days as i64);
    let _ = y;
    format!(
        "{m:02}/{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn terminal_width(fd: libc::c_int) -> usize {
    // SAFETY: TIOCGWINSZ fills a winsize struct we own.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0;
    if ok && ws.ws_col > 0 {
        ws.ws_col as usize
    } else {
        80
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_aria2() {
        assert_eq!(size(0), "0B");
        assert_eq!(size(921), "921B");
        assert_eq!(size(8_493_466), "8.1MiB");
        assert_eq!(size(12 << 20), "12MiB");
        assert_eq!(size(1 << 30), "1.0GiB");
        assert_eq!(size_as(2_621_440, false), "2,621,440B");
        assert_eq!(size_as(999, false), "999B");
        assert_eq!(size_as(1000, false), "1,000B");
        assert_eq!(size_as(12 << 20, true), "12MiB");
        assert_eq!(duration(374), "6m14s");
        assert_eq!(duration(3600), "1h");
        assert_eq!(duration(0), "0s");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_000), (2024, 10, 4));
    }
}

//! Every option swarmget understands, defined once.
//!
//! [`OPTIONS`] is the single table behind the command line, the config file
//! (`--conf-path`), the input file (`-i`) and, later, RPC: each entry has aria2's name,
//! short flag, default, help tag and text, and the function that stores a value into
//! [`Options`]. Values are parsed the way aria2 parses them (`K`/`M`/`G` suffixes are
//! powers of 1024, booleans are `true`/`false`), and out-of-range values are refused
//! with aria2's wording so scripts see the same errors.
//!
//! Where swarmget is deliberately more permissive than aria2 the entry says so:
//! `--max-connection-per-server` goes to 64 (aria2 stops at 16) and `--min-split-size`
//! down to 16 KiB (aria2 refuses less than 1 MiB).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use swarmget_proxy::{NoProxy, ProxyUri};

use crate::digest::Digest;
use crate::gid::Gid;
use crate::log::LogLevel;
use crate::plan::Selector;

/// `--file-allocation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileAllocation {
    /// No allocation.
    None,
    /// Reserve the blocks before downloading (fallocate, else zeros).
    Prealloc,
    /// Set the length only.
    Trunc,
    /// `fallocate(2)`, failing where unsupported.
    Falloc,
}

/// `--proxy-method`: how requests go through an HTTP proxy. `https://` always goes
/// through a tunnel, whatever this says (as in aria2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMethod {
    /// Absolute-form requests to the proxy (`GET http://host/path`).
    Get,
    /// A `CONNECT` tunnel, then the request as to the origin.
    Tunnel,
}

/// `--download-result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFormat {
    /// One row per download.
    Default,
    /// One row per file too.
    Full,
    /// No table.
    Hide,
}

/// `--follow-metalink`: what to do with a Metalink document a server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowMetalink {
    /// Save it and download the files it describes.
    True,
    /// Download the files it describes without saving the document.
    Mem,
    /// Save it as a plain file.
    False,
}

/// `--bt-prioritize-piece=head[=SIZE],tail[=SIZE]`: how many bytes at each end of every
/// file are fetched before the rest (zero: that end is not preferred).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrioritizePiece {
    /// Bytes from each file's start.
    pub head: u64,
    /// Bytes before each file's end.
    pub tail: u64,
}

impl PrioritizePiece {
    /// aria2's SIZE when `head` or `tail` names none.
    const DEFAULT_SIZE: u64 = 1 << 20;

    /// Parses aria2's value: `head[=SIZE]` and `tail[=SIZE]`, comma-separated, either
    /// or both; empty prefers nothing.
    pub fn parse(value: &str) -> Result<PrioritizePiece, String> {
        let mut p = PrioritizePiece::default();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (end, size) = match entry.split_once('=') {
                Some((end, size)) => (end, parse_size(size)?),
                None => (entry, Self::DEFAULT_SIZE),
            };
            match end {
                "head" => p.head = size,
                "tail" => p.tail = size,
                _ => {
                    return Err(format!(
                        "bt-prioritize-piece: '{entry}' is not head[=SIZE] or tail[=SIZE]"
                    ));
                }
            }
        }
        Ok(p)
    }
}

/// swarmget's `--peer-id-prefix` default, Azureus style (`-SG` and the version 0.0.0.1),
/// as aria2's `A2-1-37-0-`.
pub const DEFAULT_PEER_ID_PREFIX: &str = "-SG0001-";

/// `--metalink-preferred-protocol` (`none` is `Option::None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetalinkProtocol {
    /// `http`.
    Http,
    /// `https`.
    Https,
    /// `ftp`.
    Ftp,
}

/// `--select-file`: 1-based file indexes, written as aria2 writes them (`1,3-5,8`).
///
/// The value is kept as sorted, merged ranges, so `contains` is a binary search and
/// the list stays small however the user wrote it. A range whose start is past its end
/// (`5-3`) selects nothing, as in aria2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSelection {
    /// Disjoint, non-adjacent inclusive ranges in ascending order.
    ranges: Vec<(usize, usize)>,
}

impl FileSelection {
    /// The largest index aria2 accepts.
    pub const MAX_INDEX: usize = 1 << 20;

    /// Parses aria2's list syntax: comma-separated `N` or `A-B`, empty entries skipped,
    /// every index in 1..=1048576.
    pub fn parse(value: &str) -> Result<FileSelection, String> {
        let number = |text: &str, entry: &str| -> Result<usize, String> {
            let n: usize = text
                .trim()
                .parse()
                .map_err(|_| format!("select-file: bad range '{entry}'"))?;
            if !(1..=Self::MAX_INDEX).contains(&n) {
                return Err(format!(
                    "select-file must be between 1 and {}",
                    Self::MAX_INDEX
                ));
            }
            Ok(n)
        };
        let mut ranges = Vec::new();
        for entry in value.split(',').filter(|e| !e.trim().is_empty()) {
            let range = match entry.split_once('-') {
                None => {
                    let n = number(entry, entry)?;
                    (n, n)
                }
                Some((a, b)) => {
                    if a.trim().is_empty() || b.trim().is_empty() {
                        return Err(format!("select-file: incomplete range '{entry}'"));
                    }
                    (number(a, entry)?, number(b, entry)?)
                }
            };
            if range.0 <= range.1 {
                ranges.push(range);
            }
        }
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        Ok(FileSelection { ranges: merged })
    }

    /// Whether file `index` (from 1) is selected.
    pub fn contains(&self, index: usize) -> bool {
        let at = self.ranges.partition_point(|&(_, end)| end < index);
        self.ranges
            .get(at)
            .is_some_and(|&(start, _)| start <= index)
    }

    /// The highest index selected, if any.
    pub fn max(&self) -> Option<usize> {
        self.ranges.last().map(|&(_, end)| end)
    }
}

/// All option values (global and per-download alike; an `-i` entry gets a copy of the
/// global values with its own lines applied on top).
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `--dir`.
    pub dir: PathBuf,
    /// `--out`.
    pub out: Option<String>,
    /// `--split`.
    pub split: usize,
    /// `--max-connection-per-server`.
    pub max_connection_per_server: usize,
    /// `--min-split-size`.
    pub min_split_size: u64,
    /// `--piece-length`.
    pub piece_length: u64,
    /// `--stream-piece-selector`.
    pub stream_piece_selector: Selector,
    /// `--uri-selector`.
    pub uri_selector: crate::uri_selector::UriSelector,
    /// `--server-stat-of`: where the server records go at exit.
    pub server_stat_of: Option<PathBuf>,
    /// `--server-stat-if`: server records to start from.
    pub server_stat_if: Option<PathBuf>,
    /// `--server-stat-timeout`: records older than this are not loaded.
    pub server_stat_timeout: Duration,
    /// `--allow-piece-length-change`: resume a control file of another piece length.
    pub allow_piece_length_change: bool,
    /// `--enable-http-pipelining`: a run's second half asked for before its first
    /// arrives.
    pub enable_http_pipelining: bool,
    /// `--use-head`: a HEAD request first.
    pub use_head: bool,
    /// `--max-file-not-found` (0: a "not found" ends that URI at once).
    pub max_file_not_found: u32,
    /// `--reuse-uri`: a URI may serve several connections.
    pub reuse_uri: bool,
    /// `--max-tries` (0 = unlimited).
    pub max_tries: u32,
    /// `--retry-wait`.
    pub retry_wait: Duration,
    /// `--timeout`.
    pub timeout: Duration,
    /// `--connect-timeout`.
    pub connect_timeout: Duration,
    /// `--lowest-speed-limit` in bytes/s (0 = off).
    pub lowest_speed_limit: u64,
    /// `--max-download-limit` in bytes/s (0 = off).
    pub max_download_limit: u64,
    /// `--max-overall-download-limit` in bytes/s (0 = off).
    pub max_overall_download_limit: u64,
    /// `--max-upload-limit`: per-torrent upload cap in bytes/s (0 = off).
    pub max_upload_limit: u64,
    /// `--max-overall-upload-limit` in bytes/s (0 = off).
    pub max_overall_upload_limit: u64,
    /// `--listen-port`: the ports tried in order for incoming peer connections (0: any
    /// free port).
    pub listen_port: Vec<u16>,
    /// `--seed-ratio`: seeding ends once this many times the torrent's length went up
    /// (0: no ratio condition).
    pub seed_ratio: f64,
    /// `--seed-time` (`None`: no time condition; zero: no seeding).
    pub seed_time: Option<Duration>,
    /// `--bt-seed-unverified`: files already complete on disk are seeded without
    /// hashing them.
    pub bt_seed_unverified: bool,
    /// `--bt-remove-unselected-file`: a completed torrent deletes its files that
    /// `--select-file` left out.
    pub bt_remove_unselected_file: bool,
    /// `-O/--index-out INDEX=PATH`: file INDEX of a torrent (as `-S` numbers them) is
    /// stored at PATH under `--dir`.
    pub index_out: Vec<(usize, PathBuf)>,
    /// `--bt-max-peers`: peers connected at once per torrent (0: no limit).
    pub bt_max_peers: usize,
    /// `--bt-request-peer-speed-limit` in bytes/s: below this download speed a torrent
    /// connects more than 40 peers, up to `--bt-max-peers`.
    pub bt_request_peer_speed_limit: u64,
    /// `--bt-max-open-files`: files kept open at once by the disk thread (global).
    pub bt_max_open_files: usize,
    /// `--bt-tracker`: announce URIs added to every torrent's, each its own tier.
    pub bt_tracker: Vec<String>,
    /// `--bt-exclude-tracker`: announce URIs taken out of torrents (`*`: all of them).
    pub bt_exclude_tracker: Vec<String>,
    /// `--bt-tracker-interval` (zero: the tracker's interval).
    pub bt_tracker_interval: Duration,
    /// `--bt-tracker-timeout`: the most an announce may take.
    pub bt_tracker_timeout: Duration,
    /// `--bt-tracker-connect-timeout`: the most connecting to a tracker may take.
    pub bt_tracker_connect_timeout: Duration,
    /// `--bt-stop-timeout`: a torrent that downloads nothing this long stops (zero: never).
    pub bt_stop_timeout: Duration,
    /// `--bt-hash-check-seed`: a torrent that `-V` finds complete seeds.
    pub bt_hash_check_seed: bool,
    /// `--bt-external-ip`: the address trackers are told to give out.
    pub bt_external_ip: Option<std::net::IpAddr>,
    /// `--peer-id-prefix`: the start of our peer id (at most 20 bytes).
    pub peer_id_prefix: String,
    /// `--peer-agent`: our client name in the extension handshake (BEP 10 `v`).
    pub peer_agent: String,
    /// `--bt-enable-hook-after-hash-check`: `--on-bt-download-complete` runs for a
    /// torrent that `-V` found complete.
    pub bt_enable_hook_after_hash_check: bool,
    /// `--bt-detach-seed-only`: seeding torrents do not count towards `-j`.
    pub bt_detach_seed_only: bool,
    /// `--bt-prioritize-piece`: bytes at the head and tail of each file fetched first.
    pub bt_prioritize_piece: PrioritizePiece,
    /// `--follow-torrent`: what to do with a `.torrent` file a server sends.
    pub follow_torrent: FollowMetalink,
    /// The DHT options (`--enable-dht`, `--dht-*`).
    pub dht: DhtOptions,
    /// `--enable-peer-exchange`: public torrents exchange peers (BEP 11).
    pub enable_peer_exchange: bool,
    /// `--bt-enable-lpd`: public torrents are announced to, and learn peers from, the
    /// local network (BEP 14).
    pub bt_enable_lpd: bool,
    /// `--bt-lpd-interface`: the interface (name or address) LPD multicasts on.
    pub bt_lpd_interface: Option<String>,
    /// `--bt-metadata-only`: a magnet link's download ends with its metadata.
    pub bt_metadata_only: bool,
    /// `--bt-save-metadata`: a magnet link's metadata is saved as `DIR/HASH.torrent`.
    pub bt_save_metadata: bool,
    /// `--bt-load-saved-metadata`: a magnet link whose `DIR/HASH.torrent` exists starts
    /// from it instead of asking peers.
    pub bt_load_saved_metadata: bool,
    /// `--max-concurrent-downloads`.
    pub max_concurrent_downloads: usize,
    /// `--optimize-concurrent-downloads`: aria2's coefficients A and B.
    pub optimize_concurrent_downloads: Option<(f64, f64)>,
    /// `--header` lines.
    pub headers: Vec<String>,
    /// `--user-agent`.
    pub user_agent: String,
    /// `--referer` (`*` = the download URI itself).
    pub referer: Option<String>,
    /// `--http-user`.
    pub http_user: Option<String>,
    /// `--http-passwd`.
    pub http_passwd: Option<String>,
    /// `--enable-http-keep-alive`.
    pub http_keep_alive: bool,
    /// `--content-disposition-default-utf8`.
    pub content_disposition_default_utf8: bool,
    /// `--max-redirect` (swarmget's name for aria2's fixed limit of 20).
    pub max_redirect: usize,
    /// `--ftp-user`.
    pub ftp_user: Option<String>,
    /// `--ftp-passwd`.
    pub ftp_passwd: Option<String>,
    /// `--ftp-type=ascii`.
    pub ftp_type_ascii: bool,
    /// `--ftp-pasv`.
    pub ftp_pasv: bool,
    /// `--ftp-reuse-connection`.
    pub ftp_reuse_connection: bool,
    /// `--http-proxy`: the proxy for `http://` URIs.
    pub http_proxy: Option<ProxyUri>,
    /// `--https-proxy`: the proxy for `https://` URIs.
    pub https_proxy: Option<ProxyUri>,
    /// `--ftp-proxy`: the proxy for `ftp://` URIs.
    pub ftp_proxy: Option<ProxyUri>,
    /// `--all-proxy`: the proxy for any scheme without its own.
    pub all_proxy: Option<ProxyUri>,
    /// `--http-proxy-user` and `--http-proxy-passwd`.
    pub http_proxy_user: Option<String>,
    /// `--http-proxy-passwd`.
    pub http_proxy_passwd: Option<String>,
    /// `--https-proxy-user`.
    pub https_proxy_user: Option<String>,
    /// `--https-proxy-passwd`.
    pub https_proxy_passwd: Option<String>,
    /// `--ftp-proxy-user`.
    pub ftp_proxy_user: Option<String>,
    /// `--ftp-proxy-passwd`.
    pub ftp_proxy_passwd: Option<String>,
    /// `--all-proxy-user`.
    pub all_proxy_user: Option<String>,
    /// `--all-proxy-passwd`.
    pub all_proxy_passwd: Option<String>,
    /// `--no-proxy`: hosts, domains and networks that bypass every proxy.
    pub no_proxy: NoProxy,
    /// `--proxy-method`.
    pub proxy_method: ProxyMethod,
    /// `--load-cookies`: a Netscape-format cookie file read when the engine starts.
    pub load_cookies: Option<PathBuf>,
    /// `--save-cookies`: where the jar is written when the engine stops.
    pub save_cookies: Option<PathBuf>,
    /// `--http-auth-challenge`: credentials only after a server asks (401).
    pub http_auth_challenge: bool,
    /// `--netrc-path` (the CLI fills in `~/.netrc`; `None` reads no file).
    pub netrc_path: Option<PathBuf>,
    /// `--no-netrc`.
    pub no_netrc: bool,
    /// `--ca-certificate`.
    pub ca_certificate: Option<PathBuf>,
    /// `--check-certificate`.
    pub check_certificate: bool,
    /// `--certificate`.
    pub certificate: Option<PathBuf>,
    /// `--private-key`.
    pub private_key: Option<PathBuf>,
    /// `--continue`.
    pub continue_download: bool,
    /// `--always-resume`.
    pub always_resume: bool,
    /// `--max-resume-failure-tries`: with `--always-resume=false`, the number of
    /// mirrors that cannot resume after which the download starts again from byte 0
    /// (0 = only when none of them can).
    pub max_resume_failure_tries: u32,
    /// `--http-accept-gzip`: ask for `deflate, gzip` and decode such answers. Without
    /// it a body sent with a `Content-Encoding` is stored as sent (a `.tar.gz` served
    /// with `Content-Encoding: gzip` stays a `.tar.gz`), as aria2 does.
    pub http_accept_gzip: bool,
    /// `--min-tls-version`: TLS 1.3 only when true; otherwise 1.2 and 1.3 (rustls
    /// speaks nothing older, so aria2's `TLSv1.1` means 1.2 here).
    pub tls13_only: bool,
    /// `--rlimit-nofile`: the soft open-file limit is raised to this (never lowered,
    /// never past the hard limit).
    pub rlimit_nofile: u64,
    /// `--conditional-get`: ask with `If-Modified-Since` from an existing file (named by
    /// `-o` or the URI) without a control file, and leave it as it is on 304.
    pub conditional_get: bool,
    /// `--http-no-cache`: send `Cache-Control: no-cache` and `Pragma: no-cache`.
    pub http_no_cache: bool,
    /// `-P/--parameterized-uri`: expand `{a,b}` and `[1-9:2]` in URIs (see
    /// [`crate::param_uri`]).
    pub parameterized_uri: bool,
    /// `--deferred-input`: read `-i` entries only as downloads are started, without
    /// checking the whole file first.
    pub deferred_input: bool,
    /// `--max-download-result`: stopped downloads whose results are kept (the oldest
    /// are dropped past it; 0 keeps none).
    pub max_download_result: usize,
    /// `--remote-time`: the finished file gets the server's modification time, and
    /// `-c` over a bare file takes its time as the version's `Last-Modified`/`MDTM`.
    pub remote_time: bool,
    /// `--allow-overwrite`.
    pub allow_overwrite: bool,
    /// `--auto-file-renaming`.
    pub auto_file_renaming: bool,
    /// `--remove-control-file`.
    pub remove_control_file: bool,
    /// `--auto-save-interval` (0 = only at stop).
    pub auto_save_interval: Duration,
    /// `--file-allocation`.
    pub file_allocation: FileAllocation,
    /// `--no-file-allocation-limit`.
    pub no_file_allocation_limit: u64,
    /// `--disk-cache`.
    pub disk_cache: u64,
    /// `--checksum`.
    pub checksum: Option<Digest>,
    /// `--disable-ipv6`.
    pub disable_ipv6: bool,
    /// `--interface`: an interface's name or an address to connect from.
    pub interface: Option<String>,
    /// `--multiple-interface`: interfaces taken in turn, one per connection.
    pub multiple_interface: Vec<String>,
    /// `--socket-recv-buffer-size` (0: the kernel's default).
    pub socket_recv_buffer_size: u64,
    /// `--enable-mmap`, kept for aria2's configuration files: writes always go through
    /// the disk thread's buffered writes, never a mapping (see the option's help).
    pub enable_mmap: bool,
    /// `--max-mmap-limit`, kept with `--enable-mmap`.
    pub max_mmap_limit: u64,
    /// `--async-dns`, kept for aria2's configuration files: names are always resolved
    /// on the resolver threads, off the loop, whichever value is given.
    pub async_dns: bool,
    /// `--async-dns-server`: DNS servers asked instead of the system's resolver.
    pub async_dns_server: Vec<std::net::SocketAddr>,
    /// `--quiet`.
    pub quiet: bool,
    /// `-l/--log`: a log file (`-`: standard output).
    pub log: Option<PathBuf>,
    /// `--log-level`: the least severe record the log file gets.
    pub log_level: LogLevel,
    /// `--console-log-level`: the least severe record the console shows.
    pub console_log_level: LogLevel,
    /// `--stderr`: console output goes to standard error.
    pub stderr: bool,
    /// `--enable-color`: colours on a terminal.
    pub enable_color: bool,
    /// `--truncate-console-readout`: the live line fits the terminal's width.
    pub truncate_console_readout: bool,
    /// `--summary-interval` (0 = off).
    pub summary_interval: Duration,
    /// `--show-console-readout`.
    pub show_console_readout: bool,
    /// `--human-readable`.
    pub human_readable: bool,
    /// `--download-result`.
    pub download_result: ResultFormat,
    /// `--input-file`.
    pub input_file: Option<String>,
    /// `--conf-path`.
    pub conf_path: Option<PathBuf>,
    /// `--no-conf`.
    pub no_conf: bool,
    /// `--force-sequential`.
    pub force_sequential: bool,
    /// `--stop` (0 = off).
    pub stop: Duration,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--pause`: downloads are added paused.
    pub pause: bool,
    /// `--pause-metadata`: the downloads a followed document (a Metalink fetched over
    /// HTTP/FTP) gives are added paused; only with `--enable-rpc`, as in aria2.
    pub pause_metadata: bool,
    /// `--metalink-file` (`-` = standard input).
    pub metalink_file: Option<String>,
    /// `--torrent-file` (`-T`): a local .torrent file to download.
    pub torrent_file: Option<String>,
    /// `--follow-metalink`.
    pub follow_metalink: FollowMetalink,
    /// `--metalink-preferred-protocol` (`None` = no preference).
    pub metalink_preferred_protocol: Option<MetalinkProtocol>,
    /// `--metalink-language`.
    pub metalink_language: Option<String>,
    /// `--metalink-location`: two-letter country codes, lowercase.
    pub metalink_location: Vec<String>,
    /// `--metalink-os`.
    pub metalink_os: Option<String>,
    /// `--metalink-version`.
    pub metalink_version: Option<String>,
    /// `--metalink-base-uri`.
    pub metalink_base_uri: Option<url::Url>,
    /// `--metalink-enable-unique-protocol`.
    pub metalink_enable_unique_protocol: bool,
    /// `--select-file` (`None` = every file).
    pub select_file: Option<FileSelection>,
    /// `--show-files`.
    pub show_files: bool,
    /// `--realtime-chunk-checksum`.
    pub realtime_chunk_checksum: bool,
    /// `--check-integrity`.
    pub check_integrity: bool,
    /// `--hash-check-only`.
    pub hash_check_only: bool,
    /// `--no-want-digest-header`.
    pub no_want_digest_header: bool,
    /// `--enable-rpc`: run as a daemon answering aria2's RPC.
    pub enable_rpc: bool,
    /// `--rpc-listen-port` (0 = any free port, printed at start).
    pub rpc_listen_port: u16,
    /// `--rpc-listen-all` (false: loopback only).
    pub rpc_listen_all: bool,
    /// `--rpc-secret`.
    pub rpc_secret: Option<String>,
    /// `--rpc-max-request-size` in bytes.
    pub rpc_max_request_size: u64,
    /// `--rpc-allow-origin-all`.
    pub rpc_allow_origin_all: bool,
    /// `-D/--daemon`: detach from the terminal and the parent process.
    pub daemon: bool,
    /// `--stop-with-process`: stop (as on SIGTERM) once this process is gone.
    pub stop_with_process: Option<u32>,
    /// `--rpc-user` (deprecated in aria2): HTTP Basic authentication's user name.
    pub rpc_user: Option<String>,
    /// `--rpc-passwd`: its password.
    pub rpc_passwd: Option<String>,
    /// `--rpc-secure`: the RPC server speaks HTTPS and WSS only.
    pub rpc_secure: bool,
    /// `--rpc-certificate`: the RPC server's certificate chain (PEM).
    pub rpc_certificate: Option<PathBuf>,
    /// `--rpc-private-key`: the key of `--rpc-certificate` (PEM).
    pub rpc_private_key: Option<PathBuf>,
    /// `--rpc-save-upload-metadata`: `aria2.addTorrent` writes the uploaded torrent to
    /// `dir` as `<hex info-hash>.torrent`.
    pub rpc_save_upload_metadata: bool,
    /// `--save-session`: where the daemon writes its unfinished downloads (at exit and
    /// on `aria2.saveSession`), as an input file `-i` reads back.
    pub save_session: Option<PathBuf>,
    /// `--save-session-interval` (0: only at exit and on `aria2.saveSession`).
    pub save_session_interval: Duration,
    /// `--gid`: the GID this download takes instead of a new one (refused if taken).
    pub gid: Option<Gid>,
    /// `--force-save`: a complete or removed download is still written to the session,
    /// and a complete one keeps its control file.
    pub force_save: bool,
    /// `--save-not-found`: a download that failed with "resource not found" (3) is
    /// still written to the session.
    pub save_not_found: bool,
    /// `--on-download-start`: a command run with (GID, number of files, first file path).
    pub on_download_start: Option<PathBuf>,
    /// `--on-download-pause`.
    pub on_download_pause: Option<PathBuf>,
    /// `--on-download-stop`: for every stop that has no more specific hook.
    pub on_download_stop: Option<PathBuf>,
    /// `--on-download-complete`.
    pub on_download_complete: Option<PathBuf>,
    /// `--on-download-error`.
    pub on_download_error: Option<PathBuf>,
    /// `--on-bt-download-complete`: for a torrent whose data is whole, before seeding.
    pub on_bt_download_complete: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dir: PathBuf::from("."),
            out: None,
            split: 5,
            max_connection_per_server: 1,
            min_split_size: 20 << 20,
            piece_length: 1 << 20,
            stream_piece_selector: Selector::Default,
            max_tries: 5,
            max_file_not_found: 0,
            use_head: false,
            enable_http_pipelining: false,
            allow_piece_length_change: false,
            uri_selector: crate::uri_selector::UriSelector::Feedback,
            server_stat_of: None,
            server_stat_if: None,
            server_stat_timeout: Duration::from_secs(86400),
            reuse_uri: true,
            retry_wait: Duration::ZERO,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(60),
            lowest_speed_limit: 0,
            max_download_limit: 0,
            max_overall_download_limit: 0,
            max_upload_limit: 0,
            max_overall_upload_limit: 0,
            listen_port: (6881..=6999).collect(),
            seed_ratio: 1.0,
            seed_time: None,
            bt_seed_unverified: false,
            bt_remove_unselected_file: false,
            index_out: Vec::new(),
            bt_max_peers: 55,
            bt_request_peer_speed_limit: 50 << 10,
            bt_max_open_files: 100,
            bt_tracker: Vec::new(),
            bt_exclude_tracker: Vec::new(),
            bt_tracker_interval: Duration::ZERO,
            bt_tracker_timeout: Duration::from_secs(60),
            bt_tracker_connect_timeout: Duration::from_secs(60),
            bt_stop_timeout: Duration::ZERO,
            bt_hash_check_seed: true,
            bt_external_ip: None,
            peer_id_prefix: DEFAULT_PEER_ID_PREFIX.into(),
            peer_agent: concat!("swarmget/", env!("CARGO_PKG_VERSION")).into(),
            bt_enable_hook_after_hash_check: true,
            bt_detach_seed_only: false,
            bt_prioritize_piece: PrioritizePiece::default(),
            follow_torrent: FollowMetalink::True,
            dht: DhtOptions::default(),
            enable_peer_exchange: true,
            bt_enable_lpd: false,
            bt_lpd_interface: None,
            bt_metadata_only: false,
            bt_save_metadata: false,
            bt_load_saved_metadata: false,
            max_concurrent_downloads: 5,
            optimize_concurrent_downloads: None,
            headers: Vec::new(),
            user_agent: concat!("swarmget/", env!("CARGO_PKG_VERSION")).into(),
            referer: None,
            http_user: None,
            http_passwd: None,
            http_keep_alive: true,
            content_disposition_default_utf8: false,
            max_redirect: 20,
            ftp_user: None,
            ftp_passwd: None,
            ftp_type_ascii: false,
            ftp_pasv: true,
            ftp_reuse_connection: true,
            http_proxy: None,
            https_proxy: None,
            ftp_proxy: None,
            all_proxy: None,
            http_proxy_user: None,
            http_proxy_passwd: None,
            https_proxy_user: None,
            https_proxy_passwd: None,
            ftp_proxy_user: None,
            ftp_proxy_passwd: None,
            all_proxy_user: None,
            all_proxy_passwd: None,
            no_proxy: NoProxy::default(),
            proxy_method: ProxyMethod::Get,
            load_cookies: None,
            save_cookies: None,
            http_auth_challenge: false,
            netrc_path: None,
            no_netrc: false,
            ca_certificate: None,
            check_certificate: true,
            certificate: None,
            private_key: None,
            continue_download: false,
            always_resume: true,
            max_resume_failure_tries: 0,
            remote_time: false,
            max_download_result: 1000,
            deferred_input: false,
            parameterized_uri: false,
            tls13_only: false,
            http_no_cache: false,
            conditional_get: false,
            rlimit_nofile: 1024,
            http_accept_gzip: false,
            allow_overwrite: false,
            auto_file_renaming: true,
            remove_control_file: false,
            auto_save_interval: Duration::from_secs(1),
            file_allocation: FileAllocation::Prealloc,
            no_file_allocation_limit: 5 << 20,
            disk_cache: 2 << 20,
            checksum: None,
            disable_ipv6: false,
            quiet: false,
            interface: None,
            multiple_interface: Vec::new(),
            socket_recv_buffer_size: 0,
            enable_mmap: false,
            max_mmap_limit: 9_223_372_036_854_775_807,
            async_dns: true,
            async_dns_server: Vec::new(),
            log: None,
            log_level: LogLevel::Debug,
            console_log_level: LogLevel::Notice,
            stderr: false,
            enable_color: true,
            truncate_console_readout: true,
            summary_interval: Duration::from_secs(60),
            show_console_readout: true,
            human_readable: true,
            download_result: ResultFormat::Default,
            input_file: None,
            conf_path: None,
            no_conf: false,
            force_sequential: false,
            stop: Duration::ZERO,
            dry_run: false,
            pause: false,
            pause_metadata: false,
            metalink_file: None,
            torrent_file: None,
            follow_metalink: FollowMetalink::True,
            metalink_preferred_protocol: None,
            metalink_language: None,
            metalink_location: Vec::new(),
            metalink_os: None,
            metalink_version: None,
            metalink_base_uri: None,
            metalink_enable_unique_protocol: true,
            select_file: None,
            show_files: false,
            realtime_chunk_checksum: true,
            check_integrity: false,
            hash_check_only: false,
            no_want_digest_header: false,
            enable_rpc: false,
            rpc_listen_port: 6800,
            rpc_listen_all: false,
            rpc_secret: None,
            rpc_max_request_size: 2 << 20,
            rpc_allow_origin_all: false,
            daemon: false,
            stop_with_process: None,
            rpc_user: None,
            rpc_passwd: None,
            rpc_secure: false,
            rpc_certificate: None,
            rpc_private_key: None,
            rpc_save_upload_metadata: true,
            save_session: None,
            save_session_interval: Duration::ZERO,
            gid: None,
            force_save: false,
            save_not_found: true,
            on_download_start: None,
            on_download_pause: None,
            on_download_stop: None,
            on_download_complete: None,
            on_download_error: None,
            on_bt_download_complete: None,
        }
    }
}

/// Whether an option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// `--flag` alone means true; `--flag=false` is accepted.
    Bool,
    /// `--name=VALUE` or `--name VALUE` (`-x VALUE`, `-xVALUE`).
    Value,
}

/// One option.
pub struct OptionDef {
    /// Long name, without `--`.
    pub name: &'static str,
    /// Short flag.
    pub short: Option<char>,
    /// Takes a value?
    pub arg: Arg,
    /// Default as shown in help.
    pub default: &'static str,
    /// aria2's help tags, comma-separated (`basic,metalink`): `--help=#TAG` lists
    /// every option carrying TAG.
    pub tag: &'static str,
    /// Allowed in `-i` entries and per-download RPC options.
    pub per_download: bool,
    /// One-line description.
    pub help: &'static str,
    /// Stores a value.
    pub apply: fn(&mut Options, &str) -> Result<(), String>,
}

/// Looks an option up by long name.
pub fn find(name: &str) -> Option<&'static OptionDef> {
    OPTIONS.iter().find(|o| o.name == name)
}

/// Looks an option up by short flag.
pub fn find_short(c: char) -> Option<&'static OptionDef> {
    OPTIONS.iter().find(|o| o.short == Some(c))
}

impl Options {
    /// Applies `name=value` through the table. Errors use aria2's wording.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let def = find(name).ok_or_else(|| format!("unrecognized option '--{name}'"))?;
        (def.apply)(self, value)
    }

    /// The least severe log record anyone reads: the console's level (unless `-q`)
    /// and the log file's (with `-l`). `None`: nobody reads records at all.
    pub fn log_threshold(&self) -> Option<LogLevel> {
        let console = (!self.quiet).then_some(self.console_log_level);
        let file = self.log.as_ref().map(|_| self.log_level);
        match (console, file) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// `--async-dns-server`: `IP`, `IP:PORT` or `[IPv6]:PORT`, comma-separated (port 53 by
/// default; aria2 takes addresses only).
fn parse_dns_servers(value: &str) -> Result<Vec<std::net::SocketAddr>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<std::net::SocketAddr>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(|ip| (ip, 53).into()))
                .map_err(|_| format!("async-dns-server: '{s}' is not an IP address"))
        })
        .collect()
}

/// `--optimize-concurrent-downloads`: `true` (aria2's A=5, B=25), `false`, or `A:B`.
fn parse_optimize(value: &str) -> Result<Option<(f64, f64)>, String> {
    match value {
        "true" => return Ok(Some((5.0, 25.0))),
        "false" => return Ok(None),
        _ => {}
    }
    let number = |t: &str| {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n >= 0.0)
    };
    value
        .split_once(':')
        .and_then(|(a, b)| Some((number(a)?, number(b)?)))
        .map(Some)
        .ok_or_else(|| {
            format!("optimize-concurrent-downloads must be true, false or A:B; got '{value}'")
        })
}

/// Parses a size with aria2's suffixes: `K`=1024, `M`=1024², `G`=1024³.
pub fn parse_size(value: &str) -> Result<u64, String> {
    let v = value.trim();
    let (digits, mult) = match v.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&v[..v.len() - 1], 1u64 << 10),
        Some('M') => (&v[..v.len() - 1], 1 << 20),
        Some('G') => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("bad size '{value}'"))
}

/// Parses aria2's booleans.
pub fn parse_bool(value: &str) -> Result<bool, String> {
    match value {
        "" | "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("must be either 'true' or 'false', got '{value}'")),
    }
}

fn ranged(name: &str, value: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = parse_size(value)?;
    if n < min || n > max {
        return Err(format!("{name} must be between {min} and {max}"));
    }
    Ok(n)
}

fn secs(name: &str, value: &str, min: u64, max: u64) -> Result<Duration, String> {
    let n: u64 = value
        .trim()
        .parse()
        .map_err(|_| format!("{name} must be a number of seconds"))?;
    if n < min || n > max {
        return Err(format!("{name} must be between {min} and {max}"));
    }
    Ok(Duration::from_secs(n))
}

/// Parses `INDEX=PATH` of `-O/--index-out`: INDEX from 1, PATH relative and staying
/// under the download directory (no `..`, no root, not empty).
pub fn parse_index_out(value: &str) -> Result<(usize, PathBuf), String> {
    let (index, path) = value
        .split_once('=')
        .ok_or_else(|| format!("index-out: '{value}' is not INDEX=PATH"))?;
    let index: usize = index
        .trim()
        .parse()
        .ok()
        .filter(|i| (1..=FileSelection::MAX_INDEX).contains(i))
        .ok_or_else(|| format!("index-out: bad index in '{value}'"))?;
    let path = PathBuf::from(path);
    let inside = path
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if path.as_os_str().is_empty() || !inside {
        return Err(format!(
            "index-out: '{}' must be a relative path that stays under --dir",
            path.display()
        ));
    }
    Ok((index, path))
}

/// The Mainline DHT's options (aria2's names and defaults). The DHT is engine-wide: the
/// values in force when the first torrent starts it are the ones used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhtOptions {
    /// `--enable-dht`: the IPv4 DHT runs while a public torrent does.
    pub enable: bool,
    /// `--enable-dht6`: the IPv6 DHT too.
    pub enable6: bool,
    /// `--dht-listen-port`: UDP ports tried in order (both families).
    pub listen_port: Vec<u16>,
    /// `--dht-listen-addr6`: the IPv6 address the IPv6 DHT binds (any without).
    pub listen_addr6: Option<std::net::Ipv6Addr>,
    /// `--dht-entry-point`: an IPv4 node to join through.
    pub entry_point: Option<EntryPoint>,
    /// `--dht-entry-point6`: an IPv6 node to join through.
    pub entry_point6: Option<EntryPoint>,
    /// `--dht-file-path`: the IPv4 routing table, loaded at start and saved at exit
    /// (`None`: neither; the CLI fills in aria2's default place).
    pub file_path: Option<PathBuf>,
    /// `--dht-file-path6`: the IPv6 routing table.
    pub file_path6: Option<PathBuf>,
    /// `--dht-message-timeout`.
    pub message_timeout: Duration,
}

impl Default for DhtOptions {
    fn default() -> Self {
        DhtOptions {
            enable: true,
            enable6: false,
            listen_port: (6881..=6999).collect(),
            listen_addr6: None,
            entry_point: None,
            entry_point6: None,
            file_path: None,
            file_path6: None,
            message_timeout: Duration::from_secs(10),
        }
    }
}

/// A DHT entry point, `HOST:PORT`: an address, or a name the engine's resolver looks
/// up (off the loop, `--async-dns-server` honoured) when the DHT starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPoint {
    /// A host name or an address (IPv6 without brackets).
    pub host: String,
    /// The node's UDP port.
    pub port: u16,
}

impl EntryPoint {
    /// The address, when the host is one.
    pub fn addr(&self) -> Option<SocketAddr> {
        Some(SocketAddr::new(self.host.parse().ok()?, self.port))
    }
}

impl From<SocketAddr> for EntryPoint {
    fn from(a: SocketAddr) -> EntryPoint {
        EntryPoint {
            host: a.ip().to_string(),
            port: a.port(),
        }
    }
}

impl std::fmt::Display for EntryPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Parses a DHT entry point `HOST:PORT` (`[IPV6]:PORT` or aria2's bare `IPV6:PORT`).
/// An address must be of the table's family (`v6`); a name is resolved later and its
/// addresses of that family used. Empty clears.
fn parse_entry_point(name: &str, value: &str, v6: bool) -> Result<Option<EntryPoint>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    let bad = || format!("{name}: '{value}' is not HOST:PORT");
    let (host, port) = match value.parse::<SocketAddr>() {
        Ok(a) => (a.ip().to_string(), a.port()),
        Err(_) => {
            let (host, port) = value.rsplit_once(':').ok_or_else(bad)?;
            (host.to_string(), port.parse::<u16>().map_err(|_| bad())?)
        }
    };
    let family_ok = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_ipv6() == v6,
        // A name: one label or more of letters, digits, '-' and '.'.
        Err(_) => {
            if host.is_empty()
                || !host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            {
                return Err(bad());
            }
            true
        }
    };
    if port == 0 || !family_ok {
        return Err(format!(
            "{name}: '{value}' must name an IPv{} node and a port other than 0",
            if v6 { 6 } else { 4 }
        ));
    }
    Ok(Some(EntryPoint { host, port }))
}

/// Parses aria2's port list: comma-separated ports and `A-B` ranges, in the order
/// given, each 0..=65535 (`0` asks the system for a free port).
pub fn parse_ports(name: &str, value: &str) -> Result<Vec<u16>, String> {
    let port = |text: &str| -> Result<u16, String> {
        text.trim()
            .parse::<u16>()
            .map_err(|_| format!("{name}: bad port '{}' (0-65535)", text.trim()))
    };
    let mut ports: Vec<u16> = Vec::new();
    let mut seen = vec![false; 1 << 16];
    for entry in value.split(',').filter(|e| !e.trim().is_empty()) {
        let (a, b) = match entry.split_once('-') {
            Some((a, b)) => (port(a)?, port(b)?),
            None => (port(entry)?, port(entry)?),
        };
        if a > b {
            return Err(format!("{name}: bad range '{}'", entry.trim()));
        }
        for p in a..=b {
            if !std::mem::replace(&mut seen[usize::from(p)], true) {
                ports.push(p);
            }
        }
    }
    if ports.is_empty() {
        return Err(format!("{name}: no port given"));
    }
    Ok(ports)
}

/// Parses `[SCHEME://][USER:PASSWORD@]HOST[:PORT]` (SCHEME `http`, the default, or
/// `socks5`/`socks5h`); empty clears.
fn parse_proxy(value: &str) -> Result<Option<ProxyUri>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    ProxyUri::parse(value).map(Some).map_err(|e| e.to_string())
}

/// `--metalink-location`: comma-separated two-letter country codes, any case, blanks
/// ignored.
fn parse_locations(value: &str) -> Result<Vec<String>, String> {
    let mut codes = Vec::new();
    for code in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!(
                "metalink-location: '{code}' is not a two-letter country code"
            ));
        }
        codes.push(code.to_ascii_lowercase());
    }
    Ok(codes)
}

/// A comma-separated list of URIs, blanks dropped.
fn uri_list(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(String::from)
}

fn nonempty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_string())
}

macro_rules! opt {
    ($name:literal, $short:expr, $arg:ident, $default:literal, $tag:literal, $per:literal, $help:literal,
     |$o:ident, $v:ident| $body:expr) => {
        OptionDef {
            name: $name,
            short: $short,
            arg: Arg::$arg,
            default: $default,
            tag: $tag,
            per_download: $per,
            help: $help,
            apply: |$o: &mut Options, $v: &str| -> Result<(), String> {
                $body;
                Ok(())
            },
        }
    };
}

/// The option table.
pub static OPTIONS: &[OptionDef] = &[
    opt!(
        "dir",
        Some('d'),
        Value,
        ".",
        "basic",
        true,
        "Directory to store the downloaded files in.",
        |o, v| o.dir = PathBuf::from(v)
    ),
    opt!(
        "out",
        Some('o'),
        Value,
        "",
        "basic",
        true,
        "File name of the downloaded file, relative to --dir.",
        |o, v| o.out = nonempty(v)
    ),
    opt!(
        "split",
        Some('s'),
        Value,
        "5",
        "basic",
        true,
        "Download a file using N connections.",
        |o, v| o.split = ranged("split", v, 1, 1024)? as usize
    ),
    opt!(
        "max-connection-per-server",
        Some('x'),
        Value,
        "1",
        "basic",
        true,
        "Maximum connections to one server per download (1-64; aria2 stops at 16).",
        |o, v| o.max_connection_per_server =
            ranged("max-connection-per-server", v, 1, 64)? as usize
    ),
    opt!(
        "min-split-size",
        Some('k'),
        Value,
        "20M",
        "basic",
        true,
        "Do not split a range smaller than 2*SIZE (16K-1G; aria2 refuses less than 1M).",
        |o, v| o.min_split_size = ranged("min-split-size", v, 16 << 10, 1 << 30)?
    ),
    opt!(
        "piece-length",
        None,
        Value,
        "1M",
        "advanced",
        true,
        "Piece size: the unit of progress recorded for resume and of splitting.",
        |o, v| o.piece_length = ranged("piece-length", v, 16 << 10, 1 << 30)?
    ),
    opt!(
        "stream-piece-selector",
        None,
        Value,
        "default",
        "http",
        true,
        "Piece order for HTTP/FTP: default, inorder, random, geom.",
        |o, v| o.stream_piece_selector = match v {
            "default" => Selector::Default,
            "inorder" => Selector::InOrder,
            "random" => Selector::Random,
            "geom" => Selector::Geom,
            _ =>
                return Err(format!(
                    "stream-piece-selector must be one of default, inorder, random, geom; got '{v}'"
                )),
        }
    ),
    opt!(
        "max-tries",
        Some('m'),
        Value,
        "5",
        "http",
        true,
        "Number of tries per URI (0 = unlimited).",
        |o, v| o.max_tries = ranged("max-tries", v, 0, u32::MAX as u64)? as u32
    ),
    opt!(
        "uri-selector",
        None,
        Value,
        "feedback",
        "http,ftp",
        true,
        "How mirrors are chosen: inorder, feedback (by measured speed) or adaptive.",
        |o, v| o.uri_selector = match v {
            "inorder" => crate::uri_selector::UriSelector::InOrder,
            "feedback" => crate::uri_selector::UriSelector::Feedback,
            "adaptive" => crate::uri_selector::UriSelector::Adaptive,
            _ =>
                return Err(format!(
                    "uri-selector must be one of inorder, feedback, adaptive; got '{v}'"
                )),
        }
    ),
    opt!(
        "server-stat-of",
        None,
        Value,
        "",
        "http,ftp",
        false,
        "Write the servers' measured speeds to FILE at exit (aria2's format).",
        |o, v| o.server_stat_of = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "server-stat-if",
        None,
        Value,
        "",
        "http,ftp",
        false,
        "Start from the servers' speeds in FILE (written by --server-stat-of).",
        |o, v| o.server_stat_if = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "server-stat-timeout",
        None,
        Value,
        "86400",
        "http,ftp",
        false,
        "Seconds a server's record stays valid.",
        |o, v| o.server_stat_timeout = secs("server-stat-timeout", v, 0, i32::MAX as u64)?
    ),
    opt!(
        "allow-piece-length-change",
        None,
        Bool,
        "false",
        "advanced",
        true,
        "Resume from a control file of another piece length (false: stop with an error).",
        |o, v| o.allow_piece_length_change = parse_bool(v)?
    ),
    opt!(
        "enable-http-pipelining",
        None,
        Bool,
        "false",
        "http",
        true,
        "HTTP/1.1 pipelining: a connection's next range is asked for before the current one arrives.",
        |o, v| o.enable_http_pipelining = parse_bool(v)?
    ),
    opt!(
        "use-head",
        None,
        Bool,
        "false",
        "http",
        true,
        "Ask with HEAD first (length, ranges, name), then GET the bytes.",
        |o, v| o.use_head = parse_bool(v)?
    ),
    opt!(
        "max-file-not-found",
        None,
        Value,
        "0",
        "http,ftp",
        true,
        "Retry \"not found\" answers, and fail once NUM came before any byte (0: not found ends the URI).",
        |o, v| o.max_file_not_found = ranged("max-file-not-found", v, 0, u32::MAX as u64)? as u32
    ),
    opt!(
        "reuse-uri",
        None,
        Bool,
        "true",
        "http,ftp",
        true,
        "Let a URI serve several connections; false: one connection per URI.",
        |o, v| o.reuse_uri = parse_bool(v)?
    ),
    opt!(
        "retry-wait",
        None,
        Value,
        "0",
        "http",
        true,
        "Seconds to wait between retries.",
        |o, v| o.retry_wait = secs("retry-wait", v, 0, 600)?
    ),
    opt!(
        "timeout",
        Some('t'),
        Value,
        "60",
        "http",
        true,
        "Timeout in seconds for a connection without progress.",
        |o, v| o.timeout = secs("timeout", v, 1, 600)?
    ),
    opt!(
        "connect-timeout",
        None,
        Value,
        "60",
        "http",
        true,
        "Timeout in seconds to establish a connection.",
        |o, v| o.connect_timeout = secs("connect-timeout", v, 1, 600)?
    ),
    opt!(
        "lowest-speed-limit",
        None,
        Value,
        "0",
        "http",
        true,
        "Drop a connection slower than SPEED bytes/s (0 = off; K/M suffixes).",
        |o, v| o.lowest_speed_limit = parse_size(v)?
    ),
    opt!(
        "max-download-limit",
        None,
        Value,
        "0",
        "http",
        true,
        "Per-download speed cap in bytes/s (0 = off).",
        |o, v| o.max_download_limit = parse_size(v)?
    ),
    opt!(
        "max-overall-download-limit",
        None,
        Value,
        "0",
        "http",
        false,
        "Overall speed cap in bytes/s (0 = off).",
        |o, v| o.max_overall_download_limit = parse_size(v)?
    ),
    opt!(
        "max-upload-limit",
        None,
        Value,
        "0",
        "basic,bittorrent",
        true,
        "Per-torrent upload speed cap in bytes/s (0 = off).",
        |o, v| o.max_upload_limit = parse_size(v)?
    ),
    opt!(
        "max-overall-upload-limit",
        None,
        Value,
        "0",
        "basic,bittorrent",
        false,
        "Overall upload speed cap in bytes/s (0 = off).",
        |o, v| o.max_overall_upload_limit = parse_size(v)?
    ),
    opt!(
        "listen-port",
        None,
        Value,
        "6881-6999",
        "basic,bittorrent",
        false,
        "TCP ports for incoming BitTorrent peers, tried in order (6881,6885,6890-6999; 0: any).",
        |o, v| o.listen_port = parse_ports("listen-port", v)?
    ),
    opt!(
        "seed-ratio",
        None,
        Value,
        "1.0",
        "bittorrent",
        true,
        "Seed a completed torrent until its upload reaches RATIO times its length (0.0: no limit).",
        |o, v| o.seed_ratio = match v.trim().parse::<f64>() {
            Ok(r) if r.is_finite() && r >= 0.0 => r,
            _ =>
                return Err(format!(
                    "seed-ratio must be a number of at least 0.0, got '{v}'"
                )),
        }
    ),
    opt!(
        "seed-time",
        None,
        Value,
        "",
        "bittorrent",
        true,
        "Seed a completed torrent for this many (fractional) minutes; 0 stops at completion.",
        |o, v| o.seed_time = match v.trim().parse::<f64>() {
            _ if v.is_empty() => None,
            Ok(m) if m.is_finite() && (0.0..=1e9).contains(&m) => {
                Some(Duration::from_secs_f64(m * 60.0))
            }
            _ =>
                return Err(format!(
                    "seed-time must be a number of minutes of at least 0, got '{v}'"
                )),
        }
    ),
    opt!(
        "bt-seed-unverified",
        None,
        Bool,
        "false",
        "bittorrent",
        true,
        "Seed files already complete on disk without hashing them (no control file needed).",
        |o, v| o.bt_seed_unverified = parse_bool(v)?
    ),
    opt!(
        "bt-remove-unselected-file",
        None,
        Bool,
        "false",
        "bittorrent",
        true,
        "When a torrent completes, delete its files --select-file left out.",
        |o, v| o.bt_remove_unselected_file = parse_bool(v)?
    ),
    opt!(
        "enable-peer-exchange",
        None,
        Bool,
        "true",
        "bittorrent",
        true,
        "Exchange peers with the peers of public torrents (ut_pex, BEP 11).",
        |o, v| o.enable_peer_exchange = parse_bool(v)?
    ),
    opt!(
        "bt-enable-lpd",
        None,
        Bool,
        "false",
        "bittorrent",
        true,
        "Find peers of public torrents on the local network by multicast (BEP 14).",
        |o, v| o.bt_enable_lpd = parse_bool(v)?
    ),
    opt!(
        "bt-lpd-interface",
        None,
        Value,
        "",
        "bittorrent",
        true,
        "The interface (name or IPv4 address) local peer discovery uses.",
        |o, v| o.bt_lpd_interface = nonempty(v)
    ),
    opt!(
        "bt-metadata-only",
        None,
        Bool,
        "false",
        "bittorrent",
        true,
        "Download only a magnet link's metadata (with --bt-save-metadata, to a .torrent).",
        |o, v| o.bt_metadata_only = parse_bool(v)?
    ),
    opt!(
        "bt-save-metadata",
        None,
        Bool,
        "false",
        "bittorrent",
        true,
        "Save a magnet link's metadata as DIR/HASH.torrent (HASH: the info-hash in hex).",
        |o, v| o.bt_save_metadata = parse_bool(v)?
    ),
    opt!(
        "bt-load-saved-metadata",
        None,
        Bool,
        "false",
        "bittorrent",
        true,
        "Start a magnet link from DIR/HASH.torrent when --bt-save-metadata left one.",
        |o, v| o.bt_load_saved_metadata = parse_bool(v)?
    ),
    opt!(
        "enable-dht",
        None,
        Bool,
        "true",
        "basic,bittorrent",
        false,
        "Find peers of public torrents through the IPv4 Mainline DHT (BEP 5).",
        |o, v| o.dht.enable = parse_bool(v)?
    ),
    opt!(
        "enable-dht6",
        None,
        Bool,
        "false",
        "basic,bittorrent",
        false,
        "Find peers through the IPv6 DHT too (BEP 32).",
        |o, v| o.dht.enable6 = parse_bool(v)?
    ),
    opt!(
        "dht-listen-port",
        None,
        Value,
        "6881-6999",
        "basic,bittorrent",
        false,
        "UDP ports for the DHT, tried in order (6881,6885,6890-6999; 0: any).",
        |o, v| o.dht.listen_port = parse_ports("dht-listen-port", v)?
    ),
    opt!(
        "dht-listen-addr6",
        None,
        Value,
        "",
        "basic,bittorrent",
        false,
        "The IPv6 address the IPv6 DHT binds.",
        |o, v| o.dht.listen_addr6 = match v {
            "" => None,
            v => Some(
                v.parse()
                    .map_err(|_| format!("dht-listen-addr6: '{v}' is not an IPv6 address"))?
            ),
        }
    ),
    opt!(
        "dht-entry-point",
        None,
        Value,
        "",
        "bittorrent",
        false,
        "An IPv4 DHT node to join the network through (ADDRESS:PORT).",
        |o, v| o.dht.entry_point = parse_entry_point("dht-entry-point", v, false)?
    ),
    opt!(
        "dht-entry-point6",
        None,
        Value,
        "",
        "bittorrent",
        false,
        "An IPv6 DHT node to join the network through ([ADDRESS]:PORT).",
        |o, v| o.dht.entry_point6 = parse_entry_point("dht-entry-point6", v, true)?
    ),
    opt!(
        "dht-file-path",
        None,
        Value,
        "$XDG_CACHE_HOME/aria2/dht.dat",
        "bittorrent",
        false,
        "The IPv4 DHT routing table, read at start and written at exit (aria2's format).",
        |o, v| o.dht.file_path = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "dht-file-path6",
        None,
        Value,
        "$XDG_CACHE_HOME/aria2/dht6.dat",
        "bittorrent",
        false,
        "The IPv6 DHT routing table.",
        |o, v| o.dht.file_path6 = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "dht-message-timeout",
        None,
        Value,
        "10",
        "bittorrent",
        false,
        "Seconds a DHT query waits for its answer (1-60).",
        |o, v| o.dht.message_timeout = secs("dht-message-timeout", v, 1, 60)?
    ),
    opt!(
        "index-out",
        Some('O'),
        Value,
        "",
        "bittorrent",
        true,
        "Store torrent file INDEX at PATH under --dir: -O INDEX=PATH (repeatable).",
        |o, v| {
            let entry = parse_index_out(v)?;
            o.index_out.retain(|(i, _)| *i != entry.0);
            o.index_out.push(entry)
        }
    ),
    opt!(
        "bt-max-peers",
        None,
        Value,
        "55",
        "bittorrent",
        true,
        "Peers connected at once per torrent (0: no limit).",
        |o, v| o.bt_max_peers = ranged("bt-max-peers", v, 0, u32::MAX.into())? as usize
    ),
    opt!(
        "bt-request-peer-speed-limit",
        None,
        Value,
        "50K",
        "bittorrent",
        true,
        "Below this download speed (bytes/s) a torrent connects more than 40 peers, up to --bt-max-peers.",
        |o, v| o.bt_request_peer_speed_limit = parse_size(v)?
    ),
    opt!(
        "bt-max-open-files",
        None,
        Value,
        "100",
        "bittorrent",
        false,
        "Files of torrents and Metalink downloads kept open at once, over all downloads.",
        |o, v| o.bt_max_open_files = ranged("bt-max-open-files", v, 1, u32::MAX.into())? as usize
    ),
    opt!(
        "bt-tracker",
        None,
        Value,
        "",
        "bittorrent",
        true,
        "Announce URIs added to each torrent's (comma-separated, each its own tier; after --bt-exclude-tracker).",
        |o, v| o.bt_tracker.extend(uri_list(v))
    ),
    opt!(
        "bt-exclude-tracker",
        None,
        Value,
        "",
        "bittorrent",
        true,
        "Announce URIs taken out of each torrent's (comma-separated; * takes out all).",
        |o, v| o.bt_exclude_tracker.extend(uri_list(v))
    ),
    opt!(
        "bt-tracker-interval",
        None,
        Value,
        "0",
        "bittorrent",
        true,
        "Seconds between announces, whatever the tracker says (0: the tracker's interval).",
        |o, v| o.bt_tracker_interval = secs("bt-tracker-interval", v, 0, u32::MAX.into())?
    ),
    opt!(
        "bt-tracker-timeout",
        None,
        Value,
        "60",
        "bittorrent",
        true,
        "Seconds an announce may take before it fails.",
        |o, v| o.bt_tracker_timeout = secs("bt-tracker-timeout", v, 1, 600)?
    ),
    opt!(
        "bt-tracker-connect-timeout",
        None,
        Value,
        "60",
        "bittorrent",
        true,
        "Seconds connecting to a tracker may take.",
        |o, v| o.bt_tracker_connect_timeout = secs("bt-tracker-connect-timeout", v, 1, 600)?
    ),
    opt!(
        "bt-stop-timeout",
        None,
        Value,
        "0",
        "bittorrent",
        true,
        "Stop a torrent that downloaded nothing for this many seconds (0: never).",
        |o, v| o.bt_stop_timeout = secs("bt-stop-timeout", v, 0, u32::MAX.into())?
    ),
    opt!(
        "bt-hash-check-seed",
        None,
        Bool,
        "true",
        "bittorrent",
        true,
        "Seed a torrent that -V found complete (false: it completes at once).",
        |o, v| o.bt_hash_check_seed = parse_bool(v)?
    ),
    opt!(
        "bt-external-ip",
        None,
        Value,
        "",
        "bittorrent",
        true,
        "The IP address trackers are told to give peers (sent as ip=).",
        |o, v| o.bt_external_ip = match v.trim() {
            "" => None,
            ip => Some(ip.parse().map_err(|_| {
                format!("bt-external-ip must be a numeric IP address, got '{ip}'")
            })?),
        }
    ),
    opt!(
        "peer-id-prefix",
        None,
        Value,
        "-SG0001-",
        "bittorrent",
        true,
        "Start of the 20-byte peer id (longer is cut to 20 bytes; random characters fill the rest).",
        |o, v| o.peer_id_prefix = {
            let mut end = v.len().min(20);
            while !v.is_char_boundary(end) {
                end -= 1;
            }
            v[..end].to_string()
        }
    ),
    opt!(
        "peer-agent",
        None,
        Value,
        "swarmget/VERSION",
        "bittorrent",
        true,
        "Client name sent to peers in the extension handshake (BEP 10 'v').",
        |o, v| o.peer_agent = v.to_string()
    ),
    opt!(
        "bt-enable-hook-after-hash-check",
        None,
        Bool,
        "true",
        "bittorrent,hook",
        true,
        "Run --on-bt-download-complete for a torrent that -V found complete.",
        |o, v| o.bt_enable_hook_after_hash_check = parse_bool(v)?
    ),
    opt!(
        "bt-detach-seed-only",
        None,
        Bool,
        "false",
        "bittorrent",
        false,
        "Torrents that are only seeding do not count towards -j.",
        |o, v| o.bt_detach_seed_only = parse_bool(v)?
    ),
    opt!(
        "bt-prioritize-piece",
        None,
        Value,
        "",
        "bittorrent",
        true,
        "Fetch the first and/or last SIZE bytes (default 1M) of every file first: head[=SIZE],tail[=SIZE].",
        |o, v| o.bt_prioritize_piece = PrioritizePiece::parse(v)?
    ),
    opt!(
        "follow-torrent",
        None,
        Value,
        "true",
        "bittorrent",
        true,
        "A downloaded .torrent (by name or application/x-bittorrent) is downloaded in turn: true, mem (not saved), false.",
        |o, v| o.follow_torrent = match v {
            "true" => FollowMetalink::True,
            "mem" => FollowMetalink::Mem,
            "false" => FollowMetalink::False,
            _ =>
                return Err(format!(
                    "follow-torrent must be true, mem or false; got '{v}'"
                )),
        }
    ),
    opt!(
        "max-concurrent-downloads",
        Some('j'),
        Value,
        "5",
        "basic",
        false,
        "Downloads running at once.",
        |o, v| o.max_concurrent_downloads =
            ranged("max-concurrent-downloads", v, 1, 1 << 16)? as usize
    ),
    opt!(
        "optimize-concurrent-downloads",
        None,
        Value,
        "false",
        "advanced",
        false,
        "Run A + B*log10(Mbit/s) downloads at once, up to -j: true (A=5, B=25), false, or A:B.",
        |o, v| o.optimize_concurrent_downloads = parse_optimize(v)?
    ),
    opt!(
        "header",
        None,
        Value,
        "",
        "http",
        true,
        "Extra request header (repeatable).",
        |o, v| {
            if !v.contains(':') {
                return Err(format!("header '{v}' has no ':'"));
            }
            o.headers.push(v.to_string())
        }
    ),
    opt!(
        "user-agent",
        Some('U'),
        Value,
        "swarmget/VERSION",
        "http",
        true,
        "User-Agent for HTTP(S) requests.",
        |o, v| o.user_agent = v.to_string()
    ),
    opt!(
        "referer",
        None,
        Value,
        "",
        "http",
        true,
        "Referer header; '*' uses the download URI.",
        |o, v| o.referer = nonempty(v)
    ),
    opt!(
        "http-user",
        None,
        Value,
        "",
        "http",
        true,
        "HTTP basic-auth user for all URIs.",
        |o, v| o.http_user = nonempty(v)
    ),
    opt!(
        "http-passwd",
        None,
        Value,
        "",
        "http",
        true,
        "HTTP basic-auth password for all URIs.",
        |o, v| o.http_passwd = nonempty(v)
    ),
    opt!(
        "enable-http-keep-alive",
        None,
        Bool,
        "true",
        "http",
        true,
        "Use HTTP/1.1 persistent connections.",
        |o, v| o.http_keep_alive = parse_bool(v)?
    ),
    opt!(
        "content-disposition-default-utf8",
        None,
        Bool,
        "false",
        "http",
        true,
        "Read a plain Content-Disposition filename as UTF-8.",
        |o, v| o.content_disposition_default_utf8 = parse_bool(v)?
    ),
    opt!(
        "max-redirect",
        None,
        Value,
        "20",
        "http",
        true,
        "Redirects followed per request (aria2 fixes 20).",
        |o, v| o.max_redirect = ranged("max-redirect", v, 0, 1000)? as usize
    ),
    opt!(
        "ftp-user",
        None,
        Value,
        "",
        "ftp",
        true,
        "FTP user for all URIs (anonymous when none is given).",
        |o, v| o.ftp_user = nonempty(v)
    ),
    opt!(
        "ftp-passwd",
        None,
        Value,
        "",
        "ftp",
        true,
        "FTP password for all URIs.",
        |o, v| o.ftp_passwd = nonempty(v)
    ),
    opt!(
        "ftp-type",
        None,
        Value,
        "binary",
        "ftp",
        true,
        "FTP transfer type: binary or ascii.",
        |o, v| o.ftp_type_ascii = match v {
            "binary" => false,
            "ascii" => true,
            _ => return Err(format!("ftp-type must be binary or ascii, got '{v}'")),
        }
    ),
    opt!(
        "ftp-pasv",
        Some('p'),
        Bool,
        "true",
        "ftp",
        true,
        "Passive mode (EPSV, then PASV); false makes the server connect back (EPRT/PORT).",
        |o, v| o.ftp_pasv = parse_bool(v)?
    ),
    opt!(
        "ftp-reuse-connection",
        None,
        Bool,
        "true",
        "ftp",
        true,
        "Keep a logged-in control connection for the next segment.",
        |o, v| o.ftp_reuse_connection = parse_bool(v)?
    ),
    opt!(
        "ftp-proxy",
        None,
        Value,
        "",
        "ftp",
        true,
        "Proxy for ftp:// URIs: [http://|socks5://|socks5h://][USER:PASSWORD@]HOST[:PORT]; '' clears it.",
        |o, v| o.ftp_proxy = parse_proxy(v)?
    ),
    opt!(
        "ftp-proxy-user",
        None,
        Value,
        "",
        "ftp",
        true,
        "User for --ftp-proxy (replaces one in its URI).",
        |o, v| o.ftp_proxy_user = nonempty(v)
    ),
    opt!(
        "ftp-proxy-passwd",
        None,
        Value,
        "",
        "ftp",
        true,
        "Password for --ftp-proxy.",
        |o, v| o.ftp_proxy_passwd = nonempty(v)
    ),
    opt!(
        "http-proxy",
        None,
        Value,
        "",
        "http",
        true,
        "Proxy for http:// URIs: [http://|socks5://|socks5h://][USER:PASSWORD@]HOST[:PORT]; '' clears it.",
        |o, v| o.http_proxy = parse_proxy(v)?
    ),
    opt!(
        "http-proxy-user",
        None,
        Value,
        "",
        "http",
        true,
        "User for --http-proxy (replaces one in its URI).",
        |o, v| o.http_proxy_user = nonempty(v)
    ),
    opt!(
        "http-proxy-passwd",
        None,
        Value,
        "",
        "http",
        true,
        "Password for --http-proxy.",
        |o, v| o.http_proxy_passwd = nonempty(v)
    ),
    opt!(
        "https-proxy",
        None,
        Value,
        "",
        "http,https",
        true,
        "Proxy for https:// URIs (always a CONNECT tunnel or SOCKS5; TLS is checked against the origin).",
        |o, v| o.https_proxy = parse_proxy(v)?
    ),
    opt!(
        "https-proxy-user",
        None,
        Value,
        "",
        "http,https",
        true,
        "User for --https-proxy (replaces one in its URI).",
        |o, v| o.https_proxy_user = nonempty(v)
    ),
    opt!(
        "https-proxy-passwd",
        None,
        Value,
        "",
        "http,https",
        true,
        "Password for --https-proxy.",
        |o, v| o.https_proxy_passwd = nonempty(v)
    ),
    opt!(
        "all-proxy",
        None,
        Value,
        "",
        "http,https,ftp",
        true,
        "Proxy for every scheme that has no proxy of its own; '' clears it.",
        |o, v| o.all_proxy = parse_proxy(v)?
    ),
    opt!(
        "all-proxy-user",
        None,
        Value,
        "",
        "http,https,ftp",
        true,
        "User for --all-proxy (replaces one in its URI).",
        |o, v| o.all_proxy_user = nonempty(v)
    ),
    opt!(
        "all-proxy-passwd",
        None,
        Value,
        "",
        "http,https,ftp",
        true,
        "Password for --all-proxy.",
        |o, v| o.all_proxy_passwd = nonempty(v)
    ),
    opt!(
        "no-proxy",
        None,
        Value,
        "",
        "http,https,ftp",
        true,
        "Hosts that bypass proxies: HOST, .DOMAIN (its subdomains), ADDRESS, NETWORK/BITS, comma-separated.",
        |o, v| o.no_proxy = NoProxy::parse(v).map_err(|e| e.to_string())?
    ),
    opt!(
        "load-cookies",
        None,
        Value,
        "",
        "basic,http,cookie",
        false,
        "Cookies to start with, from a Netscape/Mozilla cookies.txt file.",
        |o, v| o.load_cookies = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "save-cookies",
        None,
        Value,
        "",
        "http,cookie",
        false,
        "Write every cookie (session ones with expiry 0) to FILE in Netscape format at exit.",
        |o, v| o.save_cookies = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "http-auth-challenge",
        None,
        Bool,
        "false",
        "http",
        true,
        "Send --http-user or .netrc credentials only after the server answers 401 (URI credentials always go).",
        |o, v| o.http_auth_challenge = parse_bool(v)?
    ),
    opt!(
        "netrc-path",
        None,
        Value,
        "$HOME/.netrc",
        "http,ftp",
        false,
        "The .netrc file (mode 600; one others may read is not used) for HTTP and FTP logins.",
        |o, v| o.netrc_path = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "no-netrc",
        Some('n'),
        Bool,
        "false",
        "http,ftp",
        false,
        "Do not read the .netrc file.",
        |o, v| o.no_netrc = parse_bool(v)?
    ),
    opt!(
        "proxy-method",
        None,
        Value,
        "get",
        "http,ftp",
        true,
        "get: absolute-form requests to an HTTP proxy; tunnel: CONNECT first. https:// always tunnels.",
        |o, v| o.proxy_method = match v {
            "get" => ProxyMethod::Get,
            "tunnel" => ProxyMethod::Tunnel,
            _ => return Err(format!("proxy-method must be get or tunnel, got '{v}'")),
        }
    ),
    opt!(
        "ca-certificate",
        None,
        Value,
        "system store",
        "https",
        true,
        "PEM file of the certificate authorities to trust instead of the system store.",
        |o, v| o.ca_certificate = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "check-certificate",
        None,
        Bool,
        "true",
        "https",
        true,
        "Verify server certificates.",
        |o, v| o.check_certificate = parse_bool(v)?
    ),
    opt!(
        "certificate",
        None,
        Value,
        "",
        "https",
        true,
        "Client certificate (PEM).",
        |o, v| o.certificate = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "private-key",
        None,
        Value,
        "",
        "https",
        true,
        "Client private key (PEM, unencrypted).",
        |o, v| o.private_key = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "continue",
        Some('c'),
        Bool,
        "false",
        "basic",
        true,
        "Continue a partial download (from the control file, or the file's length).",
        |o, v| o.continue_download = parse_bool(v)?
    ),
    opt!(
        "always-resume",
        None,
        Bool,
        "true",
        "http",
        true,
        "Stop with exit code 8 instead of restarting when a server cannot resume.",
        |o, v| o.always_resume = parse_bool(v)?
    ),
    opt!(
        "max-resume-failure-tries",
        None,
        Value,
        "0",
        "ftp",
        true,
        "With --always-resume=false: restart from scratch after N mirrors that cannot resume (0 = all of them).",
        |o, v| o.max_resume_failure_tries =
            ranged("max-resume-failure-tries", v, 0, u32::MAX as u64)? as u32
    ),
    opt!(
        "http-accept-gzip",
        None,
        Bool,
        "false",
        "http",
        true,
        "Send Accept-Encoding: deflate, gzip and decode such answers (otherwise they are stored as sent).",
        |o, v| o.http_accept_gzip = parse_bool(v)?
    ),
    opt!(
        "min-tls-version",
        None,
        Value,
        "TLSv1.2",
        "https",
        false,
        "Oldest TLS version to speak: TLSv1.1, TLSv1.2 or TLSv1.3 (rustls speaks 1.2 and 1.3, so TLSv1.1 is 1.2).",
        |o, v| o.tls13_only = match v {
            "TLSv1.1" | "TLSv1.2" => false,
            "TLSv1.3" => true,
            _ => return Err(format!("must be TLSv1.1, TLSv1.2 or TLSv1.3, not {v:?}")),
        }
    ),
    opt!(
        "rlimit-nofile",
        None,
        Value,
        "1024",
        "advanced",
        false,
        "Raise the soft limit of open files to NUM (never lowered, never past the hard limit).",
        |o, v| o.rlimit_nofile = ranged("rlimit-nofile", v, 1, u64::MAX)?
    ),
    opt!(
        "conditional-get",
        None,
        Bool,
        "false",
        "advanced",
        true,
        "Download only when the remote file is newer than the local one (If-Modified-Since; HTTP only).",
        |o, v| o.conditional_get = parse_bool(v)?
    ),
    opt!(
        "http-no-cache",
        None,
        Bool,
        "false",
        "http",
        true,
        "Send Cache-Control: no-cache and Pragma: no-cache, so caches fetch the file anew.",
        |o, v| o.http_no_cache = parse_bool(v)?
    ),
    opt!(
        "parameterized-uri",
        Some('P'),
        Bool,
        "false",
        "advanced",
        true,
        "Expand {a,b} and [1-9:2] parts of URIs (with -Z each URI is its own download).",
        |o, v| o.parameterized_uri = parse_bool(v)?
    ),
    opt!(
        "deferred-input",
        None,
        Bool,
        "false",
        "advanced",
        false,
        "Read -i entries as they are needed, without checking the whole file first.",
        |o, v| o.deferred_input = parse_bool(v)?
    ),
    opt!(
        "max-download-result",
        None,
        Value,
        "1000",
        "advanced",
        false,
        "Results of stopped downloads kept in memory; the oldest are dropped past it.",
        |o, v| o.max_download_result =
            ranged("max-download-result", v, 0, u32::MAX as u64)? as usize
    ),
    opt!(
        "remote-time",
        Some('R'),
        Bool,
        "false",
        "ftp",
        true,
        "Give the finished file the server's modification time (Last-Modified or MDTM).",
        |o, v| o.remote_time = parse_bool(v)?
    ),
    opt!(
        "allow-overwrite",
        None,
        Bool,
        "false",
        "file",
        true,
        "Restart from scratch when the file exists without a control file.",
        |o, v| o.allow_overwrite = parse_bool(v)?
    ),
    opt!(
        "auto-file-renaming",
        None,
        Bool,
        "true",
        "file",
        true,
        "Rename to name.1.ext, name.2.ext, ... when the file exists.",
        |o, v| o.auto_file_renaming = parse_bool(v)?
    ),
    opt!(
        "remove-control-file",
        None,
        Bool,
        "false",
        "advanced",
        true,
        "Delete an existing control file before starting.",
        |o, v| o.remove_control_file = parse_bool(v)?
    ),
    opt!(
        "auto-save-interval",
        None,
        Value,
        "1",
        "advanced",
        false,
        "Save the control file every N seconds (0 = only at stop; aria2's default is 60).",
        |o, v| o.auto_save_interval = secs("auto-save-interval", v, 0, 600)?
    ),
    opt!(
        "file-allocation",
        None,
        Value,
        "prealloc",
        "file",
        true,
        "Allocation before download: none, prealloc, trunc, falloc.",
        |o, v| o.file_allocation = match v {
            "none" => FileAllocation::None,
            "prealloc" => FileAllocation::Prealloc,
            "trunc" => FileAllocation::Trunc,
            "falloc" => FileAllocation::Falloc,
            _ =>
                return Err(format!(
                    "file-allocation must be one of none, prealloc, trunc, falloc; got '{v}'"
                )),
        }
    ),
    opt!(
        "no-file-allocation-limit",
        None,
        Value,
        "5M",
        "file",
        true,
        "Do not allocate files smaller than SIZE.",
        |o, v| o.no_file_allocation_limit = parse_size(v)?
    ),
    opt!(
        "disk-cache",
        None,
        Value,
        "2M",
        "advanced",
        false,
        "Memory for data on its way to disk; reading pauses when it is full (aria2: a 16M cache).",
        |o, v| o.disk_cache = parse_size(v)?
    ),
    opt!(
        "checksum",
        None,
        Value,
        "",
        "checksum",
        true,
        "Whole-file digest TYPE=HEX (md5, sha-1, sha-224, sha-256, sha-384, sha-512, tth, ed2k, aich, crc32).",
        |o, v| o.checksum = if v.is_empty() {
            None
        } else {
            Some(Digest::parse(v).map_err(|e| e.to_string())?)
        }
    ),
    opt!(
        "disable-ipv6",
        None,
        Bool,
        "false",
        "advanced",
        false,
        "Do not use IPv6.",
        |o, v| o.disable_ipv6 = parse_bool(v)?
    ),
    opt!(
        "interface",
        None,
        Value,
        "",
        "advanced",
        true,
        "Connect from this interface (a name such as eth0, or one of its addresses).",
        |o, v| o.interface = nonempty(v)
    ),
    opt!(
        "multiple-interface",
        None,
        Value,
        "",
        "advanced",
        true,
        "Comma-separated interfaces (names or addresses), one per connection in turn.",
        |o, v| o.multiple_interface = v
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(String::from)
            .collect()
    ),
    opt!(
        "socket-recv-buffer-size",
        None,
        Value,
        "0",
        "advanced",
        false,
        "SO_RCVBUF of each connection, set before it connects (0: the kernel's; up to 16M).",
        |o, v| o.socket_recv_buffer_size = ranged("socket-recv-buffer-size", v, 0, 16 << 20)?
    ),
    opt!(
        "enable-mmap",
        None,
        Bool,
        "false",
        "advanced",
        true,
        "Accepted for aria2's configuration files; swarmget writes through its disk thread, never a memory map.",
        |o, v| o.enable_mmap = parse_bool(v)?
    ),
    opt!(
        "max-mmap-limit",
        None,
        Value,
        "9223372036854775807",
        "advanced",
        true,
        "Accepted with --enable-mmap for aria2's configuration files (no memory maps are made).",
        |o, v| o.max_mmap_limit = parse_size(v)?
    ),
    opt!(
        "async-dns",
        None,
        Bool,
        "true",
        "advanced",
        false,
        "Accepted for aria2's configuration files; names are always resolved off the download loop.",
        |o, v| o.async_dns = parse_bool(v)?
    ),
    opt!(
        "async-dns-server",
        None,
        Value,
        "",
        "advanced",
        false,
        "Comma-separated DNS servers (IP or IP:PORT) asked instead of the system's resolver.",
        |o, v| o.async_dns_server = parse_dns_servers(v)?
    ),
    opt!(
        "quiet",
        Some('q'),
        Bool,
        "false",
        "advanced",
        false,
        "No console output.",
        |o, v| o.quiet = parse_bool(v)?
    ),
    opt!(
        "log",
        Some('l'),
        Value,
        "",
        "basic",
        false,
        "Write a log to FILE ('-': standard output); an existing file is truncated.",
        |o, v| o.log = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "log-level",
        None,
        Value,
        "debug",
        "advanced",
        false,
        "Least severe level written to the log: debug, info, notice, warn or error.",
        |o, v| o.log_level = LogLevel::parse("log-level", v)?
    ),
    opt!(
        "console-log-level",
        None,
        Value,
        "notice",
        "advanced",
        false,
        "Least severe level shown on the console: debug, info, notice, warn or error.",
        |o, v| o.console_log_level = LogLevel::parse("console-log-level", v)?
    ),
    opt!(
        "stderr",
        None,
        Bool,
        "false",
        "advanced",
        false,
        "Console output goes to standard error instead of standard output.",
        |o, v| o.stderr = parse_bool(v)?
    ),
    opt!(
        "enable-color",
        None,
        Bool,
        "true",
        "advanced",
        false,
        "Colours in the console output on a terminal.",
        |o, v| o.enable_color = parse_bool(v)?
    ),
    opt!(
        "truncate-console-readout",
        None,
        Bool,
        "true",
        "advanced",
        false,
        "Cut the live progress line to the terminal's width.",
        |o, v| o.truncate_console_readout = parse_bool(v)?
    ),
    opt!(
        "summary-interval",
        None,
        Value,
        "60",
        "advanced",
        false,
        "Seconds between progress summaries (0 = off).",
        |o, v| o.summary_interval = secs("summary-interval", v, 0, i32::MAX as u64)?
    ),
    opt!(
        "show-console-readout",
        None,
        Bool,
        "true",
        "advanced",
        false,
        "Show the live progress line.",
        |o, v| o.show_console_readout = parse_bool(v)?
    ),
    opt!(
        "human-readable",
        None,
        Bool,
        "true",
        "advanced",
        false,
        "KiB/MiB/GiB units in the readout.",
        |o, v| o.human_readable = parse_bool(v)?
    ),
    opt!(
        "download-result",
        None,
        Value,
        "default",
        "advanced",
        false,
        "End table: default, full, hide.",
        |o, v| o.download_result = match v {
            "default" => ResultFormat::Default,
            "full" => ResultFormat::Full,
            "hide" => ResultFormat::Hide,
            _ =>
                return Err(format!(
                    "download-result must be one of default, full, hide; got '{v}'"
                )),
        }
    ),
    opt!(
        "input-file",
        Some('i'),
        Value,
        "",
        "basic",
        false,
        "Read URIs from FILE ('-' = stdin): TAB-separated mirrors per line, indented name=value options.",
        |o, v| o.input_file = nonempty(v)
    ),
    opt!(
        "conf-path",
        None,
        Value,
        "~/.config/aria2/aria2.conf",
        "advanced",
        false,
        "Configuration file (name=value lines).",
        |o, v| o.conf_path = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "no-conf",
        None,
        Bool,
        "false",
        "advanced",
        false,
        "Do not read a configuration file.",
        |o, v| o.no_conf = parse_bool(v)?
    ),
    opt!(
        "force-sequential",
        Some('Z'),
        Bool,
        "false",
        "basic",
        false,
        "Treat each command-line URI as a separate download.",
        |o, v| o.force_sequential = parse_bool(v)?
    ),
    opt!(
        "stop",
        None,
        Value,
        "0",
        "advanced",
        false,
        "Stop after SEC seconds (0 = never).",
        |o, v| o.stop = secs("stop", v, 0, i32::MAX as u64)?
    ),
    opt!(
        "dry-run",
        None,
        Bool,
        "false",
        "http",
        true,
        "Only check that the files are available.",
        |o, v| o.dry_run = parse_bool(v)?
    ),
    opt!(
        "enable-rpc",
        None,
        Bool,
        "false",
        "rpc",
        false,
        "Run as a daemon answering aria2's JSON-RPC/XML-RPC (the queue may run empty).",
        |o, v| o.enable_rpc = parse_bool(v)?
    ),
    opt!(
        "rpc-listen-port",
        None,
        Value,
        "6800",
        "rpc",
        false,
        "RPC port (0: any free port, printed at start; aria2 takes 1024-65535).",
        |o, v| o.rpc_listen_port = ranged("rpc-listen-port", v, 0, 65535)? as u16
    ),
    opt!(
        "rpc-listen-all",
        None,
        Bool,
        "false",
        "rpc",
        false,
        "Listen for RPC on every interface (default: loopback only).",
        |o, v| o.rpc_listen_all = parse_bool(v)?
    ),
    opt!(
        "rpc-secret",
        None,
        Value,
        "",
        "rpc",
        false,
        "RPC secret: every call passes token:SECRET as its first parameter.",
        |o, v| o.rpc_secret = nonempty(v)
    ),
    opt!(
        "rpc-max-request-size",
        None,
        Value,
        "2M",
        "rpc",
        false,
        "Largest RPC request body (and WebSocket message).",
        |o, v| o.rpc_max_request_size = ranged("rpc-max-request-size", v, 0, 1 << 30)?
    ),
    opt!(
        "rpc-allow-origin-all",
        None,
        Bool,
        "false",
        "rpc",
        false,
        "Add Access-Control-Allow-Origin: * to RPC responses.",
        |o, v| o.rpc_allow_origin_all = parse_bool(v)?
    ),
    opt!(
        "daemon",
        Some('D'),
        Bool,
        "false",
        "advanced,rpc",
        false,
        "Run in the background: the command returns 0 once the RPC port is listening (the working directory stays; stdio goes to /dev/null).",
        |o, v| o.daemon = parse_bool(v)?
    ),
    opt!(
        "stop-with-process",
        None,
        Value,
        "",
        "advanced",
        false,
        "Stop (as on SIGTERM) once process PID is no longer running.",
        |o, v| o.stop_with_process = match v {
            "" => None,
            _ => Some(
                v.parse::<u32>()
                    .ok()
                    .filter(|&p| p > 0 && p <= i32::MAX as u32)
                    .ok_or_else(|| format!("'{v}' is not a process id"))?,
            ),
        }
    ),
    opt!(
        "rpc-user",
        None,
        Value,
        "",
        "rpc,deprecated",
        false,
        "Demand HTTP Basic authentication with this user name from RPC clients (deprecated: use --rpc-secret).",
        |o, v| o.rpc_user = nonempty(v)
    ),
    opt!(
        "rpc-passwd",
        None,
        Value,
        "",
        "rpc,deprecated",
        false,
        "The password of --rpc-user (deprecated: use --rpc-secret).",
        |o, v| o.rpc_passwd = nonempty(v)
    ),
    opt!(
        "rpc-secure",
        None,
        Bool,
        "false",
        "rpc",
        false,
        "Serve RPC over TLS only (https:// and wss://), with --rpc-certificate and --rpc-private-key.",
        |o, v| o.rpc_secure = parse_bool(v)?
    ),
    opt!(
        "rpc-certificate",
        None,
        Value,
        "",
        "rpc",
        false,
        "The RPC server's certificate chain, PEM (for --rpc-secure).",
        |o, v| o.rpc_certificate = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "rpc-private-key",
        None,
        Value,
        "",
        "rpc",
        false,
        "The private key of --rpc-certificate, PEM (for --rpc-secure).",
        |o, v| o.rpc_private_key = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "rpc-save-upload-metadata",
        None,
        Bool,
        "true",
        "rpc",
        false,
        "Save a torrent uploaded by aria2.addTorrent in the dir as <hex info-hash>.torrent.",
        |o, v| o.rpc_save_upload_metadata = parse_bool(v)?
    ),
    opt!(
        "on-download-start",
        None,
        Value,
        "",
        "advanced,hook",
        false,
        "With --enable-rpc: run COMMAND GID NUM_FILES PATH when a download starts.",
        |o, v| o.on_download_start = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "on-download-pause",
        None,
        Value,
        "",
        "advanced,hook",
        false,
        "With --enable-rpc: run COMMAND GID NUM_FILES PATH when a download is paused.",
        |o, v| o.on_download_pause = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "on-download-stop",
        None,
        Value,
        "",
        "advanced,hook",
        false,
        "With --enable-rpc: run COMMAND GID NUM_FILES PATH when a download stops (unless a complete/error hook applies).",
        |o, v| o.on_download_stop = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "on-download-complete",
        None,
        Value,
        "",
        "advanced,hook",
        false,
        "With --enable-rpc: run COMMAND GID NUM_FILES PATH when a download completes.",
        |o, v| o.on_download_complete = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "on-download-error",
        None,
        Value,
        "",
        "advanced,hook",
        false,
        "With --enable-rpc: run COMMAND GID NUM_FILES PATH when a download fails.",
        |o, v| o.on_download_error = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "on-bt-download-complete",
        None,
        Value,
        "",
        "advanced,hook",
        false,
        "Run COMMAND GID NUM_FILES PATH when a torrent's data is complete, before seeding (--on-download-complete runs when seeding ends).",
        |o, v| o.on_bt_download_complete = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "save-session",
        None,
        Value,
        "",
        "advanced,rpc",
        false,
        "With --enable-rpc: write unfinished downloads to FILE at exit and on aria2.saveSession (read back with -i).",
        |o, v| o.save_session = nonempty(v).map(PathBuf::from)
    ),
    opt!(
        "save-session-interval",
        None,
        Value,
        "0",
        "advanced,rpc",
        false,
        "Also write --save-session every SEC seconds (0: only at exit and on aria2.saveSession).",
        |o, v| o.save_session_interval = secs("save-session-interval", v, 0, i32::MAX as u64)?
    ),
    opt!(
        "gid",
        None,
        Value,
        "",
        "advanced,rpc",
        true,
        "Give the download this GID (16 hex digits) instead of a new one; refused if another download has it.",
        |o, v| o.gid = match v {
            "" => None,
            _ => Some(
                Gid::parse(v)
                    .ok_or_else(|| format!("'{v}' is not a GID: 16 hex digits are needed"))?
            ),
        }
    ),
    opt!(
        "force-save",
        None,
        Bool,
        "false",
        "advanced,rpc",
        true,
        "Write the download to --save-session even when it is complete or removed, and keep a complete download's control file.",
        |o, v| o.force_save = parse_bool(v)?
    ),
    opt!(
        "save-not-found",
        None,
        Bool,
        "true",
        "advanced,rpc",
        true,
        "Write a download that failed with 'resource not found' to --save-session too.",
        |o, v| o.save_not_found = parse_bool(v)?
    ),
    opt!(
        "pause",
        None,
        Bool,
        "false",
        "rpc",
        true,
        "Pause each download as it is added (it starts on unpause).",
        |o, v| o.pause = parse_bool(v)?
    ),
    opt!(
        "pause-metadata",
        None,
        Bool,
        "false",
        "advanced,rpc",
        true,
        "Pause the downloads a followed Metalink document gives (with --enable-rpc only, as aria2).",
        |o, v| o.pause_metadata = parse_bool(v)?
    ),
    opt!(
        "torrent-file",
        Some('T'),
        Value,
        "",
        "basic,bittorrent",
        false,
        "Download what a local .torrent file describes (peers from its trackers).",
        |o, v| o.torrent_file = nonempty(v)
    ),
    opt!(
        "metalink-file",
        Some('M'),
        Value,
        "",
        "basic,metalink",
        false,
        "Download the files a local .meta4/.metalink document describes ('-' = stdin).",
        |o, v| o.metalink_file = nonempty(v)
    ),
    opt!(
        "follow-metalink",
        None,
        Value,
        "true",
        "metalink",
        true,
        "A Metalink document a server sends: true downloads its files, mem without saving it, false saves it as a file.",
        |o, v| o.follow_metalink = match v {
            "true" => FollowMetalink::True,
            "mem" => FollowMetalink::Mem,
            "false" => FollowMetalink::False,
            _ =>
                return Err(format!(
                    "follow-metalink must be one of true, mem, false; got '{v}'"
                )),
        }
    ),
    opt!(
        "metalink-preferred-protocol",
        None,
        Value,
        "none",
        "metalink",
        true,
        "Try Metalink mirrors of this protocol first: http, https, ftp, none.",
        |o, v| o.metalink_preferred_protocol = match v {
            "http" => Some(MetalinkProtocol::Http),
            "https" => Some(MetalinkProtocol::Https),
            "ftp" => Some(MetalinkProtocol::Ftp),
            "none" => None,
            _ =>
                return Err(format!(
                    "metalink-preferred-protocol must be one of http, https, ftp, none; got '{v}'"
                )),
        }
    ),
    opt!(
        "metalink-language",
        None,
        Value,
        "",
        "metalink",
        true,
        "Download only the Metalink files in this language.",
        |o, v| o.metalink_language = nonempty(v)
    ),
    opt!(
        "metalink-location",
        None,
        Value,
        "",
        "metalink",
        true,
        "Try Metalink mirrors in these countries first (comma-separated codes: jp,us).",
        |o, v| o.metalink_location = parse_locations(v)?
    ),
    opt!(
        "metalink-os",
        None,
        Value,
        "",
        "metalink",
        true,
        "Download only the Metalink files for this operating system.",
        |o, v| o.metalink_os = nonempty(v)
    ),
    opt!(
        "metalink-version",
        None,
        Value,
        "",
        "metalink",
        true,
        "Download only the Metalink files of this version.",
        |o, v| o.metalink_version = nonempty(v)
    ),
    opt!(
        "metalink-base-uri",
        None,
        Value,
        "",
        "metalink",
        true,
        "Resolve relative URLs of a local Metalink document against this URI (end a directory with '/').",
        |o, v| o.metalink_base_uri = if v.is_empty() {
            None
        } else {
            Some(
                url::Url::parse(v)
                    .map_err(|e| format!("metalink-base-uri: '{v}' is not a URI: {e}"))?,
            )
        }
    ),
    opt!(
        "metalink-enable-unique-protocol",
        None,
        Bool,
        "true",
        "metalink",
        true,
        "Use one protocol per Metalink mirror host when it offers several.",
        |o, v| o.metalink_enable_unique_protocol = parse_bool(v)?
    ),
    opt!(
        "select-file",
        None,
        Value,
        "",
        "bittorrent,metalink",
        true,
        "Download only these files, by index from 1 as --show-files lists them (1,3-5).",
        |o, v| o.select_file = if v.is_empty() {
            None
        } else {
            Some(FileSelection::parse(v)?)
        }
    ),
    opt!(
        "show-files",
        Some('S'),
        Bool,
        "false",
        "basic,bittorrent,metalink",
        false,
        "List the files of a Metalink document with their indexes and sizes, then exit.",
        |o, v| o.show_files = parse_bool(v)?
    ),
    opt!(
        "realtime-chunk-checksum",
        None,
        Bool,
        "true",
        "metalink,checksum",
        true,
        "Verify Metalink piece hashes as the pieces arrive.",
        |o, v| o.realtime_chunk_checksum = parse_bool(v)?
    ),
    opt!(
        "check-integrity",
        Some('V'),
        Bool,
        "false",
        "basic,bittorrent,metalink,file,checksum",
        true,
        "Check an existing file against its piece hashes or whole-file hash; fetch only what fails.",
        |o, v| o.check_integrity = parse_bool(v)?
    ),
    opt!(
        "hash-check-only",
        None,
        Bool,
        "false",
        "advanced,bittorrent,metalink,file,checksum",
        true,
        "With -V, stop after the check whatever its result.",
        |o, v| o.hash_check_only = parse_bool(v)?
    ),
    opt!(
        "no-want-digest-header",
        None,
        Bool,
        "false",
        "http",
        true,
        "Do not send a Want-Digest header.",
        |o, v| o.no_want_digest_header = parse_bool(v)?
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ranges_like_aria2() {
        assert_eq!(parse_size("1K"), Ok(1024));
        assert_eq!(parse_size("20M"), Ok(20 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert!(parse_size("x").is_err());
        let mut o = Options::default();
        assert_eq!(
            o.set("max-connection-per-server", "65"),
            Err("max-connection-per-server must be between 1 and 64".into())
        );
        o.set("max-connection-per-server", "32").unwrap();
        assert_eq!(o.max_connection_per_server, 32);
        o.set("min-split-size", "64K").unwrap();
        assert_eq!(o.min_split_size, 64 << 10);
        assert!(o.set("no-such-thing", "1").is_err());
        assert!(o.set("continue", "maybe").is_err());
        o.set("continue", "").unwrap();
        assert!(o.continue_download);
    }

    #[test]
    fn metalink_options_check_their_values() {
        let mut o = Options::default();
        assert_eq!(o.follow_metalink, FollowMetalink::True);
        assert!(o.metalink_enable_unique_protocol && o.realtime_chunk_checksum);
        assert!(!o.check_integrity && !o.hash_check_only && !o.no_want_digest_header);
        o.set("follow-metalink", "mem").unwrap();
        assert_eq!(o.follow_metalink, FollowMetalink::Mem);
        assert_eq!(
            o.set("follow-metalink", "yes"),
            Err("follow-metalink must be one of true, mem, false; got 'yes'".into())
        );
        o.set("metalink-preferred-protocol", "https").unwrap();
        assert_eq!(o.metalink_preferred_protocol, Some(MetalinkProtocol::Https));
        o.set("metalink-preferred-protocol", "none").unwrap();
        assert_eq!(o.metalink_preferred_protocol, None);
        assert!(o.set("metalink-preferred-protocol", "gopher").is_err());
        o.set("metalink-location", "JP, us,,").unwrap();
        assert_eq!(o.metalink_location, ["jp", "us"]);
        assert_eq!(
            o.set("metalink-location", "jp,usa"),
            Err("metalink-location: 'usa' is not a two-letter country code".into())
        );
        o.set("metalink-base-uri", "http://h/dir/").unwrap();
        assert_eq!(
            o.metalink_base_uri.as_ref().unwrap().as_str(),
            "http://h/dir/"
        );
        assert!(o.set("metalink-base-uri", "relative/dir/").is_err());
        o.set("metalink-file", "-").unwrap();
        assert_eq!(o.metalink_file.as_deref(), Some("-"));
        assert_eq!(find_short('M').unwrap().name, "metalink-file");
        assert_eq!(find_short('S').unwrap().name, "show-files");
        assert_eq!(find_short('V').unwrap().name, "check-integrity");
    }

    #[test]
    fn dht_entry_points_are_names_or_addresses_of_their_family() {
        let mut o = Options::default();
        o.set("dht-entry-point", "127.0.0.1:6881").unwrap();
        let v4: SocketAddr = ([127, 0, 0, 1], 6881).into();
        assert_eq!(o.dht.entry_point, Some(v4.into()));
        o.set("dht-entry-point6", "::1:6882").unwrap();
        assert_eq!(
            o.dht.entry_point6.clone().unwrap().to_string(),
            "[::1]:6882"
        );
        o.set("dht-entry-point6", "[::1]:6882").unwrap();
        assert_eq!(
            o.dht.entry_point6.as_ref().unwrap().to_string(),
            "[::1]:6882"
        );
        o.set("dht-entry-point", "router.example:6881").unwrap();
        let named = o.dht.entry_point.clone().unwrap();
        assert_eq!(
            (named.host.as_str(), named.port, named.addr()),
            ("router.example", 6881, None)
        );
        assert!(o.set("dht-entry-point", "bad host:6881").is_err());
        assert!(o.set("dht-entry-point", "router.example").is_err());
        assert!(o.set("dht-entry-point", "[::1]:6881").is_err());
        assert!(o.set("dht-entry-point", "127.0.0.1:0").is_err());
        assert!(o.set("dht-message-timeout", "61").is_err());
        o.set("dht-entry-point", "").unwrap();
        assert_eq!(o.dht.entry_point, None);
    }

    #[test]
    fn listen_port_reads_lists_and_ranges_in_order() {
        assert_eq!(
            parse_ports("listen-port", "6890-6892, 6881,6891,0").unwrap(),
            vec![6890, 6891, 6892, 6881, 0]
        );
        assert_eq!(Options::default().listen_port.len(), 119);
        for bad in ["", "7-5", "65536", "x", "1-"] {
            assert!(parse_ports("listen-port", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn index_out_takes_index_path_pairs_that_stay_inside_the_dir() {
        let mut o = Options::default();
        o.set("index-out", "2=sub/b.bin").unwrap();
        o.set("index-out", "1=a").unwrap();
        o.set("index-out", "2=c").unwrap();
        assert_eq!(
            o.index_out,
            vec![(1, PathBuf::from("a")), (2, PathBuf::from("c"))]
        );
        for bad in [
            "",
            "2",
            "0=a",
            "x=a",
            "1=",
            "1=../a",
            "1=/etc/x",
            "1=a/../../b",
        ] {
            assert!(o.set("index-out", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seed_ratio_and_time_take_aria2s_numbers() {
        let mut o = Options::default();
        assert_eq!((o.seed_ratio, o.seed_time), (1.0, None));
        o.set("seed-ratio", "0.0").unwrap();
        o.set("seed-time", "1.5").unwrap();
        assert_eq!(
            (o.seed_ratio, o.seed_time),
            (0.0, Some(Duration::from_secs(90)))
        );
        assert!(o.set("seed-ratio", "-1").is_err());
        assert!(o.set("seed-ratio", "NaN").is_err());
        assert!(o.set("seed-time", "-0.5").is_err());
    }

    #[test]
    fn select_file_reads_aria2s_ranges() {
        let s = FileSelection::parse("5-6,1,,3-3,7").unwrap();
        let picked: Vec<usize> = (0..10).filter(|&i| s.contains(i)).collect();
        assert_eq!(picked, [1, 3, 5, 6, 7]);
        assert_eq!(s.max(), Some(7));
        // A backwards range selects nothing, as in aria2.
        let empty = FileSelection::parse("5-3").unwrap();
        assert_eq!((empty.contains(4), empty.max()), (false, None));
        assert_eq!(
            FileSelection::parse("0"),
            Err("select-file must be between 1 and 1048576".into())
        );
        assert!(FileSelection::parse("1048577").is_err());
        assert_eq!(
            FileSelection::parse("2-"),
            Err("select-file: incomplete range '2-'".into())
        );
        assert_eq!(
            FileSelection::parse("x"),
            Err("select-file: bad range 'x'".into())
        );
        let mut o = Options::default();
        o.set("select-file", "2,4").unwrap();
        assert!(
            o.select_file
                .as_ref()
                .is_some_and(|s| s.contains(4) && !s.contains(3))
        );
        o.set("select-file", "").unwrap();
        assert_eq!(o.select_file, None);
    }

    #[test]
    fn bt_prioritize_piece_reads_head_and_tail_with_aria2s_default_size() {
        let mut o = Options::default();
        o.set("bt-prioritize-piece", "head=300K,tail").unwrap();
        assert_eq!(
            o.bt_prioritize_piece,
            PrioritizePiece {
                head: 300 << 10,
                tail: 1 << 20
            }
        );
        assert!(o.set("bt-prioritize-piece", "middle").is_err());
        let p = |v| PrioritizePiece::parse(v);
        assert_eq!(
            p("head"),
            Ok(PrioritizePiece {
                head: 1 << 20,
                tail: 0
            })
        );
        assert_eq!(
            p("head=300K, tail"),
            Ok(PrioritizePiece {
                head: 300 << 10,
                tail: 1 << 20
            })
        );
        assert_eq!(p(""), Ok(PrioritizePiece::default()));
        assert!(p("middle").is_err() && p("tail=x").is_err());
        let mut o = Options::default();
        o.set("peer-id-prefix", "0123456789abcdefghijKLMN").unwrap();
        assert_eq!(o.peer_id_prefix, "0123456789abcdefghij");
        assert!(o.set("bt-external-ip", "example.com").is_err());
        assert!(o.set("bt-tracker-timeout", "0").is_err());
        assert!(o.set("bt-max-open-files", "0").is_err());
    }

    #[test]
    fn table_is_consistent() {
        let mut names = std::collections::HashSet::new();
        let mut shorts = std::collections::HashSet::new();
        for def in OPTIONS {
            assert!(names.insert(def.name), "{} twice", def.name);
            if let Some(c) = def.short {
                assert!(shorts.insert(c), "-{c} twice");
            }
            for tag in def.tag.split(',') {
                assert!(
                    [
                        "basic",
                        "advanced",
                        "http",
                        "https",
                        "ftp",
                        "metalink",
                        "bittorrent",
                        "cookie",
                        "hook",
                        "file",
                        "rpc",
                        "checksum",
                        "experimental",
                        "deprecated"
                    ]
                    .contains(&tag),
                    "{}: unknown tag {tag:?}",
                    def.name
                );
            }
            // Every documented default parses (except descriptive ones).
            if !def.default.is_empty()
                && !def.default.contains(" ")
                && !def.default.contains("VERSION")
                && !def.default.contains("/")
            {
                let mut o = Options::default();
                (def.apply)(&mut o, def.default).unwrap_or_else(|e| panic!("{}: {e}", def.name));
            }
        }
    }
}

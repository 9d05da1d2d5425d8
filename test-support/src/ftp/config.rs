//! What an FTP test server serves and how it misbehaves.

use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use super::tree;

/// Files, login rules and misbehaviours of an [`FtpServer`](crate::FtpServer).
///
/// By default the server accepts any user and password, starts each
/// session in `/`, supports `EPSV`, `PASV`, `PORT`, `EPRT`, `REST`,
/// `SIZE` and `MDTM`, and answers every command at once in one write.
///
/// ```
/// use std::time::Duration;
/// use swarmget_test_support::{FtpConfig, TestFile};
///
/// let config = FtpConfig::new()
///     .file("/pub/data.bin", TestFile::random(4096, 1))
///     .credentials("alice", "s3cret") // anyone else gets 530
///     .refuse_rest() // REST gets 502
///     .multiline_replies()
///     .split_replies(5, Duration::from_millis(2));
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct FtpConfig {
    pub(crate) files: HashMap<String, Arc<[u8]>>,
    pub(crate) home: String,
    pub(crate) credentials: Option<(String, String)>,
    pub(crate) refuse_rest: bool,
    pub(crate) reported_size: Option<u64>,
    pub(crate) refuse_epsv: bool,
    pub(crate) pasv_address: Option<Ipv4Addr>,
    pub(crate) pasv_target: Option<SocketAddrV4>,
    pub(crate) multiline: bool,
    pub(crate) split: Option<(usize, Duration)>,
    pub(crate) drop_data: Option<DropData>,
    pub(crate) hang: Option<Hang>,
    pub(crate) modified: u64,
    pub(crate) reply_first: bool,
}

/// Cut data connections short.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DropData {
    /// Bytes sent before the cut.
    pub(crate) after: u64,
    /// How many transfers to cut; `None`: all.
    pub(crate) times: Option<usize>,
}

/// Stop answering at a command.
#[derive(Clone, Debug)]
pub(crate) struct Hang {
    /// The verb, upper case.
    pub(crate) verb: String,
    /// Send the first line of a multi-line reply before going silent.
    pub(crate) mid_reply: bool,
}

impl Default for FtpConfig {
    fn default() -> FtpConfig {
        FtpConfig {
            files: HashMap::new(),
            home: "/".to_owned(),
            credentials: None,
            refuse_rest: false,
            reported_size: None,
            refuse_epsv: false,
            pasv_address: None,
            pasv_target: None,
            multiline: false,
            split: None,
            drop_data: None,
            hang: None,
            // 2024-01-02 03:04:05 UTC
            modified: 1_704_164_645,
            reply_first: false,
        }
    }
}

impl fmt::Debug for FtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut files: Vec<(&String, usize)> =
            self.files.iter().map(|(p, b)| (p, b.len())).collect();
        files.sort();
        f.debug_struct("FtpConfig")
            .field("files", &files)
            .field("home", &self.home)
            .field("credentials", &self.credentials.as_ref().map(|(u, _)| u))
            .field("refuse_rest", &self.refuse_rest)
            .field("reported_size", &self.reported_size)
            .field("refuse_epsv", &self.refuse_epsv)
            .field("pasv_address", &self.pasv_address)
            .field("pasv_target", &self.pasv_target)
            .field("multiline", &self.multiline)
            .field("split", &self.split)
            .field("drop_data", &self.drop_data)
            .field("hang", &self.hang)
            .field("modified", &self.modified)
            .finish()
    }
}

impl FtpConfig {
    /// A server with no files that behaves well.
    pub fn new() -> FtpConfig {
        FtpConfig::default()
    }

    /// Serve `bytes` at the absolute `path` (a leading `/` is added if
    /// missing); its directories exist implicitly.
    pub fn file(self, path: &str, bytes: Vec<u8>) -> FtpConfig {
        self.file_shared(path, bytes.into())
    }

    /// Serve shared `bytes` at `path`, without copying them.
    pub fn file_shared(mut self, path: &str, bytes: Arc<[u8]>) -> FtpConfig {
        self.files.insert(tree::resolve("/", path), bytes);
        self
    }

    /// The directory sessions start in and `PWD` reports (default `/`).
    /// [`FtpServer::url`](crate::FtpServer::url) paths are relative to it.
    pub fn home(mut self, dir: &str) -> FtpConfig {
        self.home = tree::resolve("/", dir);
        self
    }

    /// Accept only this user and password; anything else gets `530`.
    pub fn credentials(mut self, user: &str, password: &str) -> FtpConfig {
        self.credentials = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Answer `REST` with `502 REST not implemented`.
    pub fn refuse_rest(mut self) -> FtpConfig {
        self.refuse_rest = true;
        self
    }

    /// Answer `SIZE` with `size` for every file, whatever its real length.
    pub fn lie_about_size(mut self, size: u64) -> FtpConfig {
        self.reported_size = Some(size);
        self
    }

    /// Answer `EPSV` with `502`, as servers without RFC 2428 do.
    pub fn refuse_epsv(mut self) -> FtpConfig {
        self.refuse_epsv = true;
        self
    }

    /// Name `ip` in `227` replies to `PASV` (the listener stays on
    /// 127.0.0.1, so a client that connects there gets nothing). With
    /// [`refuse_epsv`](Self::refuse_epsv) this tests bounce protection.
    pub fn pasv_address(mut self, ip: Ipv4Addr) -> FtpConfig {
        self.pasv_address = Some(ip);
        self
    }

    /// Name `addr`, address and port, in `227` replies to `PASV`, in place of
    /// the server's own data listener. A test that holds a listener at `addr`
    /// (say on 127.0.0.2, another loopback address than the control
    /// connection's) sees whether a client follows a foreign reply, without
    /// any traffic leaving the machine.
    pub fn pasv_target(mut self, addr: SocketAddrV4) -> FtpConfig {
        self.pasv_target = Some(addr);
        self
    }

    /// Send every reply as a multi-line reply whose continuation lines look
    /// like reply lines (`227-and more`, ` 227 still not the end`) before the
    /// real end line. The first line keeps the reply's text.
    pub fn multiline_replies(mut self) -> FtpConfig {
        self.multiline = true;
        self
    }

    /// Write each reply in pieces of `piece` bytes, pausing `delay` between
    /// them, so clients see replies split across reads.
    pub fn split_replies(mut self, piece: usize, delay: Duration) -> FtpConfig {
        self.split = Some((piece.max(1), delay));
        self
    }

    /// Close every data connection after `bytes` bytes and report `426` on
    /// the control connection.
    pub fn drop_data_after(mut self, bytes: u64) -> FtpConfig {
        self.drop_data = Some(DropData {
            after: bytes,
            times: None,
        });
        self
    }

    /// As [`drop_data_after`](Self::drop_data_after), for the first `times`
    /// transfers only (counted across connections).
    pub fn drop_data_after_times(mut self, bytes: u64, times: usize) -> FtpConfig {
        self.drop_data = Some(DropData {
            after: bytes,
            times: Some(times),
        });
        self
    }

    /// Never answer `verb` (e.g. `"RETR"`), nor anything after it on that
    /// connection; the connection stays open until the client closes it.
    pub fn hang_on(mut self, verb: &str) -> FtpConfig {
        self.hang = Some(Hang {
            verb: verb.to_ascii_uppercase(),
            mid_reply: false,
        });
        self
    }

    /// Answer `verb` with the first line of a multi-line reply and never
    /// finish it.
    pub fn hang_mid_reply_on(mut self, verb: &str) -> FtpConfig {
        self.hang = Some(Hang {
            verb: verb.to_ascii_uppercase(),
            mid_reply: true,
        });
        self
    }

    /// Send each transfer's `226` before its data (which follows 50 ms later), so the
    /// client reads the final reply before the data it ends, as a fast server's often
    /// arrives first.
    pub fn reply_before_data(mut self) -> FtpConfig {
        self.reply_first = true;
        self
    }

    /// The modification time `MDTM` reports, in seconds since 1970
    /// (default 2024-01-02 03:04:05 UTC).
    pub fn modified(mut self, unix_seconds: u64) -> FtpConfig {
        self.modified = unix_seconds;
        self
    }
}

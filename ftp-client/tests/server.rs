//! The session driving real sockets against the in-process FTP server,
//! through a small blocking driver: whole files, segments on one reused
//! connection, active mode, and each of the server's misbehaviours.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant, SystemTime};

use swarmget_ftp_client::{
    Command, Config, Credentials, Event, FtpError, PassiveError, RemotePath, Session, UsageError,
};
use swarmget_test_support::{FtpConfig, FtpServer, TestFile};

const LEN: usize = 200_000;

fn data() -> Vec<u8> {
    TestFile::random(LEN, 33)
}

fn serve(config: FtpConfig) -> FtpServer {
    FtpServer::start(config.file("/pub/f.bin", data())).unwrap()
}

fn path() -> RemotePath {
    RemotePath::parse("pub/f.bin").unwrap()
}

/// How a retrieve should open its data connection.
#[derive(Clone, Copy)]
enum Mode {
    Passive,
    Active,
}

/// Moves bytes between a `Session` and real sockets, blocking.
struct Driver {
    session: Session,
    control: TcpStream,
}

impl Driver {
    fn connect(server: &FtpServer, config: Config) -> Driver {
        let control = TcpStream::connect(server.addr()).unwrap();
        let peer = control.peer_addr().unwrap().ip();
        Driver {
            session: Session::new(config, peer, Instant::now()),
            control,
        }
    }

    fn logged_in(server: &FtpServer) -> Driver {
        let mut driver = Driver::connect(server, Config::default());
        assert_eq!(driver.next_event(), Event::LoggedIn);
        driver
    }

    fn flush(&mut self) {
        while let Some(line) = self.session.poll_transmit() {
            self.control.write_all(&line).unwrap();
        }
    }

    /// The next event, reading the control connection (and honouring the
    /// session's deadline) until there is one.
    fn next_event(&mut self) -> Event {
        loop {
            self.flush();
            if let Some(event) = self.session.poll_event() {
                return event;
            }
            let wait = match self.session.poll_timeout() {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(5),
            };
            self.control
                .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
                .unwrap();
            let mut buf = [0u8; 4096];
            match self.control.read(&mut buf) {
                Ok(0) => self.session.connection_closed(Instant::now()),
                Ok(n) => self.session.handle_input(&buf[..n], Instant::now()),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    assert!(
                        self.session.poll_timeout().is_some(),
                        "nothing arrived in 5 s and nothing was due"
                    );
                    self.session.handle_timeout(Instant::now());
                }
                Err(e) => panic!("control connection: {e}"),
            }
        }
    }

    /// Downloads `path` from `offset`, at most `limit` bytes (then aborts,
    /// as a finished segment does). Returns the bytes and the final event.
    fn retrieve(
        &mut self,
        path: &RemotePath,
        offset: u64,
        limit: Option<usize>,
        mode: Mode,
    ) -> (Vec<u8>, Event) {
        let now = Instant::now();
        let listener = match mode {
            Mode::Passive => {
                self.session.retrieve(path, offset, now).unwrap();
                None
            }
            Mode::Active => {
                let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
                let local = SocketAddr::new(
                    self.control.local_addr().unwrap().ip(),
                    listener.local_addr().unwrap().port(),
                );
                self.session
                    .retrieve_active(path, offset, local, now)
                    .unwrap();
                Some(listener)
            }
        };
        let mut data_conn = None;
        let mut bytes = Vec::new();
        loop {
            match self.next_event() {
                Event::ConnectData(addr) => {
                    data_conn = Some(TcpStream::connect(addr).unwrap());
                    self.session.data_connected(Instant::now()).unwrap();
                }
                Event::AcceptData => {}
                Event::TransferStarted { .. } => {
                    let mut conn = match (data_conn.take(), &listener) {
                        (Some(conn), _) => conn,
                        (None, Some(listener)) => {
                            let (conn, from) = listener.accept().unwrap();
                            assert_eq!(from.ip(), self.session.peer());
                            conn
                        }
                        (None, None) => panic!("transfer without a data connection"),
                    };
                    let limit = limit.unwrap_or(usize::MAX);
                    let mut buf = vec![0u8; 16 * 1024];
                    while bytes.len() < limit {
                        let want = buf.len().min(limit - bytes.len());
                        match conn.read(&mut buf[..want]) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => bytes.extend_from_slice(&buf[..n]),
                        }
                    }
                    // The server's final reply may have been read with
                    // the 150: then the transfer is over, its final event
                    // queued, and there is nothing to report or abort.
                    let now = Instant::now();
                    let reported = if bytes.len() >= limit {
                        drop(conn);
                        self.session.abort(now)
                    } else {
                        self.session.data_finished(now)
                    };
                    match reported {
                        Ok(()) => {}
                        Err(UsageError::NoTransfer | UsageError::NothingToAbort) => {
                            assert!(self.session.is_idle() || self.session.is_closed());
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                event => return (bytes, event),
            }
        }
    }
}

#[test]
fn whole_file_then_segments_on_one_connection() {
    let big = TestFile::random(16 << 20, 34);
    let server = serve(FtpConfig::new().file("/pub/big.bin", big.clone()));
    let mut ftp = Driver::logged_in(&server);
    let now = Instant::now();
    ftp.session.size(&path(), now).unwrap();
    assert_eq!(ftp.next_event(), Event::Size(LEN as u64));
    ftp.session.modification_time(&path(), now).unwrap();
    assert_eq!(
        ftp.next_event(),
        Event::ModificationTime(SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_164_645))
    );

    let (bytes, end) = ftp.retrieve(&path(), 0, None, Mode::Passive);
    assert_eq!(end, Event::TransferComplete);
    assert_eq!(bytes, data());

    // Segments of a file larger than the socket buffers, so the server is
    // still sending when the client stops: each ends with ABOR.
    let big_path = RemotePath::parse("pub/big.bin").unwrap();
    for (start, len) in [(1000usize, 5000usize), (0, 100), (8 << 20, 20_000)] {
        let (bytes, end) = ftp.retrieve(&big_path, start as u64, Some(len), Mode::Passive);
        assert_eq!(end, Event::Aborted, "segment at {start}");
        assert_eq!(bytes, &big[start..start + len]);
    }
    let tail = big.len() - 10_000;
    let (bytes, end) = ftp.retrieve(&big_path, tail as u64, None, Mode::Passive);
    assert_eq!(end, Event::TransferComplete);
    assert_eq!(bytes, &big[tail..]);

    ftp.session.quit(Instant::now()).unwrap();
    assert_eq!(ftp.next_event(), Event::Closed);
    assert_eq!(
        server.connections(),
        1,
        "one control connection for everything"
    );
    let lines = server.command_lines();
    assert!(lines.contains(&format!("REST {}", 8 << 20)), "{lines:?}");
    assert_eq!(
        lines.iter().filter(|l| *l == "ABOR").count(),
        3,
        "{lines:?}"
    );
    assert_eq!(
        lines.iter().filter(|l| *l == "CWD pub").count(),
        1,
        "{lines:?}"
    );
}

#[test]
fn active_mode_downloads() {
    let server = serve(FtpConfig::new());
    let mut ftp = Driver::logged_in(&server);
    let (bytes, end) = ftp.retrieve(&path(), 0, None, Mode::Active);
    assert_eq!((bytes.len(), end), (LEN, Event::TransferComplete));
    let (bytes, end) = ftp.retrieve(&path(), 100_000, None, Mode::Active);
    assert_eq!(end, Event::TransferComplete);
    assert_eq!(bytes, &data()[100_000..]);
    assert!(
        server
            .command_lines()
            .iter()
            .any(|l| l.starts_with("PORT 127,0,0,1,"))
    );
}

#[test]
fn split_multiline_replies_and_pasv_fallback() {
    let server = serve(
        FtpConfig::new()
            .multiline_replies()
            .split_replies(5, Duration::from_millis(1))
            .refuse_epsv(),
    );
    let mut ftp = Driver::logged_in(&server);
    let (bytes, end) = ftp.retrieve(&path(), 7, None, Mode::Passive);
    assert_eq!(end, Event::TransferComplete);
    assert_eq!(bytes, &data()[7..]);
    let lines = server.command_lines();
    assert_eq!(
        lines,
        [
            "USER anonymous",
            "PASS ARIA2USER@",
            "TYPE I",
            "PWD",
            "CWD pub",
            "EPSV",
            "PASV",
            "REST 7",
            "RETR f.bin"
        ]
    );
}

#[test]
fn a_foreign_pasv_address_is_never_connected_to() {
    let server = serve(
        FtpConfig::new()
            .refuse_epsv()
            .pasv_address(Ipv4Addr::new(10, 0, 0, 1)),
    );
    let mut ftp = Driver::logged_in(&server);
    let (bytes, end) = ftp.retrieve(&path(), 0, None, Mode::Passive);
    assert!(bytes.is_empty());
    match end {
        Event::Error(FtpError::BadPassiveReply {
            error: PassiveError::ForeignAddress { offered, .. },
            ..
        }) => assert_eq!(offered.ip(), &Ipv4Addr::new(10, 0, 0, 1)),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.data_connections(), 0);
    // The session is still good for other things.
    ftp.session.size(&path(), Instant::now()).unwrap();
    assert_eq!(ftp.next_event(), Event::Size(LEN as u64));
}

#[test]
fn server_refusals() {
    // No REST: resuming fails, a download from 0 works.
    let server = serve(FtpConfig::new().refuse_rest());
    let mut ftp = Driver::logged_in(&server);
    let (_, end) = ftp.retrieve(&path(), 10, None, Mode::Passive);
    assert!(
        matches!(end, Event::Error(FtpError::RestartUnsupported(_))),
        "{end:?}"
    );
    let (bytes, end) = ftp.retrieve(&path(), 0, None, Mode::Passive);
    assert_eq!((bytes.len(), end), (LEN, Event::TransferComplete));

    // Missing file and directory.
    let (_, end) = ftp.retrieve(
        &RemotePath::parse("pub/nope").unwrap(),
        0,
        None,
        Mode::Passive,
    );
    assert!(
        matches!(&end, Event::Error(e @ FtpError::NotFound { command: Command::Retr, .. }) if !e.is_retryable()),
        "{end:?}"
    );
    let (_, end) = ftp.retrieve(
        &RemotePath::parse("nope/f").unwrap(),
        0,
        None,
        Mode::Passive,
    );
    assert!(
        matches!(
            end,
            Event::Error(FtpError::NotFound {
                command: Command::Cwd,
                ..
            })
        ),
        "{end:?}"
    );
    // After a failed CWD the session finds its way back.
    let (bytes, _) = ftp.retrieve(&path(), 0, None, Mode::Passive);
    assert_eq!(bytes.len(), LEN);

    // A lying SIZE is reported as said; the data tells the truth.
    let server = serve(FtpConfig::new().lie_about_size(5));
    let mut ftp = Driver::logged_in(&server);
    ftp.session.size(&path(), Instant::now()).unwrap();
    assert_eq!(ftp.next_event(), Event::Size(5));
    let (bytes, _) = ftp.retrieve(&path(), 0, None, Mode::Passive);
    assert_eq!(bytes.len(), LEN);
}

#[test]
fn logins() {
    let server = serve(FtpConfig::new().credentials("alice", "s3cret"));
    let mut ftp = Driver::connect(&server, Config::default());
    assert!(matches!(ftp.next_event(), Event::Error(FtpError::LoginFailed(r)) if r.code() == 530));
    assert_eq!(ftp.next_event(), Event::Closed);

    let mut config = Config::default();
    config.credentials = Credentials::new("alice", "s3cret").unwrap();
    let mut ftp = Driver::connect(&server, config);
    assert_eq!(ftp.next_event(), Event::LoggedIn);
}

#[test]
fn dropped_data_connections() {
    let server = serve(FtpConfig::new().drop_data_after_times(3000, 1));
    let mut ftp = Driver::logged_in(&server);
    let (bytes, end) = ftp.retrieve(&path(), 0, None, Mode::Passive);
    assert_eq!(bytes, &data()[..3000]);
    assert!(
        matches!(&end, Event::Error(e @ FtpError::TransferFailed(r)) if r.code() == 426 && e.is_retryable()),
        "{end:?}"
    );
    // Resume where it stopped, on the same connection.
    let (bytes, end) = ftp.retrieve(&path(), 3000, None, Mode::Passive);
    assert_eq!(end, Event::TransferComplete);
    assert_eq!(bytes, &data()[3000..]);
}

#[test]
fn silent_servers_time_out() {
    let mut config = Config::default();
    config.reply_timeout = Duration::from_millis(150);
    for (server, command) in [
        (serve(FtpConfig::new().hang_on("RETR")), Command::Retr),
        (
            serve(FtpConfig::new().hang_mid_reply_on("CWD")),
            Command::Cwd,
        ),
    ] {
        let mut ftp = Driver::connect(&server, config.clone());
        assert_eq!(ftp.next_event(), Event::LoggedIn);
        let started = Instant::now();
        let (_, end) = ftp.retrieve(&path(), 0, None, Mode::Passive);
        assert_eq!(
            end,
            Event::Error(FtpError::Timeout {
                command: Some(command),
                after: config.reply_timeout
            })
        );
        assert!(started.elapsed() >= config.reply_timeout);
        assert_eq!(ftp.next_event(), Event::Closed);
    }
}

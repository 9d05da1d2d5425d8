//! The session state machine against scripted servers: a full download with
//! connection reuse (fed whole, byte by byte and in odd pieces), each reply
//! code's error, passive and active mode, aborts, timeouts and misuse.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use swarmget_ftp_client::{
    Command, Config, Credentials, Event, FtpError, PassiveError, PasvAddressPolicy, RemotePath,
    Reply, ReplyError, Session, TransferType, UsageError,
};

const PEER: &str = "192.0.2.7";

/// A session plus a clock, feeding server bytes in pieces of `piece` bytes.
struct Script {
    session: Session,
    now: Instant,
    piece: usize,
}

impl Script {
    fn new(config: Config, piece: usize) -> Script {
        let now = Instant::now();
        Script {
            session: Session::new(config, PEER.parse().unwrap(), now),
            now,
            piece,
        }
    }

    /// The server sends `bytes`.
    fn server(&mut self, bytes: &str) {
        for chunk in bytes.as_bytes().chunks(self.piece) {
            self.session.handle_input(chunk, self.now);
        }
    }

    /// Asserts the client sent exactly `lines` since the last check.
    fn sent(&mut self, lines: &[&str]) {
        let mut got = Vec::new();
        while let Some(line) = self.session.poll_transmit() {
            got.push(String::from_utf8(line).unwrap());
        }
        let want: Vec<String> = lines.iter().map(|l| format!("{l}\r\n")).collect();
        assert_eq!(got, want, "commands sent");
    }

    /// Asserts the session reported exactly `events` since the last check.
    fn events(&mut self, events: &[Event]) {
        let mut got = Vec::new();
        while let Some(event) = self.session.poll_event() {
            got.push(event);
        }
        assert_eq!(got, events, "events");
    }

    fn nothing(&mut self) {
        self.sent(&[]);
        self.events(&[]);
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.session.handle_timeout(self.now);
    }

    /// Greeting through PWD with the default anonymous login.
    fn login(&mut self) {
        self.server("220 Welcome\r\n");
        self.sent(&["USER anonymous"]);
        self.server("331 Send password\r\n");
        self.sent(&["PASS ARIA2USER@"]);
        self.server("230 Logged in\r\n");
        self.sent(&["TYPE I"]);
        self.server("200 Type set to I\r\n");
        self.sent(&["PWD"]);
        self.server("257 \"/home/ftp\" is the current directory\r\n");
        self.events(&[Event::LoggedIn]);
        self.nothing();
        assert!(self.session.is_idle());
    }

    fn logged_in() -> Script {
        let mut script = Script::new(Config::default(), usize::MAX);
        script.login();
        script
    }

    fn error(&mut self, error: FtpError) {
        self.events(&[Event::Error(error)]);
        assert!(
            self.session.is_idle(),
            "an operation's failure leaves the session idle"
        );
    }

    fn fatal(&mut self, error: FtpError) {
        self.events(&[Event::Error(error), Event::Closed]);
        assert!(self.session.is_closed());
        assert_eq!(self.session.poll_timeout(), None);
    }

    fn retrieve(&mut self, path: &str, offset: u64) {
        let now = self.now;
        self.session.retrieve(&path_of(path), offset, now).unwrap();
    }

    fn data_connected(&mut self) {
        let now = self.now;
        self.session.data_connected(now).unwrap();
    }

    fn data_finished(&mut self) {
        let now = self.now;
        self.session.data_finished(now).unwrap();
    }

    fn abort(&mut self) {
        let now = self.now;
        self.session.abort(now).unwrap();
    }
}

fn path_of(path: &str) -> RemotePath {
    RemotePath::parse(path).unwrap()
}

fn data_at(port: u16) -> Event {
    Event::ConnectData(SocketAddr::new(PEER.parse().unwrap(), port))
}

fn reply(code: u16, text: &str) -> Reply {
    Reply::new(code, text)
}

fn full_session(piece: usize) {
    let mut s = Script::new(Config::default(), piece);
    // A multi-line greeting whose lines look like codes.
    s.server("220-Welcome to the test server\r\n220-\r\n 220 not the end\r\n220 Ready\r\n");
    s.sent(&["USER anonymous"]);
    s.server("331 Please specify the password.\r\n");
    s.sent(&["PASS ARIA2USER@"]);
    s.server("230-Login successful.\r\n230-Be nice.\r\n230 \r\n");
    s.sent(&["TYPE I"]);
    s.server("200 Switching to Binary mode.\r\n");
    s.sent(&["PWD"]);
    s.server("257 \"/\" is the current directory\r\n");
    s.events(&[Event::LoggedIn]);
    assert_eq!(s.session.home_directory(), Some(&b"/"[..]));

    let now = s.now;
    s.session.size(&path_of("pub/big.iso"), now).unwrap();
    s.sent(&["CWD pub"]);
    s.server("250 Directory successfully changed.\r\n");
    s.sent(&["SIZE big.iso"]);
    s.server("213 3000000\r\n");
    s.events(&[Event::Size(3_000_000)]);

    // First segment from 0: no REST, EPSV, RETR once connected.
    s.retrieve("pub/big.iso", 0);
    s.sent(&["EPSV"]);
    s.server("229 Entering Extended Passive Mode (|||40001|)\r\n");
    s.events(&[data_at(40001)]);
    s.nothing();
    s.data_connected();
    s.sent(&["RETR big.iso"]);
    s.server("150 Opening BINARY mode data connection for big.iso (3000000 bytes).\r\n");
    s.events(&[Event::TransferStarted {
        announced_size: Some(3_000_000),
    }]);
    assert_eq!(
        s.session.poll_timeout(),
        None,
        "a running transfer is not timed"
    );
    s.server("226 Transfer complete.\r\n");
    s.nothing();
    s.data_finished();
    s.events(&[Event::TransferComplete]);
    assert!(s.session.is_idle());

    // The next segment on the same session: REST goes out while the data
    // connection opens, RETR once both are done.
    s.retrieve("pub/big.iso", 1_000_000);
    s.sent(&["EPSV"]);
    s.server("229 Entering Extended Passive Mode (|||40002|)\r\n");
    s.events(&[data_at(40002)]);
    s.sent(&["REST 1000000"]);
    s.server("350 Restart position accepted (1000000).\r\n");
    s.nothing();
    s.data_connected();
    s.sent(&["RETR big.iso"]);
    s.server("150 Opening BINARY mode data connection.\r\n");
    s.events(&[Event::TransferStarted {
        announced_size: None,
    }]);
    // The segment is complete before the file ends: close early, ABOR.
    s.abort();
    s.sent(&["ABOR"]);
    s.server("426 Failure writing network stream.\r\n");
    s.nothing();
    s.server("226 ABOR successful.\r\n");
    s.events(&[Event::Aborted]);
    assert!(s.session.is_idle());

    // And a third, the other way round: data ends before the 226.
    s.retrieve("pub/big.iso", 2_000_000);
    s.sent(&["EPSV"]);
    s.server("229 Entering Extended Passive Mode (|||40003|)\r\n");
    s.events(&[data_at(40003)]);
    s.sent(&["REST 2000000"]);
    s.data_connected();
    s.nothing();
    s.server("350 Restarting at 2000000.\r\n");
    s.sent(&["RETR big.iso"]);
    s.server("150 Here it comes\r\n");
    s.events(&[Event::TransferStarted {
        announced_size: None,
    }]);
    s.data_finished();
    s.nothing();
    assert!(s.session.poll_timeout().is_some(), "the 226 is now due");
    s.server("226 Transfer complete.\r\n");
    s.events(&[Event::TransferComplete]);

    let now = s.now;
    s.session.quit(now).unwrap();
    s.sent(&["QUIT"]);
    s.server("221 Goodbye.\r\n");
    s.events(&[Event::Closed]);
    assert!(s.session.is_closed());
}

#[test]
fn full_session_with_reuse_whole_and_split() {
    for piece in [usize::MAX, 1, 2, 3, 7, 64] {
        full_session(piece);
    }
}

#[test]
fn replies_arriving_together_are_taken_in_order() {
    // Each reply answers the command queued by the one before it.
    let mut s = Script::new(Config::default(), usize::MAX);
    s.server("220 hi\r\n331 pw\r\n230 ok\r\n200 binary\r\n257 \"/\"\r\n");
    s.sent(&["USER anonymous", "PASS ARIA2USER@", "TYPE I", "PWD"]);
    s.events(&[Event::LoggedIn]);
}

#[test]
fn login_variants() {
    // 230 straight after USER: no PASS. "120" first: wait for the 220.
    let mut config = Config::default();
    config.credentials = Credentials::new("alice", "s3cret").unwrap();
    config.transfer_type = TransferType::Ascii;
    let mut s = Script::new(config, usize::MAX);
    s.server("120 Ready in 1 minute\r\n");
    s.nothing();
    s.server("220 Ready\r\n");
    s.sent(&["USER alice"]);
    s.server("230 No password needed\r\n");
    s.sent(&["TYPE A"]);
    s.server("200 ok\r\n");
    s.sent(&["PWD"]);
    s.server("257 \"/home/al\"\"ice\" is cwd\r\n");
    s.events(&[Event::LoggedIn]);
    assert_eq!(s.session.home_directory(), Some(&b"/home/al\"ice"[..]));

    // PASS answered 202 (not needed) also logs in.
    let mut s = Script::new(Config::default(), usize::MAX);
    s.server("220 Ready\r\n");
    s.sent(&["USER anonymous"]);
    s.server("331 pw\r\n");
    s.sent(&["PASS ARIA2USER@"]);
    s.server("202 Superfluous\r\n");
    s.sent(&["TYPE I"]);
}

#[test]
fn login_failures_close_the_session() {
    struct Case {
        script: &'static [&'static str],
        error: FtpError,
    }
    let cases = [
        Case {
            script: &["421 Too many users\r\n"],
            error: FtpError::ServiceClosing(reply(421, "Too many users")),
        },
        Case {
            script: &["530 Not allowed\r\n"],
            error: FtpError::GreetingRefused(reply(530, "Not allowed")),
        },
        Case {
            script: &["230 Already in\r\n"],
            error: FtpError::UnexpectedReply {
                command: None,
                reply: reply(230, "Already in"),
            },
        },
        Case {
            script: &["220 hi\r\n", "530 No anonymous\r\n"],
            error: FtpError::LoginFailed(reply(530, "No anonymous")),
        },
        Case {
            script: &["220 hi\r\n", "331 pw\r\n", "530 Login incorrect.\r\n"],
            error: FtpError::LoginFailed(reply(530, "Login incorrect.")),
        },
        Case {
            script: &["220 hi\r\n", "331 pw\r\n", "332 Need account\r\n"],
            error: FtpError::AccountRequired(reply(332, "Need account")),
        },
        Case {
            script: &["220 hi\r\n", "331 pw\r\n", "421 Timeout\r\n"],
            error: FtpError::ServiceClosing(reply(421, "Timeout")),
        },
        Case {
            script: &["220 hi\r\n", "331 pw\r\n", "150 what\r\n"],
            error: FtpError::UnexpectedReply {
                command: Some(Command::Pass),
                reply: reply(150, "what"),
            },
        },
        Case {
            script: &["220 hi\r\n", "230 in\r\n", "504 No such type\r\n"],
            error: FtpError::CommandFailed {
                command: Command::Type,
                reply: reply(504, "No such type"),
            },
        },
        Case {
            script: &[
                "220 hi\r\n",
                "230 in\r\n",
                "200 ok\r\n",
                "257 /no/quotes\r\n",
            ],
            error: FtpError::BadReplyText {
                command: Command::Pwd,
                reply: reply(257, "/no/quotes"),
            },
        },
        // A directory that would smuggle a command into a later CWD.
        Case {
            script: &[
                "220 hi\r\n",
                "230 in\r\n",
                "200 ok\r\n",
                "257 \"/x\rDELE y\"\r\n",
            ],
            error: FtpError::BadReplyText {
                command: Command::Pwd,
                reply: reply(257, "\"/x\rDELE y\""),
            },
        },
        Case {
            script: &[
                "220 hi\r\n",
                "230 in\r\n",
                "200 ok\r\n",
                "550 PWD not allowed\r\n",
            ],
            error: FtpError::CommandFailed {
                command: Command::Pwd,
                reply: reply(550, "PWD not allowed"),
            },
        },
        Case {
            script: &["220 hi\r\n", "HTTP/1.1 400 Bad Request\r\n"],
            error: FtpError::MalformedReply(ReplyError::InvalidCode { offset: 0 }),
        },
    ];
    for case in cases {
        let mut s = Script::new(Config::default(), usize::MAX);
        for line in case.script {
            s.server(line);
        }
        while s.session.poll_transmit().is_some() {}
        s.fatal(case.error.clone());
        // Nothing more happens once closed.
        s.server("220 again\r\n");
        s.nothing();
        let now = s.now;
        assert_eq!(s.session.size(&path_of("f"), now), Err(UsageError::Closed));
    }
}

#[test]
fn operation_errors_leave_the_session_usable() {
    let not_found = |command| FtpError::NotFound {
        command,
        reply: reply(550, "No such file or directory."),
    };

    // CWD 550: not found; the next operation starts from the login directory.
    let mut s = Script::logged_in();
    s.retrieve("missing/f", 0);
    s.sent(&["CWD missing"]);
    s.server("550 No such file or directory.\r\n");
    s.error(not_found(Command::Cwd));
    assert!(not_found(Command::Cwd).is_not_found());
    s.retrieve("f", 0);
    s.sent(&["CWD /home/ftp"]);
    s.server("250 ok\r\n");
    s.sent(&["EPSV"]);

    // RETR replies before any data flows.
    let retr_failures = [
        (
            "550 No such file or directory.",
            not_found(Command::Retr),
            false,
        ),
        (
            "425 Can't open data connection.",
            FtpError::DataConnectionFailed(reply(425, "Can't open data connection.")),
            true,
        ),
        (
            "426 Connection closed; transfer aborted.",
            FtpError::TransferFailed(reply(426, "Connection closed; transfer aborted.")),
            true,
        ),
        (
            "450 File busy.",
            FtpError::CommandFailed {
                command: Command::Retr,
                reply: reply(450, "File busy."),
            },
            true,
        ),
        (
            "553 Not allowed.",
            FtpError::CommandFailed {
                command: Command::Retr,
                reply: reply(553, "Not allowed."),
            },
            false,
        ),
    ];
    for (line, error, retryable) in retr_failures {
        let mut s = Script::logged_in();
        s.retrieve("f", 0);
        s.sent(&["EPSV"]);
        s.server("229 ok (|||5000|)\r\n");
        s.events(&[data_at(5000)]);
        s.data_connected();
        s.sent(&["RETR f"]);
        s.server(&format!("{line}\r\n"));
        assert_eq!(error.is_retryable(), retryable, "{line}");
        s.error(error);
        // Usable again.
        s.retrieve("f", 0);
        s.sent(&["EPSV"]);
    }

    // A transfer that fails after it started.
    let mut s = Script::logged_in();
    s.retrieve("f", 0);
    s.sent(&["EPSV"]);
    s.server("229 ok (|||5000|)\r\n");
    s.events(&[data_at(5000)]);
    s.data_connected();
    s.sent(&["RETR f"]);
    s.server("150 go\r\n451 Local error in processing.\r\n");
    s.events(&[
        Event::TransferStarted {
            announced_size: None,
        },
        Event::Error(FtpError::TransferFailed(reply(
            451,
            "Local error in processing.",
        ))),
    ]);
    assert_eq!(
        s.session.data_finished(s.now),
        Err(UsageError::NoTransfer),
        "the transfer is over"
    );
}

#[test]
fn rest_refused() {
    let mut s = Script::logged_in();
    s.retrieve("f", 100);
    s.sent(&["EPSV"]);
    s.server("229 ok (|||5000|)\r\n");
    s.events(&[data_at(5000)]);
    s.sent(&["REST 100"]);
    s.server("502 REST not implemented.\r\n");
    s.error(FtpError::RestartUnsupported(reply(
        502,
        "REST not implemented.",
    )));
    assert!(!FtpError::RestartUnsupported(reply(502, "")).is_retryable());
}

#[test]
fn an_offset_left_on_the_server_is_cleared() {
    // REST accepted, then the retrieve is abandoned before RETR: the server
    // still holds offset 100, so the next download from 0 says REST 0.
    let mut s = Script::logged_in();
    s.retrieve("f", 100);
    s.sent(&["EPSV"]);
    s.server("229 ok (|||5000|)\r\n");
    s.events(&[data_at(5000)]);
    s.sent(&["REST 100"]);
    s.abort();
    s.nothing();
    s.server("350 Restarting at 100\r\n");
    s.events(&[Event::Aborted]);
    s.retrieve("f", 0);
    s.sent(&["EPSV"]);
    s.server("229 ok (|||5001|)\r\n");
    s.events(&[data_at(5001)]);
    s.sent(&["REST 0"]);
    s.server("350 Restarting at 0\r\n");
    s.data_connected();
    s.sent(&["RETR f"]);
    s.server("150 go\r\n226 done\r\n");
    s.data_finished();
    s.events(&[
        Event::TransferStarted {
            announced_size: None,
        },
        Event::TransferComplete,
    ]);
    // RETR consumed it: no REST any more.
    s.retrieve("f", 0);
    s.sent(&["EPSV"]);
    s.server("229 ok (|||5002|)\r\n");
    s.events(&[data_at(5002)]);
    s.nothing();
}

#[test]
fn epsv_falls_back_to_pasv_once_and_for_all() {
    for refusal in [
        "500 'EPSV': command not understood.",
        "502 Not implemented",
        "522 Use (1)",
    ] {
        let mut s = Script::logged_in();
        s.retrieve("f", 0);
        s.sent(&["EPSV"]);
        s.server(&format!("{refusal}\r\n"));
        s.sent(&["PASV"]);
        s.server("227 Entering Passive Mode (192,0,2,7,156,64).\r\n");
        s.events(&[data_at(40000)]);
        s.data_connected();
        s.sent(&["RETR f"]);
        s.server("150 go\r\n226 done\r\n");
        s.data_finished();
        s.events(&[
            Event::TransferStarted {
                announced_size: None,
            },
            Event::TransferComplete,
        ]);
        s.retrieve("f", 0);
        s.sent(&["PASV"]);
    }

    // try_epsv = false: PASV from the start.
    let mut config = Config::default();
    config.try_epsv = false;
    let mut s = Script::new(config, usize::MAX);
    s.login();
    s.retrieve("f", 0);
    s.sent(&["PASV"]);
}

#[test]
fn passive_failures() {
    let cases: [(&[&str], FtpError); 6] = [
        (
            &["425 Cannot open passive connection"],
            FtpError::PassiveRefused(reply(425, "Cannot open passive connection")),
        ),
        (
            &["502 no", "500 PASV not understood"],
            FtpError::PassiveRefused(reply(500, "PASV not understood")),
        ),
        (
            &["229 Entering Extended Passive Mode (|||70000|)"],
            FtpError::BadPassiveReply {
                reply: reply(229, "Entering Extended Passive Mode (|||70000|)"),
                error: PassiveError::PortOutOfRange { offset: 35 },
            },
        ),
        (
            &["502 no", "227 Entering Passive Mode"],
            FtpError::BadPassiveReply {
                reply: reply(227, "Entering Passive Mode"),
                error: PassiveError::NoAddress,
            },
        ),
        // FTP bounce: the server names another host. Never connected to.
        (
            &["502 no", "227 Entering Passive Mode (10,0,0,1,4,1)"],
            FtpError::BadPassiveReply {
                reply: reply(227, "Entering Passive Mode (10,0,0,1,4,1)"),
                error: PassiveError::ForeignAddress {
                    offered: "10.0.0.1:1025".parse().unwrap(),
                    peer: PEER.parse().unwrap(),
                },
            },
        ),
        // A 227 to EPSV is not what was asked.
        (
            &["227 Entering Passive Mode (192,0,2,7,4,1)"],
            FtpError::UnexpectedReply {
                command: Some(Command::Epsv),
                reply: reply(227, "Entering Passive Mode (192,0,2,7,4,1)"),
            },
        ),
    ];
    for (replies, error) in cases {
        let mut s = Script::logged_in();
        s.retrieve("f", 0);
        for line in replies {
            s.server(&format!("{line}\r\n"));
        }
        while s.session.poll_transmit().is_some() {}
        if matches!(error, FtpError::UnexpectedReply { .. }) {
            s.fatal(error);
        } else {
            s.error(error);
        }
    }
}

#[test]
fn foreign_pasv_address_allowed_by_policy() {
    for (policy, expected) in [
        (PasvAddressPolicy::UsePeerAddress, data_at(1025)),
        (
            PasvAddressPolicy::TrustReply,
            Event::ConnectData("10.0.0.1:1025".parse().unwrap()),
        ),
    ] {
        let mut config = Config::default();
        config.try_epsv = false;
        config.pasv_address = policy;
        let mut s = Script::new(config, usize::MAX);
        s.login();
        s.retrieve("f", 0);
        s.sent(&["PASV"]);
        s.server("227 Entering Passive Mode (10,0,0,1,4,1)\r\n");
        s.events(&[expected]);
    }
}

#[test]
fn size_and_modification_time() {
    let mut s = Script::logged_in();
    let cases = [
        ("213 1234", Event::Size(1234)),
        ("213 12 34", Event::SizeUnavailable(reply(213, "12 34"))),
        ("213 -5", Event::SizeUnavailable(reply(213, "-5"))),
        (
            "550 Could not get file size.",
            Event::SizeUnavailable(reply(550, "Could not get file size.")),
        ),
        (
            "502 SIZE not implemented",
            Event::SizeUnavailable(reply(502, "SIZE not implemented")),
        ),
    ];
    for (line, event) in cases {
        let now = s.now;
        s.session.size(&path_of("f"), now).unwrap();
        s.sent(&["SIZE f"]);
        s.server(&format!("{line}\r\n"));
        s.events(&[event]);
    }
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_164_645);
    let cases = [
        ("213 20240102030405", Event::ModificationTime(time)),
        (
            "213 2024-01-02",
            Event::ModificationTimeUnavailable(reply(213, "2024-01-02")),
        ),
        (
            "550 No",
            Event::ModificationTimeUnavailable(reply(550, "No")),
        ),
    ];
    for (line, event) in cases {
        let now = s.now;
        s.session.modification_time(&path_of("f"), now).unwrap();
        s.sent(&["MDTM f"]);
        s.server(&format!("{line}\r\n"));
        s.events(&[event]);
    }
}

#[test]
fn directories_are_entered_once_and_left_through_home() {
    let mut s = Script::logged_in();
    let mut visit = |path: &str, cwds: &[&str]| {
        let now = s.now;
        s.session.size(&path_of(path), now).unwrap();
        for cwd in cwds {
            s.sent(&[cwd]);
            s.server("250 ok\r\n");
        }
        let file = path.rsplit('/').next().unwrap();
        s.sent(&[&format!("SIZE {file}")]);
        s.server("213 1\r\n");
        s.events(&[Event::Size(1)]);
    };
    visit("pub/a/f", &["CWD pub", "CWD a"]);
    visit("pub/a/g", &[]);
    visit("pub/a/b/f", &["CWD b"]);
    visit("pub/x/f", &["CWD /home/ftp", "CWD pub", "CWD x"]);
    visit("f", &["CWD /home/ftp"]);
    visit("f", &[]);
}

#[test]
fn a_failed_cwd_forgets_the_directory() {
    let mut s = Script::logged_in();
    let now = s.now;
    s.session.size(&path_of("a/b/f"), now).unwrap();
    s.sent(&["CWD a"]);
    s.server("250 ok\r\n");
    s.sent(&["CWD b"]);
    s.server("450 Try later\r\n");
    let error = FtpError::CommandFailed {
        command: Command::Cwd,
        reply: reply(450, "Try later"),
    };
    assert!(error.is_retryable());
    s.error(error);
    let now = s.now;
    s.session.size(&path_of("a/b/f"), now).unwrap();
    s.sent(&["CWD /home/ftp"]);
}

#[test]
fn aborts() {
    // While the data connection is being opened: nothing in flight.
    let mut s = Script::logged_in();
    s.retrieve("f", 0);
    s.sent(&["EPSV"]);
    s.server("229 ok (|||5000|)\r\n");
    s.events(&[data_at(5000)]);
    s.abort();
    s.events(&[Event::Aborted]);
    s.nothing();
    assert!(s.session.is_idle());
    assert_eq!(
        s.session.data_connected(s.now),
        Err(UsageError::NoDataConnectionPending)
    );

    // While a CWD is in flight: its reply is consumed, then Aborted.
    s.retrieve("d/f", 0);
    s.sent(&["CWD d"]);
    s.abort();
    s.nothing();
    s.server("250 ok\r\n");
    s.events(&[Event::Aborted]);
    s.nothing();

    // While EPSV is in flight and then refused: no PASV follows.
    s.retrieve("f", 0);
    s.sent(&["CWD /home/ftp"]);
    s.server("250 ok\r\n");
    s.sent(&["EPSV"]);
    s.abort();
    s.server("502 no\r\n");
    s.events(&[Event::Aborted]);
    s.nothing();

    // After the server confirmed the transfer: nothing to send.
    s.retrieve("f", 0);
    s.sent(&["PASV"]);
    s.server("227 (192,0,2,7,4,1)\r\n");
    s.events(&[data_at(1025)]);
    s.data_connected();
    s.sent(&["RETR f"]);
    s.server("150 go\r\n226 done\r\n");
    s.events(&[Event::TransferStarted {
        announced_size: None,
    }]);
    s.abort();
    s.events(&[Event::Aborted]);
    s.nothing();

    // ABOR racing the end of the transfer: 226 for RETR, 225 for ABOR.
    s.retrieve("f", 0);
    s.sent(&["PASV"]);
    s.server("227 (192,0,2,7,4,1)\r\n");
    s.data_connected();
    s.sent(&["RETR f"]);
    s.abort();
    s.sent(&["ABOR"]);
    s.server("150 go\r\n");
    s.server("226 done\r\n");
    s.events(&[data_at(1025)]);
    s.server("225 No transfer to ABOR\r\n");
    s.events(&[Event::Aborted]);
    assert_eq!(s.session.abort(s.now), Err(UsageError::NothingToAbort));

    // A 421 while draining is still fatal.
    s.retrieve("f", 0);
    s.sent(&["PASV"]);
    s.server("227 (192,0,2,7,4,1)\r\n");
    s.data_connected();
    s.sent(&["RETR f"]);
    s.server("150 go\r\n");
    s.abort();
    s.sent(&["ABOR"]);
    s.server("421 Bye\r\n");
    s.events(&[
        data_at(1025),
        Event::TransferStarted {
            announced_size: None,
        },
        Event::Error(FtpError::ServiceClosing(reply(421, "Bye"))),
        Event::Closed,
    ]);
}

#[test]
fn active_mode() {
    let mut s = Script::logged_in();
    let listen: SocketAddr = "192.0.2.100:40000".parse().unwrap();
    let now = s.now;
    s.session
        .retrieve_active(&path_of("f"), 7, listen, now)
        .unwrap();
    s.sent(&["PORT 192,0,2,100,156,64"]);
    s.server("200 PORT command successful.\r\n");
    s.events(&[Event::AcceptData]);
    s.sent(&["REST 7"]);
    s.server("350 ok\r\n");
    s.sent(&["RETR f"]);
    s.server("150 Opening data connection.\r\n226 Transfer complete.\r\n");
    s.data_finished();
    s.events(&[
        Event::TransferStarted {
            announced_size: None,
        },
        Event::TransferComplete,
    ]);

    let listen: SocketAddr = "[2001:db8::100]:40001".parse().unwrap();
    let now = s.now;
    s.session
        .retrieve_active(&path_of("f"), 0, listen, now)
        .unwrap();
    s.sent(&["EPRT |2|2001:db8::100|40001|"]);
    s.server("522 Network protocol not supported\r\n");
    s.error(FtpError::ActiveRefused(reply(
        522,
        "Network protocol not supported",
    )));

    for bad in ["0.0.0.0:4000", "192.0.2.100:0", "[::]:4000"] {
        let listen: SocketAddr = bad.parse().unwrap();
        assert_eq!(
            s.session.retrieve_active(&path_of("f"), 0, listen, now),
            Err(UsageError::BadListenAddress(listen))
        );
    }
}

#[test]
fn timeouts() {
    // No greeting at all.
    let mut s = Script::new(Config::default(), usize::MAX);
    let deadline = s.session.poll_timeout().unwrap();
    assert_eq!(deadline, s.now + Duration::from_secs(60));
    s.advance(Duration::from_secs(59));
    s.nothing();
    s.advance(Duration::from_secs(1));
    s.fatal(FtpError::Timeout {
        command: None,
        after: Duration::from_secs(60),
    });

    // A reply that never ends: bytes keep coming, the deadline stays.
    let mut config = Config::default();
    config.reply_timeout = Duration::from_secs(5);
    let mut s = Script::new(config, usize::MAX);
    s.server("220-Welcome\r\n");
    for _ in 0..4 {
        s.advance(Duration::from_secs(1));
        s.server("220-still talking\r\n");
    }
    s.nothing();
    s.advance(Duration::from_secs(1));
    s.fatal(FtpError::Timeout {
        command: None,
        after: Duration::from_secs(5),
    });

    // After login: no deadline while idle; one per command.
    let mut s = Script::logged_in();
    assert_eq!(s.session.poll_timeout(), None);
    s.advance(Duration::from_secs(3600));
    s.nothing();
    s.retrieve("f", 0);
    s.sent(&["EPSV"]);
    assert_eq!(
        s.session.poll_timeout(),
        Some(s.now + Duration::from_secs(60))
    );
    s.server("229 ok (|||5000|)\r\n");
    s.events(&[data_at(5000)]);
    assert_eq!(
        s.session.poll_timeout(),
        None,
        "the caller times its connect"
    );
    s.data_connected();
    s.sent(&["RETR f"]);
    s.server("150 go\r\n");
    s.events(&[Event::TransferStarted {
        announced_size: None,
    }]);
    // A long transfer is not the session's to time...
    s.advance(Duration::from_secs(3600));
    s.nothing();
    // ...but once the data ended, the 226 is due.
    s.data_finished();
    s.advance(Duration::from_secs(60));
    s.fatal(FtpError::Timeout {
        command: Some(Command::Retr),
        after: Duration::from_secs(60),
    });

    // A server that goes silent after ABOR.
    let mut s = Script::logged_in();
    s.retrieve("f", 0);
    s.server("229 ok (|||5000|)\r\n");
    s.data_connected();
    s.server("150 go\r\n");
    s.abort();
    s.server("426 aborted\r\n");
    s.sent(&["EPSV", "RETR f", "ABOR"]);
    s.events(&[
        data_at(5000),
        Event::TransferStarted {
            announced_size: None,
        },
    ]);
    s.advance(Duration::from_secs(60));
    s.fatal(FtpError::Timeout {
        command: Some(Command::Abor),
        after: Duration::from_secs(60),
    });
}

#[test]
fn out_of_step_servers_are_fatal() {
    let cases: [(&str, FtpError); 4] = [
        (
            "200 Unprompted\r\n",
            FtpError::UnexpectedReply {
                command: None,
                reply: reply(200, "Unprompted"),
            },
        ),
        (
            "421 Idle timeout\r\n",
            FtpError::ServiceClosing(reply(421, "Idle timeout")),
        ),
        (
            "not ftp\r\n",
            FtpError::MalformedReply(ReplyError::InvalidCode { offset: 0 }),
        ),
        (
            "220-ok\r\n220 and then the line never ends...",
            FtpError::UnexpectedReply {
                command: None,
                reply: reply(220, "ok\nand then the line never ends..."),
            },
        ),
    ];
    for (input, error) in cases {
        let mut s = Script::logged_in();
        s.server(input);
        if input.ends_with("...") {
            // Unfinished: nothing yet. The line end makes it unsolicited.
            s.nothing();
            s.server("\r\n");
        }
        s.fatal(error);
    }

    // Wrong reply classes for the command in flight.
    let mut s = Script::logged_in();
    let now = s.now;
    s.session.size(&path_of("d/f"), now).unwrap();
    s.sent(&["CWD d"]);
    s.server("350 what?\r\n");
    s.fatal(FtpError::UnexpectedReply {
        command: Some(Command::Cwd),
        reply: reply(350, "what?"),
    });
    let mut s = Script::logged_in();
    let now = s.now;
    s.session.size(&path_of("f"), now).unwrap();
    s.sent(&["SIZE f"]);
    s.server("150 what?\r\n");
    s.fatal(FtpError::UnexpectedReply {
        command: Some(Command::Size),
        reply: reply(150, "what?"),
    });
}

#[test]
fn closing() {
    // The server hangs up while idle.
    let mut s = Script::logged_in();
    s.session.connection_closed(s.now);
    s.fatal(FtpError::ConnectionClosed { command: None });
    assert!(FtpError::ConnectionClosed { command: None }.is_retryable());

    // ...or mid-command.
    let mut s = Script::logged_in();
    s.retrieve("f", 0);
    s.sent(&["EPSV"]);
    s.session.connection_closed(s.now);
    s.fatal(FtpError::ConnectionClosed {
        command: Some(Command::Epsv),
    });

    // QUIT answered by closing: a normal end.
    let mut s = Script::logged_in();
    let now = s.now;
    s.session.quit(now).unwrap();
    s.sent(&["QUIT"]);
    s.session.connection_closed(now);
    s.events(&[Event::Closed]);
    s.session.connection_closed(now);
    s.nothing();
}

#[test]
fn misuse_is_refused_without_side_effects() {
    let mut s = Script::new(Config::default(), usize::MAX);
    let now = s.now;
    let f = path_of("f");
    assert_eq!(s.session.retrieve(&f, 0, now), Err(UsageError::Busy));
    assert_eq!(s.session.size(&f, now), Err(UsageError::Busy));
    assert_eq!(s.session.quit(now), Err(UsageError::Busy));
    assert_eq!(s.session.abort(now), Err(UsageError::NothingToAbort));
    assert_eq!(
        s.session.data_connected(now),
        Err(UsageError::NoDataConnectionPending)
    );
    assert_eq!(s.session.data_finished(now), Err(UsageError::NoTransfer));
    s.nothing();
    s.login();
    s.retrieve("f", 0);
    s.sent(&["EPSV"]);
    assert_eq!(s.session.retrieve(&f, 0, now), Err(UsageError::Busy));
    assert_eq!(s.session.data_finished(now), Err(UsageError::NoTransfer));
    assert_eq!(s.session.peer(), PEER.parse::<IpAddr>().unwrap());
    s.nothing();
}

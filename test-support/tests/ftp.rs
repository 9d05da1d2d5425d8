//! The FTP test server, driven by a plain std::net client: commands,
//! passive and active transfers, and every misbehaviour.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use swarmget_test_support::{FtpConfig, FtpServer, TestFile};

const LEN: usize = 100_000;

fn data() -> Vec<u8> {
    TestFile::random(LEN, 21)
}

fn serve(config: FtpConfig) -> FtpServer {
    FtpServer::start(config.file("/pub/f.bin", data())).unwrap()
}

/// A minimal FTP client that reads replies line by line.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(server: &FtpServer) -> Client {
        let stream = TcpStream::connect(server.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let writer = stream.try_clone().unwrap();
        let mut client = Client {
            reader: BufReader::new(stream),
            writer,
        };
        assert_eq!(client.reply().0, 220);
        client
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        assert!(line.ends_with("\r\n"), "unterminated line {line:?}");
        line.truncate(line.len() - 2);
        line
    }

    /// One reply: its code and text lines joined with `\n`.
    fn reply(&mut self) -> (u16, String) {
        let first = self.line();
        let code: u16 = first[..3].parse().unwrap();
        let mut text = first[4..].to_owned();
        if first.as_bytes()[3] == b'-' {
            loop {
                let line = self.line();
                if line.len() >= 4 && line[..3] == first[..3] && &line[3..4] == " " {
                    text.push('\n');
                    text.push_str(&line[4..]);
                    break;
                }
                text.push('\n');
                text.push_str(&line);
            }
        }
        (code, text)
    }

    fn send(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
    }

    fn cmd(&mut self, line: &str) -> (u16, String) {
        self.send(line);
        self.reply()
    }

    fn code(&mut self, line: &str) -> u16 {
        self.cmd(line).0
    }

    fn login(&mut self) {
        assert_eq!(self.code("USER anonymous"), 331);
        assert_eq!(self.code("PASS guest@"), 230);
    }

    /// EPSV, then a connection to the announced port.
    fn epsv(&mut self) -> TcpStream {
        let (code, text) = self.cmd("EPSV");
        assert_eq!(code, 229, "{text}");
        let port: u16 = text
            .split("|||")
            .nth(1)
            .and_then(|rest| rest.split('|').next())
            .unwrap()
            .parse()
            .unwrap();
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap()
    }

    /// `RETR name` on `data`: the bytes and the final reply code.
    fn retr(&mut self, name: &str, mut data: TcpStream) -> (Vec<u8>, u16) {
        let (code, text) = self.cmd(&format!("RETR {name}"));
        assert_eq!(code, 150, "{text}");
        let mut bytes = Vec::new();
        data.read_to_end(&mut bytes).unwrap();
        (bytes, self.reply().0)
    }
}

#[test]
fn commands_and_navigation() {
    let server = FtpServer::start(
        FtpConfig::new()
            .file("/home/ftp/pub/f.bin", data())
            .file("/other/g", b"g".to_vec())
            .home("/home/ftp"),
    )
    .unwrap();
    let mut client = Client::connect(&server);
    assert_eq!(client.code("PWD"), 530, "nothing but login before login");
    client.login();
    assert_eq!(
        client.cmd("PWD"),
        (257, "\"/home/ftp\" is the current directory".into())
    );
    assert_eq!(client.code("CWD pub"), 250);
    assert_eq!(
        client.cmd("PWD").1,
        "\"/home/ftp/pub\" is the current directory"
    );
    assert_eq!(client.cmd("SIZE f.bin"), (213, LEN.to_string()));
    assert_eq!(client.cmd("MDTM f.bin"), (213, "20240102030405".into()));
    assert_eq!(client.code("SIZE nope"), 550);
    assert_eq!(client.code("MDTM nope"), 550);
    assert_eq!(client.code("CWD nope"), 550);
    assert_eq!(client.code("CDUP"), 250);
    assert_eq!(client.cmd("SIZE pub/f.bin").0, 213);
    assert_eq!(client.code("CWD /other"), 250);
    assert_eq!(client.cmd("SIZE g"), (213, "1".into()));
    assert_eq!(client.cmd("SIZE /home/ftp/pub/f.bin").1, LEN.to_string());
    assert_eq!(client.code("TYPE I"), 200);
    assert_eq!(client.code("TYPE A"), 200);
    assert_eq!(client.code("TYPE X"), 504);
    assert_eq!(client.code("NOOP"), 200);
    assert_eq!(client.code("SYST"), 215);
    let (code, features) = client.cmd("FEAT");
    assert_eq!(code, 211);
    assert!(features.contains(" EPSV") && features.contains(" REST STREAM"));
    assert_eq!(client.code("REST abc"), 501);
    assert_eq!(client.code("RETR f.bin"), 550, "not in /other");
    assert_eq!(
        client.code("RETR /home/ftp/pub/f.bin"),
        425,
        "no PASV or PORT yet"
    );
    assert_eq!(client.code("ABOR"), 225);
    assert_eq!(client.code("SITE CHMOD 777 x"), 502);
    assert_eq!(client.code("QUIT"), 221);

    assert_eq!(server.connections(), 1);
    let lines = server.command_lines();
    assert_eq!(&lines[..4], ["PWD", "USER anonymous", "PASS guest@", "PWD"]);
    assert_eq!(lines.last().unwrap(), "QUIT");
    assert!(server.log().iter().all(|r| r.connection == 0));
    assert_eq!(
        server.url("/pub/f.bin"),
        format!("ftp://{}/pub/f.bin", server.addr())
    );
}

#[test]
fn passive_transfers_with_rest() {
    let server = serve(FtpConfig::new());
    let mut client = Client::connect(&server);
    client.login();
    assert_eq!(client.code("CWD pub"), 250);
    let data_conn = client.epsv();
    assert_eq!(client.retr("f.bin", data_conn), (data(), 226));

    let (code, text) = client.cmd("REST 99000");
    assert_eq!(
        (code, text.as_str()),
        (350, "Restart position accepted (99000).")
    );
    let data_conn = client.epsv();
    let (code, text) = client.cmd("RETR f.bin");
    assert_eq!(code, 150);
    assert!(text.contains("(1000 bytes)"), "{text}");
    let mut bytes = Vec::new();
    let mut data_conn = data_conn;
    data_conn.read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes, &data()[99_000..]);
    assert_eq!(client.reply().0, 226);

    // The offset applies once; PASV works too.
    let (code, text) = client.cmd("PASV");
    assert_eq!(code, 227);
    let numbers: Vec<u16> = text
        .split(['(', ')'])
        .nth(1)
        .unwrap()
        .split(',')
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(&numbers[..4], [127, 0, 0, 1]);
    let port = numbers[4] * 256 + numbers[5];
    let data_conn = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    assert_eq!(client.retr("f.bin", data_conn), (data(), 226));
    assert_eq!(server.data_connections(), 3);
}

#[test]
fn active_transfers() {
    let server = serve(FtpConfig::new());
    let mut client = Client::connect(&server);
    client.login();
    for command in ["PORT", "EPRT"] {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let line = if command == "PORT" {
            format!("PORT 127,0,0,1,{},{}", port >> 8, port & 0xff)
        } else {
            format!("EPRT |1|127.0.0.1|{port}|")
        };
        assert_eq!(client.code(&line), 200, "{line}");
        client.send("RETR pub/f.bin");
        let (mut data_conn, from) = listener.accept().unwrap();
        assert_eq!(from.ip(), server.addr().ip());
        assert_eq!(client.reply().0, 150);
        let mut bytes = Vec::new();
        data_conn.read_to_end(&mut bytes).unwrap();
        assert_eq!(bytes, data());
        assert_eq!(client.reply().0, 226);
    }
    assert_eq!(client.code("PORT 1,2,3"), 501);
    assert_eq!(client.code("EPRT |2|127.0.0.1|80|"), 501);
}

#[test]
fn refuse_rest_and_lie_about_size() {
    let server = serve(FtpConfig::new().refuse_rest().lie_about_size(12345));
    let mut client = Client::connect(&server);
    client.login();
    assert_eq!(client.code("REST 100"), 502);
    assert_eq!(client.cmd("SIZE pub/f.bin"), (213, "12345".into()));
    // The file itself is unchanged.
    let data_conn = client.epsv();
    assert_eq!(client.retr("pub/f.bin", data_conn), (data(), 226));
}

#[test]
fn credentials_are_checked() {
    let server = serve(FtpConfig::new().credentials("alice", "s3cret"));
    let mut client = Client::connect(&server);
    assert_eq!(client.code("PASS s3cret"), 503);
    assert_eq!(client.code("USER anonymous"), 331);
    assert_eq!(client.code("PASS s3cret"), 530);
    assert_eq!(client.code("USER alice"), 331);
    assert_eq!(client.code("PASS wrong"), 530);
    assert_eq!(client.code("SIZE pub/f.bin"), 530);
    assert_eq!(client.code("USER alice"), 331);
    assert_eq!(client.code("PASS s3cret"), 230);
    assert_eq!(client.code("SIZE pub/f.bin"), 213);
}

#[test]
fn multiline_replies_split_across_writes() {
    let delay = Duration::from_millis(3);
    let server = serve(FtpConfig::new().multiline_replies().split_replies(7, delay));
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let started = Instant::now();
    let mut greeting = Vec::new();
    let mut reads = 0;
    while !greeting.ends_with(b"220 End\r\n") {
        let mut buf = [0u8; 256];
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0);
        greeting.extend_from_slice(&buf[..n]);
        reads += 1;
    }
    let text = String::from_utf8(greeting).unwrap();
    assert_eq!(
        text,
        "220-swarmget test FTP server ready.\r\n220-and more\r\n 220 still not the end\r\n220 End\r\n"
    );
    let pieces = text.len().div_ceil(7);
    assert!(reads > 1, "the reply came in one read");
    assert!(started.elapsed() >= delay * (pieces as u32 - 1));

    // The same shape for every reply, through the line-based client.
    drop(stream);
    let mut client = Client::connect(&server);
    client.login();
    let (code, text) = client.cmd("SIZE pub/f.bin");
    assert_eq!(code, 213);
    assert_eq!(
        text,
        format!("{LEN}\n213-and more\n 213 still not the end\nEnd")
    );
}

#[test]
fn data_connections_dropped_mid_transfer() {
    let server = serve(FtpConfig::new().drop_data_after_times(1000, 1));
    let mut client = Client::connect(&server);
    client.login();
    let data_conn = client.epsv();
    assert_eq!(
        client.retr("pub/f.bin", data_conn),
        (data()[..1000].to_vec(), 426)
    );
    // Only the first transfer is cut.
    let data_conn = client.epsv();
    assert_eq!(client.retr("pub/f.bin", data_conn), (data(), 226));

    let server = serve(FtpConfig::new().drop_data_after(10));
    let mut client = Client::connect(&server);
    client.login();
    for _ in 0..2 {
        let data_conn = client.epsv();
        assert_eq!(client.retr("pub/f.bin", data_conn).1, 426);
    }
}

#[test]
fn foreign_pasv_address_and_no_epsv() {
    let server = serve(
        FtpConfig::new()
            .refuse_epsv()
            .pasv_address(Ipv4Addr::new(10, 0, 0, 1)),
    );
    let mut client = Client::connect(&server);
    client.login();
    assert_eq!(client.code("EPSV"), 502);
    let (code, text) = client.cmd("PASV");
    assert_eq!(code, 227);
    assert!(text.contains("(10,0,0,1,"), "{text}");
}

#[test]
fn hanging_servers() {
    let server = serve(FtpConfig::new().hang_on("size"));
    let mut client = Client::connect(&server);
    client.login();
    client
        .reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    client.send("SIZE pub/f.bin");
    client.send("NOOP");
    let mut buf = [0u8; 64];
    let err = client.reader.read(&mut buf).unwrap_err();
    assert!(matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ));
    assert_eq!(server.command_lines().last().unwrap(), "SIZE pub/f.bin");

    let server = serve(FtpConfig::new().hang_mid_reply_on("CWD"));
    let mut client = Client::connect(&server);
    client.login();
    client.send("CWD pub");
    assert_eq!(client.line(), "250-This reply never ends");
    client
        .reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    assert!(client.reader.read(&mut buf).is_err());
}

#[test]
fn abor_and_early_close() {
    // Big enough that the server is still writing when the client stops.
    let big = TestFile::random(16 << 20, 5);
    let server = FtpServer::start(FtpConfig::new().file("/big", big.clone())).unwrap();
    let mut client = Client::connect(&server);
    client.login();

    // ABOR during a transfer: 426 for the transfer, 226 for ABOR.
    let mut data_conn = client.epsv();
    assert_eq!(client.code("RETR big"), 150);
    let mut first = vec![0u8; 1000];
    data_conn.read_exact(&mut first).unwrap();
    assert_eq!(first, &big[..1000]);
    assert_eq!(client.code("ABOR"), 426);
    assert_eq!(client.reply().0, 226);
    drop(data_conn);

    // The client closes the data connection early without ABOR: 426.
    let data_conn = client.epsv();
    assert_eq!(client.code("RETR big"), 150);
    drop(data_conn);
    assert_eq!(client.reply().0, 426);

    // And the session goes on.
    let data_conn = client.epsv();
    assert_eq!(client.code("REST 16777000"), 350);
    assert_eq!(
        client.retr("big", data_conn),
        (big[16_777_000..].to_vec(), 226)
    );
}

#[test]
fn dropping_the_server_ends_stuck_connections() {
    let big = TestFile::random(16 << 20, 6);
    let server = FtpServer::start(FtpConfig::new().file("/big", big).hang_on("NOOP")).unwrap();
    let mut stuck_transfer = Client::connect(&server);
    stuck_transfer.login();
    let _data_conn = stuck_transfer.epsv();
    assert_eq!(stuck_transfer.code("RETR big"), 150);
    let mut hung = Client::connect(&server);
    hung.login();
    hung.send("NOOP");
    // The drop ends both stuck connections while their clients hold them open; were it
    // to wait for the clients instead, neither would see the end.
    let dropping = std::thread::spawn(move || drop(server));
    for client in [&mut stuck_transfer, &mut hung] {
        let socket = client.reader.get_ref();
        socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut rest = Vec::new();
        client
            .reader
            .read_to_end(&mut rest)
            .expect("the server closed the control connection");
    }
    dropping.join().unwrap();
}

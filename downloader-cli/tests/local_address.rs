//! Where connections come from and go to: `--interface` and `--multiple-interface`,
//! checked by the client address the server saw (loopback has 127.0.0.0/8 to choose
//! from), names resolved by `--async-dns-server`, and the receive buffer
//! `--socket-recv-buffer-size` gives the connection (read with `ss`).

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::{Run, TempDir, assert_download, run, swarmget};
use swarmget_test_support::{DnsServer, FtpConfig, FtpServer, HttpServer, ServerConfig, TestFile};

const LIMIT: Duration = Duration::from_secs(30);

fn get(dir: &TempDir, args: &[&str]) -> Run {
    run(
        swarmget(dir.path()).arg("-d").arg(dir.path()).args(args),
        LIMIT,
    )
}

fn ips(server: &HttpServer) -> Vec<IpAddr> {
    server.peers().iter().map(|p| p.ip()).collect()
}

#[test]
fn interface_is_the_address_connections_come_from() {
    let data = TestFile::random(100_000, 1);
    let server = HttpServer::start(ServerConfig::new().file("/f.bin", data.clone())).unwrap();
    let dir = TempDir::new("interface");
    get(&dir, &[&server.url("/f.bin")]).expect_code(0);
    assert_eq!(ips(&server), [IpAddr::from([127, 0, 0, 1])]);

    let server = HttpServer::start(ServerConfig::new().file("/f.bin", data.clone())).unwrap();
    get(
        &dir,
        &[
            "--allow-overwrite",
            "--interface=127.0.0.2",
            &server.url("/f.bin"),
        ],
    )
    .expect_code(0);
    assert_download(&dir.join("f.bin"), &data);
    assert_eq!(ips(&server), [IpAddr::from([127, 0, 0, 2])]);
}

#[test]
fn multiple_interface_takes_its_interfaces_in_turn() {
    let data = TestFile::random(4 << 20, 2);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f.bin", data.clone())
            .trickle(4 << 20),
    )
    .unwrap();
    let dir = TempDir::new("multiple-interface");
    get(
        &dir,
        &[
            "-x4",
            "-s4",
            "-k1M",
            "--multiple-interface=127.0.0.2,127.0.0.3",
            &server.url("/f.bin"),
        ],
    )
    .expect_code(0);
    assert_download(&dir.join("f.bin"), &data);
    let seen = ips(&server);
    assert!(seen.contains(&IpAddr::from([127, 0, 0, 2])), "{seen:?}");
    assert!(seen.contains(&IpAddr::from([127, 0, 0, 3])), "{seen:?}");
    assert!(!seen.contains(&IpAddr::from([127, 0, 0, 1])), "{seen:?}");
}

#[test]
fn an_interface_that_does_not_exist_fails_the_download_saying_so() {
    let server = HttpServer::start(ServerConfig::new().file("/f.bin", vec![1; 10])).unwrap();
    let dir = TempDir::new("no-interface");
    let r = get(
        &dir,
        &[
            "--max-tries=1",
            "--interface=nosuchif0",
            &server.url("/f.bin"),
        ],
    );
    r.expect_code(6);
    assert!(
        r.stdout
            .contains("no network interface or address 'nosuchif0'"),
        "{}",
        r.stdout
    );
    assert_eq!(server.connections(), 0);
}

#[test]
fn ftp_downloads_work_from_an_interface() {
    let data = TestFile::random(60_000, 3);
    let server = FtpServer::start(FtpConfig::new().file("/pub/f.bin", data.clone())).unwrap();
    let dir = TempDir::new("ftp-interface");
    get(&dir, &["--interface=127.0.0.2", &server.url("/pub/f.bin")]).expect_code(0);
    assert_download(&dir.join("f.bin"), &data);
}

#[test]
fn async_dns_server_resolves_names_the_system_does_not_know() {
    let data = TestFile::random(50_000, 4);
    let server = HttpServer::start_on(
        [127, 0, 0, 5].into(),
        ServerConfig::new().file("/f.bin", data.clone()),
    )
    .unwrap();
    let dns = DnsServer::start(&[("mirror.swarmget.test", IpAddr::from([127, 0, 0, 5]))]).unwrap();
    let url = format!("http://mirror.swarmget.test:{}/f.bin", server.addr().port());
    let dir = TempDir::new("async-dns-server");

    // The system's resolver has never heard of it: aria2's "name resolution failed".
    let r = get(&dir, &["--max-tries=1", &url]);
    r.expect_code(19);
    assert!(dns.asked().is_empty());

    let option = format!("--async-dns-server={}", dns.addr());
    get(&dir, &[&option, &url]).expect_code(0);
    assert_download(&dir.join("f.bin"), &data);
    assert!(
        dns.asked().iter().all(|n| n == "mirror.swarmget.test"),
        "{:?}",
        dns.asked()
    );
    assert!(!dns.asked().is_empty());

    // A name the server does not have fails the same way, at once.
    let r = get(
        &dir,
        &["--max-tries=1", &option, &url.replace("mirror.", "other.")],
    );
    r.expect_code(19);
    assert!(
        r.stdout.contains("no such name other.swarmget.test"),
        "{}",
        r.stdout
    );
}

/// The receive buffer (`rb` of `ss -m`) of the connection to `port`, once there is one.
fn receive_buffer_towards(port: u16) -> Option<u64> {
    let out = std::process::Command::new("ss")
        .args(["-tmnH", "dst", &format!("127.0.0.1:{port}")])
        .output()
        .expect("ss (iproute2) reads the socket's buffers");
    let text = String::from_utf8_lossy(&out.stdout);
    let rb = text.split("rb").nth(1)?;
    rb.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[test]
fn socket_recv_buffer_size_sets_the_connections_buffer() {
    // Linux caps SO_RCVBUF at rmem_max and doubles what it grants.
    let rmem_max: u64 = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let expected = 2 * rmem_max.min(1 << 20);
    for (option, want) in [(None, false), (Some("--socket-recv-buffer-size=1M"), true)] {
        // The server stalls after a few bytes, so the connection stays open to be read.
        let server = HttpServer::start(
            ServerConfig::new()
                .file("/f.bin", vec![5; 100_000])
                .stall_after(1000),
        )
        .unwrap();
        let dir = TempDir::new("recv-buffer");
        let mut cmd = swarmget(dir.path());
        cmd.arg("-d")
            .arg(dir.path())
            .args(["--timeout=30", "--max-tries=1"]);
        cmd.args(option).arg(server.url("/f.bin"));
        let mut child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let rb = (0..500).find_map(|_| {
            std::thread::sleep(Duration::from_millis(20));
            receive_buffer_towards(server.addr().port())
        });
        let _ = child.kill();
        let _ = child.wait();
        let rb = rb.expect("a connection to the server");
        assert_eq!(
            rb == expected,
            want,
            "rb {rb}, expected {expected} with {option:?}"
        );
    }
}

//! `.netrc` logins for HTTP and FTP when neither the URI nor --http-user/--ftp-user
//! names a user; a file others may read is not used (as aria2).

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use swarmget_engine::{ErrorCode, Options};
use swarmget_test_support::{FtpConfig, FtpServer, HttpServer, ServerConfig, TestFile};

mod common;

use common::{Dir, assert_err, assert_ok, opts, run};

fn netrc(dir: &Dir, text: &str, mode: u32) -> PathBuf {
    let path = dir.0.join("netrc");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[test]
fn http_and_ftp_logins_come_from_the_netrc() {
    let data = TestFile::random(10_000, 1);
    let http = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let ftp = FtpServer::start(
        FtpConfig::new()
            .file("/f", data.clone())
            .credentials("alice", "pw"),
    )
    .unwrap();
    let dir = Dir::new("netrc");
    let path = netrc(
        &dir,
        "machine 127.0.0.1 login alice password pw\ndefault login nobody password x\n",
        0o600,
    );
    let o = Options {
        netrc_path: Some(path.clone()),
        max_tries: 1,
        allow_overwrite: true,
        ..opts(&dir.0)
    };
    assert_ok(&run(vec![http.url("/f")], o.clone()), &data);
    assert_eq!(
        http.log()[0].header("authorization"),
        Some("Basic YWxpY2U6cHc=")
    );
    assert_ok(&run(vec![ftp.url("/f")], o.clone()), &data);
    // --ftp-user wins over the netrc.
    let with_user = Options {
        ftp_user: Some("mallory".into()),
        ..o.clone()
    };
    assert_err(&run(vec![ftp.url("/f")], with_user), ErrorCode::HttpAuth);
    // So does --no-netrc.
    let off = Options {
        no_netrc: true,
        ..o
    };
    assert_err(&run(vec![ftp.url("/f")], off), ErrorCode::HttpAuth);
}

#[test]
fn a_netrc_others_may_read_is_not_used() {
    let data = TestFile::random(1_000, 2);
    let http = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("netrc-open");
    let path = netrc(&dir, "machine 127.0.0.1 login alice password pw\n", 0o644);
    let o = Options {
        netrc_path: Some(path),
        ..opts(&dir.0)
    };
    assert_ok(&run(vec![http.url("/f")], o), &data);
    assert_eq!(http.log()[0].header("authorization"), None);
}

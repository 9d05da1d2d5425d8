//! The HTTPS server: handshakes against the test CA, client certificates,
//! and behaviours over TLS.

mod common;

use std::io::{ErrorKind, Read, Write};

use common::{Client, tls_connect};
use swarmget_test_support::{HttpServer, ServerConfig, TestCa, TestFile};

fn data() -> Vec<u8> {
    TestFile::random(50_000, 5)
}

#[test]
fn handshake_with_the_server_ca() {
    let server = HttpServer::start_tls(ServerConfig::new().file("/f", data())).unwrap();
    assert!(server.url("/f").starts_with("https://127.0.0.1:"));
    assert!(server.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    let config = server.ca().unwrap().client_config(None).unwrap();
    for name in ["localhost", "127.0.0.1"] {
        let mut client = Client::new(tls_connect(server.addr(), config.clone(), name));
        let reply = client.get("/f", &[("Range", "bytes=100-")]).unwrap();
        assert_eq!(reply.status, 206);
        assert_eq!(reply.body, &data()[100..]);
        // Keep-alive works over TLS too.
        assert_eq!(client.get("/f", &[]).unwrap().body, data());
    }
    assert!(server.log().iter().all(|r| r.tls));
    assert_eq!(server.connections(), 2);
}

#[test]
fn another_ca_is_not_trusted() {
    let server = HttpServer::start_tls(ServerConfig::new().file("/f", data())).unwrap();
    let stranger = TestCa::new().client_config(None).unwrap();
    let mut client = Client::new(tls_connect(server.addr(), stranger, "localhost"));
    assert!(client.get("/f", &[]).is_err());
}

#[test]
fn a_given_ca_issues_the_server_certificate() {
    let ca = TestCa::new();
    let server = HttpServer::start_tls(ServerConfig::new().file("/f", data()).tls_ca(&ca)).unwrap();
    assert_eq!(server.ca_pem(), ca.cert_pem());
    let mut client = Client::new(tls_connect(
        server.addr(),
        ca.client_config(None).unwrap(),
        "localhost",
    ));
    assert_eq!(client.get("/f", &[]).unwrap().status, 200);
}

#[test]
fn client_certificates_can_be_required() {
    let client_ca = TestCa::new();
    let server = HttpServer::start_tls(
        ServerConfig::new()
            .file("/f", data())
            .require_client_cert(&client_ca),
    )
    .unwrap();
    let server_ca = server.ca().unwrap();

    let anonymous = server_ca.client_config(None).unwrap();
    let mut client = Client::new(tls_connect(server.addr(), anonymous, "localhost"));
    assert!(client.get("/f", &[]).is_err());

    let impostor = TestCa::new().client_identity("mallory");
    let config = server_ca.client_config(Some(&impostor)).unwrap();
    let mut client = Client::new(tls_connect(server.addr(), config, "localhost"));
    assert!(client.get("/f", &[]).is_err());

    let identity = client_ca.client_identity("alice");
    assert!(identity.key_pem.contains("PRIVATE KEY"));
    let config = server_ca.client_config(Some(&identity)).unwrap();
    let mut client = Client::new(tls_connect(server.addr(), config, "localhost"));
    assert_eq!(client.get("/f", &[]).unwrap().body, data());
    // Refused handshakes never reach the log.
    assert_eq!(server.log().len(), 1);
}

#[test]
fn client_identity_files() {
    let dir = std::env::temp_dir().join(format!("swarmget-test-support-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let identity = TestCa::new().client_identity("bob");
    let (cert, key) = identity.write_files(&dir, "bob").unwrap();
    assert_eq!(std::fs::read_to_string(cert).unwrap(), identity.cert_pem);
    assert_eq!(std::fs::read_to_string(key).unwrap(), identity.key_pem);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_cut_tls_response_is_a_truncation() {
    let server =
        HttpServer::start_tls(ServerConfig::new().file("/f", data()).drop_after(1000)).unwrap();
    let config = server.ca().unwrap().client_config(None).unwrap();
    let mut stream = tls_connect(server.addr(), config, "localhost");
    stream
        .write_all(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut received = Vec::new();
    let error = stream.read_to_end(&mut received).unwrap_err();
    // No close_notify: rustls reports the connection as cut, not ended.
    assert_eq!(error.kind(), ErrorKind::UnexpectedEof);
    assert!(received.ends_with(&data()[..1000]));
}

#[test]
fn a_closed_tls_response_ends_cleanly() {
    let server =
        HttpServer::start_tls(ServerConfig::new().file("/f", data()).no_content_length()).unwrap();
    let config = server.ca().unwrap().client_config(None).unwrap();
    let mut stream = tls_connect(server.addr(), config, "localhost");
    stream
        .write_all(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut received = Vec::new();
    stream.read_to_end(&mut received).unwrap();
    assert!(received.ends_with(&data()));
}

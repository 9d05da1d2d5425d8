//! A throwaway certificate authority and a server certificate it signed, made with the
//! openssl command line: what a client needs `--ca-certificate` for.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The files of a freshly generated test PKI.
pub struct TestPki {
    /// The CA certificate (PEM) clients are told to trust.
    pub ca: PathBuf,
    /// The server certificate (PEM) for 127.0.0.1 and localhost, signed by the CA.
    pub cert: PathBuf,
    /// The server's private key (PEM).
    pub key: PathBuf,
}

/// P-256 keys: generated in milliseconds, and every client here speaks ECDSA.
const NEW_KEY: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

impl TestPki {
    /// Generates a CA and a server certificate into `dir` (which must exist).
    pub fn generate(dir: &Path) -> Result<TestPki, String> {
        let ca = dir.join("ca.pem");
        let ca_key = dir.join("ca.key");
        let cert = dir.join("server.pem");
        let key = dir.join("server.key");
        let csr = dir.join("server.csr");
        let ext = dir.join("server.ext");
        // webpki (rustls) wants a v3 CA with keyCertSign, and a leaf that names the host in
        // subjectAltName, is not a CA and allows serverAuth; GnuTLS (aria2c) and curl agree.
        openssl(
            Command::new("openssl")
                .args(["req", "-x509", "-nodes", "-sha256", "-days", "30"])
                .args(NEW_KEY)
                .args(["-subj", "/CN=swarmget test CA"])
                .args(["-addext", "basicConstraints=critical,CA:TRUE"])
                .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
                .arg("-keyout")
                .arg(&ca_key)
                .arg("-out")
                .arg(&ca),
        )?;
        openssl(
            Command::new("openssl")
                .args(["req", "-new", "-nodes", "-sha256"])
                .args(NEW_KEY)
                .args(["-subj", "/CN=localhost"])
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&csr),
        )?;
        std::fs::write(
            &ext,
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n\
             basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\n\
             extendedKeyUsage=serverAuth\n",
        )
        .map_err(|e| format!("{}: {e}", ext.display()))?;
        openssl(
            Command::new("openssl")
                .args(["x509", "-req", "-sha256", "-days", "30", "-set_serial", "2"])
                .arg("-in")
                .arg(&csr)
                .arg("-CA")
                .arg(&ca)
                .arg("-CAkey")
                .arg(&ca_key)
                .arg("-extfile")
                .arg(&ext)
                .arg("-out")
                .arg(&cert),
        )?;
        Ok(TestPki { ca, cert, key })
    }
}

fn openssl(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{cmd:?}` failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

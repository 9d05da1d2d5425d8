//! A throwaway certificate authority and the rustls configurations built on it.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;

/// A certificate authority made up for one test run.
///
/// Cheap to clone (the key is shared). Every server started with
/// [`HttpServer::start_tls`](crate::HttpServer::start_tls) has one; create
/// your own to mint client certificates before a server exists.
#[derive(Clone)]
pub struct TestCa {
    issuer: Arc<CertifiedIssuer<'static, KeyPair>>,
}

impl fmt::Debug for TestCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

/// A client certificate and its private key, both PEM, as `--certificate`
/// and `--private-key` take them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// The certificate, issued by the [`TestCa`] that minted it.
    pub cert_pem: String,
    /// The PKCS#8 private key.
    pub key_pem: String,
}

impl ClientIdentity {
    /// Writes `<stem>.crt` and `<stem>.key` into `dir` and returns their paths.
    pub fn write_files(&self, dir: &Path, stem: &str) -> io::Result<(PathBuf, PathBuf)> {
        let cert = dir.join(format!("{stem}.crt"));
        let key = dir.join(format!("{stem}.key"));
        std::fs::write(&cert, &self.cert_pem)?;
        std::fs::write(&key, &self.key_pem)?;
        Ok((cert, key))
    }
}

impl TestCa {
    /// A fresh CA with a new ECDSA P-256 key.
    ///
    /// # Panics
    ///
    /// If the system cannot generate a key (no usable randomness).
    pub fn new() -> Self {
        Self::generate().expect("generating a test CA")
    }

    fn generate() -> Result<Self, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "swarmget test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        Ok(Self {
            issuer: Arc::new(issuer),
        })
    }

    /// The CA certificate, PEM-encoded (for `--ca-certificate`).
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// The CA certificate, DER-encoded.
    pub fn cert_der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// A client certificate for `common_name`, issued by this CA.
    ///
    /// # Panics
    ///
    /// If the system cannot generate a key.
    pub fn client_identity(&self, common_name: &str) -> ClientIdentity {
        let (cert, key) = self
            .issue(&[], common_name, ExtendedKeyUsagePurpose::ClientAuth)
            .expect("issuing a test client certificate");
        ClientIdentity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// A server certificate for `localhost`, `127.0.0.1` and `::1`, issued by this CA,
    /// with its key, both PEM: for a server under test that reads its identity from
    /// files (swarmget's `--rpc-certificate`/`--rpc-private-key`).
    ///
    /// # Panics
    ///
    /// If the system cannot generate a key.
    pub fn server_identity(&self) -> ClientIdentity {
        let (cert, key) = self
            .issue(
                SERVER_NAMES,
                "swarmget test server",
                ExtendedKeyUsagePurpose::ServerAuth,
            )
            .expect("issuing a test server certificate");
        ClientIdentity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// A rustls client configuration (ring provider) that trusts this CA and,
    /// given `identity`, presents it as its client certificate.
    pub fn client_config(
        &self,
        identity: Option<&ClientIdentity>,
    ) -> io::Result<Arc<rustls::ClientConfig>> {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert_der()).map_err(io::Error::other)?;
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_root_certificates(roots);
        let config = match identity {
            None => builder.with_no_client_auth(),
            Some(identity) => {
                let certs = CertificateDer::pem_slice_iter(identity.cert_pem.as_bytes())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(io::Error::other)?;
                let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes())
                    .map_err(io::Error::other)?;
                builder
                    .with_client_auth_cert(certs, key)
                    .map_err(io::Error::other)?
            }
        };
        Ok(Arc::new(config))
    }

    /// The server certificate chain and key for `names` (DNS names or IPs).
    fn server_chain(
        &self,
        names: &[&str],
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), rcgen::Error> {
        let (cert, key) = self.issue(
            names,
            "swarmget test server",
            ExtendedKeyUsagePurpose::ServerAuth,
        )?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Ok((vec![cert.der().clone()], key))
    }

    fn issue(
        &self,
        names: &[&str],
        common_name: &str,
        usage: ExtendedKeyUsagePurpose,
    ) -> Result<(rcgen::Certificate, KeyPair), rcgen::Error> {
        let names: Vec<String> = names.iter().map(|&n| n.to_owned()).collect();
        let mut params = CertificateParams::new(names)?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok((cert, key))
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

/// The names the server certificate covers.
const SERVER_NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// The rustls server configuration for a server whose certificate `ca`
/// issues, optionally demanding client certificates from `client_ca`.
pub(crate) fn server_config(
    ca: &TestCa,
    client_ca: Option<&TestCa>,
    tls12_only: bool,
) -> io::Result<Arc<rustls::ServerConfig>> {
    let (chain, key) = ca.server_chain(SERVER_NAMES).map_err(io::Error::other)?;
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12_only {
        &[&rustls::version::TLS12]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .map_err(io::Error::other)?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(client_ca) => {
            let mut roots = RootCertStore::empty();
            roots.add(client_ca.cert_der()).map_err(io::Error::other)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(io::Error::other)?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(io::Error::other)?;
    Ok(Arc::new(config))
}

/// ring, named explicitly: if another crate in the build enables aws-lc-rs
/// too, rustls could not pick a process-wide default.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

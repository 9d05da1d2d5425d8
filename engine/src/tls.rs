//! TLS client configuration from the options: which authorities to trust, whether to
//! check at all, and the client certificate.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::options::Options;

/// The client configuration for `opts`, built once per process for each distinct set
/// of TLS options and shared after that: reading and decoding the system certificate
/// store costs milliseconds, and a list of 10,000 downloads must not pay it 10,000
/// times (nor keep 10,000 copies).
pub fn shared_config(opts: &Options) -> Result<Arc<ClientConfig>, String> {
    type Key = (
        bool,
        bool,
        Option<PathBuf>,
        Option<PathBuf>,
        Option<PathBuf>,
    );
    static CACHE: Mutex<Vec<(Key, Arc<ClientConfig>)>> = Mutex::new(Vec::new());
    let key: Key = (
        opts.check_certificate,
        opts.tls13_only,
        opts.ca_certificate.clone(),
        opts.certificate.clone(),
        opts.private_key.clone(),
    );
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, config)) = cache.iter().find(|(k, _)| *k == key) {
        return Ok(config.clone());
    }
    let config = client_config(opts)?;
    cache.push((key, config.clone()));
    Ok(config)
}

/// Builds the client configuration for `opts`.
///
/// Trust comes from `--ca-certificate` when given (as in aria2, it replaces the
/// system store), else from the operating system's store. `--check-certificate=false`
/// accepts any certificate. `--certificate`/`--private-key` add a client certificate.
pub fn client_config(opts: &Options) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = if opts.tls13_only {
        &[&rustls::version::TLS13]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = if opts.check_certificate {
        builder.with_root_certificates(roots(opts.ca_certificate.as_deref())?)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnything(provider)))
    };
    let mut config = match (&opts.certificate, &opts.private_key) {
        (Some(cert), key) => {
            let certs = load_certs(cert)?;
            let key_path = key.as_deref().unwrap_or(cert);
            let key = PrivateKeyDer::from_pem_file(key_path)
                .map_err(|e| format!("cannot read private key {}: {e}", key_path.display()))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| format!("client certificate: {e}"))?
        }
        (None, Some(_)) => return Err("--private-key needs --certificate".into()),
        (None, None) => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for cert in load_certs(path)? {
                store
                    .add(cert)
                    .map_err(|e| format!("{}: unusable CA certificate: {e}", path.display()))?;
            }
        }
        None => {
            // A broken entry in the system store should not make every site fail.
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
        }
    }
    Ok(store)
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in file", path.display()));
    }
    Ok(certs)
}

/// `--check-certificate=false`: signatures are still checked (so the handshake is
/// real), the chain and name are not.
#[derive(Debug)]
struct AcceptAnything(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

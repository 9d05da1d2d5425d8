//! `--rpc-secure`: the RPC server's TLS configuration, from `--rpc-certificate` and
//! `--rpc-private-key` (PEM), with `--min-tls-version` as for downloads.

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use swarmget_engine::Options;

/// The server configuration when `--rpc-secure` is on; `None` for plain HTTP.
pub fn server_config(opts: &Options) -> Result<Option<Arc<ServerConfig>>, String> {
    if !opts.rpc_secure {
        return Ok(None);
    }
    // aria2's words, and as in aria2 the key may be in the certificate's file.
    let Some(cert_path) = &opts.rpc_certificate else {
        return Err(
            "Specify --rpc-certificate and --rpc-private-key options in order to use secure RPC."
                .into(),
        );
    };
    let key_path = opts.rpc_private_key.as_ref().unwrap_or(cert_path);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certs| certs.collect())
        .map_err(|e| format!("--rpc-certificate {}: {e}", cert_path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "--rpc-certificate {}: no certificate in file",
            cert_path.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| format!("--rpc-private-key {}: {e}", key_path.display()))?;
    let versions: &[&rustls::SupportedProtocolVersion] = if opts.tls13_only {
        &[&rustls::version::TLS13]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_protocol_versions(versions)
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("--rpc-certificate/--rpc-private-key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(Arc::new(config)))
}

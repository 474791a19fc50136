//! A self-signed certificate for `--tls`, generated at start for `localhost` and
//! `127.0.0.1` (the REST and Pub/Sub listeners), because some client libraries only
//! speak https and Pub/Sub clients only TLS.

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A server TLS config, the certificate's PEM (for clients to trust) and the key's PEM
/// (the Pub/Sub listener serves the same certificate).
pub fn self_signed() -> Result<(Arc<ServerConfig>, String, String), String> {
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .map_err(|e| format!("cannot generate a certificate: {e}"))?;
    let pem = cert.cert.pem();
    let key_pem = cert.key_pair.serialize_pem();
    let der = CertificateDer::from(cert.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls: {e}"))?
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .map_err(|e| format!("tls: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), pem, key_pem))
}

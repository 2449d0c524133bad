//! The API's TLS: a private CA and a serving certificate for `localhost`, `127.0.0.1` and
//! `::1`, made at the control plane's first start and kept in its state directory (the
//! key owner-only), served with rustls. kubectl sends bearer tokens only over TLS, so the
//! API is HTTPS; the kubeconfigs carry the CA as `certificate-authority-data`, and the
//! agent's client trusts that CA alone.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The CA and the server's certificate and key, PEM.
pub struct TlsFiles {
    /// The CA certificate clients trust.
    pub ca_pem: String,
    /// The server certificate.
    pub cert_pem: String,
    /// The server key.
    pub key_pem: String,
}

fn tls_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// Reads `ca.crt`, `server.crt` and `server.key` from `dir`, making them on first use.
pub fn ensure(dir: &Path) -> std::io::Result<TlsFiles> {
    let (ca, cert, key) = (
        dir.join("ca.crt"),
        dir.join("server.crt"),
        dir.join("server.key"),
    );
    if !(ca.exists() && cert.exists() && key.exists()) {
        let ca_key = KeyPair::generate().map_err(tls_err)?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "schedlab-ca");
        let ca_cert = ca_params.self_signed(&ca_key).map_err(tls_err)?;
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().map_err(tls_err)?;
        let mut params = CertificateParams::new(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ])
        .map_err(tls_err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "schedlab-apiserver");
        let server_cert = params.signed_by(&server_key, &issuer).map_err(tls_err)?;
        crate::control_plane::write_private(&key, &server_key.serialize_pem())?;
        std::fs::write(&cert, server_cert.pem())?;
        std::fs::write(&ca, ca_cert.pem())?;
    }
    Ok(TlsFiles {
        ca_pem: std::fs::read_to_string(&ca)?,
        cert_pem: std::fs::read_to_string(&cert)?,
        key_pem: std::fs::read_to_string(&key)?,
    })
}

/// The rustls acceptor serving `files`.
pub fn acceptor(files: &TlsFiles) -> std::io::Result<TlsAcceptor> {
    let certs =
        rustls_pemfile::certs(&mut files.cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>()?;
    let key = rustls_pemfile::private_key(&mut files.key_pem.as_bytes())?
        .ok_or_else(|| std::io::Error::other("server.key holds no private key"))?;
    // ring rather than aws-lc-rs: it builds with a C compiler alone. rustls marks its
    // provider deprecated for lacking post-quantum key exchange, which loopback and a
    // lab cluster can do without.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(tls_err)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts TLS connections and serves `app` on each until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send,
) {
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((tcp, _)) = accepted else {
            // Out of descriptors and the like: wait a little rather than spin.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else {
                return;
            };
            let service = TowerToHyperService::new(app);
            let _ = Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// A client builder trusting only the CA in `ca_pem` (the agent, the CLI and the tests
/// add their timeouts).
pub fn client_builder(ca_pem: &str) -> Result<reqwest::ClientBuilder, reqwest::Error> {
    let mut builder = reqwest::Client::builder().use_rustls_tls();
    for cert in reqwest::Certificate::from_pem_bundle(ca_pem.as_bytes())? {
        builder = builder.add_root_certificate(cert);
    }
    Ok(builder)
}

/// An HTTPS client trusting only the CA in `ca_pem`.
pub fn client(ca_pem: &str) -> Result<reqwest::Client, reqwest::Error> {
    client_builder(ca_pem)?.build()
}

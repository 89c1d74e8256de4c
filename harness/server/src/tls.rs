//! HTTPS on 127.0.0.1 with a certificate authority generated in memory.
//!
//! Real clouds refuse plain-http issuers (Google: "Invalid OIDC issuer URI. The scheme must be
//! https."), so the emulated IdP must be able to serve HTTPS for the federation happy paths to
//! run at all. [`LocalCa`] makes a throwaway CA, issues server certificates for loopback names,
//! and builds HTTP clients that trust it (besides the usual public roots); [`serve_tls`] serves
//! any axum router over TLS. Nothing is written to disk and nothing is added to a system trust
//! store: only clients built here trust the CA, and it dies with the process.
//!
//! Crypto is rustls with the *ring* provider, the one reqwest already uses (aws-lc-rs would add
//! a heavy C build).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::Listener;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

pub use crate::ServerHandle;

/// A client that has not finished its TLS handshake by then is dropped, so a stalled client
/// cannot hold a connection slot forever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default whole-request timeout of the clients built by [`LocalCa::client`].
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a certificate, TLS configuration or client could not be made. Codes are stable.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate a certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot build the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    #[error("cannot build an HTTP client trusting the local CA: {0}")]
    Client(#[from] reqwest::Error),
}

impl TlsError {
    pub fn code(&self) -> &'static str {
        match self {
            TlsError::Certificate(_) => "tls/certificate",
            TlsError::Config(_) => "tls/config",
            TlsError::Client(_) => "tls/client",
        }
    }
}

/// A certificate authority that lives in memory for one run.
pub struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
    cert_der: CertificateDer<'static>,
}

impl std::fmt::Debug for LocalCa {
    // The CA's private key must never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa").finish_non_exhaustive()
    }
}

impl LocalCa {
    /// A fresh CA (ECDSA P-256, valid from yesterday for 30 days, so clock skew between the
    /// machine and a container does not matter).
    pub fn generate() -> Result<LocalCa, TlsError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params
            .distinguished_name
            .push(DnType::CommonName, "ssoproof local CA");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "ssoproof");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        set_validity(&mut params);
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(LocalCa {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA certificate, PEM-encoded: hand it to other clients (curl `--cacert`, Python
    /// `REQUESTS_CA_BUNDLE`, a container's trust store) that must reach servers it signed.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A server certificate for `names` (IP addresses become IP SANs, the rest DNS SANs),
    /// signed by this CA.
    pub fn issue_server_cert(&self, names: &[&str]) -> Result<ServerCert, TlsError> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone())?;
        if let Some(first) = names.first() {
            params
                .distinguished_name
                .push(DnType::CommonName, first.as_str());
        }
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        set_validity(&mut params);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(ServerCert {
            chain: vec![cert.der().clone(), self.cert_der.clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    /// The CA as a root certificate for reqwest.
    pub fn root_certificate(&self) -> Result<reqwest::Certificate, TlsError> {
        Ok(reqwest::Certificate::from_pem(self.cert_pem.as_bytes())?)
    }

    /// A client builder that trusts this CA as well as the public roots, with a request
    /// timeout; add cookies, redirects and the like before building.
    pub fn client_builder(&self) -> Result<reqwest::ClientBuilder, TlsError> {
        Ok(reqwest::Client::builder()
            .add_root_certificate(self.root_certificate()?)
            .tls_built_in_root_certs(true)
            .timeout(CLIENT_TIMEOUT))
    }

    /// A client that trusts this CA as well as the public roots.
    pub fn client(&self) -> Result<reqwest::Client, TlsError> {
        Ok(self.client_builder()?.build()?)
    }
}

fn set_validity(params: &mut CertificateParams) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(30);
}

/// A server certificate chain and its private key.
pub struct ServerCert {
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for ServerCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCert").finish_non_exhaustive()
    }
}

impl ServerCert {
    /// A rustls server configuration presenting this certificate, TLS 1.2 and 1.3, HTTP/1.1.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                self.chain.clone(),
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )?;
        // axum serves HTTP/1.1 only here; saying so stops clients from trying h2.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Serves `router` over TLS on a bound listener. Binding is the caller's so it can learn the
/// port first (an issuer URL names it). Returns the handle that keeps the server alive;
/// dropping it shuts the server down gracefully.
pub fn serve_tls(
    tcp: TcpListener,
    router: axum::Router,
    server: Arc<rustls::ServerConfig>,
) -> io::Result<ServerHandle> {
    ServerHandle::spawn(TlsListener::new(tcp, server)?, router)
}

/// A listener whose connections have completed their TLS handshake. Handshakes run on their
/// own tasks, so one slow or hostile client cannot hold up the others.
struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> io::Result<TlsListener> {
        let addr = tcp.local_addr()?;
        let (send, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let acceptor = tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    // Out of file descriptors and the like: back off instead of spinning.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let send = send.clone();
                tokio::spawn(async move {
                    // A failed or stalled handshake only concerns that client: drop it.
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        let _ = send.send((tls, peer)).await;
                    }
                });
            }
        });
        Ok(TlsListener {
            ready,
            addr,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // The accept loop owns the socket: stopping it closes the port.
        self.acceptor.abort();
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop only ends when this listener is dropped, so this is unreachable
            // in practice; waiting forever is the honest answer for "no more connections".
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn hello_server(ca: &LocalCa) -> (SocketAddr, ServerHandle) {
        let cert = ca.issue_server_cert(&["127.0.0.1", "localhost"]).unwrap();
        let router = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = serve_tls(tcp, router, cert.server_config().unwrap()).unwrap();
        (server.local_addr(), server)
    }

    #[tokio::test]
    async fn a_client_trusting_the_ca_gets_through_by_ip_and_by_name() {
        let ca = LocalCa::generate().unwrap();
        let (addr, _server) = hello_server(&ca).await;
        let client = ca.client().unwrap();
        for host in ["127.0.0.1", "localhost"] {
            let url = format!("https://{host}:{}/hello", addr.port());
            let body = client.get(&url).send().await.unwrap().text().await.unwrap();
            assert_eq!(body, "hello", "{url}");
        }
    }

    #[tokio::test]
    async fn a_client_without_the_ca_is_refused_and_the_server_survives_it() {
        let ca = LocalCa::generate().unwrap();
        let (addr, _server) = hello_server(&ca).await;
        let url = format!("https://{addr}/hello");
        let plain = reqwest::Client::builder()
            .timeout(CLIENT_TIMEOUT)
            .build()
            .unwrap();
        let err = plain.get(&url).send().await.unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        // Another CA's client is refused as well.
        let other = LocalCa::generate().unwrap().client().unwrap();
        assert!(other.get(&url).send().await.is_err());
        // A client speaking plain HTTP to the TLS port fails its handshake alone.
        assert!(plain
            .get(format!("http://{addr}/hello"))
            .send()
            .await
            .is_err());
        let body = ca
            .client()
            .unwrap()
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "hello");
    }

    #[tokio::test]
    async fn dropping_the_handle_closes_the_port() {
        let ca = LocalCa::generate().unwrap();
        let (addr, server) = hello_server(&ca).await;
        server.shutdown().await.unwrap();
        let err = ca
            .client()
            .unwrap()
            .get(format!("https://{addr}/hello"))
            .send()
            .await;
        assert!(err.is_err());
    }

    #[test]
    fn debug_output_carries_no_key_material() {
        let ca = LocalCa::generate().unwrap();
        let cert = ca.issue_server_cert(&["127.0.0.1"]).unwrap();
        assert_eq!(
            format!("{ca:?} {cert:?}"),
            "LocalCa { .. } ServerCert { .. }"
        );
        assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    }
}

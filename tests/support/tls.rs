//! A TLS OTLP receiver on loopback: a TLS-terminating proxy with a certificate made at test time
//! (`rcgen`: a CA, and a server certificate for `localhost` and `127.0.0.1` signed by it), in
//! front of a plain-text receiver (the mock collector). The exporter under test speaks real TLS
//! to the proxy; the proxy hands the decrypted bytes on, both ways, so the receiver decodes them.
//! For mutual TLS the proxy requires a client certificate signed by a CA of its own.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// A CA and a server certificate it signed; the CA's PEM written to `ca_path`.
pub struct Certs {
    pub ca_path: PathBuf,
    dir: PathBuf,
    name: String,
    ca: CertifiedIssuer<'static, KeyPair>,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
}

/// A client certificate and its key, as PEM files.
pub struct ClientCert {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

impl Certs {
    /// A new CA (named `name`) and server certificate, the CA's PEM written into `dir`.
    pub fn new(dir: &Path, name: &str) -> Certs {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("{name} test CA"));
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let server_key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&server_key, &ca)
            .unwrap();
        std::fs::create_dir_all(dir).unwrap();
        let ca_path = dir.join(format!("{name}-ca.pem"));
        std::fs::write(&ca_path, ca.pem()).unwrap();
        Certs {
            ca_path,
            dir: dir.to_owned(),
            name: name.to_owned(),
            ca,
            server_chain: vec![server.der().clone()],
            server_key: server_key.serialize_der(),
        }
    }

    /// A client certificate signed by this CA, written as `<name>-client-<client>.pem` and its
    /// `-key.pem`.
    pub fn client(&self, client: &str) -> ClientCert {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, client.to_owned());
        let cert = params.signed_by(&key, &self.ca).unwrap();
        let base = self.dir.join(format!("{}-client-{client}", self.name));
        let cert_path = base.with_extension("pem");
        let key_path = self
            .dir
            .join(format!("{}-client-{client}-key.pem", self.name));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        ClientCert {
            cert_path,
            key_path,
        }
    }

    /// The server's configuration; with `clients`, a client certificate signed by that CA is
    /// required.
    fn server_config(&self, alpn: &[&[u8]], clients: Option<&Certs>) -> ServerConfig {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone()));
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match clients {
            None => builder.with_no_client_auth(),
            Some(clients) => {
                let mut roots = RootCertStore::empty();
                roots.add(clients.ca.der().clone()).unwrap();
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .unwrap();
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(self.server_chain.clone(), key)
            .unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        config
    }
}

/// Starts the proxy on loopback in front of `upstream`, on the current Tokio runtime; returns
/// its address. `alpn` is what it offers (`http/1.1` for OTLP/HTTP, `h2` for gRPC). A handshake
/// that fails (an untrusted certificate, a missing client certificate) closes that connection
/// only. With `clients`, a client certificate signed by that CA is required.
pub async fn proxy(
    certs: &Certs,
    upstream: SocketAddr,
    alpn: &[&[u8]],
    clients: Option<&Certs>,
) -> SocketAddr {
    let acceptor = TlsAcceptor::from(Arc::new(certs.server_config(alpn, clients)));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(client).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}

//! TLS for OTLP over `https://`: one trust decision per signal ([`Tls`]), given to both clients:
//! whole, as a rustls configuration, to the HTTP exporters' client, and as trust anchors and a
//! client identity to tonic's TLS for gRPC. Both use the `ring` provider; no process-wide provider
//! is installed, so a service's own choice is never overridden.
//!
//! What is trusted: the system's root certificates (`rustls-native-certs`: the CA bundle of the
//! image, so that a company's own CA installed there works and the roots follow the system's
//! updates), and with the `tls-webpki-roots` feature Mozilla's roots built into the binary besides
//! (for images with no CA bundle); and the CA certificates of `OTEL_EXPORTER_OTLP_CERTIFICATE`.
//! Mutual TLS presents the chain of `_CLIENT_CERTIFICATE` with the key of `_CLIENT_KEY`.
//!
//! A file that cannot be read or parsed never stops the service: it is warned about, naming the
//! variable and the path, and the connection is made without it, as the warning and the startup
//! line ([`Tls::describe`]) say.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use crate::init::env::{TlsFile, TlsFiles};

/// What one signal's exporter trusts and presents over TLS.
pub(crate) struct Tls {
    roots: RootCertStore,
    identity: Option<Identity>,
    /// `the system's root certificates (146) and OTEL_EXPORTER_OTLP_CERTIFICATE (1); client
    /// certificate of OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`: what the startup line says is in
    /// use.
    description: String,
}

/// A client certificate chain and its key, parsed (for rustls) and as the files hold them (for
/// tonic, which parses the PEM itself).
struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    chain_pem: Vec<u8>,
    key_pem: Vec<u8>,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client configuration builder with the ring provider and its default protocol versions.
fn builder() -> rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier> {
    match ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions() {
        Ok(builder) => builder,
        // The ring provider supports the default versions: this cannot fail, and if it did the
        // process default would be the next best thing.
        Err(_) => ClientConfig::builder(),
    }
}

/// The configuration of a client that never speaks TLS (an `http://` endpoint): the HTTP
/// exporters' connector takes one whatever the scheme.
pub(crate) fn plain() -> ClientConfig {
    builder()
        .with_root_certificates(RootCertStore::empty())
        .with_no_client_auth()
}

impl Tls {
    /// Reads `files`; what cannot be used is pushed onto `warnings` (`VAR="path": why; what is
    /// done instead`).
    pub(crate) fn new(files: &TlsFiles, warnings: &mut Vec<String>) -> Tls {
        let (mut roots, base) = base_roots(warnings);
        let mut description = base.clone();
        if let Some(file) = &files.certificate {
            let instead = format!("{base} alone are trusted");
            match read(file).and_then(|pem| certificates(&pem)) {
                Ok(certs) => {
                    let (added, ignored) = roots.add_parsable_certificates(certs);
                    if added == 0 {
                        warnings.push(unusable(
                            file,
                            &format!("none of its {ignored} certificates is a usable CA"),
                            &instead,
                        ));
                    } else {
                        description = format!("{description} and {} ({added})", file.var);
                    }
                }
                Err(why) => warnings.push(unusable(file, &why, &instead)),
            }
        }
        let identity = identity(files, &roots, warnings);
        if let (Some(_), Some(cert)) = (&identity, &files.client_certificate) {
            description = format!("{description}; client certificate of {}", cert.var);
        }
        Tls {
            roots,
            identity,
            description,
        }
    }

    /// What is trusted and presented, for the startup line.
    pub(crate) fn describe(&self) -> &str {
        &self.description
    }

    /// The rustls configuration of the HTTP exporters' client.
    pub(crate) fn rustls(&self) -> ClientConfig {
        let builder = builder().with_root_certificates(self.roots.clone());
        match &self.identity {
            Some(id) => match builder
                .clone()
                .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
            {
                Ok(config) => config,
                // [`identity`] built this same configuration before keeping the identity.
                Err(_) => builder.with_no_client_auth(),
            },
            None => builder.with_no_client_auth(),
        }
    }

    /// The same trust and identity for tonic's TLS (gRPC): the roots as trust anchors, the
    /// identity as the PEM files gave it. tonic picks the process-wide provider if one is
    /// installed, else ring.
    pub(crate) fn tonic(&self) -> tonic::transport::ClientTlsConfig {
        let config =
            tonic::transport::ClientTlsConfig::new().trust_anchors(self.roots.roots.clone());
        match &self.identity {
            Some(id) => config.identity(tonic::transport::Identity::from_pem(
                &id.chain_pem,
                &id.key_pem,
            )),
            None => config,
        }
    }
}

/// The roots every `https://` connection trusts, and what they are called in warnings and the
/// startup line: the system's, and with the `tls-webpki-roots` feature the bundled ones besides
/// (in an image without a CA bundle, those alone).
fn base_roots(warnings: &mut Vec<String>) -> (RootCertStore, String) {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (system, _) = roots.add_parsable_certificates(native.certs);
    let system_name = format!("the system's root certificates ({system})");
    #[cfg(feature = "tls-webpki-roots")]
    {
        let _ = warnings;
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let bundled = webpki_roots::TLS_SERVER_ROOTS.len();
        (
            roots,
            format!("{system_name} and the bundled webpki roots ({bundled})"),
        )
    }
    #[cfg(not(feature = "tls-webpki-roots"))]
    {
        if system == 0 {
            let why = native
                .errors
                .first()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            warnings.push(format!(
                "no system root certificate could be loaded{why}; only \
                 OTEL_EXPORTER_OTLP_CERTIFICATE's are trusted (the tls-webpki-roots feature \
                 builds Mozilla's roots into the binary)"
            ));
        }
        (roots, system_name)
    }
}

/// The client identity of `_CLIENT_CERTIFICATE` and `_CLIENT_KEY`, if both are given and usable
/// together (rustls checks that the key is the certificate's).
fn identity(
    files: &TlsFiles,
    roots: &RootCertStore,
    warnings: &mut Vec<String>,
) -> Option<Identity> {
    let no_identity = "connecting without a client certificate";
    let (cert, key) = match (&files.client_certificate, &files.client_key) {
        (None, None) => return None,
        (Some(cert), Some(key)) => (cert, key),
        (Some(alone), None) | (None, Some(alone)) => {
            warnings.push(unusable(
                alone,
                "a client certificate needs both _CLIENT_CERTIFICATE and _CLIENT_KEY",
                no_identity,
            ));
            return None;
        }
    };
    let chain_pem = match read(cert) {
        Ok(pem) => pem,
        Err(why) => {
            warnings.push(unusable(cert, &why, no_identity));
            return None;
        }
    };
    let chain = match certificates(&chain_pem) {
        Ok(chain) => chain,
        Err(why) => {
            warnings.push(unusable(cert, &why, no_identity));
            return None;
        }
    };
    let key_pem = match read(key) {
        Ok(pem) => pem,
        Err(why) => {
            warnings.push(unusable(key, &why, no_identity));
            return None;
        }
    };
    let key_der = match PrivateKeyDer::from_pem_slice(&key_pem) {
        Ok(der) => der,
        Err(e) => {
            warnings.push(unusable(
                key,
                &format!("not a PEM private key: {e}"),
                no_identity,
            ));
            return None;
        }
    };
    let check = builder()
        .with_root_certificates(roots.clone())
        .with_client_auth_cert(chain.clone(), key_der.clone_key());
    if let Err(e) = check {
        warnings.push(unusable(
            key,
            &format!("does not go with {}: {e}", cert.var),
            no_identity,
        ));
        return None;
    }
    Some(Identity {
        chain,
        key: key_der,
        chain_pem,
        key_pem,
    })
}

fn unusable(file: &TlsFile, why: &str, instead: &str) -> String {
    format!("{}=\"{}\": {why}; {instead}", file.var, file.path)
}

fn read(file: &TlsFile) -> Result<Vec<u8>, String> {
    std::fs::read(&file.path).map_err(|e| format!("cannot be read: {e}"))
}

/// The PEM certificates of a file, at least one.
fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err("holds no PEM certificate".to_owned());
    }
    Ok(certs)
}

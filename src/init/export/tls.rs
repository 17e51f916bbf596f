//! TLS for OTLP over `https://`: the rustls configuration the HTTP exporters' client is given
//! whole, with the `ring` provider (no process-wide provider is installed, so a service's own
//! choice is never overridden), the system's root certificates, the CA certificates of
//! `OTEL_EXPORTER_OTLP_CERTIFICATE` and the client identity of `_CLIENT_CERTIFICATE` /
//! `_CLIENT_KEY`.
//!
//! A file that cannot be read or parsed never stops the service: it is warned about once, naming
//! the variable and the path, and the connection is made without it, as the warning says.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use crate::init::env::{TlsFile, TlsFiles};

/// The configuration of a client that never speaks TLS (an `http://` endpoint): reqwest, built
/// with `rustls-no-provider`, panics when it is given none and no process-wide provider is
/// installed.
pub(crate) fn plain() -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    match ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
        Ok(builder) => builder
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth(),
        Err(_) => ClientConfig::builder()
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth(),
    }
}

/// The client configuration for `files`, and the warnings about what could not be used.
pub(crate) fn client_config(files: &TlsFiles, warnings: &mut Vec<String>) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (system, _) = roots.add_parsable_certificates(native.certs);
    if system == 0 {
        let why = native
            .errors
            .first()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        warnings.push(format!(
            "no system root certificate could be loaded{why}; only OTEL_EXPORTER_OTLP_CERTIFICATE's are trusted"
        ));
    }
    if let Some(file) = &files.certificate {
        match certificates(file) {
            Ok(certs) => {
                let (added, ignored) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    warnings.push(unusable(
                        file,
                        &format!("none of its {ignored} certificates is a usable CA"),
                        "the system's root certificates alone are trusted",
                    ));
                }
            }
            Err(why) => warnings.push(unusable(
                file,
                &why,
                "the system's root certificates alone are trusted",
            )),
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder =
        match ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
            Ok(builder) => builder.with_root_certificates(roots),
            // The ring provider supports the default versions: this cannot fail, and if it did the
            // builder's defaults would be the next best thing.
            Err(_) => ClientConfig::builder().with_root_certificates(RootCertStore::empty()),
        };
    let no_identity = "connecting without a client certificate";
    match (&files.client_certificate, &files.client_key) {
        (None, None) => builder.with_no_client_auth(),
        (Some(cert), Some(key)) => match (certificates(cert), private_key(key)) {
            (Ok(chain), Ok(key_der)) => {
                let fallback = builder.clone();
                match builder.with_client_auth_cert(chain, key_der) {
                    Ok(config) => config,
                    Err(e) => {
                        warnings.push(unusable(
                            key,
                            &format!("does not go with {}: {e}", cert.var),
                            no_identity,
                        ));
                        fallback.with_no_client_auth()
                    }
                }
            }
            (Err(why), _) => {
                warnings.push(unusable(cert, &why, no_identity));
                builder.with_no_client_auth()
            }
            (_, Err(why)) => {
                warnings.push(unusable(key, &why, no_identity));
                builder.with_no_client_auth()
            }
        },
        (Some(alone), None) | (None, Some(alone)) => {
            warnings.push(unusable(
                alone,
                "a client certificate needs both _CLIENT_CERTIFICATE and _CLIENT_KEY",
                no_identity,
            ));
            builder.with_no_client_auth()
        }
    }
}

fn unusable(file: &TlsFile, why: &str, instead: &str) -> String {
    format!("{}=\"{}\": {why}; {instead}", file.var, file.path)
}

/// The PEM certificates of `file`, at least one.
fn certificates(file: &TlsFile) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(&file.path)
        .map_err(|e| format!("cannot be read: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err("holds no PEM certificate".to_owned());
    }
    Ok(certs)
}

fn private_key(file: &TlsFile) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(&file.path).map_err(|e| format!("not a PEM private key: {e}"))
}

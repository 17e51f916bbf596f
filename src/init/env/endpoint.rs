//! OTLP endpoint URLs: judged by the `url` and `http` crates, then cut, on the text as given, where
//! the signal path goes.
//!
//! An endpoint is accepted only if the exporters can use the final string (the signal path
//! appended) as they will use it: [`usable`]. A value they would refuse at build time would fail
//! the init, one they would refuse at each export would lose every span.
//!
//! The endpoint is passed on spelled as the user wrote it: a `url::Url` would serialise it
//! normalised (scheme and host lowercased, a default port dropped, `.` and `..` segments resolved,
//! characters percent-encoded, a `/` added), which is not what the variable says.

use super::Protocol;

/// The longest URI `http::Uri` parses, in bytes (its `MAX_LEN`, which is not public).
const URI_MAX_LEN: usize = u16::MAX as usize - 1;

/// An endpoint, as given, cut where the signal path goes.
#[derive(Debug, PartialEq)]
pub(super) struct Endpoint<'a> {
    /// Scheme and authority: `http://host:4318`.
    pub(super) origin: &'a str,
    /// From the first `/` after the authority to the query or fragment; may be empty.
    pub(super) path: &'a str,
    /// The query and fragment, from `?` or `#`; may be empty.
    pub(super) rest: &'a str,
}

impl Endpoint<'_> {
    /// As given, with `/` for an empty path.
    pub(super) fn with_root_path(&self) -> String {
        let path = if self.path.is_empty() { "/" } else { self.path };
        format!("{}{path}{}", self.origin, self.rest)
    }

    /// With `path` (`v1/<signal>`) appended after exactly one `/`.
    pub(super) fn with_path_appended(&self, path: &str) -> String {
        let base = self.path.trim_end_matches('/');
        format!("{}{base}/{path}{}", self.origin, self.rest)
    }
}

/// `value` cut into its parts, if it is an `http://` or `https://` URL with a host that both
/// parsers accept:
///
/// - `url::Url` (the WHATWG rules, as reqwest reads URLs) checks the host (an IP literal, IPv4
///   address or domain name) and the port;
/// - `http::Uri` is what opentelemetry-otlp and tonic build the exporters from: an endpoint it
///   refuses would fail the init instead of being warned about here.
pub(super) fn parse(value: &str) -> Result<Endpoint<'_>, String> {
    let not_a_url = || "not an http:// or https:// URL with a host".to_owned();
    // `url::Url::parse` removes tabs and newlines anywhere and trims controls and spaces at both
    // ends: what it accepted would not be the text passed on.
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(not_a_url());
    }
    let url = url::Url::parse(value).map_err(|_| not_a_url())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(not_a_url());
    }
    // WHATWG also reads `http:host`, `http:/host` and `http:///host` as `http://host`; the text
    // passed on must itself be `scheme://authority`.
    let scheme_len = url.scheme().len();
    if value.get(scheme_len..scheme_len + "://".len()) != Some("://") {
        return Err(not_a_url());
    }
    if value.parse::<http::Uri>().is_err() {
        return Err(not_a_url());
    }
    let endpoint = cut(value);
    if endpoint.origin.len() == scheme_len + "://".len() {
        // An empty authority: `url` skipped slashes to find a host in the path.
        return Err(not_a_url());
    }
    Ok(endpoint)
}

/// Cuts an endpoint [`parse`] accepted (any other text gives meaningless parts, without panicking).
///
/// The authority ends at the first `/`, `?` or `#`, where both parsers end it (`url` also ends it
/// at a `\`, which `http::Uri` refuses in an authority).
pub(super) fn cut(value: &str) -> Endpoint<'_> {
    let authority_start = value.find("://").map_or(0, |i| i + "://".len());
    let origin_len = value[authority_start..]
        .find(['/', '?', '#'])
        .map_or(value.len(), |i| authority_start + i);
    let rest_start = value[origin_len..]
        .find(['?', '#'])
        .map_or(value.len(), |i| origin_len + i);
    Endpoint {
        origin: &value[..origin_len],
        path: &value[origin_len..rest_start],
        rest: &value[rest_start..],
    }
}

/// Whether the exporter for `protocol` can be built with `full`, the final endpoint (the signal
/// path appended for HTTP), and send to it, in this build ([`usable_in`] with whether it has the
/// `tls` feature).
pub(super) fn usable(full: &str, protocol: Protocol) -> Result<(), String> {
    usable_in(full, protocol, cfg!(feature = "tls"))
}

/// [`usable`] in a build with or without TLS. It follows, on the same string, what each exporter
/// does:
///
/// - opentelemetry-otlp's HTTP exporter parses it as an `http::Uri` when it is built;
/// - tonic's `Endpoint::from_shared` parses it as an `http::Uri`;
/// - an HTTP endpoint must stay a WHATWG URL (`url::Url`) with its signal path, as [`parse`]
///   requires of every endpoint variable;
/// - without TLS, an `https://` endpoint would be refused when the gRPC exporter is built (an
///   init error) and fail every HTTP export ("network error"): it is refused here, saying why.
pub(super) fn usable_in(full: &str, protocol: Protocol, tls: bool) -> Result<(), String> {
    let uri: http::Uri = full.parse().map_err(|_| {
        if full.len() > URI_MAX_LEN {
            format!(
                "longer than the exporter accepts once the signal path is added \
                 ({} bytes; at most {})",
                full.len(),
                URI_MAX_LEN
            )
        } else {
            "not a URI the exporter accepts once the signal path is added".to_owned()
        }
    })?;
    let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
    if https && !tls {
        return Err(
            "https:// needs the `tls` feature of tracing-correlate, which this build does not \
             have (it is a default feature)"
                .to_owned(),
        );
    }
    #[cfg(feature = "tls")]
    if https {
        tls_server_name(&uri)?;
    }
    match protocol {
        Protocol::Grpc => Ok(()),
        Protocol::HttpProtobuf | Protocol::HttpJson => url::Url::parse(&uri.to_string())
            .map(|_| ())
            .map_err(|_| "not a URL the HTTP client accepts".to_owned()),
    }
}

/// Whether the host of an `https://` endpoint is a name TLS can check the certificate against:
/// tonic (gRPC, when the exporter is built: an init error) and hyper-rustls (HTTP, at every
/// export) both take the URI's host, without an IPv6 address's brackets, as a rustls
/// `ServerName`, which refuses some hosts a URL allows (`https://0`: a label of digits only).
#[cfg(feature = "tls")]
fn tls_server_name(uri: &http::Uri) -> Result<(), String> {
    let host = uri.host().unwrap_or_default();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    rustls::pki_types::ServerName::try_from(host)
        .map(|_| ())
        .map_err(|e| format!("its host is not a name TLS can verify ({e})"))
}

/// The final endpoint of `base` for one signal: the base as given for gRPC, with `signal_path`
/// appended after exactly one `/` for HTTP.
pub(super) fn from_base(base: &str, protocol: Protocol, signal_path: &str) -> String {
    match protocol {
        Protocol::Grpc => base.to_owned(),
        Protocol::HttpProtobuf | Protocol::HttpJson => cut(base).with_path_appended(signal_path),
    }
}

/// An endpoint [`parse`] accepted, without the userinfo (`user:password@`) of its authority;
/// `None` when it has none.
pub(super) fn without_userinfo(value: &str) -> Option<String> {
    let endpoint = cut(value);
    let authority_start = endpoint.origin.find("://")? + "://".len();
    let at = endpoint.origin[authority_start..].rfind('@')? + authority_start;
    Some(format!(
        "{}{}{}{}",
        &endpoint.origin[..authority_start],
        &endpoint.origin[at + 1..],
        endpoint.path,
        endpoint.rest
    ))
}

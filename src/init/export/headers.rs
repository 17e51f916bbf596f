//! The headers an OTLP request carries: exactly those the crate reports, whatever the environment.
//!
//! `opentelemetry-otlp` reads `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_<SIGNAL>_HEADERS`
//! itself, with its own rules (no strict percent-decoding, a bad entry skipped rather than the whole
//! variable discarded, the signal variable used even when the crate refused it), and merges them
//! over the headers it is given; its builders have no setting that stops it. So the headers are
//! set again where the request leaves: by a wrapping HTTP client for HTTP ([`ExactHeadersClient`])
//! and by a tonic interceptor for gRPC ([`exact_metadata`]), each replacing whatever the exporter
//! put there with the crate's own list. The process environment is never changed (`set_var` and
//! `remove_var` race with every thread that reads it).

use std::fmt;
use std::sync::Arc;

use http::header::{
    HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT,
};
use hyper_util::client::legacy::connect::HttpConnector;
use opentelemetry_http::hyper::HyperClient;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::tonic_types::metadata::MetadataMap;

use crate::init::env::{Compression, Protocol};
use crate::init::export::Tls;

/// The `User-Agent` prefix `opentelemetry-otlp` gives its HTTP requests; a `User-Agent` without it
/// came from the environment's headers.
const EXPORTER_USER_AGENT: &str = "OTel-OTLP-Exporter-Rust/";

/// The crate's headers as one map: a name given twice keeps its last value (as the HTTP
/// exporter's own map and tonic's metadata would). `env` validated every pair; one that `http`
/// still refused would be skipped here, as the exporters skip it.
pub(crate) fn header_map(headers: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            map.insert(name, value);
        }
    }
    map
}

/// The interceptor of the gRPC exporter: the request's metadata becomes exactly `headers`, plus
/// the exporter's own `User-Agent` (unless `headers` names one), as over HTTP.
/// `opentelemetry-otlp` runs a given interceptor after the one that adds its metadata (the
/// crate's, merged with what it read from the environment), so this one has the last word.
pub(crate) fn exact_metadata(
    headers: HeaderMap,
) -> impl FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Clone + Send + Sync
{
    let names_user_agent = headers.contains_key(USER_AGENT);
    let metadata = MetadataMap::from_headers(headers);
    move |mut request: tonic::Request<()>| {
        let user_agent = request
            .metadata()
            .get(USER_AGENT.as_str())
            .filter(|ua| ua.as_bytes().starts_with(EXPORTER_USER_AGENT.as_bytes()))
            .cloned()
            .filter(|_| !names_user_agent);
        *request.metadata_mut() = metadata.clone();
        if let Some(user_agent) = user_agent {
            request
                .metadata_mut()
                .insert(USER_AGENT.as_str(), user_agent);
        }
        Ok(request)
    }
}

/// The connector of the HTTP exporters' client: hyper-rustls over hyper's, or hyper's alone in a
/// build without TLS (where `env` refuses `https://` endpoints).
#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(not(feature = "tls"))]
type Connector = HttpConnector;

/// `tls` is the endpoint's when it is `https://`; `http://` endpoints go in the clear through the
/// same connector.
#[cfg(feature = "tls")]
fn connector(tls: Option<&Tls>) -> Connector {
    let config = tls.map_or_else(crate::init::export::tls::plain, Tls::rustls);
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .build()
}

#[cfg(not(feature = "tls"))]
fn connector(tls: Option<&Tls>) -> Connector {
    match tls {
        None => HttpConnector::new(),
        Some(never) => match *never {},
    }
}

/// The HTTP client of the HTTP exporters: `opentelemetry-http`'s hyper client (with the
/// exporter's timeout) over [`Connector`], with each request's headers replaced by the protocol's
/// own and the crate's list.
pub(crate) struct ExactHeadersClient {
    inner: HyperClient<Connector>,
    headers: Arc<HeaderMap>,
    cause: TransportCause,
}

/// The text of the last failed send, with its causes (`…: invalid peer certificate:
/// UnknownIssuer`): `opentelemetry-otlp` replaces the client's error with "network error", so
/// `Counting` reads the cause here to name it in the export's error line.
pub(crate) type TransportCause = Arc<std::sync::Mutex<Option<String>>>;

impl ExactHeadersClient {
    /// `headers` are the crate's; `protocol` and `compression` give `Content-Type` and
    /// `Content-Encoding`, which the exporter sets from the same configuration.
    pub(crate) fn new(
        timeout: std::time::Duration,
        protocol: Protocol,
        compression: Option<Compression>,
        headers: HeaderMap,
        tls: Option<&Tls>,
        cause: TransportCause,
    ) -> ExactHeadersClient {
        let inner = HyperClient::new(connector(tls), timeout, None);
        let content_type = match protocol {
            Protocol::HttpJson => "application/json",
            Protocol::HttpProtobuf | Protocol::Grpc => "application/x-protobuf",
        };
        let mut all = HeaderMap::new();
        all.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Some(Compression::Gzip) = compression {
            all.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        // The crate's headers last: one named like a protocol header replaces it, as it does in
        // the exporter.
        for (name, value) in &headers {
            all.insert(name.clone(), value.clone());
        }
        ExactHeadersClient {
            inner,
            headers: Arc::new(all),
            cause,
        }
    }

    /// The headers `request` leaves with: the exporter's own `User-Agent` (unless the crate's list
    /// names one), then exactly [`Self::headers`].
    fn set_headers(&self, request: &mut Request<Bytes>) {
        let user_agent = request
            .headers()
            .get(USER_AGENT)
            .filter(|ua| ua.as_bytes().starts_with(EXPORTER_USER_AGENT.as_bytes()))
            .cloned();
        let headers = request.headers_mut();
        headers.clear();
        if let Some(user_agent) = user_agent {
            headers.insert(USER_AGENT, user_agent);
        }
        for (name, value) in self.headers.iter() {
            headers.insert(name.clone(), value.clone());
        }
    }
}

impl fmt::Debug for ExactHeadersClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values usually hold credentials: only the names.
        f.debug_struct("ExactHeadersClient")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl HttpClient for ExactHeadersClient {
    async fn send_bytes(&self, mut request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        self.set_headers(&mut request);
        let sent = self.inner.send_bytes(request).await;
        if let Err(e) = &sent {
            let mut text = e.to_string();
            crate::exception::walk_causes(&**e, 8, |cause| {
                text.push_str(": ");
                text.push_str(&cause.to_string());
            });
            if let Ok(mut slot) = self.cause.lock() {
                *slot = Some(text);
            }
        }
        sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn request(headers: &[(&str, &str)]) -> Request<Bytes> {
        let mut builder = Request::builder().uri("http://127.0.0.1:4318/v1/traces");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Bytes::new()).unwrap()
    }

    fn sent(client: &ExactHeadersClient, headers: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut request = request(headers);
        client.set_headers(&mut request);
        let mut sent: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect();
        sent.sort();
        sent
    }

    #[test]
    fn the_request_leaves_with_exactly_the_protocol_headers_and_the_crate_s() {
        let client = ExactHeadersClient::new(
            std::time::Duration::from_secs(1),
            Protocol::HttpProtobuf,
            Some(Compression::Gzip),
            header_map(&pairs(&[
                ("api-key", "ours"),
                ("X-Dup", "1"),
                ("x-dup", "2"),
            ])),
            None,
            TransportCause::default(),
        );
        // What the exporter built: its own headers, and some from the environment.
        let built = [
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "gzip"),
            ("user-agent", "OTel-OTLP-Exporter-Rust/0.33.1"),
            ("api-key", "from-env"),
            ("x-discarded", "from-env"),
        ];
        assert_eq!(
            sent(&client, &built),
            pairs(&[
                ("api-key", "ours"),
                ("content-encoding", "gzip"),
                ("content-type", "application/x-protobuf"),
                ("user-agent", "OTel-OTLP-Exporter-Rust/0.33.1"),
                ("x-dup", "2"),
            ])
        );
        // A User-Agent the environment replaced is not the exporter's: it is dropped.
        let built = [("user-agent", "from-env")];
        assert!(!sent(&client, &built).iter().any(|(k, _)| k == "user-agent"));
    }

    #[test]
    fn json_without_compression_has_its_content_type_and_no_encoding() {
        let client = ExactHeadersClient::new(
            std::time::Duration::from_secs(1),
            Protocol::HttpJson,
            None,
            HeaderMap::new(),
            None,
            TransportCause::default(),
        );
        let built = [
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ];
        assert_eq!(
            sent(&client, &built),
            pairs(&[("content-type", "application/json")])
        );
    }

    #[test]
    fn the_interceptor_replaces_the_metadata_whole() {
        let mut intercept = exact_metadata(header_map(&pairs(&[("api-key", "ours")])));
        let mut request = tonic::Request::new(());
        request
            .metadata_mut()
            .insert("api-key", "from-env".parse().unwrap());
        request
            .metadata_mut()
            .insert("x-discarded", "from-env".parse().unwrap());
        let request = intercept(request).unwrap();
        let metadata = request.metadata().clone().into_headers();
        assert_eq!(metadata.len(), 1);
        assert_eq!(metadata["api-key"], "ours");
    }
}

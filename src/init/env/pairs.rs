//! `key=value` lists (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_*HEADERS`): split, trimmed,
//! strictly percent-decoded, and for headers checked against what an HTTP client sends.

use percent_encoding::percent_decode_str;

/// `k=v,k2=v2`, keys and values trimmed then percent-decoded, each pair checked by `check`;
/// blank entries are skipped. Any bad pair rejects the whole list, with the reason.
pub(super) fn parse(
    value: &str,
    check: impl Fn(&str, &str) -> Result<(), &'static str>,
) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for (index, entry) in value.split(',').enumerate() {
        let n = index + 1;
        if entry.trim().is_empty() {
            continue;
        }
        // Split at the first `=`: an unencoded `=` in a value (base64 padding) is kept.
        let Some((key, value)) = entry.split_once('=') else {
            return Err(format!("entry {n} is not key=value"));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("entry {n} has an empty key"));
        }
        let key = percent_decode(key).map_err(|why| format!("entry {n}: the key {why}"))?;
        let value =
            percent_decode(value.trim()).map_err(|why| format!("entry {n}: the value {why}"))?;
        check(&key, &value).map_err(|why| format!("entry {n}: {why}"))?;
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Strict percent-decoding. The escapes are checked here because `percent_decode_str` passes a `%`
/// without two hex digits through unchanged, and the specification counts that as a decoding
/// failure (the whole variable is then discarded).
fn percent_decode(s: &str) -> Result<String, &'static str> {
    let bytes = s.as_bytes();
    let escapes_ok = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || matches!(
                (bytes.get(i + 1), bytes.get(i + 2)),
                (Some(hi), Some(lo)) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit()
            )
    });
    if !escapes_ok {
        return Err("has a % not followed by two hex digits");
    }
    percent_decode_str(s)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| "is not UTF-8 once percent-decoded")
}

/// Whether the header can be sent: opentelemetry-otlp (and this crate, for tonic's metadata)
/// builds each pair with `http::HeaderName::from_bytes` and `http::HeaderValue::from_str` and drops
/// without a word any pair they refuse. Values are also kept to ASCII: `from_str` takes bytes above
/// 0x7F, which HTTP only tolerates as obsolete text (RFC 9110, section 5.5) and gRPC's ASCII
/// metadata values do not allow.
pub(super) fn check_header(name: &str, value: &str) -> Result<(), &'static str> {
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err("the header name is not an HTTP token");
    }
    if !value.is_ascii() || http::HeaderValue::from_str(value).is_err() {
        return Err("the header value has a control or non-ASCII character");
    }
    Ok(())
}

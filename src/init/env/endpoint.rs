//! OTLP endpoint URLs: validated, and cut where the signal path goes.

/// An `http://` or `https://` URL with a host, cut where the signal path goes.
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
}

/// The base endpoint with `path` (`v1/<signal>`) appended after exactly one `/`; `None` when
/// `base` is not a valid endpoint.
pub(super) fn with_path_appended(base: &str, path: &str) -> Option<String> {
    let url = parse(base).ok()?;
    Some(format!(
        "{}{}/{path}{}",
        url.origin,
        url.path.trim_end_matches('/'),
        url.rest
    ))
}

pub(super) fn parse(value: &str) -> Result<Endpoint<'_>, String> {
    const NOT_A_URL: &str = "not an http:// or https:// URL with a host";
    let not_a_url = || NOT_A_URL.to_owned();
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(not_a_url());
    }
    let has_prefix = |prefix: &str| {
        value
            .as_bytes()
            .get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    let scheme_len = if has_prefix("http://") {
        "http://".len()
    } else if has_prefix("https://") {
        "https://".len()
    } else {
        return Err(not_a_url());
    };
    let after_scheme = &value[scheme_len..];
    let authority_len = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let authority = &after_scheme[..authority_len];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host_ok, port) = match host_port.strip_prefix('[') {
        // An IP literal: `[::1]:4318`.
        Some(literal) => match literal.split_once(']') {
            Some((ip, after)) => {
                let ip_ok = !ip.is_empty()
                    && ip.contains(':')
                    && ip
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
                match after.strip_prefix(':') {
                    Some(port) => (ip_ok, Some(port)),
                    None => (ip_ok && after.is_empty(), None),
                }
            }
            None => (false, None),
        },
        None => {
            let (host, port) = match host_port.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            };
            let host_char = |c: char| {
                !c.is_ascii() || c.is_ascii_alphanumeric() || "-._~%!$&'()*+,;=".contains(c)
            };
            (!host.is_empty() && host.chars().all(host_char), port)
        }
    };
    // An empty port (`http://host:/`) is allowed by RFC 3986 and means the default port.
    let port_ok = port.map_or(true, |p| {
        p.is_empty() || (p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok())
    });
    if !host_ok || !port_ok {
        return Err(not_a_url());
    }
    let origin_len = scheme_len + authority_len;
    let rest_start = value[origin_len..]
        .find(['?', '#'])
        .map_or(value.len(), |i| origin_len + i);
    Ok(Endpoint {
        origin: &value[..origin_len],
        path: &value[origin_len..rest_start],
        rest: &value[rest_start..],
    })
}

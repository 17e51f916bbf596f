//! Redaction: field names that hold secrets have their values replaced by [`REDACTED`], in the
//! JSON lines and in the exported trace, so neither carries them.
//!
//! A name is secret when, compared in lowercase with `-` read as `_`, it equals an entry of the
//! list or ends with `.entry` or `_entry`: with the default list ([`DEFAULT_REDACTED_FIELDS`]),
//! `password`, `db_password`, `user.password`, `access_token`, `x-api-key`,
//! `http.request.header.authorization` and `set-cookie` are secret; `token_count` and `secretary`
//! are not.

use std::fmt;
use std::sync::Arc;

/// What a secret field's value becomes.
pub const REDACTED: &str = "[REDACTED]";

/// The field names redacted unless the list is extended. A field name matches an entry when,
/// compared in lowercase with `-` read as `_`, it equals the entry or ends with `.entry` or
/// `_entry` (`db_password`, `x-api-key`, `http.request.header.authorization`).
pub const DEFAULT_REDACTED_FIELDS: [&str; 8] = [
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "authorization",
    "cookie",
    "set-cookie",
];

/// The redaction rules of a layer or of the init: the list of names, and an optional predicate.
#[derive(Clone)]
pub(crate) struct Redaction {
    /// Normalised: lowercase, `-` as `_`.
    names: Vec<String>,
    predicate: Option<Predicate>,
}

/// A user's rule: whether a field name holds a secret.
type Predicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

impl fmt::Debug for Redaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redaction")
            .field("names", &self.names)
            .field("predicate", &self.predicate.is_some())
            .finish()
    }
}

impl Default for Redaction {
    fn default() -> Self {
        Redaction {
            names: DEFAULT_REDACTED_FIELDS
                .iter()
                .map(|n| normalise(n))
                .collect(),
            predicate: None,
        }
    }
}

fn normalise(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == '-' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

impl Redaction {
    pub(crate) fn add_names<I>(&mut self, names: I)
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.names
            .extend(names.into_iter().map(|n| normalise(n.as_ref())));
    }

    pub(crate) fn set_predicate(
        &mut self,
        predicate: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) {
        self.predicate = Some(Arc::new(predicate));
    }

    /// Whether the field `name` holds a secret.
    pub(crate) fn is_secret(&self, name: &str) -> bool {
        if self.predicate.as_ref().is_some_and(|p| p(name)) {
            return true;
        }
        let name = normalise(name);
        self.names.iter().any(|entry| {
            name == *entry
                || name
                    .strip_suffix(entry.as_str())
                    .is_some_and(|rest| rest.ends_with('.') || rest.ends_with('_'))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_whole_or_as_the_last_segment() {
        let r = Redaction::default();
        for secret in [
            "password",
            "PASSWORD",
            "db_password",
            "user.password",
            "access_token",
            "x-api-key",
            "X-Api-Key",
            "http.request.header.authorization",
            "set-cookie",
            "cookie",
            "client_secret",
        ] {
            assert!(r.is_secret(secret), "{secret}");
        }
        for plain in [
            "token_count",
            "secretary",
            "passwords_checked",
            "user",
            "order_id",
        ] {
            assert!(!r.is_secret(plain), "{plain}");
        }
    }

    #[test]
    fn the_list_extends_and_a_predicate_adds_rules() {
        let mut r = Redaction::default();
        r.add_names(["ssn"]);
        r.set_predicate(|name| name.starts_with("pii."));
        assert!(r.is_secret("customer.ssn") && r.is_secret("pii.email"));
        assert!(!r.is_secret("email"));
    }
}

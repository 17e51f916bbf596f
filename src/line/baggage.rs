//! Baggage in lines: the allow-list of baggage keys a layer writes as `baggage.<key>` fields.
//!
//! A span's baggage is its OpenTelemetry context's (which `tracing-opentelemetry` gives a span from
//! its parent's, and the server middleware's span from the request's headers). It is read once per
//! span, when the span's ids are, rendered into fragments with the rules of the line (redaction,
//! the value length), and spliced into each line of the span; per line, only the dedupe against
//! the line's other fields and the fields bound are left to do. With an empty allow-list nothing
//! is read and nothing is kept.

use opentelemetry::baggage::Baggage;

use crate::line::escape::{limited_escape_into, limited_str_into};
use crate::line::limits::Limits;
use crate::line::value::push_redacted;
use crate::redact::Redaction;

/// The most baggage keys a layer writes: [`JsonLayer::with_baggage_fields`] keeps the first this
/// many keys of its list and ignores the others, with a warning.
///
/// A bound on the allow-list bounds what a span keeps and what each of its lines carries, however
/// much baggage a caller sends (the propagator keeps up to 64 members).
///
/// [`JsonLayer::with_baggage_fields`]: crate::JsonLayer::with_baggage_fields
pub const MAX_BAGGAGE_FIELDS: usize = 32;

/// What a baggage key's field is named in a line: this prefix and the key.
const PREFIX: &str = "baggage.";

/// A layer's allow-list of baggage keys, and what its lines make of each.
#[derive(Clone, Debug, Default)]
pub(crate) struct BaggageKeys {
    /// The keys as configured: not empty, each once, at most [`MAX_BAGGAGE_FIELDS`].
    given: Vec<Box<str>>,
    /// Derived from `given` and the layer's other settings by [`BaggageKeys::configure`].
    keys: Vec<BaggageKey>,
}

#[derive(Clone, Debug)]
struct BaggageKey {
    /// The baggage key looked up.
    key: Box<str>,
    /// The field's name in a line, `baggage.<key>`.
    name: Box<str>,
    /// `,"baggage.<key>":`, escaped and cut at the key length.
    kv: Box<str>,
    /// Whether the redaction rules call `name` secret.
    secret: bool,
}

/// How [`BaggageKeys::new`] treated a list of keys: the keys left out past the bound.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Ignored(pub(crate) Vec<String>);

impl BaggageKeys {
    /// The allow-list of `keys`: empty keys and repeats are skipped, the keys past
    /// [`MAX_BAGGAGE_FIELDS`] returned as ignored.
    pub(crate) fn new<I>(keys: I) -> (BaggageKeys, Ignored)
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut given: Vec<Box<str>> = Vec::new();
        let mut ignored = Vec::new();
        for key in keys {
            let key = key.as_ref().trim();
            if key.is_empty() || given.iter().any(|k| &**k == key) {
                continue;
            }
            if given.len() < MAX_BAGGAGE_FIELDS {
                given.push(key.into());
            } else {
                ignored.push(key.to_owned());
            }
        }
        let keys = BaggageKeys {
            given,
            keys: Vec::new(),
        };
        (keys, Ignored(ignored))
    }

    /// Renders each key's field name with the layer's `limits` and `redaction`; called whenever
    /// one of them changes. Two keys written as one key once cut: the first is kept.
    pub(crate) fn configure(&mut self, limits: Limits, redaction: &Redaction) {
        self.keys.clear();
        for key in &self.given {
            let name = format!("{PREFIX}{key}");
            if self.keys.iter().any(|k| limits.same_key(&k.name, &name)) {
                continue;
            }
            let mut kv = String::from(",\"");
            limited_escape_into(&mut kv, &name, limits.key_len);
            kv.push_str("\":");
            self.keys.push(BaggageKey {
                key: key.clone(),
                secret: redaction.is_secret(&name),
                name: name.into_boxed_str(),
                kv: kv.into_boxed_str(),
            });
        }
    }

    /// Whether any baggage is written: when not, nothing is read.
    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The line name of the `i`-th key.
    fn name(&self, i: usize) -> &str {
        self.keys.get(i).map_or("", |k| &k.name)
    }

    /// The allow-listed members of `baggage` as line fragments: secret ones as `"[REDACTED]"`
    /// (their values never copied), the others cut at `value_len`. `None` when there are none.
    pub(crate) fn read(&self, baggage: &Baggage, value_len: usize) -> Option<Box<SpanBaggage>> {
        if self.keys.is_empty() || baggage.is_empty() {
            return None;
        }
        let mut out = SpanBaggage::default();
        for (i, key) in self.keys.iter().enumerate() {
            let Some(value) = baggage.get(&*key.key) else {
                continue;
            };
            let start = out.json.len();
            out.json.push_str(&key.kv);
            if key.secret {
                push_redacted(&mut out.json);
            } else {
                limited_str_into(&mut out.json, value.as_str(), value_len);
            }
            out.index.push((i, start, out.json.len()));
        }
        (!out.index.is_empty()).then(|| Box::new(out))
    }
}

/// Keeps in `keys` the ones [`BaggageKeys::new`] keeps (so that a layer given them warns of
/// nothing); returns the others, when there are any.
#[cfg(feature = "init")]
pub(crate) fn overflow(keys: &mut Vec<String>) -> Option<Vec<String>> {
    let (kept, ignored) = BaggageKeys::new(keys.iter());
    *keys = kept.given.iter().map(|k| k.to_string()).collect();
    (!ignored.0.is_empty()).then_some(ignored.0)
}

/// A span's allow-listed baggage, as `,"baggage.<key>":"value"` fragments in one string.
#[derive(Debug, Default)]
pub(crate) struct SpanBaggage {
    json: String,
    /// (index of the key in the allow-list, start, end) of each fragment in `json`.
    index: Vec<(usize, usize, usize)>,
}

impl SpanBaggage {
    /// Each fragment with its field's name in the line.
    pub(crate) fn iter<'a>(
        &'a self,
        keys: &'a BaggageKeys,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.index
            .iter()
            .map(|&(i, start, end)| (keys.name(i), &self.json[start..end]))
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::KeyValue;

    use super::*;

    fn keys(list: &[&str], limits: Limits) -> BaggageKeys {
        let (mut keys, ignored) = BaggageKeys::new(list);
        assert_eq!(ignored, Ignored(Vec::new()));
        keys.configure(limits, &Redaction::default());
        keys
    }

    fn fragments(keys: &BaggageKeys, baggage: &Baggage, value_len: usize) -> Vec<(String, String)> {
        keys.read(baggage, value_len)
            .map(|b| {
                b.iter(keys)
                    .map(|(n, f)| (n.to_owned(), f.to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn allowed_keys_only_secret_ones_redacted_values_cut() {
        let keys = keys(&["tenant", "secret_token", "region"], Limits::DEFAULT);
        let baggage = Baggage::from_iter([
            KeyValue::new("tenant", "acme-corporation"),
            KeyValue::new("secret_token", "x"),
            KeyValue::new("other", "y"),
        ]);
        assert_eq!(
            fragments(&keys, &baggage, 4),
            [
                (
                    "baggage.tenant".to_owned(),
                    ",\"baggage.tenant\":\"acme…[truncated 12 bytes]\"".to_owned()
                ),
                (
                    "baggage.secret_token".to_owned(),
                    ",\"baggage.secret_token\":\"[REDACTED]\"".to_owned()
                ),
            ]
        );
        assert!(keys.read(&Baggage::new(), 100).is_none());
        let unrelated = Baggage::from_iter([KeyValue::new("other", "y")]);
        assert!(keys.read(&unrelated, 100).is_none());
    }

    #[test]
    fn the_list_is_bounded_and_repeats_and_empty_keys_are_skipped() {
        let list: Vec<String> = (0..MAX_BAGGAGE_FIELDS + 2)
            .map(|i| format!("k{i}"))
            .chain(["k0".to_owned(), " ".to_owned()])
            .collect();
        let (keys, ignored) = BaggageKeys::new(&list);
        assert_eq!(keys.given.len(), MAX_BAGGAGE_FIELDS);
        assert_eq!(ignored, Ignored(vec!["k32".to_owned(), "k33".to_owned()]));
    }

    #[test]
    fn keys_cut_to_one_key_are_written_once() {
        let limits = Limits {
            key_len: 10,
            ..Limits::DEFAULT
        };
        // Both are `baggage.te…[truncated 10 bytes]`.
        assert_eq!(
            keys(&["tenant_one_a", "tenant_one_b"], limits).keys.len(),
            1
        );
        // Cut too, but of different lengths: two keys.
        assert_eq!(keys(&["tenant_a", "tenant_bb"], limits).keys.len(), 2);
    }
}

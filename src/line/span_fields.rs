//! A span's fields, serialised once when the span is created or recorded and spliced into every
//! line of the span afterwards (nothing is parsed back per event).

use std::fmt;

use tracing_core::field::{Field, Visit};

use crate::line::keys::Reserved;
use crate::line::limits::Limits;
use crate::line::value::{is_otel_meta, push_key, push_redacted, ValueSink, OTEL_NAME};
use crate::redact::Redaction;

/// A span's own fields, as `,"key":value` fragments in one string, with an index by field name.
#[derive(Debug, Default)]
pub(crate) struct SpanFields {
    json: String,
    /// (field name, start, end) of each fragment in `json`.
    index: Vec<(&'static str, usize, usize)>,
    /// The value of `otel.name`, when the span sets one.
    pub(crate) otel_name: Option<Box<str>>,
    /// Fields not kept because the span already had [`Limits::fields`] of them.
    pub(crate) dropped: usize,
}

impl SpanFields {
    /// Serialises the fields a span was created or recorded with; `record` is
    /// `Attributes::record` or `Record::record`.
    pub(crate) fn collect(
        record: impl FnOnce(&mut dyn Visit),
        reserved: &Reserved,
        limits: Limits,
        redaction: &Redaction,
    ) -> Self {
        let mut fields = SpanFields::default();
        record(&mut SpanFieldVisitor {
            fields: &mut fields,
            reserved,
            limits,
            redaction,
        });
        fields
    }

    /// The fields' fragments in order, with their names.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.index
            .iter()
            .map(|&(name, start, end)| (name, &self.json[start..end]))
    }

    /// Merges values recorded later (`Span::record`): a field recorded again replaces its value.
    pub(crate) fn merge(&mut self, mut later: SpanFields, limits: Limits) {
        if let Some(name) = later.otel_name.take() {
            self.otel_name = Some(name);
        }
        if later.index.is_empty() {
            return;
        }
        let mut merged = SpanFields {
            otel_name: self.otel_name.take(),
            dropped: self.dropped + later.dropped,
            ..SpanFields::default()
        };
        let replaced = |name: &str| later.index.iter().any(|&(n, _, _)| n == name);
        let kept = self.iter().filter(|(name, _)| !replaced(name));
        for (name, fragment) in kept.chain(later.iter()) {
            if merged.index.len() < limits.fields {
                merged.push_fragment(name, fragment);
            } else {
                merged.dropped += 1;
            }
        }
        *self = merged;
    }

    fn push_fragment(&mut self, name: &'static str, fragment: &str) {
        let start = self.json.len();
        self.json.push_str(fragment);
        self.index.push((name, start, self.json.len()));
    }
}

struct SpanFieldVisitor<'a> {
    fields: &'a mut SpanFields,
    reserved: &'a Reserved,
    limits: Limits,
    redaction: &'a Redaction,
}

impl SpanFieldVisitor<'_> {
    /// Starts a fragment for `field`, or returns `false` for fields that are not line data.
    fn begin(&mut self, field: &Field) -> bool {
        let name = field.name();
        if is_otel_meta(name) {
            return false;
        }
        if self.fields.index.len() >= self.limits.fields {
            self.fields.dropped += 1;
            return false;
        }
        let start = self.fields.json.len();
        push_key(
            &mut self.fields.json,
            name,
            self.reserved,
            self.limits.key_len,
        );
        self.fields.index.push((name, start, start));
        if self.redaction.is_secret(name) {
            // The value is never formatted: the fragment is complete with the marker.
            push_redacted(&mut self.fields.json);
            self.end();
            return false;
        }
        true
    }

    fn end(&mut self) {
        let len = self.fields.json.len();
        if let Some(last) = self.fields.index.last_mut() {
            last.2 = len;
        }
    }
}

impl ValueSink for SpanFieldVisitor<'_> {
    fn buf(&mut self) -> &mut String {
        &mut self.fields.json
    }

    fn limit(&self) -> usize {
        self.limits.value_len
    }
}

macro_rules! visit_via_sink {
    ($($method:ident($ty:ty) => $sink:ident;)*) => {
        $(
            fn $method(&mut self, field: &Field, value: $ty) {
                if self.begin(field) {
                    self.$sink(value);
                    self.end();
                }
            }
        )*
    };
}

impl Visit for SpanFieldVisitor<'_> {
    visit_via_sink! {
        record_i64(i64) => value_i64;
        record_u64(u64) => value_u64;
        record_i128(i128) => value_i128;
        record_u128(u128) => value_u128;
        record_f64(f64) => value_f64;
        record_bool(bool) => value_bool;
        record_error(&(dyn std::error::Error + 'static)) => value_error;
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == OTEL_NAME {
            self.fields.otel_name = Some(value.into());
        } else if self.begin(field) {
            self.value_str(value);
            self.end();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == OTEL_NAME {
            self.fields.otel_name = Some(format!("{value:?}").into_boxed_str());
            return;
        }
        if self.begin(field) {
            self.value_debug(value);
            self.end();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&'static str, &str)]) -> SpanFields {
        let mut f = SpanFields::default();
        for (name, frag) in pairs {
            f.push_fragment(name, frag);
        }
        f
    }

    #[test]
    fn merge_replaces_recorded_fields_and_keeps_the_rest() {
        let mut a = fields(&[("a", ",\"a\":1"), ("b", ",\"b\":2")]);
        let limits = Limits {
            value_len: 100,
            fields: 8,
            ..Limits::DEFAULT
        };
        a.merge(fields(&[("b", ",\"b\":3"), ("c", ",\"c\":4")]), limits);
        let got: Vec<_> = a.iter().map(|(n, f)| (n, f.to_string())).collect();
        assert_eq!(
            got,
            vec![
                ("a", ",\"a\":1".to_string()),
                ("b", ",\"b\":3".to_string()),
                ("c", ",\"c\":4".to_string())
            ]
        );
    }
}

//! The event's fields into a line: `message` written in place, the others kept for the end of
//! the line, renamed when reserved, redacted when secret, bounded in number and length.

use tracing_core::field::{Field, Visit};

use crate::callsite::Entry;
use crate::exception::Exception;
use crate::line::escape::{limited_debug_into, limited_display_into};
use crate::line::keys::Reserved;
use crate::line::limits::Limits;
use crate::line::value::{push_key, push_redacted, ValueSink};
use crate::redact::Redaction;

/// Writes an event's fields: `message` into the line at its place, the others into `fields`.
pub(crate) struct EventVisitor<'a> {
    pub(crate) line: &'a mut String,
    pub(crate) fields: &'a mut String,
    pub(crate) seen: &'a mut Vec<&'static str>,
    pub(crate) reserved: &'a Reserved,
    pub(crate) limits: Limits,
    pub(crate) redaction: &'a Redaction,
    /// Fields not written because the line already had [`Limits::fields`] of them.
    pub(crate) dropped: usize,
    /// The callsite's cache entry, when the cache gave it.
    pub(crate) entry: Option<&'a Entry>,
    pub(crate) exception: Option<&'a Exception>,
    pub(crate) is_log: bool,
    /// Whether the line's `message` is written: a later `message` field (`message = ..` beside
    /// a formatted message) is an ordinary field, written as `fields.message`.
    pub(crate) has_message: bool,
}

impl EventVisitor<'_> {
    /// Starts the field `field`, returning whether it is written as a plain field.
    fn begin(&mut self, field: &Field) -> bool {
        let name = field.name();
        if (self.is_log && name.starts_with("log."))
            || self.exception.is_some_and(|e| e.owns_field(name))
        {
            return false;
        }
        let key = self.reserved.dedupe_key(name);
        if let Some(seen) = self.limits.seen_as(self.seen, key) {
            // The first of two fields of one name wins; another name cut to the same key is a
            // field lost, and counted.
            if seen != key {
                self.dropped += 1;
            }
            return false;
        }
        if self.seen.len() >= self.limits.fields {
            self.dropped += 1;
            return false;
        }
        self.seen.push(key);
        match self.entry.and_then(|entry| entry.key(field.index())) {
            Some(rendered) => self.fields.push_str(rendered),
            None => push_key(self.fields, name, self.reserved, self.limits.key_len),
        }
        let secret = match self.entry {
            Some(entry) => entry.secrets.contains(field, self.redaction),
            None => self.redaction.is_secret(name),
        };
        if secret {
            // The value is never formatted.
            push_redacted(self.fields);
            return false;
        }
        true
    }

    /// Whether `field` is the line's `message`: the first field of that name (the first of two
    /// fields of one name wins, as everywhere in the line).
    fn is_message(&mut self, field: &Field) -> bool {
        if field.name() != "message" || self.has_message {
            return false;
        }
        self.has_message = true;
        self.line.push_str(",\"message\":");
        true
    }
}

impl ValueSink for EventVisitor<'_> {
    fn buf(&mut self) -> &mut String {
        self.fields
    }

    fn limit(&self) -> usize {
        self.limits.value_len
    }
}

macro_rules! visit_event_field {
    ($($method:ident($ty:ty) => $sink:ident;)*) => {
        $(
            fn $method(&mut self, field: &Field, value: $ty) {
                if self.is_message(field) {
                    limited_display_into(self.line, &value, self.limits.value_len);
                } else if self.begin(field) {
                    self.$sink(value);
                }
            }
        )*
    };
}

impl Visit for EventVisitor<'_> {
    visit_event_field! {
        record_i64(i64) => value_i64;
        record_u64(u64) => value_u64;
        record_i128(i128) => value_i128;
        record_u128(u128) => value_u128;
        record_f64(f64) => value_f64;
        record_bool(bool) => value_bool;
        record_str(&str) => value_str;
        record_error(&(dyn std::error::Error + 'static)) => value_error;
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if self.is_message(field) {
            limited_debug_into(self.line, value, self.limits.value_len);
        } else if self.begin(field) {
            self.value_debug(value);
        }
    }
}

//! Redaction: field names that hold secrets have their values replaced by [`REDACTED`], in the
//! JSON lines and in the exported trace, so neither carries them. One [`Redaction`] value holds
//! the rules and is given to every layer that writes field values.

use std::fmt;
use std::sync::Arc;

use tracing_core::field::{display, DisplayValue, Field, FieldSet, Value, ValueSet, Visit};
use tracing_core::{Event, Metadata};

use crate::exception::{more_causes, walk_causes, Exception, DEFAULT_MAX_CAUSES};

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

/// Which fields hold secrets: their values are written as [`REDACTED`] and never formatted (an
/// error value read as an exception excepted: see below).
///
/// One value, given to every layer that writes field values, so that the lines, the
/// OpenTelemetry spans and the OTLP log records redact the same fields:
///
/// | where | how to give it |
/// |---|---|
/// | the JSON lines | [`JsonLayer::with_redaction`](crate::JsonLayer::with_redaction) |
/// | span attributes and span events | [`OtelLayer::with_redaction`](crate::OtelLayer::with_redaction) |
/// | all of the init's layers, its exported spans and its OTLP log records | [`Builder::with_redaction`](crate::Builder::with_redaction) (feature `init`) |
///
/// A name is secret when the predicate (if any) accepts it, or when, compared in lowercase with
/// `-` read as `_`, it equals an entry of the list or ends with `.entry` or `_entry`. With the
/// default list ([`DEFAULT_REDACTED_FIELDS`]), `password`, `db_password`, `user.password`,
/// `access_token`, `x-api-key`, `http.request.header.authorization` and `set-cookie` are secret;
/// `token_count` and `secretary` are not.
///
/// An exception (see [`record_exception`](crate::record_exception)) follows the same rules, alike
/// on the line, the span's `exception` event and its status, and the OTLP log record:
///
/// - its message and causes are the value of the field that held the error: when that field's
///   name is secret (`api_token = &err as &dyn Error`), they are written as [`REDACTED`] (the
///   causes as one `REDACTED`), while its type and stack trace, which are not that value, stay.
///   The error is still formatted once, to read it as an exception;
/// - each of its parts whose attribute name (`exception.type`, `exception.message`,
///   `exception.stacktrace`, `exception.causes`) the rules call secret is written as
///   [`REDACTED`]: `with_names(["stacktrace"])` keeps stack traces out of every output.
///
/// The rules are about names: a secret written inside a message or an error's text is not found.
///
/// ```
/// use tracing_correlate::Redaction;
/// use tracing_subscriber::layer::SubscriberExt;
/// # use opentelemetry::trace::TracerProvider as _;
/// # let provider = tracing_correlate::opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// # let tracer = provider.tracer("checkout");
///
/// let redaction = Redaction::default()
///     .with_names(["card", "ssn"])
///     .with_predicate(|name| name.starts_with("pii."));
/// assert!(redaction.is_secret("customer.card") && redaction.is_secret("pii.email"));
/// assert!(redaction.is_secret("db_password")); // the default list stays
///
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_correlate::otel_layer(tracer).with_redaction(redaction.clone()))
///     .with(tracing_correlate::layer().with_redaction(redaction));
/// # drop(subscriber);
/// ```
///
/// By default, the names of [`DEFAULT_REDACTED_FIELDS`] and no predicate.
#[derive(Clone)]
pub struct Redaction {
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
    /// The default rules: the names of [`DEFAULT_REDACTED_FIELDS`], no predicate.
    pub fn new() -> Self {
        Redaction::default()
    }

    /// Redacts these names too (matched as the list's entries are). Calls add up.
    ///
    /// By default, the list is [`DEFAULT_REDACTED_FIELDS`].
    pub fn with_names<I>(mut self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.names
            .extend(names.into_iter().map(|n| normalise(n.as_ref())));
        self
    }

    /// Redacts, besides the list, every field whose name `predicate` accepts. A second call
    /// replaces the first predicate.
    ///
    /// By default, none.
    pub fn with_predicate(
        mut self,
        predicate: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.predicate = Some(Arc::new(predicate));
        self
    }

    /// Whether the field `name` holds a secret by these rules.
    pub fn is_secret(&self, name: &str) -> bool {
        // Byte by byte, without allocating: this runs for every span field a layer records.
        if self.predicate.as_ref().is_some_and(|p| p(name)) {
            return true;
        }
        let name = name.as_bytes();
        self.names.iter().any(|entry| {
            let entry = entry.as_bytes();
            let Some(start) = name.len().checked_sub(entry.len()) else {
                return false;
            };
            let tail_matches = name[start..]
                .iter()
                .zip(entry)
                .all(|(&n, &e)| normalise_byte(n) == e);
            tail_matches && (start == 0 || matches!(name[start - 1], b'.' | b'_' | b'-'))
        })
    }
}

/// `-` as `_`, ASCII lowercase: what [`normalise`] does to each byte (UTF-8 continuation and
/// lead bytes are left alone, as `char::to_ascii_lowercase` leaves non-ASCII characters).
fn normalise_byte(b: u8) -> u8 {
    if b == b'-' {
        b'_'
    } else {
        b.to_ascii_lowercase()
    }
}

/// The secret fields of one callsite.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Secrets {
    /// Bit `i` set: field `i` holds a secret.
    mask: u64,
    /// The callsite has more than 64 fields, some of them past the 64th secret: those are
    /// checked by name.
    wide: bool,
}

impl Secrets {
    pub(crate) const NONE: Secrets = Secrets {
        mask: 0,
        wide: false,
    };

    /// Which fields of `meta`'s callsite `redaction` calls secret.
    pub(crate) fn of(meta: &Metadata<'_>, redaction: &Redaction) -> Secrets {
        let mut secrets = Secrets::NONE;
        for (i, field) in meta.fields().iter().enumerate() {
            if redaction.is_secret(field.name()) {
                if i < 64 {
                    secrets.mask |= 1 << i;
                } else {
                    secrets.wide = true;
                }
            }
        }
        secrets
    }

    /// Whether the callsite has no secret field at all (the common case: nothing to copy).
    pub(crate) fn is_empty(self) -> bool {
        self.mask == 0 && !self.wide
    }

    /// Whether `field` (of the callsite these secrets are of) is secret.
    #[inline]
    pub(crate) fn contains(self, field: &Field, redaction: &Redaction) -> bool {
        match field.index() {
            i if i < 64 => self.mask & (1 << i) != 0,
            _ => self.wide && redaction.is_secret(field.name()),
        }
    }
}

/// Runs `f` with a copy of the values `record` visits (an event's, or a span's at creation or
/// on `record`), in which the secret fields of `fields` hold [`REDACTED`] instead: their values
/// are never formatted. For layers of other crates that record every value they are given
/// (`tracing-opentelemetry`, the OpenTelemetry logs bridge).
///
/// Written here rather than found in a library: `tracing` offers no way to hide fields from one
/// layer, so the only way is to hand it a rebuilt `ValueSet`. The copy keeps each value's kind
/// (numbers stay numbers, integers that fit in an `i64` become `i64`s, `Debug` values are visited
/// as `Debug`, errors keep their `source()` chain as text).
pub(crate) fn with_redacted<R>(
    fields: &FieldSet,
    secrets: Secrets,
    redaction: &Redaction,
    record: impl FnOnce(&mut dyn Visit),
    f: impl FnOnce(&ValueSet<'_>) -> R,
) -> R {
    copy_values(
        fields,
        Copier::new(fields, secrets, redaction, None, ErrorsAs::Bounded),
        record,
        f,
    )
}

/// Runs `f` with the values `copy` took from what `record` visits.
fn copy_values<R>(
    fields: &FieldSet,
    mut copy: Copier<'_>,
    record: impl FnOnce(&mut dyn Visit),
    f: impl FnOnce(&ValueSet<'_>) -> R,
) -> R {
    record(&mut copy);
    let values: Vec<Option<&dyn Value>> = copy
        .values
        .iter()
        .map(|value| value.as_ref().map(Owned::as_value))
        .collect();
    f(&fields.value_set_all(&values))
}

/// Runs `f` with a copy of `event` (same metadata, same parent) whose secret fields (`secrets`)
/// hold [`REDACTED`] and whose errors are copied with a bounded chain (see [`CopiedError`]).
pub(crate) fn with_copied_event(
    event: &Event<'_>,
    secrets: Secrets,
    redaction: &Redaction,
    f: impl FnOnce(&Event<'_>),
) {
    let meta = event.metadata();
    let copier = Copier::new(meta.fields(), secrets, redaction, None, ErrorsAs::Bounded);
    copy_event(event, copier, f);
}

/// Runs `f` with the copy of `event` that the OpenTelemetry logs bridge is handed: its secret
/// fields hold [`REDACTED`], the fields `exception` was read from are left out (their
/// attributes are added to the log record from the exception, so the error is formatted once),
/// and every other error value is its `Display` text, an ordinary field of its own name. The
/// bridge would make an `exception.message` attribute of each error value of any event, which
/// would contradict the exception of an ERROR event, and the rule that below ERROR an error value
/// is an ordinary field.
#[cfg(feature = "init")] // only the init has an OTLP logs bridge
pub(crate) fn with_log_event(
    event: &Event<'_>,
    secrets: Secrets,
    redaction: &Redaction,
    exception: Option<&Exception>,
    f: impl FnOnce(&Event<'_>),
) {
    let meta = event.metadata();
    let copier = Copier::new(meta.fields(), secrets, redaction, exception, ErrorsAs::Text);
    copy_event(event, copier, f);
}

fn copy_event(event: &Event<'_>, copier: Copier<'_>, f: impl FnOnce(&Event<'_>)) {
    let meta = event.metadata();
    copy_values(
        meta.fields(),
        copier,
        |visitor| event.record(visitor),
        |values| {
            let copied = if event.is_contextual() {
                Event::new(meta, values)
            } else {
                Event::new_child_of(event.parent().cloned(), meta, values)
            };
            f(&copied);
        },
    )
}

/// Whether `record` visits an error value (`&dyn Error`).
#[cfg(feature = "init")]
pub(crate) fn has_error_value(record: impl FnOnce(&mut dyn Visit)) -> bool {
    struct Finder(bool);
    impl Visit for Finder {
        fn record_error(&mut self, _: &Field, _: &(dyn std::error::Error + 'static)) {
            self.0 = true;
        }
        fn record_debug(&mut self, _: &Field, _: &dyn fmt::Debug) {}
    }
    let mut finder = Finder(false);
    record(&mut finder);
    finder.0
}

/// The names of an exception's attributes, as the span events and the log records carry them.
pub(crate) const EXCEPTION_ATTRIBUTES: [&str; 4] = [
    "exception.type",
    "exception.message",
    "exception.stacktrace",
    "exception.causes",
];

/// `exception` as the rules let it be written, on the line, the span and the log record alike
/// (see [`Redaction`]'s docs): its message and causes are the value of the field that held the
/// error, so they become [`REDACTED`] (the causes one `REDACTED`, none dropped) when that field's
/// name is secret; and each part whose own attribute name (`exception.type`,
/// `exception.message`, `exception.stacktrace`, `exception.causes`) is secret becomes
/// [`REDACTED`].
pub(crate) fn redact_exception(mut exception: Exception, redaction: &Redaction) -> Exception {
    let [type_key, message_key, stacktrace_key, causes_key] = EXCEPTION_ATTRIBUTES;
    let held_by_secret = exception
        .error_field
        .is_some_and(|field| redaction.is_secret(field));
    if held_by_secret || redaction.is_secret(message_key) {
        exception.message = REDACTED.to_owned();
    }
    if (held_by_secret || redaction.is_secret(causes_key))
        && (!exception.causes.is_empty() || exception.causes_dropped > 0)
    {
        exception.causes = vec![REDACTED.to_owned()];
        exception.causes_dropped = 0;
    }
    if exception.type_name.is_some() && redaction.is_secret(type_key) {
        exception.type_name = Some(REDACTED.to_owned());
    }
    if exception.stacktrace.is_some() && redaction.is_secret(stacktrace_key) {
        exception.stacktrace = Some(REDACTED.into());
    }
    exception
}

/// A field's value, copied.
enum Owned {
    Bool(bool),
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F64(f64),
    Str(String),
    Bytes(Box<[u8]>),
    /// A `Debug` value, formatted; visited again as `Debug`.
    Debug(DisplayValue<String>),
    Error(Box<dyn std::error::Error + Send + Sync + 'static>),
    Redacted,
}

impl Owned {
    fn as_value(&self) -> &dyn Value {
        match self {
            Owned::Bool(v) => v,
            Owned::I64(v) => v,
            Owned::U64(v) => v,
            Owned::I128(v) => v,
            Owned::U128(v) => v,
            Owned::F64(v) => v,
            Owned::Str(v) => v,
            Owned::Bytes(v) => v,
            Owned::Debug(v) => v,
            Owned::Error(v) => v,
            Owned::Redacted => &REDACTED,
        }
    }
}

/// An error copied as text: its message, and its `source()` chain as the crate keeps it (at most
/// [`DEFAULT_MAX_CAUSES`] causes, then `…[N more causes]`; see `walk_causes`), so that a layer
/// walking the copy's chain without a bound (`tracing-opentelemetry`) walks a bounded one.
#[derive(Debug)]
struct CopiedError {
    message: String,
    source: Option<Box<CopiedError>>,
}

impl CopiedError {
    fn of(error: &(dyn std::error::Error + 'static)) -> CopiedError {
        let mut causes = Vec::new();
        let dropped = walk_causes(error, DEFAULT_MAX_CAUSES, |cause| {
            causes.push(cause.to_string())
        });
        if dropped > 0 {
            causes.push(more_causes(dropped));
        }
        // Linked from the innermost out, so nothing recurses over the chain.
        let source = causes.into_iter().rev().fold(None, |source, message| {
            Some(Box::new(CopiedError { message, source }))
        });
        CopiedError {
            message: error.to_string(),
            source,
        }
    }
}

/// Whether `record` visits a value that `tracing-opentelemetry` must be given as a copy:
/// an error (`&dyn Error`), whose chain that crate walks to its end (the copy's is bounded, see
/// [`CopiedError`]); or an unsigned or 128-bit integer that fits in an `i64`, which that crate
/// (it has no `record_u64`) would export as a string (the copy holds it as an `i64`, as the
/// OpenTelemetry logs bridge does).
pub(crate) fn needs_copy(record: impl FnOnce(&mut dyn Visit)) -> bool {
    struct Finder(bool);
    impl Visit for Finder {
        fn record_error(&mut self, _: &Field, _: &(dyn std::error::Error + 'static)) {
            self.0 = true;
        }
        fn record_u64(&mut self, _: &Field, value: u64) {
            self.0 |= i64::try_from(value).is_ok();
        }
        fn record_i128(&mut self, _: &Field, value: i128) {
            self.0 |= i64::try_from(value).is_ok();
        }
        fn record_u128(&mut self, _: &Field, value: u128) {
            self.0 |= i64::try_from(value).is_ok();
        }
        fn record_debug(&mut self, _: &Field, _: &dyn fmt::Debug) {}
    }
    let mut finder = Finder(false);
    record(&mut finder);
    finder.0
}

impl fmt::Display for CopiedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CopiedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// How a [`Copier`] copies an error value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ErrorsAs {
    /// As an error whose chain is bounded ([`CopiedError`]).
    Bounded,
    /// As its `Display` text (the OTLP logs bridge's copies, feature `init`).
    #[cfg_attr(not(feature = "init"), allow(dead_code))]
    Text,
}

struct Copier<'a> {
    values: Vec<Option<Owned>>,
    secrets: Secrets,
    redaction: &'a Redaction,
    /// The exception read from the values: the fields it owns are left out.
    exception: Option<&'a Exception>,
    errors: ErrorsAs,
}

impl<'a> Copier<'a> {
    fn new(
        fields: &FieldSet,
        secrets: Secrets,
        redaction: &'a Redaction,
        exception: Option<&'a Exception>,
        errors: ErrorsAs,
    ) -> Self {
        Copier {
            values: (0..fields.len()).map(|_| None).collect(),
            secrets,
            redaction,
            exception,
            errors,
        }
    }

    fn put(&mut self, field: &Field, value: impl FnOnce() -> Owned) {
        if self.exception.is_some_and(|e| e.owns_field(field.name())) {
            return;
        }
        let owned = if self.secrets.contains(field, self.redaction) {
            Owned::Redacted
        } else {
            value()
        };
        if let Some(slot) = self.values.get_mut(field.index()) {
            *slot = Some(owned);
        }
    }
}

impl Visit for Copier<'_> {
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, || Owned::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, || Owned::I64(value));
    }
    // Integers that fit in an `i64` are copied as one: OpenTelemetry has no other integer type,
    // and a layer without `record_u64` would otherwise make a string of them.
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, || {
            i64::try_from(value).map_or(Owned::U64(value), Owned::I64)
        });
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.put(field, || {
            i64::try_from(value).map_or(Owned::I128(value), Owned::I64)
        });
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put(field, || {
            i64::try_from(value).map_or(Owned::U128(value), Owned::I64)
        });
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, || Owned::F64(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, || Owned::Str(value.to_owned()));
    }
    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.put(field, || Owned::Bytes(value.into()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let errors = self.errors;
        self.put(field, || match errors {
            ErrorsAs::Bounded => Owned::Error(Box::new(CopiedError::of(value))),
            ErrorsAs::Text => Owned::Str(value.to_string()),
        });
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, || Owned::Debug(display(format!("{value:?}"))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_whole_or_as_the_last_segment() {
        let r = Redaction::new();
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

    fn exception() -> Exception {
        Exception {
            type_name: Some("io::Error".to_owned()),
            message: "denied".to_owned(),
            causes: vec!["expired".to_owned()],
            causes_dropped: 3,
            stacktrace: Some("   0: main\n".into()),
            error_field: Some("error"),
        }
    }

    #[test]
    fn an_exception_held_by_a_secret_field_keeps_only_its_type_and_stack() {
        let r = Redaction::new();
        assert_eq!(redact_exception(exception(), &r), exception());
        let held = Exception {
            error_field: Some("api_token"),
            ..exception()
        };
        assert_eq!(
            redact_exception(held.clone(), &r),
            Exception {
                message: REDACTED.to_owned(),
                causes: vec![REDACTED.to_owned()],
                causes_dropped: 0,
                ..held
            }
        );
        // No causes: none are made up.
        let bare = Exception {
            error_field: Some("api_token"),
            causes: vec![],
            causes_dropped: 0,
            ..exception()
        };
        assert_eq!(redact_exception(bare.clone(), &r).causes, bare.causes);
    }

    #[test]
    fn each_part_of_an_exception_is_redacted_by_its_attribute_name() {
        let r = Redaction::new().with_names(["stacktrace", "type"]);
        assert_eq!(
            redact_exception(exception(), &r),
            Exception {
                type_name: Some(REDACTED.to_owned()),
                stacktrace: Some(REDACTED.into()),
                ..exception()
            }
        );
        let r = Redaction::new()
            .with_predicate(|n| matches!(n, "exception.message" | "exception.causes"));
        assert_eq!(
            redact_exception(exception(), &r),
            Exception {
                message: REDACTED.to_owned(),
                causes: vec![REDACTED.to_owned()],
                causes_dropped: 0,
                ..exception()
            }
        );
    }

    #[test]
    fn the_list_extends_and_a_predicate_adds_rules() {
        let r = Redaction::default()
            .with_names(["ssn"])
            .with_predicate(|name| name.starts_with("pii."));
        assert!(r.is_secret("customer.ssn") && r.is_secret("pii.email"));
        assert!(!r.is_secret("email"));
    }
}

//! Errors as exceptions: what an ERROR event carries, read the same way by the JSON layer (the
//! line's `exception` object) and the OpenTelemetry layer (the span's `exception` event, status and
//! `error.type`), and the `record_exception` calls that emit such an event on purpose.
//!
//! An ERROR-level event *carries an exception* when it has an error value:
//!
//! - a field recorded as `&dyn Error` (any name; `error` is preferred when there are several),
//! - a field named `error` recorded any other way (what `#[instrument(err)]` and
//!   `#[instrument(err(Debug))]` emit: the `Display` or `Debug` form of the error),
//! - or the fields `exception.type` / `exception.message` (what [`record_exception`] emits, and
//!   what code can set by hand).
//!
//! Below ERROR, an error value is an ordinary field: a handled error is data, not an exception.

use std::cell::Cell;
use std::error::Error;
use std::fmt;
use std::panic::Location;
use std::sync::{Arc, Mutex, OnceLock};

use rustc_hash::FxHashMap;
use tracing_core::field::FieldSet;
use tracing_core::field::{Field, Visit};
use tracing_core::metadata::Kind;
use tracing_core::{Event, Level, Metadata};

use crate::stacktrace::{self, Stacktraces};

/// The field name `#[instrument(err)]` and most code use for an error value.
pub(crate) const ERROR_FIELD: &str = "error";
pub(crate) const TYPE_FIELD: &str = "exception.type";
pub(crate) const MESSAGE_FIELD: &str = "exception.message";
pub(crate) const STACKTRACE_FIELD: &str = "exception.stacktrace";
/// The target of the server middleware's own events (`src/server.rs`).
const SERVER_TARGET: &str = "tracing_correlate::server";

/// The most causes an exception keeps from its error's `source()` chain: on the line (`causes`,
/// the others counted in `causes_dropped`) and on the span (`exception.causes`, the others
/// counted in a last element `…[N more causes]`).
///
/// The chain ends where `source()` ends it, or where it comes back to an error already in it
/// (the same value, at the same address with the same vtable): an error that is its own source
/// has no cause, two that are each other's source give one. A reference made elsewhere may carry
/// another vtable of the same type (another codegen unit), so the error the event was given can
/// be written once more as a cause before the loop is seen. A loop is found in a few steps per
/// error of the chain (nothing is formatted while counting), and only the kept causes are
/// formatted.
pub const DEFAULT_MAX_CAUSES: usize = 32;

/// The most errors of a chain stepped through to count the causes past [`DEFAULT_MAX_CAUSES`]:
/// only a `source()` that makes a new error at each call can make a longer chain, and it is
/// counted as this long.
const MAX_COUNTED: usize = 1 << 20;

/// Whether `a` and `b` are the same error: the same value (address) of the same type (vtable).
/// The address alone is not enough: a struct and the error it holds as its first field share
/// one. A false "no" (one type with two vtables) only lets a loop run longer: at most
/// [`MAX_COUNTED`] steps.
fn same(a: &(dyn Error + 'static), b: &(dyn Error + 'static)) -> bool {
    std::ptr::eq(a, b)
}

/// How many distinct errors the chain starting at `err` holds (`err` included), up to
/// [`MAX_COUNTED`].
///
/// Brent's cycle detection, on `source()` pointers only (nothing formatted, nothing allocated):
/// written here because no well-kept crate walks a chain of borrowed trait objects with a bound.
fn chain_len(err: &(dyn Error + 'static)) -> usize {
    // The hare runs ahead, at index `steps`; the tortoise jumps to it at each power of two.
    let mut tortoise = err;
    let mut hare = err.source();
    let (mut power, mut lam, mut steps) = (1_usize, 1_usize, 1_usize);
    loop {
        let Some(h) = hare else {
            return steps;
        };
        if same(h, tortoise) {
            break;
        }
        if steps >= MAX_COUNTED {
            return steps;
        }
        if power == lam {
            tortoise = h;
            power *= 2;
            lam = 0;
        }
        hare = h.source();
        lam += 1;
        steps += 1;
    }
    // A loop of `lam` errors: the first error of the loop is at the index `mu` where a walker
    // `lam` steps ahead meets one from the start.
    let mut ahead = Some(err);
    for _ in 0..lam {
        ahead = ahead.and_then(|e| e.source());
    }
    let mut behind = Some(err);
    let mut mu = 0;
    while let (Some(b), Some(a)) = (behind, ahead) {
        if same(a, b) {
            return (mu + lam).min(MAX_COUNTED);
        }
        if mu >= MAX_COUNTED {
            break;
        }
        behind = b.source();
        ahead = a.source();
        mu += 1;
    }
    // A `source()` that answered differently the second time: what was seen the first time.
    steps
}

/// Gives the first `max` causes of `err` (its `source()` chain, outermost first, as
/// [`DEFAULT_MAX_CAUSES`] describes it) to `each`, and returns how many others the chain holds.
/// Every walk of a `source()` chain in this crate goes through here.
pub(crate) fn walk_causes<'e>(
    err: &'e (dyn Error + 'static),
    max: usize,
    mut each: impl FnMut(&'e (dyn Error + 'static)),
) -> usize {
    let causes = chain_len(err) - 1;
    let mut link = err.source();
    for _ in 0..causes.min(max) {
        let Some(cause) = link else {
            break;
        };
        each(cause);
        link = cause.source();
    }
    causes.saturating_sub(max)
}

/// The last element of a copied chain (`exception.causes`, an error handed to another crate)
/// when causes were left out: `…[N more causes]`, in the style of the truncation marker.
pub(crate) fn more_causes(dropped: usize) -> String {
    format!("…[{dropped} more causes]")
}

/// An exception read from an event.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Exception {
    /// The error's type name, when known (from `record_exception` or an `exception.type` field).
    pub(crate) type_name: Option<String>,
    /// The error's `Display` form (or the `Debug` form `#[instrument(err(Debug))]` records).
    pub(crate) message: String,
    /// The `Display` forms of the error's `source()` chain, outermost first.
    pub(crate) causes: Vec<String>,
    /// Causes past [`DEFAULT_MAX_CAUSES`], counted, not kept.
    pub(crate) causes_dropped: usize,
    /// The event's own `exception.stacktrace`, else the trace captured for the event (one per
    /// event, shared by the layers: `stacktrace.rs`), when the setting asks for one.
    pub(crate) stacktrace: Option<Arc<str>>,
    /// The field that held the error value; the line does not repeat it as a plain field.
    pub(crate) error_field: Option<&'static str>,
}

impl Exception {
    /// Reads the exception an event carries, if it is an ERROR event that carries one.
    ///
    /// When the event brings no stack trace of its own and `stacktraces` asks for one, the
    /// event's trace is taken: captured by the first layer that asks, shared with the others.
    pub(crate) fn from_event(event: &Event<'_>, stacktraces: Stacktraces) -> Option<Exception> {
        if *event.metadata().level() != Level::ERROR || !may_carry_exception(event) {
            return None;
        }
        let mut visitor = ExceptionVisitor::default();
        event.record(&mut visitor);
        let mut exception = visitor.finish()?;
        // The server middleware logs a failure (a caught panic, an error returned by the
        // service) where it sees it, under the runtime, far from the code that failed: a stack
        // trace of that place would mislead.
        let from_the_middleware = event.metadata().target() == SERVER_TARGET;
        if exception.stacktrace.is_none() && stacktraces.enabled() && !from_the_middleware {
            exception.stacktrace = stacktrace::for_event(event);
        }
        Some(exception)
    }

    /// Whether `field` is one this exception was read from (and so is not a plain field).
    pub(crate) fn owns_field(&self, name: &str) -> bool {
        self.error_field == Some(name) || is_exception_field(name)
    }

    /// The low-cardinality `error.type`: the type name, or `_OTHER` as the conventions ask.
    pub(crate) fn error_type(&self) -> &str {
        self.type_name.as_deref().unwrap_or("_OTHER")
    }
}

fn is_exception_field(name: &str) -> bool {
    matches!(name, TYPE_FIELD | MESSAGE_FIELD | STACKTRACE_FIELD)
}

/// A cheap static check on the callsite's field names, so events that cannot carry an exception
/// (most ERROR events with a message only) are never visited twice.
fn may_carry_exception(event: &Event<'_>) -> bool {
    // A field recorded with `record_error` can have any name; only its value tells. Events whose
    // callsite declares more than the message are visited; the visit is cheap and rare (ERROR).
    event
        .metadata()
        .fields()
        .iter()
        .any(|f| f.name() != "message")
}

#[derive(Default)]
struct ExceptionVisitor {
    exception: Exception,
    has_value: bool,
}

impl ExceptionVisitor {
    fn finish(self) -> Option<Exception> {
        (self.has_value || self.exception.type_name.is_some()).then_some(self.exception)
    }

    /// Takes an error value from `field` unless a value named `error` was already taken.
    fn take_value(&mut self, field: &Field) -> bool {
        if self.exception.error_field == Some(ERROR_FIELD) {
            return false;
        }
        self.exception.error_field = Some(field.name());
        self.exception.causes.clear();
        self.exception.causes_dropped = 0;
        self.has_value = true;
        true
    }
}

impl Visit for ExceptionVisitor {
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if !self.take_value(field) {
            return;
        }
        self.exception.message = value.to_string();
        let causes = &mut self.exception.causes;
        self.exception.causes_dropped = walk_causes(value, DEFAULT_MAX_CAUSES, |err| {
            causes.push(err.to_string())
        });
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            TYPE_FIELD => self.exception.type_name = Some(value.to_owned()),
            STACKTRACE_FIELD => self.exception.stacktrace = Some(value.into()),
            MESSAGE_FIELD => {
                self.exception.message = value.to_owned();
                self.has_value = true;
            }
            ERROR_FIELD if self.take_value(field) => self.exception.message = value.to_owned(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            TYPE_FIELD | STACKTRACE_FIELD | MESSAGE_FIELD | ERROR_FIELD => {
                // `error = %e` arrives as a `DisplayValue`, whose `Debug` is the `Display` form.
                self.record_str(field, &format!("{value:?}"))
            }
            _ => {}
        }
    }
}

/// Whether `E` names a concrete type (a trait object's name says nothing about the error).
fn concrete_type_name<E: ?Sized>() -> Option<&'static str> {
    let name = std::any::type_name::<E>();
    (!name.starts_with("dyn ")).then_some(name)
}

/// Records `err` as an exception on the current span, as the seed services' Python does with
/// `span.record_exception(e)` followed by `span.set_status(ERROR)`.
///
/// Emits one ERROR event carrying the error, its type name (`std::any::type_name::<E>()`), its
/// `source()` chain; the layers add the stack trace of this call when their [`Stacktraces`]
/// setting asks for one. With this crate's layers installed the event becomes:
///
/// - a JSON line with an `exception` object (`type`, `message`, `causes`, `stacktrace`);
/// - on the OpenTelemetry span, one `exception` event (`exception.type`, `exception.message`,
///   `exception.stacktrace`), the status `Error` with the message as description, and the
///   attribute `error.type`.
///
/// Outside any span only the line is written. For a trait object (`Box<dyn Error>`,
/// `anyhow::Error`), use [`record_dyn_exception`].
///
/// The line is the caller's, as a `tracing` macro at the call would write it: its `target` is
/// the caller's module and its `file` and `line` (when the layer writes them) are the call's.
/// The location comes from `#[track_caller]`; the module, which a function cannot know, is read
/// once per call site from the caller's symbol: one walk of the stack and one symbolisation the
/// first time a call site records an error. The first in the process also loads the binary's
/// symbols, once (measured on a small program: 2.6 ms in a release build, 686 ms in a debug
/// build, whose compressed debug info is read; the first stack trace, when traces are on, pays
/// the same load, once for both); later calls cost microseconds. In a binary without symbols
/// (`strip = true`) the target is this module's, `tracing_correlate::exception`. Filters
/// (`RUST_LOG`) see this module's target: `tracing` decides what is enabled from a callsite's
/// static metadata.
///
/// # How errors become exceptions
///
/// An ERROR event *carries an exception* when it has an error value: a field recorded as
/// `&dyn Error`, a field named `error` (what `#[instrument(err)]` and `#[instrument(err(Debug))]`
/// emit), or the fields [`record_exception`] emits. Each such event gives, consistently:
///
/// | where | what |
/// |---|---|
/// | the line | `"exception":{"type":..,"message":..,"causes":[..],"causes_dropped":..,"stacktrace":..}`; the error field is not repeated as a plain field |
/// | the OpenTelemetry span | one `exception` event: `exception.type` (when known), `exception.message`, `exception.stacktrace` (when captured), `exception.causes` (when any), plus the event's other fields |
/// | its status | `Error`, described by the exception message; `error.type` = the type name, or `_OTHER` |
/// | the OTLP log record (`OTEL_LOGS_EXPORTER=otlp`, feature `init`) | the span event's `exception.*` attributes, plus the event's other fields; the message is the body |
///
/// Which forms give `type`, `causes` and `message` (the line's `exception` keys; on the span,
/// `exception.type`, `exception.causes`, `exception.message`, and `error.type` = the type or
/// `_OTHER`). Each row is a test in `tests/line/exceptions.rs` (`row_*`), logging an error with
/// one cause:
///
/// | the error logged as | `type` | `causes` | `message` |
/// |---|---|---|---|
/// | [`record_exception(&e)`](record_exception) | yes: `std::any::type_name` of `E` | yes | `Display` |
/// | [`span.record_exception(&e)`](SpanExt::record_exception) | yes | yes | `Display` |
/// | [`record_dyn_exception(e)`](record_dyn_exception), [`span.record_dyn_exception(e)`](SpanExt::record_dyn_exception) | no | yes | `Display` |
/// | `error!(error = &e as &dyn Error)` (any field name recorded as `&dyn Error`) | no | yes | `Display` |
/// | `error!(error = %e)` | no | no | `Display` |
/// | `error!(error = ?e)` | no | no | `Debug` (its causes may show inside it) |
/// | `#[instrument(err)]` | no | no | `Display` |
/// | `#[instrument(err(Debug))]` | no | no | `Debug` |
/// | `#[instrument(err(level = "warn"))]` (any level below ERROR) | no exception: `error` is a plain field, the status stays unset | | |
/// | `error!(exception.type = "billing::Declined", exception.message = %e)` | yes: the field's value | no | `Display` |
/// | `error!(exception.type = "billing::Declined", error = &e as &dyn Error)` | yes: the field's value | yes | `Display` |
/// | `error!(reason = %e, "payment failed")` (not named `error`, not a `&dyn Error`) | no exception: the status is `Error` described by the event's message | | |
///
/// `#[instrument(err)]` cannot give more: `tracing-attributes` expands it to
/// `event!(level, error = %e)` (`err(Debug)` to `error = ?e`), so only the formatted string
/// reaches a layer, and no option of the attribute changes that. To keep the type and the chain,
/// record the error inside the function and leave `err` out:
///
/// ```
/// # use tracing_correlate::record_exception;
/// # #[derive(Debug)] struct Declined;
/// # impl std::fmt::Display for Declined { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("declined") } }
/// # impl std::error::Error for Declined {}
/// # fn call_bank(_: u64) -> Result<(), Declined> { Err(Declined) }
/// #[tracing::instrument] // not `err`: the error is recorded, once, with its type and causes
/// fn charge(order_id: u64) -> Result<(), Declined> {
///     call_bank(order_id).inspect_err(|e| record_exception(e))
/// }
/// # let _ = charge(1);
/// ```
///
/// (or `error!(error = &e as &dyn Error, ...)` for the chain without the type, beside an
/// `exception.type` field for the type). Keeping `err` as well writes the error twice: two ERROR
/// lines, the second with the `Display` form only; the span still gets one `exception` event and
/// keeps the type in `error.type`.
///
/// Then, whatever the form:
///
/// - `causes` keeps the `source()` chain, outermost first: `message` is only the error itself.
///   At most [`DEFAULT_MAX_CAUSES`] (32) are kept, the others counted (`causes_dropped` on the
///   line, a last element `…[N more causes]` on the span); a chain that loops back to an error
///   already in it ends there.
/// - `stacktrace` is the event's stack trace, as the layers' [`Stacktraces`] setting says (by
///   default when `RUST_BACKTRACE` or `RUST_LIB_BACKTRACE` enable it): captured once for the
///   event and shared by the layers, so the line and the span carry the same text; it starts at
///   the code that logged or recorded the error and ends before its thread's or runtime's entry.
/// - Secrets: an exception is redacted by the rules of [`Redaction`](crate::Redaction), the same
///   way in all three (see there).
/// - An ERROR event without an error value sets the status `Error` with its message as
///   description, and stays an ordinary span event. WARN and below never change the status, and an
///   error value below ERROR is an ordinary field.
/// - Which other events become span events is [`OtelLayer::with_span_events`](crate::OtelLayer::with_span_events): by default WARN and
///   ERROR ([`DEFAULT_SPAN_EVENTS`](crate::DEFAULT_SPAN_EVENTS)). INFO and below stay in the JSON lines only, which already are
///   the log signal joined to the trace by `trace_id`: copying every event into its span is the
///   largest per-event cost of `tracing-opentelemetry` (figures in `BENCHMARKS.md`).
/// - The status is set when the span closes: the last exception's message, else the first ERROR
///   event's. The same exception (same message) is recorded once per span, however many times it is
///   logged on its way up.
///
///
/// ```
/// # use tracing_correlate::record_exception;
/// let span = tracing::info_span!("charge");
/// let _entered = span.enter();
/// if let Err(err) = "x".parse::<u32>() {
///     record_exception(&err);
/// }
/// ```
#[track_caller]
pub fn record_exception<E>(err: &E)
where
    E: Error + 'static,
{
    emit(None, err, concrete_type_name::<E>());
}

/// Records an error known only as a trait object on the current span; like [`record_exception`]
/// without `exception.type` (the conventions then use `_OTHER` as `error.type`).
///
/// ```
/// # use tracing_correlate::record_dyn_exception;
/// let err: Box<dyn std::error::Error> = "not a number".parse::<u32>().unwrap_err().into();
/// record_dyn_exception(err.as_ref());
/// ```
#[track_caller]
pub fn record_dyn_exception(err: &(dyn Error + 'static)) {
    emit(None, err, None);
}

#[track_caller]
fn emit(span: Option<&tracing::Span>, err: &(dyn Error + 'static), type_name: Option<&str>) {
    let location = Location::caller();
    let site = CallSite {
        target: caller_target(location),
        location,
    };
    let previous = RECORDING.try_with(|r| r.replace(Some(site))).ok().flatten();
    // The stack trace is the layers' to capture, once for the event, as their setting says.
    match span {
        Some(span) => tracing::error!(parent: span, exception.type = type_name, error = err),
        None => tracing::error!(exception.type = type_name, error = err),
    }
    let _ = RECORDING.try_with(|r| r.set(previous));
}

/// Where a [`record_exception`] call was made: its caller's module and source location.
#[derive(Clone, Copy)]
struct CallSite {
    target: &'static str,
    location: &'static Location<'static>,
}

thread_local! {
    /// The call of [`record_exception`] whose event this thread is dispatching.
    static RECORDING: Cell<Option<CallSite>> = const { Cell::new(None) };
}

/// The metadata a line gives an event of [`record_exception`]: its caller's target (module),
/// file and line, as a `tracing` macro at the call would have, instead of this module's.
pub(crate) fn caller_metadata(event: &Event<'_>) -> Option<Metadata<'static>> {
    let meta = event.metadata();
    if *meta.level() != Level::ERROR || meta.target() != module_path!() {
        return None;
    }
    let site = RECORDING.try_with(Cell::get).ok().flatten()?;
    Some(Metadata::new(
        meta.name(),
        site.target,
        *meta.level(),
        Some(site.location.file()),
        Some(site.location.line()),
        Some(site.target),
        FieldSet::new(&[], meta.callsite()),
        Kind::EVENT,
    ))
}

/// The module of the code at `location`, read once per call site from its frame's symbol
/// (`stacktrace::caller_module`), else this module's when the binary has no symbols.
///
/// Kept for the process's life: one entry per call site of [`record_exception`] in the
/// program's code (`Location::caller` is a static per call site), one string per module.
fn caller_target(location: &'static Location<'static>) -> &'static str {
    type Targets = Mutex<(
        FxHashMap<usize, &'static str>,
        FxHashMap<String, &'static str>,
    )>;
    static TARGETS: OnceLock<Targets> = OnceLock::new();
    let targets = TARGETS.get_or_init(Default::default);
    let key = location as *const Location<'static> as usize;
    if let Some(hit) = targets.lock().ok().and_then(|t| t.0.get(&key).copied()) {
        return hit;
    }
    let Some(module) = crate::stacktrace::caller_module() else {
        return module_path!();
    };
    let Ok(mut targets) = targets.lock() else {
        return module_path!();
    };
    let (sites, modules) = &mut *targets;
    let target = match modules.get(&module) {
        Some(target) => *target,
        None => {
            let target: &'static str = Box::leak(module.clone().into_boxed_str());
            modules.insert(module, target);
            target
        }
    };
    sites.insert(key, target);
    target
}

/// Exceptions on a given `tracing::Span`, the way OpenTelemetry SDKs put them on their spans.
///
/// ```
/// use tracing_correlate::SpanExt;
///
/// let span = tracing::info_span!("load_config");
/// if let Err(err) = std::fs::read_to_string("/no/such/file") {
///     span.record_exception(&err);
/// }
/// ```
pub trait SpanExt: sealed::Sealed {
    /// Records `err` as an exception on this span; see [`record_exception`].
    #[track_caller]
    fn record_exception<E>(&self, err: &E)
    where
        E: Error + 'static;

    /// Records an error trait object as an exception on this span; see [`record_dyn_exception`].
    #[track_caller]
    fn record_dyn_exception(&self, err: &(dyn Error + 'static));
}

impl SpanExt for tracing::Span {
    #[track_caller]
    fn record_exception<E>(&self, err: &E)
    where
        E: Error + 'static,
    {
        emit(Some(self), err, concrete_type_name::<E>());
    }

    #[track_caller]
    fn record_dyn_exception(&self, err: &(dyn Error + 'static)) {
        emit(Some(self), err, None);
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for tracing::Span {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trait_objects_have_no_type_name() {
        assert_eq!(
            concrete_type_name::<std::io::Error>(),
            Some("std::io::error::Error")
        );
        assert_eq!(concrete_type_name::<dyn Error + Send + Sync>(), None);
    }

    /// An error holding its source as its only field: both at one address.
    #[derive(Debug)]
    struct Wrapper(std::io::Error);

    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("wrapper")
        }
    }

    impl Error for Wrapper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn an_error_at_the_address_of_its_source_is_not_a_loop() {
        let err = Wrapper(std::io::Error::other("inner"));
        assert!(std::ptr::addr_eq(&err, &err.0));
        let mut causes = Vec::new();
        let dropped = walk_causes(&err, DEFAULT_MAX_CAUSES, |e| causes.push(e.to_string()));
        assert_eq!((causes, dropped), (vec!["inner".to_owned()], 0));
        let none = walk_causes(&err, 0, |_| panic!("no cause is kept"));
        assert_eq!(none, 1);
    }

    #[test]
    fn error_type_falls_back_to_other() {
        let e = Exception::default();
        assert_eq!(e.error_type(), "_OTHER");
    }
}

//! Errors become exceptions, consistently on the line and on the exported span.

use std::error::Error;
use std::fmt;

use opentelemetry::trace::Status;
use tracing::{error, info_span, instrument, warn};
use tracing_correlate::opentelemetry_sdk::trace::{Sampler, SpanData};
use tracing_correlate::{record_dyn_exception, record_exception, SpanExt};

use crate::support::find::line_with;
use crate::support::harness::{attr, Harness};
use crate::support::ids::{ids_of, line_ids};

#[derive(Debug)]
struct PaymentDeclined {
    source: std::io::Error,
}

impl fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payment declined")
    }
}

impl Error for PaymentDeclined {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

fn declined() -> PaymentDeclined {
    PaymentDeclined {
        source: std::io::Error::other("card limit exceeded"),
    }
}

const TYPE_NAME: &str = concat!(module_path!(), "::PaymentDeclined");

fn exception_events(span: &SpanData) -> Vec<&opentelemetry::trace::Event> {
    span.events
        .iter()
        .filter(|e| e.name == "exception")
        .collect()
}

fn error_status(span: &SpanData) -> String {
    match &span.status {
        Status::Error { description } => description.to_string(),
        other => panic!("status of {:?} is {other:?}, not Error", span.name),
    }
}

/// The line that carries an `exception` object.
fn exception_line(h: &Harness) -> serde_json::Value {
    let mut found: Vec<_> = h
        .lines()
        .into_iter()
        .filter(|l| l.get("exception").is_some())
        .collect();
    assert_eq!(found.len(), 1, "exactly one exception line");
    found.remove(0)
}

#[test]
fn record_exception_maps_type_message_causes_and_status() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("charge");
        let _e = span.enter();
        record_exception(&declined());
    });
    let line = exception_line(&h);
    let span = h.span("charge");
    assert_eq!(line["level"], "ERROR");
    assert_eq!(line_ids(&line), ids_of(&span));
    let exc = &line["exception"];
    assert_eq!(exc["type"], TYPE_NAME);
    assert_eq!(exc["message"], "payment declined");
    assert_eq!(exc["causes"], serde_json::json!(["card limit exceeded"]));
    assert!(
        line.get("error").is_none(),
        "the error is not repeated as a field"
    );

    let events = exception_events(&span);
    assert_eq!(
        events.len(),
        1,
        "exactly one exception event: {:?}",
        span.events
    );
    let ev = &events[0].attributes;
    assert_eq!(attr(ev, "exception.type").as_deref(), Some(TYPE_NAME));
    assert_eq!(
        attr(ev, "exception.message").as_deref(),
        Some("payment declined")
    );
    assert_eq!(
        attr(ev, "exception.causes").as_deref(),
        Some(r#"["card limit exceeded"]"#)
    );
    assert_eq!(error_status(&span), "payment declined");
    assert_eq!(
        attr(&span.attributes, "error.type").as_deref(),
        Some(TYPE_NAME)
    );
    // Line and span agree on what the stack trace is, whether or not capture is enabled here.
    assert_eq!(
        exc.get("stacktrace")
            .and_then(|s| s.as_str())
            .map(str::to_owned),
        attr(ev, "exception.stacktrace")
    );
}

#[test]
fn span_ext_records_on_a_span_that_is_not_current() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("load_config");
        let err = std::fs::read_to_string("/no/such/dir/config.toml").unwrap_err();
        span.record_exception(&err);
    });
    let line = exception_line(&h);
    let span = h.span("load_config");
    assert_eq!(line_ids(&line), ids_of(&span));
    assert_eq!(line["exception"]["type"], "std::io::error::Error");
    assert_eq!(exception_events(&span).len(), 1);
    assert_eq!(
        attr(&span.attributes, "error.type").as_deref(),
        Some("std::io::error::Error")
    );
}

#[test]
fn dyn_errors_have_no_type_and_error_type_other() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("boxed");
        let _e = span.enter();
        let err: Box<dyn Error + Send + Sync> = Box::new(declined());
        record_dyn_exception(err.as_ref());
    });
    let line = exception_line(&h);
    assert!(line["exception"].get("type").is_none());
    assert_eq!(line["exception"]["message"], "payment declined");
    let span = h.span("boxed");
    assert_eq!(
        attr(&exception_events(&span)[0].attributes, "exception.type"),
        None
    );
    assert_eq!(
        attr(&span.attributes, "error.type").as_deref(),
        Some("_OTHER")
    );
}

#[instrument(err)]
fn charge_display(amount: u64) -> Result<(), PaymentDeclined> {
    let _ = amount;
    Err(declined())
}

#[instrument(err(Debug))]
fn charge_debug() -> Result<(), std::io::Error> {
    Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no card"))
}

#[test]
fn instrument_err_maps_the_display_form() {
    let h = Harness::new();
    h.run(|| {
        let _ = charge_display(100);
    });
    let line = exception_line(&h);
    let span = h.span("charge_display");
    assert_eq!(line_ids(&line), ids_of(&span));
    assert_eq!(line["exception"]["message"], "payment declined");
    assert!(line["exception"].get("type").is_none());
    assert!(line.get("error").is_none());
    assert_eq!(line["amount"], 100, "the span's fields stay on the line");
    let events = exception_events(&span);
    assert_eq!(events.len(), 1);
    assert_eq!(
        attr(&events[0].attributes, "exception.message").as_deref(),
        Some("payment declined")
    );
    assert_eq!(error_status(&span), "payment declined");
    assert_eq!(
        attr(&span.attributes, "error.type").as_deref(),
        Some("_OTHER")
    );
    assert_eq!(
        span.events.len(),
        1,
        "no second event for the same error: {:?}",
        span.events
    );
}

#[test]
fn instrument_err_debug_maps_the_debug_form() {
    let h = Harness::new();
    h.run(|| {
        let _ = charge_debug();
    });
    let expected = format!(
        "{:?}",
        std::io::Error::new(std::io::ErrorKind::NotFound, "no card")
    );
    let line = exception_line(&h);
    assert_eq!(line["exception"]["message"], expected.as_str());
    let span = h.span("charge_debug");
    assert_eq!(error_status(&span), expected);
    assert_eq!(exception_events(&span).len(), 1);
}

#[test]
fn error_field_as_dyn_error_keeps_message_other_fields_and_chain() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("pay");
        let _e = span.enter();
        let err = declined();
        error!(
            error = &err as &(dyn Error + 'static),
            order_id = 42,
            "payment failed"
        );
    });
    let line = exception_line(&h);
    assert_eq!(line["message"], "payment failed");
    assert_eq!(line["order_id"], 42);
    assert_eq!(line["exception"]["message"], "payment declined");
    assert_eq!(
        line["exception"]["causes"],
        serde_json::json!(["card limit exceeded"])
    );
    let span = h.span("pay");
    let events = exception_events(&span);
    assert_eq!(events.len(), 1);
    let ev = &events[0].attributes;
    assert_eq!(
        attr(ev, "exception.message").as_deref(),
        Some("payment declined")
    );
    assert_eq!(attr(ev, "order_id").as_deref(), Some("42"));
    assert_eq!(attr(ev, "message").as_deref(), Some("payment failed"));
    assert_eq!(error_status(&span), "payment declined");
}

#[test]
fn error_event_without_an_error_sets_status_from_its_message() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("sync");
        let _e = span.enter();
        error!(attempt = 3, "upstream unavailable");
    });
    let lines = h.lines();
    let line = line_with(&lines, "upstream unavailable");
    assert!(line.get("exception").is_none());
    assert_eq!(line["attempt"], 3);
    let span = h.span("sync");
    assert!(exception_events(&span).is_empty());
    assert_eq!(
        span.events.len(),
        1,
        "the event stays an ordinary span event"
    );
    assert_eq!(error_status(&span), "upstream unavailable");
    assert_eq!(attr(&span.attributes, "error.type"), None);
}

#[test]
fn warn_and_below_never_change_the_status() {
    let h = Harness::new();
    h.run(|| {
        let span = info_span!("retrying");
        let _e = span.enter();
        let err = declined();
        warn!(error = &err as &(dyn Error + 'static), "will retry");
        tracing::info!(error = "handled", "fine");
    });
    let lines = h.lines();
    let warn_line = line_with(&lines, "will retry");
    assert!(warn_line.get("exception").is_none());
    assert_eq!(
        warn_line["error"], "payment declined",
        "below ERROR an error is a plain field"
    );
    let span = h.span("retrying");
    assert_eq!(span.status, Status::Unset);
    assert!(exception_events(&span).is_empty());
}

#[test]
fn the_same_exception_is_recorded_once_per_span() {
    #[instrument(err)]
    fn fails() -> Result<(), PaymentDeclined> {
        let err = declined();
        record_exception(&err);
        Err(err)
    }
    let h = Harness::new();
    h.run(|| {
        let _ = fails();
    });
    let span = h.span("fails");
    assert_eq!(exception_events(&span).len(), 1, "{:?}", span.events);
    let exception_lines = h
        .lines()
        .into_iter()
        .filter(|l| l.get("exception").is_some())
        .count();
    assert_eq!(exception_lines, 2, "each log event still gives its line");
}

#[test]
fn the_last_exception_describes_the_status_over_earlier_plain_errors() {
    #[instrument(err)]
    fn handler() -> Result<(), PaymentDeclined> {
        error!("a plain error first");
        Err(declined())
    }
    let h = Harness::new();
    h.run(|| {
        let _ = handler();
    });
    assert_eq!(error_status(&h.span("handler")), "payment declined");
}

#[test]
fn exceptions_outside_spans_still_give_the_line() {
    let h = Harness::new();
    h.run(|| record_exception(&declined()));
    let line = exception_line(&h);
    assert_eq!(line["exception"]["type"], TYPE_NAME);
    assert!(line.get("trace_id").is_none());
    assert!(h.spans().is_empty());
}

#[test]
fn nested_instrumented_functions_each_get_their_own_error() {
    #[derive(Debug)]
    struct Wrapped(PaymentDeclined);
    impl fmt::Display for Wrapped {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "checkout failed: {}", self.0)
        }
    }
    impl Error for Wrapped {}

    #[instrument(err)]
    fn outer() -> Result<(), Wrapped> {
        charge_display(1).map_err(Wrapped)
    }
    let h = Harness::new();
    h.run(|| {
        let _ = outer();
    });
    assert_eq!(error_status(&h.span("charge_display")), "payment declined");
    assert_eq!(
        error_status(&h.span("outer")),
        "checkout failed: payment declined"
    );
}

/// Runs `f` under both layers with the OpenTelemetry layer's span events at `level`, and returns
/// the one exported span.
fn span_with_events(
    level: Option<tracing_subscriber::filter::LevelFilter>,
    f: impl FnOnce(),
) -> SpanData {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_correlate::opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    use tracing_subscriber::layer::SubscriberExt;
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let otel = tracing_correlate::otel_layer(provider.tracer("t"));
    let otel = match level {
        Some(level) => otel.with_span_events(level),
        None => otel,
    };
    let subscriber = tracing_subscriber::registry()
        .with(otel)
        .with(tracing_correlate::layer().with_writer(std::io::sink));
    tracing::subscriber::with_default(subscriber, f);
    let mut spans = exporter.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 1);
    spans.remove(0)
}

fn emit_all_levels() {
    let span = info_span!("work");
    let _e = span.enter();
    tracing::debug!("a debug event");
    tracing::info!("an info event");
    warn!("a warning");
    error!("a plain error");
    record_exception(&declined());
}

fn event_names(span: &SpanData) -> Vec<String> {
    span.events.iter().map(|e| e.name.to_string()).collect()
}

#[test]
fn by_default_warnings_and_errors_become_span_events_and_info_does_not() {
    let span = span_with_events(None, emit_all_levels);
    assert_eq!(
        event_names(&span),
        ["a warning", "a plain error", "exception"],
        "INFO and DEBUG stay in the JSON lines only"
    );
}

#[test]
fn span_events_can_be_every_event_or_none_but_exceptions() {
    use tracing_subscriber::filter::LevelFilter;
    let all = span_with_events(Some(LevelFilter::TRACE), emit_all_levels);
    assert_eq!(
        event_names(&all),
        [
            "a debug event",
            "an info event",
            "a warning",
            "a plain error",
            "exception"
        ]
    );
    let none = span_with_events(Some(LevelFilter::OFF), emit_all_levels);
    assert_eq!(
        event_names(&none),
        ["exception"],
        "an exception is always recorded"
    );
    assert_eq!(none.status, Status::error("payment declined"));
}

// ---------------------------------------------------------------------------------------------
// The table "Which forms give `type`, `causes` and `message`" (`record_exception`'s docs and the
// README's error section): one test per row, each logging `declined()` (an error with one cause)
// in the row's form and checking the line's `exception` and the span's `exception` event against
// what the row says.

/// What a row of the table says an error logged in its form gives.
struct Row {
    /// `type` on the line and `exception.type` on the span (`error.type` is this, else `_OTHER`).
    type_name: Option<&'static str>,
    /// `causes` on the line and `exception.causes` on the span.
    causes: Option<&'static [&'static str]>,
    /// `message` on the line, `exception.message` on the span, and the status description.
    message: String,
}

/// The Display form of `declined()`.
fn display() -> String {
    declined().to_string()
}

/// The Debug form of `declined()`, with its cause inside.
fn debug() -> String {
    format!("{:?}", declined())
}

const CAUSES: &[&str] = &["card limit exceeded"];

/// Checks that the run gave exactly one ERROR line, carrying what `row` says, and that the span
/// `span_name` got one `exception` event saying the same, and its status and `error.type`.
fn assert_row(h: &Harness, span_name: &str, row: &Row) {
    let lines = h.lines();
    let errors: Vec<_> = lines.iter().filter(|l| l["level"] == "ERROR").collect();
    assert_eq!(errors.len(), 1, "one ERROR line: {lines:#?}");
    let line = errors[0];
    let span = h.span(span_name);
    assert_eq!(line_ids(line), ids_of(&span));
    let exc = &line["exception"];
    assert_eq!(exc["type"].as_str(), row.type_name, "line: {line}");
    assert_eq!(
        exc.get("causes"),
        row.causes.map(|c| serde_json::json!(c)).as_ref(),
        "line: {line}"
    );
    assert_eq!(exc["message"], row.message.as_str(), "line: {line}");

    let events = exception_events(&span);
    assert_eq!(events.len(), 1, "one exception event: {:?}", span.events);
    let ev = &events[0].attributes;
    assert_eq!(attr(ev, "exception.type").as_deref(), row.type_name);
    assert_eq!(
        attr(ev, "exception.causes"),
        row.causes.map(|c| serde_json::json!(c).to_string())
    );
    assert_eq!(
        attr(ev, "exception.message").as_deref(),
        Some(row.message.as_str())
    );
    assert_eq!(error_status(&span), row.message);
    assert_eq!(
        attr(&span.attributes, "error.type").as_deref(),
        Some(row.type_name.unwrap_or("_OTHER"))
    );
}

#[test]
fn row_record_exception_gives_type_causes_and_the_display_form() {
    let h = Harness::new();
    h.run(|| {
        let _e = info_span!("pay").entered();
        record_exception(&declined());
    });
    let row = Row {
        type_name: Some(TYPE_NAME),
        causes: Some(CAUSES),
        message: display(),
    };
    assert_row(&h, "pay", &row);
}

#[test]
fn row_span_record_exception_gives_type_causes_and_the_display_form() {
    let h = Harness::new();
    h.run(|| info_span!("pay").record_exception(&declined()));
    let row = Row {
        type_name: Some(TYPE_NAME),
        causes: Some(CAUSES),
        message: display(),
    };
    assert_row(&h, "pay", &row);
}

#[test]
fn row_record_dyn_exception_gives_causes_and_the_display_form_but_no_type() {
    let h = Harness::new();
    h.run(|| {
        let boxed: Box<dyn Error + Send + Sync> = Box::new(declined());
        let _e = info_span!("pay").entered();
        record_dyn_exception(boxed.as_ref());
        let span = info_span!("pay_given");
        span.record_dyn_exception(boxed.as_ref());
    });
    let row = Row {
        type_name: None,
        causes: Some(CAUSES),
        message: display(),
    };
    // Two calls, two spans: check each span and the lines one by one.
    let lines = h.lines();
    assert_eq!(lines.len(), 2);
    for (line, name) in lines.iter().zip(["pay", "pay_given"]) {
        let span = h.span(name);
        assert_eq!(line_ids(line), ids_of(&span), "{name}");
        assert!(line["exception"].get("type").is_none(), "{line}");
        assert_eq!(line["exception"]["causes"], serde_json::json!(CAUSES));
        assert_eq!(line["exception"]["message"], row.message.as_str());
        let events = exception_events(&span);
        assert_eq!(events.len(), 1);
        assert_eq!(attr(&events[0].attributes, "exception.type"), None);
        assert_eq!(
            attr(&events[0].attributes, "exception.causes"),
            Some(serde_json::json!(CAUSES).to_string())
        );
        assert_eq!(error_status(&span), row.message);
        assert_eq!(
            attr(&span.attributes, "error.type").as_deref(),
            Some("_OTHER")
        );
    }
}

#[test]
fn row_error_field_as_dyn_error_gives_causes_and_the_display_form_but_no_type() {
    let h = Harness::new();
    h.run(|| {
        let _e = info_span!("pay").entered();
        let err = declined();
        error!(error = &err as &(dyn Error + 'static), "payment failed");
    });
    let row = Row {
        type_name: None,
        causes: Some(CAUSES),
        message: display(),
    };
    assert_row(&h, "pay", &row);
}

#[test]
fn row_error_field_display_gives_the_display_form_only() {
    let h = Harness::new();
    h.run(|| {
        let _e = info_span!("pay").entered();
        error!(error = %declined(), "payment failed");
    });
    let row = Row {
        type_name: None,
        causes: None,
        message: display(),
    };
    assert_row(&h, "pay", &row);
}

#[test]
fn row_error_field_debug_gives_the_debug_form_only() {
    let h = Harness::new();
    h.run(|| {
        let _e = info_span!("pay").entered();
        error!(error = ?declined(), "payment failed");
    });
    let row = Row {
        type_name: None,
        causes: None,
        message: debug(),
    };
    assert_row(&h, "pay", &row);
}

#[instrument(err)]
fn pay_instrument_err() -> Result<(), PaymentDeclined> {
    Err(declined())
}

#[instrument(err(Debug))]
fn pay_instrument_err_debug() -> Result<(), PaymentDeclined> {
    Err(declined())
}

#[test]
fn row_instrument_err_gives_the_display_form_only() {
    let h = Harness::new();
    h.run(|| {
        let _ = pay_instrument_err();
    });
    let row = Row {
        type_name: None,
        causes: None,
        message: display(),
    };
    assert_row(&h, "pay_instrument_err", &row);
}

#[test]
fn row_instrument_err_debug_gives_the_debug_form_only() {
    let h = Harness::new();
    h.run(|| {
        let _ = pay_instrument_err_debug();
    });
    let row = Row {
        type_name: None,
        causes: None,
        message: debug(),
    };
    assert_row(&h, "pay_instrument_err_debug", &row);
}

#[instrument(err(level = "warn"))]
fn pay_instrument_err_warn() -> Result<(), PaymentDeclined> {
    Err(declined())
}

#[test]
fn row_instrument_err_below_error_gives_no_exception_and_a_plain_error_field() {
    let h = Harness::new();
    h.run(|| {
        let _ = pay_instrument_err_warn();
    });
    let lines = h.lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["level"], "WARN");
    assert!(lines[0].get("exception").is_none(), "{}", lines[0]);
    assert_eq!(lines[0]["error"], display().as_str());
    let span = h.span("pay_instrument_err_warn");
    assert!(exception_events(&span).is_empty(), "{:?}", span.events);
    assert_eq!(span.status, Status::Unset);
    assert_eq!(attr(&span.attributes, "error.type"), None);
}

#[instrument]
fn pay_inspect_err() -> Result<(), PaymentDeclined> {
    Err(declined()).inspect_err(|e| record_exception(e))
}

#[test]
fn row_instrument_with_inspect_err_record_exception_gives_type_causes_and_the_display_form() {
    let h = Harness::new();
    h.run(|| {
        let _ = pay_inspect_err();
    });
    let row = Row {
        type_name: Some(TYPE_NAME),
        causes: Some(CAUSES),
        message: display(),
    };
    assert_row(&h, "pay_inspect_err", &row);
}

#[instrument(err)]
fn pay_inspect_err_and_err() -> Result<(), PaymentDeclined> {
    Err(declined()).inspect_err(|e| record_exception(e))
}

#[test]
fn row_instrument_err_with_inspect_err_record_exception_gives_two_error_lines_one_exception_event()
{
    let h = Harness::new();
    h.run(|| {
        let _ = pay_inspect_err_and_err();
    });
    let lines = h.lines();
    let errors: Vec<_> = lines.iter().filter(|l| l["level"] == "ERROR").collect();
    assert_eq!(errors.len(), 2, "{lines:#?}");
    assert_eq!(errors[0]["exception"]["type"], TYPE_NAME);
    assert_eq!(errors[0]["exception"]["causes"], serde_json::json!(CAUSES));
    assert!(errors[1]["exception"].get("type").is_none());
    assert!(errors[1]["exception"].get("causes").is_none());
    assert_eq!(errors[1]["exception"]["message"], display().as_str());
    let span = h.span("pay_inspect_err_and_err");
    let events = exception_events(&span);
    assert_eq!(events.len(), 1, "the same message is recorded once");
    assert_eq!(
        attr(&events[0].attributes, "exception.type").as_deref(),
        Some(TYPE_NAME)
    );
    assert_eq!(
        attr(&span.attributes, "error.type").as_deref(),
        Some(TYPE_NAME)
    );
}

#[test]
fn row_exception_type_set_by_hand_with_an_exception_message_gives_type_and_message_only() {
    let h = Harness::new();
    h.run(|| {
        let _e = info_span!("pay").entered();
        error!(
            exception.type = "billing::PaymentDeclined",
            exception.message = %declined(),
            "payment failed"
        );
    });
    let row = Row {
        type_name: Some("billing::PaymentDeclined"),
        causes: None,
        message: display(),
    };
    assert_row(&h, "pay", &row);
}

#[test]
fn row_exception_type_set_by_hand_beside_a_dyn_error_gives_type_causes_and_the_display_form() {
    let h = Harness::new();
    h.run(|| {
        let _e = info_span!("pay").entered();
        let err = declined();
        error!(
            exception.type = "billing::PaymentDeclined",
            error = &err as &(dyn Error + 'static),
            "payment failed"
        );
    });
    let row = Row {
        type_name: Some("billing::PaymentDeclined"),
        causes: Some(CAUSES),
        message: display(),
    };
    assert_row(&h, "pay", &row);
}

#[test]
fn row_an_error_under_another_name_recorded_as_display_is_no_exception() {
    let h = Harness::new();
    h.run(|| {
        let _e = info_span!("pay").entered();
        error!(reason = %declined(), "payment failed");
    });
    let lines = h.lines();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].get("exception").is_none(), "{}", lines[0]);
    assert_eq!(lines[0]["reason"], display().as_str());
    let span = h.span("pay");
    assert!(exception_events(&span).is_empty(), "{:?}", span.events);
    assert_eq!(error_status(&span), "payment failed");
    assert_eq!(attr(&span.attributes, "error.type"), None);
}

/// Code in a module of its own, recording errors four ways: each line must name this module and
/// the line of the call, as a `tracing` macro there would.
mod checkout {
    use tracing_correlate::{record_dyn_exception, record_exception, SpanExt};

    pub const MODULE: &str = module_path!();

    pub struct Cart;

    impl Cart {
        /// Returns the line of its call of `record_exception`.
        #[inline(never)]
        pub fn charge(&self) -> u32 {
            record_exception(&std::io::Error::other("declined"));
            line!() - 1
        }
    }

    #[inline(never)]
    pub fn refund() -> u32 {
        let err: Box<dyn std::error::Error> = "no such payment".into();
        record_dyn_exception(err.as_ref());
        line!() - 1
    }

    #[inline(never)]
    pub fn on_span(span: &tracing::Span) -> u32 {
        span.record_exception(&std::io::Error::other("timed out"));
        line!() - 1
    }

    pub async fn in_async() -> u32 {
        record_exception(&std::io::Error::other("async"));
        line!() - 1
    }
}

#[test]
fn record_exception_lines_carry_the_callers_target_file_and_line() {
    let h = Harness::with(Sampler::AlwaysOn, |l| {
        l.with_file(true).with_line_number(true)
    });
    let lines = h.run(|| {
        let span = info_span!("request");
        let _e = span.enter();
        let a = checkout::Cart.charge();
        let b = checkout::refund();
        let c = checkout::on_span(&span);
        let d = block_on(checkout::in_async());
        [a, b, c, d]
    });
    let written = h.lines();
    assert_eq!(written.len(), 4, "{written:?}");
    for (line, at) in written.iter().zip(lines) {
        assert_eq!(line["target"], checkout::MODULE, "{line}");
        assert_eq!(line["file"], file!(), "{line}");
        assert_eq!(line["line"], at, "{line}");
        assert!(line["exception"].is_object(), "{line}");
    }
}

/// Polls a future that never waits to its end (the async body above never does).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(future)
}

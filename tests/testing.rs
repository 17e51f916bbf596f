//! `tracing_correlate::testing` used as a service's own tests would use it: an axum handler
//! tested through the server middleware, a library function with `#[instrument(err)]`, secrets,
//! snapshots, and captures running in parallel on many threads.

use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use tower::ServiceExt as _;
use tracing::{info, instrument};
use tracing_correlate::testing::{self, Recorder};

#[derive(Debug)]
struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined")
    }
}

impl std::error::Error for Declined {}

#[instrument(err)]
fn charge(order_id: u64, amount_cents: u64) -> Result<(), Declined> {
    info!("charging");
    if amount_cents > 10_000 {
        return Err(Declined);
    }
    Ok(())
}

async fn pay(axum::extract::Path(amount): axum::extract::Path<u64>) -> StatusCode {
    info!(amount, "payment requested");
    match charge(42, amount) {
        Ok(()) => StatusCode::OK,
        Err(e) => {
            tracing_correlate::record_exception(&e);
            StatusCode::PAYMENT_REQUIRED
        }
    }
}

fn app() -> Router {
    Router::new()
        .route("/pay/{amount}", get(pay))
        .layer(tracing_correlate::server::TraceLayer::new())
}

async fn request(uri: &str) -> StatusCode {
    app()
        .oneshot(Request::get(uri).body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_declined_payment_is_one_trace_with_its_exception_on_the_handler_span() {
    let (status, captured) = testing::capture_async(request("/pay/20000")).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    captured
        .assert_one_trace()
        .assert_field("payment requested", "amount", 20000)
        .assert_field("charging", "order_id", 42);
    // The server span is the root; `charge` is its child and failed.
    let server = captured.span("GET /pay/{amount}");
    let charge = captured.span("charge");
    assert_eq!(charge.parent_span_id, server.span_context.span_id());
    assert!(matches!(
        charge.status,
        opentelemetry::trace::Status::Error { .. }
    ));
    // Every line of the request joins to a span of the request.
    for line in captured.lines() {
        assert!(captured.span_of(line).is_some(), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_exception_is_recorded_once_on_the_span_that_failed() {
    let (_, captured) = testing::capture_async(async {
        tracing::info_span!("checkout").in_scope(|| {
            let e = Declined;
            tracing_correlate::record_exception(&e);
        });
    })
    .await;
    captured
        .assert_exception_once("checkout", "testing::Declined")
        .assert_lines_at("ERROR", 1);
}

#[tokio::test]
async fn a_paid_request_writes_no_error_line() {
    let (status, captured) = testing::capture_async(request("/pay/500")).await;
    assert_eq!(status, StatusCode::OK);
    captured.assert_one_trace().assert_lines_at("ERROR", 0);
}

#[tokio::test]
async fn with_held_lines_only_the_declined_payment_writes_its_info_lines() {
    use tracing::Level;
    use tracing_correlate::HeldLines;
    let recorder = Recorder::new().with_held_lines(HeldLines::new(Level::INFO));
    let (status, paid) = recorder.record_async(request("/pay/500")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(paid.lines().is_empty(), "{:?}", paid.lines());
    assert_eq!(paid.spans().len(), 2, "the spans are exported as ever");

    let (status, declined) = recorder.record_async(request("/pay/20000")).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    let held: Vec<&str> = declined
        .lines()
        .iter()
        .filter(|l| l["held"] == true)
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(held, ["payment requested", "charging"]);
    declined.assert_one_trace();
    // The spans are as without held lines: `charge` failed, with its exception event.
    let charge = declined.span("charge");
    assert!(matches!(
        charge.status,
        opentelemetry::trace::Status::Error { .. }
    ));
    assert_eq!(
        charge
            .events
            .iter()
            .filter(|e| e.name == "exception")
            .count(),
        1
    );
}

#[test]
fn a_secret_field_appears_nowhere() {
    let (_, captured) = testing::capture(|| {
        let span = tracing::info_span!("login", api_key = "k-123", user = "ada");
        let _e = span.enter();
        tracing::warn!(password = "hunter2", "weak password");
    });
    captured
        .assert_nowhere("k-123")
        .assert_nowhere("hunter2")
        .assert_field("weak password", "password", "[REDACTED]");
}

#[test]
fn a_library_function_keeps_its_fields_and_its_error() {
    let (result, captured) = testing::capture(|| charge(7, 20_000));
    assert!(result.is_err());
    captured
        .assert_field("charging", "amount_cents", 20000)
        .assert_lines_at("ERROR", 1)
        .assert_no_field("exception.stacktrace");
    let span = captured.span("charge");
    let lines = captured.lines_of(span);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!(lines[1]["level"], "ERROR");
}

#[test]
fn deterministic_captures_give_the_same_snapshot_every_run() {
    let run = || {
        Recorder::new()
            .with_deterministic(true)
            .record(|| {
                let _ = tracing::info_span!("job").in_scope(|| charge(1, 50_000));
                info!("outside");
            })
            .1
    };
    let (first, second) = (run(), run());
    assert_eq!(first.snapshot(), second.snapshot());
    assert_eq!(first.tree(), second.tree());
    assert_eq!(
        first.tree(),
        "trace 00000000000000000000000000000001\n\
         \x20 job [unset]\n\
         \x20   charge [error: card declined]\n\
         \x20     INFO charging\n\
         \x20     ERROR card declined\n\
         outside any span\n\
         \x20 INFO outside\n"
    );
    assert_eq!(first.lines()[0]["timestamp"], "2000-01-01T00:00:00.000001Z");
    assert_eq!(first.lines()[0]["span_id"], "0000000000000002");
}

#[test]
fn the_log_records_are_captured_when_asked() {
    let (_, captured) = Recorder::new()
        .with_log_records(true)
        .record(|| tracing::info_span!("job").in_scope(|| info!("step done")));
    let records = captured.logs();
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].body.as_deref(), Some("step done"));
    let line = &captured.lines_with_message("step done")[0];
    assert_eq!(records[0].span_id.as_deref(), line["span_id"].as_str());
    assert_eq!(records[0].trace_id.as_deref(), line["trace_id"].as_str());
}

#[test]
fn captures_on_many_threads_at_once_never_see_each_others_lines_or_spans() {
    let threads: Vec<_> = (0..16u64)
        .map(|n| {
            std::thread::spawn(move || {
                let (_, captured) = testing::capture(|| {
                    for i in 0..50u64 {
                        let span = tracing::info_span!("work", thread = n, i);
                        let _e = span.enter();
                        info!(thread = n, "step");
                    }
                });
                assert_eq!(captured.lines().len(), 50);
                assert_eq!(captured.spans().len(), 50);
                assert!(captured.lines().iter().all(|l| l["thread"] == n));
                assert!(captured
                    .spans()
                    .iter()
                    .all(|s| s.attributes.iter().any(|kv| kv.key.as_str() == "thread"
                        && kv.value == opentelemetry::Value::I64(n as i64))));
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
#[should_panic(expected = "expected one trace, found 2")]
fn a_failed_assertion_names_what_it_found() {
    let (_, captured) = testing::capture(|| {
        tracing::info_span!("a").in_scope(|| info!("one"));
        tracing::info_span!("b").in_scope(|| info!("two"));
    });
    captured.assert_one_trace();
}

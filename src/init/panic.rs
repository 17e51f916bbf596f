//! The panic hook: a panic becomes an ERROR line with its exception on the current span (which
//! is then marked as an error), the exporters are flushed, then the previous hook runs.

use std::any::Any;
use std::sync::atomic::Ordering;
use std::time::Duration;

use opentelemetry_sdk::trace::SdkTracerProvider;

/// Installs the hook in front of the one already installed.
pub(crate) fn install(provider: SdkTracerProvider, flush_timeout: Duration) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = payload_message(info.payload());
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        let stacktrace = crate::exception::captured_backtrace();
        let thread = std::thread::current();
        let text = format!(
            "thread '{}' panicked at {}: {message}",
            thread.name().unwrap_or("<unnamed>"),
            location.as_deref().unwrap_or("<unknown>"),
        );
        tracing::error!(
            // (The target is this module, `tracing_correlate::panic`.)
            exception.type = "panic",
            exception.message = message,
            exception.stacktrace = stacktrace.as_deref(),
            location = location.as_deref(),
            "{text}"
        );
        // Once the guard has shut the exporters down there is nothing left to flush.
        if !crate::init::guard::SHUT_DOWN.load(Ordering::SeqCst) {
            let provider = provider.clone();
            crate::init::guard::bounded(flush_timeout, move || {
                let _ = provider.force_flush();
            });
        }
        previous(info);
    }));
}

/// The panic's message: the payload of `panic!("...")` is a `&str` or a `String`.
pub(crate) fn payload_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>")
}

//! The panic hook: a panic becomes an ERROR line with its exception on the current span (which
//! is then marked as an error), the exporters are flushed, then the previous hook runs. A panic
//! of the writer itself only runs the previous hook. With feature `tower`, a logged panic is
//! noted for the server middleware (`panic_note.rs`), which catches it without a second line.

use std::sync::atomic::Ordering;
use std::time::Duration;

use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::line::non_blocking::{deadline_after, waiting_at_most, LineQueue};
use crate::line::output::payload_message;

/// Installs the hook in front of the one already installed; `queue` is the non-blocking output's,
/// flushed after the panic's line.
pub(crate) fn install(
    provider: SdkTracerProvider,
    flush_timeout: Duration,
    queue: Option<LineQueue>,
) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // A panic of the writer itself, while it writes a line: that line is lost and counted
        // (`line/output.rs`). Logging this panic would go through the same writer, and a panic
        // inside a panic hook aborts the process: no line, no flush; the previous hook (by
        // default, the panic's message on stderr) still runs.
        if crate::line::output::in_writer() {
            previous(info);
            return;
        }
        // Whether the line below is written (a filter may drop this module's events): only a
        // written one is noted for the server middleware, which otherwise logs the panic itself.
        #[cfg(feature = "tower")]
        let logged = tracing::enabled!(tracing::Level::ERROR);
        let message = payload_message(info.payload());
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        let thread = std::thread::current();
        let text = format!(
            "thread '{}' panicked at {}: {message}",
            thread.name().unwrap_or("<unnamed>"),
            location.as_deref().unwrap_or("<unknown>"),
        );
        // A `blocking` queue that is full keeps the hook waiting no longer than the flush bound.
        let waiting = waiting_at_most(deadline_after(flush_timeout));
        tracing::error!(
            // (The target is this module, `tracing_correlate::init::panic`.) The layers add the stack
            // trace, from the frame that panicked, as their `Stacktraces` setting says.
            exception.type = "panic",
            exception.message = message,
            location = location.as_deref(),
            "{text}"
        );
        drop(waiting);
        // For the server middleware, which catches the panic and must not log it twice.
        #[cfg(feature = "tower")]
        if logged {
            crate::panic_note::note(crate::panic_note::Note {
                span: tracing::Span::current().id(),
                location,
                stacktrace: crate::stacktrace::last(),
            });
        }
        // Once the guard has shut the exporters down there is nothing left to flush.
        if !crate::init::guard::SHUT_DOWN.load(Ordering::SeqCst) {
            let provider = provider.clone();
            crate::init::guard::bounded(flush_timeout, move || {
                let _ = provider.force_flush();
            });
        }
        // The panic's line out before the process may end (the panic may abort it, or end
        // `main`), whether or not the guard has shut down: lines are written after it too.
        if let Some(queue) = &queue {
            let _ = queue.flush(flush_timeout);
        }
        previous(info);
    }));
}

//! The SDK's lines after the shutdown line: not written.
//!
//! The guard's shutdown is bounded, and the SDK's is not as short: when the guard gives up (a
//! collector that never answers, one that refuses while the exporter retries), the SDK goes on in
//! the background and reports what it then sees (export errors, its own shutdown timing out) as
//! lines, after the guard's shutdown line, which is documented as the telemetry's last. So the
//! guard closes this gate before it writes that line: from then on a line of the SDK or of the
//! transport it exports with (the targets of [`is_sdk_target`]) is dropped, and what it would
//! have said is already in the shutdown line (`timed_out`, `spans_lost`, `logs_lost`).

use std::io;
use std::sync::{RwLock, RwLockReadGuard, TryLockError};

use tracing_subscriber::fmt::MakeWriter;

use crate::otel::sdk::is_sdk_target;

/// Open until the guard closes it, once.
///
/// A line of the SDK holds a read lock from the moment it gets its writer until the writer is
/// dropped (the line written), and closing takes the write lock: so no line of the SDK that was
/// admitted before the gate closed can land after the shutdown line. Admission only tries the
/// lock and never waits (a line of the SDK written while a writer it holds is still alive, on
/// the same thread, must not deadlock against a waiting close): a line that finds the lock taken
/// is dropped, as after closing.
#[derive(Debug, Default)]
pub(crate) struct SdkGate {
    closed: RwLock<bool>,
}

impl SdkGate {
    /// Closes the gate, once every admitted line of the SDK is written.
    pub(crate) fn close(&self) {
        *self.closed.write().unwrap_or_else(|p| p.into_inner()) = true;
    }

    /// A pass for one line of the SDK, or `None` when it must be dropped.
    fn admit(&self) -> Option<RwLockReadGuard<'_, bool>> {
        let open = match self.closed.try_read() {
            Ok(closed) => closed,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        (!*open).then_some(open)
    }

    /// The writer for a line of `meta`: `make_writer`'s, except for a line of the SDK once the
    /// gate is closed.
    pub(crate) fn writer_for<'a, M: MakeWriter<'a>>(
        &'a self,
        make_writer: &'a M,
        meta: &tracing::Metadata<'_>,
    ) -> GatedWriter<'a, M::Writer> {
        if !is_sdk_target(meta.target()) {
            return GatedWriter::Open {
                writer: make_writer.make_writer_for(meta),
                _pass: None,
            };
        }
        match self.admit() {
            Some(pass) => GatedWriter::Open {
                writer: make_writer.make_writer_for(meta),
                _pass: Some(pass),
            },
            None => GatedWriter::Closed,
        }
    }
}

/// A line's writer, or the place a line of the SDK goes once the gate is closed.
pub(crate) enum GatedWriter<'a, W> {
    Open {
        writer: W,
        /// Held until the line is written (see [`SdkGate`]).
        _pass: Option<RwLockReadGuard<'a, bool>>,
    },
    /// Takes every byte and keeps none.
    Closed,
}

impl<W: io::Write> io::Write for GatedWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            GatedWriter::Open { writer, .. } => writer.write(buf),
            GatedWriter::Closed => Ok(buf.len()),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            GatedWriter::Open { writer, .. } => writer.write_all(buf),
            GatedWriter::Closed => Ok(()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            GatedWriter::Open { writer, .. } => writer.flush(),
            GatedWriter::Closed => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Lines {
        type Writer = Lines;
        fn make_writer(&'a self) -> Lines {
            self.clone()
        }
    }

    fn write(gate: &SdkGate, lines: &Lines, target: &'static str, text: &str) {
        // A callsite per target, for its metadata.
        macro_rules! meta {
            ($target:literal) => {{
                struct Cs;
                static CS: Cs = Cs;
                impl tracing_core::Callsite for Cs {
                    fn set_interest(&self, _: tracing_core::Interest) {}
                    fn metadata(&self) -> &tracing_core::Metadata<'_> {
                        &META
                    }
                }
                static META: tracing_core::Metadata<'static> = tracing_core::metadata! {
                    name: "line",
                    target: $target,
                    level: tracing_core::Level::ERROR,
                    fields: &[],
                    callsite: &CS,
                    kind: tracing_core::metadata::Kind::EVENT,
                };
                &META
            }};
        }
        let meta = match target {
            "opentelemetry_sdk" => meta!("opentelemetry_sdk"),
            "hyper_util::client" => meta!("hyper_util::client"),
            _ => meta!("checkout"),
        };
        gate.writer_for(lines, meta)
            .write_all(text.as_bytes())
            .unwrap();
    }

    #[test]
    fn after_closing_only_the_sdk_s_lines_are_dropped() {
        let gate = SdkGate::default();
        let lines = Lines::default();
        write(&gate, &lines, "opentelemetry_sdk", "sdk-before\n");
        write(&gate, &lines, "checkout", "app-before\n");
        gate.close();
        write(&gate, &lines, "opentelemetry_sdk", "sdk-after\n");
        write(&gate, &lines, "hyper_util::client", "transport-after\n");
        write(&gate, &lines, "checkout", "app-after\n");
        assert_eq!(
            String::from_utf8(lines.0.lock().unwrap().clone()).unwrap(),
            "sdk-before\napp-before\napp-after\n"
        );
    }

    #[test]
    fn closing_waits_for_an_admitted_line_and_admission_never_waits() {
        let gate = SdkGate::default();
        let lines = Lines::default();
        let pass = gate.admit().expect("open");
        // While a line of the SDK holds its pass, another one on the same thread is admitted
        // without waiting.
        assert!(gate.admit().is_some());
        std::thread::scope(|scope| {
            let closing = scope.spawn(|| gate.close());
            // Until the admitted line is done, the gate is not closed; dropping its pass lets
            // the close through.
            drop(pass);
            closing.join().unwrap();
        });
        assert!(gate.admit().is_none());
        write(&gate, &lines, "opentelemetry_sdk", "dropped\n");
        assert!(lines.0.lock().unwrap().is_empty());
    }
}

//! Why the init could not install the telemetry.

use std::fmt;
use std::io;

/// Why the init could not install the telemetry.
#[derive(Debug)]
pub struct InitError(pub(crate) ErrorKind);

#[derive(Debug)]
pub(crate) enum ErrorKind {
    SubscriberAlreadySet,
    Runtime(io::Error),
    WriterThread(io::Error),
    Exporter(String),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ErrorKind::SubscriberAlreadySet => f.write_str(
                "a global tracing subscriber is already installed (init must run once, before any other subscriber is set)",
            ),
            ErrorKind::Runtime(e) => write!(f, "could not start the exporters' runtime thread: {e}"),
            ErrorKind::WriterThread(e) => {
                write!(f, "could not start the non-blocking writer's thread: {e}")
            }
            ErrorKind::Exporter(e) => write!(f, "could not build the OTLP exporter: {e}"),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            ErrorKind::Runtime(e) | ErrorKind::WriterThread(e) => Some(e),
            _ => None,
        }
    }
}

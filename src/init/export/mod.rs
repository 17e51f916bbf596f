//! The export plumbing behind the init: the runtime the OTLP exporters run on (`runtime.rs`), the
//! counters that say what was delivered (`delivery.rs`), the console exporter that writes
//! spans into the log stream (`console.rs`), what sets the OTLP requests' headers
//! (`headers.rs`), and TLS (`tls.rs`, feature `tls`).

pub(crate) mod console;
mod delivery;
pub(crate) mod headers;
mod runtime;
#[cfg(feature = "tls")]
pub(crate) mod tls;

pub(crate) use delivery::{Counted, CountedLogs, Counting, Delivery};
pub(crate) use runtime::{ExportRuntime, OnRuntime};
#[cfg(feature = "tls")]
pub(crate) use tls::Tls;

/// Without the `tls` feature no endpoint is `https://` (`env` refuses them), so no exporter has
/// TLS: there is no value of this type.
#[cfg(not(feature = "tls"))]
pub(crate) enum Tls {}

#[cfg(not(feature = "tls"))]
impl Tls {
    pub(crate) fn describe(&self) -> &str {
        match *self {}
    }
}

//! The export plumbing behind the init: the runtime the OTLP exporters run on (`runtime.rs`), the
//! counters that say what was delivered (`delivery.rs`), the console exporter that writes
//! spans into the log stream (`console.rs`), and what sets the OTLP requests' headers
//! (`headers.rs`).

pub(crate) mod console;
mod delivery;
pub(crate) mod headers;
mod runtime;
pub(crate) mod tls;

pub(crate) use delivery::{Counted, CountedLogs, Counting, Delivery};
pub(crate) use runtime::{ExportRuntime, OnRuntime};

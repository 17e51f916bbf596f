//! The export plumbing behind the init: the runtime the OTLP exporters run on (`runtime.rs`), the
//! counters that say what was delivered (`delivery.rs`), and the console exporter that writes
//! spans into the log stream (`console.rs`).

pub(crate) mod console;
mod delivery;
mod runtime;

pub(crate) use delivery::{Counted, Counting, Delivery};
pub(crate) use runtime::{ExportRuntime, OnRuntime};

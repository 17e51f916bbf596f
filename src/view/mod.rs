//! The crate's lines read by a person: the renderer behind the `tracing-correlate` command
//! (feature `cli`) and the layer's pretty format. Public for that command only: its output is for
//! people and may change in any release.
//!
//! - `pretty`: one short line per event (time, level, service, target, message, fields, short
//!   ids), its exception and trimmed stack on indented lines, a span line as a closing mark with
//!   its duration and status; input that is not one of the crate's lines passes through.
//! - `tree`: one trace rebuilt from the console span lines (parents, times) of one or several
//!   services' logs, with each span's lines under it and a time bar per span.
//! - `summary`: one row per trace, failed ones marked.

mod format;
mod pretty;
mod style;
mod summary;
mod tree;
#[cfg(feature = "init")]
mod writer;

pub use format::Format;
pub use pretty::{is_ours, render, render_line};
pub use style::Style;
pub use summary::Summaries;
pub use tree::Trace;
#[cfg(feature = "init")]
pub(crate) use writer::Formatted;

//! What the benchmark groups of `layer.rs` share: the sink, the scenarios, the floor, the rungs
//! and the checks run before measuring.

pub mod checks;
pub mod floor;
pub mod run;
pub mod rungs;
pub mod scenario;
pub mod sink;

/// The service name of every rung that writes one, and of the floor.
pub const SERVICE: &str = "checkout";

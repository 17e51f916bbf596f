//! Callsites built at runtime, so field names need not be Rust identifiers known at compile time.

use std::sync::OnceLock;

use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::FieldSet;
use tracing_core::metadata::Kind;
use tracing_core::{Interest, Level, Metadata};

/// A callsite whose metadata is leaked at runtime; the `OnceLock` breaks the cycle between the
/// callsite and its metadata (whose `FieldSet` names the callsite).
struct RuntimeCallsite {
    meta: OnceLock<&'static Metadata<'static>>,
}

impl Callsite for RuntimeCallsite {
    fn set_interest(&self, _: Interest) {}

    fn metadata(&self) -> &Metadata<'_> {
        self.meta
            .get()
            .expect("metadata is set right after the callsite is leaked")
    }
}

pub fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// Leaks a callsite and its metadata: `kind` is `Kind::EVENT` or `Kind::SPAN`.
pub fn runtime_metadata(
    kind: Kind,
    name: &str,
    target: &str,
    level: Level,
    field_names: &[&str],
) -> &'static Metadata<'static> {
    let callsite: &'static RuntimeCallsite = Box::leak(Box::new(RuntimeCallsite {
        meta: OnceLock::new(),
    }));
    let names: &'static [&'static str] =
        Box::leak(field_names.iter().map(|n| leak(n)).collect::<Box<[_]>>());
    let meta: &'static Metadata<'static> = Box::leak(Box::new(Metadata::new(
        leak(name),
        leak(target),
        level,
        Some(file!()),
        Some(line!()),
        Some(module_path!()),
        FieldSet::new(names, Identifier(callsite)),
        kind,
    )));
    assert!(callsite.meta.set(meta).is_ok());
    meta
}

//! The one per-thread cache of what a layer derives from a callsite's `'static` metadata: for the
//! JSON layer the escaped target, each field's `,"key":` (renamed `fields.<key>` when reserved)
//! and the secret fields; for the OpenTelemetry layer and the logs bridge, the secret fields only.
//! Deriving these per event would escape and compare the same `'static` strings again and again.
//!
//! An entry is keyed by the callsite's [`Identifier`] and by the [`LayerId`] of the layer that
//! rendered it, since what is derived depends on the layer's settings. A `LayerId` is never
//! reused in the process, so a layer built after another was dropped can never read the other's
//! entries; and a layer's settings are fixed once it is installed (its builder takes it by value),
//! so an entry never goes stale while its layer lives.
//!
//! The cache is direct-mapped on a mix of the callsite and the layer, so the layers of one
//! subscriber keep their entries side by side; an entry taken by another key is rendered again
//! into the same buffers, so nothing is allocated in steady state.

use std::cell::RefCell;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing_core::callsite::Identifier;
use tracing_core::Metadata;

use crate::redact::{Redaction, Secrets};

/// Entries per thread.
const SLOTS: usize = 128;

/// A layer's identity in the cache: unique in the process, never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LayerId(NonZeroU64);

impl LayerId {
    pub(crate) fn next() -> LayerId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        // 2^64 layers would take centuries at a billion a second; 0 is never handed out.
        LayerId(NonZeroU64::new(id).unwrap_or(NonZeroU64::MIN))
    }
}

/// What one layer derived from one callsite.
#[derive(Default)]
pub(crate) struct Entry {
    key: Option<(Identifier, LayerId)>,
    /// The target, escaped, without quotes (empty for layers that write no lines).
    pub(crate) target: String,
    /// Each field's `,"key":`, back to back, in field order (empty for layers that write no
    /// lines).
    pub(crate) keys: String,
    /// Where each field's fragment ends in `keys`.
    pub(crate) ends: Vec<usize>,
    pub(crate) secrets: Secrets,
    /// Whether the callsite is the OpenTelemetry SDK's or its transports' (`is_sdk_target`).
    pub(crate) sdk: bool,
}

impl Entry {
    /// The `,"key":` of the field at `index` of the callsite's field set, when rendered.
    #[inline]
    pub(crate) fn key(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        self.keys.get(start..end)
    }

    fn clear(&mut self) {
        self.target.clear();
        self.keys.clear();
        self.ends.clear();
        self.secrets = Secrets::NONE;
        self.sdk = false;
    }
}

thread_local! {
    static CACHE: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with the entry of `meta`'s callsite for `layer`, which `render` fills (from an empty
/// entry) when the cache does not hold it. Returns `None` without running either when the cache
/// is in use on this thread (an event logged while a line is formatted) or gone (the thread is
/// exiting): the caller then derives what it needs as it goes.
///
/// Always inlined: the JSON layer's `write_line` runs inside it on every event, and a call here
/// costs the event path about 30 instructions (`benches/instructions.sh`).
#[inline(always)]
pub(crate) fn with_entry<R>(
    meta: &'static Metadata<'static>,
    layer: LayerId,
    render: impl FnOnce(&mut Entry),
    f: impl FnOnce(&Entry) -> R,
) -> Option<R> {
    CACHE
        .try_with(|cache| {
            let mut cache = cache.try_borrow_mut().ok()?;
            if cache.is_empty() {
                cache.resize_with(SLOTS, Entry::default);
            }
            let key = (meta.callsite(), layer);
            let entry = &mut cache[slot(meta, layer)];
            if entry.key.as_ref() != Some(&key) {
                entry.clear();
                render(entry);
                entry.key = Some(key);
            }
            Some(f(entry))
        })
        .ok()
        .flatten()
}

/// The secret fields of `meta`'s callsite by `redaction`, the rules of `layer`: what the layers
/// that hand values to other crates' layers ask on every span and event.
pub(crate) fn secrets(
    meta: &'static Metadata<'static>,
    layer: LayerId,
    redaction: &Redaction,
) -> Secrets {
    with_entry(
        meta,
        layer,
        |entry| entry.secrets = Secrets::of(meta, redaction),
        |entry| entry.secrets,
    )
    .unwrap_or_else(|| Secrets::of(meta, redaction))
}

/// The slot of a callsite and a layer: the metadata's address (static, one per callsite, at least
/// 16 bytes from the next) plus a multiple of the layer's id, so two layers of one subscriber
/// (consecutive ids) rarely share a slot for the same callsite.
fn slot(meta: &'static Metadata<'static>, layer: LayerId) -> usize {
    let address = meta as *const Metadata<'static> as usize;
    ((address >> 4).wrapping_add(layer.0.get() as usize * (SLOTS / 2 + 1))) % SLOTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_ids_are_never_reused() {
        let ids: Vec<LayerId> = (0..1000).map(|_| LayerId::next()).collect();
        let mut sorted: Vec<u64> = ids.iter().map(|id| id.0.get()).collect();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
    }

    #[test]
    fn an_entry_is_rendered_once_per_callsite_and_layer() {
        static CALLSITE: tracing_core::callsite::DefaultCallsite = {
            static META: Metadata<'static> = tracing_core::metadata!(
                name: "test",
                target: "cache",
                level: tracing_core::Level::INFO,
                fields: &[],
                callsite: &CALLSITE,
                kind: tracing_core::metadata::Kind::EVENT,
            );
            tracing_core::callsite::DefaultCallsite::new(&META)
        };
        use tracing_core::Callsite as _;
        let meta = CALLSITE.metadata();
        let (a, b) = (LayerId::next(), LayerId::next());
        let mut renders = 0;
        for layer in [a, a, b, b, a] {
            with_entry(
                meta,
                layer,
                |entry| {
                    renders += 1;
                    entry.target.push_str(if layer == a { "a" } else { "b" });
                },
                |entry| assert_eq!(entry.target, if layer == a { "a" } else { "b" }),
            )
            .expect("the cache is free");
        }
        // a, then b (unless both share a slot, when each switch renders again).
        let shared = slot(meta, a) == slot(meta, b);
        assert_eq!(renders, if shared { 3 } else { 2 });
    }
}

//! What a line needs of an event's callsite, rendered once per thread rather than on every event:
//! the escaped target, each field's `,"key":` (renamed `fields.<key>` when reserved) and which
//! fields hold secrets. Escaping
//! these `'static` strings per event was a sixth of the JSON layer's time (`BENCHMARKS.md`).
//!
//! The cache is direct-mapped by the callsite's `&'static Metadata` address, per thread; a slot
//! taken by another callsite is rendered again into the same buffers, so nothing is allocated in
//! steady state. It is keyed by layer too: the keys renamed depend on the layer's configuration.

use std::cell::RefCell;

use tracing_core::Metadata;

use crate::line::escape::escape_into;
use crate::line::keys::Reserved;
use crate::line::span_fields::push_key;
use crate::redact::Redaction;

const SLOTS: usize = 64;

/// One callsite's rendered strings.
#[derive(Default)]
pub(crate) struct Keys {
    /// The address of the callsite's metadata, and the layer it was rendered for; 0 when empty.
    meta: usize,
    layer: usize,
    /// The target, escaped, without quotes.
    target: String,
    /// Each field's `,"key":`, back to back, in field order.
    keys: String,
    /// Where each field's fragment ends in `keys`.
    ends: Vec<usize>,
    /// Bit `i` set: field `i` holds a secret (fields past the 64th are checked as they come).
    secrets: u64,
}

impl Keys {
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// Whether the field at `index` is known to hold a secret (`None`: past the 64th field).
    pub(crate) fn is_secret(&self, index: usize) -> Option<bool> {
        (index < 64).then(|| self.secrets & (1 << index) != 0)
    }

    /// The `,"key":` of the field at `index` of the callsite's field set.
    pub(crate) fn key(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        self.keys.get(start..end)
    }

    fn render(
        &mut self,
        meta: &'static Metadata<'static>,
        layer: usize,
        reserved: &Reserved,
        redaction: &Redaction,
    ) {
        self.meta = meta as *const Metadata<'static> as usize;
        self.layer = layer;
        self.target.clear();
        escape_into(&mut self.target, meta.target());
        self.keys.clear();
        self.ends.clear();
        self.secrets = 0;
        for (i, field) in meta.fields().iter().enumerate() {
            push_key(&mut self.keys, field.name(), reserved);
            self.ends.push(self.keys.len());
            if i < 64 && redaction.is_secret(field.name()) {
                self.secrets |= 1 << i;
            }
        }
    }
}

thread_local! {
    static CACHE: RefCell<Vec<Keys>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with the rendered strings of `meta`'s callsite for the layer `layer`. Returns `None`
/// without running `f` when the cache is in use on this thread (an event logged while a line is
/// being formatted) or gone (the thread is exiting): the caller then renders as it goes.
pub(crate) fn with_keys<R>(
    meta: &'static Metadata<'static>,
    layer: usize,
    reserved: &Reserved,
    redaction: &Redaction,
    f: impl FnOnce(&Keys) -> R,
) -> Option<R> {
    CACHE
        .try_with(|cache| {
            let mut cache = cache.try_borrow_mut().ok()?;
            if cache.is_empty() {
                cache.resize_with(SLOTS, Keys::default);
            }
            let address = meta as *const Metadata<'static> as usize;
            let slot = &mut cache[(address >> 4) % SLOTS];
            if slot.meta != address || slot.layer != layer {
                slot.render(meta, layer, reserved, redaction);
            }
            Some(f(slot))
        })
        .ok()
        .flatten()
}

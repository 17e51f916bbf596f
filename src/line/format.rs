//! The JSON line, built block by block in the schema's order (see [`JsonLayer`]'s docs): the
//! head, the event's message, the optional keys, the preset's keys, the ids, the span name, the
//! exception, the span fields, the event fields, and the counters that close it.
//!
//! [`Format`] is what a layer's settings make of a line; [`Line`] writes one line into a thread's
//! [`Buffers`]. The layer decides which span the event belongs to and hands its parts to the
//! `Line`; nothing here knows the registry, the writer or the thread's state.
//!
//! [`JsonLayer`]: crate::JsonLayer

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use tracing_core::{Event, Metadata};

use crate::callsite::Entry;
use crate::exception::Exception;
use crate::line::baggage::{BaggageKeys, SpanBaggage};
use crate::line::escape::{limited_escape_into, limited_str_into};
use crate::line::keys::Reserved;
use crate::line::limits::Limits;
use crate::line::preset::{Preset, PresetConfig};
use crate::line::span_fields::SpanFields;
use crate::line::value::{push_ids, push_int, push_key};
use crate::line::visitor::EventVisitor;
use crate::otel::ids::SpanIds;
use crate::redact::{Redaction, Secrets};
use crate::stacktrace::Stacktraces;

/// A layer's settings, as they shape its lines.
#[derive(Debug)]
pub(crate) struct Format {
    pub(crate) service: Box<str>,
    /// `"service":"..."`, escaped once.
    service_kv: Box<str>,
    pub(crate) reserved: Reserved,
    pub(crate) limits: Limits,
    pub(crate) redaction: Redaction,
    pub(crate) gcp_project_id: Option<String>,
    pub(crate) preset: PresetConfig,
    pub(crate) stacktraces: Stacktraces,
    /// The baggage keys lines carry as `baggage.<key>` fields.
    pub(crate) baggage: BaggageKeys,
}

impl Format {
    pub(crate) fn new(service: &str, limits: Limits) -> Format {
        let mut format = Format {
            service: service.into(),
            service_kv: Box::default(),
            reserved: Reserved::default(),
            limits,
            redaction: Redaction::default(),
            gcp_project_id: None,
            preset: PresetConfig::default(),
            stacktraces: Stacktraces::default(),
            baggage: BaggageKeys::default(),
        };
        format.configure();
        format
    }

    /// Derives what depends on several settings (the escaped service, the preset's keys, the
    /// baggage fields' keys); called after any of them changes.
    pub(crate) fn configure(&mut self) {
        let mut kv = String::from("\"service\":");
        limited_str_into(&mut kv, &self.service, self.limits.value_len);
        self.service_kv = kv.into_boxed_str();
        self.preset = PresetConfig::new(
            self.preset.preset,
            self.gcp_project_id.clone(),
            &self.service,
            self.limits.value_len,
        );
        self.reserved.preset_keys = self.preset.written_keys();
        self.baggage.configure(self.limits, &self.redaction);
    }

    /// Fills a callsite cache entry: the escaped target, each field's key, the secret fields.
    pub(crate) fn render(&self, meta: &'static Metadata<'static>, entry: &mut Entry) {
        limited_escape_into(&mut entry.target, meta.target(), self.limits.value_len);
        for field in meta.fields().iter() {
            push_key(
                &mut entry.keys,
                field.name(),
                &self.reserved,
                self.limits.key_len,
            );
            entry.ends.push(entry.keys.len());
        }
        entry.secrets = Secrets::of(meta, &self.redaction);
        entry.sdk = crate::otel::sdk::is_sdk_target(meta.target());
    }

    /// Whether lines carry the ids of the local root span too (ECS's `transaction.id`).
    pub(crate) fn needs_root(&self) -> bool {
        self.preset.preset == Preset::Ecs
    }
}

/// A thread's buffers, reused line after line.
#[derive(Default)]
pub(crate) struct Buffers {
    line: String,
    /// The event's own fields, written after the span fields.
    fields: String,
    /// Names already written in this line (after renaming), so no key appears twice.
    seen: Vec<&'static str>,
    /// A held line's event fields, kept (`capture.rs`).
    kept: Vec<u8>,
    /// A held line's span fields: names and fragment lengths.
    names: Vec<(&'static str, u32)>,
}

/// A held line's scratch space, beside its [`Line`]: the event's fields kept, the span fields'
/// names.
pub(crate) struct Scratch<'a> {
    pub(crate) kept: &'a mut Vec<u8>,
    pub(crate) names: &'a mut Vec<(&'static str, u32)>,
}

thread_local! {
    static THREAD_ID: u64 = thread_id_number();
}

fn thread_id_number() -> u64 {
    // `ThreadId::as_u64` is unstable; its `Debug` form is `ThreadId(N)`. Parsed once per thread.
    let debug = format!("{:?}", std::thread::current().id());
    debug
        .trim_start_matches("ThreadId(")
        .trim_end_matches(')')
        .parse()
        .unwrap_or(0)
}

/// One line being written, block by block, into a thread's [`Buffers`].
///
/// The blocks every line writes are `#[inline(always)]`: the layer's `write_line` is
/// monomorphised in the service's crate, where a call per block costs more instructions than the
/// blocks themselves (`benches/instructions.sh` counts them).
pub(crate) struct Line<'a> {
    format: &'a Format,
    line: &'a mut String,
    fields: &'a mut String,
    seen: &'a mut Vec<&'static str>,
    /// Fields not written because the line already held [`Limits::fields`] of them.
    dropped: usize,
}

impl<'a> Line<'a> {
    /// Starts a line in `buffers`, emptying them (their capacity is kept).
    #[inline]
    pub(crate) fn start(format: &'a Format, buffers: &'a mut Buffers) -> Line<'a> {
        Line::start_with_scratch(format, buffers).0
    }

    /// [`Line::start`], with the buffers' scratch space for a held line, emptied too.
    #[inline]
    pub(crate) fn start_with_scratch(
        format: &'a Format,
        buffers: &'a mut Buffers,
    ) -> (Line<'a>, Scratch<'a>) {
        let Buffers {
            line,
            fields,
            seen,
            kept,
            names,
        } = buffers;
        line.clear();
        fields.clear();
        seen.clear();
        kept.clear();
        names.clear();
        let line = Line {
            format,
            line,
            fields,
            seen,
            dropped: 0,
        };
        (line, Scratch { kept, names })
    }

    /// `{"timestamp":..,"level":..,"service":..,"target":..`; `target` is the target already
    /// escaped, when the callsite cache had it.
    #[inline(always)]
    pub(crate) fn head(&mut self, meta: &Metadata<'_>, target: Option<&str>) {
        self.head_at(meta, target, crate::line::timestamp::now());
    }

    /// [`Line::head`] with the timestamp `time` (since the Unix epoch).
    #[inline(always)]
    pub(crate) fn head_at(&mut self, meta: &Metadata<'_>, target: Option<&str>, time: Duration) {
        let line = &mut *self.line;
        line.push_str("{\"timestamp\":\"");
        crate::line::timestamp::push_at(line, time);
        line.push_str("\",\"level\":\"");
        line.push_str(meta.level().as_str());
        line.push_str("\",");
        line.push_str(&self.format.service_kv);
        line.push_str(",\"target\":");
        match target {
            Some(target) => {
                line.push('"');
                line.push_str(target);
                line.push('"');
            }
            None => limited_str_into(line, meta.target(), self.format.limits.value_len),
        }
    }

    /// The event's fields: `message` into the line at its place, the others kept for the end of
    /// the line. `entry` is the callsite's cache entry, when the cache could give it; the fields
    /// `exception` holds, and a `log` record's `log.*` fields, are not written.
    #[inline]
    pub(crate) fn event_fields(
        &mut self,
        event: &Event<'_>,
        entry: Option<&Entry>,
        exception: Option<&Exception>,
        is_log: bool,
    ) {
        self.fields_of(|v| event.record(v), entry, exception, is_log);
    }

    /// [`Line::event_fields`] of the fields `record` visits (an event's, or a held line's kept).
    #[inline(always)]
    pub(crate) fn fields_of(
        &mut self,
        record: impl FnOnce(&mut dyn tracing_core::field::Visit),
        entry: Option<&Entry>,
        exception: Option<&Exception>,
        is_log: bool,
    ) {
        let mut visitor = EventVisitor {
            line: self.line,
            fields: self.fields,
            seen: self.seen,
            reserved: &self.format.reserved,
            limits: self.format.limits,
            redaction: &self.format.redaction,
            dropped: 0,
            entry,
            exception,
            is_log,
            has_message: false,
        };
        record(&mut visitor);
        self.dropped += visitor.dropped;
    }

    /// `file`, `line`, `thread_name`, `thread_id`, each when the layer writes it.
    #[inline]
    pub(crate) fn optional_keys(&mut self, meta: &Metadata<'_>) {
        let r = &self.format.reserved;
        let limit = self.format.limits.value_len;
        let line = &mut *self.line;
        if r.file {
            if let Some(file) = meta.file() {
                line.push_str(",\"file\":");
                limited_str_into(line, file, limit);
            }
        }
        if r.line {
            if let Some(n) = meta.line() {
                let _ = write!(line, ",\"line\":{n}");
            }
        }
        if r.thread_name {
            if let Some(name) = std::thread::current().name() {
                line.push_str(",\"thread_name\":");
                limited_str_into(line, name, limit);
            }
        }
        if r.thread_id {
            if let Ok(id) = THREAD_ID.try_with(|id| *id) {
                let _ = write!(line, ",\"thread_id\":{id}");
            }
        }
    }

    /// The preset's keys that every line carries, inside a span or not (Datadog's `dd.service`).
    #[inline]
    pub(crate) fn preset_keys(&mut self) {
        self.format.preset.write_always(self.line);
    }

    /// `trace_id`, `span_id`, `trace_flags`, then the preset's id keys; `root` is the local root
    /// span's ids, for presets that name it.
    #[inline(always)]
    pub(crate) fn ids(&mut self, ids: &SpanIds, root: Option<&SpanIds>) {
        push_ids(self.line, ids);
        self.format.preset.write_ids(self.line, ids, root);
    }

    /// `span_name`: the name of the span the event belongs to (its `otel.name` when it has one,
    /// as the exported span is named).
    #[inline(always)]
    pub(crate) fn span_name(&mut self, name: &str) {
        self.line.push_str(",\"span_name\":");
        limited_str_into(self.line, name, self.format.limits.value_len);
    }

    /// The `exception` object.
    #[inline]
    pub(crate) fn exception(&mut self, exception: &Exception) {
        let limit = self.format.limits.value_len;
        let line = &mut *self.line;
        line.push_str(",\"exception\":{");
        if let Some(type_name) = &exception.type_name {
            line.push_str("\"type\":");
            limited_str_into(line, type_name, limit);
            line.push(',');
        }
        line.push_str("\"message\":");
        limited_str_into(line, &exception.message, limit);
        if !exception.causes.is_empty() {
            line.push_str(",\"causes\":[");
            for (i, cause) in exception.causes.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                limited_str_into(line, cause, limit);
            }
            line.push(']');
        }
        if exception.causes_dropped > 0 {
            line.push_str(",\"causes_dropped\":");
            push_int(line, exception.causes_dropped as u64);
        }
        if let Some(stacktrace) = &exception.stacktrace {
            line.push_str(",\"stacktrace\":");
            push_stacktrace(line, stacktrace, limit);
        }
        line.push('}');
    }

    /// One span's fields, spans given from the leaf out: a name already written (by the event or
    /// an inner span) is skipped, and fields past [`Limits::fields`] are counted, not written.
    #[inline(always)]
    pub(crate) fn span_fields(&mut self, fields: &SpanFields) {
        self.span_fields_of(fields.dropped, fields.iter());
    }

    /// [`Line::span_fields`] of one span's fragments with their names, and its `dropped` count.
    #[inline(always)]
    pub(crate) fn span_fields_of<'f>(
        &mut self,
        dropped: usize,
        fields: impl Iterator<Item = (&'static str, &'f str)>,
    ) {
        self.dropped += dropped;
        for (name, fragment) in fields {
            let key = self.format.reserved.dedupe_key(name);
            if let Some(seen) = self.format.limits.seen_as(self.seen, key) {
                // The same name is shadowed (an inner field wins); another name cut to the same
                // key is a field lost, and counted.
                if seen != key {
                    self.dropped += 1;
                }
                continue;
            }
            if self.seen.len() >= self.format.limits.fields {
                self.dropped += 1;
                continue;
            }
            self.seen.push(key);
            self.line.push_str(fragment);
        }
    }

    /// The allow-listed baggage of the event's span, after its span fields: a name already
    /// written (an event or span field of that name) is skipped, and fields past
    /// [`Limits::fields`] are counted, not written.
    #[inline]
    pub(crate) fn baggage(&mut self, baggage: &SpanBaggage) {
        // Written last of the fields that dedupe against `seen`: their names need not join it.
        let mut written = 0;
        for (name, fragment) in baggage.iter(&self.format.baggage) {
            if let Some(seen) = self.format.limits.seen_as(self.seen, name) {
                if seen != name {
                    self.dropped += 1;
                }
                continue;
            }
            if self.seen.len() + written >= self.format.limits.fields {
                self.dropped += 1;
                continue;
            }
            written += 1;
            self.line.push_str(fragment);
        }
    }

    /// The line's length so far.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.line.len()
    }

    /// Appends text of a line built before (a held line's parts).
    #[inline]
    pub(crate) fn push_text(&mut self, text: &str) {
        self.line.push_str(text);
    }

    /// The event's fields and `fields_dropped`, without closing the line: what a held line keeps
    /// of its end.
    #[inline]
    pub(crate) fn finish_held_part(self) -> &'a str {
        let line = self.line;
        push_fields_and_dropped(line, self.fields, self.dropped);
        line
    }

    /// The line as it is so far, unclosed: a held line's text.
    #[inline]
    pub(crate) fn into_text(self) -> &'a str {
        self.line
    }

    /// The event's fields, `fields_dropped`, `"held":true` when `held`, `}` and newline: a held
    /// line's end, when its fields were kept.
    #[inline]
    pub(crate) fn finish_marked(self, held: bool) -> &'a str {
        let line = self.line;
        push_fields_and_dropped(line, self.fields, self.dropped);
        if held {
            line.push_str(",\"held\":true");
        }
        line.push_str("}\n");
        line
    }

    /// Closes a line made of a held line's parts: `"held":true` when it was held, `}` and newline.
    #[inline]
    pub(crate) fn close_held(self, held: bool) -> &'a str {
        let line = self.line;
        if held {
            line.push_str(",\"held\":true");
        }
        line.push_str("}\n");
        line
    }

    /// The event's fields, `fields_dropped`, `lines_suppressed` (the lines of this SDK callsite
    /// left out before this one), and the closing `}` and newline: the whole line.
    #[inline(always)]
    pub(crate) fn finish(self, suppressed: u64) -> &'a str {
        let line = self.line;
        line.push_str(self.fields);
        if self.dropped > 0 {
            line.push_str(",\"fields_dropped\":");
            push_int(line, self.dropped as u64);
        }
        if suppressed > 0 {
            line.push_str(",\"lines_suppressed\":");
            push_int(line, suppressed);
        }
        line.push_str("}\n");
        line
    }
}

/// The event's fields (kept for the end of the line) and `fields_dropped`: a held line's end.
fn push_fields_and_dropped(line: &mut String, fields: &str, dropped: usize) {
    line.push_str(fields);
    if dropped > 0 {
        line.push_str(",\"fields_dropped\":");
        push_int(line, dropped as u64);
    }
}

thread_local! {
    /// The last stack trace this thread wrote, escaped: an error storm from one code path shares
    /// one trace (`stacktrace.rs` renders a stack once), so it is escaped once, not per line.
    static ESCAPED_TRACE: RefCell<Option<(Arc<str>, usize, String)>> = const { RefCell::new(None) };
}

/// Appends `trace` as a JSON string cut at `limit`, from the thread's last escaped trace when it
/// is the same one (the same `Arc`, the same limit).
fn push_stacktrace(line: &mut String, trace: &Arc<str>, limit: usize) {
    let pushed = ESCAPED_TRACE.try_with(|cached| {
        let Ok(mut cached) = cached.try_borrow_mut() else {
            return false;
        };
        match &*cached {
            Some((last, last_limit, escaped))
                if Arc::ptr_eq(last, trace) && *last_limit == limit =>
            {
                line.push_str(escaped)
            }
            _ => {
                let mut escaped = String::with_capacity(trace.len() + 64);
                limited_str_into(&mut escaped, trace, limit);
                line.push_str(&escaped);
                *cached = Some((trace.clone(), limit, escaped));
            }
        }
        true
    });
    if pushed != Ok(true) {
        limited_str_into(line, trace, limit);
    }
}

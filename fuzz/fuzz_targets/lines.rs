//! The JSON layer (with the OpenTelemetry layer beside it, as the init composes them) on events
//! built from the input: floats from raw bits, long and repeated strings as values, messages and
//! span names (`otel.name`), field names from a pool of long, colliding and reserved names,
//! spans and targets with long names, and `source()` chains of up to 2,048 errors that end or
//! loop back anywhere.
//!
//! The input's first three bytes pick the layer's limits (value length 1..=256, key length
//! 1..=64, fields 1..=16), so that small inputs reach every bound; then each operation is one
//! byte (`% 8`) and its operands. Checks, for every input: one line per event, each a JSON
//! object without a repeated key (read by `serde_json` with `float_roundtrip`), each under the
//! bound the limits give (`(40 + fields) × (6 × (value + key) + 64) + 4096` bytes: 40 strings of
//! the line's own plus the fields, each escaped character at most 6 bytes); a float field reads
//! back as the same bits (NaN and the infinities as their strings); an exception's `causes`
//! hold at most `DEFAULT_MAX_CAUSES` and, with `causes_dropped`, count the chain's distinct
//! errors (one more when the chain loops back to the error the event holds: that reference may
//! carry another vtable).

#![no_main]

use std::error::Error;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::{FieldSet, Value as FieldValue};
use tracing_core::metadata::Kind;
use tracing_core::{Interest, Level, Metadata};
use tracing_correlate::opentelemetry::trace::TracerProvider as _;
use tracing_correlate::opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_correlate::DEFAULT_MAX_CAUSES;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// The most errors of a chain.
const CHAIN: usize = 2048;
const NONE: usize = usize::MAX;

/// One error of the chain pool: its source is the pool's error at `next`, set per input.
struct Link {
    index: usize,
    next: AtomicUsize,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Link({})", self.index)
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "link {}", self.index)
    }
}

impl Error for Link {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        let next = self.next.load(Ordering::Relaxed);
        pool().chain.get(next).map(|l| l as &(dyn Error + 'static))
    }
}

/// A callsite whose metadata is made once, at the first input.
struct Site(OnceLock<&'static Metadata<'static>>);

impl Callsite for Site {
    fn set_interest(&self, _: Interest) {}
    fn metadata(&self) -> &Metadata<'_> {
        self.0.get().expect("set after the leak")
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn site(kind: Kind, name: &str, target: &str, fields: &[&str]) -> &'static Metadata<'static> {
    let callsite: &'static Site = Box::leak(Box::new(Site(OnceLock::new())));
    let names: &'static [&'static str] = Box::leak(
        fields
            .iter()
            .map(|n| leak((*n).to_owned()))
            .collect::<Box<[_]>>(),
    );
    let meta: &'static Metadata<'static> = Box::leak(Box::new(Metadata::new(
        leak(name.to_owned()),
        leak(target.to_owned()),
        Level::INFO,
        Some(leak(format!("src/{}.rs", target))),
        Some(1),
        Some(leak(target.to_owned())),
        FieldSet::new(names, Identifier(callsite)),
        kind,
    )));
    let _ = callsite.0.set(meta);
    meta
}

/// What every input shares, made once: the chain pool, the callsites, the tracer.
struct Pool {
    chain: Vec<Link>,
    events: Vec<&'static Metadata<'static>>,
    spans: Vec<&'static Metadata<'static>>,
    provider: SdkTracerProvider,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let k = "k".repeat(300);
        let long_a = format!("{k}a");
        let long_b = format!("{k}b");
        let long_e = format!("{}é", "k".repeat(299));
        let long_e2 = format!("{}è", "k".repeat(299));
        let huge = "n".repeat(100_000);
        let many: Vec<String> = (0..24).map(|i| format!("f{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let name_sets: Vec<Vec<&str>> = vec![
            vec!["message", "message", "message"],
            vec!["level", "fields.level", "level", "message", "fields.message"],
            vec![&long_a, &long_b, &long_e, &long_e2, &huge],
            vec!["exception", "span_name", "fields_dropped", "causes", "trace_id"],
            many,
        ];
        let mut events: Vec<_> = name_sets
            .iter()
            .map(|names| site(Kind::EVENT, "event", "fuzz", names))
            .collect();
        events.push(site(Kind::EVENT, "event", &huge, &["message"]));
        let spans = name_sets
            .iter()
            .map(|names| site(Kind::SPAN, &huge, "fuzz", names))
            .collect();
        Pool {
            chain: (0..CHAIN)
                .map(|index| Link {
                    index,
                    next: AtomicUsize::new(NONE),
                })
                .collect(),
            events,
            spans,
            provider: SdkTracerProvider::builder().build(),
        }
    })
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = CaptureWriter;
    fn make_writer(&'a self) -> CaptureWriter {
        CaptureWriter(self.0.clone())
    }
}

/// A line's keys and values in order, repeated keys kept (a map would hide them).
struct Pairs(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, Value>()? {
                    pairs.push(pair);
                }
                Ok(Pairs(pairs))
            }
        }
        d.deserialize_map(V)
    }
}

/// What an event must show in its line.
enum Expect {
    Nothing,
    Float(f64),
    /// The chain's distinct errors after the first, and whether it loops back to the first.
    Causes(usize, bool),
}

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        first
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        for b in &mut out {
            *b = self.byte();
        }
        out
    }

    /// A string: up to 32 bytes of input (lossy UTF-8), repeated up to 2,048 times.
    fn text(&mut self) -> String {
        let len = usize::from(self.byte() % 33).min(self.0.len());
        let (piece, rest) = self.0.split_at(len);
        self.0 = rest;
        let times = 1 + usize::from(self.byte()) * 8;
        String::from_utf8_lossy(piece).repeat(times)
    }
}

fn emit(meta: &'static Metadata<'static>, texts: &[String]) {
    let values: Vec<Option<&dyn FieldValue>> = (0..meta.fields().len())
        .map(|i| texts.get(i % texts.len().max(1)).map(|t| t as &dyn FieldValue))
        .collect();
    tracing_core::Event::dispatch(meta, &meta.fields().value_set_all(&values));
}

fuzz_target!(|data: &[u8]| {
    let pool = pool();
    let mut input = Input(data);
    let value_len = 1 + usize::from(input.byte());
    let key_len = 1 + usize::from(input.byte() % 64);
    let fields = 1 + usize::from(input.byte() % 16);
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_correlate::otel_layer(pool.provider.tracer("fuzz")))
        .with(
            tracing_correlate::layer()
                .with_max_value_len(value_len)
                .with_max_key_len(key_len)
                .with_max_fields(fields)
                .with_file(true)
                .with_writer(capture.clone()),
        );
    let dispatch = tracing::Dispatch::new(subscriber);
    let mut expected = Vec::new();
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..16 {
            if input.0.is_empty() {
                break;
            }
            match input.byte() % 8 {
                0 => {
                    let v = f64::from_bits(u64::from_le_bytes(input.bytes::<8>()));
                    tracing::info!(f = v);
                    expected.push(Expect::Float(v));
                }
                1 => {
                    let v = f64::from(f32::from_bits(u32::from_le_bytes(input.bytes::<4>())));
                    tracing::info!(f = v);
                    expected.push(Expect::Float(v));
                }
                2 => {
                    let (a, b) = (input.text(), input.text());
                    tracing::info!(message = a.as_str(), v = b.as_str(), "{b}");
                    expected.push(Expect::Nothing);
                }
                3 => {
                    let (name, value) = (input.text(), input.text());
                    let span = tracing::info_span!("s", otel.name = name.as_str(), v = value.as_str());
                    span.in_scope(|| tracing::warn!(message = ?value, "{name}"));
                    expected.push(Expect::Nothing);
                }
                4 => {
                    let which = usize::from(input.byte()) % pool.events.len();
                    let texts = [input.text(), input.text()];
                    emit(pool.events[which], &texts);
                    expected.push(Expect::Nothing);
                }
                5 => {
                    let which = usize::from(input.byte()) % pool.spans.len();
                    let texts = [input.text()];
                    let meta = pool.spans[which];
                    let values: Vec<Option<&dyn FieldValue>> = (0..meta.fields().len())
                        .map(|_| Some(&texts[0] as &dyn FieldValue))
                        .collect();
                    let span = tracing::Span::new(meta, &meta.fields().value_set_all(&values));
                    let event = pool.events[which];
                    span.in_scope(|| emit(event, &texts));
                    expected.push(Expect::Nothing);
                }
                _ => {
                    let [a, b, c] = input.bytes::<3>();
                    let len = 1 + usize::from(u16::from_le_bytes([a, b])) % CHAIN;
                    // `c` odd: the last error's source is the error at `c / 2 % len`.
                    let back = (c % 2 == 1).then(|| usize::from(c / 2) % len);
                    for (i, link) in pool.chain[..len].iter().enumerate() {
                        let next = if i + 1 < len { i + 1 } else { back.unwrap_or(NONE) };
                        link.next.store(next, Ordering::Relaxed);
                    }
                    let top = &pool.chain[0] as &(dyn Error + 'static);
                    let span = tracing::info_span!("chain");
                    span.in_scope(|| {
                        tracing::error!(error = top, "failed");
                        tracing::warn!(error = top, "warned");
                    });
                    expected.push(Expect::Causes(len - 1, back == Some(0)));
                    expected.push(Expect::Nothing);
                }
            }
        }
    });

    let text = String::from_utf8(capture.0.lock().unwrap().clone()).expect("lines are UTF-8");
    assert!(text.is_empty() || text.ends_with('\n'), "output ends mid-line");
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(lines.len(), expected.len(), "one line per event");
    let bound = (40 + fields) * (6 * (value_len + key_len) + 64) + 4096;
    for (line, expect) in lines.iter().zip(&expected) {
        assert!(line.len() <= bound, "a line of {} bytes, bound {bound}", line.len());
        let Pairs(pairs) = serde_json::from_str(line).expect("one JSON object");
        let mut keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        let count = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), count, "a repeated key in {line}");
        let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        match expect {
            Expect::Nothing => {}
            Expect::Float(v) => {
                let x = get("f").expect("the float field");
                if v.is_nan() {
                    assert_eq!(x, "NaN");
                } else if v.is_infinite() {
                    assert_eq!(x, if *v > 0.0 { "inf" } else { "-inf" });
                } else {
                    let back = x.as_f64().expect("a number");
                    assert_eq!(back.to_bits(), v.to_bits(), "{v:e} written as {x}");
                }
            }
            Expect::Causes(distinct, loops_to_top) => {
                let exception = get("exception").expect("the exception");
                let kept = exception
                    .get("causes")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let dropped = exception
                    .get("causes_dropped")
                    .and_then(Value::as_u64)
                    .unwrap_or(0) as usize;
                assert!(kept <= DEFAULT_MAX_CAUSES, "{kept} causes");
                let total = kept + dropped;
                assert!(
                    total == *distinct || (*loops_to_top && total == distinct + 1),
                    "{total} causes counted for {distinct}"
                );
            }
        }
    }
});

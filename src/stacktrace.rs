//! The stack trace of an exception: captured once per event and shared by every layer that
//! handles it, trimmed to the application's frames, bounded, and symbolised through caches so a
//! repeated error costs a walk of the stack and a lookup.
//!
//! What a stack trace costs, and why it is built this way:
//!
//! - **The walk** (`backtrace::trace`, the unwinder reading each frame's return address) is the
//!   one cost paid per event: about 0.15 µs per frame on x86-64 (libgcc's unwinder reading
//!   each frame's unwind info). The walk stops at the runtime's entry or one frame past
//!   [`MAX_STACKTRACE_FRAMES`], so frames that would not be written are not walked.
//! - **Symbolisation** (an address → function, file, line through the binary's debug info) costs
//!   tens of microseconds per frame and over a millisecond for the first ones, while the debug
//!   info is loaded. It is done once per return address (`MAX_CACHED_FRAMES` of them), and the
//!   rendered text once per distinct stack (`MAX_CACHED_STACKS`): an error storm from one code
//!   path renders its trace once.
//! - **One capture per event**: the first layer that needs the event's trace captures it; the
//!   others get the same `Arc<str>`. An event is recognised by its address during its dispatch:
//!   each layer marks the start of an ERROR event's dispatch in its `event_enabled` (which
//!   `tracing` calls before any layer sees the event), so a later event at the same address (the
//!   next turn of a loop) never gets the previous one's trace.
//!
//! `std::backtrace::Backtrace` cannot do this: it gives neither its frames' addresses nor a way
//! to resolve some frames and not others, so every capture symbolises and renders every frame. The
//! `backtrace` crate (which std's implementation is a copy of) gives both.

use std::cell::RefCell;
use std::ffi::c_void;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use rustc_hash::FxHashMap;
use tracing_core::Event;

/// When exceptions carry a stack trace (`exception.stacktrace` on the span event and the log
/// record, `stacktrace` in the line's `exception` object).
///
/// An *exception* is an ERROR event carrying an error value, a [`record_exception`] call, or a
/// panic under the init's hook: see [`record_exception`] for which events are exceptions.
///
/// | setting | stack traces | cost per exception (steady state, figures in `BENCHMARKS.md`) |
/// |---|---|---|
/// | [`FromEnv`](Stacktraces::FromEnv) (the default) | as [`On`](Stacktraces::On) when `RUST_LIB_BACKTRACE`, else `RUST_BACKTRACE`, is set to anything but `0` (what `std::backtrace::Backtrace::capture` reads), else none | as `On` or `Off` |
/// | [`On`](Stacktraces::On) | on every exception, whatever the environment says | one walk of the stack, about 0.15 µs per frame, at most about 35 frames (the logging machinery above the caller and the kept frames); the first time a code path fails, its frames are symbolised (tens of µs each) |
/// | [`Off`](Stacktraces::Off) | never, whatever the environment says | none |
///
/// A trace starts at the code that logged the error (the frames of `tracing`, the subscriber and
/// this crate are left out, and for a panic, those of the panic machinery) and ends before the
/// entry of its thread or runtime (`main`'s start, a thread's start, `catch_unwind`, tokio's task
/// poll). It keeps at most [`MAX_STACKTRACE_FRAMES`] frames and [`MAX_STACKTRACE_LEN`] bytes,
/// whichever comes first. Past the frame bound it ends in a line `…[more frames]` (those
/// frames are not walked, so not counted); past the byte bound, in `…[N more frames]`. Frames
/// are written as `std` writes a backtrace, numbered from 0; file paths are shortened: relative
/// to the current directory (`./src/main.rs`), to the crate and version for a dependency in the
/// cargo registry (`tokio-1.48.0/src/runtime/task/core.rs`), and `/rustc/<hash>/` for `std`'s
/// own frames becomes `/rustc/`.
///
/// The server middleware's own failure lines (a caught panic without the init's hook, an error
/// returned by the service) carry none: they are logged where the middleware sees the failure,
/// under the runtime, not where it happened. A panic under the init's hook has the trace of
/// where it panicked.
///
/// With `RUST_BACKTRACE=1` set for panics only, [`Off`](Stacktraces::Off) (or
/// `TRACING_CORRELATE_STACKTRACES=off` under the init) keeps the exception lines small.
///
/// [`record_exception`]: crate::record_exception
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stacktraces {
    /// No stack traces.
    Off,
    /// A stack trace on every exception.
    On,
    /// [`On`](Stacktraces::On) when `RUST_LIB_BACKTRACE`, else `RUST_BACKTRACE`, is set and not
    /// `0`; else [`Off`](Stacktraces::Off). Read once per process (at the init's startup line,
    /// else at the first exception), as `std` reads them once.
    #[default]
    FromEnv,
}

impl Stacktraces {
    /// Whether exceptions get a stack trace under this setting.
    pub(crate) fn enabled(self) -> bool {
        match self {
            Stacktraces::Off => false,
            Stacktraces::On => true,
            Stacktraces::FromEnv => {
                static FROM_ENV: OnceLock<bool> = OnceLock::new();
                *FROM_ENV.get_or_init(|| {
                    let var = std::env::var_os("RUST_LIB_BACKTRACE")
                        .or_else(|| std::env::var_os("RUST_BACKTRACE"));
                    var.is_some_and(|v| v != "0")
                })
            }
        }
    }

    /// Reads a setting's name as `TRACING_CORRELATE_STACKTRACES` spells it: `off`, `on` or
    /// `from_env` (any case).
    #[cfg_attr(not(feature = "init"), allow(dead_code))]
    pub(crate) fn parse(name: &str) -> Option<Stacktraces> {
        match name.trim().to_ascii_lowercase().as_str() {
            "off" => Some(Stacktraces::Off),
            "on" => Some(Stacktraces::On),
            "from_env" => Some(Stacktraces::FromEnv),
            _ => None,
        }
    }
}

/// The most frames a stack trace keeps; a deeper stack ends in a last line `…[more frames]`.
/// Twenty frames from the code that logged reach through the handler and the framework calling
/// it; each more frame costs every capture a step of the unwinder.
pub const MAX_STACKTRACE_FRAMES: usize = 20;

/// The most bytes of a stack trace's text: a line holding one stays under 8 KiB with the
/// default bounds on everything else it usually holds. Frames past it are left out whole and
/// counted.
pub const MAX_STACKTRACE_LEN: usize = 4096;

/// The most frames walked, whatever the frames are (a stack of frames without symbols, where
/// neither the machinery nor the runtime can be told apart).
pub(crate) const MAX_WALKED: usize = 256;

/// The most return addresses whose symbols are kept; past it, new addresses are symbolised at
/// each capture (about 100 bytes each are kept: the function name and file path).
pub(crate) const MAX_CACHED_FRAMES: usize = 8192;

/// The most distinct stacks whose rendered text is kept (at most [`MAX_STACKTRACE_LEN`] bytes
/// each, so at most 2 MiB); past it, a new stack is rendered from the frame cache at each capture.
pub(crate) const MAX_CACHED_STACKS: usize = 512;

/// An event's capture as the layers share it: `(event address, metadata address, trace)`.
type Shared = (usize, usize, Option<Arc<str>>);

thread_local! {
    /// How many stacks this thread walked: the tests' proof of one capture per event (read
    /// through `crate::fuzzing::stacktraces_captured`).
    pub(crate) static CAPTURES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };

    /// The trace of the ERROR event being dispatched on this thread, once a layer captured it:
    /// `(event address, metadata address, trace)`.
    static CURRENT: RefCell<Option<Shared>> = const { RefCell::new(None) };
}

/// Marks the start of an event's dispatch: called from the layers' `event_enabled`, which
/// `tracing` calls for each event before any layer's `on_event`.
pub(crate) fn new_event(event: &Event<'_>) {
    if *event.metadata().level() == tracing_core::Level::ERROR {
        let _ = CURRENT.try_with(|c| c.try_borrow_mut().map(|mut c| *c = None));
    }
}

/// The stack trace of `event`, captured by the first layer that asks during its dispatch and
/// shared with the others.
pub(crate) fn for_event(event: &Event<'_>) -> Option<Arc<str>> {
    let key = (
        event as *const Event<'_> as usize,
        event.metadata() as *const _ as usize,
    );
    let cached = CURRENT
        .try_with(|c| {
            c.try_borrow().ok().and_then(|c| {
                c.as_ref()
                    .filter(|c| (c.0, c.1) == key)
                    .map(|c| c.2.clone())
            })
        })
        .ok()
        .flatten();
    if let Some(trace) = cached {
        return trace;
    }
    let trace = capture();
    let _ = CURRENT.try_with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            *c = Some((key.0, key.1, trace.clone()));
        }
    });
    trace
}

/// The trace the layers captured for the last ERROR event this thread dispatched, if they
/// captured one: what the panic hook hands the server middleware after logging a panic.
#[cfg_attr(not(all(feature = "init", feature = "tower")), allow(dead_code))]
pub(crate) fn last() -> Option<Arc<str>> {
    CURRENT
        .try_with(|c| {
            c.try_borrow()
                .ok()
                .and_then(|c| c.as_ref().and_then(|c| c.2.clone()))
        })
        .ok()
        .flatten()
}

/// The trimmed, bounded stack trace of the calling code.
pub(crate) fn capture() -> Option<Arc<str>> {
    let _ = CAPTURES.try_with(|c| c.set(c.get() + 1));
    let mut ips: Vec<usize> = Vec::with_capacity(64);
    // Each frame costs the unwinder about 0.15 µs, the most of a capture: the walk stops at the
    // runtime, or once one frame past the bound is seen, so frames that would not be written
    // are never walked (and so not counted). A frame's symbols come from the cache after its
    // first capture; the cache is locked once for the walk (a first capture of a new frame
    // symbolises it with the lock held: other threads' captures wait for it, once).
    let (mut started, mut app, mut cut) = (false, 0, false);
    let mut cache = lock(frames());
    backtrace::trace(|frame| {
        let ip = frame.ip() as usize;
        ips.push(ip);
        for symbol in symbols(&mut cache, ip).iter() {
            if !started && symbol.machinery {
                continue;
            }
            started = true;
            if symbol.runtime {
                return false;
            }
            app += 1;
        }
        // One more than the bound: the closure of `tracing`'s macros may be left out.
        if app > MAX_STACKTRACE_FRAMES + 1 {
            cut = true;
            return false;
        }
        if ips.len() >= MAX_WALKED {
            cut = true;
            return false;
        }
        true
    });
    let stacks = stacks();
    if let Some(hit) = lock(stacks).get(ips.as_slice()) {
        return hit.clone();
    }
    let rendered = render(&mut cache, &ips, cut);
    drop(cache);
    let mut stacks = lock(stacks);
    if stacks.len() < MAX_CACHED_STACKS {
        stacks.insert(ips.into_boxed_slice(), rendered.clone());
    }
    rendered
}

/// One symbol of a frame (a return address gives several when functions were inlined into it,
/// innermost first).
#[derive(Debug)]
struct Symbol {
    /// The demangled name without its hash, or `<unknown>`.
    name: Box<str>,
    /// `file:line:col`, shortened (see [`Stacktraces`]), when the debug info has it.
    location: Option<Box<str>>,
    /// Whether a trace leaves it out at its top, decided once, when the frame is symbolised.
    machinery: bool,
    /// Whether a trace ends before it, decided once.
    runtime: bool,
}

/// Return address → its symbols. The caches hash addresses, which the program chooses, not an
/// attacker: Fx hashing (a multiply per word) instead of SipHash, a tenth of the walk's cost.
type FrameMap = FxHashMap<usize, Arc<[Symbol]>>;
type Frames = Mutex<FrameMap>;
type Stacks = Mutex<FxHashMap<Box<[usize]>, Option<Arc<str>>>>;

fn frames() -> &'static Frames {
    static FRAMES: OnceLock<Frames> = OnceLock::new();
    FRAMES.get_or_init(Default::default)
}

fn stacks() -> &'static Stacks {
    static STACKS: OnceLock<Stacks> = OnceLock::new();
    STACKS.get_or_init(Default::default)
}

/// Locks a cache; a panic while it was held (none is expected: nothing in it calls user code)
/// leaves a usable map.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The symbols of the frame returning to `ip`, from the cache or the debug info (then kept in
/// the cache while it has room).
fn symbols(cache: &mut FrameMap, ip: usize) -> Arc<[Symbol]> {
    if let Some(hit) = cache.get(&ip) {
        return hit.clone();
    }
    let mut symbols = Vec::with_capacity(1);
    backtrace::resolve(ip as *mut c_void, |symbol| {
        let name = match symbol.name() {
            Some(name) => format!("{name:#}").into_boxed_str(),
            None => "<unknown>".into(),
        };
        let location = symbol.filename().map(|file| {
            let mut at = shorten(&file.to_string_lossy());
            if let Some(line) = symbol.lineno() {
                let _ = write!(at, ":{line}");
                if let Some(col) = symbol.colno() {
                    let _ = write!(at, ":{col}");
                }
            }
            at.into_boxed_str()
        });
        symbols.push(Symbol {
            machinery: is_machinery(&name),
            runtime: is_runtime(&name),
            name,
            location,
        });
    });
    if symbols.is_empty() {
        symbols.push(Symbol {
            name: "<unknown>".into(),
            location: None,
            machinery: false,
            runtime: false,
        });
    }
    let symbols: Arc<[Symbol]> = symbols.into();
    if cache.len() < MAX_CACHED_FRAMES {
        cache.insert(ip, symbols.clone());
    }
    symbols
}

/// The module of the code that called into this crate, read from the symbol of the first frame
/// below the logging machinery: what `module_path!()` says at the call, for functions
/// (`app::orders::charge` → `app::orders`), methods (`app::orders::Cart::charge`,
/// `<app::orders::Cart as app::Pay>::charge` → `app::orders`) and closures and async bodies in
/// them. `None` when the binary has no symbols (stripped).
///
/// A walk of the stack and, the first time, a symbolisation: the caller caches it per call site.
pub(crate) fn caller_module() -> Option<String> {
    let mut found = None;
    let mut cache = lock(frames());
    backtrace::trace(|frame| {
        let symbols = symbols(&mut cache, frame.ip() as usize);
        found = symbols
            .iter()
            .find(|s| !s.machinery)
            .map(|s| module_of(&s.name));
        found.is_none()
    });
    found.flatten()
}

/// The module path of a demangled function name (see [`caller_module`]).
fn module_of(name: &str) -> Option<String> {
    let mut name = name;
    while let Some(outer) = name
        .strip_suffix("::{{closure}}")
        .or_else(|| name.strip_suffix("::{closure#0}"))
    {
        name = outer;
    }
    let path = if let Some(rest) = name.strip_prefix('<') {
        // `<Type as Trait>::method` or `<Type>::method`: the module is the type's.
        let end = rest.find(" as ").or_else(|| rest.find('>'))?;
        format!("{}::_", &rest[..end])
    } else {
        name.to_owned()
    };
    // Generic arguments (`Cart<T>`) are not part of a path.
    let mut plain = String::with_capacity(path.len());
    let mut depth = 0_usize;
    for c in path.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let mut segments: Vec<&str> = plain.split("::").collect();
    segments.pop(); // the function
                    // A method's type (by Rust's naming, capitalised) is not a module.
    while segments.len() > 1
        && segments
            .last()
            .is_some_and(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
    {
        segments.pop();
    }
    let module = segments.join("::");
    (!module.is_empty() && module != "_").then_some(module)
}

/// A source path as a trace shows it: relative to the current directory, to the crate in the
/// cargo registry, or to `/rustc/`.
fn shorten(path: &str) -> String {
    static CWD: OnceLock<Option<String>> = OnceLock::new();
    let cwd = CWD.get_or_init(|| {
        std::env::current_dir()
            .ok()
            .map(|d| format!("{}/", d.to_string_lossy().trim_end_matches('/')))
    });
    if let Some(rest) = cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd)) {
        return format!("./{rest}");
    }
    // `…/registry/src/<index>/<crate>-<version>/src/lib.rs` → `<crate>-<version>/src/lib.rs`
    if let Some((_, rest)) = path.split_once("/registry/src/") {
        if let Some((_, in_crate)) = rest.split_once('/') {
            return in_crate.to_owned();
        }
    }
    // `/rustc/<commit hash>/library/…` → `/rustc/library/…`
    if let Some(rest) = path.strip_prefix("/rustc/") {
        if let Some((hash, tail)) = rest.split_once('/') {
            if hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return format!("/rustc/{tail}");
            }
        }
    }
    path.to_owned()
}

/// Prefixes of the symbols of the logging machinery, left out at the top of a trace: the
/// capture itself, `tracing`, the subscriber, this crate, and above a panic hook the panic
/// machinery.
const MACHINERY: [&str; 19] = [
    "backtrace::",
    "tracing_correlate::",
    "tracing_core::",
    "tracing_subscriber::",
    "tracing::",
    "tracing_opentelemetry::",
    "opentelemetry_appender_tracing::",
    "std::thread::local::",
    "<tracing_",
    "<std::thread::local::",
    "<opentelemetry_appender_tracing::",
    "std::panicking::",
    "core::panicking::",
    "std::sys::backtrace::__rust_end_short_backtrace",
    "__rustc::",
    "rust_begin_unwind",
    "core::result::unwrap_failed",
    "core::option::unwrap_failed",
    "core::option::expect_failed",
];

/// Prefixes of the symbols where a trace ends (besides `main` itself and any symbol holding
/// `__rust_begin_short_backtrace`, std's own mark of a program's and a thread's entry): the entry
/// of a `catch_unwind` and of tokio's runtime. What is below them is the runtime's, the same for
/// every error.
const RUNTIME: [&str; 7] = [
    "std::rt::lang_start",
    "std::panicking::catch_unwind",
    "std::panicking::try",
    "std::panic::catch_unwind",
    "std::thread::Builder::spawn_unchecked_",
    "tokio::runtime::",
    "<tokio::runtime::",
];

/// Whether a frame is the logging machinery: by the prefixes above, or a method of any
/// `Layer` or `Subscriber` (a layer of the service's own, `Option<L>`, a filter's wrapper) or of
/// this crate's traits (`<Span as SpanExt>::record_exception`).
fn is_machinery(name: &str) -> bool {
    MACHINERY.iter().any(|m| name.starts_with(m))
        || (name.starts_with('<')
            && (name.contains(" as tracing_subscriber::layer::Layer<")
                || name.contains(" as tracing_core::subscriber::Subscriber>")
                || name.contains(" as tracing_correlate::")
                // The boxed panic hook's call, between `std::panicking` and the hook.
                || (name.starts_with("<alloc::boxed::Box<")
                    && name.contains(" as core::ops::function::Fn"))))
}

fn is_runtime(name: &str) -> bool {
    name == "main"
        || name.contains("__rust_begin_short_backtrace")
        || RUNTIME.iter().any(|r| name.starts_with(r))
}

/// Renders the frames of `ips` between the machinery on top and the runtime below, bounded;
/// `cut` says the walk stopped before the runtime, with frames left unwalked.
fn render(cache: &mut FrameMap, ips: &[usize], cut: bool) -> Option<Arc<str>> {
    let mut out = String::with_capacity(1024);
    let mut kept = 0;
    let mut more = 0;
    let mut ended = false;
    // The frames between the machinery and the runtime, in order; `tracing`'s macros call a
    // closure of the function that logs (`f::{{closure}}`, then `f`): the closure is left out,
    // `f`'s frame already points at the macro's line.
    let symbols: Vec<Arc<[Symbol]>> = ips.iter().map(|&ip| symbols(cache, ip)).collect();
    let mut app: Vec<&Symbol> = symbols
        .iter()
        .flat_map(|s| s.iter())
        .skip_while(|s| s.machinery)
        .collect();
    if let Some(end) = app.iter().position(|s| s.runtime) {
        app.truncate(end);
        ended = true;
        // The runtime calls the program's entry through `FnOnce::call_once`: its frames too.
        while app
            .last()
            .is_some_and(|s| s.name.starts_with("core::ops::function::"))
        {
            app.pop();
        }
    }
    if let [first, next, ..] = app.as_slice() {
        if first.name.strip_suffix("::{{closure}}") == Some(&*next.name) {
            app.remove(0);
        }
    }
    for symbol in app {
        if more > 0 || kept == MAX_STACKTRACE_FRAMES {
            more += 1;
            continue;
        }
        let before = out.len();
        let _ = writeln!(out, "{kept:>4}: {}", symbol.name);
        if let Some(location) = &symbol.location {
            let _ = writeln!(out, "             at {location}");
        }
        if out.len() > MAX_STACKTRACE_LEN - MORE_LEN {
            out.truncate(before);
            more += 1;
            continue;
        }
        kept += 1;
    }
    if kept == 0 {
        return None;
    }
    if cut && !ended {
        // Frames were left unwalked: how many is not known.
        out.push_str("…[more frames]\n");
    } else if more > 0 {
        let _ = writeln!(out, "…[{more} more frames]");
    }
    Some(out.into())
}

/// Room left for the last line (`…[N more frames]`).
const MORE_LEN: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shortened() {
        assert_eq!(
            shorten("/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-1.48.0/src/lib.rs"),
            "tokio-1.48.0/src/lib.rs"
        );
        assert_eq!(
            shorten(
                "/rustc/4d91de4e48198da2e33413efdcd9cd2cc0c46688/library/core/src/ops/function.rs"
            ),
            "/rustc/library/core/src/ops/function.rs"
        );
        assert_eq!(shorten("/elsewhere/x.rs"), "/elsewhere/x.rs");
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            shorten(&format!("{}/src/main.rs", cwd.display())),
            "./src/main.rs"
        );
    }

    #[test]
    fn modules_are_read_from_function_names() {
        for (name, module) in [
            ("app::orders::charge", Some("app::orders")),
            (
                "app::orders::charge::{{closure}}::{{closure}}",
                Some("app::orders"),
            ),
            ("app::orders::Cart::charge", Some("app::orders")),
            (
                "<app::orders::Cart as app::Pay>::charge",
                Some("app::orders"),
            ),
            (
                "<app::orders::Cart<T> as app::Pay<U>>::charge",
                Some("app::orders"),
            ),
            ("<app::orders::Cart<T>>::charge", Some("app::orders")),
            ("app::main", Some("app")),
            ("main", None),
        ] {
            assert_eq!(module_of(name).as_deref(), module, "{name}");
        }
    }

    #[test]
    fn layers_of_any_type_are_machinery() {
        assert!(is_machinery(
            "<core::option::Option<L> as tracing_subscriber::layer::Layer<S>>::on_event"
        ));
        assert!(is_machinery(
            "<my_service::AuditLayer as tracing_subscriber::layer::Layer<S>>::on_event"
        ));
        assert!(is_machinery(
            "<tracing::span::Span as tracing_correlate::exception::SpanExt>::record_exception"
        ));
        assert!(!is_machinery(
            "<my_service::Cart as core::fmt::Display>::fmt"
        ));
        assert!(!is_machinery("my_service::charge"));
    }

    #[test]
    fn the_runtime_is_recognised() {
        assert!(is_runtime("std::rt::lang_start_internal"));
        assert!(is_runtime(
            "std::sys::backtrace::__rust_begin_short_backtrace"
        ));
        assert!(is_runtime("test::__rust_begin_short_backtrace"));
        assert!(is_runtime("main"));
        assert!(!is_runtime("main_loop"));
        assert!(!is_runtime("checkout::main"));
        assert!(is_runtime("tokio::runtime::task::core::Core<T,S>::poll"));
        assert!(is_runtime("<tokio::runtime::blocking::task::BlockingTask<T> as core::future::future::Future>::poll"));
        assert!(!is_runtime("checkout::charge"));
    }

    #[test]
    fn settings_are_read_by_name() {
        assert_eq!(Stacktraces::parse("OFF"), Some(Stacktraces::Off));
        assert_eq!(Stacktraces::parse(" on"), Some(Stacktraces::On));
        assert_eq!(Stacktraces::parse("from_env"), Some(Stacktraces::FromEnv));
        assert_eq!(Stacktraces::parse("1"), None);
    }
}

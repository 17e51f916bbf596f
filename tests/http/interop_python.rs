//! Interoperability with the seeds' own stack: a Python FastAPI service (OpenTelemetry's
//! `FastAPIInstrumentor` and `HTTPXClientInstrumentor`) calls the Rust relay
//! (`examples/relay_service.rs`, built on this crate), which calls a second Python endpoint. All
//! three processes export OTLP/HTTP (protobuf) to one `mock-collector` in this process, and the
//! trace must be one trace with correct parent links across both language boundaries.
//!
//! The test provisions its own Python virtual environment under `target/interop-venv` from
//! `tests/interop/requirements.txt` (reinstalled only when that file changes), so it needs
//! `python3` with `venv` and network access to PyPI on the first run. The relay is the example
//! binary next to this test binary: `cargo test --features axum,reqwest` builds it; a targeted
//! run (`--test http interop_python`) needs
//! `cargo build --example relay_service --features axum,reqwest` first. Unix only: the Python
//! services are stopped with SIGTERM.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use mock_collector::{MockServer, Protocol};
use serde_json::Value;

use crate::support::collector::{received, Received};
use crate::support::find::line_with;
use crate::support::parse::parse_line;
use crate::{profile_dir, CLIENT, SERVER};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
/// How long a pip install of the requirements may take on a fresh machine.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a process may take to listen, and to exit once told to stop.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

// ---------------------------------------------------------------------------------------------
// Paths and the Python environment.

/// The relay example binary, built from the current sources.
fn relay_binary() -> PathBuf {
    let binary = profile_dir().join("examples").join("relay_service");
    let build = "cargo build --example relay_service --features axum,reqwest";
    let built = fs::metadata(&binary)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "the relay example is missing at {}: build it with `{build}` (a plain \
                 `cargo test --features axum,reqwest` builds it too)",
                binary.display()
            )
        });
    let source = Path::new(MANIFEST_DIR);
    let newest = newest_mtime(&source.join("src"))
        .max(newest_mtime(&source.join("examples/relay_service.rs")));
    assert!(
        newest <= built,
        "the relay example at {} is older than the sources: rebuild it with `{build}`",
        binary.display()
    );
    binary
}

/// The latest modification time of `path` or of any file under it.
fn newest_mtime(path: &Path) -> SystemTime {
    let meta = fs::metadata(path).expect("source path");
    let mut newest = meta.modified().expect("mtime");
    if meta.is_dir() {
        for entry in fs::read_dir(path).expect("read source dir") {
            newest = newest.max(newest_mtime(&entry.expect("dir entry").path()));
        }
    }
    newest
}

/// FNV-1a: a hash that is the same on every toolchain, for the marker file.
fn fnv1a(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// The venv's interpreter, creating the venv and installing the requirements when the marker
/// does not name the current requirements.
fn python() -> PathBuf {
    let target = profile_dir()
        .parent()
        .expect("target dir above the profile dir")
        .to_owned();
    let venv = target.join("interop-venv");
    let python = venv.join("bin/python");
    let requirements = Path::new(MANIFEST_DIR).join("tests/interop/requirements.txt");
    let hash = fnv1a(&fs::read(&requirements).expect("tests/interop/requirements.txt"));
    let marker = venv.join("requirements.hash");
    if python.exists() && fs::read_to_string(&marker).is_ok_and(|m| m.trim() == hash) {
        return python;
    }
    let log_path = target.join("interop-venv.log");
    let started = Instant::now();
    eprintln!(
        "interop: creating {} (log: {})",
        venv.display(),
        log_path.display()
    );
    let log = fs::File::create(&log_path).expect("venv log file");
    let run = |cmd: &mut Command, what: &str| {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log.try_clone().expect("log handle"))
            .spawn()
            .unwrap_or_else(|e| panic!("{what} starts: {e}"));
        let status = wait_exit(child, INSTALL_TIMEOUT);
        if status != Some(true) {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<_> = log.lines().rev().take(40).collect();
            panic!(
                "{what} {}; last lines of {}:\n{}",
                if status.is_none() {
                    "timed out"
                } else {
                    "failed"
                },
                log_path.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    };
    run(
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "`python3 -m venv` (is python3 with venv installed? Debian needs python3-venv)",
    );
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "-r",
            ])
            .arg(&requirements),
        "`pip install -r tests/interop/requirements.txt`",
    );
    fs::write(&marker, &hash).expect("marker file");
    eprintln!("interop: venv ready in {:.1?}", started.elapsed());
    python
}

/// Waits at most `timeout` for `child` to exit: `Some(success)`, or `None` (then it is killed).
fn wait_exit(mut child: Child, timeout: Duration) -> Option<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status.success());
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(POLL);
    }
}

/// A port that was free a moment ago, for a service that takes its port as an argument.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

// ---------------------------------------------------------------------------------------------
// Child processes.

/// A running child whose stdout and stderr lines are collected by two threads.
struct Proc {
    name: &'static str,
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    readers: Vec<JoinHandle<()>>,
}

fn collect(stream: impl Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            into.lock().unwrap().push(line);
        }
    })
}

/// Every child of the test; dropping it (also when an assertion fails) kills those still running.
#[derive(Default)]
struct Procs(Vec<Proc>);

impl Drop for Procs {
    fn drop(&mut self) {
        for p in &mut self.0 {
            if let Ok(None) = p.child.try_wait() {
                let _ = p.child.kill();
                let _ = p.child.wait();
            }
        }
    }
}

impl Procs {
    /// Spawns `cmd` with `OTEL_*` and `RUST_LOG` removed from the inherited environment, then
    /// `env` added; returns its index.
    fn spawn(&mut self, name: &'static str, mut cmd: Command, env: &[(&str, &str)]) -> usize {
        for (key, _) in std::env::vars() {
            if key.starts_with("OTEL_") || key == "RUST_LOG" {
                cmd.env_remove(key);
            }
        }
        cmd.envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{name} starts: {e}"));
        let stdout = Arc::default();
        let stderr = Arc::default();
        let readers = vec![
            collect(child.stdout.take().unwrap(), Arc::clone(&stdout)),
            collect(child.stderr.take().unwrap(), Arc::clone(&stderr)),
        ];
        self.0.push(Proc {
            name,
            child,
            stdout,
            stderr,
            readers,
        });
        self.0.len() - 1
    }

    /// Everything the children printed, for failure messages.
    fn output(&self) -> String {
        let mut out = String::new();
        for p in &self.0 {
            for (stream, lines) in [("stdout", &p.stdout), ("stderr", &p.stderr)] {
                out += &format!("----- {} {stream}\n", p.name);
                for line in lines.lock().unwrap().iter() {
                    out += line;
                    out.push('\n');
                }
            }
        }
        out
    }

    /// Polls until `ready` holds, for at most `PROCESS_TIMEOUT`; fails if the child exits first.
    fn wait_until<T>(
        &mut self,
        i: usize,
        what: &str,
        mut ready: impl FnMut(&Proc) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        loop {
            if let Some(found) = ready(&self.0[i]) {
                return found;
            }
            let exited = self.0[i].child.try_wait().expect("try_wait");
            if exited.is_some() || Instant::now() >= deadline {
                panic!(
                    "{} {what}: {}\n{}",
                    self.0[i].name,
                    match exited {
                        Some(status) => format!("exited first ({status})"),
                        None => format!("not within {PROCESS_TIMEOUT:?}"),
                    },
                    self.output()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the child accepts connections on `port`.
    fn wait_listening(&mut self, i: usize, port: u16) {
        self.wait_until(i, &format!("listens on {port}"), |_| {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
    }

    /// Waits at most `PROCESS_TIMEOUT` for the child to exit and its output to be read to the
    /// end, and fails unless it exited cleanly: with success, or (`by_sigterm`) by re-raising
    /// SIGTERM after a graceful shutdown, as uvicorn does.
    fn wait_stopped(&mut self, i: usize, by_sigterm: bool) {
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        loop {
            let status = self.0[i].child.try_wait().expect("try_wait");
            let name = self.0[i].name;
            if let Some(status) = status {
                if self.0[i].readers.iter().all(JoinHandle::is_finished) {
                    const SIGTERM: i32 = 15;
                    assert!(
                        status.success() || by_sigterm && status.signal() == Some(SIGTERM),
                        "{name} exits cleanly: {status}\n{}",
                        self.output()
                    );
                    return;
                }
            }
            if Instant::now() >= deadline {
                panic!(
                    "{name} stops within {PROCESS_TIMEOUT:?} (exit status {status:?})\n{}",
                    self.output()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Sends SIGTERM, as a service manager would.
    fn terminate(&self, i: usize) {
        let pid = self.0[i].child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("`kill` runs");
        assert!(status.success(), "kill -TERM {pid}");
    }
}

// ---------------------------------------------------------------------------------------------
// Spans as the collector received them.

/// The one span of `service` with `kind`.
fn one<'a>(spans: &'a [Received], service: &str, kind: i32) -> &'a Received {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| s.service == service && s.kind == kind)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one span of kind {kind} from {service} in {spans:#?}"
    );
    found[0]
}

// ---------------------------------------------------------------------------------------------
// The test.

#[test]
fn python_calls_rust_calls_python_in_one_trace() {
    let python = python();
    let relay = relay_binary();
    let services = Path::new(MANIFEST_DIR).join("tests/interop/services.py");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let collector = rt
        .block_on(MockServer::builder().protocol(Protocol::HttpBinary).start())
        .expect("mock collector starts on loopback");
    let endpoint = format!("http://{}", collector.addr());

    let mut procs = Procs::default();
    let python_service = |role: &str, port: u16| {
        let mut cmd = Command::new(&python);
        cmd.arg(&services).arg(role).arg(port.to_string());
        cmd
    };

    let end_port = free_port();
    let end = procs.spawn(
        "python-end",
        python_service("end", end_port),
        &[("COLLECTOR", &endpoint)],
    );
    procs.wait_listening(end, end_port);

    let relay = procs.spawn(
        "rust-relay",
        Command::new(relay),
        &[
            (
                "RELAY_DOWNSTREAM",
                &format!("http://127.0.0.1:{end_port}/end"),
            ),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ],
    );
    let relay_port: u16 = procs.wait_until(relay, "prints LISTENING <port>", |p| {
        p.stderr
            .lock()
            .unwrap()
            .iter()
            .find_map(|l| l.strip_prefix("LISTENING ")?.trim().parse().ok())
    });

    let start_port = free_port();
    let start = procs.spawn(
        "python-start",
        python_service("start", start_port),
        &[
            ("COLLECTOR", &endpoint),
            (
                "DOWNSTREAM",
                &format!("http://127.0.0.1:{relay_port}/relay"),
            ),
        ],
    );
    procs.wait_listening(start, start_port);

    let body = rt.block_on(async {
        let response = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{start_port}/start"))
            .timeout(Duration::from_secs(20))
            .send()
            .await?;
        let status = response.status();
        response.text().await.map(|text| (status, text))
    });
    let (status, body) = body.unwrap_or_else(|e| panic!("GET /start: {e}\n{}", procs.output()));
    assert!(status.is_success(), "{status} {body}\n{}", procs.output());
    assert_eq!(body, "end", "the answer came back through the relay");

    // Stop everything; each process flushes its spans on the way out.
    drop(procs.0[relay].child.stdin.take());
    procs.terminate(start);
    procs.terminate(end);
    procs.wait_stopped(relay, false);
    procs.wait_stopped(start, true);
    procs.wait_stopped(end, true);

    // Every process has flushed and exited: what arrives now is all there is.
    let waited = rt.block_on(collector.wait_for_spans(5, Duration::from_secs(15)));
    let spans = received(&rt, &collector);
    if let Err(e) = waited {
        panic!("five spans arrive: {e}\n{spans:#?}\n{}", procs.output());
    }
    for s in &spans {
        eprintln!(
            "span {:<12} kind {} {:<10} trace {} span {} parent {}",
            s.service, s.kind, s.name, s.trace_id, s.span_id, s.parent_span_id
        );
    }
    // Five, so no ASGI `http send`/`http receive` spans (`exclude_spans`).
    assert_eq!(spans.len(), 5, "{spans:#?}");
    let py_start = one(&spans, "python-start", SERVER);
    let py_client = one(&spans, "python-start", CLIENT);
    let rust_server = one(&spans, "rust-relay", SERVER);
    let rust_client = one(&spans, "rust-relay", CLIENT);
    let py_end = one(&spans, "python-end", SERVER);

    let trace_id = &py_start.trace_id;
    assert_eq!(trace_id.len(), 32);
    assert!(
        spans.iter().all(|s| &s.trace_id == trace_id),
        "one trace: {spans:#?}"
    );
    assert_eq!(py_start.name, "GET /start");
    assert_eq!(rust_server.name, "GET /relay");
    assert_eq!(py_end.name, "GET /end");
    assert_eq!(py_start.parent_span_id, "", "/start is the root");
    let links = [
        (py_client, py_start, "the HTTPX span is a child of /start"),
        (
            rust_server,
            py_client,
            "Python → Rust: the relay's server span is a child of the HTTPX span",
        ),
        (
            rust_client,
            rust_server,
            "the relay's client span is a child of its server span",
        ),
        (
            py_end,
            rust_client,
            "Rust → Python: /end is a child of the relay's client span",
        ),
    ];
    for (child, parent, what) in links {
        assert_eq!(child.parent_span_id, parent.span_id, "{what}: {spans:#?}");
    }

    // The relay's JSON lines carry the trace.
    let lines: Vec<Value> = procs.0[relay]
        .stdout
        .lock()
        .unwrap()
        .iter()
        .map(|l| parse_line(l))
        .collect();
    let relaying = line_with(&lines, "relaying");
    assert_eq!(relaying["trace_id"], trace_id.as_str(), "{relaying}");
    assert_eq!(
        relaying["span_id"],
        rust_server.span_id.as_str(),
        "{relaying}"
    );
    for line in lines.iter().filter(|l| l.get("trace_id").is_some()) {
        assert_eq!(line["trace_id"], trace_id.as_str(), "{line}");
    }

    rt.block_on(collector.shutdown()).unwrap();
}

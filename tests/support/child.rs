//! Running this test binary again as a child process, for cases that need a process of their own
//! (a global subscriber is installed once per process; environment variables must not race; a
//! closed stdout must be the child's own).
//!
//! A binary that re-runs itself has one ignored test named `child` at its root, which passes the
//! cases of all its modules to [`dispatch`]; a parent test runs case `name` through
//! [`command`]`(name)`, and starts every process with [`spawn`] or [`output`].

use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};

/// A case a child process can run: its name, unique in the binary, and its body.
pub type Case = (&'static str, fn());

/// The variable that names the case a child runs.
const CASE: &str = "TC_CASE";

/// Runs the one case of `cases` that the environment names: the body of a binary's ignored
/// `child` test.
pub fn dispatch(cases: &[&[Case]]) {
    let name = std::env::var(CASE).unwrap_or_else(|_| panic!("{CASE} names the case to run"));
    let found: Vec<fn()> = cases
        .iter()
        .flat_map(|cases| cases.iter())
        .filter(|(n, _)| *n == name)
        .map(|(_, body)| *body)
        .collect();
    assert_eq!(found.len(), 1, "exactly one case named {name:?}");
    found[0]();
}

/// The command that runs case `name` in a child: the ignored test `child` of the current test
/// binary, with none of the parent's OpenTelemetry, `RUST_LOG` or backtrace variables (each case
/// sets what it needs).
pub fn command(name: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary's path"));
    cmd.args([
        "child",
        "--exact",
        "--ignored",
        "--nocapture",
        "--quiet",
        "--test-threads=1",
    ]);
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_")
            || key == "RUST_LOG"
            || key.starts_with("RUST_") && key.contains("BACKTRACE")
        {
            cmd.env_remove(key);
        }
    }
    cmd.env(CASE, name);
    cmd
}

/// Held while this process forks ([`spawn`]) and while a test closes a pipe end to break a pipe.
/// A process forked while a pipe's read end is open holds a copy of it until it `exec`s (the
/// copy is close-on-exec); a pipe broken meanwhile would still have a reader, and the writes a
/// test counts on failing would succeed. `Command::spawn` returns once the child has `exec`d, so
/// under this lock no such copy exists, as long as every process of the binary is started here.
static FORKS: Mutex<()> = Mutex::new(());

/// Takes the fork lock (see [`FORKS`]).
pub fn no_fork() -> MutexGuard<'static, ()> {
    FORKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts `cmd` under the fork lock.
pub fn spawn(cmd: &mut Command) -> Child {
    let _forks = no_fork();
    cmd.spawn().expect("the child process starts")
}

/// Runs `cmd` to its end, as `Command::output` does (stdin closed, stdout and stderr captured),
/// started under the fork lock.
pub fn output(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    spawn(cmd)
        .wait_with_output()
        .expect("the child process is waited for")
}

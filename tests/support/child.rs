//! Running this test binary again as a child process, for cases that need a process of their own
//! (a global subscriber is installed once per process; environment variables must not race).

use std::process::Command;

/// The command that runs the ignored test `child` of the current test binary, with none of the
/// parent's OpenTelemetry, `RUST_LOG` or backtrace variables: each case sets what it needs.
pub fn command() -> Command {
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
    cmd
}

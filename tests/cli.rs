//! The `tracing-correlate` command on fixed input, its output compared with the expected text
//! (colours off), for each command; colours on; bad input; the `two_services` example's two logs
//! merged into one trace.
//!
//! The inputs are in `tests/fixtures/view/`: `caller.log` and `command.log` are the two services'
//! lines of a real `cargo run --example two_services` run, `mixed.log` is written by hand to hold
//! what a log holds: an exception with causes and a stack trace, a failed span, a span whose
//! parent is in another service's log, a torn line, another program's line, two services with
//! skewed clocks. The expected outputs beside them were read and checked by hand once.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/view")
        .join(name)
}

fn expected(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

fn run(args: &[&str], files: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tracing-correlate"));
    cmd.args(args).env_remove("NO_COLOR");
    for f in files {
        cmd.arg(fixture(f));
    }
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The text without ANSI escapes.
fn plain(coloured: &str) -> String {
    let mut out = String::new();
    let mut chars = coloured.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn pretty_renders_each_line_and_passes_other_lines_through() {
    let out = stdout(&run(&["pretty", "--color", "never"], &["mixed.log"]));
    assert_eq!(out, expected("mixed.pretty"));
    // Not ours: the other program's line and the torn line come out unchanged.
    assert!(out.contains("\ncompiling checkout v0.1.0 (a line of another program)\n"));
    assert!(out.contains("\n{\"timestamp\":\"2026-12-02T09:57:49.3\n"));
}

#[test]
fn pretty_reads_standard_input_as_a_pipe() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracing-correlate"))
        .args(["pretty", "--color", "never"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = std::fs::read(fixture("mixed.log")).unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out), expected("mixed.pretty"));
}

#[test]
fn colours_are_ansi_escapes_around_the_same_text() {
    let out = stdout(&run(&["pretty", "--color", "always"], &["mixed.log"]));
    assert!(out.contains("\x1b[1;31mERROR\x1b[0m"), "{out}");
    assert!(out.contains("\x1b[32mINFO \x1b[0m"), "{out}");
    assert_eq!(plain(&out), expected("mixed.pretty"));
    let tree = stdout(&run(
        &["trace", "f0c6dc7a", "--color", "always"],
        &["mixed.log"],
    ));
    assert_eq!(plain(&tree), expected("mixed.trace"));
}

#[test]
fn trace_rebuilds_the_tree_with_errors_and_a_parent_in_another_log() {
    let out = stdout(&run(
        &["trace", "f0c6dc7a", "--color", "never"],
        &["mixed.log"],
    ));
    assert_eq!(out, expected("mixed.trace"));
    assert!(out.contains("(parent 00f067aa not in these logs)"));
    assert!(out.contains("✗ error: sku-missing is out of stock"));
}

#[test]
fn trace_says_when_two_services_clocks_disagree() {
    let out = stdout(&run(
        &["trace", "aaaabbbb", "--color", "never"],
        &["mixed.log"],
    ));
    assert_eq!(out, expected("skewed.trace"));
    assert!(out.contains("(starts before its parent: clock skew between services?)"));
}

#[test]
fn the_two_services_logs_merge_into_one_tree_of_three_spans() {
    let id = "9fb3d18719c2f94e6017c9e3384c15a8";
    let out = stdout(&run(
        &["trace", id, "--color", "never"],
        &["caller.log", "command.log"],
    ));
    assert_eq!(out, expected("two_services.trace"));
    assert!(out.starts_with(&format!(
        "trace {id}: 3 spans, 2 lines, services caller, command,"
    )));
    // The command server's span is under the caller's client span, its line under it.
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[1].starts_with("GET /dispatch  caller server"));
    assert!(lines[2].ends_with("INFO  dispatching the command"));
    assert!(lines[3].starts_with("  GET  caller client"));
    assert!(lines[4].starts_with("    GET /command  command server"));
    assert!(lines[5].ends_with("INFO  command executed"));
    // One log alone: the command server's span says its parent is elsewhere.
    let alone = stdout(&run(
        &["trace", "9fb3", "--color", "never"],
        &["command.log"],
    ));
    assert!(
        alone.contains("(parent 8ee05996 not in these logs)"),
        "{alone}"
    );
}

#[test]
fn traces_has_one_row_per_trace_and_marks_the_failed_one() {
    let out = stdout(&run(&["traces", "--color", "never"], &["mixed.log"]));
    assert_eq!(out, expected("mixed.traces"));
    let failed: Vec<&str> = out.lines().filter(|l| l.starts_with('✗')).collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].contains("f0c6dc7a3f1238994c95d6aa61d5b0d4"));
}

#[test]
fn an_unknown_trace_and_a_missing_file_are_said_not_fatal() {
    let out = stdout(&run(
        &["trace", "deadbeef", "--color", "never"],
        &["mixed.log"],
    ));
    assert_eq!(out, "no line of trace deadbeef in the input\n");
    let out = run(
        &["traces", "--color", "never"],
        &["no-such.log", "mixed.log"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such.log"));
    // The file that could be read is still summarised.
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        expected("mixed.traces")
    );
}

#[test]
fn lines_of_spans_without_span_lines_are_grouped_once_per_span() {
    // Lines of two spans whose span lines never came, interleaved: each span's group appears once.
    let out = stdout(&run(
        &["trace", "1111", "--color", "never"],
        &["open-spans.log"],
    ));
    assert_eq!(
        out,
        "trace 11112222333344445555666677778888: 0 spans, 3 lines, services a, 200 ms\n\
         span aaaaaaaa (no span line in these logs)\n\
         \x20 09:57:49.100 INFO  one\n\
         \x20 09:57:49.300 INFO  three\n\
         span bbbbbbbb (no span line in these logs)\n\
         \x20 09:57:49.200 INFO  two\n"
    );
}

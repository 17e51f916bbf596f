#!/usr/bin/env python3
"""Turns one run of `cargo bench --bench layer` into the tables of BENCHMARKS.md.

    cd benches && cargo bench --bench layer 2>&1 | tee target/bench.log && python3 report.py --write ../BENCHMARKS.md

With --faults, one run of `cargo bench --bench collector_faults` into its table instead, read from
target/collector_faults.log and written between the `<!-- collector-faults:begin -->` and
`<!-- collector-faults:end -->` markers:

    cd benches && cargo bench --bench collector_faults 2>&1 | tee target/collector_faults.log && python3 report.py --faults --write ../BENCHMARKS.md

Reads the medians from target/criterion/<group>/<bench>/new/estimates.json, the bytes each rung
writes and the run's start, end and load from target/bench.log, and refuses estimates that are not
from that run. Without --write, prints the tables; with it, replaces what lies between the
`<!-- generated:begin -->` and `<!-- generated:end -->` markers of the given file.

Every figure is printed as measured: medians in ns (criterion's point estimate, to 0.1 ns), ratios
to three decimals, and the targets' ratios to four, judged on the unrounded values.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

# The bench crate (benches/) has its own target directory.
ROOT = Path(__file__).resolve().parent
CRITERION = ROOT / "target" / "criterion"
LOG = ROOT / "target" / "bench.log"
BEGIN, END = "<!-- generated:begin -->", "<!-- generated:end -->"
FAULTS_LOG = ROOT / "target" / "collector_faults.log"
FAULTS_BEGIN, FAULTS_END = "<!-- collector-faults:begin -->", "<!-- collector-faults:end -->"
ERRORS_LOG = ROOT / "target" / "errors.log"
ERRORS_BEGIN, ERRORS_END = "<!-- errors:begin -->", "<!-- errors:end -->"
ERRORS = [
    ("fmt_json_otel", "3. `fmt().json()` above `tracing-opentelemetry` (no stack traces)"),
    ("ours_stacktraces_off", "ours, `Stacktraces::Off` (what `RUST_BACKTRACE` unset gives by default)"),
    ("ours_stacktraces_on", "ours, `Stacktraces::On` (what `RUST_BACKTRACE=1` gives by default)"),
]

LADDER = [
    ("floor", "1. floor: the line by hand (with ids, as `ours_otel` writes it)"),
    ("floor_no_ids", "1. floor: the line by hand (without ids, as `ours_json` writes it)"),
    ("no_subscriber", "2. no subscriber"),
    ("registry_empty_layer", "2. registry + empty layer"),
    ("fmt_json_otel", "3. `fmt().json()` + `tracing_opentelemetry::layer()`"),
    ("json_subscriber_otel", "4. `json-subscriber` with OTel ids + `tracing_opentelemetry::layer()`"),
    ("bunyan", "5. `tracing-bunyan-formatter` (no OTel)"),
    ("init_tracing_otel", "6. `init-tracing-opentelemetry` production stack"),
    ("ours_json", "7. ours: JSON layer alone"),
    ("ours_otel", "7. ours: JSON layer + bridge (defaults)"),
    ("ours_otel_span_events_all", "7. ours: JSON layer + bridge recording every event as a span event"),
    ("ours_init_stack", "7. ours: the one-line init's stack"),
]
OURS = ["ours_json", "ours_otel", "ours_init_stack"]
THREADED = [
    ("fmt_json_otel", "3. `fmt().json()` + `tracing_opentelemetry::layer()`"),
    ("ours_json", "7. ours: JSON layer alone"),
    ("ours_otel", "7. ours: JSON layer + bridge"),
]
SETTINGS = [
    ("default", "defaults (span events: WARN and ERROR)"),
    ("span_events_all", "`with_span_events(LevelFilter::TRACE)`: every event a span event"),
    ("span_events_off", "`with_span_events(LevelFilter::OFF)`"),
    ("location_off", "`with_location(false)`"),
    ("threads_off", "`with_threads(false)`"),
    ("tracked_inactivity_on", "`with_tracked_inactivity(true)` (off by default)"),
    ("all_three_off", "location, threads and tracked inactivity all off"),
]


# The rungs of `collector_faults.rs`, in the order they run.
FAULTS = [
    ("no_export", "no exporter (reference: nothing is exported)"),
    ("healthy", "healthy: 200 at once"),
    ("http_500", "HTTP 500 at once (not retried)"),
    ("http_429", "HTTP 429 without `Retry-After` (retried with backoff)"),
    ("http_429_retry_after", "HTTP 429 with `Retry-After: 1`"),
    ("slow_500ms", "slow: 200 after 500 ms"),
    ("refused", "connection refused (retried with backoff)"),
    ("never_answers", "reads the request, never answers"),
]


class Run:
    def __init__(self, log=LOG, command="cargo bench --bench layer 2>&1 | tee target/bench.log"):
        if not log.exists():
            sys.exit(f"{log} is missing: run `cd benches && {command}`")
        self.log = log.read_text(errors="replace")
        notes = dict(
            (m[0], (int(m[1]), m[2]))
            for m in re.findall(r"^run (start|end): unix (\d+), load average (.*)$", self.log, re.M)
        )
        if "start" not in notes or "end" not in notes:
            sys.exit("target/bench.log does not hold a whole run (no `run start`/`run end` line)")
        self.start, self.start_load = notes["start"]
        self.end, self.end_load = notes["end"]
        commit = re.search(r"^run commit: (.*)$", self.log, re.M)
        self.commit = commit[1] if commit else "unknown"
        self.others = dict(re.findall(r"^run (start|end) others: (.*)$", self.log, re.M))
        self.bytes = {
            (g, n): (int(b), int(l))
            for g, n, b, l in re.findall(
                r"^([a-z_]+)/([a-z_0-9]+): (\d+) bytes in (\d+) lines$", self.log, re.M
            )
        }

    def median(self, group, bench):
        path = CRITERION / group / bench / "new" / "estimates.json"
        if not path.exists():
            sys.exit(f"{path} is missing")
        mtime = path.stat().st_mtime
        if not self.start - 1 <= mtime <= self.end + 1:
            sys.exit(f"{path} is not from the run in target/bench.log")
        return json.loads(path.read_text())["median"]["point_estimate"]

    def samples(self, group, bench):
        """Criterion's samples of `bench`, as time per iteration (ns)."""
        self.median(group, bench)  # the same checks
        sample = json.loads((CRITERION / group / bench / "new" / "sample.json").read_text())
        return [t / i for t, i in zip(sample["times"], sample["iters"])]


def ns(value):
    return f"{value:.1f} ns"


def ratio(value):
    return f"{value:.3f}"


def machine(run):
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "-V"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    minutes = (run.end - run.start) / 60
    return [
        "| | |",
        "|---|---|",
        f"| CPU | {cpu}, {os.cpu_count()} logical CPUs (`nproc`) |",
        f"| OS | {platform.system()} {platform.release()} |",
        f"| rustc | `{rustc}` |",
        f"| code | {run.commit} |",
        f"| run | {minutes:.1f} min; load average at start `{run.start_load}`, at end `{run.end_load}` |",
        "",
    ]


def ladder_table(run, group):
    medians = {name: run.median(group, name) for name, _ in LADDER if (group, name) != ("b_request", "floor_no_ids")}
    out = [
        "| rung | bytes/iter | median | ours_json ÷ rung | ours_otel ÷ rung | ours_init_stack ÷ rung |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, title in LADDER:
        if name not in medians:
            continue
        m = medians[name]
        b = run.bytes.get((group, name))
        size = f"{b[0]} ({b[1]} lines)" if b else "—"
        cells = [ratio(medians[o] / m) for o in OURS]
        out.append(f"| {title} (`{name}`) | {size} | {ns(m)} | " + " | ".join(cells) + " |")
    out.append("")
    return out, medians


def threads_table(run):
    out = [
        "| rung | 1 thread: time per event | 2 threads: time per event at the combined rate | throughput, 2 threads ÷ 1 | 2-thread samples at 1.8 × or more | slowest 2-thread sample |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    gains = {}
    for name, title in THREADED:
        one = run.median("c_threads", f"{name}_1_thread")
        two = run.median("c_threads", f"{name}_2_threads")
        samples = run.samples("c_threads", f"{name}_2_threads")
        fast = sum(one / t >= 1.8 for t in samples)
        gains[name] = one / two
        out.append(
            f"| {title} (`{name}`) | {ns(one)} | {ns(two)} | {ratio(one / two)} "
            f"| {fast} of {len(samples)} | {ns(max(samples))} ({ratio(one / max(samples))} ×) |"
        )
    out.append("")
    out.append(
        "The last two columns judge each 2-thread sample against the 1-thread median: how many "
        "samples reach 1.8 × the throughput of one thread, and the slowest."
    )
    out.append("")
    return out, gains


def settings_table(run):
    out = [
        "| bridge setting | (a) median | (a) ÷ defaults | (b) median | (b) ÷ defaults |",
        "|---|---:|---:|---:|---:|",
    ]
    base_a = run.median("settings_a_event", "default")
    base_b = run.median("settings_b_request", "default")
    for name, title in SETTINGS:
        a = run.median("settings_a_event", name)
        b = run.median("settings_b_request", name)
        out.append(f"| {title} (`{name}`) | {ns(a)} | {ratio(a / base_a)} | {ns(b)} | {ratio(b / base_b)} |")
    out.append("")
    return out


def redaction_table(run):
    out = [
        "| scenario | field not a secret | field a secret (redacted) | secret ÷ not |",
        "|---|---:|---:|---:|",
    ]
    for key, title in [
        ("a", "(a) an event with a fourth field, `passcode` / `password`"),
        ("b", "(b) a request whose span has a third field, `api_ref` / `api_key`"),
    ]:
        plain = run.median("redaction", f"{key}_plain")
        secret = run.median("redaction", f"{key}_secret")
        out.append(f"| {title} | {ns(plain)} | {ns(secret)} | {ratio(secret / plain)} |")
    out.append("")
    out.append(
        "Ours with the bridge (`ours_otel`). An INFO event is not a span event, so its secret "
        "costs the JSON layer one bit test and saves formatting the value; a span with a secret "
        "field hands `tracing-opentelemetry` a copy of its values with the marker in place."
    )
    out.append("")
    return out


def targets_table(a, b, gains):
    rows = [
        ("(a) ours with the OTel bridge ÷ rung 3 (`ours_otel` ÷ `fmt_json_otel`)", a["ours_otel"] / a["fmt_json_otel"], "≤", 0.2),
        ("(a) ours with the OTel bridge ÷ `json-subscriber` with ids (`ours_otel` ÷ `json_subscriber_otel`)", a["ours_otel"] / a["json_subscriber_otel"], "≤", 0.5),
        ("(a) our JSON layer alone ÷ the floor of the same line (`ours_json` ÷ `floor_no_ids`)", a["ours_json"] / a["floor_no_ids"], "≤", 2.0),
        ("(a) our JSON layer alone ÷ the floor with ids (`ours_json` ÷ `floor`)", a["ours_json"] / a["floor"], "≤", 2.0),
        ("(b) ours through the init's stack ÷ `init-tracing-opentelemetry`'s (`ours_init_stack` ÷ `init_tracing_otel`)", b["ours_init_stack"] / b["init_tracing_otel"], "≤", 0.5),
        ("(c) throughput of two threads ÷ one, ours with the bridge (`ours_otel`)", gains["ours_otel"], "≥", 1.8),
        ("(c) throughput of two threads ÷ one, our JSON layer alone (`ours_json`)", gains["ours_json"], "≥", 1.8),
    ]
    out = ["| target | measured | wanted | |", "|---|---:|---:|---|"]
    for title, value, op, bound in rows:
        met = value <= bound if op == "≤" else value >= bound
        out.append(f"| {title} | {value:.4f} | {op} {bound} | {'met' if met else '**missed**'} |")
    out.append("")
    out.append("Like for like (every event also a span event, as rungs 3, 4 and 6 do), for reference:")
    out.append("")
    out.append("| | (a) | (b) |")
    out.append("|---|---:|---:|")
    for peer in ["fmt_json_otel", "json_subscriber_otel", "init_tracing_otel"]:
        out.append(
            f"| `ours_otel_span_events_all` ÷ `{peer}` | {a['ours_otel_span_events_all'] / a[peer]:.4f} "
            f"| {b['ours_otel_span_events_all'] / b[peer]:.4f} |"
        )
    out.append("")
    return out


def faults_table(run):
    """The `collector_faults` group: each rung's median and its ratio to `healthy`."""
    medians = {name: run.median("collector_faults", name) for name, _ in FAULTS}
    delivery = {
        name: tuple(int(x) for x in rest[:5]) + (rest[5] == "true",)
        for name, *rest in re.findall(
            r"^collector_faults/([a-z_0-9]+): spans ended (\d+), exported (\d+), failed (\d+); "
            r"collector requests (\d+), spans (\d+); shutdown \d+ ms, in time (true|false)$",
            run.log,
            re.M,
        )
    }
    healthy, reference = medians["healthy"], medians["no_export"]
    out = [
        "| the collector (rung) | median per request | ÷ healthy | ÷ no exporter "
        "| spans ended | spans exported | spans in failed exports | collector: requests, spans received | shutdown within 5 s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, title in FAULTS:
        m = medians[name]
        d = delivery.get(name)
        if d is None:
            sys.exit(f"target/collector_faults.log has no delivery line for {name}")
        ended, exported, failed, requests, spans, in_time = d
        if name == "no_export":
            counts = "— | — | — | — | —"
        else:
            counts = (
                f"{ended:,} | {exported:,} | {failed:,} | {requests:,}, {spans:,} "
                f"| {'yes' if in_time else 'no (left behind)'}"
            )
        out.append(f"| {title} (`{name}`) | {ns(m)} | {ratio(m / healthy)} | {ratio(m / reference)} | {counts} |")
    out.append("")
    return out


def faults_machine(run):
    lines = machine(run)
    lines.insert(-1, f"| other processes | at start: {run.others.get('start', 'not logged')}; at end: {run.others.get('end', 'not logged')} |")
    return lines


def generate_faults():
    run = Run(FAULTS_LOG, "cargo bench --bench collector_faults 2>&1 | tee target/collector_faults.log")
    lines = ["### The machine and the run", ""] + faults_machine(run)
    lines += ["### Scenario (b), a request, its spans exported over OTLP/HTTP", ""]
    lines += faults_table(run)
    return "\n".join(lines)


def errors_table(run):
    medians = {name: run.median("d_error", name) for name, _ in ERRORS}
    off = medians["ours_stacktraces_off"]
    out = [
        "| rung | bytes/iter | median | rung ÷ ours off |",
        "|---|---:|---:|---:|",
    ]
    for name, title in ERRORS:
        b = run.bytes.get(("d_error", name))
        size = f"{b[0]} ({b[1]} lines)" if b else "—"
        out.append(f"| {title} (`{name}`) | {size} | {ns(medians[name])} | {ratio(medians[name] / off)} |")
    out.append("")
    on = medians["ours_stacktraces_on"] / off
    line = run.bytes.get(("d_error", "ours_stacktraces_on"), (0, 0))[0]
    out += [
        "| target (issue 12) | measured | wanted | |",
        "|---|---:|---:|---|",
        f"| stack traces on ÷ off | {on:.3f} | ≤ 5 | {'met' if on <= 5 else '**missed**'} |",
        f"| the line with its stack trace | {line} bytes | ≤ 8192 | {'met' if line <= 8192 else '**missed**'} |",
        "",
    ]
    return out


def generate_errors():
    run = Run(ERRORS_LOG, "cargo bench --bench layer -- d_error 2>&1 | tee target/errors.log")
    lines = ["### The machine and the run", ""] + machine(run)
    lines += ["### (d) an ERROR event carrying an error, 40 frames down, one per span", ""]
    lines += errors_table(run)
    return "\n".join(lines)


def generate():
    run = Run()
    lines = ["### The machine and the run", ""] + machine(run)
    lines += ["### (a) one event in an entered span", ""]
    table, a = ladder_table(run, "a_event")
    lines += table
    lines += ["### (b) a request: two spans, three events", ""]
    table, b = ladder_table(run, "b_request")
    lines += table
    lines += ["### (c) scenario (a) on one thread and on two at once", ""]
    table, gains = threads_table(run)
    lines += table
    lines += ["### What each setting of the bridge costs (ours, bridge + JSON layer)", ""]
    lines += settings_table(run)
    lines += ["### What redaction costs (issue 6)", ""]
    lines += redaction_table(run)
    lines += ["### Targets (issue 5)", ""]
    lines += targets_table(a, b, gains)
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", metavar="FILE", help="replace the generated part of FILE")
    parser.add_argument("--faults", action="store_true", help="the collector_faults run instead of the ladder's")
    parser.add_argument("--errors", action="store_true", help="the run of scenario (d) alone (`-- d_error`)")
    args = parser.parse_args()
    if args.faults:
        text, (begin, end) = generate_faults(), (FAULTS_BEGIN, FAULTS_END)
    elif args.errors:
        text, (begin, end) = generate_errors(), (ERRORS_BEGIN, ERRORS_END)
    else:
        text, (begin, end) = generate(), (BEGIN, END)
    if not args.write:
        print(text)
        return
    path = Path(args.write)
    doc = path.read_text()
    if begin not in doc or end not in doc:
        sys.exit(f"{path} has no {begin} ... {end} markers")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{text}\n{end}{tail}")


if __name__ == "__main__":
    main()

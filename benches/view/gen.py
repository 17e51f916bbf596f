#!/usr/bin/env python3
"""Writes a log of tracing-correlate's lines for the `traces` benchmark (benches/view/run.sh).

gen.py PATH BYTES TRACES: about BYTES of lines, spread over TRACES traces, each trace an HTTP
request: a server span line, a child span line, three event lines (one in twenty an ERROR with an
exception), interleaved as concurrent requests interleave. Deterministic (a fixed seed).
"""
import json
import random
import sys

path, size, traces = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(7)
written = 0
n = 0
with open(path, "w") as out:
    while written < size:
        t = n % traces
        trace_id = f"{t:032x}"
        server = f"{(n * 2 + 1) & 0xFFFFFFFFFFFFFFFF:016x}"
        child = f"{(n * 2 + 2) & 0xFFFFFFFFFFFFFFFF:016x}"
        ms = n % 60000
        ts = lambda us: f"2026-12-02T10:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{(ms % 1000) * 1000 + us:06d}Z"
        failed = rng.random() < 0.05
        lines = [
            {"timestamp": ts(1), "level": "INFO", "service": "checkout", "target": "checkout::orders",
             "message": "order received", "trace_id": trace_id, "span_id": server, "trace_flags": "01",
             "span_name": "POST /orders", "order_id": n, "items": rng.randint(1, 9)},
            {"timestamp": ts(2), "level": "DEBUG", "service": "checkout", "target": "checkout::stock",
             "message": "reserving", "trace_id": trace_id, "span_id": child, "trace_flags": "01",
             "span_name": "reserve", "sku": f"sku-{rng.randint(1, 500)}"},
        ]
        if failed:
            lines.append({"timestamp": ts(3), "level": "ERROR", "service": "checkout",
                          "target": "checkout::stock", "trace_id": trace_id, "span_id": child,
                          "trace_flags": "01", "span_name": "reserve",
                          "exception": {"type": "checkout::OutOfStock", "message": "out of stock"}})
        else:
            lines.append({"timestamp": ts(3), "level": "INFO", "service": "checkout",
                          "target": "checkout::stock", "message": "reserved", "trace_id": trace_id,
                          "span_id": child, "trace_flags": "01", "span_name": "reserve"})
        lines.append({"timestamp": ts(4), "level": "INFO", "service": "checkout", "target": "checkout::stock",
                      "kind": "span", "trace_id": trace_id, "span_id": child, "trace_flags": "01",
                      "span_name": "reserve", "parent_span_id": server, "span_kind": "internal",
                      "start": ts(2), "end": ts(4), "duration_ms": 0.002,
                      "status": "error" if failed else "unset"})
        lines.append({"timestamp": ts(5), "level": "INFO", "service": "checkout", "target": "tracing_correlate::server",
                      "kind": "span", "trace_id": trace_id, "span_id": server, "trace_flags": "01",
                      "span_name": "POST /orders", "parent_span_id": "", "span_kind": "server",
                      "start": ts(1), "end": ts(5), "duration_ms": 0.004, "status": "unset",
                      "attributes": {"http.request.method": "POST", "http.route": "/orders",
                                     "http.response.status_code": 500 if failed else 200}})
        for line in lines:
            text = json.dumps(line, separators=(",", ":")) + "\n"
            out.write(text)
            written += len(text)
        n += 1
print(f"{path}: {written} bytes, {n} requests over {traces} traces")

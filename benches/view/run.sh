#!/bin/sh
# The `tracing-correlate traces` benchmark (issue 16): a log of about 1 GB read streaming, against
# `jq -c 'select(.trace_id == …)'` on the same file, in one run. Prints lines per second and the
# peak resident memory of each, and the command's memory for the same number of traces in a
# quarter of the bytes, and for ten times the traces. Needs python3, jq, GNU time.
#
#   sh benches/view/run.sh [DIR]    # DIR holds the generated logs (default /tmp), about 1.5 GB
set -eu
dir=${1:-/tmp}
root=$(cd "$(dirname "$0")/../.." && pwd)
cargo build --release --features cli --bin tracing-correlate --manifest-path "$root/Cargo.toml" -q
bin="$root/target/release/tracing-correlate"
[ -f "$dir/tc-view-1g.log" ] || python3 "$root/benches/view/gen.py" "$dir/tc-view-1g.log" 1000000000 10000
[ -f "$dir/tc-view-250m.log" ] || python3 "$root/benches/view/gen.py" "$dir/tc-view-250m.log" 250000000 10000
[ -f "$dir/tc-view-1g-100k.log" ] || python3 "$root/benches/view/gen.py" "$dir/tc-view-1g-100k.log" 1000000000 100000
measure() { # label, then the command
  label=$1; shift
  /usr/bin/time -f "%e %M" -o "$dir/tc-view.time" "$@" > "$dir/tc-view.out"
  read -r secs kib < "$dir/tc-view.time"
  echo "$label: ${secs} s, peak RSS ${kib} KiB"
}
lines=$(wc -l < "$dir/tc-view-1g.log")
echo "1 GB log: $lines lines"
measure "traces, 1 GB, 10,000 traces" "$bin" traces --color never "$dir/tc-view-1g.log"
tail -1 "$dir/tc-view.out" | head -c 200; echo; grep -c '^✗' "$dir/tc-view.out" | sed 's/^/failed rows: /'
measure "jq select one trace, 1 GB" jq -c 'select(.trace_id == "00000000000000000000000000000007")' "$dir/tc-view-1g.log"
measure "trace ID, 1 GB" "$bin" trace 00000000000000000000000000000007 --color never "$dir/tc-view-1g.log"
measure "traces, 250 MB, 10,000 traces" "$bin" traces --color never "$dir/tc-view-250m.log"
measure "traces, 1 GB, 100,000 traces" "$bin" traces --color never "$dir/tc-view-1g-100k.log"

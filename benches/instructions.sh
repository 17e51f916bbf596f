#!/usr/bin/env bash
# Instructions per event of scenario (a) for each rung named (default: the floors and ours), as
# callgrind counts them: (count of a 60,000-event run - count of a 10,000-event run) / 50,000, so
# the setup cancels out. The count is the same for the same binary and input whatever else the
# machine does, which wall time on a shared machine is not. Run from benches/; needs valgrind.
set -euo pipefail
cd "$(dirname "$0")"
bin=$(cargo bench --bench layer --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json, sys
for m in map(json.loads, sys.stdin):
    if m.get("executable") and m["target"]["name"] == "layer":
        print(m["executable"])')
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" --instructions "$1" "$2" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
rungs=("$@")
[ ${#rungs[@]} -gt 0 ] || rungs=(floor floor_no_ids ours_json ours_otel ours_init_stack)
for rung in "${rungs[@]}"; do
    short=$(count "$rung" 10000)
    long=$(count "$rung" 60000)
    echo "$rung $(( (long - short) / 50000 ))"
done

#!/usr/bin/env bash
# Fleet scale benchmark on loopback: `jcstar demo --devices N --serve` in one process, the
# release `jcstar scan` of its inventory in another, for growing N. Prints wall time,
# devices/s, the scan's peak RSS (/usr/bin/time -v) and its peak sockets in flight (sampled
# from /proc/<pid>/fd every 50 ms), so one sees whether the cost per device stays flat.
# All traffic goes to 127.<78+SUBNET>.x.y; each scan is capped at TIMEOUT seconds.
#
# Usage: bench/scale.sh [N ...]           (default: 100 500 1000 2000 5000)
# Environment: SCAN_ARGS   extra scan flags (default: "--no-intrusive": every non-intrusive
#                          check on the profile's 27 IoT ports; e.g. "--checks ports")
#              SUBNET      fleet subnet (default 60: 127.138.x.y)
#              TIMEOUT     seconds per scan (default 600)
#              BIN         a jcstar binary to time instead of building this tree's (e.g. an
#                          older build, to compare)
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
((${#sizes[@]})) || sizes=(100 500 1000 2000 5000)
scan_args=${SCAN_ARGS---no-intrusive}
subnet=${SUBNET:-60}
timeout_s=${TIMEOUT:-600}

[[ -x /usr/bin/time ]] || { echo "bench/scale.sh needs /usr/bin/time (apt-get install time)"; exit 2; }
if [[ -n ${BIN:-} ]]; then
    bin=$BIN
else
    cargo build --release --locked --quiet
    bin=${CARGO_TARGET_DIR:-target}/release/jcstar
fi
work=$(mktemp -d)
lab=
cleanup() {
    [[ -n $lab ]] && kill -INT "$lab" 2>/dev/null && wait "$lab" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

echo "jcstar scan $scan_args of a demo fleet; $(nproc) cores; RLIMIT_NOFILE $(ulimit -Hn)"
printf '%6s %9s %10s %11s %12s %11s %9s\n' N wall_s devices/s ms/device peak_RSS_MB KB/device sockets
for n in "${sizes[@]}"; do
    inventory=$work/fleet-$n.toml
    "$bin" demo --devices "$n" --subnet "$subnet" --serve --write-inventory "$inventory" \
        >"$work/lab-$n.log" 2>&1 &
    lab=$!
    for _ in $(seq 600); do [[ -s $inventory ]] && break; sleep 0.1; done
    [[ -s $inventory ]] || { echo "N=$n: the fleet did not start:"; cat "$work/lab-$n.log"; exit 1; }
    start=$(date +%s%N)
    # shellcheck disable=SC2086
    /usr/bin/time -v -o "$work/time-$n" timeout "$timeout_s" \
        "$bin" scan --targets "$inventory" $scan_args --quiet --out "$work/run-$n" \
        >"$work/scan-$n.log" 2>&1 &
    timer=$!
    peak=0
    scanner=
    while kill -0 "$timer" 2>/dev/null; do
        if [[ -z $scanner ]]; then
            wrapper=$(pgrep -P "$timer" || true)
            [[ -n $wrapper ]] && scanner=$(pgrep -P "$wrapper" || true)
        fi
        if [[ -n $scanner ]]; then
            now=$({ find "/proc/$scanner/fd" -lname 'socket:*' 2>/dev/null || true; } | wc -l)
            ((now > peak)) && peak=$now
        fi
        sleep 0.05
    done
    wait "$timer" || true
    ms=$((($(date +%s%N) - start) / 1000000))
    kill -INT "$lab" 2>/dev/null || true
    wait "$lab" 2>/dev/null || true
    lab=
    rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time-$n")
    reported=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["devices"])' \
        "$work/run-$n/results.json" 2>/dev/null || echo "?")
    [[ $reported == "$n" ]] || echo "N=$n: the scan reported $reported devices (see $(tail -n 3 "$work/scan-$n.log"))"
    awk -v n="$n" -v ms="$ms" -v kb="$rss_kb" -v peak="$peak" 'BEGIN {
        printf "%6d %9.2f %10.1f %11.2f %12.1f %11.1f %9d\n",
            n, ms / 1000, n / (ms / 1000), ms / n, kb / 1024, kb / n, peak }'
done

#!/usr/bin/env bash
# Hostile-device zoo benchmark: the release jcstar against each hostile persona of the lab
# (jcstar_lab::hostile, served by the lab's `zoo` example on 127.66.20x.1, loopback only),
# one persona at a time, with a per-device budget (--host-timeout, default 60s): a persona
# done sooner was ended by jcstar's own per-probe bounds, one at the budget by it. Prints per
# persona: wall time, peak RSS (from /usr/bin/time -v), exit code and the 16 criteria's verdicts,
# counted (python3).
# Usage: bench/zoo.sh [HOST_TIMEOUT]     e.g. bench/zoo.sh 20s
set -euo pipefail
cd "$(dirname "$0")/.."

budget=${1:-60s}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --locked -p jcstar --bin jcstar
cargo build --release --quiet --locked -p jcstar-lab --example zoo
bin=$target/release/jcstar
zoo=$target/release/examples/zoo
[[ -x /usr/bin/time ]] || { echo "zoo.sh: needs GNU time at /usr/bin/time" >&2; exit 2; }

work=$(mktemp -d)
zoo_pid=
cleanup() {
    exec 3>&- 2>/dev/null || true
    [[ -n $zoo_pid ]] && kill "$zoo_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

printf '%-12s %8s %9s %5s  %s\n' persona wall_s peak_MB exit verdicts
octet=200
for persona in tarpit byte-drip firehose tls-liar deep-xml huge-xml dns-loop many-ports; do
    octet=$((octet + 1))
    address=127.66.$octet.1
    rm -f "$work/hold" "$work/zoo.out"
    mkfifo "$work/hold"
    # The zoo serves until its standard input (the FIFO held open on fd 3) closes.
    "$zoo" "$persona" "$address" <"$work/hold" >"$work/zoo.out" 2>&1 &
    zoo_pid=$!
    exec 3>"$work/hold"
    for _ in $(seq 1 100); do
        grep -q . "$work/zoo.out" 2>/dev/null && break
        sleep 0.1
    done
    read -r _ _ ports <"$work/zoo.out" || { cat "$work/zoo.out" >&2; exit 1; }
    out=$work/$persona
    code=0
    /usr/bin/time -v -o "$work/time.txt" "$bin" scan "$address" -p "$ports" \
        --host-timeout "$budget" --out "$out" --quiet >"$work/scan.log" 2>&1 || code=$?
    exec 3>&-
    wait "$zoo_pid" || true
    zoo_pid=
    wall=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$work/time.txt" |
        awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
    verdicts=$(python3 - "$out/results.json" <<'PY' 2>/dev/null || echo "-"
import collections, json, sys
device = json.load(open(sys.argv[1]))["devices"][0]
counts = collections.Counter(c["verdict"] for c in device["criteria"])
print(" ".join(f"{v}={n}" for v, n in sorted(counts.items())))
PY
)
    printf '%-12s %8s %9s %5s  %s\n' "$persona" "$wall" "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" \
        "$code" "$verdicts"
done

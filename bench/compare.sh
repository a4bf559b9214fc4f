#!/usr/bin/env bash
# jcstar beside nmap and sslscan on the demo lab, loopback only (127.77.SUBNET.x):
#  (a) all 65,535 TCP ports of the lab's first 6 devices: `jcstar scan -p- --checks ports`,
#      `nmap -sT -T4 -p-`, and a bare tokio connect loop (examples/connect_floor.rs) as the
#      floor; with jcstar's peak RSS (/usr/bin/time -v; goal <= 64 MB);
#  (b) TLS enumeration of the lab's legacy TLS port (legacy-nvr, port 8443):
#      `jcstar scan -p 8443 --checks crypto`, `sslscan`, `nmap --script ssl-enum-ciphers`.
# Medians of RUNS runs (default 3); every command is capped at 600 s.
#
# Usage: bench/compare.sh          Environment: RUNS (default 3), SUBNET (default 61)
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
subnet=${SUBNET:-61}
net=127.77.$subnet
[[ -x /usr/bin/time ]] || { echo "bench/compare.sh needs /usr/bin/time (apt-get install time)"; exit 2; }
cargo build --release --locked --quiet
cargo build --release --locked --quiet --example connect_floor
bin=${CARGO_TARGET_DIR:-target}/release/jcstar
floor=${CARGO_TARGET_DIR:-target}/release/examples/connect_floor
work=$(mktemp -d)
lab=
cleanup() {
    [[ -n $lab ]] && kill -INT "$lab" 2>/dev/null && wait "$lab" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

"$bin" demo --serve --subnet "$subnet" --write-inventory "$work/lab.toml" >"$work/lab.log" 2>&1 &
lab=$!
for _ in $(seq 300); do [[ -s $work/lab.toml ]] && break; sleep 0.1; done
[[ -s $work/lab.toml ]] || { echo "the demo lab did not start:"; cat "$work/lab.log"; exit 1; }

# time_runs LABEL COMMAND...: runs it RUNS times under /usr/bin/time -v; prints the median
# wall time and the largest peak RSS; the last run's output stays in $work/last.out.
time_runs() {
    local label=$1
    shift
    local walls=() rss=0 i kb start
    for ((i = 0; i < runs; i++)); do
        start=$(date +%s%N)
        /usr/bin/time -v -o "$work/time" timeout 600 "$@" >"$work/last.out" 2>&1 || true
        walls+=($((($(date +%s%N) - start) / 1000000)))
        kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
        ((kb > rss)) && rss=$kb
    done
    local median
    median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-46s %9.2f %12.1f   (runs: %s ms)\n' "$label" "$(echo "$median / 1000" | bc -l)" \
        "$(echo "$rss / 1024" | bc -l)" "${walls[*]}"
}

hosts=("$net".{1..6})
echo "machine: $(nproc) cores, loopback; $runs runs each; lab: jcstar demo --subnet $subnet"
printf '%-46s %9s %12s\n' "(a) -p- of ${hosts[0]}-6" median_s peak_RSS_MB
time_runs "connect floor (tokio, 2048 in flight)" "$floor" "${hosts[@]}"
grep -o '[0-9]* open' "$work/last.out" | sed 's/^/    floor found /'
time_runs "jcstar scan -p- --checks ports" \
    "$bin" scan "$net.1-6" -p- --checks ports --quiet --out "$work/jcstar-pall"
python3 - "$work/jcstar-pall/results.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
print("    jcstar found", sum(len(d["ports"]["open"]) for d in doc["devices"]), "open")
PY
time_runs "nmap -sT -T4 -p-" nmap -n -Pn -sT -T4 -p- "$net.1-6"
echo "    nmap found $(grep -c '/tcp *open' "$work/last.out" || true) open"

tls=$net.3:8443
printf '%-46s %9s %12s\n' "(b) TLS enumeration of $tls (legacy-nvr)" median_s peak_RSS_MB
time_runs "jcstar scan -p 8443 --checks crypto" \
    "$bin" scan "$net.3" -p 8443 --checks crypto --quiet --out "$work/jcstar-tls"
time_runs "sslscan" sslscan --no-colour "$tls"
echo "    sslscan accepted: $(grep -c -E '^(Preferred|Accepted)' "$work/last.out" || true) suite lines"
time_runs "nmap --script ssl-enum-ciphers" nmap -n -Pn -sT -p 8443 --script ssl-enum-ciphers "$net.3"

#!/usr/bin/env bash
# Loopback port-scan benchmark: jcstar's scanner (examples/bench_scan.rs) and,
# when installed, nmap -sT on the same targets. Traffic stays on 127.0.0.0/8.
#
# Usage: bench/portscan.sh [--drop-host] [bench_scan arguments, e.g. --runs 3]
#
# --drop-host (root and nft needed) also times a default-DROP host: a
# temporary nftables table drops every SYN to 127.0.3.1 except ports 8080,
# 8443 and 1883; the table is deleted on exit. nmap gets at most 180 s there.
set -euo pipefail
cd "$(dirname "$0")/.."

drop_host=0
args=()
for a in "$@"; do
    if [[ $a == --drop-host ]]; then drop_host=1; else args+=("$a"); fi
done

cargo build --release --quiet --example bench_scan
bin=target/release/examples/bench_scan

time_it() {
    local label=$1
    shift
    local start end out ms
    out=$(mktemp)
    start=$(date +%s%N)
    "$@" >"$out" 2>&1 || true
    end=$(date +%s%N)
    ms=$(((end - start) / 1000000))
    printf '%s: %d.%03d s (%s open ports)\n' "$label" $((ms / 1000)) $((ms % 1000)) \
        "$(grep -c '/tcp *open' "$out" || true)"
    rm -f "$out"
}

echo "== jcstar scanner"
"$bin" "${args[@]}"

have_nmap=0
if command -v nmap >/dev/null 2>&1; then
    have_nmap=1
    echo "== nmap $(nmap --version | head -n1 | awk '{print $3}') (bench_scan's own listeners are closed by now)"
    time_it "(a) nmap -sT -T4 -p- 127.0.0.1" nmap -n -Pn -sT -T4 -p- 127.0.0.1
    time_it "(b) nmap -sT -T4 -p20000-20099 127.0.1.1-254" \
        nmap -n -Pn -sT -T4 -p20000-20099 127.0.1.1-254
else
    echo "== nmap not installed: skipping comparison (apt-get install nmap)"
fi

if ((drop_host)); then
    if [[ $(id -u) != 0 ]] || ! command -v nft >/dev/null 2>&1; then
        echo "== --drop-host needs root and nft: skipped"
        exit 0
    fi
    trap 'nft delete table inet jcstar_bench 2>/dev/null || true' EXIT
    nft add table inet jcstar_bench
    nft add chain inet jcstar_bench input '{ type filter hook input priority 0; policy accept; }'
    nft add rule inet jcstar_bench input ip daddr 127.0.3.1 tcp dport != '{ 8080, 8443, 1883 }' drop
    echo "== default-DROP host"
    "$bin" --only drop
    if ((have_nmap)); then
        python3 - <<'PY' &
import socket, time
keep = []
for port in (8080, 8443, 1883):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.3.1", port))
    s.listen(16)
    keep.append(s)
time.sleep(190)
PY
        listeners=$!
        sleep 0.5
        time_it "(c) nmap -sT -T4 -p- 127.0.3.1 (capped at 180 s)" \
            timeout 180 nmap -n -Pn -sT -T4 -p- 127.0.3.1
        kill "$listeners" 2>/dev/null || true
    fi
fi

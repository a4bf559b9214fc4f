#!/usr/bin/env bash
# Loopback port-scan benchmark: jcstar's scanner (examples/bench_scan.rs) and,
# when installed, nmap -sT on the same targets. Traffic stays on 127.0.0.0/8.
#
# Usage: bench/portscan.sh [--drop-host] [--lab] [bench_scan arguments, e.g. --runs 3]
#
# --lab (root, the device lab up: tests/lab/up) also times full -p- sweeps of the namespace lab
# (198.18.77.10-17) from the scanner namespace with the jcstar binary (RUNS times, default 3:
# port scan only, then once with every non-intrusive check), checks every open port of the
# lab's ground truth was found, and runs nmap -sT -T4 -p- on the same hosts when installed
# (at most 300 s).
#
# --drop-host (root and nft needed) also times a default-DROP host: a
# temporary nftables table drops every SYN to 127.0.3.1 except ports 8080,
# 8443 and 1883; the table is deleted on exit. nmap gets at most 180 s there.
# With --lab, good-device (198.18.77.13) also drops every SYN but to its open ports (22, 443)
# during the sweeps, as a device behind a default-DROP firewall would; deleted on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

drop_host=0
lab=0
args=()
for a in "$@"; do
    case $a in
    --drop-host) drop_host=1 ;;
    --lab) lab=1 ;;
    *) args+=("$a") ;;
    esac
done

cargo build --release --quiet --example bench_scan
bin=${CARGO_TARGET_DIR:-target}/release/examples/bench_scan

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

if ((lab)); then
    gt=/run/jcstar-lab/ground-truth.json
    if [[ $(id -u) != 0 ]] || ! ip netns list | grep -q '^jcs-scanner' || [[ ! -r $gt ]]; then
        echo "== --lab needs root and the device lab up (tests/lab/up): skipped"
        exit 0
    fi
    cargo build --release --quiet
    out=$(mktemp -d)
    cleanup='rm -rf "$out"'
    setup="8 devices"
    if ((drop_host)); then
        nsx_good=(ip netns exec jcs-good nft)
        "${nsx_good[@]}" add table inet jcstar_bench
        "${nsx_good[@]}" add chain inet jcstar_bench input '{ type filter hook input priority 0; policy accept; }'
        "${nsx_good[@]}" add rule inet jcstar_bench input tcp dport != '{ 22, 443 }' drop
        cleanup+='; ip netns exec jcs-good nft delete table inet jcstar_bench'
        setup="8 devices, good-device default-DROP"
    fi
    trap "$cleanup" EXIT
    sweep() {
        local label=$1
        shift
        local start ms
        start=$(date +%s%N)
        ip netns exec jcs-scanner "${CARGO_TARGET_DIR:-target}/release/jcstar" scan \
            --targets targets/lab.toml -p- --quiet --out "$out" "$@" >/dev/null || true
        ms=$((($(date +%s%N) - start) / 1000000))
        python3 - "$gt" "$out/results.json" "$ms" "$label" <<'PY'
import json, sys
gt, res, ms = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
want = {(d["address"], p) for d in gt["devices"] for p in d["tcp"]["open_ports"]
        if d["address"] in {r["device"]["address"] for r in res["devices"]}}
got = {(d["device"]["address"], p["port"]) for d in res["devices"] for p in d["ports"]["open"]}
probes = sum(d["scan_stats"]["probes"] for d in res["devices"] if d.get("scan_stats"))
scan_ms = max(d["scan_stats"]["elapsed_ms"] for d in res["devices"] if d.get("scan_stats"))
print(f"{sys.argv[4]}: {ms / 1000:.2f} s wall, "
      f"slowest host sweep {scan_ms / 1000:.2f} s, {probes} probes, "
      f"open {len(got)}/{len(want)}, missed {len(want - got)}, extra {len(got - want)}")
PY
    }
    echo "== namespace lab ($setup) x 65535 TCP ports from jcs-scanner"
    for run in $(seq "${RUNS:-3}"); do
        sweep "jcstar scan -p- --checks ports, run $run" --checks ports
    done
    sweep "jcstar scan -p- --no-intrusive (every non-intrusive check)" --no-intrusive
    if ((have_nmap)); then
        time_it "nmap -sT -T4 -p- 198.18.77.10-17 (from jcs-scanner, capped at 300 s)" \
            ip netns exec jcs-scanner timeout 300 nmap -n -Pn -sT -T4 -p- 198.18.77.10-17
    fi
fi

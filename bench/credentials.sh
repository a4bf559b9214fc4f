#!/usr/bin/env bash
# Default-credential benchmark: jcstar's access check and, when installed, hydra -t 16, with
# the Mirai telnet list (profiles/credentials/mirai-telnet.txt) against the same targets.
#
#   telnet: the demo lab on loopback (jcstar demo --serve, 127.77.130.x):
#           weak-camera 2323 (root/xc3511 valid) and strong-camera 2323 (no default valid);
#   ssh:    the real device lab, only when it is up and we are root (tests/lab/up):
#           weak-router 198.18.77.11 (root/admin valid) and mqtt-hub 198.18.77.14 (none valid).
#           defended-login (198.18.77.15) is never a target: it locks accounts.
#
# jcstar runs with its profile's [access] concurrency raised to 16 to match hydra -t 16, and
# only its S1.1-01/S1.1-02 checks enabled.
# Usage: bench/credentials.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/jcstar
work=$(mktemp -d)
demo_pid=
cleanup() {
    [[ -n $demo_pid ]] && kill "$demo_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Only the credential checks run: hydra does not inspect TLS/SSH or measure lockouts either.
sed -e 's/^concurrency = 4$/concurrency = 16/' \
    -e 's/^enabled = \[.*\]$/enabled = ["unauthenticated_access", "default_credentials"]/' \
    profiles/jc-star-1.toml >"$work/profile.toml"
# hydra's -C format is user:password, one pair per line.
grep -v '^#' profiles/credentials/mirai-telnet.txt | sed 's/""//g; s/ /:/' >"$work/mirai.combo"
pairs=$(sort -u "$work/mirai.combo" | wc -l)

"$bin" demo --serve --subnet 130 --quiet >"$work/demo.log" 2>&1 &
demo_pid=$!
for _ in $(seq 1 50); do
    grep -q . "$work/demo.log" 2>/dev/null && break
    sleep 0.1
done
sleep 0.5

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
report() { # label ms attempts found
    local rate
    rate=$(awk -v a="$3" -v ms="$2" 'BEGIN { printf "%.1f", (ms > 0 ? a * 1000 / ms : 0) }')
    printf '  %-8s %6d.%03d s  %4s attempts  %7s attempts/s  found: %s\n' \
        "$1" $(($2 / 1000)) $(($2 % 1000)) "$3" "$rate" "$4"
}

run_jcstar() { # ns host port proto
    local ns=$1 host=$2 port=$3 proto=$4 start ms out
    out=$work/j-$host-$port
    start=$(date +%s%N)
    ${ns:+ip netns exec "$ns"} "$bin" scan "$host" -p "$port" --profile "$work/profile.toml" \
        --quiet --out "$out" >/dev/null 2>&1 || true
    ms=$(ms_since "$start")
    python3 - "$out/results.json" "$proto" "$ms" "$pairs" <<'PY'
import json, re, sys
path, proto, ms, pairs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
found, attempts = "none", pairs
for c in json.load(open(path))["devices"][0]["criteria"]:
    if c["id"] != "S1.1-02":
        continue
    for f in c["findings"]:
        for e in f.get("evidence", []):
            if e["label"] == "accepted credential" and e["received"].startswith(proto + " "):
                found = e["received"].split(" ", 2)[2]
        m = re.search(proto + r" \d+/tcp \((\d+) pairs refused\)", f["summary"])
        if m:
            attempts = int(m.group(1))
print(f"{ms} {attempts} {found}")
PY
}

run_hydra() { # ns host port module
    local ns=$1 host=$2 port=$3 module=$4 start ms out found attempts
    out=$work/h-$host-$port
    start=$(date +%s%N)
    ${ns:+ip netns exec "$ns"} timeout 300 hydra -q -t 16 -w 5 -C "$work/mirai.combo" -s "$port" \
        -o "$out" "$host" "$module" >/dev/null 2>&1 || true
    ms=$(ms_since "$start")
    found=$(grep -o 'login: [^ ]*   password: .*' "$out" 2>/dev/null | head -1 || true)
    attempts=$pairs
    [[ -n $found ]] || found=none
    echo "$ms $attempts $found"
}

bench() { # title ns host port proto hydra-module
    echo "== $1 ($3:$4)"
    read -r ms n found < <(run_jcstar "$2" "$3" "$4" "$5")
    report jcstar "$ms" "$n" "$found"
    if command -v hydra >/dev/null 2>&1; then
        read -r ms n found < <(run_hydra "$2" "$3" "$4" "$6")
        report hydra "$ms" "$n" "$found"
    fi
}

command -v hydra >/dev/null 2>&1 || echo "(hydra not installed: apt-get install -y hydra; jcstar only)"
echo "Mirai list: $pairs distinct pairs; jcstar with 16 connections, hydra -t 16"
echo "(jcstar's time includes its port scan, the unauthenticated probes and one control attempt;"
echo " hydra stops at the first hit like jcstar, so attempts there are an upper bound)"
bench "telnet, weak-camera (demo)" "" 127.77.130.1 2323 telnet telnet
bench "telnet, strong-camera (demo)" "" 127.77.130.6 2323 telnet telnet
if [[ $(id -u) == 0 ]] && ip netns list 2>/dev/null | grep -qw jcs-scanner; then
    bench "ssh, weak-router (lab, OpenSSH)" jcs-scanner 198.18.77.11 22 ssh ssh
    bench "ssh, mqtt-hub (lab, dropbear)" jcs-scanner 198.18.77.14 22 ssh ssh
else
    echo "(lab not up or not root: SSH targets skipped)"
fi

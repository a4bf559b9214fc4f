#!/usr/bin/env bash
# TLS enumeration benchmark: versions + suites + groups + certificate of one server, with
# jcstar's inspector (examples/tls_enum.rs) and, when installed, sslscan, testssl.sh and nmap
# ssl-enum-ciphers, side by side with wall times.
#
# Usage: bench/tls.sh [ip:port] [netns]
#   default target: the lab's legacy-tls 198.18.77.12:443 from namespace jcs-scanner
#   (tests/lab/up must have run). Targets must be loopback or lab addresses.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-198.18.77.12:443}
ns=${2:-jcs-scanner}
host=${target%:*}
port=${target##*:}
case $host in
127.*|198.18.77.*) ;;
*) echo "bench/tls.sh: only loopback or lab targets (got $host)" >&2; exit 2 ;;
esac
run=()
if [[ $host == 198.18.77.* ]]; then run=(ip netns exec "$ns"); fi

cargo build --release --quiet --example tls_enum
bin=${CARGO_TARGET_DIR:-target}/release/examples/tls_enum

time_it() {
    local label=$1
    shift
    local start end out ms
    out=$(mktemp)
    start=$(date +%s%N)
    timeout 600 "${run[@]}" "$@" >"$out" 2>&1 || true
    end=$(date +%s%N)
    ms=$(((end - start) / 1000000))
    printf '%-34s %8d ms   (%s lines of output: %s)\n' "$label" "$ms" "$(wc -l <"$out")" "$out"
}

echo "target $target"
time_it "jcstar (tls_enum)" "$bin" "$target"
if command -v sslscan >/dev/null; then
    time_it "sslscan" sslscan --no-colour --show-certificate "$target"
fi
if command -v nmap >/dev/null; then
    time_it "nmap ssl-enum-ciphers" nmap -Pn -sT -p "$port" --script ssl-enum-ciphers,ssl-cert "$host"
fi
testssl=$(command -v testssl.sh || command -v testssl || true)
if [[ -n $testssl ]]; then
    time_it "testssl.sh (-p -e -f -S)" "$testssl" --quiet --color 0 --warnings off -p -e -f -S "$target"
fi

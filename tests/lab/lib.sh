# shellcheck shell=bash
# Shared settings and helpers for tests/lab/up and tests/lab/down.
#
# Everything the lab creates is named here, so `down` can remove exactly that
# and nothing else:
#   - the network namespaces in LAB_NAMESPACES (all prefixed jcs-),
#   - the bridge jcsbr0 and the veth pairs, which live only inside jcs-lan
#     (nothing is added to the root namespace),
#   - /etc/netns/<ns>/ for those namespaces (per-namespace passwd, shadow,
#     group, pam.d: `ip netns exec` bind-mounts them over /etc),
#   - the state dir LAB_STATE (configs, keys, logs, pid files, ground truth),
#   - /run/sshd, only if the lab had to create it (OpenSSH's compiled-in
#     privilege-separation directory), recorded by a marker file.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_REPO=$(cd "$LAB_DIR/../.." && pwd)
LAB_STATE=${JCSTAR_LAB_STATE:-/run/jcstar-lab}
LAB_GROUND_TRUTH="$LAB_STATE/ground-truth.json"
LAB_INVENTORY="$LAB_REPO/targets/lab.toml"

# Test subnet (RFC 2544 benchmarking range). It exists only inside the lab
# namespaces: no namespace has a default route, the root namespace has no
# address in it.
LAB_NET=198.18.77
LAB_PREFIXLEN=24
LAB_BRIDGE=jcsbr0
LAB_LAN_NS=jcs-lan
LAB_SCANNER_NS=jcs-scanner
LAB_SCANNER_IP=$LAB_NET.2

# Device personas: short name, namespace, address. The order is the order in
# the ground truth and in targets/lab.toml.
LAB_PERSONAS=(cam router tls good mqtt def upnp thr)
declare -A LAB_NS=(
    [cam]=jcs-cam [router]=jcs-router [tls]=jcs-tls
    [good]=jcs-good [mqtt]=jcs-mqtt [def]=jcs-def
    [upnp]=jcs-upnp [thr]=jcs-thr
)
declare -A LAB_IP=(
    [cam]=$LAB_NET.10 [router]=$LAB_NET.11 [tls]=$LAB_NET.12
    [good]=$LAB_NET.13 [mqtt]=$LAB_NET.14 [def]=$LAB_NET.15
    [upnp]=$LAB_NET.16 [thr]=$LAB_NET.17
)
LAB_NAMESPACES=("$LAB_LAN_NS" "$LAB_SCANNER_NS")
for _p in "${LAB_PERSONAS[@]}"; do LAB_NAMESPACES+=("${LAB_NS[$_p]}"); done
unset _p

LAB_PYTHON=/usr/bin/python3
[[ -x $LAB_PYTHON ]] || LAB_PYTHON=python3

SSHD_PRIVSEP_DIR=/run/sshd
SSHD_PRIVSEP_MARKER="$LAB_STATE/.created-run-sshd"

log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

require_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces, bridge, daemons)"
}

require_cmds() {
    local missing=() c
    for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
    ((${#missing[@]} == 0)) || die "missing commands: ${missing[*]} (install tests/lab/packages.txt)"
}

# sshd_config lines every lab sshd shares: no terminal, no forwarding, and the fake shell
# (\$FAKESH) instead of a real one, so a guessed login proves access and grants nothing.
sshd_no_shell() {
    cat <<CONF
PermitTTY no
PermitUserRC no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
AllowStreamLocalForwarding no
PermitTunnel no
ForceCommand $FAKESH
CONF
}

# PAM's fallback service in namespace $1's private /etc: deny everything, so only the services
# a persona configures can authenticate.
pam_deny_other() {
    cat >"/etc/netns/$1/pam.d/other" <<PAM
auth     required pam_deny.so
account  required pam_deny.so
password required pam_deny.so
session  required pam_deny.so
PAM
}

# The PAM stack of a pam_faillock lockout persona, in the namespace's own /etc/pam.d
# (bind-mounted over the host's by ip netns exec), and a deny-all "other".
# Usage: pam_faillock_sshd NS PERSONA "dir=... deny=... unlock_time=... fail_interval=..."
pam_faillock_sshd() {
    local ns=$1 persona=$2 fl=$3
    mkdir -p "/etc/netns/$ns/pam.d"
    cat >"/etc/netns/$ns/pam.d/sshd" <<PAM
# jcstar lab ($persona): pam_faillock lockout
auth     required                    pam_faillock.so preauth silent $fl
auth     [success=1 default=bad]     pam_unix.so
auth     [default=die]               pam_faillock.so authfail $fl
auth     sufficient                  pam_faillock.so authsucc $fl
auth     required                    pam_deny.so
account  required                    pam_faillock.so $fl
account  required                    pam_unix.so
password required                    pam_deny.so
session  required                    pam_permit.so
PAM
    pam_deny_other "$ns"
}

# An sshd_config for password login only (no keys, no shell), through PAM or not, with or
# without root. Usage: sshd_password_config IP PORT PAM(yes|no) ROOT(yes|no) HOSTKEY... > FILE
sshd_password_config() {
    local ip=$1 port=$2 pam=$3 root=$4 key
    shift 4
    echo "ListenAddress $ip:$port"
    for key in "$@"; do echo "HostKey $key"; done
    cat <<CONF
PidFile none
UsePAM $pam
PermitRootLogin $root
PasswordAuthentication yes
PermitEmptyPasswords no
KbdInteractiveAuthentication no
PubkeyAuthentication no
AuthorizedKeysFile none
HostbasedAuthentication no
StrictModes no
MaxAuthTries 6
MaxStartups 30:30:100
$(sshd_no_shell)
CONF
}

ns_exists() { [[ -e /run/netns/$1 ]]; }

# Runs a command inside a lab namespace.
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# JSON string literal for a shell value.
json_str() {
    local s=$1
    s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\t'/\\t}; s=${s//$'\r'/\\r}
    printf '"%s"' "$s"
}

# Waits (bounded) until something listens on ADDR:PORT inside NS.
# proto: tcp or udp.
wait_listen() {
    local ns=$1 proto=$2 addr=$3 port=$4 tries=100 flag=-Hltn
    [[ $proto == udp ]] && flag=-Hlun
    while ((tries-- > 0)); do
        local out
        out=$(nsx "$ns" ss $flag "( sport = :$port )" 2>/dev/null || true)
        if [[ -n $out && ( $addr == '*' || $out == *"$addr:$port"* ) ]]; then
            return 0
        fi
        sleep 0.1
    done
    die "$ns: nothing listening on $proto $addr:$port after 10 s (see $LAB_STATE/log/)"
}

# True while PID exists and is not a zombie (the lab's daemons outlive `up`
# and are reaped by whatever pid 1 is, sometimes late).
proc_alive() {
    local st
    st=$(awk '{print $3}' 2>/dev/null <"/proc/$1/stat") || return 1
    [[ -n $st && $st != Z && $st != X ]]
}

# Kills the processes listed in pid files and every process left in the lab
# namespaces: TERM, a bounded wait, then KILL.
kill_lab_processes() {
    local pids=() f p ns
    if [[ -d $LAB_STATE/pid ]]; then
        for f in "$LAB_STATE"/pid/*.pid; do
            [[ -f $f ]] || continue
            p=$(<"$f")
            # A stale pid file must not hit an unrelated process: every lab
            # daemon has a path in the state dir on its command line.
            [[ $p =~ ^[0-9]+$ ]] || continue
            [[ -r /proc/$p/cmdline ]] || continue
            tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF "$LAB_STATE/" && pids+=("$p")
        done
    fi
    for ns in "${LAB_NAMESPACES[@]}"; do
        ns_exists "$ns" || continue
        while read -r p; do [[ $p =~ ^[0-9]+$ ]] && pids+=("$p"); done < <(ip netns pids "$ns" 2>/dev/null || true)
    done
    ((${#pids[@]} == 0)) && return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    local tries=30 alive
    while ((tries-- > 0)); do
        alive=()
        for p in "${pids[@]}"; do proc_alive "$p" && alive+=("$p"); done
        ((${#alive[@]} == 0)) && return 0
        sleep 0.1
    done
    log "killing ${#alive[@]} process(es) that ignored SIGTERM"
    kill -KILL "${alive[@]}" 2>/dev/null || true
    # Processes started later in a namespace (e.g. a session child) go too.
    for ns in "${LAB_NAMESPACES[@]}"; do
        ns_exists "$ns" || continue
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    done
    return 0
}

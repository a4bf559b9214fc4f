# shellcheck shell=bash
# throttled-login: a login that really locks out, behind a firewall that throttles NEW
# connections, so a tester that spends the allowance on its own earlier connections never
# reaches the lockout (issue #12).
#   22/tcp  OpenSSH, password login through PAM with pam_faillock exactly as defended-login
#           (def.sh): after THR_DENY failed logins the user is locked for THR_UNLOCK_TIME
#           seconds, the correct password refused meanwhile; pam_unix's ~2 s failure delay.
#           nftables in the namespace drops new TCP connections to 22 past THR_RATE per
#           minute (burst THR_BURST): a dropped SYN is silence, the connect times out.
# The tally lives in the state dir, so every `up` starts unlocked.

THR_NAME=throttled-login
THR_MODEL=LAB-THR-1
THR_SSH_PORT=22
THR_SSH_USER=operator
THR_SSH_PASS='Lab-Throttle-5581'
THR_DENY=3
# Keep lockout_window_s of throttled-login in targets/lab.toml equal to it.
THR_UNLOCK_TIME=20
THR_FAIL_INTERVAL=900
# New connections per minute to 22/tcp, and the burst let through at once. The unpaced
# brute-force series opens one connection per ~2 s answer (pam_unix's delay), far above the
# rate once the scan and identification have used the burst: connects time out. A run
# with --service-rate below THR_RATE never trips it (tests/lab.rs,
# lab_connection_rate_limit_needs_service_rate).
THR_RATE=10
THR_BURST=4

persona_thr() {
    local ns=$1 ip=$2 d=$LAB_STATE/thr
    mkdir -p "$d/faillock"
    gt device "key=thr" "name=$THR_NAME" "persona=throttled-login" "model=$THR_MODEL" \
        "namespace=$ns" "address=$ip"

    lab_users_begin "$ns"
    lab_user "$ns" "$THR_SSH_USER" 1000 /bin/sh "$THR_SSH_PASS" 6
    lab_users_end "$ns"
    LAB_HOSTNAME[$ns]=throttled

    local fl="dir=$d/faillock deny=$THR_DENY unlock_time=$THR_UNLOCK_TIME fail_interval=$THR_FAIL_INTERVAL"
    pam_faillock_sshd "$ns" throttled-login "$fl"

    ssh-keygen -q -t ed25519 -N '' -C '' -f "$d/ssh_host_ed25519_key"
    sshd_password_config "$ip" "$THR_SSH_PORT" yes no "$d/ssh_host_ed25519_key" >"$d/sshd_config"
    sshd -t -f "$d/sshd_config" || die "thr sshd_config rejected"

    # The throttle: a token bucket over new connections (SYNs that would open one; a
    # retransmitted SYN of a dropped connect counts again). Established traffic passes.
    nsx "$ns" nft -f - <<NFT
table inet jcslab {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport $THR_SSH_PORT ct state new limit rate over $THR_RATE/minute burst $THR_BURST packets drop
    }
}
NFT
    start_daemon thr-sshd "$ns" "$(command -v sshd)" -D -e -f "$d/sshd_config"
    gt tcp_open "device=$THR_NAME" "port=$THR_SSH_PORT" service=ssh daemon=openssh \
        "note=new connections throttled by nftables"
    gt cred "device=$THR_NAME" service=ssh "port=$THR_SSH_PORT" "username=$THR_SSH_USER" \
        "password=$THR_SSH_PASS" default=false source=operator "note=also in targets/lab.toml as the operator credential"
    gt lockout "device=$THR_NAME" service=ssh "port=$THR_SSH_PORT" "username=$THR_SSH_USER" \
        mechanism=pam_faillock "deny=$THR_DENY" "unlock_time_s=$THR_UNLOCK_TIME" \
        "fail_interval_s=$THR_FAIL_INTERVAL" per_user=true correct_login_refused_while_locked=true \
        root_exempt=true failure_delay_s=2 "tally_dir=$d/faillock"
    gt connlimit "device=$THR_NAME" service=ssh "port=$THR_SSH_PORT" \
        "mechanism=nftables ct state new limit" "rate_per_minute=$THR_RATE" "burst=$THR_BURST" \
        action=drop
}

persona_thr_ready() {
    wait_listen "$1" tcp "$2" "$THR_SSH_PORT"
}

# shellcheck shell=bash
# defended-login: brute force against its login really gets locked out.
#   22/tcp  OpenSSH, password login through PAM with pam_faillock: after
#           DENY failed logins within FAIL_INTERVAL the user is locked for
#           UNLOCK_TIME seconds, and while locked even the correct password
#           is refused. Lockout is per user (other names are unaffected);
#           root cannot log in at all. pam_unix adds its ~2 s failure delay.
#   8080/tcp nginx, HTTP Basic login on every path, rate-limited per client
#           address with limit_req: past the burst, every request is answered
#           429 Too Many Requests (a network-visible brute-force defence).
# The tally lives in the state dir, so every `up` starts unlocked.

DEF_NAME=defended-login
DEF_MODEL=LAB-DEF-1
DEF_SSH_PORT=22
DEF_SSH_USER=operator
DEF_SSH_PASS='Lab-Operator-4417'
DEF_DENY=3
# Shorter than the brute-force test: failures while locked do not extend the lock,
# and the 10-attempt series alone runs 21-34 s (pam_unix's ~2 s delay, some attempts
# ~4 s), so the lock may lapse before the bypass tests end. jcstar sees it while it
# holds by sending the valid login right after failure 6. Keep lockout_window_s of
# defended-login in targets/lab.toml equal to it.
DEF_UNLOCK_TIME=20
DEF_FAIL_INTERVAL=900
DEF_HTTP_PORT=8080
DEF_HTTP_RATE=30r/m
DEF_HTTP_BURST=5

persona_def() {
    local ns=$1 ip=$2 d=$LAB_STATE/def
    mkdir -p "$d/faillock"
    gt device "key=def" "name=$DEF_NAME" "persona=defended-login" "model=$DEF_MODEL" \
        "namespace=$ns" "address=$ip"

    lab_users_begin "$ns"
    lab_user "$ns" "$DEF_SSH_USER" 1000 /bin/sh "$DEF_SSH_PASS" 6
    lab_users_end "$ns"
    LAB_HOSTNAME[$ns]=defended

    local fl="dir=$d/faillock deny=$DEF_DENY unlock_time=$DEF_UNLOCK_TIME fail_interval=$DEF_FAIL_INTERVAL"
    pam_faillock_sshd "$ns" defended-login "$fl"

    ssh-keygen -q -t ed25519 -N '' -C '' -f "$d/ssh_host_ed25519_key"
    ssh-keygen -q -t rsa -b 2048 -N '' -C '' -f "$d/ssh_host_rsa_key"
    sshd_password_config "$ip" "$DEF_SSH_PORT" yes no "$d/ssh_host_ed25519_key" "$d/ssh_host_rsa_key" >"$d/sshd_config"
    sshd -t -f "$d/sshd_config" || die "def sshd_config rejected"
    start_daemon def-sshd "$ns" "$(command -v sshd)" -D -e -f "$d/sshd_config"
    gt tcp_open "device=$DEF_NAME" "port=$DEF_SSH_PORT" service=ssh daemon=openssh
    gt ssh "device=$DEF_NAME" "port=$DEF_SSH_PORT" daemon=openssh "config=$d/sshd_config" \
        auth_methods=password root_login=false \
        "host_keys=$d/ssh_host_ed25519_key.pub,$d/ssh_host_rsa_key.pub"
    gt cred "device=$DEF_NAME" service=ssh "port=$DEF_SSH_PORT" "username=$DEF_SSH_USER" \
        "password=$DEF_SSH_PASS" default=false source=operator "note=also in targets/lab.toml as the operator credential"
    gt lockout "device=$DEF_NAME" service=ssh "port=$DEF_SSH_PORT" "username=$DEF_SSH_USER" \
        mechanism=pam_faillock "deny=$DEF_DENY" "unlock_time_s=$DEF_UNLOCK_TIME" \
        "fail_interval_s=$DEF_FAIL_INTERVAL" per_user=true correct_login_refused_while_locked=true \
        root_exempt=true failure_delay_s=2 "tally_dir=$d/faillock"
    def_nginx "$ns" "$ip" "$d"
}

# nginx with HTTP Basic on every path and limit_req answering 429 past the burst.
def_nginx() {
    local ns=$1 ip=$2 d=$3/nginx
    mkdir -p "$d/www" "$d/tmp"
    printf '<html><body>%s</body></html>\n' "$DEF_MODEL" >"$d/www/index.html"
    printf '%s:%s\n' "$DEF_SSH_USER" "$(openssl passwd -apr1 "$DEF_SSH_PASS")" >"$d/htpasswd"
    chmod -R a+rX "$d"
    cat >"$d/nginx.conf" <<CONF
daemon off;
pid $d/nginx.pid;
error_log $LAB_STATE/log/def-nginx-error.log;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $d/tmp;
    limit_req_zone \$binary_remote_addr zone=login:1m rate=$DEF_HTTP_RATE;
    server {
        listen $ip:$DEF_HTTP_PORT;
        server_tokens off;
        root $d/www;
        limit_req zone=login burst=$DEF_HTTP_BURST nodelay;
        limit_req_status 429;
        auth_basic "$DEF_MODEL";
        auth_basic_user_file $d/htpasswd;
    }
}
CONF
    ip netns exec "$ns" nginx -t -q -e "$LAB_STATE/log/def-nginx-error.log" -c "$d/nginx.conf" -p "$d" \
        || die "def nginx.conf rejected"
    start_daemon def-nginx "$ns" "$(command -v nginx)" -e "$LAB_STATE/log/def-nginx-error.log" \
        -c "$d/nginx.conf" -p "$d"
    gt tcp_open "device=$DEF_NAME" "port=$DEF_HTTP_PORT" service=http daemon=nginx \
        "note=Basic login, limit_req"
    gt ratelimit "device=$DEF_NAME" service=http "port=$DEF_HTTP_PORT" mechanism=nginx-limit_req \
        "rate=$DEF_HTTP_RATE" "burst=$DEF_HTTP_BURST" status=429
}

persona_def_ready() {
    wait_listen "$1" tcp "$2" "$DEF_SSH_PORT"
    wait_listen "$1" tcp "$2" "$DEF_HTTP_PORT"
}

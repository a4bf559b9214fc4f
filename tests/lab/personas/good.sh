# shellcheck shell=bash
# good-device: what ★1 expects.
#   443/tcp  lighttpd, TLS 1.2 and 1.3 only, AEAD suites with ECDHE only,
#            ECDSA P-256 certificate (SHA-256) issued by the lab CA;
#            /.well-known/security.txt
#   22/tcp   OpenSSH, public-key only (no password, no root), modern
#            algorithms only
#   23, 2323, 80/tcp  filtered (dropped by nftables); nothing else open

GOOD_NAME=good-device
GOOD_MODEL=LAB-GOOD-1
GOOD_HTTPS_PORT=443
GOOD_TLS_MIN=TLSv1.2
GOOD_TLS_MAX=TLSv1.3
GOOD_TLS_CIPHERS='ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305'
GOOD_TLS13_SUITES='TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256'
GOOD_SSH_PORT=22
GOOD_SSH_USER=maint
GOOD_SSH_KEX=curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384
GOOD_SSH_CIPHERS=chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes128-ctr
GOOD_SSH_MACS=hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com
GOOD_SSH_HOSTKEYALGS=ssh-ed25519,ecdsa-sha2-nistp256
GOOD_FILTERED=(23 2323 80)

persona_good() {
    local ns=$1 ip=$2 d=$LAB_STATE/good
    mkdir -p "$d/www/.well-known" "$d/keys"
    gt device "key=good" "name=$GOOD_NAME" "persona=good-device" "model=$GOOD_MODEL" \
        "namespace=$ns" "address=$ip"

    # The maintenance user has a random password that nothing knows: only
    # the lab operator key (keys/operator, for later tests) gets in.
    lab_users_begin "$ns"
    lab_user "$ns" "$GOOD_SSH_USER" 1000 /bin/sh "$(openssl rand -hex 24)" 6
    lab_users_end "$ns"
    LAB_HOSTNAME[$ns]=good-device

    leaf_cert "$d" server "$ip" ec ec_paramgen_curve:P-256
    cat >"$d/www/index.html" <<HTML
<html><head><title>$GOOD_MODEL</title></head><body><h1>$GOOD_MODEL</h1><form method=post action=/login>
User <input name=u> Password <input type=password name=p></form></body></html>
HTML
    printf 'Contact: mailto:security@example.invalid\nExpires: 2030-01-01T00:00:00.000Z\nPolicy: https://vendor.example/vdp\n' \
        >"$d/www/.well-known/security.txt"
    cat >"$d/lighttpd.conf" <<CONF
server.modules = ( "mod_openssl", "mod_setenv" )
server.bind = "$ip"
server.port = $GOOD_HTTPS_PORT
server.document-root = "$d/www"
server.errorlog = "$LAB_STATE/log/good-lighttpd-error.log"
server.tag = "lighttpd"
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html", ".txt" => "text/plain" )
ssl.engine = "enable"
ssl.pemfile = "$d/server-chain.pem"
ssl.privkey = "$d/server.key"
ssl.openssl.ssl-conf-cmd = (
    "MinProtocol" => "$GOOD_TLS_MIN",
    "MaxProtocol" => "$GOOD_TLS_MAX",
    "CipherString" => "$GOOD_TLS_CIPHERS",
    "Ciphersuites" => "$GOOD_TLS13_SUITES"
)
setenv.add-response-header = ( "Strict-Transport-Security" => "max-age=31536000" )
CONF
    lighttpd -tt -f "$d/lighttpd.conf" >/dev/null || die "good lighttpd.conf rejected"
    start_daemon good-lighttpd "$ns" lighttpd -D -f "$d/lighttpd.conf"
    gt tcp_open "device=$GOOD_NAME" "port=$GOOD_HTTPS_PORT" service=tls daemon=lighttpd "note=HTTPS"
    gt tls "device=$GOOD_NAME" "port=$GOOD_HTTPS_PORT" "min=$GOOD_TLS_MIN" "max=$GOOD_TLS_MAX" \
        "cipher_string=$GOOD_TLS_CIPHERS" "ciphersuites=$GOOD_TLS13_SUITES" "cert=$d/server.pem" \
        "ca=$LAB_STATE/ca/ca.pem"

    ssh-keygen -q -t ed25519 -N '' -C '' -f "$d/ssh_host_ed25519_key"
    ssh-keygen -q -t ecdsa -b 256 -N '' -C '' -f "$d/ssh_host_ecdsa_key"
    ssh-keygen -q -t ed25519 -N '' -C 'jcstar lab operator' -f "$d/keys/operator"
    cp "$d/keys/operator.pub" "$d/keys/authorized_keys"
    cat >"$d/sshd_config" <<CONF
ListenAddress $ip:$GOOD_SSH_PORT
HostKey $d/ssh_host_ed25519_key
HostKey $d/ssh_host_ecdsa_key
PidFile none
UsePAM no
PermitRootLogin no
AllowUsers $GOOD_SSH_USER
PasswordAuthentication no
PermitEmptyPasswords no
KbdInteractiveAuthentication no
HostbasedAuthentication no
PubkeyAuthentication yes
AuthenticationMethods publickey
AuthorizedKeysFile $d/keys/authorized_keys
StrictModes no
$(sshd_no_shell)
KexAlgorithms $GOOD_SSH_KEX
Ciphers $GOOD_SSH_CIPHERS
MACs $GOOD_SSH_MACS
HostKeyAlgorithms $GOOD_SSH_HOSTKEYALGS
PubkeyAcceptedAlgorithms ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-256,rsa-sha2-512
CONF
    sshd -t -f "$d/sshd_config" || die "good sshd_config rejected"
    start_daemon good-sshd "$ns" "$(command -v sshd)" -D -e -f "$d/sshd_config"
    gt tcp_open "device=$GOOD_NAME" "port=$GOOD_SSH_PORT" service=ssh daemon=openssh
    gt ssh "device=$GOOD_NAME" "port=$GOOD_SSH_PORT" daemon=openssh "config=$d/sshd_config" \
        auth_methods=publickey root_login=false \
        "host_keys=$d/ssh_host_ed25519_key.pub,$d/ssh_host_ecdsa_key.pub" \
        "client_key=$d/keys/operator" "client_user=$GOOD_SSH_USER"

    drop_tcp "$ns" "$GOOD_NAME" "${GOOD_FILTERED[@]}"
}

persona_good_ready() {
    wait_listen "$1" tcp "$2" "$GOOD_HTTPS_PORT"
    wait_listen "$1" tcp "$2" "$GOOD_SSH_PORT"
}

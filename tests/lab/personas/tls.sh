# shellcheck shell=bash
# legacy-tls: an old device's HTTPS admin, served by `openssl s_server -www`.
#   443/tcp   openssl s_server -www: TLS 1.0, 1.1 and 1.2 (no 1.3), static-RSA
#             and ECDHE CBC suites, one GCM suite for 1.2; @SECLEVEL=0
#   8443/tcp  gnutls-serv --http: TLS 1.0 and 1.1 only, 3DES-CBC and AES-CBC
#             with static RSA key exchange. Debian's OpenSSL 3 is built
#             without 3DES TLS suites (no-weak-ssl-ciphers), so 3DES comes
#             from GnuTLS, which still has it behind +3DES-CBC.
# Both serve the same certificate: RSA-1024, SHA-1, self-signed, expired
# (valid 2020-01-01..2021-01-01).
# s_server handles one connection at a time (a real trait of small devices).

TLS_NAME=legacy-tls
TLS_MODEL=LAB-TLS-1
TLS_PORT=443
TLS_MIN=TLSv1
TLS_MAX=TLSv1.2
TLS_CIPHERS='ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:AES128-SHA:AES256-SHA:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0'
TLS_GNUTLS_PORT=8443
TLS_GNUTLS_PRIORITY='NONE:+VERS-TLS1.1:+VERS-TLS1.0:+3DES-CBC:+AES-128-CBC:+SHA1:+RSA:+COMP-NULL:+SIGN-ALL:+CTYPE-X509'
TLS_KEY_BITS=1024
TLS_SIG_MD=sha1
TLS_NOT_BEFORE=20200101000000Z
TLS_NOT_AFTER=20210101000000Z

persona_tls() {
    local ns=$1 ip=$2 d=$LAB_STATE/tls
    mkdir -p "$d/db"
    gt device "key=tls" "name=$TLS_NAME" "persona=legacy-tls" "model=$TLS_MODEL" \
        "namespace=$ns" "address=$ip"
    lab_users_begin "$ns"
    lab_users_end "$ns"
    LAB_HOSTNAME[$ns]=legacy-tls

    # Self-signed and back-dated needs `openssl ca -selfsign` (OpenSSL 3.0's
    # req/x509 cannot set notBefore/notAfter).
    openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$TLS_KEY_BITS" -out "$d/server.key" 2>/dev/null
    openssl req -new -key "$d/server.key" -subj "/O=jcstar lab/CN=$TLS_MODEL" -"$TLS_SIG_MD" -out "$d/server.csr"
    : >"$d/db/index.txt"
    echo 01 >"$d/db/serial"
    cat >"$d/ca.cnf" <<CONF
[ca]
default_ca = lab
[lab]
database = $d/db/index.txt
new_certs_dir = $d/db
serial = $d/db/serial
policy = pol
default_md = $TLS_SIG_MD
unique_subject = no
copy_extensions = none
[pol]
organizationName = optional
commonName = supplied
CONF
    openssl ca -batch -notext -config "$d/ca.cnf" -selfsign -keyfile "$d/server.key" -in "$d/server.csr" \
        -startdate "$TLS_NOT_BEFORE" -enddate "$TLS_NOT_AFTER" -md "$TLS_SIG_MD" \
        -out "$d/server.pem" 2>"$d/ca.log" || die "openssl ca failed: $(cat "$d/ca.log")"

    start_daemon tls-s_server "$ns" openssl s_server -quiet -www -accept "$ip:$TLS_PORT" \
        -cert "$d/server.pem" -key "$d/server.key" \
        -min_protocol "$TLS_MIN" -max_protocol "$TLS_MAX" -cipher "$TLS_CIPHERS" -no_dhe
    gt tcp_open "device=$TLS_NAME" "port=$TLS_PORT" service=tls "daemon=openssl s_server"
    gt tls "device=$TLS_NAME" "port=$TLS_PORT" "min=$TLS_MIN" "max=$TLS_MAX" "cipher_string=$TLS_CIPHERS" \
        ciphersuites= "cert=$d/server.pem" "ca="

    printf 'HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body>%s</body></html>\n' "$TLS_MODEL" >"$d/http.txt"
    start_daemon tls-gnutls-serv "$ns" gnutls-serv --http --httpdata="$d/http.txt" -q -a --nodb \
        -p "$TLS_GNUTLS_PORT" --priority="$TLS_GNUTLS_PRIORITY" \
        --x509certfile="$d/server.pem" --x509keyfile="$d/server.key"
    gt tcp_open "device=$TLS_NAME" "port=$TLS_GNUTLS_PORT" service=tls "daemon=gnutls-serv"
    gt tls "device=$TLS_NAME" "port=$TLS_GNUTLS_PORT" stack=gnutls "priority=$TLS_GNUTLS_PRIORITY" \
        "cert=$d/server.pem" "ca="
}

persona_tls_ready() {
    wait_listen "$1" tcp "$2" "$TLS_PORT"
    wait_listen "$1" tcp '*' "$TLS_GNUTLS_PORT"   # gnutls-serv binds the wildcard
}

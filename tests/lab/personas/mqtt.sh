# shellcheck shell=bash
# mqtt-hub: a smart-home hub.
#   1883/tcp  mosquitto, anonymous clients allowed (plain MQTT)
#   8883/tcp  mosquitto, MQTT over TLS 1.2/1.3, RSA-2048 certificate from the
#             lab CA (anonymous too: TLS is not authentication)
#   1884/tcp  mosquitto, password file only: one device-unique user and password,
#             anonymous clients refused (a strong MQTT login: nothing may be found)
#   22/tcp    dropbear, root password login with a device-unique random
#             password (a valid credential that is NOT a default: no
#             default-credential check may find it)

HUB_NAME=mqtt-hub
HUB_MODEL=LAB-HUB-1
HUB_MQTT_PORT=1883
HUB_MQTTS_PORT=8883
HUB_MQTT_AUTH_PORT=1884
HUB_TLS_MIN=TLSv1.2
HUB_TLS_MAX=TLSv1.3
HUB_TLS_CIPHERS='ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305'
HUB_TLS13_SUITES='TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256'
HUB_SSH_PORT=22
HUB_SSH_USER=root

persona_mqtt() {
    local ns=$1 ip=$2 d=$LAB_STATE/mqtt pass mqtt_user mqtt_pass
    mkdir -p "$d"
    gt device "key=mqtt" "name=$HUB_NAME" "persona=mqtt-hub" "model=$HUB_MODEL" \
        "namespace=$ns" "address=$ip"

    pass="hub-$(openssl rand -hex 8)"
    lab_users_begin "$ns"
    lab_user "$ns" "$HUB_SSH_USER" 0 /bin/sh "$pass" 6
    lab_users_end "$ns"
    LAB_HOSTNAME[$ns]=hub

    leaf_cert "$d" server "$ip" rsa rsa_keygen_bits:2048
    mqtt_user="hub-$(openssl rand -hex 4)"
    mqtt_pass="mq-$(openssl rand -hex 8)"
    rm -f "$d/mosquitto.passwd"
    mosquitto_passwd -b -c "$d/mosquitto.passwd" "$mqtt_user" "$mqtt_pass" >/dev/null
    cat >"$d/mosquitto.conf" <<CONF
user root
persistence false
log_dest stderr
log_type error
log_type warning
log_type notice
per_listener_settings true

listener $HUB_MQTT_PORT $ip
allow_anonymous true

listener $HUB_MQTT_AUTH_PORT $ip
allow_anonymous false
password_file $d/mosquitto.passwd

listener $HUB_MQTTS_PORT $ip
allow_anonymous true
certfile $d/server.pem
cafile $LAB_STATE/ca/ca.pem
keyfile $d/server.key
tls_version tlsv1.2
ciphers $HUB_TLS_CIPHERS
ciphers_tls1.3 $HUB_TLS13_SUITES
CONF
    start_daemon mqtt-mosquitto "$ns" mosquitto -c "$d/mosquitto.conf"
    gt tcp_open "device=$HUB_NAME" "port=$HUB_MQTT_PORT" service=mqtt daemon=mosquitto
    gt tcp_open "device=$HUB_NAME" "port=$HUB_MQTTS_PORT" service=tls daemon=mosquitto "note=MQTT over TLS"
    gt tcp_open "device=$HUB_NAME" "port=$HUB_MQTT_AUTH_PORT" service=mqtt daemon=mosquitto "note=password file, no anonymous"
    gt cred "device=$HUB_NAME" service=mqtt "port=$HUB_MQTT_AUTH_PORT" "username=$mqtt_user" \
        "password=$mqtt_pass" default=false source=device-unique
    gt unauth "device=$HUB_NAME" service=mqtt "port=$HUB_MQTT_PORT" "what=anonymous CONNECT accepted, SUBSCRIBE # allowed"
    gt unauth "device=$HUB_NAME" service=mqtt "port=$HUB_MQTTS_PORT" "what=anonymous CONNECT accepted over TLS"
    gt tls "device=$HUB_NAME" "port=$HUB_MQTTS_PORT" "min=$HUB_TLS_MIN" "max=$HUB_TLS_MAX" \
        "cipher_string=$HUB_TLS_CIPHERS" "ciphersuites=$HUB_TLS13_SUITES" "cert=$d/server.pem" \
        "ca=$LAB_STATE/ca/ca.pem"

    dropbearkey -t ed25519 -f "$d/dropbear_ed25519_host_key" >/dev/null 2>&1
    dropbearkey -t ecdsa -s 256 -f "$d/dropbear_ecdsa_host_key" >/dev/null 2>&1
    start_daemon mqtt-dropbear "$ns" dropbear -F -E -p "$ip:$HUB_SSH_PORT" -P "$d/dropbear.pid" \
        -r "$d/dropbear_ed25519_host_key" -r "$d/dropbear_ecdsa_host_key" -j -k -c "$FAKESH"
    gt tcp_open "device=$HUB_NAME" "port=$HUB_SSH_PORT" service=ssh daemon=dropbear
    gt ssh "device=$HUB_NAME" "port=$HUB_SSH_PORT" daemon=dropbear config= \
        auth_methods=publickey,password root_login=true host_keys=
    gt cred "device=$HUB_NAME" service=ssh "port=$HUB_SSH_PORT" "username=$HUB_SSH_USER" \
        "password=$pass" default=false source=device-unique
}

persona_mqtt_ready() {
    wait_listen "$1" tcp "$2" "$HUB_MQTT_PORT"
    wait_listen "$1" tcp "$2" "$HUB_MQTTS_PORT"
    wait_listen "$1" tcp "$2" "$HUB_MQTT_AUTH_PORT"
    wait_listen "$1" tcp "$2" "$HUB_SSH_PORT"
}

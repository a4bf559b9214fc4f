# shellcheck shell=bash
# weak-router: a home router with its maintenance interfaces left wide open.
#   22/tcp    OpenSSH, root password login (root/admin, Mirai list), legacy
#             algorithms re-enabled (group1/group14-sha1 KEX, CBC + 3DES
#             ciphers, hmac-md5, hmac-sha1-96, ssh-rsa and ssh-dss host keys)
#   161/udp   net-snmp, community "public" read-write and "private" read-only (two
#             defaults: both must be reported)
#   8081/tcp  undeclared vendor service that never answers (tinyd.py silent)
#   7547/tcp, 8080/tcp  filtered (dropped by nftables)

RTR_NAME=weak-router
RTR_MODEL=LAB-RTR-1
RTR_SSH_PORT=22
RTR_SSH_USER=root
RTR_SSH_PASS=admin              # Mirai list (root/admin)
RTR_SSH_EXTRA_KEX=diffie-hellman-group1-sha1,diffie-hellman-group14-sha1
RTR_SSH_EXTRA_CIPHERS=3des-cbc,aes128-cbc,aes256-cbc
RTR_SSH_EXTRA_MACS=hmac-md5,hmac-sha1-96
RTR_SSH_EXTRA_HOSTKEYALGS=ssh-rsa,ssh-dss
RTR_SNMP_PORT=161
RTR_SNMP_COMMUNITY=public
RTR_SNMP_COMMUNITY2=private
RTR_SNMP_SYSDESCR="$RTR_MODEL home router, firmware 2.1.0 (jcstar lab)"
RTR_SNMP_SYSNAME=lab-router
RTR_UNDECLARED_PORT=8081
RTR_FILTERED=(7547 8080)

persona_router() {
    local ns=$1 ip=$2 d=$LAB_STATE/router
    mkdir -p "$d/snmp"
    gt device "key=router" "name=$RTR_NAME" "persona=weak-router" "model=$RTR_MODEL" \
        "namespace=$ns" "address=$ip"

    lab_users_begin "$ns"
    lab_user "$ns" "$RTR_SSH_USER" 0 /bin/sh "$RTR_SSH_PASS" 6
    lab_users_end "$ns"
    LAB_HOSTNAME[$ns]=router

    ssh-keygen -q -t rsa -b 2048 -N '' -C '' -f "$d/ssh_host_rsa_key"
    ssh-keygen -q -t dsa -N '' -C '' -f "$d/ssh_host_dsa_key"
    {
        sshd_password_config "$ip" "$RTR_SSH_PORT" no yes "$d/ssh_host_rsa_key" "$d/ssh_host_dsa_key"
        cat <<CONF
KexAlgorithms +$RTR_SSH_EXTRA_KEX
Ciphers +$RTR_SSH_EXTRA_CIPHERS
MACs +$RTR_SSH_EXTRA_MACS
HostKeyAlgorithms +$RTR_SSH_EXTRA_HOSTKEYALGS
CONF
    } >"$d/sshd_config"
    sshd -t -f "$d/sshd_config" || die "router sshd_config rejected"
    start_daemon router-sshd "$ns" "$(command -v sshd)" -D -e -f "$d/sshd_config"
    gt tcp_open "device=$RTR_NAME" "port=$RTR_SSH_PORT" service=ssh daemon=openssh
    gt ssh "device=$RTR_NAME" "port=$RTR_SSH_PORT" daemon=openssh "config=$d/sshd_config" \
        auth_methods=password root_login=true \
        "host_keys=$d/ssh_host_rsa_key.pub,$d/ssh_host_dsa_key.pub"
    gt cred "device=$RTR_NAME" service=ssh "port=$RTR_SSH_PORT" "username=$RTR_SSH_USER" \
        "password=$RTR_SSH_PASS" default=true source=mirai

    cat >"$d/snmpd.conf" <<CONF
agentaddress udp:$ip:$RTR_SNMP_PORT
rwcommunity $RTR_SNMP_COMMUNITY default
rocommunity $RTR_SNMP_COMMUNITY2 default
sysDescr $RTR_SNMP_SYSDESCR
sysObjectID .1.3.6.1.4.1.8072.3.2.10
sysName $RTR_SNMP_SYSNAME
sysServices 72
CONF
    start_daemon router-snmpd "$ns" env SNMP_PERSISTENT_DIR="$d/snmp" MIBS= \
        snmpd -f -Lo -C -c "$d/snmpd.conf" -p "$d/snmpd.pid" -M /nonexistent -I -smux
    gt udp_open "device=$RTR_NAME" "port=$RTR_SNMP_PORT" service=snmp daemon=net-snmp \
        "sys_descr=$RTR_SNMP_SYSDESCR" "sys_name=$RTR_SNMP_SYSNAME"
    gt cred "device=$RTR_NAME" service=snmp "port=$RTR_SNMP_PORT" "username=" \
        "password=$RTR_SNMP_COMMUNITY" default=true source=snmp-default "note=community, v1/v2c, read-write"
    gt cred "device=$RTR_NAME" service=snmp "port=$RTR_SNMP_PORT" "username=" \
        "password=$RTR_SNMP_COMMUNITY2" default=true source=snmp-default "note=community, v1/v2c, read-only"
    gt unauth "device=$RTR_NAME" service=snmp "port=$RTR_SNMP_PORT" "what=community public reads and writes the whole MIB (v1/v2c)"

    start_daemon router-undeclared "$ns" "$LAB_PYTHON" "$LAB_STATE/bin/tinyd.py" silent "$ip" "$RTR_UNDECLARED_PORT"
    gt tcp_open "device=$RTR_NAME" "port=$RTR_UNDECLARED_PORT" service=unknown "daemon=tinyd.py silent" \
        "note=undeclared in targets/lab.toml"

    drop_tcp "$ns" "$RTR_NAME" "${RTR_FILTERED[@]}"
}

persona_router_ready() {
    local ns=$1 ip=$2
    wait_listen "$ns" tcp "$ip" "$RTR_SSH_PORT"
    wait_listen "$ns" udp "$ip" "$RTR_SNMP_PORT"
    wait_listen "$ns" tcp "$ip" "$RTR_UNDECLARED_PORT"
}

# shellcheck shell=bash
# upnp-gateway: a home gateway running miniupnpd, the UPnP IGD daemon most consumer routers
# ship.
#   1900/udp  miniupnpd SSDP, answers a unicast M-SEARCH from the LAN with its LOCATION
#   5000/tcp  miniupnpd HTTP: the device description (serial number disclosed) and the IGD
#             control, which answers GetExternalIPAddress without any authentication (UPnP
#             IGD has none): an S1.1-01 failure
#   5351/udp  miniupnpd NAT-PMP/PCP: hands out the external address to any LAN host (declared
#             in targets/lab.toml; an undeclared one warns, as SSDP does)
#   5353/udp  avahi-daemon (no D-Bus), advertising the web UI as _http._tcp with TXT model= and
#             fw=; answers unicast ("legacy unicast") DNS-SD queries from the LAN
#   (ephemeral)/udp  miniupnpd's NOTIFY sender socket; recorded as a side socket, not a service
# The WAN side is a veth pair inside the namespace (wan0/wan1): no route leaves the namespace.

UPNP_NAME=upnp-gateway
UPNP_MODEL=LAB-GW-1
UPNP_HTTP_PORT=5000
UPNP_SSDP_PORT=1900
UPNP_MODEL_NUMBER=2.0.7
UPNP_SERIAL=LABGW0001       # miniupnpd keeps at most 9 characters
UPNP_WAN_IP=203.0.113.7
UPNP_MDNS_PORT=5353
UPNP_MDNS_TYPE=_http._tcp
UPNP_MDNS_FW=2.0.7

persona_upnp() {
    local ns=$1 ip=$2 d=$LAB_STATE/upnp
    mkdir -p "$d"
    gt device "key=upnp" "name=$UPNP_NAME" "persona=upnp-gateway" "model=$UPNP_MODEL" \
        "namespace=$ns" "address=$ip"

    ip -n "$ns" link add wan0 type veth peer name wan1
    ip -n "$ns" addr add "$UPNP_WAN_IP/24" dev wan0
    ip -n "$ns" link set wan0 up
    ip -n "$ns" link set wan1 up

    cat >"$d/miniupnpd.conf" <<CONF
ext_ifname=wan0
listening_ip=eth0
http_port=$UPNP_HTTP_PORT
enable_natpmp=yes
enable_upnp=yes
secure_mode=yes
system_uptime=yes
lease_file=$d/upnp.leases
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
serial=$UPNP_SERIAL
model_number=$UPNP_MODEL_NUMBER
friendly_name=$UPNP_MODEL
notify_interval=900
allow 1024-65535 $LAB_NET.0/$LAB_PREFIXLEN 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
    start_daemon upnp-miniupnpd "$ns" miniupnpd -d -f "$d/miniupnpd.conf" -P "$d/miniupnpd.pid"
    # avahi: its configuration and runtime directory are bind-mounted inside the daemon's own
    # mount namespace (ip netns exec gives it one), so nothing of the host's /etc/avahi or
    # /run/avahi-daemon is read or written.
    mkdir -p "$d/avahi/services" "$d/avahi-run"
    cat >"$d/avahi/avahi-daemon.conf" <<CONF
[server]
host-name=lab-gw
use-ipv4=yes
use-ipv6=no
allow-interfaces=eth0
enable-dbus=no
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
[reflector]
enable-reflector=no
CONF
    cat >"$d/avahi/services/web.service" <<CONF
<?xml version="1.0" standalone='no'?>
<service-group>
  <name>$UPNP_MODEL</name>
  <service>
    <type>$UPNP_MDNS_TYPE</type>
    <port>$UPNP_HTTP_PORT</port>
    <txt-record>model=$UPNP_MODEL</txt-record>
    <txt-record>fw=$UPNP_MDNS_FW</txt-record>
  </service>
</service-group>
CONF
    # The mount point must exist on the host; removed again by tests/lab/down if made here.
    if [[ ! -d /run/avahi-daemon ]]; then
        mkdir -p /run/avahi-daemon
        : >"$LAB_STATE/.created-run-avahi-daemon"
    fi
    start_daemon upnp-avahi "$ns" sh -c 'mount --bind "$1" /etc/avahi && mount --bind "$2" /run/avahi-daemon && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits' \
        sh "$d/avahi" "$d/avahi-run"
    gt udp_open "device=$UPNP_NAME" "port=$UPNP_MDNS_PORT" service=mdns daemon=avahi-daemon \
        "service_type=$UPNP_MDNS_TYPE.local" "instance=$UPNP_MODEL.$UPNP_MDNS_TYPE.local" \
        "txt=model=$UPNP_MODEL fw=$UPNP_MDNS_FW"

    gt tcp_open "device=$UPNP_NAME" "port=$UPNP_HTTP_PORT" service=http daemon=miniupnpd \
        "note=UPnP description and IGD control"
    gt udp_open "device=$UPNP_NAME" "port=5351" service=nat-pmp daemon=miniupnpd \
        "note=NAT-PMP/PCP, declared in targets/lab.toml"
    gt udp_open "device=$UPNP_NAME" "port=$UPNP_SSDP_PORT" service=ssdp daemon=miniupnpd \
        "location=http://$ip:$UPNP_HTTP_PORT/rootDesc.xml" "model_number=$UPNP_MODEL_NUMBER" \
        "serial=$UPNP_SERIAL" "igd_control=http://$ip:$UPNP_HTTP_PORT/ctl/IPConn"
}

persona_upnp_ready() {
    local ns=$1 ip=$2 side
    wait_listen "$ns" tcp '*' "$UPNP_HTTP_PORT"
    wait_listen "$ns" udp '*' "$UPNP_SSDP_PORT"
    wait_listen "$ns" udp '*' "$UPNP_MDNS_PORT"
    wait_listen "$ns" udp '*' 5351
    # The NOTIFY sender: bound to the LAN address on an ephemeral port, never a service.
    local tries=50 sides=
    while ((tries-- > 0)) && [[ -z $sides ]]; do
        sides=$(nsx "$ns" ss -Hlun "( src $ip )" | awk '{print $4}' | sed 's/.*://' | grep -vx 5351)
        [[ -n $sides ]] || sleep 0.1
    done
    for side in $sides; do
        gt udp_side "device=$UPNP_NAME" "port=$side" daemon=miniupnpd "note=SSDP NOTIFY sender socket"
    done
}

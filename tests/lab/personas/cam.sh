# shellcheck shell=bash
# weak-camera: what a cheap IP camera ships with.
#   23/tcp   BusyBox telnetd, local user root with a Mirai-list password
#   80/tcp   BusyBox httpd: / and /status.html open, /admin/ Basic admin/admin
#   2121/tcp vsftpd (a non-default port, outside the profile's list: scanned because
#            targets/lab.toml declares it), anonymous login (users "anonymous" and "ftp"), and local
#            user admin with a vendor-default password (USER/PASS through PAM)
#   554/tcp  RTSP (tinyd.py: Debian has no small RTSP server), no auth
#   8081/tcp lighttpd, everything behind HTTP Digest (MD5) admin/admin

CAM_NAME=weak-camera
CAM_MODEL=LAB-CAM-1
CAM_TELNET_PORT=23
CAM_TELNET_USER=root
CAM_TELNET_PASS=xc3511          # Mirai list, first pair
CAM_HTTP_PORT=80
CAM_HTTP_USER=admin
CAM_HTTP_PASS=admin             # Mirai list
CAM_HTTP_PROTECTED=/admin
CAM_FTP_PORT=2121
CAM_FTP_USER="admin"
CAM_FTP_PASS=12345              # vendor defaults (not in the Mirai list)
CAM_RTSP_PORT=554
CAM_DIGEST_PORT=8081
CAM_DIGEST_USER="admin"
CAM_DIGEST_PASS="admin"         # vendor defaults and Mirai list
CAM_DIGEST_PROTECTED=/

persona_cam() {
    local ns=$1 ip=$2 d=$LAB_STATE/cam
    mkdir -p "$d/www/admin" "$d/ftp/pub" "$d/ftp-empty" "$d/www-digest"
    gt device "key=cam" "name=$CAM_NAME" "persona=weak-camera" "model=$CAM_MODEL" \
        "namespace=$ns" "address=$ip"

    # Accounts: root/xc3511, MD5-crypt like the firmware it imitates. The FTP
    # user admin has a yescrypt hash: pam_unix (libxcrypt) verifies it for
    # vsftpd, BusyBox login (its own crypt: DES/MD5/SHA only) cannot, so the
    # FTP password is not a telnet login too (lab_default_credentials checks).
    lab_users_begin "$ns"
    lab_user "$ns" "$CAM_TELNET_USER" 0 "$FAKESH" "$CAM_TELNET_PASS" 1
    lab_user_hash "$ns" "$CAM_FTP_USER" 1000 /usr/sbin/nologin "$("$LAB_PYTHON" -W ignore -c \
        'import crypt, secrets, sys; print(crypt.crypt(sys.argv[1], "$y$j9T$" + secrets.token_hex(8) + "$"))' \
        "$CAM_FTP_PASS")"
    lab_users_end "$ns"
    LAB_HOSTNAME[$ns]=ipcam
    printf '%s network camera\n' "$CAM_MODEL" | lab_etc_file "$ns" issue.net
    printf '\n%s firmware 1.0.3\n\n' "$CAM_MODEL" | lab_etc_file "$ns" motd

    # Telnet: busybox telnetd runs busybox login (applet picked by argv[0]).
    ln -sf "$(command -v busybox)" "$d/login"
    start_daemon cam-telnetd "$ns" busybox telnetd -F -b "$ip:$CAM_TELNET_PORT" -l "$d/login"
    gt tcp_open "device=$CAM_NAME" "port=$CAM_TELNET_PORT" service=telnet "daemon=busybox telnetd + busybox login"
    gt cred "device=$CAM_NAME" service=telnet "port=$CAM_TELNET_PORT" "username=$CAM_TELNET_USER" \
        "password=$CAM_TELNET_PASS" default=true source=mirai

    # HTTP: busybox httpd with Basic auth on /admin.
    cat >"$d/www/index.html" <<HTML
<html><head><title>$CAM_MODEL</title></head><body>
<h1>$CAM_MODEL network camera</h1><p>Firmware 1.0.3 (jcstar lab)</p>
<a href="/status.html">Status</a> <a href="/admin/">Administration</a></body></html>
HTML
    cat >"$d/www/status.html" <<HTML
<html><body><h1>$CAM_MODEL status</h1><p>Stream: rtsp://$ip:$CAM_RTSP_PORT/live</p>
<p>Wi-Fi SSID: lab-ssid</p></body></html>
HTML
    cat >"$d/www/admin/index.html" <<HTML
<html><body><h1>$CAM_MODEL administration</h1><form>Firmware update: <input type=file></form></body></html>
HTML
    printf '%s:%s:%s\n' "$CAM_HTTP_PROTECTED" "$CAM_HTTP_USER" "$CAM_HTTP_PASS" >"$d/httpd.conf"
    start_daemon cam-httpd "$ns" busybox httpd -f -vv -p "$ip:$CAM_HTTP_PORT" -h "$d/www" -c "$d/httpd.conf" \
        -r "$CAM_MODEL"
    gt tcp_open "device=$CAM_NAME" "port=$CAM_HTTP_PORT" service=http "daemon=busybox httpd"
    gt cred "device=$CAM_NAME" service=http "port=$CAM_HTTP_PORT" "username=$CAM_HTTP_USER" \
        "password=$CAM_HTTP_PASS" default=true source=mirai "path=$CAM_HTTP_PROTECTED/"
    gt unauth "device=$CAM_NAME" service=http "port=$CAM_HTTP_PORT" "what=GET / and /status.html answer 200 without credentials; $CAM_HTTP_PROTECTED/ answers 401"

    # FTP: vsftpd, anonymous read-only; local user admin, read-only, chrooted
    # to the FTP tree. /etc/pam.d for the namespace: only vsftpd uses PAM here.
    echo "$CAM_MODEL recordings" >"$d/ftp/pub/README"
    printf '%s\n' anonymous ftp "$CAM_FTP_USER" >"$d/ftp-users"   # root is refused at USER
    mkdir -p "/etc/netns/$ns/pam.d"
    cat >"/etc/netns/$ns/pam.d/vsftpd" <<PAM
# jcstar lab (weak-camera): the FTP user, pam_unix on the namespace's /etc/shadow
auth     required pam_unix.so
account  required pam_unix.so
password required pam_deny.so
session  required pam_permit.so
PAM
    pam_deny_other "$ns"
    cat >"$d/vsftpd.conf" <<CONF
listen=YES
listen_ipv6=NO
listen_address=$ip
listen_port=$CAM_FTP_PORT
background=NO
anonymous_enable=YES
no_anon_password=YES
anon_root=$d/ftp
local_enable=YES
local_root=$d/ftp
chroot_local_user=YES
userlist_enable=YES
userlist_deny=NO
userlist_file=$d/ftp-users
write_enable=NO
secure_chroot_dir=$d/ftp-empty
seccomp_sandbox=NO
# The protocol log (one pid per connection) lets tests count jcstar's FTP connections.
xferlog_enable=YES
xferlog_std_format=NO
vsftpd_log_file=$LAB_STATE/log/cam-vsftpd-protocol.log
log_ftp_protocol=YES
dirmessage_enable=NO
ftpd_banner=$CAM_MODEL FTP server ready.
pasv_enable=YES
pasv_address=$ip
pasv_min_port=30000
pasv_max_port=30009
pam_service_name=vsftpd
CONF
    start_daemon cam-vsftpd "$ns" vsftpd "$d/vsftpd.conf"
    gt tcp_open "device=$CAM_NAME" "port=$CAM_FTP_PORT" service=ftp daemon=vsftpd
    gt cred "device=$CAM_NAME" service=ftp "port=$CAM_FTP_PORT" username=anonymous password= \
        default=true source=anonymous-ftp "note=any password"
    gt cred "device=$CAM_NAME" service=ftp "port=$CAM_FTP_PORT" username=ftp password= \
        default=true source=anonymous-ftp "note=any password"
    gt cred "device=$CAM_NAME" service=ftp "port=$CAM_FTP_PORT" "username=$CAM_FTP_USER" \
        "password=$CAM_FTP_PASS" default=true source=vendor-defaults "note=USER/PASS, local user through PAM"
    gt unauth "device=$CAM_NAME" service=ftp "port=$CAM_FTP_PORT" "what=anonymous login, read-only, /pub/README"

    # HTTP Digest: lighttpd mod_auth (htdigest backend, MD5), everything protected.
    cat >"$d/www-digest/index.html" <<HTML
<html><body><h1>$CAM_MODEL web configuration</h1></body></html>
HTML
    printf '%s:%s:%s\n' "$CAM_DIGEST_USER" "$CAM_MODEL" \
        "$(printf '%s:%s:%s' "$CAM_DIGEST_USER" "$CAM_MODEL" "$CAM_DIGEST_PASS" | md5sum | cut -d' ' -f1)" \
        >"$d/htdigest"
    cat >"$d/lighttpd-digest.conf" <<CONF
server.modules = ( "mod_auth", "mod_authn_file" )
server.bind = "$ip"
server.port = $CAM_DIGEST_PORT
server.document-root = "$d/www-digest"
server.errorlog = "$LAB_STATE/log/cam-lighttpd-error.log"
server.tag = "lighttpd"
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html" )
auth.backend = "htdigest"
auth.backend.htdigest.userfile = "$d/htdigest"
auth.require = ( "$CAM_DIGEST_PROTECTED" => (
    "method" => "digest", "algorithm" => "MD5", "realm" => "$CAM_MODEL", "require" => "valid-user"
) )
CONF
    lighttpd -tt -f "$d/lighttpd-digest.conf" >/dev/null || die "cam lighttpd-digest.conf rejected"
    start_daemon cam-lighttpd "$ns" lighttpd -D -f "$d/lighttpd-digest.conf"
    gt tcp_open "device=$CAM_NAME" "port=$CAM_DIGEST_PORT" service=http "daemon=lighttpd mod_auth (Digest)"
    gt cred "device=$CAM_NAME" service=http "port=$CAM_DIGEST_PORT" "username=$CAM_DIGEST_USER" \
        "password=$CAM_DIGEST_PASS" default=true source=vendor-defaults "path=$CAM_DIGEST_PROTECTED" \
        "note=HTTP Digest MD5, realm $CAM_MODEL"

    # RTSP: tiny responder, no authentication on any method.
    start_daemon cam-rtsp "$ns" "$LAB_PYTHON" "$LAB_STATE/bin/tinyd.py" rtsp "$ip" "$CAM_RTSP_PORT" \
        "$CAM_MODEL RTSP Server"
    gt tcp_open "device=$CAM_NAME" "port=$CAM_RTSP_PORT" service=rtsp "daemon=tinyd.py rtsp"
    gt unauth "device=$CAM_NAME" service=rtsp "port=$CAM_RTSP_PORT" "what=DESCRIBE rtsp://$ip/live (any path) answers 200 with SDP, no credentials"
}

persona_cam_ready() {
    local ns=$1 ip=$2
    wait_listen "$ns" tcp "$ip" "$CAM_TELNET_PORT"
    wait_listen "$ns" tcp "$ip" "$CAM_HTTP_PORT"
    wait_listen "$ns" tcp "$ip" "$CAM_FTP_PORT"
    wait_listen "$ns" tcp "$ip" "$CAM_RTSP_PORT"
    wait_listen "$ns" tcp "$ip" "$CAM_DIGEST_PORT"
}

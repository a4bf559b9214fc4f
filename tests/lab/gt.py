#!/usr/bin/env python3
"""Builds the lab's ground truth from the records tests/lab/up wrote while it
configured the daemons (gt/records.tsv), plus facts read back from the very
files those daemons use (certificates via `openssl x509`, TLS suites via
`openssl ciphers` / `gnutls-cli --list` on the configured cipher strings,
OpenSSH algorithms via `sshd -T` on the config file). The only measured
facts are SSH KEXINIT lists (`kexinit`, read from the scanner namespace),
marked as such. Also checks targets/lab.toml against the lab (names,
addresses) and copies its declared services in.

Usage: gt.py --records F --inventory F --scanner-ns NS --scanner-ip IP
             --lan-ns NS --bridge BR --subnet NET --out F
       gt.py --kexinit IP PORT          (internal; run inside the scanner ns)
"""

import argparse
import datetime as dt
import json
import os
import re
import socket
import struct
import subprocess
import sys
import tomllib

SCHEMA = "jcstar.lab.ground-truth"
SCHEMA_VERSION = 1

# Ports closed (RST) on every lab device: tests add them to -p so that the
# closed state is exercised too. Checked against open/filtered below.
PROBE_CLOSED_TCP = [24, 25, 81, 2222, 5555, 7548, 9527, 49152]

# Services the ★1 profile treats as debug interfaces (S1.1-13): open → fail.
DEBUG_TCP_PORTS = {23, 2323, 5555, 9527, 9530}

TLS_VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
OPENSSL_VERSION_FLAG = {"TLSv1": "-tls1", "TLSv1.1": "-tls1_1", "TLSv1.2": "-tls1_2", "TLSv1.3": "-tls1_3"}
GNUTLS_VERSION = {"VERS-TLS1.0": "TLSv1", "VERS-TLS1.1": "TLSv1.1", "VERS-TLS1.2": "TLSv1.2",
                  "VERS-TLS1.3": "TLSv1.3"}
# GnuTLS names its suites its own way; IANA names for the ones the lab uses.
GNUTLS_IANA = {
    "0x000a": "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "0x002f": "TLS_RSA_WITH_AES_128_CBC_SHA",
    "0x0035": "TLS_RSA_WITH_AES_256_CBC_SHA",
}

SSH_NAMELISTS = ["kex_algorithms", "server_host_key_algorithms", "ciphers_client_to_server",
                 "ciphers_server_to_client", "macs_client_to_server", "macs_server_to_client",
                 "compression_client_to_server", "compression_server_to_client",
                 "languages_client_to_server", "languages_server_to_client"]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def truthy(v):
    return v in ("true", "yes", "1")


def csv(v):
    return [x for x in v.split(",") if x] if v else []


# ------------------------------------------------------------------ records

def read_records(path):
    recs = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            kind, *fields = line.split("\t")
            kv = {}
            for fld in fields:
                if "=" not in fld:
                    sys.exit(f"gt.py: {path}:{n}: field without '=': {fld!r}")
                k, v = fld.split("=", 1)
                kv[k] = v
            recs.append((kind, kv))
    return recs


# ------------------------------------------------------------------ TLS

def cert_facts(path, ca_path):
    text = run(["openssl", "x509", "-in", path, "-noout", "-text"])
    subject = run(["openssl", "x509", "-in", path, "-noout", "-subject", "-nameopt", "RFC2253"]).split("=", 1)[1].strip()
    issuer = run(["openssl", "x509", "-in", path, "-noout", "-issuer", "-nameopt", "RFC2253"]).split("=", 1)[1].strip()
    dates = dict(l.split("=", 1) for l in run(["openssl", "x509", "-in", path, "-noout", "-dates"]).split("\n") if "=" in l)
    fpr = run(["openssl", "x509", "-in", path, "-noout", "-fingerprint", "-sha256"]).split("=", 1)[1].strip()
    fmt = "%b %d %H:%M:%S %Y %Z"
    nb = dt.datetime.strptime(re.sub(r"\s+", " ", dates["notBefore"]), fmt).replace(tzinfo=dt.timezone.utc)
    na = dt.datetime.strptime(re.sub(r"\s+", " ", dates["notAfter"]), fmt).replace(tzinfo=dt.timezone.utc)
    now = dt.datetime.now(dt.timezone.utc)
    algo = re.search(r"Public Key Algorithm: (\S+)", text).group(1)
    bits = int(re.search(r"Public-Key: \((\d+) bit\)", text).group(1))
    sig = re.search(r"Signature Algorithm: (\S+)", text).group(1)
    curve = re.search(r"NIST CURVE: (\S+)", text)
    key_type = {"rsaEncryption": "rsa", "id-ecPublicKey": "ecdsa"}.get(algo, algo)
    self_signed = subject == issuer
    if self_signed:
        sig_ok = subprocess.run(["openssl", "verify", "-no-CAfile", "-no-CApath", "-partial_chain",
                                 "-no_check_time", "-auth_level", "0", "-CAfile", path, path],
                                capture_output=True).returncode == 0
    else:
        sig_ok = False
    return {
        "file": path,
        "subject": subject,
        "issuer": issuer,
        "key_type": key_type,
        "key_bits": bits,
        "curve": curve.group(1) if curve else None,
        "signature_algorithm": sig,
        "signature_hash": next((h for h in ("md5", "sha1", "sha256", "sha384", "sha512")
                                if h in sig.lower().replace("-", "")), None),
        "not_before": nb.isoformat(),
        "not_after": na.isoformat(),
        "expired": na < now,
        "not_yet_valid": nb > now,
        "self_signed": self_signed,
        "self_signature_verifies": sig_ok if self_signed else None,
        "issued_by_lab_ca": bool(ca_path) and not self_signed,
        "lab_ca_file": ca_path or None,
        "sha256_fingerprint": fpr,
    }


def openssl_suites(version, cipher_string, ciphersuites):
    flag = OPENSSL_VERSION_FLAG[version]
    if version == "TLSv1.3" and not ciphersuites:
        return []
    out = run(["openssl", "ciphers", "-V", "-s", "-stdname", flag, "-ciphersuites", ciphersuites or "",
               cipher_string if version != "TLSv1.3" else "ALL"])
    suites = []
    for line in out.splitlines():
        m = re.match(r"\s*0x([0-9A-F]{2}),0x([0-9A-F]{2})\s+-\s+(\S+)\s+-\s+(\S+)", line)
        if not m:
            continue
        is13 = m.group(3).startswith("TLS_AES_") or m.group(3).startswith("TLS_CHACHA20_")
        if (version == "TLSv1.3") != is13:
            continue
        suites.append({"id": f"0x{m.group(1)}{m.group(2)}".lower(), "name": m.group(3), "openssl": m.group(4)})
    return suites


def gnutls_suites(priority):
    out = run(["gnutls-cli", "--list", f"--priority={priority}"])
    versions = []
    m = re.search(r"^Protocols: (.*)$", out, re.M)
    for v in (m.group(1).split(", ") if m else []):
        if v.strip() in GNUTLS_VERSION:
            versions.append(GNUTLS_VERSION[v.strip()])
    versions = [v for v in TLS_VERSIONS if v in versions]
    suites = []
    for line in out.splitlines():
        m = re.match(r"(TLS_\S+)\s+0x([0-9a-f]{2}), 0x([0-9a-f]{2})\s+(\S+)", line)
        if m:
            sid = f"0x{m.group(2)}{m.group(3)}"
            minv = {"TLS1.0": "TLSv1", "TLS1.1": "TLSv1.1", "TLS1.2": "TLSv1.2", "TLS1.3": "TLSv1.3",
                    "SSL3.0": "TLSv1"}.get(m.group(4), m.group(4))
            suites.append(({"id": sid, "name": GNUTLS_IANA.get(sid, m.group(1)), "gnutls": m.group(1)}, minv))
    per_version = {}
    for v in versions:
        per_version[v] = [s for s, minv in suites if TLS_VERSIONS.index(minv) <= TLS_VERSIONS.index(v)]
    return versions, per_version


def tls_entry(kv):
    port = int(kv["port"])
    if kv.get("stack") == "gnutls":
        versions, suites = gnutls_suites(kv["priority"])
        config = {"stack": "gnutls", "priority": kv["priority"]}
    else:
        lo, hi = TLS_VERSIONS.index(kv["min"]), TLS_VERSIONS.index(kv["max"])
        versions = TLS_VERSIONS[lo:hi + 1]
        suites = {v: openssl_suites(v, kv["cipher_string"], kv.get("ciphersuites", "")) for v in versions}
        versions = [v for v in versions if suites[v]]
        suites = {v: suites[v] for v in versions}
        config = {"stack": "openssl", "min_protocol": kv["min"], "max_protocol": kv["max"],
                  "cipher_string": kv["cipher_string"], "ciphersuites": kv.get("ciphersuites") or None}
    return {
        "port": port,
        "versions": versions,
        "suites": suites,
        "certificate": cert_facts(kv["cert"], kv.get("ca", "")),
        "config": config,
    }


# ------------------------------------------------------------------ SSH

def kexinit(ip, port):
    """Reads the server's identification string and KEXINIT name-lists."""
    with socket.create_connection((ip, port), timeout=5) as s:
        s.settimeout(5)
        s.sendall(b"SSH-2.0-jcstar-lab-groundtruth\r\n")
        buf = b""
        ident = None
        for _ in range(50):
            while b"\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    raise RuntimeError("connection closed before identification")
                buf += chunk
            line, buf = buf.split(b"\n", 1)
            if line.startswith(b"SSH-"):
                ident = line.rstrip(b"\r").decode("latin-1")
                break
        if ident is None:
            raise RuntimeError("no SSH identification string")
        while len(buf) < 5:
            buf += s.recv(4096)
        plen, padlen = struct.unpack(">IB", buf[:5])
        if plen > 65536:
            raise RuntimeError("implausible packet length")
        while len(buf) < 4 + plen:
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed inside KEXINIT")
            buf += chunk
        payload = buf[5:4 + plen - padlen]
        if payload[0] != 20:
            raise RuntimeError(f"first packet is message {payload[0]}, not KEXINIT")
        off = 17
        lists = {}
        for name in SSH_NAMELISTS:
            (n,) = struct.unpack(">I", payload[off:off + 4])
            off += 4
            lists[name] = csv(payload[off:off + n].decode("ascii"))
            off += n
        return {"identification": ident, **lists}


def sshd_effective(config):
    out = run(["sshd", "-T", "-f", config])
    eff = {}
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        eff[k] = v
    return {
        "kex_algorithms": csv(eff.get("kexalgorithms", "")),
        "ciphers": csv(eff.get("ciphers", "")),
        "macs": csv(eff.get("macs", "")),
        "host_key_algorithms": csv(eff.get("hostkeyalgorithms", "")),
        "password_authentication": eff.get("passwordauthentication") == "yes",
        "pubkey_authentication": eff.get("pubkeyauthentication") == "yes",
        "kbd_interactive_authentication": eff.get("kbdinteractiveauthentication") == "yes",
        "permit_root_login": eff.get("permitrootlogin"),
        "use_pam": eff.get("usepam") == "yes",
    }


def host_key(pub):
    out = run(["ssh-keygen", "-l", "-E", "sha256", "-f", pub]).split()
    return {"type": out[-1].strip("()").lower(), "bits": int(out[0]), "sha256_fingerprint": out[1]}


def ssh_entry(kv, address, scanner_ns):
    port = int(kv["port"])
    entry = {
        "port": port,
        "daemon": kv["daemon"],
        "auth_methods": csv(kv.get("auth_methods", "")),
        "root_login": truthy(kv.get("root_login", "false")),
        "configured": sshd_effective(kv["config"]) if kv.get("config") else None,
        "host_keys": [host_key(p) for p in csv(kv.get("host_keys", ""))],
    }
    if kv.get("client_key"):
        entry["client_key"] = {"file": kv["client_key"], "username": kv.get("client_user")}
    try:
        out = run(["ip", "netns", "exec", scanner_ns, sys.executable, os.path.abspath(__file__),
                   "--kexinit", address, str(port)], timeout=20)
        entry["kexinit"] = json.loads(out) | {"source": "measured at up time from the scanner namespace"}
    except (subprocess.SubprocessError, ValueError) as e:
        sys.exit(f"gt.py: could not read KEXINIT from {address}:{port}: {e}")
    return entry


# ------------------------------------------------------------------ inventory

def read_inventory(path):
    with open(path, "rb") as f:
        inv = tomllib.load(f)
    devices = {}
    for d in inv.get("device", []):
        declared = None
        if "services" in d:
            declared = {"tcp": [], "udp": []}
            for s in d["services"]:
                port, _, proto = s.partition("/")
                declared[proto or "tcp"].append(int(port))
            declared = {k: sorted(v) for k, v in declared.items()}
        devices[d["name"]] = {"address": d["address"], "model": d.get("model"), "declared": declared,
                              "credentials": len(d.get("credential", [])),
                              "evidence_keys": sorted(d.get("evidence", {}).keys())}
    return devices


def expected_s1_1_13(dev):
    """fail: a debug port or a port missing from the declaration is open;
    pass: a declaration exists and covers every open port, no debug port;
    None: no declaration (the harness cannot judge undeclared ports)."""
    open_tcp = {p["port"] for p in dev["tcp"]["open"]}
    open_udp = {p["port"] for p in dev["udp"]["open"]}
    reasons = []
    for p in sorted(open_tcp & DEBUG_TCP_PORTS):
        reasons.append(f"debug port {p}/tcp open")
    decl = dev["declared_services"]
    if decl is not None:
        for p in sorted(open_tcp - set(decl["tcp"])):
            reasons.append(f"undeclared port {p}/tcp open")
        for p in sorted(open_udp - set(decl["udp"])):
            reasons.append(f"undeclared port {p}/udp open")
    if reasons:
        return {"verdict": "fail", "because": reasons}
    if decl is None:
        return {"verdict": None, "because": ["no declared service list in the inventory"]}
    return {"verdict": "pass", "because": ["every open port declared, no debug port"]}


# ------------------------------------------------------------------ listeners

def listeners(ns):
    """(proto, port) of every socket listening inside NS on a non-loopback
    address, from `ss`."""
    out = run(["ip", "netns", "exec", ns, "ss", "-Hlntu"])
    found = set()
    for line in out.splitlines():
        cols = line.split()
        if len(cols) < 5:
            continue
        proto, local = cols[0], cols[4]
        addr, _, port = local.rpartition(":")
        if addr.startswith("127.") or addr in ("[::1]", "::1"):
            continue
        found.add((proto, int(port)))
    return found


def listener_problems(dev):
    """The ground truth must name every listener in the device namespace, and
    every open port it names must have one: a daemon's side port (net-snmp's
    SMUX 199/tcp, say) cannot slip past it."""
    have = listeners(dev["namespace"])
    want = {("tcp", p["port"]) for p in dev["tcp"]["open"]} | {("udp", p["port"]) for p in dev["udp"]["open"]}
    side = {("udp", p) for p in dev["udp"].get("side", [])}
    problems = []
    for proto, port in sorted(have - want - side):
        problems.append(f"{dev['name']}: {port}/{proto} listens but is not in the ground truth")
    for proto, port in sorted(want - have):
        problems.append(f"{dev['name']}: ground truth says {port}/{proto} is open but nothing listens")
    return problems


# ------------------------------------------------------------------ main

def build(args):
    recs = read_records(args.records)
    inv = read_inventory(args.inventory)
    devices, order = {}, []
    for kind, kv in recs:
        if kind == "device":
            name = kv["name"]
            devices[name] = {
                "name": name,
                "key": kv["key"],
                "persona": kv["persona"],
                "model": kv["model"],
                "namespace": kv["namespace"],
                "address": kv["address"],
                "declared_services": None,
                "tcp": {"open": [], "filtered": []},
                "udp": {"open": [], "side": []},
                "credentials": [],
                "unauthenticated": [],
                "tls": [],
                "ssh": [],
                "lockout": [],
                "ratelimit": [],
                "connlimit": [],
            }
            order.append(name)
            continue
        dev = devices[kv["device"]]
        if kind == "tcp_open":
            dev["tcp"]["open"].append({"port": int(kv["port"]), "service": kv["service"],
                                       "daemon": kv.get("daemon"), "note": kv.get("note")})
        elif kind == "tcp_filtered":
            dev["tcp"]["filtered"].append(int(kv["port"]))
        elif kind == "udp_open":
            entry = {"port": int(kv["port"]), "service": kv["service"], "daemon": kv.get("daemon")}
            # What the service tells an unauthenticated asker (e.g. SNMP sysDescr/sysName).
            entry.update({k: v for k, v in kv.items()
                          if k in ("sys_descr", "sys_name", "location", "model_number", "serial",
                                   "igd_control", "service_type", "instance", "txt")})
            dev["udp"]["open"].append(entry)
        elif kind == "udp_side":
            # A daemon's own sending socket (ephemeral port): listed by ss, never a service.
            dev["udp"]["side"].append(int(kv["port"]))
        elif kind == "cred":
            dev["credentials"].append({
                "service": kv["service"], "port": int(kv["port"]), "username": kv["username"],
                "password": kv["password"], "default": truthy(kv["default"]), "source": kv["source"],
                "path": kv.get("path"), "note": kv.get("note")})
        elif kind == "unauth":
            dev["unauthenticated"].append({"service": kv["service"], "port": int(kv["port"]), "what": kv["what"]})
        elif kind == "tls":
            dev["tls"].append(tls_entry(kv))
        elif kind == "ssh":
            dev["ssh"].append(ssh_entry(kv, dev["address"], args.scanner_ns))
        elif kind == "lockout":
            dev["lockout"].append({
                "service": kv["service"], "port": int(kv["port"]), "username": kv["username"],
                "mechanism": kv["mechanism"], "deny": int(kv["deny"]),
                "unlock_time_s": int(kv["unlock_time_s"]), "fail_interval_s": int(kv["fail_interval_s"]),
                "per_user": truthy(kv["per_user"]),
                "correct_login_refused_while_locked": truthy(kv["correct_login_refused_while_locked"]),
                "root_exempt": truthy(kv["root_exempt"]), "failure_delay_s": float(kv["failure_delay_s"]),
                "tally_dir": kv["tally_dir"]})
        elif kind == "ratelimit":
            dev["ratelimit"].append({
                "service": kv["service"], "port": int(kv["port"]), "mechanism": kv["mechanism"],
                "rate": kv["rate"], "burst": int(kv["burst"]), "status": int(kv["status"])})
        elif kind == "connlimit":
            # A firewall throttle on NEW connections (not an answer the service gives).
            dev["connlimit"].append({
                "service": kv["service"], "port": int(kv["port"]), "mechanism": kv["mechanism"],
                "rate_per_minute": int(kv["rate_per_minute"]), "burst": int(kv["burst"]),
                "action": kv["action"]})
        else:
            sys.exit(f"gt.py: unknown record kind {kind!r}")

    problems = []
    for name in order:
        dev = devices[name]
        problems += listener_problems(dev)
        dev["tcp"]["open"].sort(key=lambda p: p["port"])
        dev["tcp"]["filtered"].sort()
        dev["udp"]["open"].sort(key=lambda p: p["port"])
        dev["tcp"]["open_ports"] = [p["port"] for p in dev["tcp"]["open"]]
        dev["udp"]["open_ports"] = [p["port"] for p in dev["udp"]["open"]]
        both = set(dev["tcp"]["open_ports"]) & set(dev["tcp"]["filtered"])
        if both:
            problems.append(f"{name}: ports both open and filtered: {sorted(both)}")
        clash = (set(dev["tcp"]["open_ports"]) | set(dev["tcp"]["filtered"])) & set(PROBE_CLOSED_TCP)
        if clash:
            problems.append(f"{name}: PROBE_CLOSED_TCP ports in use: {sorted(clash)}")
        if name not in inv:
            problems.append(f"{name}: missing from {args.inventory}")
            continue
        i = inv[name]
        if i["address"] != dev["address"]:
            problems.append(f"{name}: inventory address {i['address']} != lab address {dev['address']}")
        if i["model"] != dev["model"]:
            problems.append(f"{name}: inventory model {i['model']} != lab model {dev['model']}")
        dev["declared_services"] = i["declared"]
        dev["inventory"] = {"credentials": i["credentials"], "evidence_keys": i["evidence_keys"]}
        dev["expected"] = {"S1.1-13": expected_s1_1_13(dev)}
    for name in inv:
        if name not in devices:
            problems.append(f"{args.inventory}: device {name} is not in the lab")
    if problems:
        sys.exit("gt.py: ground truth, listeners and inventory disagree:\n  " + "\n  ".join(problems))

    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "subnet": args.subnet,
        "bridge": {"name": args.bridge, "namespace": args.lan_ns},
        "scanner": {"namespace": args.scanner_ns, "address": args.scanner_ip},
        "inventory": os.path.relpath(args.inventory, os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))),
        "probe_closed_tcp": PROBE_CLOSED_TCP,
        "debug_tcp_ports": sorted(DEBUG_TCP_PORTS),
        "devices": [devices[n] for n in order],
    }


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--kexinit":
        print(json.dumps(kexinit(sys.argv[2], int(sys.argv[3]))))
        return
    ap = argparse.ArgumentParser()
    for a in ("records", "inventory", "scanner-ns", "scanner-ip", "lan-ns", "bridge", "subnet", "out"):
        ap.add_argument(f"--{a}", required=True)
    args = ap.parse_args()
    gt = build(args)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(gt, f, indent=2)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()

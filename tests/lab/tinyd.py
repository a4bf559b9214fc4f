#!/usr/bin/env python3
"""Tiny TCP responders for lab services Debian has no small daemon for.

  tinyd.py rtsp ADDR PORT SERVER-NAME   an RTSP/1.0 camera endpoint that
        answers OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER with
        200 and no authentication (DESCRIBE returns an SDP for an H.264
        stream; no media is ever sent)
  tinyd.py silent ADDR PORT             accepts, reads and discards, never
        answers; closes after 10 s idle or when the peer does (an unknown
        vendor service)

Standard library only; one thread per connection; every wait and loop is
bounded.
"""

import socketserver
import sys
import time

MAX_REQUEST = 8192
MAX_REQUESTS_PER_CONN = 50
IDLE_TIMEOUT = 10.0

SDP = (
    "v=0\r\n"
    "o=- 0 0 IN IP4 {addr}\r\n"
    "s=LAB-CAM-1 live\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "t=0 0\r\n"
    "m=video 0 RTP/AVP 96\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=control:trackID=1\r\n"
)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def read_request(sock):
    """Reads one request head (through CRLFCRLF) and any Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data:
        if len(data) > MAX_REQUEST:
            return None
        chunk = sock.recv(1024)
        if not chunk:
            return None
        data += chunk
    return data


class Rtsp(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(IDLE_TIMEOUT)
        addr = self.server.server_address[0]
        try:
            for _ in range(MAX_REQUESTS_PER_CONN):
                req = read_request(self.request)
                if req is None:
                    return
                text = req.decode("latin-1")
                first = text.split("\r\n", 1)[0].split()
                method = first[0] if first else ""
                uri = first[1] if len(first) > 1 else "*"
                cseq = "0"
                for line in text.split("\n")[1:]:
                    if line.lower().startswith("cseq:"):
                        cseq = line.split(":", 1)[1].strip()
                head = [f"CSeq: {cseq}", f"Server: {self.server.name}",
                        f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime())}"]
                body = ""
                status = "200 OK"
                if method == "OPTIONS":
                    head.append("Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER")
                elif method == "DESCRIBE":
                    body = SDP.format(addr=addr)
                    base = uri if uri.endswith("/") else uri + "/"
                    head += ["Content-Type: application/sdp", f"Content-Base: {base}"]
                elif method == "SETUP":
                    head += ["Session: 12345678;timeout=60",
                             "Transport: RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971"]
                elif method in ("PLAY", "TEARDOWN", "GET_PARAMETER"):
                    head.append("Session: 12345678")
                else:
                    status = "501 Not Implemented"
                if body:
                    head.append(f"Content-Length: {len(body)}")
                reply = f"RTSP/1.0 {status}\r\n" + "\r\n".join(head) + "\r\n\r\n" + body
                self.request.sendall(reply.encode("latin-1"))
        except OSError:
            return


class Silent(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(IDLE_TIMEOUT)
        try:
            for _ in range(1000):
                if not self.request.recv(4096):
                    return
        except OSError:
            return


def main(argv):
    if len(argv) < 4 or argv[1] not in ("rtsp", "silent"):
        sys.exit(__doc__)
    mode, addr, port = argv[1], argv[2], int(argv[3])
    handler = Rtsp if mode == "rtsp" else Silent
    server = Server((addr, port), handler)
    server.name = argv[4] if len(argv) > 4 else "lab"
    print(f"tinyd {mode} listening on {addr}:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv)

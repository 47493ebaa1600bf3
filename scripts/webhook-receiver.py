#!/usr/bin/env python3
"""A webhook receiver for the tests: the client's server, played for real.

    webhook-receiver.py LOG_FILE      prints "listening on http://127.0.0.1:PORT" once up

POST /control {"secret": "...", "fail_first": N} sets the signing secret to check and how many
deliveries to answer 500 before answering 200. Every other POST is a delivery: it is answered
(500 while failures remain, else 200) and appended to LOG_FILE as one JSON line with the
headers, the body, the status answered and whether the signature (HMAC-SHA256 of
"<timestamp>.<body>" under the secret, Python's own hmac) matched.
"""
import hashlib
import hmac
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = sys.argv[1]
state = {"secret": "", "fail_first": 0, "seen": 0}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/control":
            state.update(json.loads(body))
            self.send_response(204)
            self.end_headers()
            return
        state["seen"] += 1
        status = 500 if state["seen"] <= state["fail_first"] else 200
        timestamp = self.headers.get("X-Esteira-Timestamp", "")
        expected = "sha256=" + hmac.new(state["secret"].encode(), (timestamp + ".").encode() + body, hashlib.sha256).hexdigest()
        record = {
            "path": self.path,
            "event": self.headers.get("X-Esteira-Event"),
            "delivery": self.headers.get("X-Esteira-Delivery"),
            "signature_ok": hmac.compare_digest(expected, self.headers.get("X-Esteira-Signature", "")),
            "status": status,
            "body": json.loads(body),
        }
        with open(LOG, "a") as f:
            f.write(json.dumps(record) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()

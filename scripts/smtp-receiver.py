#!/usr/bin/env python3
"""An SMTP server for the tests: the agency's mail relay, played for real by aiosmtpd.

    smtp-receiver.py LOG_FILE CERT_DIR [--fail-first N] [--user U --password P]

Prints "listening on smtp://127.0.0.1:PORT" once up. It offers STARTTLS with a self-signed
certificate for "localhost" and 127.0.0.1, written to CERT_DIR/cert.pem (the client must trust it),
requires STARTTLS before anything else, and, with --user, requires AUTH with those credentials.

Each recipient's first N messages are answered "451 try again later"; a recipient whose address
starts with "recusado" is refused at RCPT with 550. Every DATA is appended to LOG_FILE as one
JSON line: the envelope, whether TLS and AUTH were used, the status answered and the message as
Python's own e-mail parser reads it (subject decoded, text and HTML bodies, attachments).
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import socket
import ssl
import subprocess
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

parser = argparse.ArgumentParser()
parser.add_argument("log")
parser.add_argument("cert_dir")
parser.add_argument("--fail-first", type=int, default=0)
parser.add_argument("--user")
parser.add_argument("--password")
args = parser.parse_args()

os.makedirs(args.cert_dir, exist_ok=True)
cert = os.path.join(args.cert_dir, "cert.pem")
key = os.path.join(args.cert_dir, "key.pem")
subprocess.run(
    ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
     "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
    check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)


def log(record):
    with open(args.log, "a") as f:
        f.write(json.dumps(record) + "\n")


class Handler:
    def __init__(self):
        self.seen = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("recusado"):
            log({"refused": address, "tls": session.ssl is not None})
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rcpt = envelope.rcpt_tos[0]
        self.seen[rcpt] = self.seen.get(rcpt, 0) + 1
        status = 451 if self.seen[rcpt] <= args.fail_first else 250
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        text = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        attachments = [
            {"filename": part.get_filename(), "content_type": part.get_content_type(),
             "content": part.get_content() if part.get_content_maintype() == "text" else None}
            for part in msg.iter_attachments()
        ]
        log({
            "status": status,
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "auth": session.authenticated,
            "login": session.auth_data.decode() if isinstance(session.auth_data, bytes) else None,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "message_id": str(msg["Message-ID"]),
            "date": str(msg["Date"]),
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
            "attachments": attachments,
            "received_at": time.time(),
        })
        return "451 4.3.0 Try again later" if status == 451 else "250 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and args.user is not None
          and auth_data.login.decode() == args.user and auth_data.password.decode() == args.password)
    return AuthResult(success=ok, auth_data=auth_data.login if ok else None)


probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
controller = Controller(
    Handler(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
    authenticator=authenticator if args.user else None, auth_required=bool(args.user), auth_require_tls=True)
controller.start()
print(f"listening on smtp://127.0.0.1:{port}", flush=True)
try:
    asyncio.run(asyncio.Event().wait())
finally:
    controller.stop()

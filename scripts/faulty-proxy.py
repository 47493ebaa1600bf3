#!/usr/bin/env python3
"""A TCP proxy that a test can cut and restore, standing in for a network fault.

    faulty-proxy.py TARGET_HOST:TARGET_PORT

Listens on a free loopback port and prints it on the first line. SIGUSR1 cuts: open connections
are reset, and so is every new one as soon as it is accepted. SIGUSR2 restores. Used by the
fault tests to make the S3-compatible server unreachable for a while.

The listening socket stays open through a cut. Closing it (new connections refused) left its
port free for the cut's length, and on a busy machine an outgoing connection could take it as
its local port: listening again then failed, the proxy died, and the outage never ended.
"""
import os, select, signal, socket, sys

target_host, target_port = sys.argv[1].rsplit(":", 1)
target = (target_host, int(target_port))

def listen():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    return s

# A parent may have started us with signals blocked (posix_spawn passes its mask on).
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGINT})
signal.signal(signal.SIGTERM, signal.SIG_DFL)

server = listen()
port = server.getsockname()[1]
print(port, flush=True)
pairs = {}  # socket -> its peer
cut = False
want_cut = False
want_restore = False

def on_cut(*_):
    global want_cut
    want_cut = True

def on_restore(*_):
    global want_restore
    want_restore = True

signal.signal(signal.SIGUSR1, on_cut)
signal.signal(signal.SIGUSR2, on_restore)

def drop(s):
    peer = pairs.pop(s, None)
    for x in (s, peer):
        if x is None:
            continue
        pairs.pop(x, None)
        try:
            x.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        x.close()

while True:
    if want_cut and not cut:
        want_cut = False
        cut = True
        for s in list(pairs):
            drop(s)
    if want_restore and cut:
        want_restore = False
        cut = False
    watch = list(pairs) + [server]
    try:
        ready, _, _ = select.select(watch, [], [], 0.1)
    except (InterruptedError, ValueError, OSError):
        continue
    for s in ready:
        if s is server:
            try:
                client, _ = server.accept()
            except OSError:
                continue
            if cut:
                drop(client)
                continue
            try:
                upstream = socket.create_connection(target)
            except OSError:
                client.close()
                continue
            pairs[client] = upstream
            pairs[upstream] = client
            continue
        if s not in pairs:
            continue
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if not data:
            drop(s)
            continue
        try:
            pairs[s].sendall(data)
        except OSError:
            drop(s)

#!/usr/bin/env python3
"""A TCP proxy that a test can cut and restore, standing in for a network fault.

    faulty-proxy.py TARGET_HOST:TARGET_PORT [--heal-after RESETS SECONDS]

Listens on a free loopback port and prints it on the first line. SIGUSR1 cuts: open connections
are reset, and so is every new one as soon as it is accepted. SIGUSR2 restores. With
--heal-after, a cut also ends by itself once it has reset at least RESETS new connections and
SECONDS have passed since the first of them. Used by the fault tests to make the S3-compatible
server unreachable for a while. What it does goes to standard error, a line per event.

Why a cut can heal by itself: a test that restores with SIGUSR2 decides the outage's length by
when it gets a turn to send the signal. On CI (2026-11-24) a test process busy with thirty suites
on two cores sent it so late that the worker's job had used its 40 attempts against the cut, and
the batch never finished. An outage counted in the client's own failed connections lasts as long
as the test means it to, whatever the test process is doing meanwhile.

The listening socket stays open through a cut. Closing it (new connections refused) left its
port free for the cut's length, and on a busy machine an outgoing connection could take it as
its local port: listening again then failed, the proxy died, and the outage never ended.
"""
import argparse, select, signal, socket, sys, time

arguments = argparse.ArgumentParser()
arguments.add_argument("target")
arguments.add_argument("--heal-after", nargs=2, type=float, metavar=("RESETS", "SECONDS"))
options = arguments.parse_args()
target_host, target_port = options.target.rsplit(":", 1)
target = (target_host, int(target_port))

def say(text):
    print(f"faulty-proxy {time.strftime('%H:%M:%S')}: {text}", file=sys.stderr, flush=True)

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
resets = 0          # new connections reset during the current cut
first_reset = None  # when the first of them was
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

def settle():
    """Carries out what the signals asked, and a heal that is due."""
    global cut, resets, first_reset, want_cut, want_restore
    if want_cut and not cut:
        want_cut = False
        cut = True
        resets, first_reset = 0, None
        say(f"cut; {len(pairs) // 2} open connections reset")
        for s in list(pairs):
            drop(s)
    if want_restore:
        want_restore = False
        if cut:
            cut = False
            say(f"restored on signal after {resets} resets")
    if cut and options.heal_after and first_reset is not None:
        heal_resets, heal_seconds = options.heal_after
        if resets >= heal_resets and time.monotonic() - first_reset >= heal_seconds:
            cut = False
            say(f"healed by itself after {resets} resets over {time.monotonic() - first_reset:.1f} s")

while True:
    settle()
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
            # A signal that came while select() waited has run its handler but not been
            # carried out: this connection may be the first the cut must reset.
            settle()
            if cut:
                drop(client)
                resets += 1
                if first_reset is None:
                    first_reset = time.monotonic()
                continue
            try:
                upstream = socket.create_connection(target)
            except OSError as error:
                say(f"cannot reach {options.target}: {error}")
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

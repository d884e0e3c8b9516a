#!/usr/bin/python3
"""A tiny OAuth2 token-introspection endpoint (RFC 7662) for the test Dovecot.

    /usr/bin/python3 scripts/oauth-introspect.py --port-file F --pid-file F [--token TOKEN=USER ...]

Listens on 127.0.0.1 on a port the kernel picks, writes that port to
--port-file (atomically, once it accepts connections) and its own PID to
--pid-file, and answers every POST or GET, whatever the path, with
{"active": true, "username": USER} for a known token and {"active": false}
otherwise. The token is read from a form field "token" (Dovecot's
introspection_mode = post or get) or from "Authorization: Bearer" (mode
auth). Known tokens: good-token-alice -> alice, good-token-bob -> bob, plus
any --token. Started and stopped by scripts/dovecot-sandbox; exits on
SIGTERM or SIGINT. Standard library only; tokens are never logged.
"""

import argparse
import http.server
import json
import os
import signal
import sys
import urllib.parse

DEFAULT_TOKENS = {"good-token-alice": "alice", "good-token-bob": "bob"}
MAX_BODY = 64 * 1024


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "oauth-introspect/1"

    def _token(self, body):
        fields = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if body:
            fields.update(urllib.parse.parse_qs(body.decode("utf-8", "replace")))
        if fields.get("token"):
            return fields["token"][0]
        auth = self.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return None

    def _answer(self, body):
        token = self._token(body)
        user = self.server.tokens.get(token) if token is not None else None
        reply = {"active": True, "username": user} if user else {"active": False}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)
        self.log_message("%s %s -> %s", self.command, self.path.split("?")[0],
                         "active user=" + user if user else "inactive")

    def do_GET(self):
        self._answer(b"")

    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.send_error(400, "bad Content-Length")
            return
        self._answer(self.rfile.read(length))

    def log_request(self, code="-", size="-"):
        pass  # _answer logs one line without the token (the path may hold it)

    def log_message(self, fmt, *args):
        sys.stderr.write("oauth-introspect: " + (fmt % args) + "\n")
        sys.stderr.flush()


def write_atomically(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--pid-file", required=True)
    parser.add_argument("--token", action="append", default=[], metavar="TOKEN=USER")
    args = parser.parse_args()

    tokens = dict(DEFAULT_TOKENS)
    for spec in args.token:
        token, sep, user = spec.partition("=")
        if not sep or not token or not user:
            parser.error("--token wants TOKEN=USER")
        tokens[token] = user

    # Like Dovecot, leave the caller's session, so a terminal's SIGINT or
    # SIGHUP does not stop us behind the sandbox's back; "down" does.
    try:
        os.setsid()
    except OSError:
        pass  # already a process-group leader (run by hand): fine

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.tokens = tokens
    write_atomically(args.pid_file, "%d\n" % os.getpid())
    # The socket listens already: the port file means "ready".
    write_atomically(args.port_file, "%d\n" % server.server_address[1])
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""A tiny OAuth 2.0 authorization server for tests: token introspection
(RFC 7662) for the test Dovecot and a token endpoint (RFC 6749) for the
connector.

    /usr/bin/python3 scripts/oauth-introspect.py --port-file F --pid-file F
        [--token TOKEN=USER ...] [--refresh-token TOKEN=USER ...]
        [--client ID=SECRET ...] [--expires-in SECONDS]

Listens on 127.0.0.1 on a port the kernel picks, writes that port to
--port-file (atomically, once it accepts connections) and its own PID to
--pid-file. Started and stopped by scripts/dovecot-sandbox and by the unit
tests of server/oauth; exits on SIGTERM or SIGINT. Standard library only;
tokens and secrets are never logged.

Paths:
  POST /token     grant_type=refresh_token (refresh_token, client_id,
                  client_secret unless the client is public, scope) or
                  grant_type=client_credentials (client_id, client_secret).
                  Client credentials may also come as HTTP Basic, or, for a
                  client registered with a certificate, as a JWT client
                  assertion (RFC 7523: client_assertion_type
                  urn:ietf:params:oauth:client-assertion-type:jwt-bearer,
                  client_assertion): RS256 signed by the certificate's key,
                  x5t its SHA-1 thumbprint, aud this /token URL, iss and sub
                  the client id, exp in the future (at most 1 h away), nbf
                  and iat not in the future, jti not seen before. RSA is
                  checked with python3-cryptography (Debian's package,
                  scripts/install-deps), imported only when an assertion
                  comes in. Answers
                  {"access_token", "token_type": "Bearer", "expires_in",
                  ["refresh_token" when rotating]} or an RFC 6749 error
                  ({"error", "error_description"}, HTTP 400 or 401).
                  Issued access tokens are valid for introspection until
                  they expire.
  POST /control   JSON settings, all optional:
                    "expires_in": seconds for new tokens (default 3600),
                    "rotate": true to issue a new refresh token each grant
                      (the old one then stops working),
                    "fail": "none" | "invalid_grant" | "invalid_client" |
                      "invalid_scope" | "server_error" (HTTP 503) |
                      "malformed" (HTML, not JSON) |
                      "no_access_token" (JSON without access_token),
                    "delay": seconds to wait before each /token answer,
                    "refresh_tokens": {TOKEN: USER} to add,
                    "revoke": [TOKEN] refresh tokens to forget,
                    "revoke_access_tokens": true to make every access
                      token issued so far inactive (revoked early),
                    "clients": {ID: SECRET or null for a public client},
                    "client_certificates": {ID: PEM certificate}: clients
                      that authenticate by assertion only,
                    "client_user": the user client-credentials tokens act
                      for (default alice),
                    "reset_stats": true.
                  Answers the resulting settings (without secrets).
  GET  /stats     {"grants", "refresh_token_grants",
                  "client_credentials_grants", "client_assertions" (those
                  accepted), "token_requests", "failures"}.
  anything else   introspection, as before: {"active": true, "username":
                  USER} for a known or issued, unexpired token, else
                  {"active": false}. The token is read from a form field
                  "token" (Dovecot's introspection_mode = post or get) or
                  from "Authorization: Bearer" (mode auth).

Defaults: access tokens good-token-alice -> alice, good-token-bob -> bob;
refresh tokens refresh-alice -> alice, refresh-bob -> bob; clients
test-client (secret test-secret), public-client (public), app-client
(secret app-secret).
"""

import argparse
import base64
import hashlib
import http.server
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.parse

DEFAULT_TOKENS = {"good-token-alice": "alice", "good-token-bob": "bob"}
DEFAULT_REFRESH_TOKENS = {"refresh-alice": "alice", "refresh-bob": "bob"}
DEFAULT_CLIENTS = {"test-client": "test-secret", "public-client": None,
                   "app-client": "app-secret"}
MAX_BODY = 64 * 1024
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = 3600
CLOCK_SKEW = 60
FAILURES = ("none", "invalid_grant", "invalid_client", "invalid_scope",
            "server_error", "malformed", "no_access_token")


class State:
    """Everything the endpoints share; every access holds the lock."""

    def __init__(self, tokens, refresh_tokens, clients, expires_in):
        self.lock = threading.Lock()
        self.tokens = dict(tokens)           # fixed access tokens -> user
        self.issued = {}                     # access token -> (user, expiry)
        self.refresh_tokens = dict(refresh_tokens)
        self.clients = dict(clients)
        self.client_certificates = {}        # client id -> PEM certificate
        self.seen_jti = set()
        self.client_user = "alice"
        self.expires_in = expires_in
        self.rotate = False
        self.fail = "none"
        self.delay = 0.0
        self.reset_stats()

    def reset_stats(self):
        self.stats = {"grants": 0, "refresh_token_grants": 0,
                      "client_credentials_grants": 0, "client_assertions": 0,
                      "token_requests": 0,
                      "failures": 0}

    def user_of(self, token):
        with self.lock:
            if token in self.tokens:
                return self.tokens[token]
            issued = self.issued.get(token)
            if issued is None:
                return None
            user, expiry = issued
            if time.monotonic() >= expiry:
                del self.issued[token]
                return None
            return user

    def settings(self):
        return {"expires_in": self.expires_in, "rotate": self.rotate,
                "fail": self.fail, "delay": self.delay,
                "client_user": self.client_user,
                "refresh_token_count": len(self.refresh_tokens),
                "clients": sorted(self.clients),
                "client_certificates": sorted(self.client_certificates)}


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "oauth-test-server/2"

    def _reply(self, code, data, content_type="application/json"):
        if isinstance(data, (dict, list)):
            data = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.send_error(400, "bad Content-Length")
            return None
        return self.rfile.read(length)

    # ---------------------------------------------------------- introspection
    def _introspect(self, body):
        fields = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if body:
            fields.update(urllib.parse.parse_qs(body.decode("utf-8", "replace")))
        token = None
        if fields.get("token"):
            token = fields["token"][0]
        else:
            auth = self.headers.get("Authorization", "")
            if auth[:7].lower() == "bearer ":
                token = auth[7:].strip()
        user = self.server.state.user_of(token) if token is not None else None
        self._reply(200, {"active": True, "username": user} if user else {"active": False})
        self.log_message("%s %s -> %s", self.command, self.path.split("?")[0],
                         "active user=" + user if user else "inactive")

    # ---------------------------------------------------------- token endpoint
    def _oauth_error(self, code, error, description):
        self._reply(code, {"error": error, "error_description": description})

    def _token(self, body):
        state = self.server.state
        form = {k: v[0] for k, v in
                urllib.parse.parse_qs(body.decode("utf-8", "replace")).items()}
        with state.lock:
            state.stats["token_requests"] += 1
            fail, delay = state.fail, state.delay
        if delay > 0:
            time.sleep(delay)
        grant = form.get("grant_type", "")
        if fail != "none":
            with state.lock:
                state.stats["failures"] += 1
            self.log_message("POST /token grant_type=%s -> injected %s", grant, fail)
            if fail == "invalid_grant":
                return self._oauth_error(400, "invalid_grant",
                                         "AADSTS70008: The refresh token has expired (test).")
            if fail == "invalid_client":
                return self._oauth_error(401, "invalid_client", "Client authentication failed (test).")
            if fail == "invalid_scope":
                return self._oauth_error(400, "invalid_scope", "The scope is not allowed (test).")
            if fail == "server_error":
                return self._oauth_error(503, "temporarily_unavailable", "The service is down (test).")
            if fail == "malformed":
                return self._reply(200, b"<html>not json</html>", "text/html")
            return self._reply(200, {"token_type": "Bearer", "expires_in": 3600})

        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                pair = base64.b64decode(auth[6:].strip()).decode()
                basic_id, _, basic_secret = pair.partition(":")
                client_id = urllib.parse.unquote_plus(basic_id)
                client_secret = urllib.parse.unquote_plus(basic_secret)
            except (ValueError, UnicodeDecodeError):
                return self._oauth_error(401, "invalid_client", "Malformed Basic credentials.")

        by_assertion = "client_assertion" in form or "client_assertion_type" in form
        if by_assertion:
            problem, asserted_id = self._check_assertion(form)
            if problem:
                with state.lock:
                    state.stats["failures"] += 1
                self.log_message("POST /token -> invalid_client (assertion: %s)", problem)
                return self._oauth_error(401, "invalid_client", "Client assertion refused: %s." % problem)
            client_id = asserted_id

        with state.lock:
            if by_assertion:
                # Authenticated by its certificate: a confidential client.
                known, expected = True, None
                state.stats["client_assertions"] += 1
            else:
                known = client_id in state.clients
                expected = state.clients.get(client_id)
            if not known or (expected is not None and client_secret != expected):
                state.stats["failures"] += 1
                self.log_message("POST /token -> invalid_client")
                return self._oauth_error(401, "invalid_client", "Unknown client or wrong secret.")
            answer = {"token_type": "Bearer", "expires_in": state.expires_in}
            if grant == "refresh_token":
                user = state.refresh_tokens.get(form.get("refresh_token", ""))
                if user is None:
                    state.stats["failures"] += 1
                    self.log_message("POST /token refresh_token -> invalid_grant")
                    return self._oauth_error(400, "invalid_grant",
                                             "The refresh token is unknown, expired or revoked.")
                if state.rotate:
                    del state.refresh_tokens[form["refresh_token"]]
                    new = "rt-" + secrets.token_urlsafe(18)
                    state.refresh_tokens[new] = user
                    answer["refresh_token"] = new
                state.stats["refresh_token_grants"] += 1
            elif grant == "client_credentials":
                if expected is None and not by_assertion:
                    state.stats["failures"] += 1
                    return self._oauth_error(401, "invalid_client",
                                             "A public client cannot use client_credentials.")
                user = state.client_user
                state.stats["client_credentials_grants"] += 1
            else:
                state.stats["failures"] += 1
                return self._oauth_error(400, "unsupported_grant_type",
                                         "grant_type must be refresh_token or client_credentials.")
            if form.get("scope"):
                answer["scope"] = form["scope"]
            token = "at-" + secrets.token_urlsafe(24)
            state.issued[token] = (user, time.monotonic() + state.expires_in)
            answer["access_token"] = token
            state.stats["grants"] += 1
        self.log_message("POST /token %s -> issued for %s (%ss)", grant, user, answer["expires_in"])
        self._reply(200, answer)

    def _check_assertion(self, form):
        """(problem or None, client id) for an RFC 7523 client assertion."""
        if form.get("client_assertion_type") != JWT_BEARER:
            return "client_assertion_type must be " + JWT_BEARER, None
        parts = form.get("client_assertion", "").split(".")
        if len(parts) != 3:
            return "not a compact JWS", None
        try:
            header = json.loads(b64url(parts[0]))
            claims = json.loads(b64url(parts[1]))
            signature = b64url(parts[2])
        except (ValueError, UnicodeDecodeError):
            return "not base64url JSON", None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            return "header or claims not a JSON object", None
        if header.get("alg") != "RS256":
            return "alg must be RS256", None
        client_id = claims.get("iss")
        if not isinstance(client_id, str) or claims.get("sub") != client_id:
            return "iss and sub must both be the client id", None
        if form.get("client_id") not in (None, client_id):
            return "client_id differs from the assertion's iss", None
        with self.server.state.lock:
            pem = self.server.state.client_certificates.get(client_id)
        if pem is None:
            return "no certificate registered for this client", None
        port = self.server.server_address[1]
        audiences = ("http://127.0.0.1:%d/token" % port, "http://localhost:%d/token" % port)
        if claims.get("aud") not in audiences:
            return "aud must be this token endpoint, %s" % audiences[0], None
        now = time.time()
        exp, nbf, iat = claims.get("exp"), claims.get("nbf", 0), claims.get("iat", 0)
        if not all(isinstance(v, (int, float)) for v in (exp, nbf, iat)):
            return "exp, nbf and iat must be numbers", None
        if exp <= now:
            return "expired (exp)", None
        if exp > now + MAX_ASSERTION_LIFETIME + CLOCK_SKEW:
            return "exp more than an hour away", None
        if nbf > now + CLOCK_SKEW or iat > now + CLOCK_SKEW:
            return "nbf or iat in the future", None
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            return "no jti", None
        try:
            # Debian's python3-cryptography; imported here so that the rest
            # of this server runs without it.
            from cryptography import x509
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding
        except ImportError:
            return "python3-cryptography is not installed on the test server", None
        try:
            cert = x509.load_pem_x509_certificate(pem.encode())
        except ValueError:
            return "the registered certificate does not parse", None
        der = cert.public_bytes(serialization.Encoding.DER)
        if header.get("x5t") != b64url_encode(hashlib.sha1(der).digest()):
            return "x5t is not the registered certificate's thumbprint", None
        if "x5t#S256" in header and header["x5t#S256"] != b64url_encode(hashlib.sha256(der).digest()):
            return "x5t#S256 is not the registered certificate's thumbprint", None
        try:
            cert.public_key().verify(signature, (parts[0] + "." + parts[1]).encode(),
                                     padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, TypeError, ValueError):
            return "bad signature", None
        with self.server.state.lock:
            if jti in self.server.state.seen_jti:
                return "jti replayed", None
            self.server.state.seen_jti.add(jti)
        return None, client_id

    def _control(self, body):
        state = self.server.state
        try:
            settings = json.loads(body or b"{}")
            if not isinstance(settings, dict):
                raise ValueError("not an object")
        except ValueError as e:
            return self._reply(400, {"error": "bad JSON: %s" % e})
        with state.lock:
            if "expires_in" in settings:
                state.expires_in = int(settings["expires_in"])
            if "rotate" in settings:
                state.rotate = bool(settings["rotate"])
            if "fail" in settings:
                if settings["fail"] not in FAILURES:
                    return self._reply(400, {"error": "fail must be one of %s" % (FAILURES,)})
                state.fail = settings["fail"]
            if "delay" in settings:
                state.delay = float(settings["delay"])
            if "client_user" in settings:
                state.client_user = str(settings["client_user"])
            state.refresh_tokens.update(settings.get("refresh_tokens", {}))
            for token in settings.get("revoke", []):
                state.refresh_tokens.pop(token, None)
            if settings.get("revoke_access_tokens"):
                state.issued.clear()
            state.clients.update(settings.get("clients", {}))
            state.client_certificates.update(settings.get("client_certificates", {}))
            if settings.get("reset_stats"):
                state.reset_stats()
            answer = state.settings()
        self.log_message("POST /control %s", sorted(settings))
        self._reply(200, answer)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/stats":
            with self.server.state.lock:
                stats = dict(self.server.state.stats)
            return self._reply(200, stats)
        self._introspect(b"")

    def do_POST(self):
        body = self._body()
        if body is None:
            return
        path = urllib.parse.urlsplit(self.path).path
        if path == "/token":
            return self._token(body)
        if path == "/control":
            return self._control(body)
        self._introspect(body)

    def log_request(self, code="-", size="-"):
        pass  # each path logs one line without tokens (the path may hold one)

    def log_message(self, fmt, *args):
        sys.stderr.write("oauth-introspect: " + (fmt % args) + "\n")
        sys.stderr.flush()


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def write_atomically(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def pairs(parser, specs, what):
    out = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        if not sep or not key:
            parser.error("%s wants KEY=VALUE" % what)
        out[key] = value
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--pid-file", required=True)
    parser.add_argument("--token", action="append", default=[], metavar="TOKEN=USER")
    parser.add_argument("--refresh-token", action="append", default=[], metavar="TOKEN=USER")
    parser.add_argument("--client", action="append", default=[], metavar="ID=SECRET",
                        help="an empty SECRET makes a public client")
    parser.add_argument("--expires-in", type=int, default=3600, metavar="SECONDS")
    args = parser.parse_args()

    tokens = dict(DEFAULT_TOKENS)
    tokens.update(pairs(parser, args.token, "--token"))
    refresh_tokens = dict(DEFAULT_REFRESH_TOKENS)
    refresh_tokens.update(pairs(parser, args.refresh_token, "--refresh-token"))
    clients = dict(DEFAULT_CLIENTS)
    clients.update({k: (v or None) for k, v in pairs(parser, args.client, "--client").items()})

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
    server.state = State(tokens, refresh_tokens, clients, args.expires_in)
    write_atomically(args.pid_file, "%d\n" % os.getpid())
    # The socket listens already: the port file means "ready".
    write_atomically(args.port_file, "%d\n" % server.server_address[1])
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

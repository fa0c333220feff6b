#!/usr/bin/env python3
"""A test eMSP: the OCPI 2.2.1 Sessions receiver interface a smart-charging platform offers.

Records every PUT/PATCH of /sessions/{cc}/{party}/{id} (one JSON line each: method, path, the
headers that matter, the body, when it arrived), keeps the sessions (PUT replaces, PATCH merges),
answers OCPI envelopes, and can require the OCPI token or the OAuth2 client-credentials flow
(POST /token) with an ApiKey. Faults on demand through a control file (JSON, read at every request):
  {"mode": "ok" | "down" | "5xx" | "slow" | "2001", "token": "ok" | "down", "slow_seconds": 3}
"down" drops the connection without an answer; "5xx" answers 503 with status_code 3000; "2001"
answers 400 with status_code 2001 (invalid or missing parameters); "slow" answers after a delay.
Used by make test (Tests/EndToEndTests/SessionPushTests.swift) and make demo. Loopback only.
"""
import argparse, base64, json, secrets, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, default=0)
p.add_argument("--record", required=True)
p.add_argument("--control")
p.add_argument("--token", help="require Authorization: Token base64(TOKEN)")
p.add_argument("--oauth2", help="CLIENT_ID:SECRET: require a bearer token from POST /token")
p.add_argument("--api-key", help="require ApiKey: KEY")
a = p.parse_args()
lock = threading.Lock()
issued = set()
sessions = {}


def control():
    if not a.control:
        return {}
    try:
        with open(a.control) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def now_text():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def envelope(self, status, code, message):
        self.answer(status, {"status_code": code, "status_message": message, "timestamp": now_text()})

    def drop(self):
        self.close_connection = True
        self.connection.close()

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_POST(self):
        raw = self.body().decode()
        if self.path != "/token" or not a.oauth2:
            return self.envelope(404, 2000, "no such endpoint")
        if control().get("token") == "down":
            return self.answer(503, {"error": "temporarily_unavailable"})
        form = dict(pair.split("=", 1) for pair in raw.split("&") if "=" in pair)
        client, secret = a.oauth2.split(":", 1)
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != client or form.get("client_secret") != secret:
            return self.answer(401, {"error": "invalid_client"})
        token = secrets.token_hex(16)
        with lock:
            issued.add(token)
        self.answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        if a.token and auth != "Token " + base64.b64encode(a.token.encode()).decode():
            return False
        if a.oauth2:
            with lock:
                if not (auth.startswith("Bearer ") and auth[7:] in issued):
                    return False
        if a.api_key and self.headers.get("ApiKey") != a.api_key:
            return False
        return True

    def session(self, method):
        raw = self.body()
        mode = control()
        if mode.get("mode") == "down":
            return self.drop()
        if mode.get("mode") == "slow":
            time.sleep(float(mode.get("slow_seconds", 3)))
        if not self.path.startswith("/ocpi/2.2.1/sessions/"):
            return self.envelope(404, 2000, "unknown path")
        if not self.authorized():
            return self.envelope(401, 2000, "not authorized")
        if mode.get("mode") == "5xx":
            return self.envelope(503, 3000, "server error")
        if mode.get("mode") == "2001":
            return self.envelope(400, 2001, "invalid or missing parameters")
        try:
            body = json.loads(raw)
        except ValueError:
            return self.envelope(400, 2001, "not JSON")
        record = {
            "method": method, "path": self.path, "received_ms": int(time.time() * 1000), "body": body,
            "request_id": self.headers.get("X-Request-ID"), "correlation_id": self.headers.get("X-Correlation-ID"),
        }
        with lock:
            sid = self.path.rsplit("/", 1)[-1]
            if method == "PUT":
                sessions[sid] = body
            elif sid in sessions:
                sessions[sid].update(body)
            else:
                return self.envelope(404, 2003, "unknown session")
            with open(a.record, "a") as f:
                f.write(json.dumps(record) + "\n")
        self.envelope(200, 1000, "Success")

    def do_PUT(self):
        self.session("PUT")

    def do_PATCH(self):
        self.session("PATCH")


# What it accepted before a restart (an eMSP keeps its sessions when it comes back).
try:
    with open(a.record) as f:
        for line in f:
            done = json.loads(line)
            sid = done["path"].rsplit("/", 1)[-1]
            if done["method"] == "PUT":
                sessions[sid] = done["body"]
            elif sid in sessions:
                sessions[sid].update(done["body"])
except (OSError, ValueError):
    pass

server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
print("listening on %d" % server.server_address[1], flush=True)
server.serve_forever()

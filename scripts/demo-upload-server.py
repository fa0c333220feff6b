#!/usr/bin/env python3
"""make demo: a back office's log upload server on loopback.

Accepts PUT /any/path/NAME (the body is the file) and multipart/form-data POST with the file in
the field "file" (what cs-companiond sends with logs.http_method: post), stores the file as
DIRECTORY/NAME and prints one line per upload. Standard library only.
"""
import argparse
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--directory", required=True)
args = parser.parse_args()
os.makedirs(args.directory, exist_ok=True)


def store(name, content):
    name = os.path.basename(name)
    if not name:
        return None
    with open(os.path.join(args.directory, name), "wb") as f:
        f.write(content)
    return name


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def answer(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_PUT(self):
        content = self.body()
        name = store(self.path.split("?")[0], content)
        print("PUT %s: %d bytes stored as %s" % (self.path, len(content), name), flush=True)
        self.answer(201 if name else 400)

    def do_POST(self):
        content = self.body()
        ctype = self.headers.get("Content-Type", "")
        if "boundary=" not in ctype:
            self.answer(400)
            return
        boundary = ("--" + ctype.split("boundary=")[1].strip('"')).encode()
        stored = []
        for part in content.split(boundary):
            head, sep, data = part.partition(b"\r\n\r\n")
            if not sep or b'name="file"' not in head or b'filename="' not in head:
                continue
            filename = head.split(b'filename="')[1].split(b'"')[0].decode(errors="replace")
            data = data[:-2] if data.endswith(b"\r\n") else data
            if store(filename, data):
                stored.append("%s (%d bytes)" % (os.path.basename(filename), len(data)))
        print("POST %s: stored %s" % (self.path, ", ".join(stored) or "nothing"), flush=True)
        self.answer(200 if stored else 400)


try:
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
except KeyboardInterrupt:
    sys.exit(0)

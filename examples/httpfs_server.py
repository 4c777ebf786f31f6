#!/usr/bin/env python3
"""A small JSON API to try examples/httpfs.lua on (python3's standard library only).

    python3 examples/httpfs_server.py [--port 8000] [--delay 2] [--background]
                                      [--missing PATH]... [--broken PATH]...

Listens on 127.0.0.1 only. It serves one nested JSON document, DATA below: GET /
answers all of it, GET /users/alice the member "users", then "alice" (each path
component percent-decoded; an array's members are 1, 2, ...), as httpfs expects of an
API. A path that names nothing is a 404; anything below /slow is answered after
--delay seconds (default 2), to show that a slow request does not stall the mount.
--missing PATH answers 404 for PATH and below although its parent lists it (a resource
that vanished), --broken PATH answers 500 there (a failing backend).

--background: fork once listening (the parent exits 0 then, so a caller knows the port
is open) and serve in the child, in the caller's process group — `flu test` stops that
group when its battery ends. Stop a foreground server with Ctrl-C.
"""

import argparse
import json
import os
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DATA = {
    "name": "httpfs demo",
    "version": 3,
    "pi": 3.14159,
    "open": True,
    "motto": None,
    "users": {
        "alice": {"name": "Alice", "email": "alice@example.org", "admin": True,
                  "languages": ["lua", "rust"]},
        "bob": {"name": "Bob", "email": "bob@example.org", "admin": False,
                "languages": []},
    },
    "posts": [
        {"title": "Hello", "body": "First post.\nTwo lines.", "tags": ["intro"]},
        {"title": "Caf\u00e9 \u2615", "body": "Unicode is fine: \u00e9\u00e8 \U0001f600",
         "tags": []},
    ],
    "big": {"text": "".join("line %05d of a longer value\n" % i for i in range(3000))},
    "slow": {"answer": 42, "note": "this took a while"},
}

DELAY = 2.0
MISSING_PATHS = []
BROKEN_PATHS = []


MISSING = object()


def lookup(path):
    """The value at an URL path, or MISSING."""
    node = DATA
    for part in [p for p in path.split("/") if p]:
        part = urllib.parse.unquote(part)
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and 1 <= int(part) <= len(node):
            node = node[int(part) - 1]
        else:
            return MISSING
    return node


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path.strip("/").split("/")[0] == "slow":
            time.sleep(DELAY)
        value = lookup(path)
        under = lambda prefixes: any(
            (path.strip("/") + "/").startswith(p.strip("/") + "/") for p in prefixes)
        if under(BROKEN_PATHS):
            body, status = b'{"error": "broken on purpose"}', 500
        elif value is MISSING or under(MISSING_PATHS):
            body, status = b'{"error": "not found"}', 404
        else:
            body, status = json.dumps(value, ensure_ascii=False).encode(), 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("httpfs_server: %s\n" % (fmt % args))


def main():
    global DELAY
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--delay", type=float, default=DELAY)
    p.add_argument("--background", action="store_true")
    p.add_argument("--missing", action="append", default=[], metavar="PATH")
    p.add_argument("--broken", action="append", default=[], metavar="PATH")
    a = p.parse_args()
    DELAY = a.delay
    MISSING_PATHS.extend(a.missing)
    BROKEN_PATHS.extend(a.broken)
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    if a.background:
        if os.fork() != 0:
            os._exit(0)  # the child serves; the port is already open
        # Detach from the caller's output (it may wait for the end of it).
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
    else:
        print("serving http://127.0.0.1:%d/ (Ctrl-C stops)" % a.port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

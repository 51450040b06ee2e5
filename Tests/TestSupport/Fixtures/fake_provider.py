#!/usr/bin/env python3
"""A scripted stand-in for an LLM provider's HTTP API, for tests without the internet.

usage: fake_provider.py SCRIPT.json REQUESTS.jsonl

SCRIPT.json is a list of steps, one per request, in order:
  {"status": 200, "headers": {"retry-after": "2"}, "body": {...}}   answer with this JSON body
  {"action": "drop"}                                                 close the connection without an answer
Every request is appended to REQUESTS.jsonl as {"path", "headers" (lower-case names), "body"}.
When the script is exhausted the server answers 500 {"error": {"message": "script exhausted"}}.
The server prints "PORT <n>" once it listens on 127.0.0.1, and exits when its standard input closes
(so it never outlives the test that started it).
"""
import json
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

script = json.load(open(sys.argv[1]))
log_path = sys.argv[2]
step_index = [0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        raw = self.rfile.read(length).decode("utf-8")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        with open(log_path, "a") as log:
            log.write(json.dumps({"path": self.path,
                                  "headers": {k.lower(): v for k, v in self.headers.items()},
                                  "body": body}) + "\n")
        if step_index[0] < len(script):
            step = script[step_index[0]]
        else:
            step = {"status": 500, "body": {"error": {"message": "script exhausted"}}}
        step_index[0] += 1
        if step.get("action") == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        payload = json.dumps(step.get("body", {})).encode("utf-8")
        self.send_response(step.get("status", 200))
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        for name, value in step.get("headers", {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def exit_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
server = HTTPServer(("127.0.0.1", 0), Handler)
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()

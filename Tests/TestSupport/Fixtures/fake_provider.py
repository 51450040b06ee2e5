#!/usr/bin/env python3
"""A scripted stand-in for an LLM provider's HTTP API that checks requests the way the real services do,
for tests without the internet.

usage: fake_provider.py SCRIPT.json REQUESTS.jsonl

SCRIPT.json is either a list of steps, or {"steps": [...], "options": {...}}. A step answers one request, in order:
  {"status": 200, "headers": {"retry-after": "2"}, "body": {...}}   answer with this JSON body
  {"action": "drop"}                                                 close the connection without an answer
  {"action": "hang", "seconds": 30}                                  accept, then answer nothing for that long
Options:
  "reject_fields": ["max_tokens"]   answer 400 as OpenAI's reasoning models do when a request carries one of them
  "emulate_usage": true             fill each 200 answer's `usage` from the request itself (about 4 bytes a
                                    token), with prompt caching emulated as each provider documents it
Every request is appended to REQUESTS.jsonl as {"path", "headers" (lower-case names), "body", "rejected"}.
Before a step is used the request is validated (see `anthropic_problems` and `openai_problems`, written from
the public API references); an invalid request gets the provider's 400 error and does not use up a step.
When the script is exhausted the server answers 500 {"error": {"message": "script exhausted"}}.
The server prints "PORT <n>" once it listens on 127.0.0.1, and exits when its standard input closes
(so it never outlives the test that started it).
"""
import hashlib
import json
import os
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

loaded = json.load(open(sys.argv[1]))
script = loaded if isinstance(loaded, list) else loaded.get("steps", [])
options = {} if isinstance(loaded, list) else loaded.get("options", {})
log_path = sys.argv[2]
lock = threading.Lock()
step_index = [0]
anthropic_cache = set()      # hashes of prefixes written to Anthropic's prompt cache
openai_prompts = []          # earlier prompts, as lists of unit hashes, for OpenAI's automatic prefix cache

TOOL_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def blank(text):
    return not isinstance(text, str) or text.strip() == ""


# ---------------------------------------------------------------- Anthropic Messages API (docs.anthropic.com)

def anthropic_problems(headers, body):
    """What the Messages API would answer 400 (or 401) for; None when the request is valid."""
    if not headers.get("x-api-key"):
        return 401, "authentication_error", "x-api-key header is required"
    if not headers.get("anthropic-version"):
        return 400, "invalid_request_error", "anthropic-version: header is required"
    if not isinstance(body, dict):
        return 400, "invalid_request_error", "the body is not a JSON object"
    if not isinstance(body.get("model"), str):
        return 400, "invalid_request_error", "model: Field required"
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        return 400, "invalid_request_error", "max_tokens: Field required (a positive integer)"
    breakpoints = 0
    system = body.get("system")
    if isinstance(system, list):
        for i, block in enumerate(system):
            if block.get("type") != "text" or blank(block.get("text")):
                return 400, "invalid_request_error", "system.%d: text content blocks must contain non-whitespace text" % i
            breakpoints += "cache_control" in block
    elif system is not None and not isinstance(system, str):
        return 400, "invalid_request_error", "system: Input should be a valid string or list"
    for i, tool in enumerate(body.get("tools", [])):
        if not TOOL_NAME.match(str(tool.get("name", ""))):
            return 400, "invalid_request_error", "tools.%d.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'" % i
        if not isinstance(tool.get("input_schema"), dict) or tool["input_schema"].get("type") != "object":
            return 400, "invalid_request_error", "tools.%d.input_schema: type must be object" % i
        breakpoints += "cache_control" in tool
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return 400, "invalid_request_error", "messages: at least one message is required"
    if messages[0].get("role") != "user":
        return 400, "invalid_request_error", "messages: first message must use the \"user\" role"
    pending_tool_uses = []
    for i, message in enumerate(messages):
        role = message.get("role")
        if role not in ("user", "assistant"):
            return 400, "invalid_request_error", "messages.%d.role: Input should be 'user' or 'assistant'" % i
        if i > 0 and messages[i - 1].get("role") == role:
            return 400, "invalid_request_error", "messages: roles must alternate between \"user\" and \"assistant\""
        content = message.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list) or (not content and i < len(messages) - 1):
            return 400, "invalid_request_error", "messages.%d: all messages must have non-empty content except for the optional final assistant message" % i
        results = []
        seen_other = False
        for j, block in enumerate(content):
            kind = block.get("type")
            breakpoints += "cache_control" in block
            if kind == "text":
                if blank(block.get("text")):
                    return 400, "invalid_request_error", "messages.%d.content.%d: text content blocks must contain non-whitespace text" % (i, j)
                seen_other = True
            elif kind == "tool_use":
                if role != "assistant":
                    return 400, "invalid_request_error", "messages.%d.content.%d: tool_use blocks are only allowed in assistant messages" % (i, j)
                if not TOOL_ID.match(str(block.get("id", ""))):
                    return 400, "invalid_request_error", "messages.%d.content.%d.id: String should match pattern '^[a-zA-Z0-9_-]+$'" % (i, j)
                if not isinstance(block.get("input"), dict):
                    return 400, "invalid_request_error", "messages.%d.content.%d.input: Input should be a valid dictionary" % (i, j)
            elif kind == "tool_result":
                if role != "user":
                    return 400, "invalid_request_error", "messages.%d.content.%d: tool_result blocks are only allowed in user messages" % (i, j)
                if seen_other:
                    return 400, "invalid_request_error", "messages.%d: tool_result blocks must come first in the content" % i
                if block.get("is_error") and blank(block.get("content")):
                    return 400, "invalid_request_error", "messages.%d.content.%d: content cannot be empty if `is_error` is true" % (i, j)
                results.append(block.get("tool_use_id"))
            else:
                return 400, "invalid_request_error", "messages.%d.content.%d.type: unknown block type %r" % (i, j, kind)
        if role == "user":
            missing = [t for t in pending_tool_uses if t not in results]
            if missing:
                return 400, "invalid_request_error", "messages.%d: `tool_use` ids were found without `tool_result` blocks immediately after: %s" % (i, ", ".join(missing))
            stray = [r for r in results if r not in pending_tool_uses]
            if stray:
                return 400, "invalid_request_error", "messages.%d: unexpected `tool_use_id` found in `tool_result` blocks: %s" % (i, ", ".join(map(str, stray)))
            pending_tool_uses = []
        else:
            pending_tool_uses = [b.get("id") for b in content if b.get("type") == "tool_use"]
    if messages[-1].get("role") == "assistant":
        last = messages[-1]["content"]
        if isinstance(last, list) and last and last[-1].get("type") == "text" and last[-1]["text"] != last[-1]["text"].rstrip():
            return 400, "invalid_request_error", "messages: final assistant content cannot end with trailing whitespace"
    if breakpoints > 4:
        return 400, "invalid_request_error", "A maximum of 4 blocks with cache_control may be provided. Found %d." % breakpoints
    return None


def units_of(parts):
    """(hash of the prefix ending at each unit, tokens of that prefix, whether the unit is a cache breakpoint)."""
    out = []
    digest = hashlib.sha256()
    tokens = 0
    for part in parts:
        marked = isinstance(part, dict) and "cache_control" in part
        clean = {k: v for k, v in part.items() if k != "cache_control"} if isinstance(part, dict) else part
        text = json.dumps(clean, sort_keys=True)
        digest.update(text.encode())
        tokens += max(1, len(text) // 4)
        out.append((digest.hexdigest(), tokens, marked))
    return out


def anthropic_usage(body):
    """Prompt caching as documented: the prefix runs tools, system, messages; a breakpoint writes the prefix
    up to it (5-minute cache, at least 1,024 tokens) and a later request reads the longest cached prefix."""
    parts = list(body.get("tools", []))
    system = body.get("system")
    parts += system if isinstance(system, list) else ([{"type": "text", "text": system}] if system else [])
    for message in body["messages"]:
        content = message["content"]
        content = [{"type": "text", "text": content}] if isinstance(content, str) else content
        parts += [dict(block, _role=message["role"]) for block in content]
    units = units_of(parts)
    total = units[-1][1] if units else 0
    read = max([t for h, t, _ in units if h in anthropic_cache] or [0])
    marked = [(h, t) for h, t, m in units if m and t >= 1024]
    written = max([t for _, t in marked] or [0])
    write = max(0, written - read)
    for h, _ in marked:
        anthropic_cache.add(h)
    return {"input_tokens": total - read - write, "cache_creation_input_tokens": write, "cache_read_input_tokens": read}


# ---------------------------------------------------------------- OpenAI Chat Completions (platform.openai.com)

def openai_problems(headers, body):
    """What the Chat Completions API (and vLLM / llama.cpp's server, which parse earlier tool calls) would
    answer 400 for; None when the request is valid."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return 400, "invalid_request_error", "you must provide a model parameter"
    for field in options.get("reject_fields", []):
        if field in body:
            other = "max_completion_tokens" if field == "max_tokens" else "max_tokens"
            return 400, "invalid_request_error", "Unsupported parameter: '%s' is not supported with this model. Use '%s' instead." % (field, other)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return 400, "invalid_request_error", "[] is too short - 'messages'"
    pending = []
    for i, message in enumerate(messages):
        role = message.get("role")
        content = message.get("content")
        if role not in ("system", "developer", "user", "assistant", "tool"):
            return 400, "invalid_request_error", "Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', 'tool'." % role
        if role != "tool" and pending:
            return 400, "invalid_request_error", "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: %s" % ", ".join(pending)
        if role == "assistant":
            calls = message.get("tool_calls") or []
            if content is None and not calls:
                return 400, "invalid_request_error", "Invalid value for 'messages[%d].content': expected a string, got null." % i
            for j, call in enumerate(calls):
                function = call.get("function", {})
                if call.get("type") != "function" or not isinstance(call.get("id"), str) or not function.get("name"):
                    return 400, "invalid_request_error", "messages[%d].tool_calls[%d]: id, type 'function' and function.name are required" % (i, j)
                if not isinstance(function.get("arguments"), str):
                    return 400, "invalid_request_error", "Invalid type for 'messages[%d].tool_calls[%d].function.arguments': expected a string" % (i, j)
                try:  # vLLM and llama.cpp's server parse the arguments of earlier calls to render the chat template
                    if not isinstance(json.loads(function["arguments"]), dict):
                        raise ValueError("not an object")
                except ValueError as error:
                    return 400, "invalid_request_error", "messages[%d].tool_calls[%d].function.arguments: Failed to parse tool call arguments as JSON: %s" % (i, j, error)
            pending = [call["id"] for call in calls]
        elif role == "tool":
            if message.get("tool_call_id") not in pending:
                return 400, "invalid_request_error", "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'."
            pending.remove(message["tool_call_id"])
            if not isinstance(content, str):
                return 400, "invalid_request_error", "Invalid type for 'messages[%d].content': expected a string." % i
        elif not (isinstance(content, str) or isinstance(content, list)):
            return 400, "invalid_request_error", "Invalid type for 'messages[%d].content': expected one of a string or array of objects, but got %s instead." % (i, "null" if content is None else type(content).__name__)
    if pending:
        return 400, "invalid_request_error", "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: %s" % ", ".join(pending)
    for i, tool in enumerate(body.get("tools", [])):
        if tool.get("type") != "function" or not TOOL_NAME.match(str(tool.get("function", {}).get("name", ""))):
            return 400, "invalid_request_error", "Invalid 'tools[%d].function.name'" % i
    return None


def openai_usage(body):
    """OpenAI's automatic prompt caching: prompts of 1,024 tokens or more; the longest prefix seen before,
    in steps of 128 tokens, is read from the cache."""
    units = units_of(list(body.get("tools", [])) + body["messages"])
    total = units[-1][1] if units else 0
    cached = 0
    for earlier in openai_prompts:
        for (h, t, _), e in zip(units, earlier):
            if h != e:
                break
            cached = max(cached, t)
    openai_prompts.append([h for h, _, _ in units])
    cached = (cached // 128) * 128 if total >= 1024 else 0
    return {"prompt_tokens": total, "completion_tokens": 20, "total_tokens": total + 20,
            "prompt_tokens_details": {"cached_tokens": cached}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=None):
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        raw = self.rfile.read(length).decode("utf-8")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        headers = {k.lower(): v for k, v in self.headers.items()}
        anthropic = self.path.endswith("/messages")
        problem = (anthropic_problems if anthropic else openai_problems)(headers, body)
        with lock:
            with open(log_path, "a") as log:
                log.write(json.dumps({"path": self.path, "headers": headers, "body": body,
                                      "rejected": problem[2] if problem else None}) + "\n")
            if problem:
                step = None
            elif step_index[0] < len(script):
                step = script[step_index[0]]
                step_index[0] += 1
            else:
                step = {"status": 500, "body": {"error": {"message": "script exhausted"}}}
                step_index[0] += 1
            usage = None
            if step and step.get("status", 200) == 200 and options.get("emulate_usage") and "action" not in step:
                usage = anthropic_usage(body) if anthropic else openai_usage(body)
        if problem:
            status, kind, message = problem
            error = {"type": "error", "error": {"type": kind, "message": message}} if anthropic \
                else {"error": {"message": message, "type": kind, "param": None, "code": None}}
            self.answer(status, error)
            return
        if step.get("action") == "hang":
            time.sleep(step.get("seconds", 30))
        if step.get("action") in ("drop", "hang"):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        answer = step.get("body", {})
        if usage is not None:
            answer = dict(answer, usage=dict(answer.get("usage", {}), **usage))
            if not anthropic:
                answer["usage"]["completion_tokens"] = step.get("body", {}).get("usage", {}).get("completion_tokens", 20)
        self.answer(step.get("status", 200), answer, step.get("headers"))


def exit_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
ThreadingHTTPServer.daemon_threads = True
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()

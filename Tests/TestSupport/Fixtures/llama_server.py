#!/usr/bin/env python3
"""llama.cpp's OpenAI-compatible HTTP server (the PyPI wheel xllamacpp) on 127.0.0.1, for the test that runs an
LLM researcher against a real local server.

usage: llama_server.py MODEL.gguf

Prints "PORT <n>" once the model is loaded and the server listens, and exits when its standard input closes (so
it never outlives the test that started it). The model's own chat template is used, as a user's server would.
"""
import os
import sys
import threading

import xllamacpp

params = xllamacpp.CommonParams()
params.model.path = sys.argv[1]
params.use_jinja = True          # the GGUF's Jinja chat template, which is what renders `tools`
params.hostnames = ["127.0.0.1"]
params.port = 0                  # any free port; the server reports the one it took
params.n_ctx = 16384
params.n_parallel = 1
params.cpuparams.n_threads = params.cpuparams_batch.n_threads = os.cpu_count() or 2
server = xllamacpp.Server(params)   # returns once the model is loaded and the HTTP threads listen
address = str(server.listening_address)
print("PORT %s" % address.rstrip("/").rsplit(":", 1)[-1], flush=True)
sys.stdin.read()
os._exit(0)

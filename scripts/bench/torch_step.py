#!/usr/bin/env python3
"""PyTorch eager's side of autoresearch-bench: times nanoGPT training steps on request.

The model is nanoGPT's (karpathy/nanoGPT, model.py; bias=False, dropout 0): token and learned position
embeddings, pre-LayerNorm blocks with one fused q|k|v projection (c_attn), causal scaled-dot-product
attention, a GELU MLP of width mlp_ratio * C, a final LayerNorm and the head tied to the token embedding;
the loss is cross-entropy, the optimizer AdamW (lr 1e-3, weight decay 0.1 on every parameter, as the
Swift side). Same shapes, same random tokens' distribution, same step as `autoresearch-bench`.

Protocol (JSON lines): on start it prints {"torch": version, "threads": n, "blas": ...}. Each request on
stdin is {"config": {"layers", "heads", "width", "context", "batch", "mlp_ratio"}, "seconds": S}; the answer
is {"steps": n, "seconds": elapsed, "tokens_per_second": x}. The first request of a config builds the
model and warms it up (3 steps, not timed). EOF ends it.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = 256


class Block(nn.Module):
    def __init__(self, width, heads, mlp_ratio):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width, bias=False)
        self.c_attn = nn.Linear(width, 3 * width, bias=False)
        self.attn_proj = nn.Linear(width, width, bias=False)
        self.ln_2 = nn.LayerNorm(width, bias=False)
        self.c_fc = nn.Linear(width, mlp_ratio * width, bias=False)
        self.mlp_proj = nn.Linear(mlp_ratio * width, width, bias=False)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.attn_proj(y.transpose(1, 2).contiguous().view(b, t, c))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class NanoGPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        width, layers = cfg["width"], cfg["layers"]
        self.wte = nn.Embedding(VOCAB, width)
        self.wpe = nn.Embedding(cfg["context"], width)
        self.blocks = nn.ModuleList(Block(width, cfg["heads"], cfg["mlp_ratio"]) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width, bias=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith("_proj.weight") else 0.02
                nn.init.normal_(p, mean=0.0, std=std)

    def forward(self, idx, targets):
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(t))
        for block in self.blocks:
            x = block(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)
        return F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1))


class Runner:
    def __init__(self, cfg):
        torch.manual_seed(42)
        self.model = NanoGPT(cfg)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-3, weight_decay=0.1)
        tokens = torch.randint(0, VOCAB, (cfg["batch"] * cfg["context"] + 1,))
        self.x = tokens[:-1].view(cfg["batch"], cfg["context"])
        self.y = tokens[1:].view(cfg["batch"], cfg["context"])
        self.tokens = cfg["batch"] * cfg["context"]
        for _ in range(3):
            self.step()

    def step(self):
        loss = self.model(self.x, self.y)
        loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)

    def time(self, seconds):
        steps, start = 0, time.perf_counter()
        while True:
            self.step()
            steps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds and steps >= 3:
                return {"steps": steps, "seconds": elapsed, "tokens_per_second": steps * self.tokens / elapsed}


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    blas = "mkl" if torch.backends.mkl.is_available() else "other"
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas}), flush=True)
    key, runner = None, None
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        cfg = request["config"]
        if json.dumps(cfg, sort_keys=True) != key:
            key, runner = json.dumps(cfg, sort_keys=True), None
            runner = Runner(cfg)
        print(json.dumps(runner.time(float(request["seconds"]))), flush=True)


if __name__ == "__main__":
    main()

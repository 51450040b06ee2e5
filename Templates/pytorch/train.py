# train.py — the editable training file of the PyTorch research subject.
#
# One file holds the model, the optimiser setup and the training loop (like autoresearch's train.py and nanoGPT).
# The research loop edits it; what it imports is fixed: torch and subject.py (the training data, the budget,
# MAX_SEQ_LEN, checkpoints and the evaluation protocol). It reads top to bottom: hyperparameters, model,
# evaluation phase, optimiser, loop, checkpoint. The harness runs it twice, each time in a sandbox: to train (it
# sees only the training split) and, in a fresh process, to evaluate (it sees only the windows the harness sends);
# the harness computes val_bpb itself. The same model as the Swift subject's train.swift.
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import subject

# Hyperparameters (ALL_CAPS, one per line; the comment gives the range or choices)

DEPTH = 4                   # range: 1..12
WIDTH = 128                 # range: 32..512
HEADS = 4                   # range: 1..16
MLP_RATIO = 4               # range: 1..8
SEQ_LEN = 128               # range: 16..256
BATCH_SIZE = 8              # range: 1..128
LEARNING_RATE = 0.0015      # range: 1e-4..3e-2
MUON_LEARNING_RATE = 0.03   # range: 1e-3..1e-1
WARMUP_RATIO = 0.02         # range: 0..0.3
WARMDOWN_RATIO = 0.4        # range: 0..1
WEIGHT_DECAY = 0.0          # range: 0..0.3
ADAM_BETA2 = 0.95           # range: 0.9..0.999
GRAD_CLIP = 1.0             # range: 0..5
INIT_STD = 0.02             # range: 0.005..0.1
ACTIVATION = "relu2"        # choices: relu2|gelu|silu|relu
OPTIMIZER = "adamw"         # choices: adamw|muon
SEED = 1337                 # range: 0..1000000

# Architecture details that ideas (named edits in ideas.toml) switch in code.
SOFTCAP = 15.0
ROPE_BASE = 10000.0

# Model: a modern small GPT
# Pre-norm RMSNorm, RoPE, QK-norm, ReLU² MLP, untied embeddings, tanh soft-capped logits.

torch.manual_seed(SEED)


def norm(x):
    return F.rms_norm(x, (x.size(-1),))


def activation(x):
    if ACTIVATION == "gelu":
        return F.gelu(x)
    if ACTIVATION == "silu":
        return F.silu(x)
    if ACTIVATION == "relu":
        return F.relu(x)
    return F.relu(x).square()


def rope(x):
    """Rotary position embedding (Su et al. 2021) of x [B, H, T, D], rotating the two halves of each head."""
    t, d = x.size(-2), x.size(-1) // 2
    freqs = ROPE_BASE ** (-torch.arange(d, dtype=torch.float32, device=x.device) / d)
    angles = torch.arange(t, dtype=torch.float32, device=x.device)[:, None] * freqs[None, :]
    cos, sin = angles.cos(), angles.sin()
    x1, x2 = x[..., :d], x[..., d:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.wq = nn.Linear(WIDTH, WIDTH, bias=False)
        self.wk = nn.Linear(WIDTH, WIDTH, bias=False)
        self.wv = nn.Linear(WIDTH, WIDTH, bias=False)
        self.wo = nn.Linear(WIDTH, WIDTH, bias=False)
        self.fc = nn.Linear(WIDTH, MLP_RATIO * WIDTH, bias=False)
        self.proj = nn.Linear(MLP_RATIO * WIDTH, WIDTH, bias=False)

    def heads(self, x):
        b, t, _ = x.shape
        return x.view(b, t, HEADS, WIDTH // HEADS).transpose(1, 2)

    def forward(self, x):
        b, t, _ = x.shape
        h = norm(x)
        q = norm(rope(self.heads(self.wq(h))))     # QK-norm after RoPE, as train.swift
        k = norm(rope(self.heads(self.wk(h))))
        v = self.heads(self.wv(h))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.wo(y.transpose(1, 2).reshape(b, t, WIDTH))
        return x + self.proj(activation(self.fc(norm(x))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(subject.VOCAB_SIZE, WIDTH)
        self.blocks = nn.ModuleList([Block() for _ in range(DEPTH)])
        self.lm_head = nn.Linear(WIDTH, subject.VOCAB_SIZE, bias=False)
        proj_std = INIT_STD / math.sqrt(2 * DEPTH)
        for name, p in self.named_parameters():
            nn.init.normal_(p, std=proj_std if name.endswith(("wo.weight", "proj.weight")) else INIT_STD)

    def forward(self, idx):
        """Logits [B, T, VOCAB_SIZE] for inputs [B, T]."""
        x = self.wte(idx)
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(norm(x))
        return SOFTCAP * torch.tanh(logits / SOFTCAP)


model = GPT().to(subject.DEVICE)
num_params = sum(p.numel() for p in model.parameters())

# Evaluation phase: restore the checkpoint, answer the harness's windows with logits (never returns)

if subject.PHASE == "evaluate":
    subject.restore(model)
    model.eval()
    subject.serve_evaluation(model)

# Optimiser: AdamW for everything, or Muon for the block matrices and AdamW for the rest


class Muon(torch.optim.Optimizer):
    """MomentUm Orthogonalized by Newton-Schulz (Jordan et al. 2024, modded-nanogpt): SGD-momentum (Nesterov) whose
    update is replaced by the nearest semi-orthogonal matrix, from a quintic Newton-Schulz iteration."""

    def __init__(self, params, lr, momentum=0.95, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @staticmethod
    def orthogonalize(g, steps=5):
        a, b, c = 3.4445, -4.7750, 2.0315
        x = g / (g.norm() + 1e-7)
        tall = x.size(0) > x.size(1)
        if tall:
            x = x.T
        for _ in range(steps):
            s = x @ x.T
            x = a * x + (b * s + c * s @ s) @ x
        return x.T if tall else x

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                buf = self.state[p].setdefault("momentum", torch.zeros_like(p))
                buf.mul_(group["momentum"]).add_(p.grad)
                update = self.orthogonalize(p.grad + group["momentum"] * buf)
                scale = max(1.0, p.size(0) / p.size(1)) ** 0.5
                if group["weight_decay"] > 0:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                p.add_(update, alpha=-group["lr"] * scale)


matrices = [p for block in model.blocks for p in block.parameters()]
embeddings = [model.wte.weight, model.lm_head.weight]
if OPTIMIZER == "muon":
    optimizers = [Muon(matrices, lr=MUON_LEARNING_RATE, weight_decay=WEIGHT_DECAY),
                  torch.optim.AdamW(embeddings, lr=LEARNING_RATE, betas=(0.9, ADAM_BETA2), weight_decay=0.0)]
else:
    optimizers = [torch.optim.AdamW([dict(params=matrices, weight_decay=WEIGHT_DECAY), dict(params=embeddings, weight_decay=0.0)],
                                    lr=LEARNING_RATE, betas=(0.9, ADAM_BETA2))]
for opt in optimizers:
    for group in opt.param_groups:
        group["initial_lr"] = group["lr"]


def lr_multiplier(progress):
    """Learning-rate multiplier as a function of progress (training seconds / budget, or tokens):
    linear warmup, constant, then linear warmdown to zero."""
    if progress < WARMUP_RATIO:
        return (progress + 1e-3) / (WARMUP_RATIO + 1e-3)
    if progress > 1 - WARMDOWN_RATIO:
        return max(0.0, (1 - progress) / WARMDOWN_RATIO)
    return 1.0


# Training loop: until the budget is spent

peak_gflops = subject.measure_peak_gflops()
print("%s, matmul peak %.0f GFLOP/s, %d parameters" % (subject.kernel(), peak_gflops, num_params))
flops_per_token = 6 * num_params + 12 * DEPTH * WIDTH * SEQ_LEN
loader = subject.BatchLoader(subject.load_train(), BATCH_SIZE, SEQ_LEN, SEED)
budget = subject.Budget()
step, smooth_loss = 0, 0.0
model.train()
budget.start()
while not budget.exhausted:
    x, y = loader.next()
    logits = model(x)
    loss = F.cross_entropy(logits.reshape(-1, subject.VOCAB_SIZE), y.reshape(-1))
    subject.check_finite(loss.item(), step)
    loss.backward()
    if GRAD_CLIP > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
    multiplier = lr_multiplier(budget.progress)
    for opt in optimizers:
        for group in opt.param_groups:
            group["lr"] = group["initial_lr"] * multiplier
        opt.step()
        opt.zero_grad(set_to_none=True)
    budget.record(BATCH_SIZE * SEQ_LEN)
    step += 1
    smooth_loss = loss.item() if step == 1 else 0.95 * smooth_loss + 0.05 * loss.item()
    if step % 100 == 0:
        print("step %5d | loss %.4f | progress %5.1f%% | %.0f tok/s"
              % (step, smooth_loss, 100 * budget.progress, budget.tokens / budget.training_seconds))
budget.pause()

# Checkpoint and report (the harness times the run and scores the checkpoint itself)

subject.save_checkpoint(model)
subject.report(budget.training_seconds, 100 * flops_per_token * budget.tokens / budget.training_seconds / (peak_gflops * 1e9),
               budget.tokens, step, num_params, DEPTH)

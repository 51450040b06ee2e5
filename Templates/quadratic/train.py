X1 = 0.5  # range: -4..4
X2 = -1.0  # range: -4..4
X3 = 2.0  # range: -4..4
LOG_SCALE = -2.0  # range: -5..1
SEED = 1

# The fast benchmark subject. val_bpb = 1 + Σ w·(x − x*)² + 0.05·(LOG_SCALE + 3)² + noise: its optimum is
# 1.0 at X1 = 1.5, X2 = 0.25, X3 = -0.75, LOG_SCALE = -3; the noise is Gaussian with σ = 0.004, drawn from SEED.
# A run sleeps like a training run would: AUTORESEARCH_SIM_SECONDS = "a,b" draws its length uniformly in [a, b]
# seconds (default "2,4"), so a swarm simulation can size its experiments.
import os
import random
import sys
import time

start = time.time()
low, high = (float(v) for v in os.environ.get("AUTORESEARCH_SIM_SECONDS", "2,4").split(","))
rng = random.Random("%d:%s" % (SEED, os.environ.get("AUTORESEARCH_SLOT", "")))
time.sleep(rng.uniform(low, high))
loss = 1.0 + 0.5 * (X1 - 1.5) ** 2 + 0.3 * (X2 - 0.25) ** 2 + 0.2 * (X3 + 0.75) ** 2 + 0.05 * (LOG_SCALE + 3) ** 2
noise = random.Random(SEED * 7919 + 17).gauss(0.0, 0.004)
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

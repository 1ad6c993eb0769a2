#!/usr/bin/env python3
"""PyTorch side of scripts/bench-train.ts: the reference workloads' training step
(forward + backward + AdamW) on fixed random batches held in memory.

Driven over stdin/stdout so that the TypeScript benchmark can interleave PyTorch and
Enjambre measurements in one run:
  start:   python3 bench-train-torch.py --workload mnist-mlp --threads 2
  stdout:  one JSON line {"ready": true, "blas": ..., "torch": ..., "warmup_steps": ...}
  stdin:   "run <seconds>"  -> back to the initial weights and a fresh optimizer, then train
                              for about <seconds>: one JSON line {"steps": n, "seconds": s}
           "quit"           -> exit
Run it with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import copy
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def blas_in_use():
    """Shared libraries mapped into this process that provide BLAS, resolved to real paths."""
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            parts = line.split()
            if len(parts) < 6:
                continue
            path = parts[5]
            name = os.path.basename(path)
            if "blas" in name or "lapack" in name or "mkl" in name:
                libs.add(os.path.realpath(path))
    return sorted(libs)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(784, 256)
        self.l2 = nn.Linear(256, 256)
        self.l3 = nn.Linear(256, 10)

    def forward(self, x):
        return self.l3(F.relu(self.l2(F.relu(self.l1(x)))))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3)
        self.c2 = nn.Conv2d(32, 64, 3)
        self.fc = nn.Linear(64 * 12 * 12, 128)
        self.out = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.c2(F.relu(self.c1(x.view(-1, 1, 28, 28)))))
        x = torch.flatten(F.max_pool2d(x, 2), 1)
        return self.out(F.relu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, width, heads, context):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width)
        self.q = nn.Linear(width, width)
        self.k = nn.Linear(width, width)
        self.v = nn.Linear(width, width)
        self.proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.fc = nn.Linear(width, 4 * width)
        self.fc_proj = nn.Linear(4 * width, width)
        mask = torch.tril(torch.ones(context, context, dtype=torch.bool))
        self.register_buffer("mask", mask.view(1, 1, context, context))

    def forward(self, x):
        n, t, c = x.shape
        d = c // self.heads
        h = self.ln_1(x)
        q = self.q(h).view(n, t, self.heads, d).transpose(1, 2)
        k = self.k(h).view(n, t, self.heads, d).transpose(1, 2)
        v = self.v(h).view(n, t, self.heads, d).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / d**0.5)
        att = att.masked_fill(~self.mask[:, :, :t, :t], float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(n, t, c)
        x = x + self.proj(y)
        return x + self.fc_proj(F.gelu(self.fc(self.ln_2(x))))


class CharTransformer(nn.Module):
    """nanoGPT-style decoder as packages/models builds it: biases, untied head, exact GELU."""

    def __init__(self, vocab=65, layers=4, heads=4, width=128, context=64):
        super().__init__()
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Parameter(torch.randn(context, width) * 0.02)
        self.blocks = nn.ModuleList([Block(width, heads, context) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe[: idx.shape[1]]
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln_f(x))


def workload(name, gen, count):
    """The model and `count` fixed random batches (x, y)."""
    if name == "mnist-mlp":
        model = Mlp()
    elif name == "mnist-cnn":
        model = Cnn()
    elif name == "shakespeare-char":
        model = CharTransformer()
    else:
        raise SystemExit(f"unknown workload {name!r}")
    batches = []
    for _ in range(count):
        if name == "shakespeare-char":
            x = torch.randint(0, 65, (12, 64), generator=gen)
            y = torch.randint(0, 65, (12, 64), generator=gen)
        else:
            x = torch.rand(64, 784, generator=gen)
            y = torch.randint(0, 10, (64,), generator=gen)
        batches.append((x, y))
    return model, batches


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up")
    ap.add_argument("--batches", type=int, default=50, help="distinct batches, cycled")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model, batches = workload(args.workload, gen, args.batches)
    initial = copy.deepcopy(model.state_dict())
    # Decay on matrices only, as Enjambre's AdamW does.
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-3,
    )

    initial_opt = copy.deepcopy(opt.state_dict())
    at = [0]

    def reset():
        # Every timed run starts from the initial weights and a fresh AdamW, as Enjambre's does.
        model.load_state_dict(initial)
        opt.load_state_dict(initial_opt)

    def step():
        x, y = batches[at[0] % len(batches)]
        at[0] += 1
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss

    loss0 = float(step())
    t0 = time.perf_counter()
    warm = 1
    while time.perf_counter() - t0 < args.warmup:
        step()
        warm += 1
    ready = {
        "ready": True,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas_in_use(),
        "blas_config": [l.strip() for l in torch.__config__.show().splitlines() if "BLAS" in l],
        "warmup_steps": warm,
        "first_loss": loss0,
    }
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "quit":
            break
        if cmd[0] == "run":
            seconds = float(cmd[1])
            reset()
            n = 0
            t0 = time.perf_counter()
            while True:
                step()
                n += 1
                dt = time.perf_counter() - t0
                if dt >= seconds:
                    break
            print(json.dumps({"steps": n, "seconds": dt}), flush=True)
        else:
            print(json.dumps({"error": f"unknown command {cmd[0]}"}), flush=True)


if __name__ == "__main__":
    main()

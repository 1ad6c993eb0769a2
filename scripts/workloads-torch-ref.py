#!/usr/bin/env python3
"""Same-machine PyTorch reference for the shakespeare-char workload (docs/workloads.md).

nanoGPT's CPU recipe written out plainly: 4 layers, 4 heads, width 128, context 64, batch 12,
dropout 0, no biases, output tied to the token embedding, AdamW (0.9, 0.99), weight decay 0.1 on
matrices only, lr 1e-3 with 100 warm-up steps and cosine decay to 1e-4 at 2000 steps, gradient
clip 1.0. Evaluation as nanoGPT's: 20 random batches of 12 from the last 10% of the file, every
250 steps; at the end also the mean loss over the whole validation split in non-overlapping
64-character windows (`fullValLoss`).

  enjambre data get tinyshakespeare     # once (ENJAMBRE_DATA_MIRROR=/path/to/mirror for a local copy)
  /usr/bin/python3 scripts/workloads-torch-ref.py \
      --data ~/.cache/enjambre/datasets/tinyshakespeare/input.txt [--seed 1337] [--threads 2] [--steps 2000]

Prints one line per evaluation and a final JSON line.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Norm(nn.Module):
    """Layer norm with a scale and no bias (torch 1.13's LayerNorm always has one)."""

    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, None, 1e-5)


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = Norm(width)
        self.qkv = nn.Linear(width, 3 * width, bias=False)
        self.proj = nn.Linear(width, width, bias=False)
        self.ln_2 = Norm(width)
        self.fc = nn.Linear(width, 4 * width, bias=False)
        self.out = nn.Linear(4 * width, width, bias=False)

    def forward(self, x, mask):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.heads)
        att = att.masked_fill(mask[:t, :t] == 0, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln_2(x))))


class CharGPT(nn.Module):
    def __init__(self, vocab, context, width, heads, layers):
        super().__init__()
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(context, width)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln_f = Norm(width)
        self.register_buffer("mask", torch.tril(torch.ones(context, context)))
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith(("proj.weight", "out.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx, targets):
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(t))
        for blk in self.blocks:
            x = blk(x, self.mask)
        logits = self.ln_f(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=2000)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)

    text = open(a.data, encoding="utf-8").read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    n = int(0.9 * len(ids))
    train, val = ids[:n], ids[n:]
    context, batch = 64, 12
    lr_max, lr_min, warmup = 1e-3, 1e-4, 100

    def get_batch(split):
        ix = torch.randint(len(split) - context, (batch,))
        return torch.stack([split[i : i + context] for i in ix]), torch.stack([split[i + 1 : i + 1 + context] for i in ix])

    def lr_at(it):
        if it < warmup:
            return lr_max * it / warmup
        ratio = (it - warmup) / (a.steps - warmup)
        return lr_min + 0.5 * (1 + math.cos(math.pi * min(1.0, ratio))) * (lr_max - lr_min)

    model = CharGPT(len(chars), context, 128, 4, 4)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=lr_max, betas=(0.9, 0.99)
    )

    @torch.no_grad()
    def estimate():
        model.eval()
        out = {}
        for name, split in (("train", train), ("val", val)):
            out[name] = sum(model(*get_batch(split)).item() for _ in range(20)) / 20
        model.train()
        return out

    @torch.no_grad()
    def full_val():
        # The whole validation split once: non-overlapping windows, batches of 12.
        model.eval()
        windows = (len(val) - 1) // context
        x = val[: windows * context].view(windows, context)
        y = val[1 : windows * context + 1].view(windows, context)
        losses = [model(x[s : s + batch], y[s : s + batch]).item() for s in range(0, windows - batch + 1, batch)]
        return sum(losses) / len(losses)

    curve = []
    t0 = time.time()
    for it in range(a.steps + 1):
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        if it % 250 == 0:
            e = estimate()
            curve.append({"step": it, **e})
            print(f"step {it}: train loss {e['train']:.4f}, val loss {e['val']:.4f}", flush=True)
        if it == a.steps:
            break
        loss = model(*get_batch(train))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    seconds = time.time() - t0
    fv = full_val()
    print(json.dumps({"steps": a.steps, "seconds": seconds, "fullValLoss": fv, "curve": curve}))


if __name__ == "__main__":
    main()

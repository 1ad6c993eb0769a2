"""Trains the `shakespeare-char-gpu` workload from Enjambre's compiled ONNX graphs on a GPU machine.

Input: the folder scripts/gpu/prepare.ts writes (train_loop.onnx: forward + backward + grad clip +
AdamW, K steps per run in one ONNX Loop; eval_step.onnx; check_loop.onnx: same model without
dropout, K=2; token ids; manifest.json with parameter shapes and their initialisation).

Backends, picked by --backend (default auto: the first that is available):
  ort-cuda  onnxruntime's CUDA execution provider, parameters kept on the GPU with IO binding;
  torch     scripts/gpu/onnx_torch.py, which runs the same graphs node by node with torch ops on
            the GPU (used when the onnxruntime wheel has no CUDA provider);
  ort-cpu   onnxruntime's CPU execution provider.
Before training on a backend other than onnxruntime's, the run checks it against onnxruntime's
CPU provider on the same parameters and batches: the eval loss, and two dropout-free AdamW steps
(losses and every updated parameter).

    python3 scripts/gpu/train.py --dir .device/gpu --out $OUT/summary.json

Prints progress and writes a JSON summary (environment, speed, loss curve, checks).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def log(*a):
    print(*a, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", default=".device/gpu")
    p.add_argument("--out", default=None, help="summary JSON path (default: $OUT/summary.json or ./gpu-summary.json)")
    p.add_argument("--backend", default="auto", choices=["auto", "ort-cuda", "torch", "ort-cpu"])
    p.add_argument("--iters", type=int, default=5000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--lr-decay-iters", type=int, default=5000)
    p.add_argument("--eval-interval", type=int, default=500)
    p.add_argument("--eval-iters", type=int, default=100, help="batches per split at each evaluation")
    p.add_argument("--final-eval-iters", type=int, default=200, help="batches per split at the last evaluation")
    p.add_argument("--time-budget", type=float, default=420.0, help="seconds of training+eval before stopping early")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--device", default="cuda", help="torch backend's device (cpu: to test the driver without a GPU)")
    p.add_argument("--no-tf32", action="store_true", help="torch backend: full float32 matrix products")
    p.add_argument("--skip-check", action="store_true")
    p.add_argument("--check-batch", type=int, default=4)
    p.add_argument("--cpu-timing", type=float, default=0.0, help="if > 0 and that many seconds are left, time one K-step run on onnxruntime's CPU provider")
    return p.parse_args()


def environment():
    env = {"python": platform.python_version(), "machine": platform.machine()}
    try:
        env["nvidia_smi"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=30,
        ).stdout.strip()
    except Exception as e:  # noqa: BLE001
        env["nvidia_smi"] = f"unavailable: {e}"
    try:
        import onnxruntime as ort

        env["onnxruntime"] = ort.__version__
        env["ort_providers"] = ort.get_available_providers()
        env["ort_device"] = ort.get_device()
    except Exception as e:  # noqa: BLE001
        env["onnxruntime"] = f"unavailable: {e}"
        env["ort_providers"] = []
    try:
        import torch

        env["torch"] = torch.__version__
        env["torch_cuda"] = torch.cuda.is_available()
        if torch.cuda.is_available():
            env["torch_gpu"] = torch.cuda.get_device_name(0)
    except Exception as e:  # noqa: BLE001
        env["torch"] = f"unavailable: {e}"
        env["torch_cuda"] = False
    env["cpus"] = os.cpu_count()
    return env


def lr_at(it, a):
    """nanoGPT's schedule: linear warmup, cosine decay to min_lr at lr_decay_iters."""
    if it < a.warmup:
        return a.lr * (it + 1) / (a.warmup + 1)
    if it > a.lr_decay_iters:
        return a.min_lr
    r = (it - a.warmup) / (a.lr_decay_iters - a.warmup)
    return a.min_lr + 0.5 * (1.0 + math.cos(math.pi * r)) * (a.lr - a.min_lr)


def init_params(manifest, rng: np.random.Generator):
    """Enjambre's char-transformer init as the manifest records it (normal std / constant)."""
    out = {}
    for p in manifest["params"]:
        init = p["init"]
        if init["kind"] == "constant":
            out[p["name"]] = np.full(p["dims"], init["value"], dtype=np.float32)
        else:
            out[p["name"]] = (rng.standard_normal(p["dims"], dtype=np.float32) * np.float32(init["std"])).astype(np.float32)
    return out


class Batches:
    """nanoGPT-style batches: random windows of T+1 tokens."""

    def __init__(self, tokens: np.ndarray, context: int, rng: np.random.Generator):
        self.tokens = tokens.astype(np.int64)
        self.T = context
        self.rng = rng

    def sample(self, shape):
        ix = self.rng.integers(0, len(self.tokens) - self.T - 1, size=shape)
        idx = ix[..., None] + np.arange(self.T + 1)
        w = self.tokens[idx]
        return w[..., :-1].copy(), w[..., 1:].copy()


# ---------------------------------------------------------------- onnxruntime
class OrtBackend:
    def __init__(self, d, manifest, provider):
        import onnxruntime as ort

        self.ort = ort
        self.m = manifest
        self.n = manifest["names"]
        self.cuda = provider == "CUDAExecutionProvider"
        self.dev = "cuda" if self.cuda else "cpu"
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = [provider] if not self.cuda else ["CUDAExecutionProvider", "CPUExecutionProvider"]
        t0 = time.time()
        self.train = ort.InferenceSession(os.path.join(d, "train_loop.onnx"), so, providers=providers)
        self.eval = ort.InferenceSession(os.path.join(d, "eval_step.onnx"), so, providers=providers)
        self.load_s = time.time() - t0
        self.providers = self.train.get_providers()
        self.names = [p["name"] for p in manifest["params"]] + manifest["state"]

    def name(self):
        return f"onnxruntime {self.ort.__version__} {self.providers[0]}"

    def set_state(self, params, state):
        self.vals = {k: self.ort.OrtValue.ortvalue_from_numpy(v, self.dev, 0) for k, v in {**params, **state}.items()}

    def get_params(self):
        return {p["name"]: self.vals[p["name"]].numpy() for p in self.m["params"]}

    def train_chunk(self, x, y, lrs, step):
        b = self.train.io_binding()
        ov = self.ort.OrtValue.ortvalue_from_numpy
        b.bind_ortvalue_input(self.n["input"], ov(x, self.dev, 0))
        b.bind_ortvalue_input(self.n["labels"], ov(y, self.dev, 0))
        b.bind_ortvalue_input(self.n["lr"], ov(lrs.astype(np.float32), self.dev, 0))
        b.bind_ortvalue_input(self.n["step"], ov(np.array(step, dtype=np.float32), self.dev, 0))
        for k in self.names:
            b.bind_ortvalue_input(k, self.vals[k])
        b.bind_output(self.n["loss"], "cpu")
        for k in self.names:
            b.bind_output(self.m["names"]["newName"][k], self.dev)
        self.train.run_with_iobinding(b)
        bound = [self.n["loss"]] + [self.m["names"]["newName"][k] for k in self.names]
        outs = dict(zip(bound, b.get_outputs()))  # in binding order
        for k in self.names:
            self.vals[k] = outs[self.m["names"]["newName"][k]]
        return outs[self.n["loss"]]  # OrtValue; read with .numpy() when needed

    def losses(self, handle):
        return np.asarray(handle.numpy(), dtype=np.float64)

    def eval_loss(self, x, y):
        b = self.eval.io_binding()
        ov = self.ort.OrtValue.ortvalue_from_numpy
        b.bind_ortvalue_input(self.n["input"], ov(x, self.dev, 0))
        b.bind_ortvalue_input(self.n["labels"], ov(y, self.dev, 0))
        for p in self.m["params"]:
            b.bind_ortvalue_input(p["name"], self.vals[p["name"]])
        b.bind_output(self.n["evalLoss"], "cpu")
        self.eval.run_with_iobinding(b)
        return float(b.get_outputs()[0].numpy())

    def sync(self):
        pass


# ---------------------------------------------------------------- torch interpreter
class TorchBackend:
    def __init__(self, d, manifest, tf32=True, seed=0, device="cuda"):
        import torch

        from onnx_torch import Interpreter

        self.torch = torch
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        self.tf32 = tf32
        self.m = manifest
        self.n = manifest["names"]
        self.dev = device
        self.gen = torch.Generator(device=device).manual_seed(seed)
        t0 = time.time()
        self.train = Interpreter(os.path.join(d, "train_loop.onnx"), device, self.gen)
        self.eval = Interpreter(os.path.join(d, "eval_step.onnx"), device, self.gen)
        self.load_s = time.time() - t0
        self.names = [p["name"] for p in manifest["params"]] + manifest["state"]
        self.providers = [f"torch-{device}"]

    def name(self):
        return f"onnx_torch interpreter on torch {self.torch.__version__} {self.dev} ({'TF32' if self.tf32 else 'FP32'} matmul)"

    def set_state(self, params, state):
        self.vals = {k: self.torch.from_numpy(v).to(self.dev) for k, v in {**params, **state}.items()}

    def get_params(self):
        return {p["name"]: self.vals[p["name"]].cpu().numpy() for p in self.m["params"]}

    def train_chunk(self, x, y, lrs, step):
        t = self.torch
        feeds = {
            self.n["input"]: t.from_numpy(x).to(self.dev, non_blocking=True),
            self.n["labels"]: t.from_numpy(y).to(self.dev, non_blocking=True),
            # Schedule scalars stay on the CPU: the interpreter computes with them there.
            self.n["lr"]: t.from_numpy(lrs.astype(np.float32)),
            self.n["step"]: t.tensor(float(step), dtype=t.float32),
        }
        feeds.update(self.vals)
        with t.inference_mode():
            out = self.train.run_model(feeds)
        for k in self.names:
            self.vals[k] = out[self.m["names"]["newName"][k]]
        return out[self.n["loss"]]

    def losses(self, handle):
        return handle.double().cpu().numpy()

    def eval_loss(self, x, y):
        t = self.torch
        feeds = {self.n["input"]: t.from_numpy(x).to(self.dev), self.n["labels"]: t.from_numpy(y).to(self.dev)}
        for p in self.m["params"]:
            feeds[p["name"]] = self.vals[p["name"]]
        with t.inference_mode():
            out = self.eval.run_model(feeds)
        return out[self.n["evalLoss"]]

    def sync(self):
        if self.dev != "cpu":
            self.torch.cuda.synchronize()


# ---------------------------------------------------------------- checks against onnxruntime CPU
def cross_check(d, manifest, params, tokens, a):
    """Runs eval_step and check_loop on onnxruntime's CPU provider and on the torch interpreter."""
    import onnxruntime as ort
    import torch

    from onnx_torch import Interpreter

    n = manifest["names"]
    rng = np.random.default_rng(a.seed + 1)
    batches = Batches(tokens, manifest["options"]["context"], rng)
    res = {"batch": a.check_batch}
    # Full float32 for the comparison (TF32 would dominate the differences).
    prev = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        x, y = batches.sample((a.check_batch,))
        sess = ort.InferenceSession(os.path.join(d, "eval_step.onnx"), providers=["CPUExecutionProvider"])
        feeds = {n["input"]: x, n["labels"]: y, **params}
        ref = float(sess.run([n["evalLoss"]], feeds)[0])
        it = Interpreter(os.path.join(d, "eval_step.onnx"), a.device)
        with torch.inference_mode():
            got = float(it.run_model({k: torch.from_numpy(v).to(a.device) for k, v in feeds.items()})[n["evalLoss"]])
        res["eval_loss_ort_cpu"] = ref
        res["eval_loss_torch"] = got
        res["eval_loss_abs_diff"] = abs(ref - got)

        K = 2
        x, y = batches.sample((K, a.check_batch))
        state = {s: np.zeros_like(params[s.split("/", 1)[1]]) for s in manifest["state"]}
        feeds = {n["input"]: x, n["labels"]: y, n["lr"]: np.array([1e-3, 9e-4], np.float32),
                 n["step"]: np.array(1.0, np.float32), **params, **state}
        sess = ort.InferenceSession(os.path.join(d, "check_loop.onnx"), providers=["CPUExecutionProvider"])
        out_names = [o.name for o in sess.get_outputs()]
        ref = dict(zip(out_names, sess.run(None, feeds)))
        it = Interpreter(os.path.join(d, "check_loop.onnx"), a.device)
        tfeeds = {k: torch.from_numpy(v).to(a.device) for k, v in feeds.items()}
        tfeeds[n["lr"]] = tfeeds[n["lr"]].cpu()
        tfeeds[n["step"]] = tfeeds[n["step"]].cpu()
        with torch.inference_mode():
            got = {k: v.cpu().numpy() for k, v in it.run_model(tfeeds).items()}
        res["loop_losses_ort_cpu"] = ref[n["loss"]].tolist()
        res["loop_losses_torch"] = got[n["loss"]].tolist()
        worst, worst_name, num, den = 0.0, None, 0.0, 0.0
        for p in manifest["params"]:
            k = manifest["names"]["newName"][p["name"]]
            d = (got[k] - ref[k]).astype(np.float64)
            u = (ref[k] - params[p["name"]]).astype(np.float64)
            num += float(np.sum(d * d))
            den += float(np.sum(u * u))
            diff = float(np.max(np.abs(d)))
            if diff > worst:
                worst, worst_name = diff, p["name"]
        res["loop_param_max_abs_diff"] = worst
        res["loop_param_worst"] = worst_name
        # ||torch - ort|| / ||ort - initial||, over all parameters after the two updates.
        res["loop_param_rel_l2_diff_of_update"] = math.sqrt(num / den) if den > 0 else None
        res["ok"] = bool(res["eval_loss_abs_diff"] < 1e-3 and res["loop_param_rel_l2_diff_of_update"] is not None
                         and res["loop_param_rel_l2_diff_of_update"] < 1e-2
                         and np.allclose(res["loop_losses_ort_cpu"], res["loop_losses_torch"], atol=1e-3))
    finally:
        torch.backends.cuda.matmul.allow_tf32 = prev
    return res


def cpu_timing(d, manifest, params, tokens, a):
    import onnxruntime as ort

    n = manifest["names"]
    K = manifest["stepsPerRun"]
    rng = np.random.default_rng(a.seed + 2)
    x, y = Batches(tokens, manifest["options"]["context"], rng).sample((K, a.batch))
    state = {s: np.zeros_like(params[s.split("/", 1)[1]]) for s in manifest["state"]}
    t0 = time.time()
    sess = ort.InferenceSession(os.path.join(d, "train_loop.onnx"), providers=["CPUExecutionProvider"])
    load = time.time() - t0
    feeds = {n["input"]: x, n["labels"]: y, n["lr"]: np.full(K, 1e-3, np.float32),
             n["step"]: np.array(1.0, np.float32), **params, **state}
    t0 = time.time()
    out = sess.run([n["loss"]], feeds)
    dt = time.time() - t0
    return {"session_load_s": load, "steps": K, "batch": a.batch, "run_s": dt, "steps_per_s": K / dt,
            "losses": out[0].tolist(), "threads": os.cpu_count(), "note": "one run, the first (includes allocation)"}


def main():
    a = parse_args()
    t_start = time.time()
    out_path = a.out or (os.path.join(os.environ["OUT"], "summary.json") if os.environ.get("OUT") else "gpu-summary.json")
    summary = {"workload": "shakespeare-char-gpu", "args": vars(a)}
    env = environment()
    summary["environment"] = env
    log("environment:", json.dumps(env, indent=1))

    def save():
        with open(out_path, "w") as f:
            json.dump(summary, f, indent=1)

    with open(os.path.join(a.dir, "manifest.json")) as f:
        manifest = json.load(f)
    summary["model"] = manifest["model"]
    summary["optimizer"] = manifest["optimizer"]
    summary["grad_clip"] = manifest["gradClip"]
    K = manifest["stepsPerRun"]
    T = manifest["options"]["context"]
    train_tok = np.fromfile(os.path.join(a.dir, "train.u16"), dtype="<u2")
    val_tok = np.fromfile(os.path.join(a.dir, "val.u16"), dtype="<u2")
    log(f"model: {manifest['model']}; K={K}; tokens train {len(train_tok)} val {len(val_tok)}")

    # ---- backend choice, every failure reported ----
    providers = env.get("ort_providers", [])
    choice = a.backend
    reasons = []
    if choice == "auto":
        if "CUDAExecutionProvider" in providers:
            choice = "ort-cuda"
        else:
            reasons.append(f"onnxruntime {env.get('onnxruntime')} has no CUDAExecutionProvider (providers: {providers})")
            if env.get("torch_cuda") or a.device == "cpu":
                choice = "torch"
            else:
                reasons.append("torch sees no CUDA device")
                choice = "ort-cpu"
    summary["backend_choice"] = {"chosen": choice, "why_not_ort_cuda": reasons}
    log(f"backend: {choice}" + (f" ({'; '.join(reasons)})" if reasons else ""))

    rng = np.random.default_rng(a.seed)
    params = init_params(manifest, rng)
    state = {s: np.zeros_like(params[s.split("/", 1)[1]]) for s in manifest["state"]}

    if choice == "torch" and not a.skip_check:
        t0 = time.time()
        try:
            summary["cross_check"] = chk = cross_check(a.dir, manifest, params, train_tok, a)
        except Exception as e:  # noqa: BLE001
            summary["cross_check"] = chk = {"ok": False, "error": repr(e)}
        chk["seconds"] = time.time() - t0
        log("cross-check vs onnxruntime CPU:", json.dumps(chk, indent=1))
        save()

    if choice == "ort-cuda":
        be = OrtBackend(a.dir, manifest, "CUDAExecutionProvider")
    elif choice == "ort-cpu":
        be = OrtBackend(a.dir, manifest, "CPUExecutionProvider")
    else:
        be = TorchBackend(a.dir, manifest, tf32=not a.no_tf32, seed=a.seed, device=a.device)
    summary["backend"] = be.name()
    summary["providers_in_use"] = be.providers
    summary["graph_load_s"] = be.load_s
    log(f"running on: {be.name()} (session providers {be.providers}); graphs loaded in {be.load_s:.1f}s")
    be.set_state(params, state)

    tb = Batches(train_tok, T, np.random.default_rng(a.seed + 10))
    eb_train = Batches(train_tok, T, np.random.default_rng(a.seed + 20))
    eb_val = Batches(val_tok, T, np.random.default_rng(a.seed + 30))

    def estimate(n_iters):
        res = {}
        for split, bs in (("train", eb_train), ("val", eb_val)):
            vals = []
            for _ in range(n_iters):
                x, y = bs.sample((a.batch,))
                vals.append(be.eval_loss(x, y))
            res[split] = float(np.mean([float(v) for v in vals]))
        return res

    curve = []
    summary["curve"] = curve
    pending = []  # (first iter, loss handle)
    train_losses = {}
    train_time = 0.0
    eval_time = 0.0
    it = 0
    stopped_early = False
    t_loop = time.time()
    while True:
        at_eval = it % a.eval_interval == 0 or it >= a.iters
        out_of_time = time.time() - t_start > a.time_budget
        if at_eval or out_of_time or it >= a.iters:
            be.sync()
            for first, h in pending:
                for j, v in enumerate(be.losses(h)):
                    train_losses[first + j] = float(v)
            pending.clear()
            final = it >= a.iters or out_of_time
            t0 = time.time()
            est = estimate(a.final_eval_iters if final else a.eval_iters)
            eval_time += time.time() - t0
            window = [train_losses[i] for i in range(max(0, it - a.eval_interval), it) if i in train_losses]
            row = {"iter": it, "train_loss": est["train"], "val_loss": est["val"],
                   "train_loss_dropout_window": float(np.mean(window)) if window else None,
                   "lr": lr_at(max(it - 1, 0), a), "elapsed_s": time.time() - t_start,
                   "train_s": train_time, "eval_batches": a.final_eval_iters if final else a.eval_iters}
            curve.append(row)
            log(f"iter {it}: train {est['train']:.4f} val {est['val']:.4f} (window train-with-dropout "
                f"{row['train_loss_dropout_window']}) lr {row['lr']:.2e} {train_time:.1f}s training, "
                f"{(it / train_time if train_time else 0):.2f} it/s")
            save()
            if final:
                stopped_early = out_of_time and it < a.iters
                break
        t0 = time.time()
        n = min(K, a.iters - it)
        if n < K:  # the loop graph runs exactly K steps; stop at a multiple of K
            break
        lrs = np.array([lr_at(it + j, a) for j in range(K)], np.float32)
        x, y = tb.sample((K, a.batch))
        pending.append((it, be.train_chunk(x, y, lrs, it + 1)))
        it += K
        if len(pending) >= 10:  # bound the queue, read losses in groups
            be.sync()
            for first, h in pending:
                for j, v in enumerate(be.losses(h)):
                    train_losses[first + j] = float(v)
            pending.clear()
        train_time += time.time() - t0
        if it == K:
            be.sync()
            summary["first_chunk_s"] = time.time() - t0
    be.sync()
    total = time.time() - t_loop
    summary["iterations"] = it
    summary["stopped_early_for_time"] = stopped_early
    summary["train_seconds"] = train_time
    summary["eval_seconds"] = eval_time
    summary["iters_per_s"] = it / train_time if train_time else None
    steady = train_time - summary.get("first_chunk_s", 0)
    summary["iters_per_s_after_first_chunk"] = (it - K) / steady if steady > 0 and it > K else None
    summary["tokens_per_s"] = summary["iters_per_s"] * a.batch * T if train_time else None
    summary["loop_seconds"] = total
    summary["final_val_loss"] = curve[-1]["val_loss"]
    summary["best_val_loss"] = min(r["val_loss"] for r in curve)
    summary["nanogpt_best_val_loss"] = 1.4697
    summary["train_losses_every_100"] = {str(i): train_losses[i] for i in sorted(train_losses) if i % 100 == 0}
    save()
    log(f"done: {it} iterations, {summary['iters_per_s'] or 0:.2f} it/s "
        f"({summary['iters_per_s_after_first_chunk']} it/s after the first chunk), "
        f"final val {summary['final_val_loss']:.4f}, best val {summary['best_val_loss']:.4f} (nanoGPT 1.4697)")

    if a.cpu_timing > 0:
        left = a.cpu_timing - (time.time() - t_start)
        if left > 60:
            try:
                summary["ort_cpu_timing"] = cpu_timing(a.dir, manifest, params, train_tok, a)
            except Exception as e:  # noqa: BLE001
                summary["ort_cpu_timing"] = {"error": repr(e)}
            log("onnxruntime CPU timing:", json.dumps(summary["ort_cpu_timing"]))
        else:
            summary["ort_cpu_timing"] = {"skipped": f"only {left:.0f}s left"}
        save()
    summary["total_seconds"] = time.time() - t_start
    save()


if __name__ == "__main__":
    main()

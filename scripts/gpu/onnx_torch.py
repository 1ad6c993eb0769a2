"""A small ONNX interpreter on PyTorch tensors, for the graphs Enjambre compiles.

It runs an ONNX model node by node with torch ops on any torch device (CUDA here), covering the
operators that Enjambre's training graphs use (forward, backward, AdamW, and the Loop that runs K
steps). It exists because the Python `onnxruntime` wheel on the GPU machine is the CPU build
(no CUDA execution provider), and the GPU build cannot be carried there: the graph itself is the
same file that onnxruntime runs, and scripts/gpu/train.py checks the two agree (eval loss, and a
dropout-free training loop) before it trains.

Small integer tensors (shapes, axes, the loop counter) and scalar constants stay on the CPU, so
that reading them never waits for the GPU.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
import torch
from onnx import numpy_helper

ONNX_TO_TORCH = {
    1: torch.float32,
    2: torch.uint8,
    3: torch.int8,
    5: torch.int16,
    6: torch.int32,
    7: torch.int64,
    9: torch.bool,
    10: torch.float16,
    11: torch.float64,
    16: torch.bfloat16,
}

SMALL = 64  # constants with at most this many values stay on the CPU


class UnsupportedOp(Exception):
    pass


def _ints(t) -> list[int]:
    return [int(v) for v in t.reshape(-1).tolist()]


class Interpreter:
    """Runs one ONNX model; `run(feeds)` returns the graph outputs by name."""

    def __init__(self, model: onnx.ModelProto | str, device: str = "cuda", generator=None):
        if isinstance(model, str):
            model = onnx.load(model)
        self.model = model
        self.dev = torch.device(device)
        self.gen = generator
        # Device copies of CPU constants, made once (a copy from pageable host memory waits for the
        # GPU's queue to drain, so doing it every step would serialise the run).
        self._const_ids: set[int] = set()
        self._dcache: dict[int, torch.Tensor] = {}
        self.graph = self._compile(model.graph)

    def _dev(self, t):
        if id(t) in self._const_ids:
            d = self._dcache.get(id(t))
            if d is None:
                d = self._dcache[id(t)] = t.to(self.dev)
            return d
        return t.to(self.dev)

    def _to(self, *ts):
        """Moves CPU tensors with more than 0 dims to the device when any argument is there.

        0-dim CPU tensors stay: torch passes them to device kernels as scalars, with no copy."""
        if any(t.device.type != "cpu" for t in ts):
            return [self._dev(t) if t.device.type == "cpu" and t.dim() > 0 else t for t in ts]
        return list(ts)

    def _to_all(self, *ts):
        """Moves every CPU tensor to the device when any argument is there."""
        if any(t.device.type != "cpu" for t in ts):
            return [self._dev(t) if t.device.type == "cpu" else t for t in ts]
        return list(ts)

    # ---- compilation: every node becomes (fn, inputs, outputs, frees) ----
    def _compile(self, g):
        consts = {}
        for t in g.initializer:
            consts[t.name] = self._const(numpy_helper.to_array(t))
        nodes = []
        for n in g.node:
            if n.op_type == "Constant":
                a = n.attribute[0]
                if a.name != "value":
                    raise UnsupportedOp(f"Constant with {a.name}")
                consts[n.output[0]] = self._const(numpy_helper.to_array(a.t))
                continue
            nodes.append((self._op(n), list(n.input), list(n.output)))
        outputs = [o.name for o in g.output]
        inputs = [i.name for i in g.input]
        # Free each value after its last use (graph outputs and outer values are kept).
        last = {}
        for i, (fn, ins, _) in enumerate(nodes):
            for name in [*ins, *getattr(fn, "outer_refs", [])]:
                last[name] = i
        produced = {o for _, _, outs in nodes for o in outs} | set(inputs)
        keep = set(outputs)
        frees = [[] for _ in nodes]
        for name, i in last.items():
            if name in produced and name not in keep:
                frees[i].append(name)
        compiled = [(fn, ins, outs, fr) for (fn, ins, outs), fr in zip(nodes, frees)]
        return {"nodes": compiled, "consts": consts, "inputs": inputs, "outputs": outputs}

    def _const(self, arr: np.ndarray):
        t = torch.from_numpy(np.array(arr, copy=True))
        if t.numel() > SMALL:
            t = t.to(self.dev)
        self._const_ids.add(id(t))
        return t

    def run(self, feeds: dict, outer: dict | None = None, graph=None) -> dict:
        graph = graph or self.graph
        env = dict(outer) if outer else {}
        env.update(graph["consts"])
        env.update(feeds)
        for fn, ins, outs, fr in graph["nodes"]:
            res = fn(*[env[i] if i else None for i in ins])
            if len(outs) == 1:
                env[outs[0]] = res if not isinstance(res, tuple) else res[0]
            else:
                for name, v in zip(outs, res):
                    if name:
                        env[name] = v
            for name in fr:
                env.pop(name, None)
        return {o: env[o] for o in graph["outputs"]}

    # ---- operators ----
    def _op(self, n):
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        op = n.op_type
        dev = self.dev

        def binary(f):
            def run(a, b):
                a, b = self._to(a, b)
                return f(a, b)

            return run

        if op == "Add":
            return binary(torch.add)
        if op == "Sub":
            return binary(torch.sub)
        if op == "Mul":
            return binary(torch.mul)
        if op == "Div":

            def div(a, b):
                a, b = self._to(a, b)
                if not a.is_floating_point():
                    return torch.div(a, b, rounding_mode="trunc")
                return torch.div(a, b)

            return div
        if op == "Pow":
            return binary(torch.pow)
        if op == "Equal":
            return binary(torch.eq)
        if op == "Neg":
            return torch.neg
        if op == "Exp":
            return torch.exp
        if op == "Sqrt":
            return torch.sqrt
        if op == "Reciprocal":
            return torch.reciprocal
        if op == "Erf":
            return torch.erf
        if op == "Identity":
            return lambda x: x
        if op in ("Min", "Max", "Sum"):
            f = {"Min": torch.minimum, "Max": torch.maximum, "Sum": torch.add}[op]

            def variadic(*xs):
                xs = self._to_all(*xs)
                out = xs[0]
                for x in xs[1:]:
                    out = f(out, x)
                return out

            return variadic
        if op == "Where":

            def where(c, a, b):
                c, a, b = self._to_all(c, a, b)
                return torch.where(c, a, b)

            return where
        if op == "MatMul":
            return torch.matmul
        if op == "Cast":
            dt = ONNX_TO_TORCH[attrs["to"]]
            return lambda x: x.to(dt)
        if op == "Shape":
            if "start" in attrs or "end" in attrs:
                s, e = attrs.get("start", 0), attrs.get("end", None)
                return lambda x: torch.tensor(list(x.shape)[s:e], dtype=torch.int64)
            return lambda x: torch.tensor(list(x.shape), dtype=torch.int64)
        if op == "Size":
            return lambda x: torch.tensor(x.numel(), dtype=torch.int64)
        if op == "Reshape":
            if attrs.get("allowzero", 0):
                raise UnsupportedOp("Reshape allowzero=1")

            def reshape(x, shape):
                s = _ints(shape)
                s = [x.shape[i] if v == 0 else v for i, v in enumerate(s)]
                return x.reshape(s)

            return reshape
        if op == "Transpose":
            perm = attrs.get("perm")
            if perm is None:
                return lambda x: x.permute(*reversed(range(x.dim())))
            return lambda x: x.permute(*perm)
        if op == "Unsqueeze":

            def unsqueeze(x, axes):
                ax = _ints(axes)
                r = x.dim() + len(ax)
                for a in sorted(v % r for v in ax):
                    x = x.unsqueeze(a)
                return x

            return unsqueeze
        if op == "Squeeze":

            def squeeze(x, axes=None):
                if axes is None:
                    return x.squeeze()
                for a in sorted((v % x.dim() for v in _ints(axes)), reverse=True):
                    x = x.squeeze(a)
                return x

            return squeeze
        if op == "Expand":

            def expand(x, shape):
                s = torch.broadcast_shapes(tuple(x.shape), tuple(_ints(shape)))
                return x.expand(s)

            return expand
        if op in ("ReduceSum", "ReduceMean", "ReduceSumSquare", "ReduceMax"):
            keep = bool(attrs.get("keepdims", 1))
            noop = attrs.get("noop_with_empty_axes", 0)

            def reduce(x, axes=None):
                ax = _ints(axes) if axes is not None else []
                if not ax:
                    if noop:
                        return x
                    ax = list(range(x.dim()))
                if op == "ReduceSum":
                    return torch.sum(x, dim=ax, keepdim=keep)
                if op == "ReduceMean":
                    return torch.mean(x, dim=ax, keepdim=keep)
                if op == "ReduceSumSquare":
                    return torch.sum(x * x, dim=ax, keepdim=keep)
                return torch.amax(x, dim=ax, keepdim=keep)

            return reduce
        if op == "Softmax":
            axis = attrs.get("axis", -1)
            return lambda x: torch.softmax(x, dim=axis)
        if op == "LogSoftmax":
            axis = attrs.get("axis", -1)
            return lambda x: torch.log_softmax(x, dim=axis)
        if op == "LayerNormalization":
            axis = attrs.get("axis", -1)
            eps = attrs.get("epsilon", 1e-5)
            nout = len(n.output)

            def layer_norm(x, scale, bias=None):
                a = axis % x.dim()
                shape = tuple(x.shape[a:])
                if nout == 1:
                    return torch.nn.functional.layer_norm(x, shape, scale, bias, eps)
                dims = list(range(a, x.dim()))
                mean = x.mean(dim=dims, keepdim=True)
                var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
                inv = torch.rsqrt(var + eps)
                y = (x - mean) * inv * scale
                if bias is not None:
                    y = y + bias
                return (y, mean, inv)

            return layer_norm
        if op == "Dropout":
            nout = len(n.output)

            def dropout(x, ratio=None, training=None):
                r = float(ratio) if ratio is not None else 0.5
                train = bool(training) if training is not None else False
                if not train or r == 0:
                    mask = torch.ones_like(x, dtype=torch.bool)
                    return (x, mask) if nout > 1 else x
                mask = torch.rand(x.shape, device=x.device, generator=self.gen) >= r
                y = x * mask * (1.0 / (1.0 - r))
                return (y, mask) if nout > 1 else y

            return dropout
        if op == "Gather":
            axis = attrs.get("axis", 0)

            def gather(x, idx):
                if idx.device != x.device and idx.dim() > 0:
                    idx = idx.to(x.device)
                if idx.dim() == 0:
                    return x.select(axis, int(idx)) if idx.device.type == "cpu" else x.index_select(axis, idx.reshape(1)).squeeze(axis)
                a = axis % x.dim()
                if a == 0:
                    return x[idx]
                flat = x.index_select(a, idx.reshape(-1))
                return flat.reshape(x.shape[:a] + idx.shape + x.shape[a + 1 :])

            return gather
        if op == "GatherElements":
            axis = attrs.get("axis", 0)

            def gather_elements(x, idx):
                x, idx = self._to_all(x, idx)
                return torch.gather(x, axis, idx)

            return gather_elements
        if op == "ScatterElements":
            axis = attrs.get("axis", 0)
            red = attrs.get("reduction", b"none")
            red = red.decode() if isinstance(red, bytes) else red

            def scatter_elements(data, idx, upd):
                data, idx, upd = self._to_all(data, idx, upd)
                if red == "add":
                    return data.clone().scatter_add_(axis, idx, upd)
                if red == "none":
                    return data.clone().scatter_(axis, idx, upd)
                raise UnsupportedOp(f"ScatterElements reduction={red}")

            return scatter_elements
        if op == "ScatterND":
            red = attrs.get("reduction", b"none")
            red = red.decode() if isinstance(red, bytes) else red

            def scatter_nd(data, idx, upd):
                data, idx, upd = self._to_all(data, idx, upd)
                k = idx.shape[-1]
                index = tuple(idx[..., i] for i in range(k))
                out = data.clone()
                if red == "add":
                    out.index_put_(index, upd, accumulate=True)
                elif red == "none":
                    out.index_put_(index, upd)
                else:
                    raise UnsupportedOp(f"ScatterND reduction={red}")
                return out

            return scatter_nd
        if op == "ArgMax":
            axis = attrs.get("axis", 0)
            keep = bool(attrs.get("keepdims", 1))
            return lambda x: torch.argmax(x, dim=axis, keepdim=keep)
        if op == "Loop":
            body = self._compile(attrs["body"])
            n_carried = len(n.input) - 2

            def loop(trip, cond, *carried):
                # Outer-scope values the body reads are passed through `outer`.
                count = int(trip) if trip is not None else math.inf
                keep_going = bool(cond) if cond is not None else True
                state = list(carried)
                scans = []
                names = body["inputs"]
                i = 0
                while i < count and keep_going:
                    feeds = {names[0]: torch.tensor(i, dtype=torch.int64), names[1]: torch.tensor(keep_going)}
                    for name, v in zip(names[2:], state):
                        feeds[name] = v
                    res = self.run(feeds, outer=self._outer, graph=body)
                    outs = [res[o] for o in body["outputs"]]
                    c = outs[0]
                    keep_going = bool(c) if c.device.type == "cpu" else True
                    state = outs[1 : 1 + n_carried]
                    scans.append(outs[1 + n_carried :])
                    i += 1
                stacked = [torch.stack([s[j] for s in scans]) for j in range(len(scans[0]))] if scans else []
                return tuple(state + stacked)

            loop.is_loop = True
            made = {o for _, _, outs, _ in body["nodes"] for o in outs}
            local = made | set(body["inputs"]) | set(body["consts"])
            loop.outer_refs = sorted({i for _, ins, _, _ in body["nodes"] for i in ins if i and i not in local})
            return loop
        raise UnsupportedOp(op)

    _outer: dict = {}

    def run_model(self, feeds: dict) -> dict:
        """Runs the top graph; a Loop body sees the top graph's values (its outer scope)."""
        graph = self.graph
        env = dict(graph["consts"])
        env.update(feeds)
        for fn, ins, outs, fr in graph["nodes"]:
            if getattr(fn, "is_loop", False):
                self._outer = env
            res = fn(*[env[i] if i else None for i in ins])
            if len(outs) == 1:
                env[outs[0]] = res if not isinstance(res, tuple) else res[0]
            else:
                for name, v in zip(outs, res):
                    if name:
                        env[name] = v
            for name in fr:
                env.pop(name, None)
        self._outer = {}
        return {o: env[o] for o in graph["outputs"]}

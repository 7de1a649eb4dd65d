#!/usr/bin/env python3
"""The official SiameseIM training step on CPU, fp32: the baseline that `bin/siameseim bench --only demo`
and `--only tiny` run beside ours when given `--official DIR` (docs/distributed.md, "Throughput and scaling").

    /usr/bin/python3 docs/bench/official_step.py OFFICIAL_DIR [--preset demo|tiny] [--threads 2] [options]

OFFICIAL_DIR is a checkout of github.com/OpenGVLab/Siamese-Image-Modeling (tested at bbdec30). One step is
what engine_pretrain.train_one_epoch does per batch with --fp32 and accum_iter 1: the per-iteration lr
(util.lr_sched) and cosine EMA momentum, models_sim.SiameseIMViT.forward with update_mm true (the EMA update of
the target, then the online and target branches and the UniGrad loss), loss.item(), the official loss scaler
(util.misc.NativeScalerWithGradNormCount: backward, clip_grad_norm_, AdamW step) and zero_grad; AdamW with the
parameter groups main_pretrain.py builds (timm's param_groups_weight_decay: no decay for 1-d tensors and
biases), betas (0.9, beta2). One process, so no DDP and plain BatchNorm, as our one-replica step; the loss's
torch.distributed.all_reduce runs in a one-process Gloo group. Inputs are synthetic with the shapes of the
official data loader: two normalised views, a (batch, grid^2) mask with exactly --mask ones per row, and the
six geometry values of each pair.

The official models import timm 0.6.12, which Debian does not package: install_timm_standin() puts the few
names they use in sys.modules (Mlp, DropPath, to_2tuple, a VisionTransformer base class that is only
subclassed), written as timm 0.6.12 has them. models_sim also does `from turtle import update` (unused); where
tkinter is missing, a `turtle` module with that one name stands in; util/pos_embed.py uses `np.float`, an alias
of the builtin float that NumPy 1.24 removed, which is put back. Nothing of the official model's code or math is
changed.

Prints one JSON line: {"name", "batch", "ms_per_step" (median), "min_ms", "max_ms", "images_per_s",
"sgemm_gflops" (this torch's 1024^3 matrix product with the same threads), "torch", "blas" (the BLAS library
it loaded), "threads", "loss" (the last step's)}.

Debian's python3-torch multiplies matrices with whatever libblas.so.3 the system provides: the reference BLAS of
libblas3 (single-threaded, about 3 GFLOP/s) unless OpenBLAS is installed (libopenblas0-pthread) or put first on
LD_LIBRARY_PATH. Compare "sgemm_gflops" with our bench's SGEMM line before reading a ratio.
"""
import argparse
import collections.abc
import itertools
import json
import math
import os
import shutil
import sys
import tempfile
import time
import types

import torch
import torch.nn as nn

# the two configurations of `bin/siameseim bench` (conf/pretrain-demo.conf; ViT-Tiny/16 on conf/reference.conf);
# the bench passes every value explicitly, so its --set overrides reach both sides
PRESETS = {
    "demo": dict(image=32, patch=4, width=64, depth=4, heads=4, decoder_width=64, decoder_heads=4,
                 projector_depth=1, predictor_depth=2, mask=38, batch=128, lr=1e-3, ema=0.99, warmup=3, steps=10),
    "tiny": dict(image=224, patch=16, width=192, depth=12, heads=3, decoder_width=192, decoder_heads=3,
                 projector_depth=2, predictor_depth=4, mask=118, batch=16, lr=6.25e-5 * 16 / 256, ema=0.995,
                 warmup=2, steps=5),
}


def install_timm_standin():
    """The environment the official code was written for. timm.models.layers.{Mlp, DropPath}, timm.models.layers.helpers.to_2tuple and
    timm.models.vision_transformer.VisionTransformer as in timm 0.6.12, the names models_vit.py imports."""

    def to_2tuple(x):
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(itertools.repeat(x, 2))

    class Mlp(nn.Module):
        def __init__(self, in_features, hidden_features=None, out_features=None, act_layer=nn.GELU, bias=True,
                     drop=0.):
            super().__init__()
            out_features = out_features or in_features
            hidden_features = hidden_features or in_features
            bias = to_2tuple(bias)
            drop_probs = to_2tuple(drop)
            self.fc1 = nn.Linear(in_features, hidden_features, bias=bias[0])
            self.act = act_layer()
            self.drop1 = nn.Dropout(drop_probs[0])
            self.fc2 = nn.Linear(hidden_features, out_features, bias=bias[1])
            self.drop2 = nn.Dropout(drop_probs[1])

        def forward(self, x):
            return self.drop2(self.fc2(self.drop1(self.act(self.fc1(x)))))

    class DropPath(nn.Module):  # stochastic depth; pretraining runs with drop_path_rate 0 (nn.Identity instead)
        def __init__(self, drop_prob=0., scale_by_keep=True):
            super().__init__()
            self.drop_prob = drop_prob
            self.scale_by_keep = scale_by_keep

        def forward(self, x):
            if self.drop_prob == 0. or not self.training:
                return x
            keep = 1 - self.drop_prob
            r = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
            return x * (r.div_(keep) if keep > 0 and self.scale_by_keep else r)

    class VisionTransformer(nn.Module):  # only subclassed by models_vit (fine-tuning), never built here
        def __init__(self, *args, **kwargs):
            raise NotImplementedError("the timm stand-in of official_step.py does not build timm's ViT")

    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    timm = module("timm", __version__="0.6.12")
    timm.models = module("timm.models")
    timm.models.vision_transformer = module("timm.models.vision_transformer", VisionTransformer=VisionTransformer)
    timm.models.layers = module("timm.models.layers", Mlp=Mlp, DropPath=DropPath, to_2tuple=to_2tuple)
    timm.models.layers.helpers = module("timm.models.layers.helpers", to_2tuple=to_2tuple)
    try:
        import turtle  # noqa: F401  (needs tkinter)
    except ImportError:
        module("turtle", update=None)
    import numpy
    if "float" not in numpy.__dict__:  # removed in NumPy 1.24; it was the builtin float
        numpy.float = float


def param_groups_weight_decay(model, weight_decay):
    """timm.optim.optim_factory.param_groups_weight_decay (0.6.12), as main_pretrain.py calls it."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.ndim <= 1 or name.endswith(".bias"):
            no_decay.append(param)
        else:
            decay.append(param)
    return [{"params": no_decay, "weight_decay": 0.}, {"params": decay, "weight_decay": weight_decay}]


def synthetic_batch(o, gen):
    """x1, x2, rel_pos_21 and mask as engine_pretrain.py hands them to the model."""
    b, grid = o.batch, o.image // o.patch
    x1 = torch.randn(b, 3, o.image, o.image, generator=gen)
    x2 = torch.randn(b, 3, o.image, o.image, generator=gen)
    mask = torch.rand(b, grid * grid, generator=gen).argsort(dim=1).argsort(dim=1) < o.mask  # exactly o.mask
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(b, generator=gen)  # noqa: E731
    rel_pos_21 = (u(-0.2, 0.2), u(0.0, 0.3), u(0.7, 1.3), u(0.7, 1.3), torch.rand(b, generator=gen) < 0.5,
                  u(0.0, 0.5))
    return x1, x2, rel_pos_21, mask


def sgemm_gflops():
    x, y = torch.randn(1024, 1024), torch.randn(1024, 1024)
    t = []
    for _ in range(12):
        s = time.perf_counter()
        x @ y
        t.append(time.perf_counter() - s)
    tail = sorted(t[2:])
    return 2.0 * 1024 ** 3 / tail[len(tail) // 2] / 1e9


def blas_library():
    """The BLAS this torch multiplies matrices with, as the dynamic loader resolved it (Linux)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]}
        return ", ".join(sorted(paths)) or "built in"
    except OSError:
        return "unknown"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("official", help="folder of the official code (models_sim.py, models_vit.py, util/)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="demo")
    p.add_argument("--name", default=None)
    p.add_argument("--threads", type=int, default=2, help="intra-op threads (torch.set_num_threads)")
    for k in PRESETS["demo"]:
        p.add_argument("--" + k.replace("_", "-"), type=type(PRESETS["demo"][k]), default=None)
    p.add_argument("--mlp-ratio", type=float, default=4.0)
    p.add_argument("--neg-weight", type=float, default=0.02)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--beta2", type=float, default=0.95)
    p.add_argument("--clip-grad", type=float, default=1.0, help="0: none")
    p.add_argument("--decoder-norm", choices=["batch", "layer"], default="batch",
                   help="layer: the official use_proj_ln and use_pred_ln")
    p.add_argument("--ema-schedule", choices=["cosine", "const"], default="cosine")
    p.add_argument("--seed", type=int, default=0)
    o = p.parse_args()
    for k, v in PRESETS[o.preset].items():
        if getattr(o, k) is None:
            setattr(o, k, v)

    if os.environ.get("OPENBLAS_NUM_THREADS") != str(o.threads):
        # torch.set_num_threads does not reach an OpenBLAS that Debian's torch loads as libblas.so.3: it reads
        # this variable once, when it is loaded, so the script starts again with it
        os.environ["OPENBLAS_NUM_THREADS"] = str(o.threads)
        os.execv(sys.executable, [sys.executable] + sys.argv)
    if not os.path.isfile(os.path.join(o.official, "models_sim.py")):
        sys.exit(f"official_step.py: {o.official} has no models_sim.py (expected a checkout of "
                 "OpenGVLab/Siamese-Image-Modeling)")
    torch.set_num_threads(o.threads)
    torch.manual_seed(o.seed)
    install_timm_standin()
    sys.path.insert(0, os.path.abspath(o.official))
    from functools import partial

    import models_sim
    import util.lr_sched as lr_sched
    from util.misc import LayerNorm, NativeScalerWithGradNormCount

    # the loss all-reduces its correlation matrix (world size 1 here)
    store_dir = tempfile.mkdtemp(prefix="official-step-")
    store = os.path.join(store_dir, "store")
    torch.distributed.init_process_group("gloo", init_method="file://" + store, rank=0, world_size=1)

    iters_per_epoch = 1000  # schedules only: lr and momentum change a little each step, as in training
    args = argparse.Namespace(
        loss_type="sim", use_abs_pos_emb=True, drop_path_rate=0.0, init_values=None,
        decoder_embed_dim=o.decoder_width, projector_depth=o.projector_depth, predictor_depth=o.predictor_depth,
        use_proj_ln=o.decoder_norm == "layer", use_pred_ln=o.decoder_norm == "layer", online_ln=False,
        train_patch_embed=False, neg_weight=o.neg_weight,
        with_blockwise_mask=True, lr=o.lr, min_lr=0.0, warmup_epochs=1, epochs=100, mm=o.ema, mmschedule=o.ema_schedule,
        clip_grad=o.clip_grad or None, weight_decay=o.weight_decay, beta2=o.beta2, accum_iter=1, fp32=True)
    model = models_sim.SiameseIMViT(
        img_size=o.image, patch_size=o.patch, embed_dim=o.width, depth=o.depth, num_heads=o.heads,
        decoder_num_heads=o.decoder_heads, mlp_ratio=o.mlp_ratio, norm_layer=partial(LayerNorm, eps=1e-6),
        args=args)
    model.train(True)
    optimizer = torch.optim.AdamW(param_groups_weight_decay(model, args.weight_decay), lr=args.lr,
                                  betas=(0.9, args.beta2))
    loss_scaler = NativeScalerWithGradNormCount(enabled=False)
    gen = torch.Generator().manual_seed(1000)
    batches = [synthetic_batch(o, gen) for _ in range(2)]

    times = []
    for it in range(o.warmup + o.steps):
        x1, x2, rel_pos_21, mask = batches[it % len(batches)]
        start = time.perf_counter()
        # engine_pretrain.train_one_epoch, one iteration (no logging, no CUDA synchronize)
        epoch = it / iters_per_epoch
        lr_sched.adjust_learning_rate(optimizer, epoch, args)
        if args.mmschedule == "const":
            mm = args.mm
        else:
            mm = 1. - 0.5 * (1. + math.cos(math.pi * epoch / args.epochs)) * (1. - args.mm)
        loss, outputs = model(x1, x2, rel_pos_21, mm, True, mask=mask)
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            sys.exit(f"official_step.py: loss is {loss_value}")
        loss_scaler(loss, optimizer, parameters=model.parameters(), update_grad=True, clip_grad=args.clip_grad)
        optimizer.zero_grad()
        if it >= o.warmup:
            times.append((time.perf_counter() - start) * 1e3)
    torch.distributed.destroy_process_group()
    shutil.rmtree(store_dir, ignore_errors=True)

    ms = sorted(times)
    median = ms[len(ms) // 2]  # as StepBenchmark: the upper median
    print(json.dumps({
        "name": o.name or o.preset, "batch": o.batch, "ms_per_step": round(median, 2), "min_ms": round(ms[0], 2),
        "max_ms": round(ms[-1], 2), "images_per_s": round(o.batch / (median / 1e3), 2),
        "sgemm_gflops": round(sgemm_gflops(), 1), "torch": torch.__version__, "blas": blas_library(),
        "threads": o.threads,
        "loss": round(loss_value, 6)}), flush=True)


if __name__ == "__main__":
    main()

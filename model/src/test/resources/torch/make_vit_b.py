"""ViT-B-sized torch.save files for `bin/siameseim bench --only pth` (generated, never committed).

    /usr/bin/python3 model/src/test/resources/torch/make_vit_b.py /tmp/pth

encoder.pth: {'model': ViT-B/16 encoder}, the released pretrain form (86 M float32, about 350 MB).
training.pth: the official save_model layout, {'model', 'optimizer', 'epoch', 'scaler', 'args'}, with
the online encoder, its mm_* target copy and AdamW moments of the encoder (about 1.3 GB).
"""
import argparse
import collections
import os
import sys

import torch

D, DEPTH, GRID = 768, 12, 14


def encoder(prefix=""):
    sd = collections.OrderedDict()
    sd[prefix + "cls_token"] = torch.randn(1, 1, D)
    if not prefix:
        sd["pos_embed"] = torch.randn(1, GRID * GRID + 1, D)
    sd[prefix + "patch_embed.proj.weight"] = torch.randn(D, 3, 16, 16)
    sd[prefix + "patch_embed.proj.bias"] = torch.randn(D)
    for i in range(DEPTH):
        b = "%sblocks.%d." % (prefix, i)
        for n, shape in (("norm1.weight", [D]), ("norm1.bias", [D]), ("attn.qkv.weight", [3 * D, D]),
                         ("attn.qkv.bias", [3 * D]), ("attn.proj.weight", [D, D]), ("attn.proj.bias", [D]),
                         ("norm2.weight", [D]), ("norm2.bias", [D]), ("mlp.fc1.weight", [4 * D, D]),
                         ("mlp.fc1.bias", [4 * D]), ("mlp.fc2.weight", [D, 4 * D]), ("mlp.fc2.bias", [D])):
            sd[b + n] = torch.randn(*shape)
    return sd


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    enc = encoder()
    torch.save({"model": enc}, os.path.join(out, "encoder.pth"))
    model = collections.OrderedDict(enc)
    model.update(encoder("mm_"))
    params = [k for k in enc]
    state = {i: {"step": torch.tensor(1000.), "exp_avg": torch.randn_like(enc[k]), "exp_avg_sq": torch.rand_like(enc[k])}
             for i, k in enumerate(params)}
    optimizer = {"state": state, "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.95), "eps": 1e-8, "weight_decay": 0.05,
                                                  "amsgrad": False, "params": list(range(len(params)))}]}
    torch.save({"model": model, "optimizer": optimizer, "epoch": 99, "scaler": {"scale": 65536.0},
                "args": argparse.Namespace(model="sim_vit_base_patch16", epochs=1600)},
               os.path.join(out, "training.pth"))
    for f in ("encoder.pth", "training.pth"):
        print(f, os.path.getsize(os.path.join(out, f)) // 10**6, "MB")


if __name__ == "__main__":
    main()

"""Checks an `export --format pth` directory with real PyTorch, as the paper's downstream code loads it.

    /usr/bin/python3 model/src/test/resources/torch/verify_export.py EXPORT_PTH_DIR [EXPORT_SAFETENSORS_DIR]

1. torch.load(encoder.pth, weights_only=True) (PyTorch 1.13+'s safe loader) gives {'model': state_dict};
2. the official main_finetune.py steps: checkpoint['model'], drop head.* if shapes differ,
   model.load_state_dict(checkpoint_model, strict=False), and its own assertion that the missing
   keys are exactly head.* and fc_norm.* (global_pool). models_vit.VisionTransformer imports timm,
   which Debian does not package, so the model below has its parameter tree (timm's ViT with
   global_pool: fc_norm and head, no final norm), sized from config.json;
3. with a safetensors export of the same checkpoint, every tensor is bit-equal.
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d, mlp):
        super().__init__()
        self.norm1 = nn.LayerNorm(d, eps=1e-6)
        self.attn = nn.Module()
        self.attn.qkv = nn.Linear(d, 3 * d)
        self.attn.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d, eps=1e-6)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(d, d * mlp)
        self.mlp.fc2 = nn.Linear(d * mlp, d)


class FinetuneViT(nn.Module):
    """models_vit.VisionTransformer(global_pool=True)'s parameters."""

    def __init__(self, c, classes=1000):
        super().__init__()
        d, grid = c["embed_dim"], c["image_size"] // c["patch_size"]
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid + 1, d), requires_grad=False)
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, d, c["patch_size"], c["patch_size"])
        self.blocks = nn.Sequential(*[Block(d, c["mlp_ratio"]) for _ in range(c["depth"])])
        self.fc_norm = nn.LayerNorm(d, eps=1e-6)
        self.head = nn.Linear(d, classes)


def safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(v["shape"])
    return out


def main():
    d = sys.argv[1]
    print("torch", torch.__version__)
    checkpoint = torch.load(os.path.join(d, "encoder.pth"), map_location="cpu", weights_only=True)
    print("torch.load(weights_only=True): keys", list(checkpoint.keys()), "-", len(checkpoint["model"]), "tensors")
    config = json.load(open(os.path.join(d, "config.json")))
    model = FinetuneViT(config)
    # main_finetune.py, "load ckpt"
    checkpoint_model = checkpoint["model"]
    state_dict = model.state_dict()
    for k in ["head.weight", "head.bias"]:
        if k in checkpoint_model and checkpoint_model[k].shape != state_dict[k].shape:
            print(f"Removing key {k} from pretrained checkpoint")
            del checkpoint_model[k]
    msg = model.load_state_dict(checkpoint_model, strict=False)
    print(msg)
    assert set(msg.missing_keys) == {"head.weight", "head.bias", "fc_norm.weight", "fc_norm.bias"}
    assert not msg.unexpected_keys
    print("main_finetune.py's assertion holds: missing keys are exactly head.* and fc_norm.*")
    if len(sys.argv) > 2:
        st = safetensors(os.path.join(sys.argv[2], "encoder.safetensors"))
        assert list(st) == list(checkpoint_model), "same names, same order"
        for k, v in st.items():
            assert v.shape == checkpoint_model[k].shape and torch.equal(v.view(torch.int32),
                                                                         checkpoint_model[k].view(torch.int32)), k
        print("all", len(st), "tensors bit-equal to the safetensors export")


if __name__ == "__main__":
    main()

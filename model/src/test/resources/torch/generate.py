"""Writes the torch.save fixtures of TorchZipTest with real PyTorch (Debian's python3-torch 1.13).

    /usr/bin/python3 model/src/test/resources/torch/generate.py OFFICIAL_REPO_DIR

OFFICIAL_REPO_DIR is a checkout of github.com/OpenGVLab/Siamese-Image-Modeling: its own
util/misc.py save_model writes the training checkpoints. Its models (models_sim.py, models_vit.py)
import timm, which Debian does not package, so the modules below rebuild their parameter trees
under the same attribute names (the state-dict keys are what a reader sees), demo-sized: image 16,
patch 4, width 16, depth 2, heads 2, decoder width 16, projector depth 1, predictor depth 2.

Each fixture NAME.pth comes with NAME.expected.safetensors: every floating-point tensor of its
state dict as PyTorch loads it back (torch.load), contiguous float32, so the Java test compares
values without PyTorch.
"""
import argparse
import collections
import json
import os
import struct
import sys

import torch
import torch.nn as nn

OUT = os.path.dirname(os.path.abspath(__file__))
IMG, PATCH, WIDTH, DEPTH, HEADS, MLP = 16, 4, 16, 2, 2, 4
GRID = IMG // PATCH


class PatchEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, WIDTH, kernel_size=PATCH, stride=PATCH)


class Attention(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)


class Mlp(nn.Module):  # timm.models.layers.Mlp: fc1, act, fc2
    def __init__(self, dim):
        super().__init__()
        self.fc1 = nn.Linear(dim, dim * MLP)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(dim * MLP, dim)


class PermuteBN(nn.Module):  # models_sim.PermuteBN: the projector's and predictor's norm
    def __init__(self, dim):
        super().__init__()
        self.bn = nn.BatchNorm1d(dim)


def layer_norm(dim):
    return nn.LayerNorm(dim, eps=1e-6)


class Block(nn.Module):  # models_vit.Block without layer scale (init_values None)
    def __init__(self, dim, norm=layer_norm):
        super().__init__()
        self.norm1 = norm(dim)
        self.attn = Attention(dim)
        self.norm2 = norm(dim)
        self.mlp = Mlp(dim)


class SiameseIMViT(nn.Module):
    """models_sim.SiameseIMViT with loss_type 'sim', use_abs_pos_emb, no online_ln."""

    def __init__(self):
        super().__init__()
        self.patch_embed = PatchEmbed()
        self.cls_token = nn.Parameter(torch.randn(1, 1, WIDTH) * .02)
        self.pos_embed = nn.Parameter(torch.randn(1, GRID * GRID + 1, WIDTH), requires_grad=False)
        self.blocks = nn.ModuleList([Block(WIDTH) for _ in range(DEPTH)])
        self.decoder_embed = nn.Linear(WIDTH, WIDTH)
        self.mask_token = nn.Parameter(torch.randn(1, 1, WIDTH) * .02)
        self.decoder_pos_embed = nn.Parameter(torch.randn(1, GRID * GRID + 1, WIDTH), requires_grad=False)
        self.projector_decoder_blocks = nn.ModuleList([Block(WIDTH, PermuteBN)])
        self.predictor_decoder_blocks = nn.ModuleList([Block(WIDTH, PermuteBN) for _ in range(2)])
        self.decoder_pred = nn.Linear(WIDTH, WIDTH)
        self.student_norm = nn.Identity()
        self.decoder_pos_mlp = nn.Linear(WIDTH * 2, WIDTH)
        # build_momentum_target
        self.mm_patch_embed = PatchEmbed()
        self.mm_cls_token = nn.Parameter(torch.zeros(1, 1, WIDTH))
        self.mm_blocks = nn.ModuleList([Block(WIDTH) for _ in range(DEPTH)])
        self.mm_patch_embed.load_state_dict(self.patch_embed.state_dict())
        self.mm_cls_token.data.copy_(self.cls_token.data)
        self.mm_blocks.load_state_dict(self.blocks.state_dict())
        self.mm_decoder_embed = nn.Linear(WIDTH, WIDTH)
        self.mm_mask_token = nn.Parameter(torch.zeros(1, 1, WIDTH))
        self.mm_projector_decoder_blocks = nn.ModuleList([Block(WIDTH, PermuteBN)])
        self.mm_decoder_embed.load_state_dict(self.decoder_embed.state_dict())
        self.mm_mask_token.data.copy_(self.mask_token.data)
        self.mm_projector_decoder_blocks.load_state_dict(self.projector_decoder_blocks.state_dict())
        for n, p in self.named_parameters():
            if n.startswith("mm_") or n.startswith("patch_embed."):  # target frozen; train_patch_embed False
                p.requires_grad = False
        self.teacher_norm = nn.LayerNorm(WIDTH, elementwise_affine=False)


class FinetunedViT(nn.Module):
    """models_vit.VisionTransformer(global_pool=True) with 10 classes: timm's tree, norm removed."""

    def __init__(self, classes=10):
        super().__init__()
        self.cls_token = nn.Parameter(torch.randn(1, 1, WIDTH))
        self.pos_embed = nn.Parameter(torch.randn(1, GRID * GRID + 1, WIDTH), requires_grad=False)
        self.patch_embed = PatchEmbed()
        self.blocks = nn.Sequential(*[Block(WIDTH) for _ in range(DEPTH)])
        self.fc_norm = layer_norm(WIDTH)
        self.head = nn.Linear(WIDTH, classes)


def param_groups_weight_decay(model, weight_decay):
    """timm.optim.optim_factory.param_groups_weight_decay, as main_pretrain.py calls it."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.ndim <= 1 or name.endswith(".bias"):
            no_decay.append(param)
        else:
            decay.append(param)
    return [{'params': no_decay, 'weight_decay': 0.}, {'params': decay, 'weight_decay': weight_decay}]


def randomize(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p))
        for n, b in model.named_buffers():
            if b.is_floating_point():
                b.copy_(torch.rand_like(b) + 0.5)
            else:
                b.fill_(7)  # num_batches_tracked


def one_step(model, groups, lr):
    opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))
    for p in model.parameters():
        if p.requires_grad:
            p.grad = torch.randn_like(p)
    opt.step()
    return opt


def official_save(misc, model, opt, epoch, out_dir, args_extra, scaler_state=None):
    args = argparse.Namespace(output_dir=out_dir, model="sim_vit_base_patch16", decoder_embed_dim=WIDTH,
                              batch_size=8, epochs=1600, blr=6.25e-5, weight_decay=0.05, mm=0.995,
                              loss_type="sim", **args_extra)
    scaler = misc.NativeScalerWithGradNormCount()
    if scaler_state is not None:
        # a GradScaler is disabled without CUDA (its state_dict() is then {}): give save_model the
        # state an enabled one returns on a GPU, torch.cuda.amp.GradScaler.state_dict()'s keys
        scaler.state_dict = lambda: dict(scaler_state)
    misc.save_model(args=args, epoch=epoch, model=model, model_without_ddp=model, optimizer=opt,
                    loss_scaler=scaler)
    return os.path.join(out_dir, "checkpoint-%d.pth" % epoch)


def write_safetensors(path, tensors):
    """Little-endian float32 safetensors (the format is a JSON header and raw bytes)."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def state_dict_of(obj):
    if isinstance(obj, dict) and "model" in obj:
        return obj["model"]
    return obj


def save(name, obj, **kw):
    path = os.path.join(OUT, name + ".pth")
    torch.save(obj, path, **kw)
    expect(name, path)


def expect(name, path):
    loaded = state_dict_of(torch.load(path, map_location="cpu"))  # our own files: trusted
    floats = collections.OrderedDict((k, v) for k, v in loaded.items() if v.is_floating_point())
    write_safetensors(os.path.join(OUT, name + ".expected.safetensors"), floats)


def hugging_face(sd):
    """timm names to transformers' ViTModel names (query, key and value apart)."""
    out = collections.OrderedDict()
    out["vit.embeddings.cls_token"] = sd["cls_token"]
    out["vit.embeddings.position_embeddings"] = sd["pos_embed"]
    out["vit.embeddings.patch_embeddings.projection.weight"] = sd["patch_embed.proj.weight"]
    out["vit.embeddings.patch_embeddings.projection.bias"] = sd["patch_embed.proj.bias"]
    for i in range(DEPTH):
        b, h = "blocks.%d." % i, "vit.encoder.layer.%d." % i
        for part, t in zip(("query", "key", "value"), sd[b + "attn.qkv.weight"].chunk(3, 0)):
            out[h + "attention.attention.%s.weight" % part] = t.clone()
        for part, t in zip(("query", "key", "value"), sd[b + "attn.qkv.bias"].chunk(3, 0)):
            out[h + "attention.attention.%s.bias" % part] = t.clone()
        for ours, theirs in (("attn.proj", "attention.output.dense"), ("mlp.fc1", "intermediate.dense"),
                             ("mlp.fc2", "output.dense"), ("norm1", "layernorm_before"),
                             ("norm2", "layernorm_after")):
            out[h + theirs + ".weight"] = sd[b + ours + ".weight"]
            out[h + theirs + ".bias"] = sd[b + ours + ".bias"]
    out["vit.layernorm.weight"] = torch.ones(WIDTH)
    out["vit.layernorm.bias"] = torch.zeros(WIDTH)
    return out


def views(sd):
    """The encoder with every tensor a view: transposed, strided and offset into shared storages."""
    out = collections.OrderedDict()
    pool = torch.zeros(4000)  # one storage for all biases and norms, at scattered offsets
    at = 17
    for k, v in sd.items():
        if not k.startswith(("cls_token", "pos_embed", "patch_embed", "blocks")):
            continue
        if v.ndim == 2:  # stored transposed: the saved tensor is a non-contiguous view
            out[k] = v.t().contiguous().t()
        elif k == "pos_embed":  # every second row of a bigger tensor
            big = torch.zeros(1, v.shape[1] * 2, WIDTH)
            big[:, ::2] = v
            out[k] = big[:, ::2]
        elif v.ndim == 1:
            pool[at:at + v.numel()] = v
            out[k] = pool[at:at + v.numel()]
            at += v.numel() + 3
        else:
            out[k] = v
    out["shared.norm1.weight"] = out["blocks.0.norm1.weight"]  # the same view twice
    return out


def main():
    official = os.path.abspath(sys.argv[1])
    sys.path.insert(0, official)
    import util.misc as misc  # the official save_model

    torch.manual_seed(0)
    work = os.path.join(OUT, "tmp")
    os.makedirs(work, exist_ok=True)

    sim = SiameseIMViT()
    randomize(sim)
    opt = one_step(sim, param_groups_weight_decay(sim, 0.05), 1e-3)
    path = official_save(misc, sim, opt, 5, work, {"train_patch_embed": False},
                         {"scale": 32768.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000,
                          "_growth_tracker": 17})
    os.replace(path, os.path.join(OUT, "official-checkpoint-5.pth"))
    expect("official-checkpoint-5", os.path.join(OUT, "official-checkpoint-5.pth"))
    # the moments by parameter name, found through the parameter objects themselves (not the group order)
    moments = collections.OrderedDict()
    for n, p in sim.named_parameters():
        if p in opt.state:
            moments["exp_avg." + n] = opt.state[p]["exp_avg"]
            moments["exp_avg_sq." + n] = opt.state[p]["exp_avg_sq"]
    write_safetensors(os.path.join(OUT, "official-checkpoint-5.moments.safetensors"), moments)

    # the released pretrain file: the training checkpoint without optimizer, scaler, epoch or args
    sd = sim.state_dict()
    save("release-pretrain", {"model": sd})
    save("release-pretrain-fp16", {"model": collections.OrderedDict((k, v.half() if v.is_floating_point() else v)
                                                                    for k, v in sd.items())})
    save("release-pretrain-bf16", {"model": collections.OrderedDict((k, v.bfloat16() if v.is_floating_point() else v)
                                                                    for k, v in sd.items())})

    ft = FinetunedViT()
    randomize(ft)
    ft_opt = one_step(ft, [{'params': list(p for p in ft.parameters() if p.requires_grad)}], 1e-3)
    path = official_save(misc, ft, ft_opt, 99, work, {"nb_classes": 10, "global_pool": True})
    os.replace(path, os.path.join(OUT, "official-finetuned-99.pth"))
    expect("official-finetuned-99", os.path.join(OUT, "official-finetuned-99.pth"))

    enc = collections.OrderedDict((k, v) for k, v in sd.items()
                                  if k.startswith(("cls_token", "pos_embed", "patch_embed", "blocks")))
    mae = collections.OrderedDict(enc)
    mae["norm.weight"] = torch.ones(WIDTH)
    mae["norm.bias"] = torch.zeros(WIDTH)
    save("mae-pretrain", {"model": mae})
    timm = collections.OrderedDict(mae)
    timm["head.weight"] = torch.randn(10, WIDTH)
    timm["head.bias"] = torch.randn(10)
    save("timm-bare", timm)
    save("hf-pytorch_model", hugging_face(sd))
    save("views", {"model": views(sd)})

    # refused kinds
    torch.save({"model": enc}, os.path.join(OUT, "legacy-1.5.pth"), _use_new_zipfile_serialization=False)
    torch.jit.save(torch.jit.script(nn.Linear(4, 2)), os.path.join(OUT, "torchscript.pt"))
    os.rmdir(work)
    print("torch", torch.__version__, "->", OUT)


if __name__ == "__main__":
    main()

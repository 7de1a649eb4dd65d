#!/usr/bin/env python3
"""The official SiameseIM data path on one thread: PIL decode (ImageFolder's loader) and the official
`DataAugmentationForSIM` with the block mask of `ImagenetWithMask`, timed on JPEG files. It is the other side
of `bin/siameseim bench --only data --official DIR`, which writes the JPEGs its own benchmark decodes and runs
this script beside it (docs/dataset-format.md, "Decoder and augmentation throughput").

The augmentation is the official code itself: the class is taken from the checkout's main_pretrain.py (its
source, executed without the rest of that file, which needs timm and tensorboard) with the recipe of
configs/pretrain/dist_sim_base_1600ep.sh: 224 px, crop_min 0.08, 118 masked patches in blocks of at least 16.
Same protocol as ours: 20 warm-up images, then decode alone and decode + augmentation + mask, each for
--seconds, cycling through the files. Prints one JSON line:
{"decode_per_s", "decode_augment_per_s", "decode_augment_per_cpu_s" (per second of the process's CPU time, which
a shared machine disturbs less), "images", "torch", "torchvision", "pil"}.

Needs PyTorch and torchvision (Debian: apt install python3-torchvision; run it with /usr/bin/python3).

    /usr/bin/python3 docs/bench/official_augment.py OFFICIAL_DIR --images DIR [--seconds 4] [--threads 1]
"""
import argparse
import ast
import io
import json
import os
import sys
import time


def official_augmentation(code_dir):
    """DataAugmentationForSIM from main_pretrain.py, compiled on its own with the names its body uses."""
    import torchvision.transforms as transforms
    from util.augmentation import GaussianBlur, RandomHorizontalFlip, SingleRandomResizedCrop, Solarize

    path = os.path.join(code_dir, "main_pretrain.py")
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    cls = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "DataAugmentationForSIM"]
    if not cls:
        sys.exit(f"{path} has no class DataAugmentationForSIM")
    scope = {"transforms": transforms, "GaussianBlur": GaussianBlur, "RandomHorizontalFlip": RandomHorizontalFlip,
             "SingleRandomResizedCrop": SingleRandomResizedCrop, "Solarize": Solarize}
    exec(compile(ast.Module(body=cls, type_ignores=[]), path, "exec"), scope)
    return scope["DataAugmentationForSIM"]


def rates(seconds, work):
    """Runs per second of the wall clock and per second of the process's CPU time (as ours reports)."""
    cpu = time.process_time()
    start = time.perf_counter()
    end = start + seconds
    n = 0
    while time.perf_counter() < end:
        work(n)
        n += 1
    return n / (time.perf_counter() - start), n / (time.process_time() - cpu)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("official", help="a checkout of OpenGVLab/Siamese-Image-Modeling")
    p.add_argument("--images", required=True, help="a folder of .jpg files")
    p.add_argument("--seconds", type=float, default=4)
    p.add_argument("--threads", type=int, default=1)
    o = p.parse_args()
    sys.path.insert(0, os.path.abspath(o.official))
    import warnings

    import numpy as np
    import PIL
    import torch
    import torchvision
    from PIL import Image
    from util.masking_generator import MaskingGenerator

    if not hasattr(np, "int"):
        np.int = int  # the generator's np.zeros(dtype=np.int): an alias NumPy 1.24 removed, the same type
    # torchvision 0.13-0.14 warns that the official code's interpolation=3 (bicubic) is an int
    warnings.filterwarnings("ignore", message="Argument 'interpolation'")

    torch.set_num_threads(o.threads)
    files = sorted(os.path.join(o.images, f) for f in os.listdir(o.images) if f.endswith(".jpg"))
    if not files:
        sys.exit(f"{o.images} holds no .jpg files")
    jpegs = []
    for f in files:
        with open(f, "rb") as fh:
            jpegs.append(fh.read())
    args = argparse.Namespace(input_size=224, crop_min=0.08)
    augment = official_augmentation(o.official)(args)
    # ImagenetWithMask's generator, as main_pretrain.py builds it for the recipe
    mask = MaskingGenerator((14, 14), num_masking_patches=118, max_num_patches=None, min_num_patches=16,
                            fixed_num_masking_patches=True)

    def decode(i):
        # torchvision's pil_loader, on bytes in memory as ours decodes them
        return Image.open(io.BytesIO(jpegs[i % len(jpegs)])).convert("RGB")

    def decode_augment(i):
        augment(decode(i))
        mask()

    for i in range(20):
        decode_augment(i)
    decode_rate = rates(o.seconds, decode)[0]
    full_rate, full_cpu = rates(o.seconds, decode_augment)
    print(json.dumps({"decode_per_s": round(decode_rate, 2), "decode_augment_per_s": round(full_rate, 2),
                      "decode_augment_per_cpu_s": round(full_cpu, 2),
                      "images": len(jpegs), "torch": torch.__version__, "torchvision": torchvision.__version__,
                      "pil": PIL.__version__}), flush=True)


if __name__ == "__main__":
    main()

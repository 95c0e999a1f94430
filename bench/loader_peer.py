#!/usr/bin/python3
"""The peer of bench/loader_bench.cpp: torchvision's DataLoader on the same images and work.

BCCD (640x480 JPEGs) -> 320x320, 2 worker processes, batch 8: decode (torchvision.io.decode_jpeg),
random erasing before the resize as in the C++ pipeline (p=0.5, scale 0.02-0.4, ratio 0.3-3.33,
random values; also in the cheaper order after the resize), horizontal flip with its boxes (p=0.5), ColorJitter with SSD-like ranges
(brightness +-32/255 approximated by factor 0.875-1.125, contrast 0.5-1.5, saturation 0.5-1.5,
hue +-18 degrees), bilinear resize of image and boxes, normalisation; boxes collated as a list.
Also measures the decode-only ceiling with the same DataLoader. Prints images/s.

Usage: /usr/bin/python3 bench/loader_peer.py [--data DIR] [--workers 2] [--epochs 3]
"""
import argparse
import os
import time
import xml.etree.ElementTree as ET

import torch
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from torchvision.io import ImageReadMode, decode_jpeg, read_file


def default_data():
    shared = os.environ.get("CVTK_SHARED") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")
    return os.path.join(shared, "data", "bccd")


def read_voc(root):
    items = []
    for split in ("train", "val"):
        with open(os.path.join(root, "ImageSets", "Main", split + ".txt")) as f:
            ids = [line.strip() for line in f if line.strip()]
        for i in ids:
            tree = ET.parse(os.path.join(root, "Annotations", i + ".xml"))
            boxes = []
            for obj in tree.findall("object"):
                bb = obj.find("bndbox")
                boxes.append([float(bb.find("xmin").text) - 1, float(bb.find("ymin").text) - 1,
                              float(bb.find("xmax").text), float(bb.find("ymax").text)])
            items.append((os.path.join(root, "JPEGImages", i + ".jpg"), torch.tensor(boxes).reshape(-1, 4)))
    return items


class BCCD(torch.utils.data.Dataset):
    def __init__(self, items, size, augment, resize_first=False):
        self.items, self.size, self.augment, self.resize_first = items, size, augment, resize_first
        self.jitter = T.ColorJitter(brightness=0.125, contrast=0.5, saturation=0.5, hue=0.05)
        self.mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
        self.std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)

    @staticmethod
    def erase(img):  # on uint8 with random values in [0, 255], like the C++ fill=random
        if torch.rand(1) < 0.5:
            y, x, eh, ew, _ = T.RandomErasing.get_params(img, scale=(0.02, 0.4), ratio=(0.3, 3.33))
            img = img.clone()
            img[:, y:y + eh, x:x + ew] = torch.randint(0, 256, (3, eh, ew), dtype=torch.uint8)
        return img

    @staticmethod
    def flip(img, boxes, w):
        if torch.rand(1) < 0.5:
            img = TF.hflip(img)
            boxes[:, [0, 2]] = w - boxes[:, [2, 0]]
        return img, boxes

    def resize(self, img, boxes, w, h):
        img = TF.resize(img, [self.size, self.size], interpolation=T.InterpolationMode.BILINEAR, antialias=False)
        boxes[:, [0, 2]] *= self.size / w
        boxes[:, [1, 3]] *= self.size / h
        return img, boxes

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, boxes = self.items[i]
        img = decode_jpeg(read_file(path), mode=ImageReadMode.RGB)  # uint8 [3,H,W]
        if not self.augment:
            return img, boxes
        h, w = img.shape[1:]
        boxes = boxes.clone()
        if self.resize_first:  # resize, hflip, colour, erase: pixel-wise work on the small image
            img, boxes = self.resize(img, boxes, w, h)
            img, boxes = self.flip(img, boxes, self.size)
            img = self.erase(self.jitter(img))
        else:  # erase, hflip, colour, resize
            img, boxes = self.flip(self.erase(img), boxes, w)
            img, boxes = self.resize(self.jitter(img), boxes, w, h)
        x = (img.float() / 255 - self.mean) / self.std
        return x, boxes


def collate(batch):
    images = [b[0] for b in batch]
    if images[0].dtype == torch.float32:
        images = torch.stack(images)
    return images, [b[1] for b in batch]


def run(ds, workers, epochs, batch):
    loader = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers,
                                         collate_fn=collate, persistent_workers=workers > 0)
    n = 0
    t0 = time.perf_counter()
    for _ in range(epochs):
        for x, _ in loader:
            n += len(x)
    return n / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=default_data())
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=320)
    a = ap.parse_args()
    torch.set_num_threads(1)
    items = read_voc(a.data)
    print(f"torch {torch.__version__}; {len(items)} images; {a.workers} workers, batch {a.batch}, {a.size}x{a.size}")
    print(f"{'decode only (decode_jpeg, RGB)':64s} {run(BCCD(items, a.size, False), a.workers, a.epochs, a.batch):8.1f} images/s")
    print(f"{'DataLoader: resize hflip ColorJitter erase normalise':64s} {run(BCCD(items, a.size, True, True), a.workers, a.epochs, a.batch):8.1f} images/s")
    print(f"{'DataLoader: erase hflip ColorJitter resize normalise':64s} {run(BCCD(items, a.size, True), a.workers, a.epochs, a.batch):8.1f} images/s")


if __name__ == "__main__":
    main()

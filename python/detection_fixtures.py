#!/usr/bin/env python3
"""Parity fixtures for cvtk's detection ops, computed with Debian's torchvision (python3-torchvision).

  detection_fixtures.py OUT.pt [--seed S]

Writes one torch.save'd {name: tensor} dict:
  psroi.<case>.{features,rois,grad_out,spatial_scale,pooled_size}   inputs of torchvision.ops.ps_roi_align
  psroi.<case>.sr<k>.{out,grad}   output and features.grad for sampling_ratio k (2, or -1 = adaptive)
  nms.{boxes,scores}, nms.keep.<t>            torchvision.ops.nms (scores with ties) at thresholds t
  nms_large.{boxes,scores,keep}               3000 boxes, threshold 0.5
  batched<n>.{boxes,scores,labels,keep}       torchvision.ops.batched_nms, threshold 0.5
"""
import argparse

import torch
import torchvision


def random_rois(g, n_images, n, img_h, img_w):
    """RoIs inside, partly outside and far outside the image, large and tiny."""
    b = torch.randint(0, n_images, (n,), generator=g).float()
    x1 = torch.rand(n, generator=g) * img_w * 1.4 - 0.3 * img_w
    y1 = torch.rand(n, generator=g) * img_h * 1.4 - 0.3 * img_h
    w = torch.rand(n, generator=g) * img_w * 0.9 + 0.5
    h = torch.rand(n, generator=g) * img_h * 0.9 + 0.5
    tiny = torch.rand(n, generator=g) < 0.2  # a fraction of a feature pixel
    w = torch.where(tiny, torch.rand(n, generator=g) * 2 + 0.01, w)
    h = torch.where(tiny, torch.rand(n, generator=g) * 2 + 0.01, h)
    return torch.stack([b, x1, y1, x1 + w, y1 + h], 1)


def psroi_case(out, g, name, n_images, alpha, p, h, w, scale, n_rois):
    feats = torch.randn(n_images, alpha * p * p, h, w, generator=g)
    rois = random_rois(g, n_images, n_rois, h / scale, w / scale)
    grad_out = torch.randn(n_rois, alpha, p, p, generator=g)
    out[f"psroi.{name}.features"] = feats
    out[f"psroi.{name}.rois"] = rois
    out[f"psroi.{name}.grad_out"] = grad_out
    out[f"psroi.{name}.spatial_scale"] = torch.tensor([scale], dtype=torch.float64)
    out[f"psroi.{name}.pooled_size"] = torch.tensor([p, alpha])
    for sr in (2, -1):
        x = feats.clone().requires_grad_(True)
        y = torchvision.ops.ps_roi_align(x, rois, p, spatial_scale=scale, sampling_ratio=sr)
        y.backward(grad_out)
        key = f"psroi.{name}.sr{sr}"
        out[key + ".out"] = y.detach()
        out[key + ".grad"] = x.grad


def random_boxes(g, n, quantum=None):
    xy = torch.rand(n, 2, generator=g) * 100
    wh = torch.rand(n, 2, generator=g) * 35 + 5
    boxes = torch.cat([xy, xy + wh], 1)
    if quantum:
        boxes = torch.round(boxes / quantum) * quantum
    return boxes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    g = torch.Generator().manual_seed(args.seed)
    out = {}

    psroi_case(out, g, "a", n_images=3, alpha=2, p=7, h=13, w=11, scale=0.5, n_rois=40)
    psroi_case(out, g, "b", n_images=2, alpha=3, p=3, h=9, w=10, scale=0.25, n_rois=30)

    boxes = random_boxes(g, 600)
    scores = torch.randint(0, 20, (600,), generator=g).float() / 20  # many ties
    out["nms.boxes"], out["nms.scores"] = boxes, scores
    for t in (0.0, 0.3, 0.5, 0.7, 1.0):
        out[f"nms.keep.{t}"] = torchvision.ops.nms(boxes, scores, t)

    boxes = random_boxes(g, 3000)
    scores = torch.rand(3000, generator=g)
    out["nms_large.boxes"], out["nms_large.scores"] = boxes, scores
    out["nms_large.keep"] = torchvision.ops.nms(boxes, scores, 0.5)

    # Quarter-pixel coordinates keep torchvision's coordinate-offset trick exact; unique scores make its
    # (unstable) final sort deterministic. 800 boxes take the offset path, 2000 the per-class path.
    for n in (800, 2000):
        boxes = random_boxes(g, n, quantum=0.25)
        scores = torch.randperm(n, generator=g).float() / n
        labels = torch.randint(0, 6, (n,), generator=g)
        key = f"batched{n}"
        out[key + ".boxes"], out[key + ".scores"], out[key + ".labels"] = boxes, scores, labels
        out[key + ".keep"] = torchvision.ops.batched_nms(boxes, scores, labels, 0.5)

    torch.save(out, args.out)


if __name__ == "__main__":
    main()

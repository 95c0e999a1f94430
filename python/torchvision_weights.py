#!/usr/bin/env python3
"""Weight interop between torchvision and cvtk, and parity fixtures for cvtk's tests.

Run with Debian's Python, which has torch and torchvision (python3-torchvision):

  torchvision_weights.py export NAME OUT.pt [--seed S] [--from-pth FILE]
      torchvision model NAME's state_dict (random with the seed, or loaded from a local .pth) in the
      file format cvtk reads (a torch.save'd {name: tensor} dict).
  torchvision_weights.py import NAME WEIGHTS.pt [--input X.pt --output Y.pt]
      loads a cvtk-written weights file into torchvision's NAME strictly (every key, every shape);
      with --input, runs the model in eval mode on that tensor and saves the logits.
  torchvision_weights.py fixture NAME OUT.pt [--seed S] [--batch B] [--size N] [--transform-input]
      weights ("weights.<key>"), an input, eval-mode logits and feature maps ("eval.c2".."eval.c5"),
      and after one train-mode forward the feature maps and BatchNorm statistics ("train.*").
"""
import argparse
import sys

import torch
import torchvision

MODELS = {
    "shufflenet_v2_x0_5": (torchvision.models.shufflenet_v2_x0_5, 224),
    "shufflenet_v2_x1_0": (torchvision.models.shufflenet_v2_x1_0, 224),
    "shufflenet_v2_x1_5": (torchvision.models.shufflenet_v2_x1_5, 224),
    "shufflenet_v2_x2_0": (torchvision.models.shufflenet_v2_x2_0, 224),
    "swin_t": (torchvision.models.swin_t, 224),
    "swin_s": (torchvision.models.swin_s, 224),
    "swin_b": (torchvision.models.swin_b, 224),
    "inception_v3": (torchvision.models.inception_v3, 299),
    "googlenet": (torchvision.models.googlenet, 224),
}


def build(name, transform_input=False, train_safe=False):
    ctor, size = MODELS[name]
    kwargs = {"weights": None}
    if name in ("inception_v3", "googlenet"):
        kwargs.update(aux_logits=True, init_weights=True, transform_input=transform_input)
    m = ctor(**kwargs)
    if train_safe:  # a train-mode pass that is deterministic: no stochastic depth
        for mod in m.modules():
            if isinstance(mod, torchvision.ops.StochasticDepth):
                mod.p = 0.0
    return m, size


def features(name, m, x):
    """The feature maps cvtk names c2..c5, computed from torchvision's own modules."""
    out = {}
    if name.startswith("shufflenet"):
        y = m.maxpool(m.conv1(x)); out["c2"] = y
        y = m.stage2(y); out["c3"] = y
        y = m.stage3(y); out["c4"] = y
        out["c5"] = m.conv5(m.stage4(y))
    elif name.startswith("swin"):
        y = m.features[0](x)
        for i, key in ((1, "c2"), (3, "c3"), (5, "c4"), (7, "c5")):
            if i > 1:
                y = m.features[i - 1](y)
            y = m.features[i](y)
            out[key] = y.permute(0, 3, 1, 2)
    elif name == "inception_v3":
        y = m._transform_input(x)
        y = m.maxpool1(m.Conv2d_2b_3x3(m.Conv2d_2a_3x3(m.Conv2d_1a_3x3(y)))); out["c2"] = y
        y = m.maxpool2(m.Conv2d_4a_3x3(m.Conv2d_3b_1x1(y)))
        y = m.Mixed_5d(m.Mixed_5c(m.Mixed_5b(y))); out["c3"] = y
        y = m.Mixed_6e(m.Mixed_6d(m.Mixed_6c(m.Mixed_6b(m.Mixed_6a(y))))); out["c4"] = y
        out["c5"] = m.Mixed_7c(m.Mixed_7b(m.Mixed_7a(y)))
    elif name == "googlenet":
        y = m._transform_input(x)
        y = m.conv3(m.conv2(m.maxpool1(m.conv1(y)))); out["c2"] = y
        y = m.inception3b(m.inception3a(m.maxpool2(y))); out["c3"] = y
        y = m.maxpool3(y)
        y = m.inception4e(m.inception4d(m.inception4c(m.inception4b(m.inception4a(y))))); out["c4"] = y
        out["c5"] = m.inception5b(m.inception5a(m.maxpool4(y)))
    return out


def cmd_export(a):
    torch.manual_seed(a.seed)
    m, _ = build(a.name)
    if a.from_pth:
        m.load_state_dict(torch.load(a.from_pth, map_location="cpu"))
    torch.save(dict(m.state_dict()), a.out)
    print(f"wrote {len(m.state_dict())} tensors of {a.name} to {a.out}")


def cmd_import(a):
    m, size = build(a.name)
    sd = torch.load(a.weights, map_location="cpu")
    result = m.load_state_dict(sd, strict=True)
    print(f"loaded {len(sd)} tensors into torchvision {a.name}: {result}")
    if a.input:
        x = torch.load(a.input)
        if isinstance(x, dict):  # a cvtk-written {name: tensor} file holding the input
            x = next(iter(x.values()))
        m.eval()
        with torch.no_grad():
            y = m(x)
        # Two entries: LibTorch 1.13's unpickler lacks the opcode Python uses for one-entry dicts.
        torch.save({"logits": y.detach().clone().contiguous(), "input": x}, a.output)


def cmd_fixture(a):
    torch.manual_seed(a.seed)
    m, size = build(a.name, a.transform_input, train_safe=True)
    size = a.size or size
    out = {}
    for k, v in m.state_dict().items():
        out["weights." + k] = v.clone()
    x = torch.randn(a.batch, 3, size, size, generator=torch.Generator().manual_seed(a.seed + 1))
    out["input"] = x
    m.eval()
    with torch.no_grad():
        out["eval.logits"] = m(x)
        for k, v in features(a.name, m, x).items():
            out["eval." + k] = v
    m.train()
    with torch.no_grad():
        for k, v in features(a.name, m, x).items():
            out["train." + k] = v
    for k, v in m.state_dict().items():
        if "running_" in k or "num_batches_tracked" in k:
            out["train.state." + k] = v.clone()
    torch.save(out, a.out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export"); e.add_argument("name", choices=MODELS); e.add_argument("out")
    e.add_argument("--seed", type=int, default=0); e.add_argument("--from-pth")
    i = sub.add_parser("import"); i.add_argument("name", choices=MODELS); i.add_argument("weights")
    i.add_argument("--input"); i.add_argument("--output")
    f = sub.add_parser("fixture"); f.add_argument("name", choices=MODELS); f.add_argument("out")
    f.add_argument("--seed", type=int, default=0); f.add_argument("--batch", type=int, default=1)
    f.add_argument("--size", type=int, default=0); f.add_argument("--transform-input", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(2)
    {"export": cmd_export, "import": cmd_import, "fixture": cmd_fixture}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Exports idem's models with Debian's python3-torch (random weights, fixed seed; nothing is
downloaded).

  /usr/bin/python3 scripts/export_models.py --demo          # models/demo_cnn.onnx (+ input), shipped
  /usr/bin/python3 scripts/export_models.py --out DIR NAME  # benchmark models (not committed)
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = None
        if stride != 1 or cin != cout:
            self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.skip is None else self.skip(x)))


class DemoCnn(nn.Module):
    """A small ResNet-style image classifier (about 1.2 M parameters, 4.7 MB)."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
                                  nn.MaxPool2d(2))
        self.blocks = nn.Sequential(ResidualBlock(32, 64, 2), ResidualBlock(64, 128, 2), ResidualBlock(128, 128, 1))
        self.head = nn.Linear(128, classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return torch.softmax(self.head(x), dim=1)


def randomize_batchnorm(model):
    # Fresh BatchNorm layers are identities; give them non-trivial statistics.
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def export_demo(out_dir):
    torch.manual_seed(0)
    model = DemoCnn().eval()
    randomize_batchnorm(model)
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32))
    path = os.path.join(out_dir, "demo_cnn.onnx")
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["probabilities"], opset_version=13,
                      do_constant_folding=True, dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}})
    np.save(os.path.join(out_dir, "demo_cnn_input.npy"), x.numpy())
    with torch.no_grad():
        np.save(os.path.join(out_dir, "demo_cnn_torch_output.npy"), model(x).numpy())
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", action="store_true", help="export the shipped demo model into models/")
    ap.add_argument("--out", default="models")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.demo:
        export_demo(args.out)
    else:
        ap.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

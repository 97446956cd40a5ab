#!/usr/bin/python3
"""Exports idem's models with Debian's python3-torch (random weights, fixed seed; nothing is
downloaded).

  /usr/bin/python3 scripts/export_models.py --demo          # models/demo_cnn.onnx (+ input), shipped
  /usr/bin/python3 scripts/export_models.py --bench [NAMES...]  # benchmark models into models/bench/
                                                                 # (not committed; needs python3-torchvision)

Benchmark models: resnet50, mobilenetv2, bert, gpt2, unet (default: all). See export_bench().
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


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


# ---------------------------------------------------------------------------------------------
# Benchmark models (--bench): exported into models/bench/ (git-ignored, never committed).
#
# Each model NAME gives, in the output directory:
#   NAME.onnx                 opset 17, fixed shapes, random weights from a fixed seed
#   NAME.input.<INPUT>.npy    one fixed input per graph input
#   NAME.torch.<OUTPUT>.npy   PyTorch's fp32 output for those inputs (the reference)
#   NAME.json                 manifest: inputs, outputs, files, parameter count, file size
# scripts/compare_ort.sh reads the manifest.
# ---------------------------------------------------------------------------------------------
OPSET_BENCH = 17


def randomize_norms(model, seed=1):
    """Fresh BatchNorm/LayerNorm/GroupNorm layers are identities; give them non-trivial parameters
    and statistics so that the exported graph computes something representative."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            elif isinstance(m, (nn.LayerNorm, nn.GroupNorm)) and m.weight is not None:
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.05)


# --- BERT-base-like encoder ----------------------------------------------------------------------

class BertSelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)

    def split(self, x):  # (B, S, H) -> (B, heads, S, head_dim)
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x, ext_mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + ext_mask
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v)
        b, _, s, _ = ctx.shape
        return self.out(ctx.permute(0, 2, 1, 3).reshape(b, s, self.heads * self.head_dim))


class BertLayer(nn.Module):
    def __init__(self, hidden, heads, ffn):
        super().__init__()
        self.attn = BertSelfAttention(hidden, heads)
        self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
        self.ffn_in = nn.Linear(hidden, ffn)
        self.ffn_out = nn.Linear(ffn, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x, ext_mask):  # post-LN, as in BERT
        x = self.ln1(x + self.attn(x, ext_mask))
        return self.ln2(x + self.ffn_out(F.gelu(self.ffn_in(x))))


class BertEncoder(nn.Module):
    """BERT-base shapes: vocab 30522, 12 layers, hidden 768, 12 heads, FFN 3072, exact (erf) GELU."""

    def __init__(self, vocab=30522, max_pos=512, hidden=768, layers=12, heads=12, ffn=3072):
        super().__init__()
        self.word = nn.Embedding(vocab, hidden)
        self.position = nn.Embedding(max_pos, hidden)
        self.token_type = nn.Embedding(2, hidden)
        self.ln = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList([BertLayer(hidden, heads, ffn) for _ in range(layers)])
        self.pooler = nn.Linear(hidden, hidden)

    def forward(self, input_ids, attention_mask):
        s = input_ids.shape[1]
        pos = torch.arange(s, dtype=torch.int64).unsqueeze(0)
        x = self.word(input_ids) + self.position(pos) + self.token_type(torch.zeros_like(input_ids))
        x = self.ln(x)
        ext_mask = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        for layer in self.layers:
            x = layer(x, ext_mask)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return x, pooled


# --- GPT-2-small-like decoder --------------------------------------------------------------------

class Gpt2Block(nn.Module):
    def __init__(self, hidden, heads, max_pos):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.ln1 = nn.LayerNorm(hidden)
        self.c_attn = nn.Linear(hidden, 3 * hidden)
        self.c_proj = nn.Linear(hidden, hidden)
        self.ln2 = nn.LayerNorm(hidden)
        self.fc = nn.Linear(hidden, 4 * hidden)
        self.proj = nn.Linear(4 * hidden, hidden)
        self.register_buffer("causal", torch.tril(torch.ones(max_pos, max_pos, dtype=torch.bool))[None, None],
                             persistent=False)

    def attention(self, x):
        b, s, h = x.shape
        q, k, v = self.c_attn(x).split(h, dim=2)
        q, k, v = (t.view(b, s, self.heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = torch.where(self.causal[:, :, :s, :s], scores,
                             torch.tensor(torch.finfo(torch.float32).min, dtype=torch.float32))
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, s, h)
        return self.c_proj(ctx)

    def forward(self, x):  # pre-LN, as in GPT-2
        x = x + self.attention(self.ln1(x))
        return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Gpt2Decoder(nn.Module):
    """GPT-2 small shapes: vocab 50257, context 1024, 12 layers, hidden 768, 12 heads, tanh GELU,
    LM head tied to the token embedding; returns the logits of every position."""

    def __init__(self, vocab=50257, max_pos=1024, hidden=768, layers=12, heads=12):
        super().__init__()
        self.wte = nn.Embedding(vocab, hidden)
        self.wpe = nn.Embedding(max_pos, hidden)
        self.blocks = nn.ModuleList([Gpt2Block(hidden, heads, max_pos) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(hidden)
        with torch.no_grad():  # GPT-2's initialization (std 0.02), so that logits stay in a sane range
            for m in self.modules():
                if isinstance(m, (nn.Linear, nn.Embedding)):
                    m.weight.normal_(0.0, 0.02)
                if isinstance(m, nn.Linear):
                    m.bias.zero_()

    def forward(self, input_ids):
        s = input_ids.shape[1]
        pos = torch.arange(s, dtype=torch.int64).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(pos)
        for block in self.blocks:
            x = block(x)
        return F.linear(self.ln_f(x), self.wte.weight)


# --- small diffusion-style UNet ------------------------------------------------------------------

def timestep_embedding(t, dim, max_period=10000.0):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t.to(torch.float32)[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class UResBlock(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.norm1 = nn.GroupNorm(32, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(32, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class UAttention(nn.Module):
    def __init__(self, ch, heads):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(32, ch)
        self.qkv = nn.Linear(ch, 3 * ch)
        self.out = nn.Linear(ch, ch)

    def forward(self, x):
        b, c, hh, ww = x.shape
        t = self.norm(x).reshape(b, c, hh * ww).transpose(1, 2)  # (B, HW, C)
        q, k, v = self.qkv(t).chunk(3, dim=-1)
        d = c // self.heads
        q, k, v = (z.reshape(b, hh * ww, self.heads, d).transpose(1, 2) for z in (q, k, v))
        a = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d), dim=-1)
        o = torch.matmul(a, v).transpose(1, 2).reshape(b, hh * ww, c)
        return x + self.out(o).transpose(1, 2).reshape(b, c, hh, ww)


class SmallUNet(nn.Module):
    """Diffusion-style UNet on a 4×64×64 latent: channels 64/128/256 at 64²/32²/16², two ResBlocks
    (GroupNorm 32 + SiLU + 3×3 conv, timestep embedding added) per level, stride-2 conv down,
    nearest 2× upsample + conv up, skip concatenation, self-attention (4 heads) in the 16² middle."""

    def __init__(self, cin=4, chs=(64, 128, 256), temb=256):
        super().__init__()
        self.temb_dim = chs[0]
        self.time_mlp = nn.Sequential(nn.Linear(chs[0], temb), nn.SiLU(), nn.Linear(temb, temb))
        self.conv_in = nn.Conv2d(cin, chs[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        self.downsamples = nn.ModuleList()
        skips = [chs[0]]
        ch = chs[0]
        for i, c in enumerate(chs):
            self.down_blocks.append(nn.ModuleList([UResBlock(ch, c, temb), UResBlock(c, c, temb)]))
            ch = c
            skips += [c, c]
            if i + 1 < len(chs):
                self.downsamples.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
                skips.append(c)
        self.mid1 = UResBlock(ch, ch, temb)
        self.mid_attn = UAttention(ch, 4)
        self.mid2 = UResBlock(ch, ch, temb)
        self.up_blocks = nn.ModuleList()
        self.upsamples = nn.ModuleList()
        for i, c in reversed(list(enumerate(chs))):
            blocks = nn.ModuleList()
            for _ in range(3):
                blocks.append(UResBlock(ch + skips.pop(), c, temb))
                ch = c
            self.up_blocks.append(blocks)
            if i > 0:
                self.upsamples.append(nn.Conv2d(c, c, 3, padding=1))
        self.norm_out = nn.GroupNorm(32, ch)
        self.conv_out = nn.Conv2d(ch, cin, 3, padding=1)

    def forward(self, sample, timestep):
        emb = self.time_mlp(timestep_embedding(timestep, self.temb_dim))
        h = self.conv_in(sample)
        hs = [h]
        for i, blocks in enumerate(self.down_blocks):
            for blk in blocks:
                h = blk(h, emb)
                hs.append(h)
            if i < len(self.downsamples):
                h = self.downsamples[i](h)
                hs.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb)), emb)
        for i, blocks in enumerate(self.up_blocks):
            for blk in blocks:
                h = blk(torch.cat([h, hs.pop()], dim=1), emb)
            if i < len(self.upsamples):
                h = self.upsamples[i](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


# --- registry --------------------------------------------------------------------------------------

def _image_input(seed):
    return {"input": np.random.default_rng(seed).standard_normal((1, 3, 224, 224)).astype(np.float32)}


def build_resnet50():
    import torchvision
    model = torchvision.models.resnet50(weights=None)
    return model, _image_input(100), ["input"], ["logits"]


def build_mobilenetv2():
    import torchvision
    model = torchvision.models.mobilenet_v2(weights=None)
    return model, _image_input(101), ["input"], ["logits"]


def build_bert():
    model = BertEncoder()
    rng = np.random.default_rng(102)
    seq = 128
    ids = rng.integers(1000, 30522, size=(1, seq), dtype=np.int64)
    ids[0, 0] = 101  # [CLS]
    mask = np.ones((1, seq), dtype=np.int64)
    mask[0, 100:] = 0  # the last 28 positions are padding: the attention mask matters
    return model, {"input_ids": ids, "attention_mask": mask}, ["input_ids", "attention_mask"], \
        ["last_hidden_state", "pooler_output"]


def build_gpt2():
    model = Gpt2Decoder()
    ids = np.random.default_rng(103).integers(0, 50257, size=(1, 128), dtype=np.int64)
    return model, {"input_ids": ids}, ["input_ids"], ["logits"]


def build_unet():
    model = SmallUNet()
    rng = np.random.default_rng(104)
    sample = rng.standard_normal((1, 4, 64, 64)).astype(np.float32)
    return model, {"sample": sample, "timestep": np.array([500.0], dtype=np.float32)}, ["sample", "timestep"], \
        ["out_sample"]


BENCH_MODELS = {
    "resnet50": build_resnet50,
    "mobilenetv2": build_mobilenetv2,
    "bert": build_bert,
    "gpt2": build_gpt2,
    "unet": build_unet,
}
BENCH_SEEDS = {"resnet50": 10, "mobilenetv2": 11, "bert": 12, "gpt2": 13, "unet": 14}


def export_bench(name, out_dir):
    torch.manual_seed(BENCH_SEEDS[name])
    model, inputs, input_names, output_names = BENCH_MODELS[name]()
    model = model.eval()
    randomize_norms(model, seed=BENCH_SEEDS[name] + 1000)
    args = tuple(torch.from_numpy(inputs[n]) for n in input_names)
    path = os.path.join(out_dir, f"{name}.onnx")
    with torch.no_grad():
        torch.onnx.export(model, args, path, input_names=input_names, output_names=output_names,
                          opset_version=OPSET_BENCH, do_constant_folding=True)
        outs = model(*args)
    if isinstance(outs, torch.Tensor):
        outs = (outs,)
    manifest = {"name": name, "onnx": os.path.basename(path), "opset": OPSET_BENCH,
                "params": int(sum(p.numel() for p in model.parameters())),
                "onnx_bytes": os.path.getsize(path),
                "inputs": {}, "torch_outputs": {}}
    for n in input_names:
        f = f"{name}.input.{n}.npy"
        np.save(os.path.join(out_dir, f), inputs[n])
        manifest["inputs"][n] = f
    for n, t in zip(output_names, outs):
        f = f"{name}.torch.{n}.npy"
        np.save(os.path.join(out_dir, f), t.numpy())
        manifest["torch_outputs"][n] = f
    with open(os.path.join(out_dir, f"{name}.json"), "w") as fp:
        json.dump(manifest, fp, indent=2)
        fp.write("\n")
    print(f"wrote {path} ({manifest['onnx_bytes'] / 1e6:.1f} MB, {manifest['params'] / 1e6:.1f} M parameters; "
          f"inputs {', '.join(f'{n}{list(inputs[n].shape)}' for n in input_names)}; "
          f"outputs {', '.join(f'{n}{list(t.shape)}' for n, t in zip(output_names, outs))})", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", action="store_true", help="export the shipped demo model into models/")
    ap.add_argument("--bench", nargs="*", metavar="NAME", choices=list(BENCH_MODELS),
                    help=f"export benchmark models into models/bench/ (default: all of {', '.join(BENCH_MODELS)})")
    ap.add_argument("--out", default=None, help="output directory (default: models/, or models/bench/ with --bench)")
    args = ap.parse_args()
    if args.demo:
        out = args.out or "models"
        os.makedirs(out, exist_ok=True)
        export_demo(out)
    elif args.bench is not None:
        out = args.out or os.path.join("models", "bench")
        os.makedirs(out, exist_ok=True)
        for name in args.bench or list(BENCH_MODELS):
            export_bench(name, out)
    else:
        ap.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

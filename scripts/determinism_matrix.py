#!/usr/bin/python3
"""End-to-end determinism matrix: `idem run` on the benchmark models for every ISA x thread count.

    /usr/bin/python3 scripts/determinism_matrix.py [MODELS...] [--isas scalar,avx2,avx512]
        [--threads 1,2,3,8] [--idem build/idem] [--ort] [--markdown FILE]

For each model of models/bench/ (exported by scripts/export_models.py --bench), runs idem once per
(ISA, threads) pair on the model's fixed input and computes the SHA-256 of every output file. The
contract (DESIGN.md D2, D4) is that all of them are identical; the script exits 1 if any differs
and prints which. With --ort it also runs ONNX Runtime (scripts/ort_run.mjs, CPU provider) once and
reports idem's max abs error and cosine similarity against it and against PyTorch's output.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "models", "bench")
MODELS = ["resnet50", "mobilenetv2", "bert", "gpt2", "unet"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def metrics(ref, got):
    a = np.asarray(ref, dtype=np.float64).ravel()
    b = np.asarray(got, dtype=np.float64).ravel()
    if a.shape != b.shape:
        return {"error": f"shape {ref.shape} vs {got.shape}"}
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    cos = float(np.dot(a, b) / denom) if denom > 0 else float("nan")
    return {"max_abs": float(np.abs(a - b).max()) if a.size else 0.0, "cos": cos}


def fmt_cos(c):
    if c != c:
        return "nan"
    d = 1.0 - c
    return "1" if d <= 0 else f"1 − {d:.1e}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", default=MODELS)
    ap.add_argument("--isas", default="scalar,avx2,avx512")
    ap.add_argument("--threads", default="1,2,3,8")
    ap.add_argument("--idem", default=os.path.join(ROOT, "build", "idem"))
    ap.add_argument("--ort", action="store_true", help="also compare with ONNX Runtime (needs node + tools/ort)")
    ap.add_argument("--artifact", action="store_true",
                    help="compile each model (idem compile, opt level 2) and run the .idem artifact instead")
    ap.add_argument("--markdown", help="write the result table here")
    args = ap.parse_args()
    isas = args.isas.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    if not os.access(args.idem, os.X_OK):
        sys.exit(f"determinism_matrix: {args.idem} is not an executable; build idem first")

    rows, acc_rows, failed = [], [], False
    with tempfile.TemporaryDirectory(prefix="idem-matrix-") as tmp:
        for model in args.models:
            manifest_path = os.path.join(BENCH, f"{model}.json")
            if not os.path.exists(manifest_path):
                sys.exit(f"determinism_matrix: {manifest_path} missing; run /usr/bin/python3 scripts/export_models.py --bench")
            with open(manifest_path) as f:
                man = json.load(f)
            onnx = os.path.join(BENCH, man["onnx"])
            model_path = onnx
            if args.artifact:
                model_path = os.path.join(tmp, f"{model}.idem")
                p = subprocess.run([args.idem, "compile", onnx, "-o", model_path], capture_output=True, text=True)
                if p.returncode != 0:
                    sys.exit(f"determinism_matrix: idem compile failed on {model}: {p.stderr.strip()}")
            in_args = []
            for name, path in man["inputs"].items():
                in_args += ["--input", f"{name}={os.path.join(BENCH, path)}"]
            digests = {}  # (isa, threads) -> {output: sha}
            first_dir = None
            for isa in isas:
                for nt in threads:
                    out = os.path.join(tmp, f"{model}-{isa}-{nt}")
                    cmd = [args.idem, "run", model_path, *in_args, "--output-dir", out, "--isa", isa, "--threads", str(nt)]
                    t0 = time.monotonic()
                    p = subprocess.run(cmd, capture_output=True, text=True)
                    dt = time.monotonic() - t0
                    if p.returncode != 0:
                        print(f"{model} {isa} t{nt}: idem failed: {p.stderr.strip()}", file=sys.stderr)
                        failed = True
                        continue
                    digests[(isa, nt)] = {fn: sha256(os.path.join(out, fn)) for fn in sorted(os.listdir(out))}
                    print(f"{model:12s} {isa:7s} threads {nt}: {dt:6.1f} s  "
                          + " ".join(f"{k}={v[:16]}" for k, v in digests[(isa, nt)].items()), flush=True)
                    if first_dir is None:
                        first_dir = out
            distinct = {json.dumps(d, sort_keys=True) for d in digests.values()}
            same = len(distinct) == 1 and len(digests) == len(isas) * len(threads)
            failed |= not same
            rows.append((model, len(digests), same, next(iter(digests.values())) if digests else {}))

            if first_dir is not None:
                ort_out = None
                if args.ort:
                    ort_out = os.path.join(tmp, f"{model}-ort")
                    cmd = ["node", os.path.join(ROOT, "scripts", "ort_run.mjs"), onnx, *in_args, "--output-dir", ort_out,
                           "--runs", "0"]
                    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
                    if p.returncode != 0:
                        print(f"{model}: ORT failed: {p.stderr.strip()[:300]}", file=sys.stderr)
                        ort_out = None
                for name, ref in man.get("torch_outputs", {}).items():
                    got = np.load(os.path.join(first_dir, f"{name}.npy"))
                    vs_torch = metrics(np.load(os.path.join(BENCH, ref)), got)
                    vs_ort = {}
                    if ort_out and os.path.exists(os.path.join(ort_out, f"{name}.npy")):
                        vs_ort = metrics(np.load(os.path.join(ort_out, f"{name}.npy")), got)
                    acc_rows.append((model, name, vs_ort, vs_torch))

    md = ["| model | runs (ISA × threads) | all outputs bitwise identical | SHA-256 of the outputs |", "|---|---:|---|---|"]
    for model, n, same, d in rows:
        md.append(f"| {model} | {n} | {'yes' if same else 'NO'} | " + "<br>".join(f"{k}: `{v[:16]}…`" for k, v in d.items()) + " |")
    md += ["", "| model | output | idem vs ORT max abs | idem vs ORT cosine | idem vs torch max abs | idem vs torch cosine |",
           "|---|---|---:|---:|---:|---:|"]
    for model, name, o, t in acc_rows:
        md.append(f"| {model} | {name} | {o.get('max_abs', float('nan')):.2e} | {fmt_cos(o['cos']) if 'cos' in o else '—'} | "
                  f"{t.get('max_abs', float('nan')):.2e} | {fmt_cos(t['cos']) if 'cos' in t else t.get('error', '—')} |")
    text = "\n".join(md)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(f"ISAs {args.isas}, threads {args.threads}, "
                    + ("compiled .idem artifacts" if args.artifact else ".onnx files") + "\n\n" + text + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""idem against ONNX Runtime on the benchmark models, side by side in one run. Called by
scripts/compare_ort.sh (which checks the prerequisites); see docs/benchmarks.md.

For each model (models/bench/NAME.json, written by scripts/export_models.py --bench) and each thread
count it runs, interleaved, --repeat times each:
  * idem:  `idem run MODEL --input ... --output-dir ... --threads N`, timed end to end as a process
           (loading the .onnx or, with --artifact, the compiled .idem file, reading the .npy inputs,
           one inference and writing the .npy outputs);
  * idem run: `idem bench MODEL ... --json` once: load time and steady-state latency (median of R
           runs after W warm-up runs, as for ORT below), every run's outputs checked bitwise identical;
           (older idem builds without `bench`: the `idem run` under strace, from its opening the last
           input file to its first touch of the output directory: one first inference);
  * ORT e2e: `node scripts/ort_run.mjs ... --runs 0` timed the same way as a process (Node start-up,
           session creation, one inference, writing the .npy outputs): the like-for-like counterpart;
and then once `node scripts/ort_run.mjs ... --warmup W --runs R` for ORT's steady-state latency per
inference (median and mean of R runs after W warm-up runs) and its session-creation time.
Accuracy: max abs error and cosine similarity of idem against ORT and against PyTorch's reference
output, per output; and whether idem's outputs are bitwise identical across the thread counts.
Prints markdown (and writes it to --markdown FILE if given); raw figures go to --json FILE.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL_MODELS = ["resnet50", "mobilenetv2", "bert", "gpt2", "unet"]


def loadavg():
    with open("/proc/loadavg") as f:
        return tuple(float(x) for x in f.read().split()[:3])


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def children_cpu_ms():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1e3


def timed(cmd, log):
    """Runs cmd; returns (CompletedProcess, wall ms, CPU ms). Children run one at a time, so the growth of
    RUSAGE_CHILDREN is this child's user + system CPU time (all its threads)."""
    c = children_cpu_ms()
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = (time.perf_counter() - t) * 1e3
    cpu = children_cpu_ms() - c
    log.write(f"$ {' '.join(cmd)}\n{p.stdout}{p.stderr}[rc={p.returncode}, {dt:.1f} ms wall, {cpu:.1f} ms CPU]\n")
    log.flush()
    return p, dt, cpu


def strace_window(trace_file, input_paths, output_dir):
    """Milliseconds from idem's opening of its last input file to its first touch of the output directory:
    idem run loads the model, then reads the inputs, runs once, then creates the output directory
    (cli/main.cc), so this window is one inference plus reading the (small) input files."""
    t_in = t_out = None
    with open(trace_file) as f:
        for line in f:
            parts = line.split(None, 2)
            if len(parts) < 3:
                continue
            try:
                t = float(parts[1])
            except ValueError:
                continue
            call = parts[2]
            if call.startswith("openat(") and any(f'"{p}"' in call for p in input_paths):
                t_in = t
            elif t_in is not None and f'"{output_dir}' in call:
                t_out = t
                break
    return (t_out - t_in) * 1e3 if t_in is not None and t_out is not None else None


def metrics(ref, got):
    a = np.asarray(ref, dtype=np.float64).ravel()
    b = np.asarray(got, dtype=np.float64).ravel()
    if a.shape != b.shape:
        return {"error": f"shape {np.shape(ref)} vs {np.shape(got)}"}
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return {"error": "non-finite values"}
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    cos = float(a @ b / (na * nb)) if na > 0 and nb > 0 else float(na == nb)
    return {"max_abs": float(np.abs(a - b).max()), "cos": cos, "ref_max_abs": float(np.abs(a).max())}


def fmt_ms(x):
    return "—" if x is None else (f"{x:,.0f}" if x >= 100 else f"{x:.1f}")


def fmt_cos(c):
    # cosine similarity as 1 − ε is more readable as the distance from 1
    return f"1 − {1 - c:.1e}" if c < 1 else "1"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", default=ALL_MODELS)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--repeat", type=int, default=5, help="end-to-end process runs per side (median)")
    ap.add_argument("--ort-warmup", type=int, default=3)
    ap.add_argument("--ort-runs", type=int, default=20)
    ap.add_argument("--idem", default=os.path.join(ROOT, "build", "idem"))
    ap.add_argument("--bench-dir", default=os.path.join(ROOT, "models", "bench"))
    ap.add_argument("--work-dir", default=os.path.join(ROOT, "models", "bench", "out"))
    ap.add_argument("--ort-config", action="append", default=[], metavar="KEY=VALUE",
                    help="ORT session config entry for every ORT run (e.g. session.intra_op.allow_spinning=0)")
    ap.add_argument("--no-strace", action="store_true",
                    help="skip the strace-timed idem runs that measure idem's inference window")
    ap.add_argument("--artifact", action="store_true",
                    help="compile each model once with `idem compile` (opt level 2) and time the .idem artifact")
    ap.add_argument("--markdown", help="also write the markdown report here")
    ap.add_argument("--json", help="write all raw figures here")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    if not args.no_strace and shutil.which("strace") is None:
        print("compare_ort: strace not found (apt-get install strace); skipping idem's inference window",
              file=sys.stderr)
        args.no_strace = True
    os.makedirs(args.work_dir, exist_ok=True)
    log = open(os.path.join(args.work_dir, "compare.log"), "w")

    idem_help = subprocess.run([args.idem, "--help"], capture_output=True, text=True).stdout
    has_bench = any(line.strip().startswith("bench") for line in idem_help.splitlines())
    if has_bench:
        args.no_strace = True  # `idem bench` measures the inference itself; the strace window is not needed
    env = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "idem": os.path.relpath(args.idem, ROOT) if args.idem.startswith(ROOT) else args.idem,
        "idem_sha256": sha256_file(args.idem),
        "idem_has_bench": has_bench,
        "git_head": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                   text=True).stdout.strip(),
        "load_start": loadavg(),
        "uptime_start": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
    }
    results = []
    for name in args.models:
        with open(os.path.join(args.bench_dir, f"{name}.json")) as f:
            man = json.load(f)
        onnx_path = os.path.join(args.bench_dir, man["onnx"])
        idem_model = onnx_path
        if args.artifact:
            idem_model = os.path.join(args.work_dir, f"{name}.idem")
            p, dt, _ = timed([args.idem, "compile", onnx_path, "-o", idem_model], log)
            if p.returncode != 0:
                sys.exit(f"compare_ort: idem compile failed on {name}: {p.stderr.strip()}")
            print(f"[{name}] compiled in {dt:.0f} ms", file=sys.stderr, flush=True)
        in_args = []
        for k, v in man["inputs"].items():
            in_args += ["--input", f"{k}={os.path.join(args.bench_dir, v)}"]
        input_paths = [os.path.join(args.bench_dir, v) for v in man["inputs"].values()]
        torch_ref = {k: np.load(os.path.join(args.bench_dir, v)) for k, v in man["torch_outputs"].items()}
        idem_outs_by_threads = {}
        for nt in threads:
            r = {"model": name, "threads": nt, "onnx_mb": man["onnx_bytes"] / 1e6, "params_m": man["params"] / 1e6,
                 "load_before": loadavg()}
            idem_dir = os.path.join(args.work_dir, name, f"idem_t{nt}")
            ort_dir = os.path.join(args.work_dir, name, f"ort_t{nt}")
            idem_cmd = [args.idem, "run", idem_model] + in_args + ["--output-dir", idem_dir, "--threads", str(nt)]
            ort_cmd = ["node", "scripts/ort_run.mjs", onnx_path] + in_args + ["--threads", str(nt)]
            for kv in args.ort_config:
                ort_cmd += ["--config", kv]
            ort_e2e_cmd = ort_cmd + ["--output-dir", ort_dir, "--warmup", "0", "--runs", "0"]
            idem_ms, ort_e2e_ms, idem_window_ms, idem_cpu, ort_e2e_cpu = [], [], [], [], []
            idem_err = None
            for i in range(args.repeat):
                p, dt, cpu = timed(idem_cmd, log)
                if p.returncode != 0:
                    idem_err = (p.stderr or p.stdout).strip().splitlines()[-1:] or [f"exit {p.returncode}"]
                    idem_err = idem_err[0]
                    break
                idem_ms.append(dt)
                idem_cpu.append(cpu)
                if not args.no_strace:
                    trace = os.path.join(args.work_dir, "strace.txt")
                    st_dir = idem_dir + "_strace"
                    p, _, _ = timed(["strace", "-f", "--seccomp-bpf", "-ttt", "-e", "trace=%file", "-o", trace]
                                 + idem_cmd[:idem_cmd.index("--output-dir") + 1] + [st_dir, "--threads", str(nt)], log)
                    w = strace_window(trace, input_paths, st_dir) if p.returncode == 0 else None
                    if w is not None:
                        idem_window_ms.append(w)
                p, dt, cpu = timed(ort_e2e_cmd, log)
                if p.returncode != 0:
                    sys.exit(f"compare_ort: ORT failed on {name}: {p.stderr.strip()}")
                ort_e2e_ms.append(dt)
                ort_e2e_cpu.append(cpu)
            if idem_err:  # keep the ORT side measured even if idem fails
                for i in range(args.repeat):
                    p, dt, cpu = timed(ort_e2e_cmd, log)
                    ort_e2e_ms.append(dt)
                    ort_e2e_cpu.append(cpu)
            p, _, _ = timed(ort_cmd + ["--warmup", str(args.ort_warmup), "--runs", str(args.ort_runs)], log)
            if p.returncode != 0:
                sys.exit(f"compare_ort: ORT failed on {name}: {p.stderr.strip()}")
            ort = json.loads(p.stdout.strip().splitlines()[-1])
            env["ort_version"] = ort.get("ort_version")
            idem_bench = None
            if has_bench and not idem_err:
                p, _, _ = timed([args.idem, "bench", idem_model] + in_args
                                + ["--threads", str(nt), "--warmup", str(args.ort_warmup), "--runs", str(args.ort_runs),
                                   "--json"], log)
                if p.returncode == 0:
                    idem_bench = json.loads(p.stdout.strip().splitlines()[-1])
                else:
                    idem_err = (p.stderr or p.stdout).strip().splitlines()[-1:] or [f"exit {p.returncode}"]
                    idem_err = idem_err[0]
            r["idem_bench"] = idem_bench
            r["ratio_run"] = idem_bench["median_ms"] / ort["run_ms"]["median"] if idem_bench else None
            r.update({
                "idem_error": idem_err,
                "idem_e2e_ms": idem_ms, "idem_e2e_median": statistics.median(idem_ms) if idem_ms else None,
                "idem_window_ms": idem_window_ms,
                "idem_window_median": statistics.median(idem_window_ms) if idem_window_ms else None,
                "ort_first_run_ms": ort["first_run_ms"],
                "ort_e2e_ms": ort_e2e_ms, "ort_e2e_median": statistics.median(ort_e2e_ms),
                "idem_e2e_cpu_ms": idem_cpu, "idem_e2e_cpu_median": statistics.median(idem_cpu) if idem_cpu else None,
                "ort_e2e_cpu_ms": ort_e2e_cpu, "ort_e2e_cpu_median": statistics.median(ort_e2e_cpu),
                "ort_run_cpu_ms": ort.get("run_cpu_ms_mean"),
                "ort_session_ms": ort["session_create_ms"], "ort_run": ort["run_ms"],
                "load_after": loadavg(),
            })
            r["ratio_e2e"] = r["idem_e2e_median"] / r["ort_e2e_median"] if idem_ms else None
            r["ratio_e2e_cpu"] = (r["idem_e2e_cpu_median"] / r["ort_e2e_cpu_median"]
                                  if idem_cpu and r["ort_e2e_cpu_median"] else None)
            r["ratio_vs_ort_run"] = r["idem_e2e_median"] / ort["run_ms"]["median"] if idem_ms else None
            r["ratio_window"] = (r["idem_window_median"] / ort["run_ms"]["median"]
                                 if r["idem_window_median"] else None)
            acc = {}
            if not idem_err:
                idem_outs = {k: np.load(os.path.join(idem_dir, f"{k}.npy")) for k in torch_ref}
                idem_outs_by_threads[nt] = idem_outs
            for k in torch_ref:
                ort_out = np.load(os.path.join(ort_dir, f"{k}.npy"))
                acc[k] = {"ort_vs_torch": metrics(torch_ref[k], ort_out)}
                if not idem_err:
                    acc[k]["idem_vs_ort"] = metrics(ort_out, idem_outs[k])
                    acc[k]["idem_vs_torch"] = metrics(torch_ref[k], idem_outs[k])
                    acc[k]["idem_sha256"] = hashlib.sha256(np.ascontiguousarray(idem_outs[k]).tobytes()).hexdigest()
            r["accuracy"] = acc
            results.append(r)
            print(f"[{name} t={nt}] idem e2e {fmt_ms(r['idem_e2e_median'])} ms, "
                  f"idem inference {fmt_ms(r['idem_window_median'])} ms, ORT e2e {fmt_ms(r['ort_e2e_median'])} ms, "
                  f"ORT run {fmt_ms(ort['run_ms']['median'])} ms, load {r['load_before'][0]:.1f}"
                  + (f", idem FAILED: {idem_err}" if idem_err else ""), file=sys.stderr, flush=True)
        # bitwise agreement of idem's outputs across thread counts
        if len(idem_outs_by_threads) == len(threads) and len(threads) > 1:
            first = idem_outs_by_threads[threads[0]]
            same = all(np.array_equal(first[k].view(np.uint8), o[k].view(np.uint8))
                       for o in idem_outs_by_threads.values() for k in first)
        else:
            same = None
        for r in results:
            if r["model"] == name:
                r["idem_bitwise_across_threads"] = same
    env["load_end"] = loadavg()
    env["uptime_end"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    md = []
    md.append(f"Run {env['date']} on {env['cpu']} ({env['nproc']} CPUs); idem `{env['idem']}` "
              f"(sha256 {env['idem_sha256'][:12]}…, HEAD {env['git_head']}); ONNX Runtime {env.get('ort_version')} "
              f"(onnxruntime-node, CPU EP, default graph optimization, intra-op threads = threads"
              + (f", config {', '.join(args.ort_config)}" if args.ort_config else "")
              + "); end-to-end figures are "
              f"medians of {args.repeat} interleaved process runs; ORT run = median (and mean) of {args.ort_runs} "
              f"session.run() calls after {args.ort_warmup} warm-up runs.")
    md.append("")
    md.append(f"Load: `{env['uptime_start']}` at the start, `{env['uptime_end']}` at the end.")
    if not env["idem_has_bench"]:
        md.append("")
        md.append("idem has no `bench` subcommand yet, so idem is timed from outside, two ways:")
        md.append("")
        md.append("- **idem e2e**: `idem run` timed as a whole process (parse the .onnx, build the session, read the "
                  "inputs, one inference, write the outputs), against **ORT e2e**, ORT timed the same way "
                  "(`ort_run.mjs --runs 0`: Node start-up, session creation, one inference, writing the outputs).")
        md.append("- **idem inference**: the same `idem run` under `strace -f --seccomp-bpf -e trace=%file`, from its "
                  "opening the last input .npy to its first touch of the output directory (`idem run` loads the model, "
                  "reads the inputs, runs once, then creates the output directory): one *first* inference, plus reading "
                  "inputs of under 1 MB. Its ratio is taken against ORT's steady-state median run "
                  "(ORT's own first run is shown too).")
    md.append("")
    if env["idem_has_bench"]:
        md.append("")
        md.append("Steady state, in-process: **idem run** = `idem bench` (median of the same number of timed runs "
                  "after the same warm-up as ORT; every run's outputs checked bitwise identical), **ORT run** = "
                  "`ort_run.mjs` session.run(); load = `idem bench`'s open-to-ready time against ORT's session creation."
                  + (" idem runs the compiled `.idem` artifact." if args.artifact else " idem runs the `.onnx` file."))
        md.append("")
        md.append("| model | threads | idem run median (ms) | ORT run median (ms) | idem / ORT | idem load (ms) "
                  "| ORT session (ms) |")
        md.append("|---|---:|---:|---:|---:|---:|---:|")
        for r in results:
            b = r.get("idem_bench")
            md.append(f"| {r['model']} | {r['threads']} | "
                      + (f"{fmt_ms(b['median_ms'])} | " if b else "— | ")
                      + f"{fmt_ms(r['ort_run']['median'])} | "
                      + (f"{r['ratio_run']:.2f} | " if r.get("ratio_run") else "— | ")
                      + (f"{fmt_ms(b['load_ms'])} | " if b else "— | ")
                      + f"{fmt_ms(r['ort_session_ms'])} |")
        md.append("")
        md.append("Process end to end (`idem run` against `ort_run.mjs --runs 0`, each a whole process):")
        md.append("")
    md.append("| model | threads | load (1 min) | idem e2e (ms) | ORT e2e (ms) | idem/ORT e2e | idem inference (ms) "
              "| ORT first run (ms) | ORT run median (ms) | ORT run mean (ms) | idem inference / ORT run | ORT session (ms) |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        failed = "FAILED" if r["idem_error"] else "—"
        md.append(f"| {r['model']} | {r['threads']} | {r['load_before'][0]:.1f} | "
                  + (f"{fmt_ms(r['idem_e2e_median'])} | " if r["idem_e2e_median"] else f"{failed} | ")
                  + f"{fmt_ms(r['ort_e2e_median'])} | "
                  + (f"{r['ratio_e2e']:.2f} | " if r["ratio_e2e"] else "— | ")
                  + (f"{fmt_ms(r['idem_window_median'])} | " if r["idem_window_median"] else f"{failed} | ")
                  + f"{fmt_ms(r['ort_first_run_ms'])} | {fmt_ms(r['ort_run']['median'])} | {fmt_ms(r['ort_run']['mean'])} | "
                  + (f"{r['ratio_window']:.1f} | " if r["ratio_window"] else "— | ")
                  + f"{fmt_ms(r['ort_session_ms'])} |")
    md.append("")
    md.append("CPU time (user + system, all threads, medians of the same runs; less sensitive to the machine's load "
              "than wall time, but at 2 threads it also counts ORT's spin-waiting):")
    md.append("")
    md.append("| model | threads | idem e2e CPU (ms) | ORT e2e CPU (ms) | idem/ORT e2e CPU | ORT CPU per steady run (ms) |")
    md.append("|---|---:|---:|---:|---:|---:|")
    for r in results:
        md.append(f"| {r['model']} | {r['threads']} | "
                  + (f"{fmt_ms(r['idem_e2e_cpu_median'])} | " if r["idem_e2e_cpu_median"] else "— | ")
                  + f"{fmt_ms(r['ort_e2e_cpu_median'])} | "
                  + (f"{r['ratio_e2e_cpu']:.2f} | " if r["ratio_e2e_cpu"] else "— | ")
                  + f"{fmt_ms(r['ort_run_cpu_ms'])} |")
    md.append("")
    md.append("| model | output | idem vs ORT max abs | idem vs ORT cosine | idem vs torch max abs | idem vs torch cosine "
              "| ORT vs torch max abs | max abs of reference | idem bitwise same at threads " + ",".join(map(str, threads)) + " |")
    md.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
    seen = set()
    for r in results:
        if r["model"] in seen:
            continue
        seen.add(r["model"])
        for k, a in r["accuracy"].items():
            if "idem_vs_ort" in a:
                io, it = a["idem_vs_ort"], a["idem_vs_torch"]
                cols = (f"{io.get('max_abs', float('nan')):.2e} | {fmt_cos(io['cos']) if 'cos' in io else io.get('error')} | "
                        f"{it.get('max_abs', float('nan')):.2e} | {fmt_cos(it['cos']) if 'cos' in it else it.get('error')} | ")
            else:
                cols = "idem failed | | | | "
            ot = a["ort_vs_torch"]
            same = r.get("idem_bitwise_across_threads")
            md.append(f"| {r['model']} | {k} | {cols}{ot.get('max_abs', float('nan')):.2e} | "
                      f"{ot.get('ref_max_abs', float('nan')):.3g} | {'yes' if same else ('no' if same is False else '—')} |")
    failures = [r for r in results if r["idem_error"]]
    if failures:
        md.append("")
        md.append("idem failures:")
        for r in failures:
            md.append(f"- {r['model']} (threads {r['threads']}): `{r['idem_error']}`")
    text = "\n".join(md) + "\n"
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"env": env, "results": results}, f, indent=1)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env node
// Runs an ONNX model through ONNX Runtime (onnxruntime-node, CPU execution provider) on .npy inputs,
// writes its outputs as .npy files and reports timings as one JSON line on stdout.
//
// ONNX Runtime is installed (git-ignored) with:
//   ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix tools/ort
// (the CPU binaries ship inside the npm package; ONNXRUNTIME_NODE_INSTALL=skip stops its install script
// from trying to download the CUDA provider, which fails offline).
//
// Usage:
//   node scripts/ort_run.mjs MODEL.onnx --input NAME=PATH.npy [--input ...] [--output-dir DIR]
//        [--threads N] [--warmup N] [--runs N] [--opt-level disabled|basic|extended|all]
//        [--config KEY=VALUE ...]   # ORT session config entries, e.g. session.intra_op.allow_spinning=0
//
// Timing: session creation (InferenceSession.create, including reading the model file) once; then
// one first run (timed on its own, counted as a warm-up run), the rest of the --warmup untimed runs, and --runs
// timed runs of session.run() on the same input tensors (wall clock, output tensors included, no file I/O). Graph optimization is ONNX Runtime's default (all) unless
// --opt-level is given; intra-op threads = --threads, inter-op threads 1, sequential execution.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tools', 'ort', 'package.json'));
let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  console.error('ort_run: onnxruntime-node is not installed; run: ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix tools/ort');
  process.exit(2);
}

// ---- .npy reading and writing (format versions 1.0, 2.0, 3.0; C order, little-endian) -------------

const NPY_TYPES = {
  // descr (without byte order) -> [ort type, typed array]
  f4: ['float32', Float32Array], f8: ['float64', Float64Array],
  i1: ['int8', Int8Array], u1: ['uint8', Uint8Array], i2: ['int16', Int16Array], u2: ['uint16', Uint16Array],
  i4: ['int32', Int32Array], u4: ['uint32', Uint32Array], i8: ['int64', BigInt64Array], u8: ['uint64', BigUint64Array],
  b1: ['bool', Uint8Array], f2: ['float16', Uint16Array],
};
const ORT_TO_NPY = Object.fromEntries(Object.entries(NPY_TYPES).map(([d, [t]]) => [t, d]));

export function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.readUInt32BE(0) !== 0x934e554d || buf.readUInt16BE(4) !== 0x5059) throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`${file}: bad header ${header}`);
  if (fortran === 'True') throw new Error(`${file}: Fortran order is not supported`);
  const order = descr[0];
  const key = descr.slice(1);
  if (!(key in NPY_TYPES) || order === '>') throw new Error(`${file}: unsupported dtype ${descr}`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const [type, Ctor] = NPY_TYPES[key];
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  const bytes = count * Ctor.BYTES_PER_ELEMENT;
  if (buf.length < offset + bytes) throw new Error(`${file}: truncated data`);
  // Copy into a fresh, aligned buffer (the file buffer's offset need not be aligned for the element size).
  const data = new Ctor(bytes / Ctor.BYTES_PER_ELEMENT);
  new Uint8Array(data.buffer).set(buf.subarray(offset, offset + bytes));
  return { type, dims, data };
}

export function writeNpy(file, type, dims, data) {
  const key = ORT_TO_NPY[type];
  if (!key) throw new Error(`cannot write ${type} as .npy`);
  const descr = (key === 'b1' || key === 'i1' || key === 'u1' ? '|' : '<') + key;
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.writeUInt32BE(0x934e554d, 0);
  pre.writeUInt16BE(0x5059, 4);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = type === 'bool' ? Uint8Array.from(data, (v) => (v ? 1 : 0)) : data;
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'),
    Buffer.from(body.buffer, body.byteOffset, body.byteLength)]));
}

// ---- command line ---------------------------------------------------------------------------------

function parseArgs(argv) {
  const a = { model: null, inputs: [], outputDir: null, threads: 1, warmup: 2, runs: 10, optLevel: null, config: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--input' || arg === '-i') a.inputs.push(next());
    else if (arg === '--output-dir' || arg === '-o') a.outputDir = next();
    else if (arg === '--threads' || arg === '-t') a.threads = Number(next());
    else if (arg === '--warmup') a.warmup = Number(next());
    else if (arg === '--runs') a.runs = Number(next());
    else if (arg === '--opt-level') a.optLevel = next();
    else if (arg === '--config') a.config.push(next());
    else if (arg === '-h' || arg === '--help') {
      console.log('usage: node scripts/ort_run.mjs MODEL.onnx --input NAME=PATH.npy ... [--output-dir DIR] ' +
        '[--threads N] [--warmup N] [--runs N] [--opt-level disabled|basic|extended|all] [--config KEY=VALUE ...]');
      process.exit(0);
    } else if (!arg.startsWith('-') && a.model === null) a.model = arg;
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!a.model) throw new Error('no model given');
  if (!(a.threads >= 1) || !(a.runs >= 0) || !(a.warmup >= 0)) throw new Error('bad --threads/--runs/--warmup');
  return a;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

function stats(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((p, q) => p - q);
  const mean = xs.reduce((p, q) => p + q, 0) / xs.length;
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  const sd = Math.sqrt(xs.reduce((p, q) => p + (q - mean) ** 2, 0) / xs.length);
  return { mean, median, min: s[0], max: s[s.length - 1], stddev: sd, n: xs.length };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const feeds = {};
  for (const spec of args.inputs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new Error(`--input wants NAME=PATH, got ${spec}`);
    const { type, dims, data } = readNpy(spec.slice(eq + 1));
    feeds[spec.slice(0, eq)] = new ort.Tensor(type, data, dims);
  }
  const options = {
    executionProviders: ['cpu'],
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
  if (args.optLevel) options.graphOptimizationLevel = args.optLevel;
  for (const kv of args.config) {
    // The binding joins nested keys with '.': {session: {intra_op: {allow_spinning: '0'}}}.
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--config wants KEY=VALUE, got ${kv}`);
    const keys = kv.slice(0, eq).split('.');
    let o = (options.extra ??= {});
    for (const k of keys.slice(0, -1)) o = (o[k] ??= {});
    o[keys[keys.length - 1]] = kv.slice(eq + 1);
  }

  const cpuMs = (u) => (u.user + u.system) / 1e3; // process CPU time (all threads), microseconds -> ms
  const t0 = nowMs();
  const c0 = process.cpuUsage();
  const session = await ort.InferenceSession.create(args.model, options);
  const sessionMs = nowMs() - t0;
  const sessionCpuMs = cpuMs(process.cpuUsage(c0));

  let outputs;
  const t1 = nowMs();
  outputs = await session.run(feeds);
  const firstRunMs = nowMs() - t1;
  for (let i = 1; i < args.warmup; i++) outputs = await session.run(feeds);
  const times = [];
  const c1 = process.cpuUsage();
  for (let i = 0; i < args.runs; i++) {
    const t = nowMs();
    outputs = await session.run(feeds);
    times.push(nowMs() - t);
  }
  const runCpuMs = args.runs ? cpuMs(process.cpuUsage(c1)) / args.runs : null;
  if (args.outputDir) {
    fs.mkdirSync(args.outputDir, { recursive: true });
    for (const name of session.outputNames) {
      const t = outputs[name];
      writeNpy(path.join(args.outputDir, `${name}.npy`), t.type, t.dims, t.data);
    }
  }
  const result = {
    model: args.model,
    ort_version: ort.env.versions?.node ?? null,
    threads: args.threads,
    graph_optimization: args.optLevel ?? 'default',
    config: args.config,
    session_create_ms: sessionMs,
    session_create_cpu_ms: sessionCpuMs,
    first_run_ms: firstRunMs,
    warmup: Math.max(args.warmup, 1),
    run_ms: stats(times),
    run_cpu_ms_mean: runCpuMs, // CPU time (user + system, all threads, spinning included) per timed run
    outputs: Object.fromEntries(session.outputNames.map((n) => [n, { type: outputs[n].type, dims: outputs[n].dims }])),
  };
  console.log(JSON.stringify(result));
  await session.release?.();
}

main().catch((e) => {
  console.error(`ort_run: ${e.message ?? e}`);
  process.exit(1);
});

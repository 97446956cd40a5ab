#!/usr/bin/env bash
# Load time, open to ready-to-run: idem loading the .onnx, idem loading the compiled .idem (with and
# without the weight digest check), and ONNX Runtime's session creation (InferenceSession.create,
# reading the file included) for the same ONNX file, side by side.
# Usage: scripts/compare_load.sh [BUILD_DIR] [MODEL...]   (default build, models resnet50 bert)
# Needs models/bench/*.onnx (scripts/export_models.py --bench) and, for ORT, node + tools/ort.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
shift || true
MODELS=("$@")
((${#MODELS[@]})) || MODELS=(resnet50 bert)
IDEM="$BUILD/idem"
[ -x "$IDEM" ] || { echo "compare_load: $IDEM not built" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

printf '%-12s %14s %14s %18s %16s\n' model idem.onnx_ms idem.idem_ms idem.idem_noverify ort_create_ms
for m in "${MODELS[@]}"; do
  onnx=models/bench/$m.onnx
  [ -f "$onnx" ] || { echo "compare_load: $onnx missing (scripts/export_models.py --bench)" >&2; exit 2; }
  "$IDEM" compile "$onnx" -o "$TMP/$m.idem"
  median() { sed -n 's/.*median \([0-9.]*\) ms.*/\1/p'; }
  t_onnx=$("$IDEM" load-time "$onnx" -n 3 | median)
  t_idem=$("$IDEM" load-time "$TMP/$m.idem" -n 5 | median)
  t_fast=$("$IDEM" load-time "$TMP/$m.idem" -n 5 --no-verify | median)
  t_ort=-
  if command -v node >/dev/null && [ -d tools/ort/node_modules/onnxruntime-node ]; then
    inputs=()
    for f in models/bench/$m.input.*.npy; do
      name=${f#models/bench/$m.input.}
      inputs+=(--input "${name%.npy}=$f")
    done
    best=""
    for _ in 1 2 3; do
      ms=$(node scripts/ort_run.mjs "$onnx" "${inputs[@]}" --runs 1 --warmup 0 --output-dir "$TMP/ort" |
           sed -n 's/.*"session_create_ms":\([0-9.]*\).*/\1/p')
      if [ -z "$best" ] || awk "BEGIN{exit !($ms < $best)}"; then best=$ms; fi
    done
    t_ort=$best
  fi
  printf '%-12s %14s %14s %18s %16s\n' "$m" "$t_onnx" "$t_idem" "$t_fast" "$t_ort"
done
echo "(idem: median of repeated loads; ORT: best of 3 processes; ms)"

#!/usr/bin/env bash
# idem against ONNX Runtime on the benchmark models, side by side in one run; prints a markdown table.
#
#   /usr/bin/python3 scripts/export_models.py --bench      # once: models/bench/ (needs IDEM_BENCH=1 scripts/setup.sh)
#   scripts/compare_ort.sh [MODELS...] [--threads 1,2] [--repeat 5] [--ort-runs 20] [--ort-warmup 3]
#                          [--idem PATH] [--markdown FILE] [--json FILE]
#
# Models: resnet50 mobilenetv2 bert gpt2 unet (default: all). Installs onnxruntime-node (pinned in
# tools/ort/package.json) into the git-ignored tools/ort/node_modules when it is missing. Outputs and a log
# of every command go to models/bench/out/. See scripts/compare_ort.py for what is timed, and
# docs/benchmarks.md for figures.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null || { echo "compare_ort: node is not installed (apt-get install nodejs npm)" >&2; exit 2; }
if [ ! -d tools/ort/node_modules/onnxruntime-node ]; then
  echo "compare_ort: installing onnxruntime-node into tools/ort/node_modules" >&2
  # The CPU binaries ship inside the npm package; skip its install script's CUDA download (fails offline).
  ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix tools/ort --no-audit --no-fund >&2
fi

idem=build/idem
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[i]}" = "--idem" ] && idem="${args[i + 1]:-}"
done
[ -x "$idem" ] || { echo "compare_ort: $idem not found; build idem first (scripts/setup.sh)" >&2; exit 2; }
[ -f models/bench/resnet50.json ] || [ -f models/bench/bert.json ] || {
  echo "compare_ort: no benchmark models; run /usr/bin/python3 scripts/export_models.py --bench" >&2; exit 2; }

exec /usr/bin/python3 scripts/compare_ort.py "$@"

#!/usr/bin/env bash
# Installs idem's build dependencies from Debian's packages and builds idem into ./build.
# Usage: scripts/setup.sh [extra cmake args...]
#        IDEM_BENCH=1 scripts/setup.sh   # also the benchmark extras (not needed by CI): see docs/benchmarks.md
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata
  libhwy-dev libflatbuffers-dev flatbuffers-compiler
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libssl-dev
  libopenblas-dev  # optional: the GEMM benchmark's yardstick (bench/, built only if found)
  python3-numpy python3-onnx
)

# Benchmark extras, installed only with IDEM_BENCH=1 (CI stays lean): PyTorch and torchvision to export the
# benchmark models (scripts/export_models.py --bench), and Node.js with npm for ONNX Runtime
# (scripts/compare_ort.sh) unless a node and npm are already there (the machine image brings its own).
BENCH_PACKAGES=(
  python3-torch python3-torchvision
)
if [ "${IDEM_BENCH:-0}" = "1" ]; then
  PACKAGES+=("${BENCH_PACKAGES[@]}")
  { command -v node && command -v npm; } >/dev/null || PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
echo "setup: built build/idem"

if [ "${IDEM_BENCH:-0}" = "1" ] && [ ! -d tools/ort/node_modules/onnxruntime-node ]; then
  # onnxruntime-node (pinned in tools/ort/package.json) ships its CPU binaries in the npm package;
  # ONNXRUNTIME_NODE_INSTALL=skip stops its install script from downloading the CUDA provider.
  echo "setup: installing onnxruntime-node into tools/ort/node_modules"
  ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix tools/ort --no-audit --no-fund >/dev/null
fi

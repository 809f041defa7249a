#!/usr/bin/env bash
# GPU check (no network): builds the engine if needed, then compares every GPU execution
# provider that loads here against the CPU and prints a table. Finishes in a few minutes.
#   CUDA needs onnxruntime-node's CUDA libraries (installed with ONNXRUNTIME_NODE_INSTALL_CUDA
#   or onnxruntime-node-install=cuda while online); WebGPU needs a Vulkan driver (libvulkan.so.1).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || { echo "gpu-check: run npm ci first (node_modules is missing)" >&2; exit 1; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
timeout 290 npx tsx scripts/gpu-check.ts "$@"

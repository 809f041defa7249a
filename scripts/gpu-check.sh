#!/usr/bin/env bash
# GPU check (no network): compares every GPU execution provider that loads here against the CPU
# and prints a table; its last row is WebGPU on the software Vulkan device, the one CI tests on,
# so the script is known to work before it runs on a GPU machine. Finishes in a few minutes.
#   CUDA needs onnxruntime-node's CUDA libraries (installed with ONNXRUNTIME_NODE_INSTALL=cuda12
#   or onnxruntime-node-install=cuda12 while online); WebGPU needs a Vulkan driver: the GPU
#   vendor's (NVIDIA's driver installs an ICD manifest, nvidia_icd.json) and libvulkan.so.1.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || { echo "gpu-check: run npm ci first (node_modules is missing)" >&2; exit 1; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

SOFTWARE_ICD=/usr/lib/chromium/vk_swiftshader_icd.json
# The machine's Vulkan drivers: the ICD manifests the Vulkan loader finds by itself, less Mesa's
# lavapipe (a CPU driver WebGPU's Dawn refuses) and a software device named by hand.
if [ -n "${VK_ICD_FILENAMES:-}" ]; then
  echo "Vulkan: VK_ICD_FILENAMES=$VK_ICD_FILENAMES (as set)"
else
  drivers=$(ls /etc/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/*.json 2>/dev/null | grep -v lvp_icd || true)
  nvidia=$(echo "$drivers" | grep -i nvidia || true)
  if [ -n "$nvidia" ]; then
    export VK_ICD_FILENAMES=$(echo "$nvidia" | paste -sd: -)
    echo "Vulkan: NVIDIA's driver ($VK_ICD_FILENAMES)"
  elif [ -n "$drivers" ]; then
    echo "Vulkan: the machine's drivers ($(echo "$drivers" | xargs -n1 basename | paste -sd' ' -); WebGPU uses the first one with a device)"
  else
    echo "Vulkan: no driver on this machine (WebGPU below runs only on the software device)"
  fi
fi
machine=$(timeout 290 npx tsx scripts/gpu-check.ts "$@") || status=$?

# The software device, in a process of its own (the Vulkan loader reads VK_ICD_FILENAMES once).
if [ -f "$SOFTWARE_ICD" ]; then
  echo "software Vulkan device: $SOFTWARE_ICD (Chromium's SwiftShader, on the CPU: correctness, not speed)"
  software=$(VK_ICD_FILENAMES=$SOFTWARE_ICD timeout 400 npx tsx scripts/gpu-check.ts --providers webgpu --models default --batches 1 --runs 2 --device "software Vulkan") || status=$?
else
  software="note: no software Vulkan device ($SOFTWARE_ICD is missing: apt-get install chromium libvulkan1)"
fi
# One table (the software run's header dropped), then the notes of both runs.
echo
echo "$machine" | grep '^|' || true
echo "$software" | grep '^|' | tail -n +3 || true
echo "$machine"$'\n'"$software" | grep -v '^|' || true
exit "${status:-0}"

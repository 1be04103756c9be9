#!/usr/bin/env bash
# The lecture's MNIST recipe (784-128-64-10, SGD 0.01, batch 64, 30 epochs, validation_split 0.2) on the full MNIST,
# GpuNet's CPU backend and PyTorch in alternating runs, seeds 1-3, same threads: test accuracy and training time.
# Needs the MNIST IDX files (GPUNET_DATASETS/mnist, default ~/.gpunet/datasets/mnist) and python3 with torch.
# usage (from the project root): bash bench/mnist-lecture-compare.sh [threads]
set -euo pipefail
threads=${1:-2}
py=${PYTHON:-python3}
data=${GPUNET_DATASETS:-$HOME/.gpunet/datasets}/mnist
"$py" -c 'import torch, numpy' 2>/dev/null || { echo "python3 has no torch/numpy: apt-get install python3-torch (or set PYTHON)" >&2; exit 2; }
dotnet build src/GpuNet.Cli -c Release -v quiet > /dev/null
cli="dotnet src/GpuNet.Cli/bin/Release/net10.0/GpuNet.Cli.dll"
for seed in 1 2 3; do
  echo "GpuNet seed $seed: $($cli train --dataset mnist --device cpu --seed $seed | grep -E '^(Training time|Test):' | tr '\n' ' ')"
  OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=1 "$py" bench/torch_mnist_lecture.py --data "$data" --threads "$threads" --seeds $seed | grep '^seed' | sed 's/^/PyTorch /'
done

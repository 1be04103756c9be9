#!/usr/bin/env bash
# GpuNet's CPU backend against PyTorch on the CPU of this machine, in one run: the lecture model at
# batch 1..1024 and the wide model at 256 and 1024, same data size (4,096 synthetic MNIST-shaped rows),
# SGD 0.01, synchronous steps. PyTorch runs in three thread layouts (its OpenMP pool and its BLAS's own
# threads oversubscribe 2 cores otherwise); compare against the best one per point.
# Needs python3 with torch (Debian: apt-get install python3-torch libopenblas0-pthread).
# usage (from the project root): bash bench/cpu-compare.sh [out-folder]
set -euo pipefail
out=${1:-bench-results/cpu-compare}; mkdir -p "$out"
py=${PYTHON:-python3}
"$py" -c 'import torch' 2>/dev/null || { echo "python3 has no torch: apt-get install python3-torch libopenblas0-pthread (or set PYTHON)" >&2; exit 2; }
dotnet build src/GpuNet.Cli -c Release -v quiet >/dev/null
cli="dotnet src/GpuNet.Cli/bin/Release/net10.0/GpuNet.Cli.dll"
$cli bench --devices cpu --batch-sizes 1,16,64,256,1024 --min-time 2 --out "$out" | tee "$out/gpunet-lecture.txt"
$cli bench --devices cpu --model wide --batch-sizes 256,1024 --min-time 3 --out "$out" | tee "$out/gpunet-wide.txt"
# OMP (torch's intra-op threads) x OpenBLAS threads
for cfg in "1 1" "1 2" "2 1"; do
  set -- $cfg
  OMP_NUM_THREADS=$1 OPENBLAS_NUM_THREADS=$2 MKL_NUM_THREADS=$2 "$py" bench/torch_mlp.py --device cpu --threads "$1" --models lecture \
    --batch-sizes 1,16,64,256,1024 --rows 4096 --min-time 2 --json "$out/torch-lecture-omp$1-blas$2.json" | tee "$out/torch-lecture-omp$1-blas$2.txt"
  OMP_NUM_THREADS=$1 OPENBLAS_NUM_THREADS=$2 MKL_NUM_THREADS=$2 "$py" bench/torch_mlp.py --device cpu --threads "$1" --models wide \
    --batch-sizes 256,1024 --rows 4096 --min-time 3 --json "$out/torch-wide-omp$1-blas$2.json" | tee "$out/torch-wide-omp$1-blas$2.txt"
done

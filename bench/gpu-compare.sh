#!/usr/bin/env bash
# Runs on the GPU machine (see ../shared/gpu/README.md): GpuNet's kernel suite on CUDA, `gpunet bench` and
# the BenchmarkDotNet suites, and PyTorch on the same shapes, in one command; everything lands in $OUT.
# Two phases, each within the device tool's 64 MiB:
#   here:  bash bench/gpu-prepare.sh train   then the device tool: carry [".gpu"], command "bash bench/gpu-compare.sh train"
#   here:  bash bench/gpu-prepare.sh gemm    then the device tool: carry [".gpu"], command "bash bench/gpu-compare.sh gemm"
# (gemm-fp32 and gemm-tf32 split the gemm phase in two, should it not fit one command's time limit: the fp32
#  kernels against torch TF32 off, the TF32 tensor-core kernels against torch TF32 on; same preparation.)
set -uo pipefail
phase=${1:-train}
final=${OUT:-/tmp/gpunet-out}; out=/tmp/gpunet-results
rm -rf "$out" BenchmarkDotNet.Artifacts/results   # a machine kept warm between calls keeps /tmp: no results of an earlier phase
mkdir -p "$final" "$out"
nvidia-smi -L | tee "$out/device.txt"
commit=$(cat .gpu/commit.txt 2>/dev/null || echo unknown)   # written by bench/gpu-prepare.sh (no .git travels)
if [[ $phase == gemm* ]]; then
  case $phase in
    gemm-fp32) export GPUNET_GEMM_KERNELS=Tiled,RegisterTiled,RegisterTiled64,RegisterTiled128; torch_args=--no-tf32 ;;
    gemm-tf32) export GPUNET_GEMM_KERNELS=Tf32,Tf32_64,Tf32_128; torch_args= ;;
    *) torch_args= ;;
  esac
  bash .gpu/run.sh GpuNet.Bench --filter '*IlgpuGemm*' 2>&1 | tee "$out/gemm-gpunet.txt"
  PYTHONUNBUFFERED=1 python3 bench/gemm_vs_torch.py $torch_args --json "$out/gemm-torch.json" 2>&1 | tee "$out/gemm-torch.txt"
  cp -r BenchmarkDotNet.Artifacts/results "$out/bdn" 2>/dev/null || true
  python3 bench/gpu_report.py "$out" --commit "$commit" > "$out/report.md"; cat "$out/report.md"
  tar czf "$final/results.tgz" -C "$out" .
  cp "$out/report.md" "$out/gemm-gpunet.txt" "$out/gemm-torch.txt" "$final/" 2>/dev/null || true
  exit 0
fi
bash .gpu/run.sh GpuNet.Kernels.Tests 2>&1 | tail -40 | tee "$out/kernel-tests.txt"
bash .gpu/run.sh GpuNet.Cli train --save "$out/mnist-cuda.safetensors" 2>&1 | tee "$out/train-cuda.txt"
# the model trained on CUDA, evaluated on the CPU backend: the same test line means the weights moved intact
bash .gpu/run.sh GpuNet.Cli evaluate --model "$out/mnist-cuda.safetensors" --device cpu 2>&1 | tee "$out/evaluate-cpu.txt"
bash .gpu/run.sh GpuNet.Cli bench --batch-sizes 64,256,1024,4096 --out "$out" 2>&1 | tee "$out/bench-lecture.txt"
bash .gpu/run.sh GpuNet.Cli bench --model wide --batch-sizes 256,1024,4096 --out "$out" 2>&1 | tee "$out/bench-wide.txt"
PYTHONUNBUFFERED=1 python3 bench/torch_mlp.py --batch-sizes 64,256,1024 --models lecture --json "$out/torch-lecture.json" 2>&1 | tee "$out/torch.txt"
PYTHONUNBUFFERED=1 python3 bench/torch_mlp.py --batch-sizes 4096 --models wide --json "$out/torch-wide.json" 2>&1 | tee -a "$out/torch.txt"
python3 bench/gpu_report.py "$out" --commit "$commit" > "$out/report.md"; cat "$out/report.md"
# the device tool brings back at most 8 files: one archive of everything, plus the summaries
tar czf "$final/results.tgz" -C "$out" .
cp "$out/report.md" "$out/kernel-tests.txt" "$out/torch.txt" "$final/" 2>/dev/null || true

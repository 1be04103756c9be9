#!/usr/bin/env bash
# Prepares .gpu/ for one phase of bench/gpu-compare.sh on the GPU machine, within the device tool's 64 MiB:
#   train: the kernel test suite + the gpunet CLI (train, bench)   (~57 MiB with the runtime)
#   gemm:  the BenchmarkDotNet suites                              (~50 MiB with the runtime)
# usage (from the project root): bash bench/gpu-prepare.sh train|gemm
set -euo pipefail
phase=${1:?usage: bash bench/gpu-prepare.sh train|gemm}
root=$(git rev-parse --show-toplevel); cd "$root"
mkdir -p .git/info && touch .git/info/exclude
rm -rf .gpu/GpuNet.Kernels.Tests .gpu/GpuNet.Cli .gpu/GpuNet.Bench
case $phase in
  train) projects="tests/GpuNet.Kernels.Tests/GpuNet.Kernels.Tests.csproj src/GpuNet.Cli/GpuNet.Cli.csproj" ;;
  gemm) projects="bench/GpuNet.Bench/GpuNet.Bench.csproj" ;;
  *) echo "unknown phase '$phase': expected train or gemm" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
bash ../shared/gpu/prepare.sh $projects
# native libraries for every other platform (SkiaSharp, HarfBuzz, TraceEvent) are hundreds of MiB: keep linux-x64
for d in .gpu/*/; do
  [[ -d $d/runtimes ]] && find "$d/runtimes" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
  rm -rf "$d/arm64" "$d/x86" "$d/amd64"
done
# the commit the results belong to (bench/gpu_report.py prints it; .git does not travel to the GPU machine)
echo "$(git rev-parse --short HEAD)$([[ -z $(git status --porcelain -- src kernels bench tests) ]] || echo '+uncommitted')" > .gpu/commit.txt
du -sh .gpu | awk '{print ".gpu is " $1}'

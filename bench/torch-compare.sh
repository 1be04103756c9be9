#!/usr/bin/env bash
# GpuNet's CPU backend against libtorch 2.10 (TorchSharp-cpu 0.107.0: MKL, oneDNN) in one process: the lecture
# model 784-128-64-10 and the wide 784-2048-2048-10, SGD 0.01, the same synthetic in-memory data, the same threads
# and warm-up, the two contenders alternating point by point and round by round; medians and min-max of
# samples/s, FLOPs per step, the fraction of the measured FMA peak, and the GpuNet/libtorch ratio.
# usage (from the project root): bash bench/torch-compare.sh [--check] [harness options: --rounds 5 --batch-sizes 1,4,16 ...]
#   --check: build, patch and verify libtorch (a matmul and an SGD step), time nothing.
# Downloads TorchSharp-cpu and libtorch (about 1.2 GB in ~/.nuget/packages, every platform's libtorch) on first use;
# bench/GpuNet.TorchCompare is kept out of GpuNet.sln so `dotnet test` never does.
#
# Debian 12 (libstdc++ up to GLIBCXX_3.4.30): TorchSharp's wrapper libLibTorchSharp.so is linked with GCC 13 and
# requires GLIBCXX_3.4.32, for one symbol only, std::ios_base_library_init: a marker <iostream> references and no
# code calls (the library has no relocation against it). libtorch itself needs 3.4.26. The build output's copy of
# the wrapper (never the NuGet cache) gets that symbol's version cleared (patchelf) and the GLIBCXX_3.4.32
# requirement marked weak (bench/torch-compare/weak_version.py), so glibc loads it; the harness then checks a
# matmul and an SGD step against hand-worked values before timing anything.
set -euo pipefail
threads=${THREADS:-2}
project=bench/GpuNet.TorchCompare
out_dir=$project/bin/Release/net10.0
dotnet build "$project" -c Release -v quiet -nologo >/dev/null

wrapper=$out_dir/runtimes/linux-x64/native/libLibTorchSharp.so
if [[ "$(uname -s)" == Linux && -f "$wrapper" ]] &&
   ! strings "$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')" | grep -qx GLIBCXX_3.4.32; then
  command -v patchelf >/dev/null || { echo "installing patchelf (Debian package)"; apt-get update -qq && apt-get install -y -qq patchelf >/dev/null; }
  # the build copies the wrapper anew when the package's file is newer: patch after every build (both steps are idempotent)
  chmod u+w "$wrapper"
  patchelf --clear-symbol-version _ZSt21ios_base_library_initv "$wrapper"
  python3 bench/torch-compare/weak_version.py "$wrapper" GLIBCXX_3.4.32
fi

# GpuNet's CPU backend sizes its worker pool from the processor count; libtorch gets --threads.
export DOTNET_PROCESSOR_COUNT=$threads OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
exec dotnet "$out_dir/GpuNet.TorchCompare.dll" --threads "$threads" "$@"

#!/usr/bin/env python3
"""torch.matmul fp32 on the GPU, for the shapes of bench/GpuNet.Bench/IlgpuGemmBenchmarks.cs.

Run on the GPU machine beside the BenchmarkDotNet suite:

    python bench/gemm_vs_torch.py                # every shape, TF32 off and on
    python bench/gemm_vs_torch.py --json out.json

Dimension letters as in GpuNet: op(A) is M x K, op(B) is K x N, C = op(A) op(B). A transposed operand is
stored transposed (A as K x M, B as N x K) and passed to torch as a transposed view, so cuBLAS sees the
same memory layouts as the ILGPU kernels.

Timing: per shape, warm-up launches, then SAMPLES samples of REPEATS matmuls into a preallocated output
between two CUDA events (the event pair waits for the GPU, like the C# suite's synchronize after 8
launches); the median sample over REPEATS is the time per GEMM. TFLOP/s = 2 M N K / time.

"TF32 off" is the number to compare with GpuNet's fp32 kernels (full fp32 FMAs, what cuBLAS reached
51.6 TFLOP/s with at 4096^3 on an H100); "TF32 on" (torch.backends.cuda.matmul.allow_tf32 = True) lets
cuBLAS use tensor cores with 10-bit mantissas: the number to compare with GpuNet's TF32 kernels (the Tf32,
Tf32_64 and Tf32_128 rows of IlgpuGemmBenchmarks, IlgpuBackend.AllowTf32).
"""

import argparse
import json
import statistics
import sys

try:
    import torch
except ImportError:  # pragma: no cover - only on machines without torch
    sys.exit("gemm_vs_torch.py needs PyTorch with CUDA (pip install torch), on a machine with an NVIDIA GPU.")


def shapes():
    """(role, M, K, N, transA, transB), in the order of IlgpuGemmBenchmarks.Shapes."""
    for size in (512, 1024, 2048, 4096):
        yield ("cube", size, size, size, False, False)
    for batch in (64, 1024, 4096):
        for width in (128, 2048):
            yield ("Y=XW", batch, 784, width, False, False)
            yield ("dX=dYW^T", batch, width, 784, False, True)
            yield ("dW=X^TdY", 784, batch, width, True, False)


def operands(m, k, n, trans_a, trans_b, device):
    """op(A) (M x K) and op(B) (K x N) as views of tensors stored the way GpuNet stores them."""
    gen = torch.Generator(device=device).manual_seed(42)
    a = torch.rand((k, m) if trans_a else (m, k), device=device, generator=gen) - 0.5
    b = torch.rand((n, k) if trans_b else (k, n), device=device, generator=gen) - 0.5
    return (a.t() if trans_a else a), (b.t() if trans_b else b)


def time_matmul(a, b, warmup, samples, repeats):
    """Median seconds per matmul over `samples` timed batches of `repeats` matmuls."""
    out = torch.empty((a.shape[0], b.shape[1]), device=a.device, dtype=a.dtype)
    for _ in range(warmup):
        torch.matmul(a, b, out=out)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(samples):
        start.record()
        for _ in range(repeats):
            torch.matmul(a, b, out=out)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3 / repeats)  # elapsed_time is in milliseconds
    return statistics.median(times)


def set_tf32(enabled):
    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.allow_tf32 = enabled
    torch.set_float32_matmul_precision("high" if enabled else "highest")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=10, help="untimed matmuls per shape (default 10)")
    parser.add_argument("--samples", type=int, default=21, help="timed samples per shape; the median is reported (default 21)")
    parser.add_argument("--repeats", type=int, default=8, help="matmuls per sample, as IlgpuGemmBenchmarks.Launches (default 8)")
    parser.add_argument("--no-tf32", action="store_true", help="skip the TF32-on reference column")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args()

    if not torch.cuda.is_available():
        sys.exit("No CUDA device: torch.cuda.is_available() is false. Run this on the GPU machine.")
    device = torch.device("cuda")
    print(f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    print(f"median of {args.samples} samples of {args.repeats} matmuls, after {args.warmup} warm-up matmuls")
    header = f"{'shape (MxKxN form role)':<30} {'fp32 ms':>9} {'fp32 TFLOP/s':>13}"
    if not args.no_tf32:
        header += f" {'TF32 TFLOP/s':>13}"
    print(header)

    results = []
    for role, m, k, n, trans_a, trans_b in shapes():
        a, b = operands(m, k, n, trans_a, trans_b, device)
        flops = 2.0 * m * n * k
        set_tf32(False)
        fp32 = time_matmul(a, b, args.warmup, args.samples, args.repeats)
        tf32 = None
        if not args.no_tf32:
            set_tf32(True)
            tf32 = time_matmul(a, b, args.warmup, args.samples, args.repeats)
            set_tf32(False)
        name = f"{m}x{k}x{n} {'T' if trans_a else 'N'}{'T' if trans_b else 'N'} {role}"  # as GemmCase.ToString()
        line = f"{name:<30} {fp32 * 1e3:>9.4f} {flops / fp32 / 1e12:>13.2f}"
        if tf32 is not None:
            line += f" {flops / tf32 / 1e12:>13.2f}"
        print(line, flush=True)
        results.append({"case": name, "m": m, "k": k, "n": n, "transA": trans_a, "transB": trans_b,
                        "fp32_seconds": fp32, "fp32_tflops": flops / fp32 / 1e12,
                        "tf32_seconds": tf32, "tf32_tflops": None if tf32 is None else flops / tf32 / 1e12})

    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"device": torch.cuda.get_device_name(device), "torch": torch.__version__,
                       "samples": args.samples, "repeats": args.repeats, "results": results}, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

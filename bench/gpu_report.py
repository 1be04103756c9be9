#!/usr/bin/env python3
"""Turns the results folder of bench/gpu-compare.sh into the markdown tables of docs/benchmarks.md.

usage: python3 bench/gpu_report.py RESULTS_DIR [--commit SHA] > report.md

Reads what is there and says what is missing:
  device.txt                      nvidia-smi -L
  kernel-tests.txt                the tail of the kernel suite's run on CUDA (its summary line)
  train-cuda.txt                  `gpunet train` on CUDA (epoch lines, training time, test line)
  bench-lecture-*.json, bench-wide-*.json   `gpunet bench --out` (samples/s per device and batch)
  torch-lecture.json, torch-wide.json       bench/torch_mlp.py --json (eager and CUDA-graph modes)
  bdn/*IlgpuGemm*-report.csv      BenchmarkDotNet's GEMM suite (Case, Kernel, GFLOP/s columns)
  gemm-torch.json                 bench/gemm_vs_torch.py --json (cuBLAS fp32 and TF32)
Every ratio is GpuNet / PyTorch from the same run; nothing is filled in that was not measured.
"""
import argparse
import csv
import glob
import json
import os
import re
import sys


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def fmt(value, digits=0):
    return "-" if value is None else f"{value:,.{digits}f}"


def ratio(a, b):
    return "-" if a is None or b in (None, 0) else f"{a / b:.2f}"


def gpunet_points(folder, model):
    """{(device, batch): samples/s} from the newest gpunet bench JSON of the model."""
    files = sorted(glob.glob(os.path.join(folder, f"bench-{model}-*.json")))
    if not files:
        return {}, None
    with open(files[-1], encoding="utf-8") as f:
        data = json.load(f)
    points = {(p["device"], p["batch"]): p["samplesPerSecond"] for p in data["points"] if p.get("width") is None}
    bytes_per_step = {(p["device"], p["batch"]): p.get("bytesPerStep") for p in data["points"] if p.get("width") is None}
    return points, bytes_per_step


def torch_points(folder, model):
    text = read(os.path.join(folder, f"torch-{model}.json"))
    if text is None:
        return {}
    return {(r["mode"], r["batch"]): r["samples_per_second"] for r in json.loads(text) if r["model"] == model}


def training_section(folder, out):
    out.append("## Training throughput, GpuNet against PyTorch (samples/s, same run)\n")
    rows = []
    for model in ("lecture", "wide"):
        ours, alloc = gpunet_points(folder, model)
        theirs = torch_points(folder, model)
        if not ours and not theirs:
            out.append(f"- {model}: no results (bench-{model}-*.json and torch-{model}.json missing)\n")
            continue
        batches = sorted({b for (_, b) in ours} | {b for (_, b) in theirs})
        for b in batches:
            cuda, cpu = ours.get(("cuda", b)), ours.get(("cpu", b))
            eager, graph = theirs.get(("eager", b)), theirs.get(("graph", b))
            rows.append(f"| {model} | {b} | {fmt(cuda)} | {fmt(cpu)} | {fmt(eager)} | {fmt(graph)} | "
                        f"{ratio(cuda, eager)} | {ratio(cuda, graph)} | {ratio(cuda, cpu)} | {fmt(alloc.get(('cuda', b)) if alloc else None)} |")
    if rows:
        out.append("| model | batch | GpuNet CUDA | GpuNet CPU | torch eager | torch CUDA graph | GpuNet / eager | GpuNet / graph | CUDA / CPU | bytes per CUDA step |")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        out.extend(rows)
        out.append("")


def gemm_section(folder, out):
    out.append("## GEMM, GpuNet's kernels against cuBLAS (TFLOP/s, same run)\n")
    torch_text = read(os.path.join(folder, "gemm-torch.json"))
    cublas = {}
    if torch_text:
        for r in json.loads(torch_text)["results"]:
            key = " ".join(r["case"].split()[:2])  # "MxKxN NN", as GemmCase.ToString()
            cublas[key] = (r.get("fp32_tflops"), r.get("tf32_tflops"))
    ours = {}
    for path in glob.glob(os.path.join(folder, "bdn", "*IlgpuGemm*-report.csv")):
        with open(path, encoding="utf-8") as f:
            for row in csv.DictReader(f):
                cells = ours.setdefault(row["Case"], {})  # a shape whose runs all failed still gets its row
                value = row.get("GFLOP/s", "").replace(",", "")
                if value not in ("", "-", "NA"):
                    cells[row["Kernel"]] = float(value) / 1e3
    if not ours:
        out.append("- no BenchmarkDotNet GEMM results (bdn/*IlgpuGemm*-report.csv missing)\n")
        return
    kernels = sorted({k for v in ours.values() for k in v})
    header = "| shape | " + " | ".join(kernels) + " | cuBLAS fp32 | cuBLAS TF32 | best fp32 kernel / cuBLAS fp32 | best TF32 kernel / cuBLAS TF32 |"
    out.append(header)
    out.append("| --- |" + " ---: |" * (len(kernels) + 4))
    for case in ours:
        fp32 = [v for k, v in ours[case].items() if not k.startswith("Tf32")]
        tf32 = [v for k, v in ours[case].items() if k.startswith("Tf32")]
        ref32, ref_tf = cublas.get(case, (None, None))
        cells = [fmt(ours[case].get(k), 2) for k in kernels]
        out.append(f"| {case} | " + " | ".join(cells) + f" | {fmt(ref32, 2)} | {fmt(ref_tf, 2)} | "
                   f"{ratio(max(fp32) if fp32 else None, ref32)} | {ratio(max(tf32) if tf32 else None, ref_tf)} |")
    out.append("")


def summary_section(folder, out):
    device = (read(os.path.join(folder, "device.txt")) or "device.txt missing").strip()
    out.append(f"Device: {device}\n")
    tests = read(os.path.join(folder, "kernel-tests.txt"))
    if tests:
        m = re.findall(r"Total: (\d+), Errors: (\d+), Failed: (\d+), Skipped: (\d+)", tests)
        out.append(f"- kernel suite on CUDA: " + (f"total {m[-1][0]}, errors {m[-1][1]}, failed {m[-1][2]}, skipped {m[-1][3]}" if m else "no summary line found"))
    train = read(os.path.join(folder, "train-cuda.txt"))
    if train:
        for pattern in (r"^Device: .*$", r"^Training time: .*$", r"^Test: .*$"):
            m = re.search(pattern, train, re.MULTILINE)
            out.append(f"- gpunet train: {m.group(0) if m else 'missing: ' + pattern}")
    evaluate = read(os.path.join(folder, "evaluate-cpu.txt"))
    if evaluate:
        m = re.search(r"^Test .*$", evaluate, re.MULTILINE)
        out.append(f"- the CUDA-trained model evaluated on the CPU backend: {m.group(0) if m else 'no test line'}")
    out.append("")


def main():
    p = argparse.ArgumentParser(description="Markdown tables from bench/gpu-compare.sh's results folder.")
    p.add_argument("folder")
    p.add_argument("--commit", default=None)
    a = p.parse_args()
    if not os.path.isdir(a.folder):
        sys.exit(f"gpu_report.py: '{a.folder}' is not a folder; give the results folder of bench/gpu-compare.sh.")
    out = [f"# GPU results{' at commit ' + a.commit if a.commit else ''}\n"]
    summary_section(a.folder, out)
    training_section(a.folder, out)
    gemm_section(a.folder, out)
    print("\n".join(out))


if __name__ == "__main__":
    main()

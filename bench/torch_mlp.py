#!/usr/bin/env python3
"""PyTorch side of the training-throughput comparison with `gpunet bench`.

Trains the same MLPs with the same optimizer, batch sizes and data shape as `gpunet bench`: synthetic
MNIST-shaped data (random pixels in [0, 1), 10 classes) resident on the device, shuffled by a device-side
permutation each epoch, SGD with learning rate 0.01, softmax + cross-entropy (nn.CrossEntropyLoss on logits).
Modes: eager, and the same step captured in a CUDA graph (static input buffers, the batch copied in by
index_select on the device). TF32 is off (fp32 matmuls, as GpuNet's kernels).

Prints one line per (model, batch, mode) and a JSON list with --json PATH.

usage: python3 bench/torch_mlp.py [--device cuda|cpu] [--threads N] [--models lecture,wide]
                                  [--batch-sizes 64,256,1024] [--rows 60000] [--min-time 3] [--json out.json]
"""
import argparse
import json
import time

import torch
import torch.nn as nn

MODELS = {"lecture": [784, 128, 64, 10], "wide": [784, 2048, 2048, 10]}


def build(widths, device):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers).to(device)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(widths, batch, device, mode, rows, min_time, min_steps=10, warmup=5):
    g = torch.Generator(device="cpu").manual_seed(7)
    x_all = torch.rand(rows, widths[0], generator=g).to(device)
    y_all = torch.randint(0, widths[-1], (rows,), generator=g).to(device)
    model = build(widths, device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    batches = rows // batch
    perm = torch.randperm(rows, device=device)

    def step(idx):
        xb = x_all.index_select(0, idx)
        yb = y_all.index_select(0, idx)
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    if mode == "eager":
        def run(i):
            k = i % batches
            step(perm[k * batch:(k + 1) * batch])
    else:
        static_idx = perm[:batch].clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):  # warm up on a side stream before capture, as the CUDA-graphs docs require
                step(static_idx)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            step(static_idx)

        def run(i):
            k = i % batches
            static_idx.copy_(perm[k * batch:(k + 1) * batch])
            graph.replay()

    for i in range(warmup):
        run(i)
    sync(device)
    steps, start = 0, time.perf_counter()
    while True:
        run(steps)
        steps += 1
        if steps >= min_steps and steps % 10 == 0:
            sync(device)
            if time.perf_counter() - start >= min_time:
                break
    sync(device)
    seconds = time.perf_counter() - start
    return steps, seconds, batch * steps / seconds


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (torch.set_num_threads); 0 keeps the default")
    p.add_argument("--models", default="lecture,wide")
    p.add_argument("--batch-sizes", default="64,256,1024")
    p.add_argument("--rows", type=int, default=60000)
    p.add_argument("--min-time", type=float, default=3.0)
    p.add_argument("--modes", default=None, help="eager,graph (graph only on CUDA)")
    p.add_argument("--json", default=None)
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    modes = (a.modes or ("eager,graph" if device.type == "cuda" else "eager")).split(",")
    results = []
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    print(f"torch {torch.__version__} on {name}")
    for model in a.models.split(","):
        widths = MODELS[model]
        for batch in [int(b) for b in a.batch_sizes.split(",")]:
            for mode in modes:
                steps, seconds, sps = measure(widths, batch, device, mode, max(a.rows, batch), a.min_time)
                print(f"{model:8s} batch {batch:5d} {mode:6s} {sps:14,.0f} samples/s ({steps} steps, {seconds:.2f} s)")
                results.append({"framework": "torch", "device": name, "model": model, "batch": batch, "mode": mode,
                                "steps": steps, "seconds": seconds, "samples_per_second": sps})
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()

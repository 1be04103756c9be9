#!/usr/bin/env python3
"""The lecture's MNIST recipe in PyTorch, as the reference for `gpunet train --dataset mnist`.

784-128(relu)-64(relu)-10(softmax), Glorot-uniform kernels and zero biases (Keras' Dense defaults), plain SGD with
learning rate 0.01 (Keras' default), batch 64, 30 epochs, shuffled every epoch, validation_split 0.2 taken as
Keras does (the last 20% of the training set, before any shuffling), pixels / 255. Cross-entropy on the softmax's
logits (nn.CrossEntropyLoss), the same gradient as Keras' softmax + sparse categorical cross-entropy.

Prints one line per seed (validation and test accuracy, training time) and their mean.

usage: python3 bench/torch_mnist_lecture.py --data MNIST_IDX_FOLDER [--seeds 1,2,3] [--epochs 30] [--threads 2]
"""
import argparse
import gzip
import os
import statistics
import time

import numpy as np
import torch
import torch.nn as nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(folder, kind):
    name = "train" if kind == "train" else "t10k"
    x = read_idx(os.path.join(folder, f"{name}-images-idx3-ubyte.gz")).reshape(-1, 784).astype(np.float32) / 255.0
    y = read_idx(os.path.join(folder, f"{name}-labels-idx1-ubyte.gz")).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def run(seed, data, epochs, batch, lr):
    torch.manual_seed(seed)
    (x, y), (xt, yt) = data
    cut = int(len(x) * 0.8)
    xtr, ytr, xv, yv = x[:cut], y[:cut], x[cut:], y[cut:]
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(xtr))
        for i in range(0, len(xtr), batch):
            idx = order[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
    seconds = time.perf_counter() - start
    return accuracy(model, xv, yv), accuracy(model, xt, yt), seconds


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    data = (load(a.data, "train"), load(a.data, "test"))
    tests = []
    print(f"torch {torch.__version__}, {a.threads} threads, MNIST {len(data[0][0])} + {len(data[1][0])}")
    for seed in [int(s) for s in a.seeds.split(",")]:
        val, test, seconds = run(seed, data, a.epochs, a.batch_size, a.lr)
        tests.append(test)
        print(f"seed {seed}: val_accuracy {val:.4f} - test accuracy {test:.4f} - training {seconds:.1f}s", flush=True)
    print(f"mean test accuracy {statistics.mean(tests):.4f} (min {min(tests):.4f}, max {max(tests):.4f}, {len(tests)} seeds)")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Runs each lecture item's command on MNIST-10k (30 epochs unless the item says otherwise) and prints a markdown
# row per command with its test line, for docs/lecture.md. About 3 minutes on 2 cores.
# usage (from the project root): bash tools/lecture-table.sh > lecture-table.md
set -euo pipefail
dotnet build src/GpuNet.Cli -c Release -v quiet > /dev/null
cli="dotnet src/GpuNet.Cli/bin/Release/net10.0/GpuNet.Cli.dll"
row() {
  local what=$1; shift
  local out
  out=$($cli train --device cpu "$@" 2>&1 | grep -E '^Test:|^warning' | tr '\n' ' ' | sed 's/ *$//')
  echo "| $what | \`gpunet train $*\` | ${out#Test: } |"
}
echo "| item | command | test (MNIST-10k, 2,000 digits) |"
echo "| --- | --- | --- |"
row "the lecture's model" 
for a in sigmoid tanh relu leaky_relu:0.1 elu swish softplus gelu maxout:2 linear; do row "activation $a" --activation "$a"; done
row "softmax as a hidden activation" --layers 128:softmax,64
row "loss: MSE on softmax" --loss mse
row "loss: categorical cross-entropy (one-hot)" --loss categorical_crossentropy
row "loss: sparse categorical cross-entropy, from logits" --from-logits
for i in zeros random_normal glorot_normal he_normal lecun_normal orthogonal lsuv; do row "init $i" --init "$i"; done
for o in gd momentum nesterov adagrad rmsprop adam; do row "optimizer $o" --optimizer "$o"; done
row "learning-rate decay: inverse time" --lr 0.1 --lr-schedule inverse-time --decay 0.001
row "learning-rate decay: step" --lr 0.1 --lr-schedule step
row "batch 1 (SGD on single samples), 5 epochs" --batch-size 1 --epochs 5
row "batch 512" --batch-size 512
row "L1 1e-4" --l1 1e-4
row "L2 1e-4" --l2 1e-4
row "elastic net" --l1 1e-5 --l2 1e-4
row "dropout 0.3" --dropout 0.3
row "batch normalization" --batchnorm
row "early stopping (patience 3, lr 0.1)" --lr 0.1 --early-stopping 3
row "augmentation" --augment shift=2,rotation=10
row "no scaling (raw 0-255 pixels)" --scaler none
row "standardized pixels" --scaler standard
row "one-line layer spec" --layers 256:relu,dropout:0.3,128:leaky_relu:0.1,batchnorm --optimizer adam

#!/usr/bin/env bash
# CPU training throughput of two commits, alternated round by round in one sitting: `gpunet bench --devices cpu` of the
# lecture model built from each commit, the same batch sizes, steps and warm-up, the order swapped every round.
# Prints every sample, then per batch the median (min-max) samples/s of each and the after/before ratio of each round.
# usage (from the project root): [MODEL=wide] [WARMUP=300] bash bench/before-after.sh BEFORE [AFTER=HEAD] [rounds=5] [batch sizes=1,64,1024]
set -euo pipefail
before=${1:?usage: bash bench/before-after.sh BEFORE [AFTER] [rounds] [batch-sizes]}
after=${2:-HEAD}
rounds=${3:-5}
batches=${4:-1,64,1024}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/src-before" 2>/dev/null || true; git worktree remove --force "$work/src-after" 2>/dev/null || true; rm -rf "$work"' EXIT

for side in before after; do
  rev=${!side}
  git worktree add --detach -q "$work/src-$side" "$rev"
  dotnet build "$work/src-$side/src/GpuNet.Cli" -c Release -v quiet -nologo -o "$work/bin-$side" > /dev/null
  echo "$side: $(git rev-parse --short "$rev")"
done

# A fixed warm-up for both (an adaptive one may not exist in the older build): 300 steps (WARMUP), then at least 2 s timed.
export DOTNET_PROCESSOR_COUNT=${THREADS:-2}
for round in $(seq 1 "$rounds"); do
  order=(before after); (( round % 2 == 0 )) && order=(after before)
  for side in "${order[@]}"; do
    dotnet "$work/bin-$side/GpuNet.Cli.dll" bench --devices cpu --model "${MODEL:-lecture}" --batch-sizes "$batches" --warmup "${WARMUP:-300}" --min-time 2 --out "$work/out-$side-$round" > /dev/null
    python3 - "$work/out-$side-$round" "$side" "$round" >> "$work/samples.txt" <<'PY'
import glob, json, sys
folder, side, rnd = sys.argv[1:]
for p in json.load(open(glob.glob(folder + "/*.json")[0]))["points"]:
    print(rnd, side, p["batch"], p["samplesPerSecond"])
PY
  done
  echo "round $round/$rounds done ($(cut -d' ' -f4 /proc/loadavg 2>/dev/null || echo '?') runnable; load $(cut -d' ' -f1 /proc/loadavg))"
done
cat "$work/samples.txt"
python3 - "$work/samples.txt" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
data = {}
for rnd, side, batch, sps in rows:
    data.setdefault(int(batch), {}).setdefault(side, {})[int(rnd)] = float(sps)
print("| batch | before samples/s | after samples/s | after / before, median (min-max) |")
print("| ---: | ---: | ---: | ---: |")
for batch in sorted(data):
    b, a = data[batch]["before"], data[batch]["after"]
    ratios = [a[r] / b[r] for r in sorted(b) if r in a]
    fmt = lambda xs: f"{statistics.median(xs):,.0f} ({min(xs):,.0f}-{max(xs):,.0f})"
    print(f"| {batch} | {fmt(list(b.values()))} | {fmt(list(a.values()))} | {statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f}) |")
PY

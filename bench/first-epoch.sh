#!/usr/bin/env bash
# The first epoch of `gpunet train` (mnist10k, the lecture's 784-128-64-10, SGD, batch 64, CPU) under .NET JIT
# settings, alternated run by run: the default (tiered compilation with tier-0 code, OSR for loops, dynamic PGO)
# against each setting on its own. The environment variables are the same runtime knobs as the csproj properties
# (TieredPGO, TieredCompilation, TieredCompilationQuickJitForLoops), so one build serves every variant.
# "readytorun" runs a ReadyToRun publish of the tool (precompiled code, still tiered), made here unless R2R_DIR names one.
# Prints each run's first-epoch seconds (the --history CSV) and process wall time, then median (min-max) per setting.
# usage (from the project root): [SETTINGS="default readytorun"] bash bench/first-epoch.sh [rounds]
set -euo pipefail
rounds=${1:-5}
dotnet build src/GpuNet.Cli -c Release -v quiet -nologo >/dev/null
cli=src/GpuNet.Cli/bin/Release/net10.0/GpuNet.Cli.dll
r2r=${R2R_DIR:-bench-results/first-epoch-r2r}
if [[ -z "${R2R_DIR:-}" ]]; then
  dotnet publish src/GpuNet.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$r2r" -v quiet -nologo >/dev/null
  dotnet build src/GpuNet.Cli -c Release -v quiet -nologo >/dev/null # restores the project without the runtime identifier again
fi
tmp=$(mktemp -d)
# SETTINGS="default readytorun" runs only those
read -r -a settings <<< "${SETTINGS:-default DOTNET_TieredPGO=0 DOTNET_TC_QuickJitForLoops=0 DOTNET_TieredCompilation=0 readytorun}"
for round in $(seq 1 "$rounds"); do
  for i in "${!settings[@]}"; do
    # rotate the order each round so no setting always runs first
    s=${settings[$(( (i + round) % ${#settings[@]} ))]}
    envs=(); dll=$cli
    case $s in default) ;; readytorun) dll=$r2r/GpuNet.Cli.dll ;; *) envs=("$s") ;; esac
    start=$(date +%s.%N)
    env "${envs[@]}" DOTNET_PROCESSOR_COUNT=${THREADS:-2} dotnet "$dll" train --device cpu --epochs 1 --verbose 0 \
      --history "$tmp/h.csv" >/dev/null
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    epoch=$(awk -F, '{sub(/\r$/, "")} NR==1 {for (c = 1; c <= NF; c++) if ($c == "seconds") col = c} NR==2 {print $col}' "$tmp/h.csv")
    echo "$round $s $epoch $wall" | tee -a "$tmp/runs.txt"
  done
done
echo "setting: first epoch s median (min-max); process wall s median (min-max), $rounds runs"
for s in "${settings[@]}"; do
  awk -v s="$s" 'BEGIN {n = 0} $2 == s {e[n] = $3; w[n] = $4; n++}
    function med(a, n,   i, j, t) { for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                   return n % 2 ? a[int(n / 2)] : (a[n / 2 - 1] + a[n / 2]) / 2 }
    END { me = med(e, n); mw = med(w, n)  # med sorts in place: then [0] and [n-1] are min and max
          printf "%-30s %.3f (%.3f-%.3f); %.2f (%.2f-%.2f)\n", s, me, e[0], e[n-1], mw, w[0], w[n-1] }' "$tmp/runs.txt"
done
rm -r "$tmp"

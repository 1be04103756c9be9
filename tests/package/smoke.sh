#!/usr/bin/env bash
# Package smoke test: packs GpuNet and the gpunet tool as a user gets them, then, in a folder outside the
# repository, (1) builds and runs a console app that references the GpuNet package and trains the lecture's
# model, and (2) installs the gpunet tool from the package and trains with it. Fails on any error.
# Needs the .NET 10 SDK and NuGet; about a minute. usage: bash tests/package/smoke.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
case $(uname -m) in x86_64) rid=linux-x64 ;; aarch64) rid=linux-arm64 ;; *) echo "smoke: no tool package for $(uname -m)"; exit 0 ;; esac
[[ $(uname -s) == Linux ]] || { echo "smoke: Linux only"; exit 0; }
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props")

echo "== packing GpuNet $version and the gpunet tool ($rid)"
# (packed with the machine's usual package cache: the repository's own restore stays where it was)
dotnet pack "$root/src/GpuNet" -c Release -o "$work/feed" --nologo -v quiet
dotnet pack "$root/src/GpuNet.Plotting" -c Release -o "$work/feed" --nologo -v quiet
dotnet pack "$root/src/GpuNet.Cli" -c Release -o "$work/feed" --nologo -v quiet -p:ToolPackageRuntimeIdentifiers=$rid
ls -l "$work/feed"
# the library is one package: its own assemblies and the two it bundles, with their XML docs and the data's license
if command -v unzip > /dev/null; then
  listing=$(unzip -l "$work/feed/GpuNet.$version.nupkg")
  for f in lib/net10.0/GpuNet.Kernels.dll lib/net10.0/GpuNet.Core.dll lib/net10.0/GpuNet.Core.xml data/mnist-10k/LICENSE; do
    grep -q "$f" <<< "$listing" || { echo "smoke: $f is not in the GpuNet package"; exit 1; }
  done
  # it depends on NuGet packages only (ONNX export: OnnxSharp's schema types on Google.Protobuf), not on the projects it bundles
  nuspec=$(unzip -p "$work/feed/GpuNet.$version.nupkg" GpuNet.nuspec)
  for d in ILGPU ILGPU.Algorithms CsvHelper System.Numerics.Tensors OnnxSharp Google.Protobuf Razorvine.Pickle Spectre.Console; do
    grep -q "id=\"$d\"" <<< "$nuspec" || { echo "smoke: the GpuNet package does not depend on $d"; exit 1; }
  done
  if grep -q -E 'id="GpuNet\.(Core|Kernels)"' <<< "$nuspec"; then echo "smoke: the GpuNet package depends on a project it bundles"; exit 1; fi
  # the pictures package: on GpuNet (not on what GpuNet bundles) and on the native drawing libraries GpuNet leaves out
  nuspec=$(unzip -p "$work/feed/GpuNet.Plotting.$version.nupkg" GpuNet.Plotting.nuspec)
  for d in GpuNet ScottPlot SkiaSharp.NativeAssets.Linux.NoDependencies; do
    grep -q "id=\"$d\"" <<< "$nuspec" || { echo "smoke: the GpuNet.Plotting package does not depend on $d"; exit 1; }
  done
  if grep -q -E 'id="GpuNet\.(Core|Kernels)"' <<< "$nuspec"; then echo "smoke: GpuNet.Plotting depends on a project GpuNet bundles"; exit 1; fi
else
  echo "smoke: unzip not found, the package's file list is not checked"
fi

# The consumer's own package cache, so that it never finds a stale GpuNet of the same version; the local feed
# is added to the machine's package sources (GpuNet and GpuNet.Cli are not on nuget.org).
export NUGET_PACKAGES=$work/nuget
cat > "$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="gpunet-local" value="$work/feed" />
  </packageSources>
</configuration>
XML

echo "== a console app that references the GpuNet package"
mkdir -p "$work/app"
cat > "$work/app/app.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="GpuNet" Version="$version" />
    <PackageReference Include="GpuNet.Plotting" Version="$version" />
  </ItemGroup>
</Project>
XML
cat > "$work/app/Program.cs" <<'CS'
using GpuNet;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using GpuNet.Plotting;

var (train, test) = Datasets.Mnist10k();
using var backend = Device.Create(DeviceChoice.Auto);
using var model = new Sequential(new Dense(128, "relu"), new Dense(64, "relu"), new Dense(10, "softmax"));
model.Compile(new Sgd(0.05f), new SparseCategoricalCrossentropy(), backend, seed: 42);
var history = model.Fit(train, new FitOptions { Epochs = 3, BatchSize = 64, ValidationSplit = 0.1 });
var result = model.Evaluate(test);
Console.WriteLine($"package app: {result}");
if (result.Accuracy < 0.85) { Console.Error.WriteLine($"accuracy {result.Accuracy:P2} is below 85%"); return 1; }
var path = Path.Combine(AppContext.BaseDirectory, "m.safetensors");
model.Save(path);
using var loaded = Sequential.Load(path, backend);
var same = loaded.Predict(test.Features).AsSpan().SequenceEqual(model.Predict(test.Features));
Console.WriteLine($"package app: saved and loaded, same predictions: {same}");
var onnx = Path.Combine(AppContext.BaseDirectory, "m.onnx");
model.ExportOnnx(onnx);
Console.WriteLine($"package app: exported {new FileInfo(onnx).Length:N0} bytes of ONNX");
// PNG pictures from GpuNet.Plotting: its native SkiaSharp library must load from the package
foreach (var png in new[] { "model.png", "curves.png" })
{
    var file = Path.Combine(AppContext.BaseDirectory, png);
    if (png == "model.png") model.PlotModel(file); else history.SavePlot(file);
    var head = File.ReadAllBytes(file)[..4];
    if (!head.SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' })) { Console.Error.WriteLine($"{png} is not a PNG"); return 1; }
    Console.WriteLine($"package app: wrote {png} ({new FileInfo(file).Length:N0} bytes)");
}
return same ? 0 : 1;
CS
(cd "$work/app" && dotnet run -c Release --nologo -v quiet)

echo "== the gpunet tool, installed from its package"
(cd "$work" && dotnet tool install GpuNet.Cli --version "$version" --tool-path "$work/tools" -v quiet)
"$work/tools/gpunet" devices
"$work/tools/gpunet" train --epochs 2 --save "$work/tool.safetensors" --plot "$work/curves.png" | tee "$work/train.txt"
grep -q '^Test: loss' "$work/train.txt" || { echo "smoke: gpunet train printed no test line"; exit 1; }
# the chart needs the platform's native SkiaSharp library, which the per-platform tool package must carry
[[ $(head -c 4 "$work/curves.png" | od -An -c | tr -d ' ') == '211PNG' ]] || { echo "smoke: --plot wrote no PNG"; exit 1; }
"$work/tools/gpunet" evaluate --model "$work/tool.safetensors"
"$work/tools/gpunet" export --model "$work/tool.safetensors" --onnx "$work/tool.onnx"
[[ -s "$work/tool.onnx" ]] || { echo "smoke: gpunet export wrote no ONNX file"; exit 1; }
# a bad option: a clear message and a non-zero exit, no stack trace
if "$work/tools/gpunet" train --epochs 0 > "$work/bad.txt" 2>&1; then echo "smoke: --epochs 0 was accepted"; exit 1; fi
if grep -q '   at ' "$work/bad.txt"; then echo "smoke: a stack trace for --epochs 0:"; cat "$work/bad.txt"; exit 1; fi
echo "smoke: the GpuNet package and the gpunet tool work"

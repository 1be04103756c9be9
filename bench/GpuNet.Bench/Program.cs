using BenchmarkDotNet.Running;
using GpuNet.Bench;

// dotnet run -c Release --project bench/GpuNet.Bench -- --filter '*CpuGemm*' --job short
// dotnet run -c Release --project bench/GpuNet.Bench -- quick [Auto|Avx512|Avx2|Portable] [threads]
if (args.Length > 0 && args[0] == "quick")
{
    QuickGemm.Run(args.Skip(1).ToArray());
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(CpuGemmBenchmarks).Assembly).Run(args);

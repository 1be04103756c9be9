using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using GpuNet.Backends;
using GpuNet.Kernels;

namespace GpuNet.Bench;

/// <summary>
/// GFLOP/s, short runs, in process: the CUDA context and the compiled kernels are created once and shared
/// by every case (a process per case would recompile all of IlgpuBackend's kernels each time).
/// </summary>
public sealed class IlgpuGemmConfig : ManualConfig
{
    public IlgpuGemmConfig()
    {
        AddColumn(new GflopsColumn());
        AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
    }
}

/// <summary>
/// The ILGPU GEMM kernels on CUDA: the shared-memory tiled kernel against the register-tiled ones (the
/// backend's automatic tile choice and each tile forced) and the TF32 tensor-core ones (the same three ways),
/// C = A B (beta = 0), on cubes and on the
/// training shapes of a 784-input layer (forward and both backward forms). Nothing runs without a CUDA
/// device. Run on the GPU machine with
/// <c>dotnet run -c Release --project bench/GpuNet.Bench -- --filter '*IlgpuGemm*'</c>, beside
/// <c>python bench/gemm_vs_torch.py</c>.
/// </summary>
/// <remarks>
/// Each invocation launches <see cref="Launches"/> GEMMs back to back and then synchronizes, so the time
/// (per GEMM, as BenchmarkDotNet divides by OperationsPerInvoke) includes the wait for the GPU but only an
/// eighth of one synchronization's latency per GEMM: the same way the torch script times a loop of
/// matmuls between CUDA events.
/// </remarks>
[Config(typeof(IlgpuGemmConfig))]
public class IlgpuGemmBenchmarks
{
    /// <summary>GEMMs per measured invocation.</summary>
    public const int Launches = 8;

    // One CUDA backend for every case of the run (never disposed: the process ends with the run).
    private static IlgpuBackend? s_backend;

    private DeviceBuffer<float>? _a, _b, _c;

    [ParamsSource(nameof(Cases))]
    public GemmCase Case { get; set; } = Shapes.First();

    /// <summary>
    /// Tiled (GemmTiledKernel); RegisterTiled (SelectGemmTile's choice); RegisterTiled64 and 128 (forced); Tf32
    /// (Gemm with AllowTf32, SelectGemmTile's choice), Tf32_64 and Tf32_128 (forced): the TF32 tensor-core kernels,
    /// to compare with cuBLAS's "TF32 on" column of gemm_vs_torch.py.
    /// </summary>
    [ParamsSource(nameof(Kernels))]
    public string Kernel { get; set; } = "Tiled";

    /// <summary>Environment variable restricting <see cref="Kernel"/> to a comma-separated list (e.g. "Tf32,Tf32_64,Tf32_128").</summary>
    public const string KernelsVariable = "GPUNET_GEMM_KERNELS";

    /// <summary>Every kernel, or those named in <see cref="KernelsVariable"/> (so that a run fits the GPU session's time limit).</summary>
    public static IEnumerable<string> Kernels
    {
        get
        {
            string[] all = ["Tiled", "RegisterTiled", "RegisterTiled64", "RegisterTiled128", "Tf32", "Tf32_64", "Tf32_128"];
            string? only = Environment.GetEnvironmentVariable(KernelsVariable);
            return string.IsNullOrWhiteSpace(only)
                ? all
                : all.Where(kernel => only.Split(',', StringSplitOptions.TrimEntries).Contains(kernel, StringComparer.OrdinalIgnoreCase));
        }
    }

    /// <summary>The shapes, or none (with a message) when ILGPU finds no CUDA device.</summary>
    public static IEnumerable<GemmCase> Cases
    {
        get
        {
            if (IlgpuBackend.IsCudaAvailable()) return Shapes;
            Console.WriteLine("IlgpuGemmBenchmarks: no CUDA device (IlgpuBackend.IsCudaAvailable() is false), so no case runs.");
            return [];
        }
    }

    /// <summary>
    /// Cubes 512^3 to 4096^3, then for batch B in 64, 1024, 4096 and layer width W in 128, 2048:
    /// Y = X W (B x 784 times 784 x W), dX = dY W^T (B x W times W^T) and dW = X^T dY (784 x B times B x W).
    /// </summary>
    public static IEnumerable<GemmCase> Shapes
    {
        get
        {
            foreach (int size in new[] { 512, 1024, 2048, 4096 })
                yield return new GemmCase("cube", size, size, size, false, false);
            foreach (int batch in new[] { 64, 1024, 4096 })
                foreach (int width in new[] { 128, 2048 })
                {
                    yield return new GemmCase("Y=XW", batch, 784, width, false, false);
                    yield return new GemmCase("dX=dYW^T", batch, width, 784, false, true);
                    yield return new GemmCase("dW=X^TdY", 784, batch, width, true, false);
                }
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        s_backend ??= IlgpuBackend.CreateCuda();
        var (a, b, c) = CpuGemmBenchmarks.Inputs(Case);
        _a = s_backend.Allocate<float>(a.Length);
        _b = s_backend.Allocate<float>(b.Length);
        _c = s_backend.Allocate<float>(c.Length);
        s_backend.Upload<float>(a, _a);
        s_backend.Upload<float>(b, _b);
        Run();
        s_backend.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a?.Dispose();
        _b?.Dispose();
        _c?.Dispose();
    }

    /// <summary><see cref="Launches"/> GEMMs, then a synchronization: the measured region waits for the GPU.</summary>
    [Benchmark(OperationsPerInvoke = Launches)]
    public void Gemm()
    {
        for (int i = 0; i < Launches; i++) Run();
        s_backend!.Synchronize();
    }

    private void Run()
    {
        var backend = s_backend!;
        var (m, n, k) = (Case.M, Case.N, Case.K);
        backend.AllowTf32 = Kernel == "Tf32";
        switch (Kernel)
        {
            case "Tiled":
                backend.GemmKernel = GemmKernelChoice.Tiled;
                backend.Gemm(Case.TransA, Case.TransB, m, n, k, 1f, _a!, _b!, 0f, _c!);
                break;
            case "RegisterTiled":
                backend.GemmKernel = GemmKernelChoice.RegisterTiled;
                backend.Gemm(Case.TransA, Case.TransB, m, n, k, 1f, _a!, _b!, 0f, _c!);
                break;
            case "RegisterTiled64":
                backend.GemmRegisterTiled(GemmTile.Tile64x64, Case.TransA, Case.TransB, m, n, k, 1f, _a!, _b!, 0f, _c!);
                break;
            case "RegisterTiled128":
                backend.GemmRegisterTiled(GemmTile.Tile128x128, Case.TransA, Case.TransB, m, n, k, 1f, _a!, _b!, 0f, _c!);
                break;
            case "Tf32":
                backend.Gemm(Case.TransA, Case.TransB, m, n, k, 1f, _a!, _b!, 0f, _c!);
                break;
            case "Tf32_64":
                backend.GemmTf32(GemmTile.Tile64x64, Case.TransA, Case.TransB, m, n, k, 1f, _a!, _b!, 0f, _c!);
                break;
            case "Tf32_128":
                backend.GemmTf32(GemmTile.Tile128x128, Case.TransA, Case.TransB, m, n, k, 1f, _a!, _b!, 0f, _c!);
                break;
            default:
                throw new ArgumentException($"Unknown kernel '{Kernel}'. Expected Tiled, RegisterTiled, RegisterTiled64, RegisterTiled128, Tf32, Tf32_64 or Tf32_128.");
        }
    }
}

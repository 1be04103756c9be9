using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using GpuNet.Backends.Cpu;

namespace GpuNet.Bench;

/// <summary>Adds the GFLOP/s column to the default configuration.</summary>
public sealed class GflopsConfig : ManualConfig
{
    public GflopsConfig() => AddColumn(new GflopsColumn());
}

/// <summary>
/// The packed CPU GEMM (C = A B, beta = 0) per shape, micro-kernel and thread count, on the training shapes
/// of a 784 -> 128 layer and on cubes.
/// </summary>
[Config(typeof(GflopsConfig))]
public class CpuGemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    [ParamsSource(nameof(Cases))]
    public GemmCase Case { get; set; } = GemmCase.All.First();

    [Params("Avx512", "Avx2")]
    public string Kernel { get; set; } = "Avx512";

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    public static IEnumerable<GemmCase> Cases => GemmCase.All;

    [GlobalSetup]
    public void Setup() => (_a, _b, _c) = Inputs(Case);

    [Benchmark]
    public void Packed() => CpuGemm.Gemm(Case.TransA, Case.TransB, Case.M, Case.N, Case.K, 1f,
        _a, 0, _b, 0, 0f, _c, 0, Enum.Parse<CpuGemmKernel>(Kernel), Threads);

    internal static (float[] A, float[] B, float[] C) Inputs(GemmCase shape)
    {
        var random = new Random(42);
        var a = new float[shape.M * shape.K];
        var b = new float[shape.K * shape.N];
        for (int i = 0; i < a.Length; i++) a[i] = (float)random.NextDouble() - 0.5f;
        for (int i = 0; i < b.Length; i++) b[i] = (float)random.NextDouble() - 0.5f;
        return (a, b, new float[shape.M * shape.N]);
    }
}

/// <summary>The placeholder CpuGemm replaced (a Parallel.For over rows of dot products), for comparison.</summary>
[Config(typeof(GflopsConfig))]
public class NaiveGemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    [ParamsSource(nameof(Cases))]
    public GemmCase Case { get; set; } = GemmCase.All.First();

    public static IEnumerable<GemmCase> Cases => GemmCase.All;

    [GlobalSetup]
    public void Setup() => (_a, _b, _c) = CpuGemmBenchmarks.Inputs(Case);

    [Benchmark]
    public void Naive() => NaiveGemm.Gemm(Case.TransA, Case.TransB, Case.M, Case.N, Case.K, 1f, _a, _b, 0f, _c);
}

/// <summary>The original placeholder, verbatim: correct, all cores, no blocking or SIMD.</summary>
internal static class NaiveGemm
{
    public static void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c)
    {
        Parallel.For(0, m, i =>
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * m + i] : a[i * k + p];
                    float bv = transB ? b[j * k + p] : b[p * n + j];
                    sum += av * bv;
                }
                c[i * n + j] = beta == 0 ? alpha * sum : alpha * sum + beta * c[i * n + j];
            }
        });
    }
}

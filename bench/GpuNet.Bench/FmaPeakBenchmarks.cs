using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;

namespace GpuNet.Bench;

/// <summary>
/// The machine's FMA peak: register-only loops of 12 independent FMA chains (enough to cover a 4-cycle
/// latency on 2 FMA pipes), so nothing but FMA throughput limits them. OperationsPerInvoke counts flops,
/// so the mean is per flop and the GFLOP/s column is the peak.
/// </summary>
[Config(typeof(GflopsConfig))]
public class FmaPeakBenchmarks
{
    private const int Iterations = 1 << 20;
    private const int Chains = 12;

    [Benchmark(OperationsPerInvoke = Iterations * Chains * 16 * 2)]
    public float Vector512OneThread() => Avx512F.IsSupported ? Loop512(Iterations) : float.NaN;

    [Benchmark(OperationsPerInvoke = Iterations * Chains * 16 * 2 * 2)]
    public float Vector512TwoThreads() => TwoThreads(() => Avx512F.IsSupported ? Loop512(Iterations) : float.NaN);

    [Benchmark(OperationsPerInvoke = Iterations * Chains * 8 * 2)]
    public float Vector256OneThread() => Loop256(Iterations);

    [Benchmark(OperationsPerInvoke = Iterations * Chains * 8 * 2 * 2)]
    public float Vector256TwoThreads() => TwoThreads(() => Loop256(Iterations));

    private static float TwoThreads(Func<float> body)
    {
        var results = new float[2];
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => results[i] = body());
        return results[0] + results[1];
    }

    /// <summary>x_i = x_i * s + t on 12 chains of Vector512: 12 * 16 * 2 flops per iteration.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static float Loop512(int iterations)
    {
        var s = Vector512.Create(0.999999f);
        var t = Vector512.Create(1e-7f);
        Vector512<float> x0 = Vector512.Create(1f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
        Vector512<float> x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
        for (int i = 0; i < iterations; i++)
        {
            x0 = Avx512F.FusedMultiplyAdd(x0, s, t); x1 = Avx512F.FusedMultiplyAdd(x1, s, t);
            x2 = Avx512F.FusedMultiplyAdd(x2, s, t); x3 = Avx512F.FusedMultiplyAdd(x3, s, t);
            x4 = Avx512F.FusedMultiplyAdd(x4, s, t); x5 = Avx512F.FusedMultiplyAdd(x5, s, t);
            x6 = Avx512F.FusedMultiplyAdd(x6, s, t); x7 = Avx512F.FusedMultiplyAdd(x7, s, t);
            x8 = Avx512F.FusedMultiplyAdd(x8, s, t); x9 = Avx512F.FusedMultiplyAdd(x9, s, t);
            x10 = Avx512F.FusedMultiplyAdd(x10, s, t); x11 = Avx512F.FusedMultiplyAdd(x11, s, t);
        }
        return Vector512.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }

    /// <summary>The same with Vector256: 12 * 8 * 2 flops per iteration.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static float Loop256(int iterations)
    {
        var s = Vector256.Create(0.999999f);
        var t = Vector256.Create(1e-7f);
        Vector256<float> x0 = Vector256.Create(1f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
        Vector256<float> x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
        for (int i = 0; i < iterations; i++)
        {
            x0 = Fma.MultiplyAdd(x0, s, t); x1 = Fma.MultiplyAdd(x1, s, t);
            x2 = Fma.MultiplyAdd(x2, s, t); x3 = Fma.MultiplyAdd(x3, s, t);
            x4 = Fma.MultiplyAdd(x4, s, t); x5 = Fma.MultiplyAdd(x5, s, t);
            x6 = Fma.MultiplyAdd(x6, s, t); x7 = Fma.MultiplyAdd(x7, s, t);
            x8 = Fma.MultiplyAdd(x8, s, t); x9 = Fma.MultiplyAdd(x9, s, t);
            x10 = Fma.MultiplyAdd(x10, s, t); x11 = Fma.MultiplyAdd(x11, s, t);
        }
        return Vector256.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }

    /// <summary>One dependent FMA chain: its time per FMA is the FMA latency in seconds.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static float LatencyChain(int iterations)
    {
        var s = Vector256.Create(0.999999f);
        var t = Vector256.Create(1e-7f);
        var x = Vector256.Create(1f);
        for (int i = 0; i < iterations; i++)
            x = Fma.MultiplyAdd(x, s, t);
        return x.GetElement(0);
    }
}

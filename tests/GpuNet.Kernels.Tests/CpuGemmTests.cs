using GpuNet.Backends.Cpu;
using Xunit;

namespace GpuNet.Kernels.Tests;

/// <summary>
/// <see cref="CpuGemm"/> against a double-precision naive loop, for every micro-kernel this CPU runs
/// (Avx512 8x32, Avx2 6x16, Portable 4x8), one thread and several, all four transpose forms.
/// </summary>
public class CpuGemmTests
{
    // Shapes that hit every edge: empty, 1, primes (ragged against MR = 4/6/8, NR = 8/16/32), M < K,
    // tails past MC = 64/128/168 and KC = 256 (200 x 300 x 513), K cut into several slices by every
    // kernel (19 x 70 x 2100: 3 x 700 for KC = 1024), the training shapes (batch 64, 784 -> 128), and
    // sizes above CpuGemm.ParallelThreshold multiply-adds (so the threaded split runs).
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (0, 5, 3), (5, 0, 3), (4, 5, 0),
        (1, 1, 1), (7, 13, 5), (31, 17, 97), (5, 9, 300), (97, 101, 103),
        (200, 300, 513), (19, 70, 2100), (64, 128, 784), (64, 784, 128), (784, 128, 64), (130, 33, 257),
        // M a multiple of 1024: a transposed A is packed instead of read in place (and 2048 x 40 x 30,
        // above the threshold with M > N, splits rows between threads instead of columns).
        (1024, 19, 37), (2048, 40, 30),
        // at most CpuGemm.SmallRowLimit rows (the unpacked path): batch 1-4 products, N past and short of 64 and 8
        (1, 128, 784), (3, 784, 128), (4, 71, 19), (2, 7, 33), (1, 1000, 5),
        // ... and with B past CpuGemm.SmallParallelElements, split by 64-column panels across threads (N not a multiple of 64)
        (1, 1030, 1031), (3, 1031, 1030),
    ];

    public static TheoryData<string, int, int, int, bool, bool> KernelShapeForms()
    {
        var data = new TheoryData<string, int, int, int, bool, bool>();
        foreach (var kernel in new[] { "Avx512", "Avx2", "Portable" })
            foreach (var (m, n, k) in Shapes)
                foreach (var (transA, transB) in new[] { (false, false), (false, true), (true, false), (true, true) })
                    data.Add(kernel, m, n, k, transA, transB);
        return data;
    }

    [Theory]
    [MemberData(nameof(KernelShapeForms))]
    public void MatchesReference_BetaZeroIgnoresNaNInC(string kernel, int m, int n, int k, bool transA, bool transB)
    {
        // beta = 0 must overwrite C, so a NaN-filled C must not leak into the result.
        var kind = Require(kernel);
        var run = new Case(m, n, k, transA, transB, alpha: 1f, beta: 0f, seed: m * 7919 + n * 31 + k);
        Array.Fill(run.C, float.NaN, run.COffset, m * n);
        run.Check(kind, Environment.ProcessorCount);
    }

    [Theory]
    [MemberData(nameof(KernelShapeForms))]
    public void MatchesReference_AlphaAndBetaScale(string kernel, int m, int n, int k, bool transA, bool transB)
    {
        var kind = Require(kernel);
        new Case(m, n, k, transA, transB, alpha: -0.5f, beta: 0.75f, seed: m + n * 13 + k * 101).Check(kind, Environment.ProcessorCount);
    }

    [Theory]
    [InlineData("Avx512", 1)]
    [InlineData("Avx512", 2)]
    [InlineData("Avx2", 1)]
    [InlineData("Avx2", 2)]
    [InlineData("Portable", 2)]
    public void BetaOneAccumulates_WithOffsetsAndThreads(string kernel, int threads)
    {
        // beta = 1 must add to C in the first K slice and every later one (K = 1500: 2 slices of 750 for
        // KC = 1024, 6 of 250 for KC = 256); running it twice from random C checks C + AB + AB.
        // 97 x 131 x 1500 is above the threading threshold.
        var kind = Require(kernel);
        foreach (var (transA, transB) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            var run = new Case(97, 131, 1500, transA, transB, alpha: 1f, beta: 1f, seed: 5, offset: 11);
            run.Check(kind, threads);
            run.Check(kind, threads);
        }
    }

    [Theory]
    [InlineData("Avx512")]
    [InlineData("Avx2")]
    [InlineData("Portable")]
    public void SweepsEveryTail(string kernel)
    {
        // Every M in 1..13 and N in 1..35 (all remainders mod MR = 4/6/8 and NR = 8/16/32), K short and long.
        var kind = Require(kernel);
        int seed = 0;
        foreach (int k in new[] { 1, 9, 33 })
            for (int m = 1; m <= 13; m++)
                for (int n = 1; n <= 35; n++)
                {
                    seed++;
                    new Case(m, n, k, seed % 2 == 0, seed % 3 == 0, alpha: 1.5f, beta: seed % 5 == 0 ? 0f : -1f, seed, offset: seed % 4)
                        .Check(kind, 1);
                }
    }

    [Fact]
    public void AlphaZeroOrKZeroOnlyScalesC()
    {
        // BLAS convention: with alpha = 0 (or K = 0) op(A) op(B) is not computed, so NaNs in A or B do not
        // reach C, and C = beta * C exactly.
        var a = new float[6];
        var b = new float[6];
        Array.Fill(a, float.NaN);
        Array.Fill(b, float.NaN);
        var c = new float[] { 1, 2, 3, 4 };
        CpuGemm.Gemm(false, false, 2, 2, 3, 0f, a, 0, b, 0, 0.5f, c, 0);
        Assert.Equal(new float[] { 0.5f, 1, 1.5f, 2 }, c);

        var c2 = new float[] { float.NaN, 2, 3, 4 };
        CpuGemm.Gemm(false, false, 2, 2, 0, 1f, a, 0, b, 0, 0f, c2, 0);
        Assert.Equal(new float[] { 0, 0, 0, 0 }, c2);
    }

    [Fact]
    public void SingleThreadedCallAllocatesNothingAfterWarmUp()
    {
        // Packing buffers are pooled: a training loop's GEMMs must not churn the GC.
        var a = new float[64 * 100];
        var b = new float[100 * 48];
        var c = new float[64 * 48];
        CpuGemm.Gemm(false, true, 64, 48, 100, 1f, a, 0, b, 0, 0f, c, 0, CpuGemmKernel.Auto, 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
            CpuGemm.Gemm(false, true, 64, 48, 100, 1f, a, 0, b, 0, 0f, c, 0, CpuGemmKernel.Auto, 1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void MultiThreadedCallAllocatesNothingAfterWarmUp()
    {
        // 64 x 784 x 128, the lecture model's first layer at batch 64: above the threshold, so split across the worker pool.
        var a = new float[64 * 784];
        var b = new float[784 * 128];
        var c = new float[64 * 128];
        Assert.True(64L * 128 * 784 >= CpuGemm.ParallelThreshold);
        for (int i = 0; i < 20; i++) CpuGemm.Gemm(false, false, 64, 128, 784, 1f, a, 0, b, 0, 0f, c, 0);
        var windows = new long[3];
        for (int w = 0; w < windows.Length; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) CpuGemm.Gemm(false, false, 64, 128, 784, 1f, a, 0, b, 0, 0f, c, 0);
            windows[w] = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.True(windows.Min() == 0, $"bytes allocated by 20 threaded GEMMs, three windows: {string.Join(", ", windows)}");
    }

    [Fact]
    public void SmallKnownProduct()
    {
        // [1 2 3; 4 5 6] [7 8; 9 10; 11 12] = [1*7+2*9+3*11, 1*8+2*10+3*12; ...] = [58 64; 139 154]
        float[] a = [1, 2, 3, 4, 5, 6];
        float[] b = [7, 8, 9, 10, 11, 12];
        var c = new float[4];
        CpuGemm.Gemm(false, false, 2, 2, 3, 1f, a, 0, b, 0, 0f, c, 0);
        Assert.Equal(new float[] { 58, 64, 139, 154 }, c);
    }

    [Fact]
    public void RejectsArraysTooShortForTheShape()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            CpuGemm.Gemm(false, false, 4, 4, 4, 1f, new float[15], 0, new float[16], 0, 0f, new float[16], 0));
        Assert.Contains("'a'", ex.Message);
        Assert.Throws<ArgumentException>(() =>
            CpuGemm.Gemm(false, false, 4, 4, 4, 1f, new float[16], 0, new float[16], 1, 0f, new float[16], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            CpuGemm.Gemm(false, false, -1, 4, 4, 1f, new float[16], 0, new float[16], 0, 0f, new float[16], 0));
    }

    private static CpuGemmKernel Require(string kernel)
    {
        var kind = Enum.Parse<CpuGemmKernel>(kernel);
        Assert.SkipUnless(CpuGemm.IsSupported(kind), $"This CPU cannot run the {kernel} kernel.");
        return kind;
    }

    /// <summary>One GEMM with random inputs, NaN guard bands around every matrix, and its reference.</summary>
    private sealed class Case
    {
        private readonly int _m, _n, _k;
        private readonly bool _transA, _transB;
        private readonly float _alpha, _beta;
        private readonly float[] _a, _b;
        private readonly int _aOffset, _bOffset;

        public Case(int m, int n, int k, bool transA, bool transB, float alpha, float beta, int seed, int offset = 3)
        {
            (_m, _n, _k, _transA, _transB, _alpha, _beta) = (m, n, k, transA, transB, alpha, beta);
            var random = new Random(seed);
            // NaN before and after each matrix: a read outside it poisons the result (NaN * 0 is NaN),
            // and a write outside C shows up in the guard check.
            (_a, _aOffset) = Guarded(m * k, offset, random);
            (_b, _bOffset) = Guarded(k * n, offset + 1, random);
            (C, COffset) = Guarded(m * n, offset + 2, random);
        }

        public float[] C { get; }
        public int COffset { get; }

        public void Check(CpuGemmKernel kernel, int threads)
        {
            var (expected, magnitude) = Reference();
            CpuGemm.Gemm(_transA, _transB, _m, _n, _k, _alpha, _a, _aOffset, _b, _bOffset, _beta, C, COffset, kernel, threads);

            // Float sums of K products have a rounding error ~ sqrt(K) * u * sum|alpha a b| for random data
            // (u = 2^-24 = 6e-8); 1e-6 (about 16 u) per sqrt(K) leaves room for unlucky draws, while any
            // dropped or doubled product, of size ~ magnitude / K, is still far above it for K <= 1000.
            double rtol = 1e-6 * Math.Sqrt(Math.Max(_k, 1));
            const double atol = 1e-6;
            int mismatches = 0, first = -1;
            for (int i = 0; i < expected.Length; i++)
            {
                float actual = C[COffset + i];
                double tol = atol + rtol * magnitude[i];
                if (!(Math.Abs(actual - expected[i]) <= tol))
                {
                    if (mismatches++ == 0) first = i;
                }
            }

            if (mismatches > 0)
            {
                double tol = atol + rtol * magnitude[first];
                Assert.Fail($"{kernel} x{threads} M={_m} N={_n} K={_k} transA={_transA} transB={_transB} " +
                    $"alpha={_alpha} beta={_beta}: {mismatches} of {expected.Length} differ; first at C[{first / _n}, {first % _n}]: " +
                    $"expected {expected[first]:R}, got {C[COffset + first]:R}, tolerance {tol:G3}.");
            }

            for (int i = 0; i < COffset; i++)
                Assert.True(float.IsNaN(C[i]), $"C guard before the matrix was overwritten at {i}.");
            for (int i = COffset + _m * _n; i < C.Length; i++)
                Assert.True(float.IsNaN(C[i]), $"C guard after the matrix was overwritten at {i}.");
        }

        /// <summary>
        /// expected[i, j] = alpha * sum_p op(A)[i, p] op(B)[p, j] + beta * C[i, j] in double, with
        /// beta = 0 ignoring C and alpha = 0 or K = 0 skipping the product; magnitude is the same sum of |terms|.
        /// </summary>
        private (double[] Expected, double[] Magnitude) Reference()
        {
            var expected = new double[_m * _n];
            var magnitude = new double[_m * _n];
            for (int i = 0; i < _m; i++)
                for (int j = 0; j < _n; j++)
                {
                    double sum = 0, abs = 0;
                    if (_alpha != 0)
                        for (int p = 0; p < _k; p++)
                        {
                            double av = _transA ? _a[_aOffset + p * _m + i] : _a[_aOffset + i * _k + p];
                            double bv = _transB ? _b[_bOffset + j * _k + p] : _b[_bOffset + p * _n + j];
                            sum += av * bv;
                            abs += Math.Abs(av * bv);
                        }

                    double c = _beta == 0 ? 0 : _beta * (double)C[COffset + i * _n + j];
                    expected[i * _n + j] = _alpha * sum + c;
                    magnitude[i * _n + j] = Math.Abs(_alpha) * abs + Math.Abs(c);
                }

            return (expected, magnitude);
        }

        private static (float[] Array, int Offset) Guarded(int count, int offset, Random random)
        {
            var array = new float[offset + count + 5];
            Array.Fill(array, float.NaN);
            for (int i = 0; i < count; i++)
                array[offset + i] = (float)(random.NextDouble() * 2 - 1);
            return (array, offset);
        }
    }
}

using GpuNet.Backends;
using Xunit;

namespace GpuNet.Kernels.Tests;

public abstract partial class BackendContractTests
{
    /// <summary>The signature of <see cref="IBackend.Gemm"/>, so the naive kernel can run the same checks.</summary>
    protected delegate void GemmCall(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer<float> a, DeviceBuffer<float> b, float beta, DeviceBuffer<float> c);

    /// <summary>
    /// (transA, transB, M, N, K, alpha, beta, slice offset). All four transpose combinations; 1; primes;
    /// M &lt; K; N = 1; results spanning 2 x 2 tiles of 64 without filling them; K = 0 (C = beta C);
    /// K over several 16-deep slabs. Whenever beta is 0, C starts as NaN and must not leak.
    /// </summary>
    public static TheoryData<bool, bool, int, int, int, float, float, int> GemmCases => new()
    {
        { false, false, 1, 1, 1, 1f, 0f, 0 },
        { false, false, 7, 13, 31, 1f, 0f, 0 },
        { true, false, 7, 13, 31, 1f, 0f, 3 },
        { false, true, 13, 7, 31, 1.5f, 0.5f, 0 },
        { true, true, 13, 7, 31, -0.5f, 0.5f, 2 },
        { false, false, 3, 5, 37, 1f, 0f, 1 },
        { true, true, 3, 5, 37, 1f, 1f, 0 },
        { false, true, 1, 37, 2, 2f, 0f, 0 },
        { true, false, 37, 1, 5, 1f, -1f, 0 },
        { false, false, 67, 65, 17, 1f, 0.5f, 0 },
        { true, true, 65, 67, 19, 0.75f, 0f, 1 },
        { false, false, 5, 3, 0, 1f, 0.5f, 0 },
        { true, true, 5, 3, 0, 1f, 0f, 0 },
    };

    [Theory]
    [MemberData(nameof(GemmCases))]
    public void GemmMatchesReference(bool transA, bool transB, int m, int n, int k, float alpha, float beta, int offset) =>
        CheckGemm(Backend.Gemm, transA, transB, m, n, k, alpha, beta, offset);

    /// <summary>Runs <paramref name="gemm"/> on random inputs and compares it with <see cref="Reference.Gemm"/>.</summary>
    protected void CheckGemm(GemmCall gemm, bool transA, bool transB, int m, int n, int k, float alpha, float beta, int offset)
    {
        var a = Check.Uniform(m * k, seed: 1);
        var b = Check.Uniform(k * n, seed: 2);
        var c = beta == 0 ? Enumerable.Repeat(float.NaN, m * n).ToArray() : Check.Uniform(m * n, seed: 3);
        var expected = Reference.Gemm(transA, transB, m, n, k, alpha, a, b, beta, c);

        var dc = Put(c, offset);
        gemm(transA, transB, m, n, k, alpha, Put(a, offset), Put(b, offset + 1), beta, dc);

        // Inputs in [-1, 1): a K-term dot product rounds K times, the errors adding like a random walk
        // (~6e-8 * sqrt(K) * |partial sums| <= sqrt(K)); 2e-6 * sqrt(K) leaves a 10x margin at K = 37.
        double atol = 2e-6 * Math.Sqrt(Math.Max(k, 1)), rtol = 1e-5;
        Check.Close(expected, Get(dc), atol, rtol, $"GEMM transA={transA} transB={transB} M={m} N={n} K={k}");
    }

    [Fact]
    public void GemmComputesTheBackpropForms()
    {
        // X (2 x 3), W (3 x 2). Y = X W; dX = dY W^T; dW = X^T dY; worked out by hand.
        float[] x = [1, 2, 3, 4, 5, 6], w = [1, 0, 0, 1, 1, 1], dy = [1, -1, 2, 0.5f];
        var y = Alloc<float>(4);
        var dx = Alloc<float>(6);
        var dw = Alloc<float>(6);
        Backend.Gemm(false, false, 2, 2, 3, 1f, Put(x), Put(w), 0f, y);
        Backend.Gemm(false, true, 2, 3, 2, 1f, Put(dy), Put(w), 0f, dx);
        Backend.Gemm(true, false, 3, 2, 2, 1f, Put(x), Put(dy), 0f, dw);
        Check.Close([4f, 5f, 10f, 11f], Get(y), 1e-6, 1e-6, "Y = X W");          // [1+3, 2+3], [4+6, 5+6]
        Check.Close([1f, -1f, 0f, 2f, 0.5f, 2.5f], Get(dx), 1e-6, 1e-6, "dX = dY W^T"); // rows of W: (1,0), (0,1), (1,1)
        Check.Close([9f, 1f, 12f, 0.5f, 15f, 0f], Get(dw), 1e-6, 1e-6, "dW = X^T dY"); // column p of X times rows of dY
    }
}

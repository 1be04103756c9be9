using System.Runtime.Intrinsics;

namespace GpuNet.Backends.Cpu;

// The path for a GEMM with very few rows (the forward and dX products at batch 1-4). Packing B costs more
// than the arithmetic there: a 1 x 784 x 128 product took 18.9 us through the packed kernels, 10.9 us here,
// where B's 400 KB are streamed once. (A K <= 4 path for the dW outer products was tried: 13.7 us against the
// packed kernels' 7.7 at 784 x 1 x 128, so those keep the packed path.)
public static unsafe partial class CpuGemm
{
    /// <summary>At most this many rows of C (with A not transposed) take <see cref="SmallRows"/>.</summary>
    internal const int SmallRowLimit = 4;

    /// <summary>
    /// From this many elements of B (4 MB) the few-row product is split by columns across the worker pool: it streams B
    /// from memory, and one core does not draw the machine's bandwidth (wide model, 2048 x 2048 at batch 1: 16 MB of B
    /// a step, about 1.6 ms on one thread). Below it, waking a worker (about 50 us here) costs more than it saves.
    /// </summary>
    internal const long SmallParallelElements = 1 << 20;

    /// <summary><see cref="SmallRows"/> for all of C, split into column blocks of whole 64-column panels when B is large.</summary>
    private static void SmallRowsSplit(bool transB, int m, int n, int k, float alpha, float* a, float* b, float beta, float* c, int maxThreads)
    {
        int parts = (long)n * k >= SmallParallelElements ? Math.Min(maxThreads, n / 64) : 1;
        if (parts <= 1) SmallRows(transB, m, n, k, alpha, a, b, n, beta, c, n);
        else WorkerPool.Run(parts, new SmallRowsPart(transB, m, n, k, alpha, a, b, beta, c, parts));
    }

    /// <summary>Part p of <see cref="SmallRowsSplit"/>: columns [j0, j1) of C, j0 a multiple of 64.</summary>
    private readonly struct SmallRowsPart(bool transB, int m, int n, int k, float alpha, float* a, float* b, float beta, float* c, int parts) : IPartBody
    {
        public void Run(int part)
        {
            int panels = (n + 63) / 64;
            int j0 = Math.Min(n, panels * part / parts * 64), j1 = Math.Min(n, panels * (part + 1) / parts * 64);
            if (j1 <= j0) return;
            // B's columns j0.. start at b + j0 (K x N, row stride n), or at its row j0 (N x K when transposed)
            float* bj = transB ? b + (nint)j0 * k : b + j0;
            SmallRows(transB, m, j1 - j0, k, alpha, a, bj, n, beta, c + j0, n);
        }
    }

    /// <summary>
    /// C = alpha A op(B) + beta C for M &lt;= <see cref="SmallRowLimit"/>, A M x K row-major, n columns of B and C whose
    /// rows are <paramref name="ldb"/> and <paramref name="ldc"/> floats apart. Without transB, each row of C is built
    /// 32 columns at a time in four Vector256 accumulators over all of K (B read row by row); with transB (B: n rows of
    /// K, contiguous), each element is a dot product of A's row with a row of B.
    /// </summary>
    private static void SmallRows(bool transB, int m, int n, int k, float alpha, float* a, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (!transB && m > 1 && Vector512.IsHardwareAccelerated)
        {
            RowsTimesMatrix512(m, a, b, ldb, n, k, alpha, beta, c, ldc);
            return;
        }
        if (!transB && m > 1 && Vector256.IsHardwareAccelerated)
        {
            RowsTimesMatrix(m, a, b, ldb, n, k, alpha, beta, c, ldc);
            return;
        }
        if (transB && m > 1 && Vector256.IsHardwareAccelerated && k >= 16)
        {
            RowsDotRows(m, a, b, n, k, alpha, beta, c, ldc);
            return;
        }
        for (int i = 0; i < m; i++)
        {
            float* ai = a + (nint)i * k, ci = c + (nint)i * ldc;
            if (transB)
                for (int j = 0; j < n; j++) ci[j] = Finish(alpha * Dot(ai, b + (nint)j * k, k), beta, ci[j]);
            else
                RowTimesMatrix(ai, b, ldb, n, k, alpha, beta, ci);
        }
    }

    /// <summary>
    /// <see cref="RowsTimesMatrix"/> with AVX-512: 64 columns of B per pass over K (four Vector512 per row, sixteen
    /// accumulators of 32 registers), so a large B is walked in a quarter of the passes. Each pass reads every row of B
    /// at a new place (8 KB apart for 2048 columns): fewer passes are fewer page and prefetch restarts. Measured at
    /// 4 x 2048 x 2048, 16-column passes took 3.3x as long as the one-row product's 64-column passes over the same B.
    /// </summary>
    private static void RowsTimesMatrix512(int m, float* a, float* b, int ldb, int n, int k, float alpha, float beta, float* c, int ldc)
    {
        float* a0 = a, a1 = a + (nint)k, a2 = m > 2 ? a + 2 * (nint)k : a, a3 = m > 3 ? a + 3 * (nint)k : a;
        int j = 0;
        for (; j + 64 <= n; j += 64)
        {
            Vector512<float> r00 = default, r01 = default, r02 = default, r03 = default, r10 = default, r11 = default, r12 = default, r13 = default;
            Vector512<float> r20 = default, r21 = default, r22 = default, r23 = default, r30 = default, r31 = default, r32 = default, r33 = default;
            float* bj = b + j;
            for (int p = 0; p < k; p++, bj += ldb)
            {
                var b0 = Vector512.Load(bj);
                var b1 = Vector512.Load(bj + 16);
                var b2 = Vector512.Load(bj + 32);
                var b3 = Vector512.Load(bj + 48);
                var x = Vector512.Create(a0[p]);
                r00 = Vector512.FusedMultiplyAdd(x, b0, r00); r01 = Vector512.FusedMultiplyAdd(x, b1, r01);
                r02 = Vector512.FusedMultiplyAdd(x, b2, r02); r03 = Vector512.FusedMultiplyAdd(x, b3, r03);
                x = Vector512.Create(a1[p]);
                r10 = Vector512.FusedMultiplyAdd(x, b0, r10); r11 = Vector512.FusedMultiplyAdd(x, b1, r11);
                r12 = Vector512.FusedMultiplyAdd(x, b2, r12); r13 = Vector512.FusedMultiplyAdd(x, b3, r13);
                x = Vector512.Create(a2[p]);
                r20 = Vector512.FusedMultiplyAdd(x, b0, r20); r21 = Vector512.FusedMultiplyAdd(x, b1, r21);
                r22 = Vector512.FusedMultiplyAdd(x, b2, r22); r23 = Vector512.FusedMultiplyAdd(x, b3, r23);
                x = Vector512.Create(a3[p]);
                r30 = Vector512.FusedMultiplyAdd(x, b0, r30); r31 = Vector512.FusedMultiplyAdd(x, b1, r31);
                r32 = Vector512.FusedMultiplyAdd(x, b2, r32); r33 = Vector512.FusedMultiplyAdd(x, b3, r33);
            }
            Store4(r00, r01, r02, r03, alpha, beta, c + j);
            Store4(r10, r11, r12, r13, alpha, beta, c + ldc + j);
            if (m > 2) Store4(r20, r21, r22, r23, alpha, beta, c + 2 * (nint)ldc + j);
            if (m > 3) Store4(r30, r31, r32, r33, alpha, beta, c + 3 * (nint)ldc + j);
        }
        // the last columns (fewer than 64): the 16-column Vector256 passes and their scalar tail
        if (j < n) RowsTimesMatrix(m, a, b + j, ldb, n - j, k, alpha, beta, c + j, ldc);
    }

    private static void Store4(Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3, float alpha, float beta, float* c)
    {
        Store(s0, alpha, beta, c);
        Store(s1, alpha, beta, c + 16);
        Store(s2, alpha, beta, c + 32);
        Store(s3, alpha, beta, c + 48);
    }

    private static void Store(Vector512<float> s, float alpha, float beta, float* c)
    {
        var r = Vector512.Create(alpha) * s;
        if (beta != 0) r = Vector512.FusedMultiplyAdd(Vector512.Create(beta), Vector512.Load(c), r);
        r.Store(c);
    }

    /// <summary>
    /// C = alpha A B^T + beta C for 2-4 rows of A, B n rows of K: each row of B is read once and dotted with every row
    /// of A (which stays in cache), where one row at a time read all of B once per row of A.
    /// </summary>
    private static void RowsDotRows(int m, float* a, float* b, int n, int k, float alpha, float beta, float* c, int ldc)
    {
        float* a0 = a, a1 = a + (nint)k, a2 = m > 2 ? a + 2 * (nint)k : a, a3 = m > 3 ? a + 3 * (nint)k : a;
        for (int j = 0; j < n; j++)
        {
            float* bj = b + (nint)j * k;
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            int p = 0;
            for (; p + 8 <= k; p += 8)
            {
                var y = Vector256.Load(bj + p);
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(a0 + p), y, s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(a1 + p), y, s1);
                s2 = Vector256.FusedMultiplyAdd(Vector256.Load(a2 + p), y, s2);
                s3 = Vector256.FusedMultiplyAdd(Vector256.Load(a3 + p), y, s3);
            }
            float d0 = Vector256.Sum(s0), d1 = Vector256.Sum(s1), d2 = Vector256.Sum(s2), d3 = Vector256.Sum(s3);
            for (; p < k; p++)
            {
                d0 = MathF.FusedMultiplyAdd(a0[p], bj[p], d0);
                d1 = MathF.FusedMultiplyAdd(a1[p], bj[p], d1);
                d2 = MathF.FusedMultiplyAdd(a2[p], bj[p], d2);
                d3 = MathF.FusedMultiplyAdd(a3[p], bj[p], d3);
            }
            c[j] = Finish(alpha * d0, beta, c[j]);
            c[ldc + j] = Finish(alpha * d1, beta, c[ldc + j]);
            if (m > 2) c[2 * (nint)ldc + j] = Finish(alpha * d2, beta, c[2 * (nint)ldc + j]);
            if (m > 3) c[3 * (nint)ldc + j] = Finish(alpha * d3, beta, c[3 * (nint)ldc + j]);
        }
    }

    /// <summary>
    /// C = alpha A B + beta C for 2-4 rows of A: each load of B feeds every row (16 columns at a time, two
    /// accumulators per row), so B is streamed once, not once per row.
    /// </summary>
    private static void RowsTimesMatrix(int m, float* a, float* b, int ldb, int n, int k, float alpha, float beta, float* c, int ldc)
    {
        // rows past m repeat row 0 (their results are dropped)
        float* a0 = a, a1 = a + (nint)k, a2 = m > 2 ? a + 2 * (nint)k : a, a3 = m > 3 ? a + 3 * (nint)k : a;
        int j = 0;
        for (; j + 16 <= n; j += 16)
        {
            Vector256<float> r00 = default, r01 = default, r10 = default, r11 = default, r20 = default, r21 = default, r30 = default, r31 = default;
            float* bj = b + j;
            for (int p = 0; p < k; p++, bj += ldb)
            {
                var lo = Vector256.Load(bj);
                var hi = Vector256.Load(bj + 8);
                var x = Vector256.Create(a0[p]);
                r00 = Vector256.FusedMultiplyAdd(x, lo, r00); r01 = Vector256.FusedMultiplyAdd(x, hi, r01);
                x = Vector256.Create(a1[p]);
                r10 = Vector256.FusedMultiplyAdd(x, lo, r10); r11 = Vector256.FusedMultiplyAdd(x, hi, r11);
                x = Vector256.Create(a2[p]);
                r20 = Vector256.FusedMultiplyAdd(x, lo, r20); r21 = Vector256.FusedMultiplyAdd(x, hi, r21);
                x = Vector256.Create(a3[p]);
                r30 = Vector256.FusedMultiplyAdd(x, lo, r30); r31 = Vector256.FusedMultiplyAdd(x, hi, r31);
            }
            Store(r00, alpha, beta, c + j); Store(r01, alpha, beta, c + j + 8);
            Store(r10, alpha, beta, c + ldc + j); Store(r11, alpha, beta, c + ldc + j + 8);
            if (m > 2) { Store(r20, alpha, beta, c + 2 * (nint)ldc + j); Store(r21, alpha, beta, c + 2 * (nint)ldc + j + 8); }
            if (m > 3) { Store(r30, alpha, beta, c + 3 * (nint)ldc + j); Store(r31, alpha, beta, c + 3 * (nint)ldc + j + 8); }
        }
        for (; j < n; j++) // the last columns, one at a time for each row
            for (int i = 0; i < m; i++)
            {
                float s = 0;
                for (int p = 0; p < k; p++) s = MathF.FusedMultiplyAdd(a[(nint)i * k + p], b[(nint)p * ldb + j], s);
                c[(nint)i * ldc + j] = Finish(alpha * s, beta, c[(nint)i * ldc + j]);
            }
    }

    /// <summary>c = alpha (a B) + beta c for one row a of K values and n columns of B (K rows, <paramref name="ldb"/> apart).</summary>
    /// <remarks>Eight accumulators (64 columns) keep both FMA pipes busy across the 4-cycle FMA latency.</remarks>
    private static void RowTimesMatrix(float* a, float* b, int ldb, int n, int k, float alpha, float beta, float* c)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 64 <= n; j += 64)
            {
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
                float* bj = b + j;
                for (int p = 0; p < k; p++, bj += ldb)
                {
                    var ap = Vector256.Create(a[p]);
                    s0 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bj), s0);
                    s1 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bj + 8), s1);
                    s2 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bj + 16), s2);
                    s3 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bj + 24), s3);
                    s4 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bj + 32), s4);
                    s5 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bj + 40), s5);
                    s6 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bj + 48), s6);
                    s7 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bj + 56), s7);
                }
                Store(s0, alpha, beta, c + j);
                Store(s1, alpha, beta, c + j + 8);
                Store(s2, alpha, beta, c + j + 16);
                Store(s3, alpha, beta, c + j + 24);
                Store(s4, alpha, beta, c + j + 32);
                Store(s5, alpha, beta, c + j + 40);
                Store(s6, alpha, beta, c + j + 48);
                Store(s7, alpha, beta, c + j + 56);
            }
            for (; j + 8 <= n; j += 8)
            {
                Vector256<float> s = default;
                float* bj = b + j;
                for (int p = 0; p < k; p++, bj += ldb) s = Vector256.FusedMultiplyAdd(Vector256.Create(a[p]), Vector256.Load(bj), s);
                Store(s, alpha, beta, c + j);
            }
        }
        for (; j < n; j++)
        {
            float s = 0;
            for (int p = 0; p < k; p++) s = MathF.FusedMultiplyAdd(a[p], b[(nint)p * ldb + j], s);
            c[j] = Finish(alpha * s, beta, c[j]);
        }
    }

    private static float Dot(float* x, float* y, int k)
    {
        int p = 0;
        float s = 0;
        if (Vector256.IsHardwareAccelerated && k >= 16)
        {
            Vector256<float> s0 = default, s1 = default;
            for (; p + 16 <= k; p += 16)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p), Vector256.Load(y + p), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p + 8), Vector256.Load(y + p + 8), s1);
            }
            s = Vector256.Sum(s0 + s1);
        }
        for (; p < k; p++) s = MathF.FusedMultiplyAdd(x[p], y[p], s);
        return s;
    }

    /// <summary>c = alpha s + beta c, where beta = 0 ignores c (NaN included), as the packed kernels do.</summary>
    private static void Store(Vector256<float> s, float alpha, float beta, float* c)
    {
        var r = Vector256.Create(alpha) * s;
        if (beta != 0) r = Vector256.FusedMultiplyAdd(Vector256.Create(beta), Vector256.Load(c), r);
        r.Store(c);
    }

    private static float Finish(float value, float beta, float c) => beta == 0 ? value : MathF.FusedMultiplyAdd(beta, c, value);
}

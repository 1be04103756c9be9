namespace GpuNet.Backends.Cpu;

/// <summary>Row-major single-precision GEMM on the CPU: C = alpha * op(A) * op(B) + beta * C.</summary>
public static class CpuGemm
{
    /// <summary>See <see cref="IBackend.Gemm"/> for the contract; offsets locate each matrix in its array.</summary>
    public static void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int aOffset, float[] b, int bOffset, float beta, float[] c, int cOffset)
    {
        // Placeholder (correct, not fast): replaced by the packed micro-kernel implementation.
        Parallel.For(0, m, i =>
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[aOffset + p * m + i] : a[aOffset + i * k + p];
                    float bv = transB ? b[bOffset + j * k + p] : b[bOffset + p * n + j];
                    sum += av * bv;
                }
                int ci = cOffset + i * n + j;
                c[ci] = beta == 0 ? alpha * sum : alpha * sum + beta * c[ci];
            }
        });
    }
}

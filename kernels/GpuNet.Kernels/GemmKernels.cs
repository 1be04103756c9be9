using ILGPU;

namespace GpuNet.Kernels;

/// <summary>
/// Single-precision GEMM kernels: C = alpha * op(A) * op(B) + beta * C, all matrices dense and row-major.
/// </summary>
/// <remarks>
/// Dimension letters: M rows of C, N columns of C, K the reduced dimension. op(A) is M x K (A is stored
/// K x M when transA != 0), op(B) is K x N (B is stored N x K when transB != 0). Flags are ints because
/// ILGPU kernel parameters must be blittable (bool is not). When beta == 0, C is never read, so NaNs in
/// an uninitialized C do not leak into the result.
/// </remarks>
public static class GemmKernels
{
    /// <summary>Rows of C computed by one group of <see cref="GemmTiledKernel"/>.</summary>
    public const int TileM = 64;

    /// <summary>Columns of C computed by one group of <see cref="GemmTiledKernel"/>.</summary>
    public const int TileN = 64;

    /// <summary>Depth of the K slab staged in shared memory per iteration.</summary>
    public const int TileK = 16;

    /// <summary>Threads per group of <see cref="GemmTiledKernel"/>: 16 x 16, each owning a 4 x 4 block of C.</summary>
    public const int GroupSize = 256;

    // Shared tiles are stored k-major with rows of TileM + 1 floats: the padding puts the 16 k values a
    // half-warp writes in the non-transposed load on 16 different banks instead of one.
    private const int SharedStride = TileM + 1;

    /// <summary>
    /// The reference GEMM: one thread per element of C, a plain dot product over K.
    /// </summary>
    /// <param name="index">(column, row) of the C element; launch with extent (N, M).</param>
    /// <param name="a">M x K (K x M when transA != 0).</param>
    /// <param name="b">K x N (N x K when transB != 0).</param>
    /// <param name="c">M x N, updated in place.</param>
    public static void GemmNaiveKernel(Index2D index, int transA, int transB, int m, int n, int k, float alpha,
        FloatView a, FloatView b, float beta, FloatView c)
    {
        int col = index.X, row = index.Y;
        float sum = 0f;
        for (int p = 0; p < k; p++)
        {
            float av = transA == 0 ? a[row * k + p] : a[p * m + row];
            float bv = transB == 0 ? b[p * n + col] : b[col * k + p];
            sum += av * bv;
        }
        int ci = row * n + col;
        c[ci] = beta == 0f ? alpha * sum : alpha * sum + beta * c[ci];
    }

    /// <summary>
    /// Shared-memory tiled GEMM. Each group of <see cref="GroupSize"/> threads computes a
    /// <see cref="TileM"/> x <see cref="TileN"/> tile of C, looping over K in slabs of <see cref="TileK"/>:
    /// the group stages the M x TileK slab of op(A) and the TileK x N slab of op(B) in shared memory, then
    /// every thread accumulates its 4 x 4 register block (rows ty + 16 i, columns tx + 16 j) from them.
    /// </summary>
    /// <param name="transA">Non-zero: A is stored K x M.</param>
    /// <param name="transB">Non-zero: B is stored N x K.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">The reduced dimension.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">M x K (K x M when transposed).</param>
    /// <param name="b">K x N (N x K when transposed).</param>
    /// <param name="beta">Scale of the old C; 0 ignores C.</param>
    /// <param name="c">M x N, updated in place.</param>
    /// <remarks>
    /// Launch with ceil(M / 64) * ceil(N / 64) groups of 256 threads. Any shape works: loads outside
    /// op(A) or op(B) read as 0 and stores outside C are skipped. The 16 accumulators are scalar locals
    /// (ILGPU spills local arrays to memory). Loads are coalesced along whichever index is contiguous in
    /// memory for the given transpose flag.
    /// </remarks>
    public static void GemmTiledKernel(int transA, int transB, int m, int n, int k, float alpha,
        FloatView a, FloatView b, float beta, FloatView c)
    {
        var aTile = SharedMemory.Allocate<float>(TileK * SharedStride);
        var bTile = SharedMemory.Allocate<float>(TileK * SharedStride);

        int t = Group.IdxX;
        int tx = t % 16, ty = t / 16;
        int tilesN = (n + TileN - 1) / TileN;
        int rowBase = Grid.IdxX / tilesN * TileM;
        int colBase = Grid.IdxX % tilesN * TileN;

        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;

        for (int k0 = 0; k0 < k; k0 += TileK)
        {
            // Each tile holds TileK * 64 = 1024 values: four per thread.
            for (int l = 0; l < 4; l++)
            {
                int e = t + l * GroupSize;

                // op(A)[row, kc]: consecutive threads walk K when A is row-major M x K, M when it is K x M.
                int am = transA == 0 ? e / TileK : e % TileM;
                int ak = transA == 0 ? e % TileK : e / TileM;
                int row = rowBase + am, ka = k0 + ak;
                float av = 0f;
                if (row < m && ka < k)
                    av = transA == 0 ? a[row * k + ka] : a[ka * m + row];
                aTile[ak * SharedStride + am] = av;

                // op(B)[kc, col]: consecutive threads walk N when B is K x N, K when it is N x K.
                int bn = transB == 0 ? e % TileN : e / TileK;
                int bk = transB == 0 ? e / TileN : e % TileK;
                int col = colBase + bn, kb = k0 + bk;
                float bv = 0f;
                if (col < n && kb < k)
                    bv = transB == 0 ? b[kb * n + col] : b[col * k + kb];
                bTile[bk * SharedStride + bn] = bv;
            }
            Group.Barrier();

            for (int kk = 0; kk < TileK; kk++)
            {
                int ai = kk * SharedStride + ty, bi = kk * SharedStride + tx;
                float a0 = aTile[ai], a1 = aTile[ai + 16], a2 = aTile[ai + 32], a3 = aTile[ai + 48];
                float b0 = bTile[bi], b1 = bTile[bi + 16], b2 = bTile[bi + 32], b3 = bTile[bi + 48];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            // The next slab overwrites the tiles: everyone must be done reading them.
            Group.Barrier();
        }

        int r0 = rowBase + ty, q0 = colBase + tx;
        Store(c, m, n, r0, q0, alpha, beta, c00); Store(c, m, n, r0, q0 + 16, alpha, beta, c01);
        Store(c, m, n, r0, q0 + 32, alpha, beta, c02); Store(c, m, n, r0, q0 + 48, alpha, beta, c03);
        Store(c, m, n, r0 + 16, q0, alpha, beta, c10); Store(c, m, n, r0 + 16, q0 + 16, alpha, beta, c11);
        Store(c, m, n, r0 + 16, q0 + 32, alpha, beta, c12); Store(c, m, n, r0 + 16, q0 + 48, alpha, beta, c13);
        Store(c, m, n, r0 + 32, q0, alpha, beta, c20); Store(c, m, n, r0 + 32, q0 + 16, alpha, beta, c21);
        Store(c, m, n, r0 + 32, q0 + 32, alpha, beta, c22); Store(c, m, n, r0 + 32, q0 + 48, alpha, beta, c23);
        Store(c, m, n, r0 + 48, q0, alpha, beta, c30); Store(c, m, n, r0 + 48, q0 + 16, alpha, beta, c31);
        Store(c, m, n, r0 + 48, q0 + 32, alpha, beta, c32); Store(c, m, n, r0 + 48, q0 + 48, alpha, beta, c33);
    }

    /// <summary>Number of groups <see cref="GemmTiledKernel"/> needs for an M x N result.</summary>
    public static int TiledGroupCount(int m, int n) => ((m + TileM - 1) / TileM) * ((n + TileN - 1) / TileN);

    /// <summary>c[row, col] = alpha * acc (+ beta * c[row, col] unless beta == 0), skipped outside C.</summary>
    private static void Store(FloatView c, int m, int n, int row, int col, float alpha, float beta, float acc)
    {
        if (row >= m || col >= n) return;
        int i = row * n + col;
        c[i] = beta == 0f ? alpha * acc : alpha * acc + beta * c[i];
    }
}

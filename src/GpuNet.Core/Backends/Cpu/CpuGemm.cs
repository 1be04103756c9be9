using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("GpuNet.Kernels.Tests")]
[assembly: InternalsVisibleTo("GpuNet.Bench")]

namespace GpuNet.Backends.Cpu;

/// <summary>Which micro-kernel <see cref="CpuGemm"/> runs; tests and benchmarks pin one, everything else uses Auto.</summary>
internal enum CpuGemmKernel
{
    /// <summary>The widest one the CPU supports.</summary>
    Auto,
    /// <summary>8 x 32 tile, Vector512 FMA; needs AVX-512F.</summary>
    Avx512,
    /// <summary>6 x 16 tile, Vector256 FMA; needs AVX2 and FMA.</summary>
    Avx2,
    /// <summary>4 x 8 tile, Vector128 (hardware or software); runs anywhere.</summary>
    Portable,
}

/// <summary>Row-major single-precision GEMM on the CPU: C = alpha * op(A) * op(B) + beta * C.</summary>
/// <remarks>
/// The GotoBLAS/BLIS loop nest. Dimension letters: M rows of C, N columns of C, K the summed dimension;
/// MR x NR is the register tile, KC x NC the packed block of op(B) (kept in L2/L3), MC x KC the block of
/// op(A) a thread sweeps (kept in L2), and the KC x NR sliver of packed B one micro-kernel call streams
/// stays in L1 while the ir loop reuses it.
/// <code>
/// for jc in N step NC                  // (each thread owns a range of columns, or of rows)
///   for pc in K step KC                // one rank-KC update
///     pack op(B)[pc.., jc..] into NR-wide panels, zero-padded
///     for ic in M step MC
///       op(A) rows: read in place (either layout), except ragged panels, which are packed zero-padded
///       for jr in NC step NR, ir in MC step MR: micro-kernel C[MR x NR] (+)= A panel * B panel
/// </code>
/// Reading A in place instead of packing it saves a copy of A per call, which at the training shapes
/// (N = 128) is 5-25% of the time; the micro-kernel takes A's row and K strides for that.
/// The first rank-KC update applies beta (and ignores C when beta == 0); later ones add to C.
/// Numerics: each C element is a float sum of K products accumulated with FMA in blocks of KC, so the
/// rounding error grows like sqrt(K) * 2^-24 * sum|a*b| for random data, and results differ from a naive
/// loop in the last bits (and between kernels). alpha == 0 or K == 0 gives C = beta * C without reading
/// A or B, as BLAS does, so NaNs in A or B do not reach C then.
/// </remarks>
public static unsafe partial class CpuGemm
{
    /// <summary>Multiply-adds (M*N*K) below which a GEMM stays on the calling thread.</summary>
    /// <remarks>
    /// Measured on 2 Zen 5 cores: a Parallel.For round trip cost ~4 us (the worker pool that replaced it is cheaper); at 2^20 (64 x 128 x 128, 11 us on
    /// one thread) two threads gain 1.2x, at 2^21 1.6x, and at 2^19 (5 us) the dispatch would eat the gain.
    /// </remarks>
    internal const long ParallelThreshold = 1L << 20;

    /// <summary>C = alpha * op(A) * op(B) + beta * C; see <see cref="IBackend.Gemm"/> for the contract.</summary>
    /// <param name="transA">op(A) = A^T: A is stored K x M instead of M x K.</param>
    /// <param name="transB">op(B) = B^T: B is stored N x K instead of K x N.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">M x K (K x M when transposed), row-major, starting at <paramref name="aOffset"/>.</param>
    /// <param name="aOffset">Index of A's first element in <paramref name="a"/>.</param>
    /// <param name="b">K x N (N x K when transposed), row-major, starting at <paramref name="bOffset"/>.</param>
    /// <param name="bOffset">Index of B's first element in <paramref name="b"/>.</param>
    /// <param name="beta">Scale of the existing C; 0 ignores C's contents (NaNs included).</param>
    /// <param name="c">M x N, row-major, starting at <paramref name="cOffset"/>.</param>
    /// <param name="cOffset">Index of C's first element in <paramref name="c"/>.</param>
    /// <exception cref="ArgumentNullException">An array is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension or offset is negative.</exception>
    /// <exception cref="ArgumentException">An array is too short for its matrix at its offset.</exception>
    public static void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int aOffset, float[] b, int bOffset, float beta, float[] c, int cOffset) =>
        Gemm(transA, transB, m, n, k, alpha, a, aOffset, b, bOffset, beta, c, cOffset,
            CpuGemmKernel.Auto, Environment.ProcessorCount);

    /// <summary>
    /// The same GEMM with the micro-kernel pinned and the split sized for <paramref name="maxThreads"/> threads
    /// (tests, benchmarks): 1 keeps it on the calling thread; more splits C into parts for that many threads,
    /// which the worker pool's threads (up to all cores) then share.
    /// </summary>
    internal static void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int aOffset, float[] b, int bOffset, float beta, float[] c, int cOffset,
        CpuGemmKernel kernel, int maxThreads)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"GEMM dimensions must be non-negative; got M={m}, N={n}, K={k}.");
        RequireSpan(a, aOffset, (long)m * k, nameof(a));
        RequireSpan(b, bOffset, (long)k * n, nameof(b));
        RequireSpan(c, cOffset, (long)m * n, nameof(c));

        if (m == 0 || n == 0)
            return;
        if (k == 0 || alpha == 0)
        {
            ScaleC(c.AsSpan(cOffset, m * n), beta);
            return;
        }

        var spec = KernelSpec.Resolve(kernel);
        fixed (float* pa = a, pb = b, pc = c)
        {
            // a few rows: no packing (CpuGemm.Small.cs)
            if (m <= SmallRowLimit && !transA)
            {
                SmallRowsSplit(transB, m, n, k, alpha, pa + aOffset, pb + bOffset, beta, pc + cOffset, Math.Max(1, maxThreads));
                return;
            }
            var job = new Job
            {
                A = pa + aOffset, B = pb + bOffset, C = pc + cOffset,
                TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta, Spec = spec,
                ARowStride = transA ? 1 : k, AKStride = transA ? m : 1,
                AInPlace = !transA || (m < PackTransposedARows && !IsPowerOfTwoStrideTrap(m)),
            };
            int threads = (long)m * n * k < ParallelThreshold ? 1 : Math.Max(1, maxThreads);
            RunParallel(job, threads);
        }
    }

    /// <summary>
    /// Whether a transposed A (stored K x M) read in place would thrash the caches: a micro-kernel walks
    /// KC rows of A at a stride of M floats, and when M * 4 bytes is a multiple of 4 KiB those rows fall in
    /// a handful of L1/L2 sets (measured: 1024^3 TN drops from 190 to 140 GFLOP/s; M = 1000, 1040, 1536
    /// do not). Packing costs a copy of A instead, which matters only when N is small.
    /// </summary>
    private static bool IsPowerOfTwoStrideTrap(int m) => m % 1024 == 0;

    /// <summary>
    /// From this many rows a transposed A (stored K x M, the weight gradient's X^T) is packed, not read in place: the
    /// micro-kernel would take MR floats from each row of M floats, one cache line in four or more. Measured on the 2-core
    /// Xeon (AVX-512), quick sweep, alternating: 784 x 4096 x 2048 139 -> 202 GFLOP/s, 784 x 256 x 128 129 -> 242,
    /// 784 x 64 x 128 (the lecture model's first dW at batch 64) 214 -> 238; at M = 128 packing was level or slower
    /// (128 x 64 x 64: 9.0 against 9.8 us), so smaller ones stay in place.
    /// </summary>
    internal const int PackTransposedARows = 256;

    private static void RequireSpan(float[] array, int offset, long needed, string name)
    {
        if (offset < 0)
            throw new ArgumentOutOfRangeException(name, $"Offset into '{name}' must be non-negative; got {offset}.");
        if (offset + needed > array.Length)
            throw new ArgumentException(
                $"Array '{name}' has {array.Length} elements; offset {offset} + {needed} elements of the matrix do not fit. " +
                "Check the offset and the M, N, K arguments.", name);
    }

    /// <summary>C = beta * C, where beta == 0 writes zeros (NaN * 0 would stay NaN).</summary>
    private static void ScaleC(Span<float> c, float beta)
    {
        if (beta == 0)
            c.Clear();
        else if (beta != 1)
            System.Numerics.Tensors.TensorPrimitives.Multiply(c, beta, c);
    }

    /// <summary>Everything a worker needs; pointers stay valid because the caller holds them fixed.</summary>
    private struct Job
    {
        public float* A, B, C;
        public bool TransA, TransB;
        /// <summary>op(A)[i, p] = A[i * ARowStride + p * AKStride]: (K, 1), or (1, M) when transposed.</summary>
        public nint ARowStride, AKStride;
        /// <summary>Whether the micro-kernel reads full panels of A where they lie instead of packing them.</summary>
        public bool AInPlace;
        public int M, N, K;
        public float Alpha, Beta;
        public KernelSpec Spec;
    }

    /// <summary>
    /// Splits C into blocks of whole rows or whole columns, which the worker pool hands to the threads (the
    /// caller included); each block runs the whole loop nest with its own packing buffers.
    /// </summary>
    /// <remarks>
    /// Splitting columns, each thread packs only its own columns of B and reads A in place; splitting rows
    /// makes every thread pack all of B. So columns are split unless A must be packed too (see
    /// <see cref="IsPowerOfTwoStrideTrap"/>) and packing it twice costs more than packing B twice (M > N).
    /// Where two column blocks meet, a C cache line can hold both threads' elements (C is rarely 64-byte
    /// aligned); each C tile is written once per K slice, so the large KC keeps that ping-pong rare
    /// (measured: with KC = 256 it cost 6-20 us of a 40-130 us GEMM at the training shapes).
    /// </remarks>
    private static void RunParallel(Job job, int threads)
    {
        var spec = job.Spec;
        bool splitRows = !job.AInPlace && job.M > job.N;
        int extent = splitRows ? job.M : job.N;
        int grain = splitRows ? spec.MR : spec.NR;
        int grains = (extent + grain - 1) / grain;
        // Column parts: up to 4 per thread, so that a worker that starts late (or is preempted) leaves less
        // for the others to wait on, but of at least 8 panels each, so each still reuses its A block.
        // Row parts: one per thread, since each packs all of B.
        int perThread = splitRows ? 1 : Math.Clamp(grains / (8 * threads), 1, 4);
        int parts = Math.Min(grains, threads * perThread);
        if (parts <= 1 || threads <= 1)
        {
            RunBlock(job, 0, job.M, 0, job.N);
            return;
        }

        RunParts(job, parts, splitRows, extent, grain, grains);
    }

    /// <summary>Hands the parts to <see cref="WorkerPool"/> (the caller takes some too); nothing is allocated.</summary>
    private static void RunParts(Job job, int parts, bool splitRows, int extent, int grain, int grains) =>
        WorkerPool.Run(parts, new GemmPart(job, parts, splitRows, extent, grain, grains));

    /// <summary>Part p of <see cref="RunParts"/>: a block of whole rows or whole columns of C.</summary>
    private readonly struct GemmPart(Job job, int parts, bool splitRows, int extent, int grain, int grains) : IPartBody
    {
        public void Run(int part)
        {
            int from = Math.Min(extent, (int)((long)grains * part / parts) * grain);
            int to = Math.Min(extent, (int)((long)grains * (part + 1) / parts) * grain);
            if (splitRows)
                RunBlock(job, from, to, 0, job.N);
            else
                RunBlock(job, 0, job.M, from, to);
        }
    }

    /// <summary>The loop nest over C[m0..m1, n0..n1] on the calling thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunBlock(Job job, int m0, int m1, int n0, int n1)
    {
        if (m1 <= m0 || n1 <= n0)
            return;
        var spec = job.Spec;
        int mr = spec.MR, nr = spec.NR;
        // Equal K slices (K = 1100 -> 2 x 550, not 1024 + 76): a short slice pays the C update for little work.
        int kSlices = (job.K + spec.KC - 1) / spec.KC;
        int kcMax = (job.K + kSlices - 1) / kSlices;
        int ncMax = Math.Min(spec.NC, n1 - n0);
        int mcMax = Math.Min(spec.MC, m1 - m0);

        var scratch = Scratch.Rent(
            (long)kcMax * RoundUp(ncMax, nr),
            (long)kcMax * RoundUp(mcMax, mr));
        try
        {
            float* packedB = scratch.PackedB;
            float* packedA = scratch.PackedA;
            float* tile = stackalloc float[MaxTile];
            nint ldc = job.N;

            for (int jc = n0; jc < n1; jc += spec.NC)
            {
                int nc = Math.Min(spec.NC, n1 - jc);
                for (int pc = 0; pc < job.K; pc += kcMax)
                {
                    int kc = Math.Min(kcMax, job.K - pc);
                    float beta = pc == 0 ? job.Beta : 1f;
                    PackB(job.TransB, job.B, job.N, job.K, pc, kc, jc, nc, nr, packedB);

                    for (int ic = m0; ic < m1; ic += spec.MC)
                    {
                        int mc = Math.Min(spec.MC, m1 - ic);
                        // Full MR-row panels are read in place when the job allows; the rest is packed.
                        int inPlaceRows = job.AInPlace ? mc / mr * mr : 0;
                        if (inPlaceRows < mc)
                            PackA(job.TransA, job.A, job.M, job.K, ic + inPlaceRows, mc - inPlaceRows, pc, kc, mr,
                                packedA);

                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int nrEff = Math.Min(nr, nc - jr);
                            float* bPanel = packedB + (long)jr * kc;
                            for (int ir = 0; ir < mc; ir += mr)
                            {
                                int mrEff = Math.Min(mr, mc - ir);
                                float* aPanel;
                                nint rowStride, kStride;
                                if (ir < inPlaceRows)
                                {
                                    aPanel = job.A + (ic + ir) * job.ARowStride + pc * job.AKStride;
                                    rowStride = job.ARowStride;
                                    kStride = job.AKStride;
                                }
                                else
                                {
                                    aPanel = packedA + (long)(ir - inPlaceRows) * kc;
                                    rowStride = 1;
                                    kStride = mr;
                                }

                                float* cTile = job.C + (long)(ic + ir) * ldc + jc + jr;
                                if (mrEff == mr && nrEff == nr)
                                {
                                    spec.Kernel(kc, aPanel, rowStride, kStride, bPanel, cTile, ldc, job.Alpha, beta);
                                }
                                else
                                {
                                    // Ragged edge: the zero-padded panels make a full tile; keep its live part.
                                    spec.Kernel(kc, aPanel, rowStride, kStride, bPanel, tile, nr, 1f, 0f);
                                    MergeTile(tile, nr, cTile, ldc, mrEff, nrEff, job.Alpha, beta);
                                }
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            Scratch.Return(scratch);
        }
    }

    /// <summary>C[i, j] = alpha * tile[i, j] + beta * C[i, j] for the live mr x nr corner; beta == 0 ignores C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MergeTile(float* tile, nint ldt, float* c, nint ldc, int mr, int nr, float alpha, float beta)
    {
        for (int i = 0; i < mr; i++)
        {
            float* t = tile + i * ldt;
            float* row = c + i * ldc;
            if (beta == 0)
                for (int j = 0; j < nr; j++) row[j] = alpha * t[j];
            else
                for (int j = 0; j < nr; j++) row[j] = alpha * t[j] + beta * row[j];
        }
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GpuNet.Backends.Cpu;

// Micro-kernels: C[MR x NR] = alpha * sum_p A[:, p] * B[p, :] + beta * C, for one KC-long slice.
// A panel element (i, p) is at a[i*rowStride + p*kStride]: (1, MR) for a packed panel, (K, 1) for rows of
// an untransposed A read in place, (1, M) for a transposed A read in place. B is always a packed panel:
// NR contiguous floats per p. Each kernel keeps the whole tile in registers, so per p it loads NR floats
// of B once, broadcasts MR floats of A and issues MR * NR / width FMAs.
// Tuning, measured on Zen 5 (2 x 512-bit FMA pipes, 4-cycle latency, so >= 8 independent chains; 48 KiB
// L1, 1 MiB L2 per core): 8 x 32 beat 6 x 32 by 1-7% (and 64, 128, 784 are multiples of 8, so the
// training shapes have no ragged row panels). The textbook KC = 256 keeps the 32 KiB B sliver in L1, but
// here L2 feeds the kernel fast enough that KC = 1024 costs nothing on one thread (+1-4% on cubes), and on
// two threads it is 5-20% faster: K <= 1024 means each C tile is written once, not K / 256 times, which
// cuts the cache-line ping-pong where two threads' columns meet. MC 64-256 and NC 512-4096 were within
// noise. The Avx2 and Portable blockings are the usual BLIS-style values, not tuned here.
public static unsafe partial class CpuGemm
{
    /// <summary>Largest MR * NR of any kernel: the size of the stack tile used at ragged edges.</summary>
    private const int MaxTile = 512;

    /// <summary>Whether this CPU can run <paramref name="kernel"/>.</summary>
    internal static bool IsSupported(CpuGemmKernel kernel) => kernel switch
    {
        CpuGemmKernel.Avx512 => Avx512F.IsSupported,
        CpuGemmKernel.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        _ => true,
    };

    /// <summary>A micro-kernel with its register tile and the cache blocking tuned for it.</summary>
    private readonly struct KernelSpec
    {
        public int MR { get; init; }
        public int NR { get; init; }
        /// <summary>Depth of one rank-KC update (the K loop is cut into equal slices of at most KC).</summary>
        public int KC { get; init; }
        /// <summary>Rows of A per block, a multiple of MR: MC x KC floats should sit in L2.</summary>
        public int MC { get; init; }
        /// <summary>Columns of the packed B block, a multiple of NR: KC x NC floats should sit in L3.</summary>
        public int NC { get; init; }
        public delegate*<int, float*, nint, nint, float*, float*, nint, float, float, void> Kernel { get; init; }

        public static KernelSpec Resolve(CpuGemmKernel kind)
        {
            if (kind == CpuGemmKernel.Auto)
                kind = IsSupported(CpuGemmKernel.Avx512) ? CpuGemmKernel.Avx512
                    : IsSupported(CpuGemmKernel.Avx2) ? CpuGemmKernel.Avx2
                    : CpuGemmKernel.Portable;
            if (!IsSupported(kind))
                throw new PlatformNotSupportedException($"The {kind} GEMM kernel needs instructions this CPU lacks; use CpuGemmKernel.Auto.");

            return kind switch
            {
                CpuGemmKernel.Avx512 => new KernelSpec { MR = 8, NR = 32, KC = 1024, MC = 64, NC = 1024, Kernel = &Avx512Kernel8x32 },
                CpuGemmKernel.Avx2 => new KernelSpec { MR = 6, NR = 16, KC = 256, MC = 168, NC = 4080, Kernel = &Avx2Kernel6x16 },
                _ => new KernelSpec { MR = 4, NR = 8, KC = 256, MC = 128, NC = 4096, Kernel = &PortableKernel4x8 },
            };
        }
    }

    /// <summary>8 x 32 tile: 16 Vector512 accumulators, 2 B loads and 8 broadcasts per p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Kernel8x32(int kc, float* a, nint rowStride, nint kStride, float* b,
        float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        nint r1 = rowStride, r2 = 2 * rowStride, r3 = 3 * rowStride, r4 = 4 * rowStride, r5 = 5 * rowStride;
        nint r6 = 6 * rowStride, r7 = 7 * rowStride;

        for (int p = 0; p < kc; p++, a += kStride, b += 32)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var av = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(av, b0, c00);
            c01 = Avx512F.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[r1]);
            c10 = Avx512F.FusedMultiplyAdd(av, b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[r2]);
            c20 = Avx512F.FusedMultiplyAdd(av, b0, c20);
            c21 = Avx512F.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[r3]);
            c30 = Avx512F.FusedMultiplyAdd(av, b0, c30);
            c31 = Avx512F.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[r4]);
            c40 = Avx512F.FusedMultiplyAdd(av, b0, c40);
            c41 = Avx512F.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[r5]);
            c50 = Avx512F.FusedMultiplyAdd(av, b0, c50);
            c51 = Avx512F.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a[r6]);
            c60 = Avx512F.FusedMultiplyAdd(av, b0, c60);
            c61 = Avx512F.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a[r7]);
            c70 = Avx512F.FusedMultiplyAdd(av, b0, c70);
            c71 = Avx512F.FusedMultiplyAdd(av, b1, c71);
        }

        var va = Vector512.Create(alpha);
        var vb = Vector512.Create(beta);
        bool load = beta != 0;
        Store(c, c00, va, vb, load); Store(c + 16, c01, va, vb, load); c += ldc;
        Store(c, c10, va, vb, load); Store(c + 16, c11, va, vb, load); c += ldc;
        Store(c, c20, va, vb, load); Store(c + 16, c21, va, vb, load); c += ldc;
        Store(c, c30, va, vb, load); Store(c + 16, c31, va, vb, load); c += ldc;
        Store(c, c40, va, vb, load); Store(c + 16, c41, va, vb, load); c += ldc;
        Store(c, c50, va, vb, load); Store(c + 16, c51, va, vb, load); c += ldc;
        Store(c, c60, va, vb, load); Store(c + 16, c61, va, vb, load); c += ldc;
        Store(c, c70, va, vb, load); Store(c + 16, c71, va, vb, load);
    }

    /// <summary>6 x 16 tile: 12 Vector256 accumulators, 2 B loads and 6 broadcasts per p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2Kernel6x16(int kc, float* a, nint rowStride, nint kStride, float* b,
        float* c, nint ldc, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        nint r1 = rowStride, r2 = 2 * rowStride, r3 = 3 * rowStride, r4 = 4 * rowStride, r5 = 5 * rowStride;

        for (int p = 0; p < kc; p++, a += kStride, b += 16)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var av = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(av, b0, c00);
            c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[r1]);
            c10 = Fma.MultiplyAdd(av, b0, c10);
            c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[r2]);
            c20 = Fma.MultiplyAdd(av, b0, c20);
            c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[r3]);
            c30 = Fma.MultiplyAdd(av, b0, c30);
            c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[r4]);
            c40 = Fma.MultiplyAdd(av, b0, c40);
            c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[r5]);
            c50 = Fma.MultiplyAdd(av, b0, c50);
            c51 = Fma.MultiplyAdd(av, b1, c51);
        }

        var va = Vector256.Create(alpha);
        var vb = Vector256.Create(beta);
        bool load = beta != 0;
        Store(c, c00, va, vb, load); Store(c + 8, c01, va, vb, load); c += ldc;
        Store(c, c10, va, vb, load); Store(c + 8, c11, va, vb, load); c += ldc;
        Store(c, c20, va, vb, load); Store(c + 8, c21, va, vb, load); c += ldc;
        Store(c, c30, va, vb, load); Store(c + 8, c31, va, vb, load); c += ldc;
        Store(c, c40, va, vb, load); Store(c + 8, c41, va, vb, load); c += ldc;
        Store(c, c50, va, vb, load); Store(c + 8, c51, va, vb, load);
    }

    /// <summary>
    /// 4 x 8 tile with Vector128 for CPUs without AVX2/FMA (SSE, Arm NEON, or software on neither).
    /// MultiplyAddEstimate fuses where the hardware can and rounds twice where it cannot.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PortableKernel4x8(int kc, float* a, nint rowStride, nint kStride, float* b,
        float* c, nint ldc, float alpha, float beta)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector128<float> c20 = default, c21 = default, c30 = default, c31 = default;
        nint r1 = rowStride, r2 = 2 * rowStride, r3 = 3 * rowStride;

        for (int p = 0; p < kc; p++, a += kStride, b += 8)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + 4);
            var av = Vector128.Create(a[0]);
            c00 = Vector128.MultiplyAddEstimate(av, b0, c00);
            c01 = Vector128.MultiplyAddEstimate(av, b1, c01);
            av = Vector128.Create(a[r1]);
            c10 = Vector128.MultiplyAddEstimate(av, b0, c10);
            c11 = Vector128.MultiplyAddEstimate(av, b1, c11);
            av = Vector128.Create(a[r2]);
            c20 = Vector128.MultiplyAddEstimate(av, b0, c20);
            c21 = Vector128.MultiplyAddEstimate(av, b1, c21);
            av = Vector128.Create(a[r3]);
            c30 = Vector128.MultiplyAddEstimate(av, b0, c30);
            c31 = Vector128.MultiplyAddEstimate(av, b1, c31);
        }

        var va = Vector128.Create(alpha);
        var vb = Vector128.Create(beta);
        bool load = beta != 0;
        Store(c, c00, va, vb, load); Store(c + 4, c01, va, vb, load); c += ldc;
        Store(c, c10, va, vb, load); Store(c + 4, c11, va, vb, load); c += ldc;
        Store(c, c20, va, vb, load); Store(c + 4, c21, va, vb, load); c += ldc;
        Store(c, c30, va, vb, load); Store(c + 4, c31, va, vb, load);
    }

    // alpha * acc (+ beta * C): C is not read when beta == 0, so NaNs there do not leak into the result.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> acc, Vector512<float> alpha, Vector512<float> beta, bool load) =>
        Vector512.Store(load ? Avx512F.FusedMultiplyAdd(Vector512.Load(c), beta, acc * alpha) : acc * alpha, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> acc, Vector256<float> alpha, Vector256<float> beta, bool load) =>
        Vector256.Store(load ? Fma.MultiplyAdd(Vector256.Load(c), beta, acc * alpha) : acc * alpha, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector128<float> acc, Vector128<float> alpha, Vector128<float> beta, bool load) =>
        Vector128.Store(load ? Vector128.MultiplyAddEstimate(Vector128.Load(c), beta, acc * alpha) : acc * alpha, c);
}

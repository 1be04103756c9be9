using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GpuNet.Backends.Cpu;

// Packing: copies of op(A) and op(B) blocks laid out in the order the micro-kernel reads them,
// zero-padded to whole MR / NR panels, in pooled 64-byte-aligned scratch.
public static unsafe partial class CpuGemm
{
    /// <summary>
    /// Packs op(B)[pc..pc+kc, jc..jc+nc] into NR-wide panels: panel q holds, for each p, the NR floats
    /// op(B)[pc+p, jc+q*NR ..] at dst[q*NR*kc + p*NR ..]; columns past nc are zero.
    /// </summary>
    /// <param name="b">K x N, or N x K when <paramref name="transB"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(bool transB, float* b, int n, int k, int pc, int kc, int jc, int nc, int nr, float* dst)
    {
        for (int j0 = 0; j0 < nc; j0 += nr)
        {
            int cols = Math.Min(nr, nc - j0);
            float* panel = dst + (long)j0 * kc;
            if (transB)
                PackTransposed(b + (long)(jc + j0) * k + pc, k, cols, kc, nr, panel);
            else
                PackRows(b + (long)pc * n + jc + j0, n, cols, kc, nr, panel);
        }
    }

    /// <summary>
    /// Packs rows [i0, i0+rows) of op(A)[.., pc..pc+kc] into MR-tall panels: panel q holds, for each p,
    /// op(A)[i0+q*MR .., pc+p] at dst[q*MR*kc + p*MR ..]; rows past <paramref name="rows"/> are zero.
    /// </summary>
    /// <param name="a">M x K, or K x M when <paramref name="transA"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(bool transA, float* a, int m, int k, int i0, int rows, int pc, int kc, int mr, float* dst)
    {
        for (int r0 = 0; r0 < rows; r0 += mr)
        {
            int live = Math.Min(mr, rows - r0);
            float* panel = dst + (long)r0 * kc;
            if (transA)
                PackRows(a + (long)pc * m + i0 + r0, m, live, kc, mr, panel);
            else
                PackTransposed(a + (long)(i0 + r0) * k + pc, k, live, kc, mr, panel);
        }
    }

    /// <summary>
    /// dst[p*width + j] = src[p*ld + j] for j &lt; live, 0 for live &lt;= j &lt; width, p &lt; kc:
    /// the panel's elements already lie contiguous in each source row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackRows(float* src, nint ld, int live, int kc, int width, float* dst)
    {
        if (live == width && width == 32 && Vector512.IsHardwareAccelerated)
        {
            for (int p = 0; p < kc; p++, src += ld, dst += 32)
            {
                Vector512.Store(Vector512.Load(src), dst);
                Vector512.Store(Vector512.Load(src + 16), dst + 16);
            }
            return;
        }

        if (live == width && width % 8 == 0)
        {
            for (int p = 0; p < kc; p++, src += ld, dst += width)
                for (int j = 0; j < width; j += 8)
                    Vector256.Store(Vector256.Load(src + j), dst + j);
            return;
        }

        if (live == width && width == 6 && kc > 1)
        {
            // Copy 8 floats per row: the 2 extra are read from this source row or the next (which
            // exists for every p but the last) and land in the next packed row, which overwrites them.
            for (int p = 0; p < kc - 1; p++, src += ld, dst += 6)
                Vector256.Store(Vector256.Load(src), dst);
            for (int j = 0; j < 6; j++)
                dst[j] = src[j];
            return;
        }

        for (int p = 0; p < kc; p++, src += ld, dst += width)
        {
            int j = 0;
            for (; j + 8 <= live; j += 8) Vector256.Store(Vector256.Load(src + j), dst + j);
            for (; j + 4 <= live; j += 4) Vector128.Store(Vector128.Load(src + j), dst + j);
            for (; j < live; j++) dst[j] = src[j];
            for (; j < width; j++) dst[j] = 0;
        }
    }

    /// <summary>
    /// dst[p*width + j] = src[j*ld + p] for j &lt; live, 0 for live &lt;= j &lt; width, p &lt; kc:
    /// each of the panel's <paramref name="live"/> lines is a source row, so this is a transpose,
    /// done in 8 x 8 blocks with AVX shuffles where possible.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackTransposed(float* src, nint ld, int live, int kc, int width, float* dst)
    {
        int j = 0;
        if (Avx.IsSupported)
        {
            for (; j + 8 <= live; j += 8)
            {
                float* s = src + j * ld;
                int p = 0;
                for (; p + 8 <= kc; p += 8)
                    Transpose8x8(s + p, ld, dst + (long)p * width + j, width);
                for (; p < kc; p++)
                    for (int t = 0; t < 8; t++)
                        dst[(long)p * width + j + t] = s[t * ld + p];
            }
        }

        for (; j < live; j++)
        {
            float* s = src + j * ld;
            for (int p = 0; p < kc; p++)
                dst[(long)p * width + j] = s[p];
        }

        for (; j < width; j++)
            for (int p = 0; p < kc; p++)
                dst[(long)p * width + j] = 0;
    }

    /// <summary>dst[u*ldd + t] = src[t*lds + u] for an 8 x 8 block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint lds, float* dst, nint ldd)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + lds);
        var r2 = Avx.LoadVector256(src + 2 * lds);
        var r3 = Avx.LoadVector256(src + 3 * lds);
        var r4 = Avx.LoadVector256(src + 4 * lds);
        var r5 = Avx.LoadVector256(src + 5 * lds);
        var r6 = Avx.LoadVector256(src + 6 * lds);
        var r7 = Avx.LoadVector256(src + 7 * lds);

        // [a0 b0 a1 b1 | a4 b4 a5 b5], [a2 b2 a3 b3 | a6 b6 a7 b7], ...
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);

        // [a0 b0 c0 d0 | a4 b4 c4 d4], [a1 b1 c1 d1 | a5 b5 c5 d5], ...
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);

        // Low halves give columns 0-3, high halves columns 4-7.
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>
    /// Per-thread packing buffers, pooled so a GEMM in a training loop allocates nothing after warm-up.
    /// Pinned arrays (not native memory) so a buffer dropped from a full pool is simply collected.
    /// </summary>
    private sealed class Scratch
    {
        private const int Alignment = 64;
        private static readonly Scratch?[] Pool = new Scratch?[Math.Max(4, 2 * Environment.ProcessorCount)];

        private float[] _b = [], _a = [];

        public float* PackedB { get; private set; }
        public float* PackedA { get; private set; }

        public static Scratch Rent(long bFloats, long aFloats)
        {
            Scratch? scratch = null;
            for (int i = 0; i < Pool.Length && scratch is null; i++)
                scratch = Interlocked.Exchange(ref Pool[i], null);
            scratch ??= new Scratch();
            scratch.Ensure(bFloats, aFloats);
            return scratch;
        }

        public static void Return(Scratch scratch)
        {
            for (int i = 0; i < Pool.Length; i++)
                if (Interlocked.CompareExchange(ref Pool[i], scratch, null) is null)
                    return;
        }

        private void Ensure(long bFloats, long aFloats)
        {
            if (_b.Length < bFloats + Alignment)
                PackedB = Allocate(bFloats, out _b);
            if (_a.Length < aFloats + Alignment)
                PackedA = Allocate(aFloats, out _a);
        }

        private static float* Allocate(long floats, out float[] array)
        {
            array = GC.AllocateUninitializedArray<float>(checked((int)floats + Alignment), pinned: true);
            nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
            return (float*)((address + Alignment - 1) & ~(nint)(Alignment - 1));
        }
    }
}

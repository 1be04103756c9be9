using System.Reflection;
using GpuNet.Backends;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Xunit;
using FloatView = ILGPU.Runtime.ArrayView1D<float, ILGPU.Stride1D.Dense>;

namespace GpuNet.Kernels.Tests;

/// <summary>
/// The TF32 tensor-core GEMM (<see cref="IlgpuBackend.GemmTf32(GemmTile, bool, bool, int, int, int, float, DeviceBuffer{float}, DeviceBuffer{float}, float, DeviceBuffer{float})"/>),
/// every (tile, transA, transB) against double-precision references, written once and run per accelerator.
/// </summary>
/// <remarks>
/// <para>On ILGPU's CPU accelerator (32-lane warps, <see cref="IlgpuBackend.CreateCpu"/>) the mma instruction is
/// emulated from the same per-lane fragments with warp shuffles, so these tests check the fragment layout, the
/// staging, the tails and the epilogue; on CUDA (skipped without a GPU) they check the real instruction.</para>
/// <para>Two comparisons per case, inputs in [-1, 1):</para>
/// <list type="bullet">
/// <item>Against the reference computed from TF32-rounded inputs (what the tensor cores multiply): products of
/// TF32 numbers are exact in fp32, so only the fp32 accumulation differs, and the fp32 tolerance applies with
/// a 2x margin for the tensor cores' own summation order: atol 4e-6 sqrt(K) + rtol 1e-5 |ref|.</item>
/// <item>Against the reference from the fp32 inputs: rounding a and b to TF32 changes each by at most 2^-11
/// relative, so each product by at most (1 + 2^-11)^2 - 1 &lt; 2^-10 relative, and the element by at most
/// 2^-10 |alpha| sum_k |a_ik||b_kj|, plus the accumulation tolerance above. For inputs without cancellation
/// this is a relative tolerance of about 1e-3, PyTorch's usual TF32 figure; unlike rtol |ref| it also holds
/// where the sum cancels to near 0.</item>
/// </list>
/// <para>Shapes aim at tails: 1 x 1 x 1; primes; K below, at and not a multiple of the 8-deep mma and the 16-deep
/// slab; M &lt; K; results spanning more than one tile in M and N (both tile sizes); exact tiles; K = 0. Inputs and C
/// are slices at non-zero offsets inside NaN guards.</para>
/// </remarks>
public abstract class Tf32GemmTests : IDisposable
{
    private GuardedSlices? _slices;

    /// <summary>The backend under test (the CUDA subclass skips here when there is no GPU).</summary>
    protected abstract IlgpuBackend Backend { get; }

    public void Dispose()
    {
        _slices?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>(tile, transA, transB, M, N, K, alpha, beta, slice offset).</summary>
    public static TheoryData<GemmTile, bool, bool, int, int, int, float, float, int> Cases
    {
        get
        {
            // The mma emulation makes the CPU accelerator slow (four warp rendezvous per mma), so the tail cases run
            // on the 64 x 64 tile, whose staging and fragment code is generated from the same code as the 128 one;
            // the 128 x 128 tile gets the cases that are specific to its size.
            (int M, int N, int K, float Alpha, float Beta, int Offset)[] common =
            [
                (1, 1, 1, 1f, 0f, 0),         // one element, K = 1: 15 of the 16 k of the slab zero-padded
            ];
            (int, int, int, float, float, int)[] only64 =
            [
                (7, 13, 5, 1.5f, 0.5f, 3),    // primes, K < 8
                (17, 33, 29, 1f, 0f, 1),      // primes; K = 29: a full slab and a 13-deep one (its second k8 step partial)
                (3, 5, 37, -0.5f, 1f, 2),     // M < K, three slabs, the last with 5 of 16 k
                (13, 7, 0, 1f, 0.5f, 0),      // K = 0: C = beta C
                (70, 67, 20, 0.75f, 0f, 2),   // 2 x 2 tiles, none full; two slabs, the second with 4 of 16 k
                (64, 64, 16, 1f, -1f, 0),     // one exact tile, one full slab
            ];
            (int, int, int, float, float, int)[] only128 =
            [
                (17, 33, 13, 1.5f, 0.5f, 3),  // primes inside one tile; one slab, the second k8 step partial
            ];

            var data = new TheoryData<GemmTile, bool, bool, int, int, int, float, float, int>();
            foreach (var tile in new[] { GemmTile.Tile64x64, GemmTile.Tile128x128 })
                foreach (bool transA in new[] { false, true })
                    foreach (bool transB in new[] { false, true })
                        foreach (var (m, n, k, alpha, beta, offset) in common.Concat(tile == GemmTile.Tile64x64 ? only64 : only128))
                            data.Add(tile, transA, transB, m, n, k, alpha, beta, offset);
            // 2 x 2 tiles of 128, the second ones with 2 rows and 1 column. NN and TT between them load each operand
            // both ways (A along K and along M, B along N and along K), at the 128 tile's offsets.
            data.Add(GemmTile.Tile128x128, false, false, 130, 129, 8, 1f, 0f, 1);
            data.Add(GemmTile.Tile128x128, true, true, 130, 129, 8, 1f, 0f, 1);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Tf32GemmMatchesTheReferences(GemmTile tile, bool transA, bool transB, int m, int n, int k,
        float alpha, float beta, int offset)
    {
        var a = Check.Uniform(m * k, seed: 1);
        var b = Check.Uniform(k * n, seed: 2);
        var c = beta == 0 ? Enumerable.Repeat(float.NaN, m * n).ToArray() : Check.Uniform(m * n, seed: 3);

        var dc = Put(c, offset);
        Backend.GemmTf32(tile, transA, transB, m, n, k, alpha, Put(a, offset), Put(b, offset + 1), beta, dc);
        var actual = Get(dc, offset);
        string what = $"TF32 GEMM {tile} transA={transA} transB={transB} M={m} N={n} K={k}";

        // 1. Against the product of the TF32-rounded inputs: only the fp32 accumulation differs.
        var tf32 = Reference.Gemm(transA, transB, m, n, k, alpha, RoundAll(a), RoundAll(b), beta, c);
        double atol = 4e-6 * Math.Sqrt(Math.Max(k, 1)), rtol = 1e-5;
        Check.Close(tf32, actual, atol, rtol, what + " vs TF32-rounded reference");

        // 2. Against the fp32 inputs: at most 2^-10 |alpha| sum |a||b| more (see the class remarks).
        var exact = Reference.Gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
        var magnitude = Reference.Gemm(transA, transB, m, n, k, Math.Abs(alpha), Abs(a), Abs(b), 0, c);
        var bound = magnitude.Select(s => Math.ScaleB(s, -10) + atol).ToArray();
        CloseWithin(exact, actual, bound, tf32, what + " vs fp32 reference");
    }

    [Theory]
    [InlineData(false, false, 20, 9, 20)]
    [InlineData(false, true, 20, 9, 20)]
    [InlineData(true, false, 9, 20, 20)]
    public void GemmRunsTheTf32KernelOnlyWhenAllowed(bool transA, bool transB, int m, int n, int k)
    {
        // Every a is 1 + 2^-12: TF32 rounds it to 1, fp32 keeps it. With b = 1 the product is k exactly in TF32
        // and k (1 + 2^-12) in fp32, 4 fp32 ulps apart at k = 20 (and the fp32 kernels sum 20 exact terms).
        var a = Enumerable.Repeat(1f + MathF.ScaleB(1f, -12), m * k).ToArray();
        var b = Enumerable.Repeat(1f, k * n).ToArray();
        Assert.False(Backend.AllowTf32); // the default, as in PyTorch
        var fp32 = Put(new float[m * n], 0);
        Backend.Gemm(transA, transB, m, n, k, 1f, Put(a, 0), Put(b, 0), 0f, fp32);
        Assert.All(Get(fp32, 0), v => Assert.Equal(k * (1f + MathF.ScaleB(1f, -12)), v));

        Backend.AllowTf32 = true;
        try
        {
            var tf32 = Put(new float[m * n], 0);
            Backend.Gemm(transA, transB, m, n, k, 1f, Put(a, 0), Put(b, 0), 0f, tf32);
            Assert.All(Get(tf32, 0), v => Assert.Equal((float)k, v));
        }
        finally
        {
            Backend.AllowTf32 = false;
        }
    }

    [Fact]
    public void Tf32GemmComputesTheBackpropForms()
    {
        // X (2 x 3), W (3 x 2), small integers (exact in TF32). Y = X W; dX = dY W^T; dW = X^T dY; worked out by hand.
        float[] x = [1, 2, 3, 4, 5, 6], w = [1, 0, 0, 1, 1, 1], dy = [1, -1, 2, 0.5f];
        var y = Put(new float[4], 0);
        var dx = Put(new float[6], 0);
        var dw = Put(new float[6], 0);
        Backend.GemmTf32(false, false, 2, 2, 3, 1f, Put(x, 0), Put(w, 0), 0f, y);
        Backend.GemmTf32(false, true, 2, 3, 2, 1f, Put(dy, 0), Put(w, 0), 0f, dx);
        Backend.GemmTf32(true, false, 3, 2, 2, 1f, Put(x, 0), Put(dy, 0), 0f, dw);
        Check.Close([4f, 5f, 10f, 11f], Get(y, 0), 0, 0, "Y = X W");
        Check.Close([1f, -1f, 0f, 2f, 0.5f, 2.5f], Get(dx, 0), 0, 0, "dX = dY W^T");
        Check.Close([9f, 1f, 12f, 0.5f, 15f, 0f], Get(dw, 0), 0, 0, "dW = X^T dY");
    }

    /// <summary>
    /// One <see cref="GemmTf32Kernels.Mma"/> on fragments loaded by the documented layout (g = lane / 4,
    /// t = lane % 4): D = A B + C for a 16 x 8 x 8 product of small integers, exact in TF32 and fp32.
    /// </summary>
    [Fact]
    public void MmaComputesOneM16N8K8TileFromTheDocumentedFragments()
    {
        var a = Enumerable.Range(0, 16 * 8).Select(i => (float)(i % 7 - 3)).ToArray();   // A[r, k] = a[r * 8 + k]
        var b = Enumerable.Range(0, 8 * 8).Select(i => (float)(i % 5 - 2)).ToArray();    // B[k, n] = b[k * 8 + n]
        var c = Enumerable.Range(0, 16 * 8).Select(i => (float)(i % 3)).ToArray();       // C[r, n] = c[r * 8 + n]
        var expected = new double[16 * 8];
        for (int r = 0; r < 16; r++)
            for (int col = 0; col < 8; col++)
            {
                double sum = c[r * 8 + col];
                for (int p = 0; p < 8; p++) sum += (double)a[r * 8 + p] * b[p * 8 + col];
                expected[r * 8 + col] = sum;
            }

        var kernel = Backend.Accelerator.LoadStreamKernel<FloatView, FloatView, FloatView, FloatView>(OneMmaKernel);
        var (va, vb, vc, vd) = (Put(a, 0), Put(b, 0), Put(c, 0), Put(new float[16 * 8], 0));
        kernel(new KernelConfig(1, 32), ((IlgpuBuffer<float>)va).View, ((IlgpuBuffer<float>)vb).View,
            ((IlgpuBuffer<float>)vc).View, ((IlgpuBuffer<float>)vd).View);
        Check.Close(expected, Get(vd, 0), 0, 0, "D = A B + C, one m16n8k8 mma");
    }

    private static void OneMmaKernel(FloatView a, FloatView b, FloatView c, FloatView d)
    {
        int lane = Group.IdxX;
        int g = lane >> 2, t = lane & 3;
        var result = GemmTf32Kernels.Mma(c[g * 8 + 2 * t], c[g * 8 + 2 * t + 1], c[(g + 8) * 8 + 2 * t], c[(g + 8) * 8 + 2 * t + 1],
            GemmTf32Kernels.RoundToTf32(a[g * 8 + t]), GemmTf32Kernels.RoundToTf32(a[(g + 8) * 8 + t]),
            GemmTf32Kernels.RoundToTf32(a[g * 8 + t + 4]), GemmTf32Kernels.RoundToTf32(a[(g + 8) * 8 + t + 4]),
            GemmTf32Kernels.RoundToTf32(b[t * 8 + g]), GemmTf32Kernels.RoundToTf32(b[(t + 4) * 8 + g]));
        d[g * 8 + 2 * t] = result.C0;
        d[g * 8 + 2 * t + 1] = result.C1;
        d[(g + 8) * 8 + 2 * t] = result.C2;
        d[(g + 8) * 8 + 2 * t + 1] = result.C3;
    }

    /// <summary>|actual - expected| &lt;= bound[i] per element (NaN fails), naming the first offender.</summary>
    private static void CloseWithin(double[] expected, float[] actual, double[] bound, double[] tf32, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(actual[i] - expected[i]);
            if (!(diff <= bound[i]))
                Assert.Fail($"{what}: index {i}: got {actual[i]:R}, expected {expected[i]:R} (|diff| {diff:G3} > bound {bound[i]:G3}; " +
                    $"TF32-rounded reference {tf32[i]:R}).");
        }
    }

    private static float[] RoundAll(float[] x) => [.. x.Select(v => BitConverter.UInt32BitsToSingle(GemmTf32Kernels.RoundToTf32Bits(v)))];

    private static float[] Abs(float[] x) => [.. x.Select(MathF.Abs)];

    // the backend is read only when a test first needs it: the CUDA subclass skips there without a GPU
    private DeviceBuffer<float> Put(float[] data, int offset) => (_slices ??= new GuardedSlices(Backend)).Put(data, offset);

    private float[] Get(DeviceBuffer<float> slice, int offset) => _slices!.Get(slice, offset);
}

/// <summary>The TF32 kernels on ILGPU's CPU accelerator (32-lane warps; the mma emulated with warp shuffles).</summary>
public sealed class IlgpuCpuTf32GemmTests(IlgpuCpuBackendFixture fixture)
    : Tf32GemmTests, IClassFixture<IlgpuCpuBackendFixture>
{
    protected override IlgpuBackend Backend => fixture.Backend;

    [Fact]
    public void TheCpuAcceleratorHas32LaneWarpsAsTheEmulationNeeds() =>
        Assert.Equal(32, fixture.Backend.Accelerator.WarpSize);
}

/// <summary>The TF32 kernels on an NVIDIA GPU (the real mma.sync); every test skips when there is no CUDA device.</summary>
public sealed class CudaTf32GemmTests(CudaBackendFixture fixture)
    : Tf32GemmTests, IClassFixture<CudaBackendFixture>
{
    protected override IlgpuBackend Backend
    {
        get
        {
            if (fixture.Backend is null)
                Assert.Skip("No CUDA device: IlgpuBackend.IsCudaAvailable() is false on this machine.");
            return fixture.Backend!;
        }
    }
}

/// <summary>Device-free checks: the TF32 rounding on known bit patterns, and the PTX of the TF32 kernels for SM 9.0.</summary>
public sealed class Tf32GemmPtxTests
{
    [Theory]
    [InlineData(0x3F800000u, 0x3F800000u)] // 1.0: already TF32
    [InlineData(0x3F800FFFu, 0x3F800000u)] // just below half a TF32 ulp: down
    [InlineData(0x3F801000u, 0x3F802000u)] // exactly half: ties away from zero, up
    [InlineData(0xBF801000u, 0xBF802000u)] // -(the same): away from zero, i.e. more negative
    [InlineData(0x3F801001u, 0x3F802000u)] // just above half: up
    [InlineData(0x3F802FFFu, 0x3F802000u)] // odd TF32 mantissa, below half: down (no ties-to-even games)
    [InlineData(0x3FFFF000u, 0x40000000u)] // 1.99993896484375: the carry moves into the exponent, 2.0
    [InlineData(0x00000FFFu, 0x00000000u)] // subnormal below half the smallest TF32 subnormal: 0
    [InlineData(0x00001000u, 0x00002000u)] // subnormal tie: away from zero
    [InlineData(0x80000000u, 0x80000000u)] // -0 stays -0
    [InlineData(0x7F7FFFFFu, 0x7F800000u)] // float.MaxValue: beyond the largest TF32 + half ulp, infinity
    [InlineData(0x7F7FEFFFu, 0x7F7FE000u)] // just below that: the largest TF32 value
    [InlineData(0x7F800000u, 0x7F800000u)] // +infinity stays
    [InlineData(0xFF800000u, 0xFF800000u)] // -infinity stays
    [InlineData(0x7F800001u, 0x7FC00000u)] // a NaN whose payload is all in the dropped bits: still NaN
    [InlineData(0xFFC00000u, 0x7FC00000u)] // any NaN: the canonical one
    public void RoundToTf32RoundsToNearestTiesAwayKeeping10MantissaBits(uint input, uint expected) =>
        Assert.Equal(expected.ToString("X8"), GemmTf32Kernels.RoundToTf32Bits(BitConverter.UInt32BitsToSingle(input)).ToString("X8"));

    [Fact]
    public void RoundToTf32IsWithinHalfATf32UlpOnRandomValues()
    {
        var random = new Random(5);
        for (int i = 0; i < 100_000; i++)
        {
            float x = (float)((random.NextDouble() * 2 - 1) * Math.Pow(2, random.Next(-60, 60)));
            float r = BitConverter.UInt32BitsToSingle(GemmTf32Kernels.RoundToTf32Bits(x));
            Assert.Equal(0u, BitConverter.SingleToUInt32Bits(r) & 0x1FFFu);
            Assert.True(Math.Abs((double)r - x) <= Math.ScaleB(Math.Abs((double)x), -11), $"{x:R} -> {r:R}");
        }
    }

    /// <summary>
    /// The TF32 kernels compile for SM 9.0 with the tensor-core instruction and the TF32 conversion, without
    /// local memory (fragments and accumulators in registers), and without the CPU emulation's shuffles.
    /// </summary>
    [Fact]
    public void Tf32KernelsCompileToPtxWithMmaAndNoLocalMemory()
    {
        var kernels = typeof(GemmTf32GeneratedKernels).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(method => method.Name.EndsWith("Kernel", StringComparison.Ordinal)).ToList();
        Assert.Equal(8, kernels.Count);

        string? folder = Environment.GetEnvironmentVariable(RegisterTiledGemmPtxTests.PtxFolderVariable);
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);

        // As CreateCuda's context: the TF32 intrinsics registered. The CPU device only hosts the compiler.
        using var context = Context.Create(builder => GemmTf32Kernels.RegisterIntrinsics(builder.CPU(new CPUDevice(32, 8, 1))));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90),
            CudaArchitecture.SM_90, CudaInstructionSet.ISA_78, nvvmAPI: null);
        foreach (var kernel in kernels)
        {
            var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), default);
            string ptx = compiled.PTXAssembly;
            if (!string.IsNullOrEmpty(folder))
                File.WriteAllText(Path.Combine(folder, kernel.Name + ".ptx"), ptx);

            Assert.Contains(GemmTf32Kernels.MmaInstruction, ptx);
            Assert.Contains(GemmTf32Kernels.RoundInstruction, ptx);
            Assert.Contains("bar.sync", ptx);
            Assert.False(ptx.Contains(".local", StringComparison.Ordinal),
                $"{kernel.Name}: the PTX declares local memory: fragments, accumulators or an intrinsic's result left the registers.");
            Assert.False(ptx.Contains("shfl", StringComparison.Ordinal), $"{kernel.Name}: the CPU emulation of the mma reached the PTX.");
            Assert.False(ptx.Contains("call", StringComparison.Ordinal), $"{kernel.Name}: a function call is left in the PTX.");
        }
    }
}

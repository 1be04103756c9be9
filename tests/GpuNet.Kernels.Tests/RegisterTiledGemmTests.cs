using System.Reflection;
using GpuNet.Backends;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Xunit;

namespace GpuNet.Kernels.Tests;

/// <summary>
/// The register-tiled GEMM kernels (<see cref="GemmRegisterTiledKernels"/>), every (tile, transA, transB)
/// against the double-precision <see cref="Reference.Gemm"/>, written once and run per accelerator.
/// </summary>
/// <remarks>
/// Shapes are tiny because ILGPU's CPU accelerator simulates every GPU thread, but each one aims at a tail:
/// 1 x 1 x 1; primes; M &lt; K; N = 1; K not a multiple of the 8-deep slab (one partial slab, several
/// slabs, the last one partial); results spanning two tiles in M and N without filling them; exact tiles;
/// K = 0 (C = beta C). Inputs and C are slices at non-zero offsets inside NaN guards: a load outside
/// A or B would poison the result, and a store outside C is caught when the guards are read back.
/// </remarks>
public abstract class RegisterTiledGemmTests : IDisposable
{
    private GuardedSlices? _slices;

    /// <summary>The backend under test (the CUDA subclass skips here when there is no GPU).</summary>
    protected abstract IlgpuBackend Backend { get; }

    public void Dispose()
    {
        _slices?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>(tile, transA, transB, M, N, K, alpha, beta, slice offset) for every kernel.</summary>
    public static TheoryData<GemmTile, bool, bool, int, int, int, float, float, int> Cases
    {
        get
        {
            // Shared by both tiles: whenever beta is 0, C starts as NaN and must not leak.
            (int M, int N, int K, float Alpha, float Beta, int Offset)[] common =
            [
                (1, 1, 1, 1f, 0f, 0),
                (7, 13, 5, 1.5f, 0.5f, 3),   // primes, one partial slab
                (3, 5, 37, -0.5f, 0f, 1),    // M < K: five slabs, the last with 5 of 8 k
                (37, 1, 11, 1f, 1f, 2),      // N = 1
                (13, 7, 0, 1f, 0.5f, 0),     // K = 0: C = beta C
            ];
            (int, int, int, float, float, int)[] only64 =
            [
                (65, 3, 17, 1f, 1f, 0),      // two tiles in M, the second with one row
                (67, 65, 17, 0.75f, 0f, 2),  // 2 x 2 tiles, none full
                (64, 64, 16, 1f, 0f, 0),     // one exact tile, two full slabs
            ];
            (int, int, int, float, float, int)[] only128 =
            [
                (65, 3, 17, 1f, 1f, 0),      // within one tile: rows 64 of the second row group
                (130, 67, 9, 1f, -1f, 1),    // two tiles in M, a 2-deep second slab
                (128, 128, 24, 1f, 0f, 0),   // one exact tile, three full slabs
            ];

            var data = new TheoryData<GemmTile, bool, bool, int, int, int, float, float, int>();
            foreach (var tile in new[] { GemmTile.Tile64x64, GemmTile.Tile128x128 })
                foreach (bool transA in new[] { false, true })
                    foreach (bool transB in new[] { false, true })
                        foreach (var (m, n, k, alpha, beta, offset) in common.Concat(tile == GemmTile.Tile64x64 ? only64 : only128))
                            data.Add(tile, transA, transB, m, n, k, alpha, beta, offset);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RegisterTiledGemmMatchesReference(GemmTile tile, bool transA, bool transB, int m, int n, int k,
        float alpha, float beta, int offset) =>
        CheckGemm((ta, tb, mm, nn, kk, al, a, b, be, c) => Backend.GemmRegisterTiled(tile, ta, tb, mm, nn, kk, al, a, b, be, c),
            transA, transB, m, n, k, alpha, beta, offset);

    [Theory]
    [InlineData(false, false, 70, 45, 20)]
    [InlineData(false, true, 70, 45, 20)]
    [InlineData(true, false, 45, 70, 20)]
    [InlineData(true, true, 5, 130, 3)]
    public void GemmRunsTheRegisterTiledKernelWhenSelected(bool transA, bool transB, int m, int n, int k)
    {
        Assert.Equal(GemmKernelChoice.Tiled, Backend.GemmKernel); // the default until timed on a GPU
        Backend.GemmKernel = GemmKernelChoice.RegisterTiled;
        try
        {
            CheckGemm(Backend.Gemm, transA, transB, m, n, k, 1.25f, 0.5f, 1);
        }
        finally
        {
            Backend.GemmKernel = GemmKernelChoice.Tiled;
        }
    }

    [Theory]
    [InlineData(GemmTile.Tile64x64)]
    [InlineData(GemmTile.Tile128x128)]
    public void RegisterTiledGemmComputesTheBackpropForms(GemmTile tile)
    {
        // X (2 x 3), W (3 x 2). Y = X W; dX = dY W^T; dW = X^T dY; worked out by hand.
        float[] x = [1, 2, 3, 4, 5, 6], w = [1, 0, 0, 1, 1, 1], dy = [1, -1, 2, 0.5f];
        var y = Put(new float[4], 0);
        var dx = Put(new float[6], 0);
        var dw = Put(new float[6], 0);
        Backend.GemmRegisterTiled(tile, false, false, 2, 2, 3, 1f, Put(x, 0), Put(w, 0), 0f, y);
        Backend.GemmRegisterTiled(tile, false, true, 2, 3, 2, 1f, Put(dy, 0), Put(w, 0), 0f, dx);
        Backend.GemmRegisterTiled(tile, true, false, 3, 2, 2, 1f, Put(x, 0), Put(dy, 0), 0f, dw);
        Check.Close([4f, 5f, 10f, 11f], Get(y, 0), 1e-6, 1e-6, "Y = X W");               // [1+3, 2+3], [4+6, 5+6]
        Check.Close([1f, -1f, 0f, 2f, 0.5f, 2.5f], Get(dx, 0), 1e-6, 1e-6, "dX = dY W^T"); // rows of W: (1,0), (0,1), (1,1)
        Check.Close([9f, 1f, 12f, 0.5f, 15f, 0f], Get(dw, 0), 1e-6, 1e-6, "dW = X^T dY");  // column p of X times rows of dY
    }

    [Fact]
    public void GemmKernelRejectsAnUndefinedChoice() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Backend.GemmKernel = (GemmKernelChoice)7);

    /// <summary>Runs <paramref name="gemm"/> on random inputs and compares it with <see cref="Reference.Gemm"/>.</summary>
    private void CheckGemm(Action<bool, bool, int, int, int, float, DeviceBuffer<float>, DeviceBuffer<float>, float, DeviceBuffer<float>> gemm,
        bool transA, bool transB, int m, int n, int k, float alpha, float beta, int offset)
    {
        var a = Check.Uniform(m * k, seed: 1);
        var b = Check.Uniform(k * n, seed: 2);
        var c = beta == 0 ? Enumerable.Repeat(float.NaN, m * n).ToArray() : Check.Uniform(m * n, seed: 3);
        var expected = Reference.Gemm(transA, transB, m, n, k, alpha, a, b, beta, c);

        var dc = Put(c, offset);
        gemm(transA, transB, m, n, k, alpha, Put(a, offset), Put(b, offset + 1), beta, dc);

        // Inputs in [-1, 1): a K-term dot product rounds K times, the errors adding like a random walk
        // (~6e-8 * sqrt(K) * |partial sums| <= sqrt(K)); 2e-6 * sqrt(K) leaves a 10x margin at K = 37.
        // The register-tiled kernels sum in k order like the reference, only in float.
        double atol = 2e-6 * Math.Sqrt(Math.Max(k, 1)), rtol = 1e-5;
        Check.Close(expected, Get(dc, offset), atol, rtol, $"GEMM transA={transA} transB={transB} M={m} N={n} K={k}");
    }

    // the backend is read only when a test first needs it: the CUDA subclass skips there without a GPU
    private DeviceBuffer<float> Put(float[] data, int offset) => (_slices ??= new GuardedSlices(Backend)).Put(data, offset);

    private float[] Get(DeviceBuffer<float> slice, int offset) => _slices!.Get(slice, offset);
}

/// <summary>The register-tiled kernels on ILGPU's CPU accelerator (simulated GPU threads).</summary>
public sealed class IlgpuCpuRegisterTiledGemmTests(IlgpuCpuBackendFixture fixture)
    : RegisterTiledGemmTests, IClassFixture<IlgpuCpuBackendFixture>
{
    protected override IlgpuBackend Backend => fixture.Backend;
}

/// <summary>The register-tiled kernels on an NVIDIA GPU; every test skips when there is no CUDA device.</summary>
public sealed class CudaRegisterTiledGemmTests(CudaBackendFixture fixture)
    : RegisterTiledGemmTests, IClassFixture<CudaBackendFixture>
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

/// <summary>
/// Device-free checks of the register-tiled GEMM: the tile selector, and the PTX that ILGPU generates for
/// SM 9.0 (compiled offline by ILGPU's PTX backend, no GPU or driver needed).
/// </summary>
public sealed class RegisterTiledGemmPtxTests
{
    /// <summary>Set to a folder to keep the PTX of every GEMM kernel there, e.g. for <c>ptxas -v -arch=sm_90</c>.</summary>
    public const string PtxFolderVariable = "GPUNET_PTX_DIR";

    [Theory]
    [InlineData(64, 128, GemmTile.Tile64x64)]       // a 784 -> 128 layer at batch 64: one 128-tile for 132 SMs
    [InlineData(4096, 128, GemmTile.Tile64x64)]     // 32 tiles of 128
    [InlineData(1024, 1024, GemmTile.Tile64x64)]    // 64 tiles of 128, 256 of 64
    [InlineData(2048, 2048, GemmTile.Tile128x128)]  // 256 tiles of 128
    [InlineData(4096, 4096, GemmTile.Tile128x128)]
    public void ChooseGemmTilePrefers128TilesOnlyWhenTheyFillAnH100(int m, int n, GemmTile expected) =>
        Assert.Equal(expected, IlgpuBackend.ChooseGemmTile(m, n, multiprocessors: 132));

    /// <summary>
    /// The key check of the register-tiled design: ILGPU must keep the register tile in registers. A tile
    /// that spills to local memory shows up in PTX as a <c>.local</c> depot (and in ptxas -v as a stack
    /// frame), so no kernel may have one; and the k-step operands must be read as 128-bit shared loads.
    /// </summary>
    [Fact]
    public void RegisterTiledKernelsCompileToPtxWithoutLocalMemory()
    {
        var kernels = typeof(GemmRegisterTiledKernels).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(method => method.Name.EndsWith("Kernel", StringComparison.Ordinal)).ToList();
        Assert.Equal(8, kernels.Count);

        string? folder = Environment.GetEnvironmentVariable(PtxFolderVariable);
        if (!string.IsNullOrEmpty(folder))
        {
            // The existing kernels too, for comparison under ptxas -v.
            kernels.Add(typeof(GemmKernels).GetMethod(nameof(GemmKernels.GemmTiledKernel))!);
            Directory.CreateDirectory(folder);
        }

        // A context like CreateCuda's (default optimization level); the CPU device only hosts the compiler.
        using var context = Context.Create(builder => builder.CPU(new CPUDevice(32, 8, 1)));
        // ISA 7.8 is the oldest PTX with sm_90, so CUDA 11.8's ptxas reads these files too.
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90),
            CudaArchitecture.SM_90, CudaInstructionSet.ISA_78, nvvmAPI: null);
        foreach (var kernel in kernels)
        {
            var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), default);
            string ptx = compiled.PTXAssembly;
            if (!string.IsNullOrEmpty(folder))
                File.WriteAllText(Path.Combine(folder, kernel.Name + ".ptx"), ptx);
            if (kernel.DeclaringType != typeof(GemmRegisterTiledKernels)) continue;

            Assert.False(ptx.Contains(".local", StringComparison.Ordinal),
                $"{kernel.Name}: the PTX declares local memory: the register tile (or something else) left the registers.");
            Assert.Contains("ld.shared.v4.f32", ptx);
            Assert.Contains("bar.sync", ptx);
        }
    }
}

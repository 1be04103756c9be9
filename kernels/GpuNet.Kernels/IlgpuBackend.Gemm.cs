using GpuNet.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Kernels;

/// <summary>Which kernel <see cref="IlgpuBackend.Gemm"/> runs.</summary>
public enum GemmKernelChoice
{
    /// <summary><see cref="GemmKernels.GemmTiledKernel"/>: 64 x 64 tiles, a 4 x 4 register block per thread.</summary>
    Tiled,

    /// <summary>
    /// <see cref="GemmRegisterTiledKernels"/>: 128 x 128 or 64 x 64 tiles (<see cref="IlgpuBackend.SelectGemmTile"/>),
    /// 8 x 8 or 4 x 4 register tiles, double-buffered shared slabs.
    /// </summary>
    RegisterTiled,
}

/// <summary>The tile configuration of a <see cref="GemmRegisterTiledKernels"/> launch.</summary>
public enum GemmTile
{
    /// <summary>64 x 64 of C per group of 256 threads, 4 x 4 per thread: more groups for small M or N.</summary>
    Tile64x64,

    /// <summary>128 x 128 of C per group of 256 threads, 8 x 8 per thread: twice the FMAs per shared-memory read.</summary>
    Tile128x128,
}

public sealed partial class IlgpuBackend
{
    private GemmKernelChoice _gemmKernel = GemmKernelChoice.Tiled;

    // Indexed by RegisterTiledSlot: [tile * 4 + transA * 2 + transB].
    private readonly Action<KernelConfig, int, int, int, float, FloatView, FloatView, float, FloatView>[] _gemmRegisterTiled;

    /// <summary>
    /// The kernel <see cref="Gemm"/> runs. <see cref="GemmKernelChoice.Tiled"/> (the default) until the
    /// register-tiled kernels have been timed on a GPU; tests and benchmarks select
    /// <see cref="GemmKernelChoice.RegisterTiled"/>. Both compute the same contract.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="GemmKernelChoice"/>.</exception>
    public GemmKernelChoice GemmKernel
    {
        get => _gemmKernel;
        set
        {
            if (!Enum.IsDefined(value))
                throw new ArgumentOutOfRangeException(nameof(value), value, $"Unknown GEMM kernel; expected one of {string.Join(", ", Enum.GetNames<GemmKernelChoice>())}.");
            _gemmKernel = value;
        }
    }

    /// <summary>
    /// The tile configuration <see cref="Gemm"/> uses for an M x N result with
    /// <see cref="GemmKernelChoice.RegisterTiled"/>.
    /// </summary>
    /// <remarks>
    /// 128 x 128 tiles do twice the FMAs per shared-memory read, but only when there are enough of them to
    /// occupy every multiprocessor: a 64 x 784 x 128 training GEMM is one 128 x 128 tile (one busy SM of
    /// 132 on an H100) against two 64 x 64 tiles, and 1024^3 is 64 tiles against 256. So: 128 x 128 when
    /// the result has at least one such tile per multiprocessor, else 64 x 64. The threshold is a guess to
    /// be tuned from the IlgpuGemmBenchmarks timings of both configurations.
    /// </remarks>
    public GemmTile SelectGemmTile(int m, int n) =>
        ChooseGemmTile(m, n, _accelerator.NumMultiprocessors);

    /// <summary><see cref="SelectGemmTile"/> for a device with <paramref name="multiprocessors"/> SMs.</summary>
    public static GemmTile ChooseGemmTile(int m, int n, int multiprocessors) =>
        (long)((m + 127) / 128) * ((n + 127) / 128) >= multiprocessors ? GemmTile.Tile128x128 : GemmTile.Tile64x64;

    /// <summary>
    /// <see cref="Gemm"/> through the register-tiled kernel of the given tile configuration, whatever
    /// <see cref="GemmKernel"/> says: for tests and benchmarks of each configuration.
    /// </summary>
    /// <remarks>Same contract as <see cref="Gemm"/>: C = alpha op(A) op(B) + beta C, beta == 0 ignores C.</remarks>
    public void GemmRegisterTiled(GemmTile tile, bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer<float> a, DeviceBuffer<float> b, float beta, DeviceBuffer<float> c)
    {
        RequireTile(tile);
        var (va, vb, vc) = GemmViews(m, n, k, a, b, c);
        if (m == 0 || n == 0) return;
        LaunchRegisterTiled(tile, transA, transB, m, n, k, alpha, va, vb, beta, vc);
    }

    /// <summary>Launches a register-tiled kernel on validated views (M, N &gt; 0).</summary>
    private void LaunchRegisterTiled(GemmTile tile, bool transA, bool transB, int m, int n, int k, float alpha,
        FloatView a, FloatView b, float beta, FloatView c)
    {
        var config = new KernelConfig(GemmRegisterTiledKernels.GroupCount(m, n, TileSize(tile)), GemmRegisterTiledKernels.GroupSize);
        _gemmRegisterTiled[RegisterTiledSlot(tile, transA, transB)](config, m, n, k, alpha, a, b, beta, c);
    }

    private static void RequireTile(GemmTile tile)
    {
        if (!Enum.IsDefined(tile))
            throw new ArgumentOutOfRangeException(nameof(tile), tile, "Unknown GEMM tile; expected Tile64x64 or Tile128x128.");
    }

    /// <summary>The side of C's square tile per group: 64 or 128.</summary>
    private static int TileSize(GemmTile tile) => tile == GemmTile.Tile128x128 ? 128 : 64;

    /// <summary>The kernel slot of a (tile, transA, transB) form, shared by the register-tiled and TF32 kernels.</summary>
    private static int RegisterTiledSlot(GemmTile tile, bool transA, bool transB) =>
        (int)tile * 4 + (transA ? 2 : 0) + (transB ? 1 : 0);

    /// <summary>Compiles the eight register-tiled kernels (called once, from the constructor).</summary>
    private static Action<KernelConfig, int, int, int, float, FloatView, FloatView, float, FloatView>[] LoadRegisterTiledGemmKernels(Accelerator accelerator)
    {
        Action<int, int, int, float, FloatView, FloatView, float, FloatView>[] kernels =
        [
            GemmRegisterTiledKernels.Gemm64x64NNKernel, GemmRegisterTiledKernels.Gemm64x64NTKernel,
            GemmRegisterTiledKernels.Gemm64x64TNKernel, GemmRegisterTiledKernels.Gemm64x64TTKernel,
            GemmRegisterTiledKernels.Gemm128x128NNKernel, GemmRegisterTiledKernels.Gemm128x128NTKernel,
            GemmRegisterTiledKernels.Gemm128x128TNKernel, GemmRegisterTiledKernels.Gemm128x128TTKernel,
        ];
        return [.. kernels.Select(kernel => accelerator.LoadStreamKernel(kernel))];
    }
}

using GpuNet.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Kernels;

public sealed partial class IlgpuBackend
{
    // Indexed by RegisterTiledSlot(tile, transA, transB); each kernel is compiled on its first launch.
    private readonly Action<KernelConfig, int, int, int, float, FloatView, FloatView, float, FloatView>?[] _gemmTf32 =
        new Action<KernelConfig, int, int, int, float, FloatView, FloatView, float, FloatView>?[8];

    /// <summary>
    /// Whether <see cref="Gemm"/> may use TF32 tensor cores (like PyTorch's
    /// <c>torch.backends.cuda.matmul.allow_tf32</c>): inputs rounded to 10 mantissa bits, products summed in
    /// fp32. Off by default. When on, <see cref="Gemm"/> runs <see cref="GemmTf32(bool, bool, int, int, int, float, DeviceBuffer{float}, DeviceBuffer{float}, float, DeviceBuffer{float})"/>
    /// whatever <see cref="GemmKernel"/> says.
    /// </summary>
    /// <remarks>
    /// Expect relative errors around 1e-3 of sum |a||b| instead of fp32's 1e-6 (see docs/kernels.md). The
    /// kernels are compiled on first use. On ILGPU's CPU accelerator the tensor-core instruction is emulated
    /// (slowly, for tests).
    /// </remarks>
    public bool AllowTf32 { get; set; }

    /// <summary>
    /// <see cref="Gemm"/> through the TF32 tensor-core kernels, whatever <see cref="AllowTf32"/> says: for tests
    /// and benchmarks. The tile is <see cref="SelectGemmTile"/>'s choice.
    /// </summary>
    /// <remarks>Same contract as <see cref="Gemm"/> (C = alpha op(A) op(B) + beta C, beta == 0 ignores C), at TF32 precision.</remarks>
    public void GemmTf32(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer<float> a, DeviceBuffer<float> b, float beta, DeviceBuffer<float> c) =>
        GemmTf32(SelectGemmTile(m, n), transA, transB, m, n, k, alpha, a, b, beta, c);

    /// <summary>
    /// <see cref="GemmTf32(bool, bool, int, int, int, float, DeviceBuffer{float}, DeviceBuffer{float}, float, DeviceBuffer{float})"/>
    /// with a given tile configuration: 64 x 64 or 128 x 128 of C per group of 8 warps.
    /// </summary>
    public void GemmTf32(GemmTile tile, bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer<float> a, DeviceBuffer<float> b, float beta, DeviceBuffer<float> c)
    {
        RequireTile(tile);
        var (va, vb, vc) = GemmViews(m, n, k, a, b, c);
        if (m == 0 || n == 0) return;
        LaunchTf32(tile, transA, transB, m, n, k, alpha, va, vb, beta, vc);
    }

    /// <summary>Launches a TF32 kernel on validated views (M, N &gt; 0), compiling it first if needed.</summary>
    private void LaunchTf32(GemmTile tile, bool transA, bool transB, int m, int n, int k, float alpha,
        FloatView a, FloatView b, float beta, FloatView c)
    {
        int slot = RegisterTiledSlot(tile, transA, transB);
        var kernel = _gemmTf32[slot] ??= _accelerator.LoadStreamKernel(Tf32Kernel(tile, transA, transB));
        kernel(new KernelConfig(GemmTf32Kernels.GroupCount(m, n, TileSize(tile)), GemmTf32Kernels.GroupSize), m, n, k, alpha, a, b, beta, c);
    }

    private static Action<int, int, int, float, FloatView, FloatView, float, FloatView> Tf32Kernel(GemmTile tile, bool transA, bool transB) =>
        (tile, transA, transB) switch
        {
            (GemmTile.Tile64x64, false, false) => GemmTf32GeneratedKernels.Tf32Gemm64x64NNKernel,
            (GemmTile.Tile64x64, false, true) => GemmTf32GeneratedKernels.Tf32Gemm64x64NTKernel,
            (GemmTile.Tile64x64, true, false) => GemmTf32GeneratedKernels.Tf32Gemm64x64TNKernel,
            (GemmTile.Tile64x64, true, true) => GemmTf32GeneratedKernels.Tf32Gemm64x64TTKernel,
            (_, false, false) => GemmTf32GeneratedKernels.Tf32Gemm128x128NNKernel,
            (_, false, true) => GemmTf32GeneratedKernels.Tf32Gemm128x128NTKernel,
            (_, true, false) => GemmTf32GeneratedKernels.Tf32Gemm128x128TNKernel,
            (_, true, true) => GemmTf32GeneratedKernels.Tf32Gemm128x128TTKernel,
        };
}

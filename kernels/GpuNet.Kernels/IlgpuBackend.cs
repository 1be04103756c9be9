using GpuNet.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Kernels;

/// <summary>
/// <see cref="IBackend"/> on an ILGPU accelerator: CUDA (the fast GPU path) or ILGPU's CPU accelerator
/// (the same kernels on simulated GPU threads, for tests without a GPU).
/// </summary>
/// <remarks>
/// <para>Every kernel is compiled once, in the constructor, and kept as a launcher delegate (one
/// <see cref="Load{TLauncher}"/> line per kernel): a training step is only launches on the accelerator's
/// default stream, with no allocation, no host synchronization and no compilation. Everything is queued
/// in call order; <see cref="Download{T}"/> and <see cref="Synchronize"/> wait. Create instances with
/// <see cref="CreateCuda"/> or <see cref="CreateCpu"/>; one instance owns its ILGPU context and accelerator.</para>
/// <para>Element-wise kernels are auto-grouped (ILGPU picks the group size for the device). The GEMM, the
/// row kernels and the column reductions (batch normalization, penalties, sums) are explicitly grouped:
/// 256 threads per group, so the accelerator must allow groups of 256 threads with a warp size dividing 256.</para>
/// <para>Losses never use float atomics: per-row or per-element losses go to a scratch buffer that
/// <see cref="ReductionKernels.SumIntoKernel"/> adds to lossSum[0] in a fixed order.</para>
/// </remarks>
public sealed partial class IlgpuBackend : IBackend
{
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly AcceleratorStream _stream;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _dummy; // stands in for an absent optional output
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _dummyInt; // stands in for absent step values (SgdUpdate)
    private MemoryBuffer1D<float, Stride1D.Dense> _rowLoss; // per-row or per-element losses, grown to the largest batch seen
    private bool _disposed;

    private readonly Action<AcceleratorStream, KernelConfig, int, int, int, int, int, float, FloatView, FloatView, float, FloatView> _gemmTiled;
    private readonly Action<AcceleratorStream, Index2D, int, int, int, int, int, float, FloatView, FloatView, float, FloatView> _gemmNaive;
    private readonly Action<AcceleratorStream, Index1D, FloatView, FloatView, int> _biasAdd;
    private readonly Action<AcceleratorStream, Index1D, FloatView, int, int, FloatView, int> _columnSum;
    private readonly Action<AcceleratorStream, Index1D, FloatView, float> _fillFloat;
    private readonly Action<AcceleratorStream, Index1D, IntView, int> _fillInt;
    private readonly Action<AcceleratorStream, Index1D, FloatView, FloatView, int, float> _activation;
    private readonly Action<AcceleratorStream, Index1D, FloatView, FloatView, FloatView, FloatView, int, float, int> _activationBackward;
    private readonly Action<AcceleratorStream, KernelConfig, FloatView, FloatView, int, int> _softmax;
    private readonly Action<AcceleratorStream, KernelConfig, FloatView, IntView, int, int, FloatView, int, FloatView, int, float, FloatView, FloatView, int> _softmaxCrossEntropy;
    private readonly Action<AcceleratorStream, KernelConfig, FloatView, int, FloatView> _sumInto;
    private readonly Action<AcceleratorStream, KernelConfig, FloatView, IntView, int, int, IntView, FloatView, int> _countCorrect;
    private readonly Action<AcceleratorStream, KernelConfig, FloatView, int, int, IntView> _argMax;
    private readonly Action<AcceleratorStream, Index1D, FloatView, IntView, int, int, int, FloatView> _gatherRows;
    private readonly Action<AcceleratorStream, Index1D, FloatView, int, int, FloatView, int, int, int, int> _copyColumns;
    private readonly Action<AcceleratorStream, Index1D, IntView, IntView, int, int, IntView> _gather;
    private readonly Action<AcceleratorStream, Index1D, FloatView, float, float, ulong, uint> _randomUniform;
    private readonly Action<AcceleratorStream, Index1D, FloatView, float, float, ulong, uint> _randomNormal;
    private readonly Action<AcceleratorStream, Index1D, FloatView, IntView, FloatView, int> _takeAlongRows;
    private readonly Action<AcceleratorStream, Index1D, FloatView, IntView, FloatView, int> _putAlongRows;

    // IBackend.Layers.cs: losses (IlgpuBackend.Losses.cs)
    private readonly Action<AcceleratorStream, KernelConfig, FloatView, FloatView, int, int, FloatView, int, FloatView, int, float, FloatView, FloatView, int> _softmaxCrossEntropyDense;
    private readonly Action<AcceleratorStream, Index1D, FloatView, FloatView, FloatView, int, FloatView, int, float, FloatView, FloatView, int, int, int> _sigmoidCrossEntropy;
    private readonly Action<AcceleratorStream, Index1D, FloatView, FloatView, float, FloatView, int, float, FloatView, FloatView, int, int, int> _crossEntropyFromProbabilities;
    private readonly Action<AcceleratorStream, Index1D, FloatView, FloatView, float, FloatView, int, float, FloatView, FloatView, int, int, int> _binaryCrossEntropyFromProbabilities;
    private readonly Action<AcceleratorStream, Index1D, FloatView, FloatView, FloatView, int, float, FloatView, FloatView, int, int, int> _squaredError;
    private readonly Action<AcceleratorStream, KernelConfig, FloatView, IntView, int, float, IntView, FloatView, int> _countCorrectBinary;
    private readonly Action<AcceleratorStream, KernelConfig, FloatView, FloatView, int, float, IntView, FloatView, int, int> _countCorrectMultiLabel;
    private readonly Action<AcceleratorStream, KernelConfig, FloatView, FloatView, FloatView, int, int, int> _softmaxBackward;
    // layers (IlgpuBackend.Layers.cs)
    private readonly Action<AcceleratorStream, Index1D, FloatView, FloatView, FloatView, int> _multiply;
    private readonly Action<AcceleratorStream, Index1D, FloatView, float> _scale;
    private readonly Action<AcceleratorStream, Index1D, FloatView, FloatView, int> _unary;
    private readonly Action<AcceleratorStream, Index1D, FloatView, FloatView, FloatView, int, FloatView, int, int> _columnAffine;
    private readonly Action<AcceleratorStream, Index1D, FloatView, FloatView, FloatView, float, float, ulong, uint, IntView, int> _dropout;
    private readonly Action<AcceleratorStream, KernelConfig, FloatView, int, float, float, FloatView> _l1l2Partial;
    private readonly Action<AcceleratorStream, Index1D, FloatView, FloatView, float, float> _l1l2Gradient;
    private readonly Action<AcceleratorStream, Index1D, FloatView, float> _clipByValue;
    private readonly Action<AcceleratorStream, Index1D, FloatView, FloatView, float> _scaleToMaxNorm;
    private readonly Action<AcceleratorStream, KernelConfig, FloatView, int, int, FloatView, FloatView, FloatView, FloatView, FloatView, FloatView, FloatView, float, float, FloatView, int> _batchNormTraining;
    private readonly Action<AcceleratorStream, Index1D, FloatView, int, FloatView, FloatView, FloatView, FloatView, float, FloatView> _batchNormInference;
    private readonly Action<AcceleratorStream, KernelConfig, FloatView, FloatView, int, int, FloatView, FloatView, FloatView, FloatView, int, FloatView, FloatView, int, FloatView, int> _batchNormBackward;
    private readonly Action<AcceleratorStream, Index1D, FloatView, int, FloatView, IntView> _maxout;
    private readonly Action<AcceleratorStream, Index1D, FloatView, IntView, int, FloatView, int> _maxoutBackward;
    // optimizers and augmentation (IlgpuBackend.Optimizers.cs)
    private readonly Action<AcceleratorStream, Index1D, OptimizerStep, IntView, int, FloatView, FloatView, FloatView, FloatView> _optimizerUpdate;
    private readonly Action<AcceleratorStream, Index1D, FloatView, FloatView, int, int, AugmentationSettings, ulong, IntView, int> _augmentImages;

    private IlgpuBackend(Context context, Accelerator accelerator, DeviceKind kind, string name)
    {
        _context = context;
        _accelerator = accelerator;
        _stream = accelerator.DefaultStream;
        Kind = kind;
        Name = name;
        if (accelerator.MaxNumThreadsPerGroup < GemmKernels.GroupSize || SoftmaxKernels.GroupSize % accelerator.WarpSize != 0)
            throw new NotSupportedException(
                $"{name} allows groups of {accelerator.MaxNumThreadsPerGroup} threads with a warp size of {accelerator.WarpSize}; " +
                $"the GpuNet kernels need groups of {GemmKernels.GroupSize} threads and a warp size dividing {SoftmaxKernels.GroupSize}.");
        _dummy = accelerator.Allocate1D<float>(1);
        _dummyInt = accelerator.Allocate1D<int>(1);
        _rowLoss = accelerator.Allocate1D<float>(1024);

        var a = accelerator;
        Load(out _gemmTiled, GemmKernels.GemmTiledKernel);
        Load(out _gemmNaive, GemmKernels.GemmNaiveKernel);
        _gemmRegisterTiled = LoadRegisterTiledGemmKernels(a);
        Load(out _biasAdd, ElementwiseKernels.BiasAddKernel);
        Load(out _columnSum, ElementwiseKernels.ColumnSumKernel);
        Load(out _fillFloat, ElementwiseKernels.FillFloatKernel);
        Load(out _fillInt, ElementwiseKernels.FillIntKernel);
        Load(out _activation, ActivationKernels.ActivationForwardKernel);
        Load(out _activationBackward, ActivationKernels.ActivationBackwardKernel);
        Load(out _softmax, SoftmaxKernels.SoftmaxKernel);
        Load(out _softmaxCrossEntropy, SoftmaxKernels.SoftmaxCrossEntropyKernel);
        Load(out _sumInto, ReductionKernels.SumIntoKernel);
        Load(out _countCorrect, SoftmaxKernels.CountCorrectKernel);
        Load(out _argMax, SoftmaxKernels.ArgMaxKernel);
        Load(out _gatherRows, DataKernels.GatherRowsKernel);
        Load(out _copyColumns, DataKernels.CopyColumnsKernel);
        Load(out _gather, DataKernels.GatherKernel);
        Load(out _randomUniform, RandomKernels.RandomUniformKernel);
        Load(out _randomNormal, RandomKernels.RandomNormalKernel);
        Load(out _takeAlongRows, OperatorKernels.TakeAlongRowsKernel);
        Load(out _putAlongRows, OperatorKernels.PutAlongRowsKernel);

        Load(out _softmaxCrossEntropyDense, LossKernels.SoftmaxCrossEntropyDenseKernel);
        Load(out _sigmoidCrossEntropy, LossKernels.SigmoidCrossEntropyKernel);
        Load(out _crossEntropyFromProbabilities, LossKernels.CrossEntropyFromProbabilitiesKernel);
        Load(out _binaryCrossEntropyFromProbabilities, LossKernels.BinaryCrossEntropyFromProbabilitiesKernel);
        Load(out _squaredError, LossKernels.SquaredErrorKernel);
        Load(out _countCorrectBinary, LossKernels.CountCorrectBinaryKernel);
        Load(out _countCorrectMultiLabel, LossKernels.CountCorrectMultiLabelKernel);
        Load(out _softmaxBackward, SoftmaxKernels.SoftmaxBackwardKernel);
        Load(out _multiply, LayerKernels.MultiplyKernel);
        Load(out _scale, LayerKernels.ScaleKernel);
        Load(out _unary, LayerKernels.UnaryKernel);
        Load(out _columnAffine, LayerKernels.ColumnAffineKernel);
        Load(out _dropout, LayerKernels.DropoutKernel);
        Load(out _l1l2Partial, LayerKernels.L1L2PartialKernel);
        Load(out _l1l2Gradient, LayerKernels.L1L2GradientKernel);
        Load(out _clipByValue, LayerKernels.ClipByValueKernel);
        Load(out _scaleToMaxNorm, LayerKernels.ScaleToMaxNormKernel);
        Load(out _batchNormTraining, LayerKernels.BatchNormTrainingKernel);
        Load(out _batchNormInference, LayerKernels.BatchNormInferenceKernel);
        Load(out _batchNormBackward, LayerKernels.BatchNormBackwardKernel);
        Load(out _maxout, LayerKernels.MaxoutKernel);
        Load(out _maxoutBackward, LayerKernels.MaxoutBackwardKernel);
        Load(out _optimizerUpdate, OptimizerKernels.OptimizerUpdateKernel);
        Load(out _augmentImages, AugmentKernels.AugmentImagesKernel);
    }

    /// <summary>
    /// Compiles <paramref name="kernel"/> for this accelerator into <paramref name="launcher"/>. The launcher's
    /// type, written once in the field's declaration, says how: (stream, KernelConfig, arguments) for an
    /// explicitly grouped kernel, (stream, index, arguments) for an auto-grouped one.
    /// </summary>
    private void Load<TLauncher>(out TLauncher launcher, Delegate kernel) where TLauncher : Delegate =>
        launcher = typeof(TLauncher).GetGenericArguments()[1] == typeof(KernelConfig)
            ? _accelerator.LoadKernel<TLauncher>(kernel.Method)
            : _accelerator.LoadAutoGroupedKernel<TLauncher>(kernel.Method);

    /// <summary>The device, e.g. "NVIDIA H100 80GB HBM3 (CUDA, SM 9.0)" or "ILGPU CPU accelerator".</summary>
    public string Name { get; }

    /// <summary><see cref="DeviceKind.Cuda"/> or <see cref="DeviceKind.IlgpuCpu"/>.</summary>
    public DeviceKind Kind { get; }

    /// <summary>The accelerator's memory (ILGPU's CPU accelerator: the process's, as the CPU backend).</summary>
    public long MemoryBytes => Kind == DeviceKind.Cuda ? _accelerator.MemorySize : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>The underlying ILGPU accelerator (for benchmarks and diagnostics).</summary>
    public Accelerator Accelerator => _accelerator;

    public void Synchronize()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _stream.Synchronize();
        _stagingUsed = 0;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _dummy.Dispose();
        _dummyInt.Dispose();
        _rowLoss.Dispose();
        if (_staging is not null)
        {
            _stream.Synchronize(); // no queued copy may read the staging memory once it is freed
            _staging.Dispose();
        }
        _accelerator.Dispose();
        _context.Dispose();
    }

    public override string ToString() => Name;

    /// <summary>The device view of <paramref name="buffer"/>, which must have been allocated by this backend.</summary>
    private ArrayView1D<T, Stride1D.Dense> View<T>(DeviceBuffer<T> buffer, string name) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer is IlgpuBuffer<T> ilgpu && ReferenceEquals(ilgpu.Backend, this))
            return ilgpu.View;
        throw new ArgumentException(
            $"Buffer '{name}' lives on {buffer.Backend.Name}, not on this ILGPU backend ({Name}). Allocate it with the backend that uses it.", name);
    }

    private static void Require<T>(DeviceBuffer<T> buffer, long needed, string name) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer.Length < needed)
            throw new ArgumentException($"Buffer '{name}' has {buffer.Length} elements; this operation needs at least {needed}.", name);
    }

    private static void RequireNonNegative(int rows, int cols, string what)
    {
        if (rows < 0 || cols < 0)
            throw new ArgumentOutOfRangeException(nameof(rows), $"{what} dimensions must be non-negative; got rows={rows}, cols={cols}.");
    }

    /// <summary>A launch configuration for the row kernels (one warp per row).</summary>
    private KernelConfig RowConfig(int rows) =>
        new(SoftmaxKernels.GroupCount(rows, _accelerator.WarpSize), SoftmaxKernels.GroupSize);
}

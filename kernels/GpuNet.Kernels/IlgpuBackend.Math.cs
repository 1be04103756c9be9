using GpuNet.Backends;
using ILGPU;

namespace GpuNet.Kernels;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>Runs <see cref="GemmKernels.GemmTiledKernel"/>, or the register-tiled kernels when <see cref="GemmKernel"/> says so,
    /// or the TF32 tensor-core kernels when <see cref="AllowTf32"/> is set.</remarks>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer<float> a, DeviceBuffer<float> b, float beta, DeviceBuffer<float> c)
    {
        var (va, vb, vc) = GemmViews(m, n, k, a, b, c);
        if (m == 0 || n == 0) return;
        if (AllowTf32) { LaunchTf32(SelectGemmTile(m, n), transA, transB, m, n, k, alpha, va, vb, beta, vc); return; }
        if (_gemmKernel == GemmKernelChoice.RegisterTiled)
        {
            LaunchRegisterTiled(SelectGemmTile(m, n), transA, transB, m, n, k, alpha, va, vb, beta, vc);
            return;
        }
        _gemmTiled(_stream, new KernelConfig(GemmKernels.TiledGroupCount(m, n), GemmKernels.GroupSize),
            transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, va, vb, beta, vc);
    }

    /// <summary>
    /// The same contract as <see cref="Gemm"/> through <see cref="GemmKernels.GemmNaiveKernel"/>, one
    /// thread per element of C: the reference the tiled kernel is tested and benchmarked against.
    /// </summary>
    public void GemmNaive(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer<float> a, DeviceBuffer<float> b, float beta, DeviceBuffer<float> c)
    {
        var (va, vb, vc) = GemmViews(m, n, k, a, b, c);
        if (m == 0 || n == 0) return;
        _gemmNaive(_stream, new Index2D(n, m), transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, va, vb, beta, vc);
    }

    private (FloatView A, FloatView B, FloatView C) GemmViews(int m, int n, int k,
        DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> c)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"GEMM dimensions must be non-negative; got M={m}, N={n}, K={k}.");
        Require(a, (long)m * k, nameof(a));
        Require(b, (long)k * n, nameof(b));
        Require(c, (long)m * n, nameof(c));
        return (View(a, nameof(a)), View(b, nameof(b)), View(c, nameof(c)));
    }

    public void BiasAdd(DeviceBuffer<float> x, DeviceBuffer<float> bias, int rows, int cols)
    {
        RequireNonNegative(rows, cols, "BiasAdd");
        Require(x, (long)rows * cols, nameof(x));
        Require(bias, cols, nameof(bias));
        var vx = View(x, nameof(x)); var vbias = View(bias, nameof(bias));
        if (rows > 0 && cols > 0) _biasAdd(_stream, rows * cols, vx, vbias, cols);
    }

    public void ColumnSum(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> result, bool accumulate)
    {
        RequireNonNegative(rows, cols, "ColumnSum");
        Require(x, (long)rows * cols, nameof(x));
        Require(result, cols, nameof(result));
        var vx = View(x, nameof(x)); var vr = View(result, nameof(result));
        if (cols > 0) _columnSum(_stream, cols, vx, rows, cols, vr, accumulate ? 1 : 0);
    }

    public void Activation(ActivationKind kind, float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y, int count)
    {
        ActivationMath.RequireKnown(kind);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(x, count, nameof(x));
        Require(y, count, nameof(y));
        var vx = View(x, nameof(x)); var vy = View(y, nameof(y));
        if (count > 0) _activation(_stream, count, vx, vy, (int)kind, alpha);
    }

    public void ActivationBackward(ActivationKind kind, float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y,
        DeviceBuffer<float> gradOutput, DeviceBuffer<float> gradInput, int count, bool accumulate)
    {
        if (kind == ActivationKind.Step) throw ActivationMath.StepHasNoGradient();
        ActivationMath.RequireKnown(kind);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(x, count, nameof(x)); Require(y, count, nameof(y));
        Require(gradOutput, count, nameof(gradOutput)); Require(gradInput, count, nameof(gradInput));
        var vx = View(x, nameof(x)); var vy = View(y, nameof(y));
        var vdy = View(gradOutput, nameof(gradOutput)); var vdx = View(gradInput, nameof(gradInput));
        if (count > 0) _activationBackward(_stream, count, vx, vy, vdy, vdx, (int)kind, alpha, accumulate ? 1 : 0);
    }

    /// <inheritdoc/>
    /// <remarks>The Sgd rule of <see cref="OptimizerUpdate"/>: one kernel and one formula for every plain step.</remarks>
    public void SgdUpdate(DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, DeviceBuffer<int> stepValues, int rateIndex) =>
        OptimizerUpdate(new OptimizerStep { Kind = OptimizerKind.Sgd }, stepValues, rateIndex, parameters, gradients, null, null, count);

    public void SgdUpdate(DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, float learningRate) =>
        Update(new OptimizerStep { Kind = OptimizerKind.Sgd, LearningRate = learningRate }, _dummyInt.View, -1, parameters, gradients, null, null, count);

    public void RandomUniform(DeviceBuffer<float> buffer, float low, float high, ulong seed, uint stream)
    {
        var view = View(buffer, nameof(buffer));
        if (buffer.Length > 0) _randomUniform(_stream, buffer.Length, view, low, high - low, seed, stream);
    }

    public void RandomNormal(DeviceBuffer<float> buffer, float mean, float stddev, ulong seed, uint stream)
    {
        var view = View(buffer, nameof(buffer));
        if (buffer.Length > 0) _randomNormal(_stream, buffer.Length, view, mean, stddev, seed, stream);
    }
}

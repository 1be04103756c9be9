using GpuNet.Backends;
using ILGPU;

namespace GpuNet.Kernels;

// The layer operations of IBackend.Layers.cs, launching LayerKernels.cs.
public sealed partial class IlgpuBackend
{
    public void Multiply(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> result, int count, bool accumulate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(a, count, nameof(a)); Require(b, count, nameof(b)); Require(result, count, nameof(result));
        var va = View(a, nameof(a)); var vb = View(b, nameof(b)); var vr = View(result, nameof(result));
        if (count > 0) _multiply(_stream, count, va, vb, vr, accumulate ? 1 : 0);
    }

    public void Unary(UnaryOp op, DeviceBuffer<float> x, DeviceBuffer<float> y, int count)
    {
        UnaryMath.RequireKnown(op);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(x, count, nameof(x)); Require(y, count, nameof(y));
        var vx = View(x, nameof(x)); var vy = View(y, nameof(y));
        if (count > 0) _unary(_stream, count, vx, vy, (int)op);
    }

    public void Scale(DeviceBuffer<float> buffer, int count, float factor)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(buffer, count, nameof(buffer));
        var view = View(buffer, nameof(buffer));
        if (count > 0) _scale(_stream, count, view, factor);
    }

    public void ColumnAffine(DeviceBuffer<float> x, DeviceBuffer<float> scale, DeviceBuffer<float>? shift, DeviceBuffer<float> y,
        int rows, int cols, bool accumulate)
    {
        RequireNonNegative(rows, cols, "ColumnAffine");
        long n = (long)rows * cols;
        Require(x, n, nameof(x)); Require(y, n, nameof(y)); Require(scale, cols, nameof(scale));
        var vx = View(x, nameof(x)); var vs = View(scale, nameof(scale)); var vy = View(y, nameof(y));
        var (vshift, hasShift) = Optional(shift, cols, nameof(shift));
        if (n > 0) _columnAffine(_stream, (int)n, vx, vs, vshift, hasShift, vy, cols, accumulate ? 1 : 0);
    }

    public void Dropout(DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> mask, int count, float rate, ulong seed, uint purpose,
        DeviceBuffer<int> stepValues, int stepIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(x, count, nameof(x)); Require(y, count, nameof(y)); Require(mask, count, nameof(mask));
        StepValueMath.Require(stepValues, stepIndex, 2, nameof(stepValues));
        var vx = View(x, nameof(x)); var vy = View(y, nameof(y)); var vm = View(mask, nameof(mask));
        var vs = View(stepValues, nameof(stepValues));
        float keepScale = 1f / (1f - rate); // on the host, as the CPU backend computes it: the same float
        if (count > 0) _dropout(_stream, count, vx, vy, vm, rate, keepScale, seed, purpose, vs, stepIndex);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// <see cref="LayerKernels.L1L2PartialKernel"/> writes one partial sum per group (at most two groups per
    /// multiprocessor) into the loss scratch, then <see cref="ReductionKernels.SumIntoKernel"/> adds them to
    /// lossSum[0]: deterministic on a given device, no float atomics.
    /// </remarks>
    public void L1L2Penalty(DeviceBuffer<float> parameters, int count, float l1, float l2, DeviceBuffer<float> lossSum)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(parameters, count, nameof(parameters)); Require(lossSum, 1, nameof(lossSum));
        var vw = View(parameters, nameof(parameters)); var vloss = View(lossSum, nameof(lossSum));
        if (count == 0) return;
        int groups = LayerKernels.PenaltyGroups(count, 2 * _accelerator.NumMultiprocessors);
        var partials = RowLossScratch(groups);
        _l1l2Partial(_stream, new KernelConfig(groups, LayerKernels.GroupSize), vw, count, l1, l2, partials);
        _sumInto(_stream, new KernelConfig(1, ReductionKernels.GroupSize), partials, groups, vloss);
    }

    public void L1L2Gradient(DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, float l1, float l2)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(parameters, count, nameof(parameters)); Require(gradients, count, nameof(gradients));
        var vw = View(parameters, nameof(parameters)); var vg = View(gradients, nameof(gradients));
        if (count > 0) _l1l2Gradient(_stream, count, vw, vg, l1, l2);
    }

    public void ClipByValue(DeviceBuffer<float> x, int count, float limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(x, count, nameof(x));
        var vx = View(x, nameof(x));
        if (count > 0) _clipByValue(_stream, count, vx, limit);
    }

    public void ScaleToMaxNorm(DeviceBuffer<float> x, int count, DeviceBuffer<float> sumSquares, float maxNorm)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(x, count, nameof(x)); Require(sumSquares, 1, nameof(sumSquares));
        var vx = View(x, nameof(x)); var vs = View(sumSquares, nameof(sumSquares));
        if (count > 0) _scaleToMaxNorm(_stream, count, vx, vs, maxNorm);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One launch of <see cref="LayerKernels.BatchNormTrainingKernel"/>: a group per 32 columns reduces over the rows
    /// (with row weights too: the kernel reads them).
    /// </remarks>
    public void BatchNormTraining(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> gamma, DeviceBuffer<float> beta,
        DeviceBuffer<float> y, DeviceBuffer<float> savedMean, DeviceBuffer<float> savedInvStd,
        DeviceBuffer<float> runningMean, DeviceBuffer<float> runningVariance, float momentum, float epsilon,
        DeviceBuffer<float>? rowWeights = null)
    {
        RequireNonNegative(rows, cols, "BatchNormTraining");
        long n = (long)rows * cols;
        Require(x, n, nameof(x)); Require(y, n, nameof(y));
        var vx = View(x, nameof(x)); var vy = View(y, nameof(y));
        var vgamma = ColumnView(gamma, cols, nameof(gamma)); var vbeta = ColumnView(beta, cols, nameof(beta));
        var vmean = ColumnView(savedMean, cols, nameof(savedMean)); var vinv = ColumnView(savedInvStd, cols, nameof(savedInvStd));
        var vrm = ColumnView(runningMean, cols, nameof(runningMean)); var vrv = ColumnView(runningVariance, cols, nameof(runningVariance));
        var (vw, weighted) = RowWeightsView(rowWeights, rows);
        if (cols > 0)
            _batchNormTraining(_stream, new KernelConfig(LayerKernels.ColumnTileGroups(cols), LayerKernels.GroupSize),
                vx, rows, cols, vgamma, vbeta, vy, vmean, vinv, vrm, vrv, momentum, epsilon, vw, weighted);
    }

    public void BatchNormInference(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> gamma, DeviceBuffer<float> beta,
        DeviceBuffer<float> runningMean, DeviceBuffer<float> runningVariance, float epsilon, DeviceBuffer<float> y)
    {
        RequireNonNegative(rows, cols, "BatchNormInference");
        long n = (long)rows * cols;
        Require(x, n, nameof(x)); Require(y, n, nameof(y));
        var vx = View(x, nameof(x)); var vy = View(y, nameof(y));
        var vgamma = ColumnView(gamma, cols, nameof(gamma)); var vbeta = ColumnView(beta, cols, nameof(beta));
        var vrm = ColumnView(runningMean, cols, nameof(runningMean)); var vrv = ColumnView(runningVariance, cols, nameof(runningVariance));
        if (n > 0) _batchNormInference(_stream, (int)n, vx, cols, vgamma, vbeta, vrm, vrv, epsilon, vy);
    }

    /// <inheritdoc/>
    /// <remarks>One launch of <see cref="LayerKernels.BatchNormBackwardKernel"/>: column sums and dx together.</remarks>
    public void BatchNormBackward(DeviceBuffer<float> x, DeviceBuffer<float> gradOutput, int rows, int cols, DeviceBuffer<float> gamma,
        DeviceBuffer<float> savedMean, DeviceBuffer<float> savedInvStd, DeviceBuffer<float>? gradInput,
        DeviceBuffer<float> gradGamma, DeviceBuffer<float> gradBeta, bool accumulateInput, bool accumulateParameters,
        DeviceBuffer<float>? rowWeights = null)
    {
        RequireNonNegative(rows, cols, "BatchNormBackward");
        long n = (long)rows * cols;
        Require(x, n, nameof(x)); Require(gradOutput, n, nameof(gradOutput));
        var vx = View(x, nameof(x)); var vdy = View(gradOutput, nameof(gradOutput));
        var vgamma = ColumnView(gamma, cols, nameof(gamma));
        var vmean = ColumnView(savedMean, cols, nameof(savedMean)); var vinv = ColumnView(savedInvStd, cols, nameof(savedInvStd));
        var vdgamma = ColumnView(gradGamma, cols, nameof(gradGamma)); var vdbeta = ColumnView(gradBeta, cols, nameof(gradBeta));
        var (vdx, writeInput) = Optional(gradInput, n, nameof(gradInput));
        var (vw, weighted) = RowWeightsView(rowWeights, rows);
        int inputMode = writeInput == 0 ? LayerKernels.InputNone : accumulateInput ? LayerKernels.InputAdd : LayerKernels.InputWrite;
        if (cols > 0)
            _batchNormBackward(_stream, new KernelConfig(LayerKernels.ColumnTileGroups(cols), LayerKernels.GroupSize),
                vx, vdy, rows, cols, vgamma, vmean, vinv, vdx, inputMode, vdgamma, vdbeta, accumulateParameters ? 1 : 0, vw, weighted);
    }

    public void Maxout(DeviceBuffer<float> x, int rows, int units, int pieces, DeviceBuffer<float> y, DeviceBuffer<int> argMax)
    {
        long outputs = MaxoutShape(rows, units, pieces);
        Require(x, outputs * pieces, nameof(x)); Require(y, outputs, nameof(y)); Require(argMax, outputs, nameof(argMax));
        var vx = View(x, nameof(x)); var vy = View(y, nameof(y)); var va = View(argMax, nameof(argMax));
        if (outputs > 0) _maxout(_stream, (int)outputs, vx, pieces, vy, va);
    }

    public void MaxoutBackward(DeviceBuffer<float> gradOutput, DeviceBuffer<int> argMax, int rows, int units, int pieces,
        DeviceBuffer<float> gradInput, bool accumulate)
    {
        long outputs = MaxoutShape(rows, units, pieces);
        Require(gradOutput, outputs, nameof(gradOutput)); Require(argMax, outputs, nameof(argMax));
        Require(gradInput, outputs * pieces, nameof(gradInput));
        var vdy = View(gradOutput, nameof(gradOutput)); var va = View(argMax, nameof(argMax)); var vdx = View(gradInput, nameof(gradInput));
        if (outputs > 0) _maxoutBackward(_stream, (int)(outputs * pieces), vdy, va, pieces, vdx, accumulate ? 1 : 0);
    }

    /// <summary>R x units, after checking the maxout shape (pieces >= 1: a unit needs at least one piece to take the max of).</summary>
    private static long MaxoutShape(int rows, int units, int pieces)
    {
        RequireNonNegative(rows, units, "Maxout");
        if (pieces < 1)
            throw new ArgumentOutOfRangeException(nameof(pieces), pieces, "Maxout needs at least one piece per unit.");
        return (long)rows * units;
    }

    /// <summary>The view of a per-column vector of at least <paramref name="cols"/> elements.</summary>
    private FloatView ColumnView(DeviceBuffer<float> buffer, int cols, string name)
    {
        Require(buffer, cols, name);
        return View(buffer, name);
    }
}

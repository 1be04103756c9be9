using GpuNet.Backends;
using ILGPU;

namespace GpuNet.Kernels;

// The losses of IBackend.Layers.cs (LossKernels.cs) and the softmax backward pass (SoftmaxKernels.cs).
// Each loss writes per-row or per-element losses into the loss scratch and ReductionKernels.SumIntoKernel
// adds them to lossSum[0]: two launches, a deterministic sum, no float atomics. Row weights (see IBackend.Fused.cs)
// are read by the same kernels, passed as a view and a flag (a one-element dummy and 0 without them): a weighted
// call launches exactly what an unweighted one does.
public sealed partial class IlgpuBackend
{
    public void SoftmaxCrossEntropyDense(DeviceBuffer<float> logits, DeviceBuffer<float> targets, int rows, int cols,
        DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null)
    {
        RequireNonNegative(rows, cols, "SoftmaxCrossEntropyDense");
        long n = (long)rows * cols;
        Require(logits, n, nameof(logits)); Require(targets, n, nameof(targets)); Require(lossSum, 1, nameof(lossSum));
        var vx = View(logits, nameof(logits)); var vt = View(targets, nameof(targets)); var vloss = View(lossSum, nameof(lossSum));
        var (vp, writeP) = Optional(probabilities, n, nameof(probabilities));
        var (vg, writeG) = Optional(gradLogits, n, nameof(gradLogits));
        var (vw, weighted) = RowWeightsView(rowWeights, rows);
        if (rows == 0 || cols == 0) return;
        var rowLoss = RowLossScratch(rows);
        _softmaxCrossEntropyDense(_stream, RowConfig(rows), vx, vt, rows, cols, vp, writeP, vg, writeG, gradScale, rowLoss, vw, weighted);
        _sumInto(_stream, new KernelConfig(1, ReductionKernels.GroupSize), rowLoss, rows, vloss);
    }

    public void SigmoidCrossEntropy(DeviceBuffer<float> logits, DeviceBuffer<float> targets, int count,
        DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1)
    {
        var (vx, vt, vloss) = LossViews(logits, targets, count, lossSum, nameof(logits));
        var (vp, writeP) = Optional(probabilities, count, nameof(probabilities));
        var (vg, writeG) = Optional(gradLogits, count, nameof(gradLogits));
        var (vw, weighted, weightRows) = ElementRowWeightsView(rowWeights, count, width);
        if (count == 0) return;
        var elementLoss = RowLossScratch(count);
        _sigmoidCrossEntropy(_stream, count, vx, vt, vp, writeP, vg, writeG, gradScale, elementLoss, vw, weighted, weightRows, width);
        _sumInto(_stream, new KernelConfig(1, ReductionKernels.GroupSize), elementLoss, count, vloss);
    }

    public void CrossEntropyFromProbabilities(DeviceBuffer<float> probabilities, DeviceBuffer<float> targets, int count, float epsilon,
        DeviceBuffer<float>? gradProbabilities, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1)
    {
        var (vp, vt, vloss) = LossViews(probabilities, targets, count, lossSum, nameof(probabilities));
        var (vg, writeG) = Optional(gradProbabilities, count, nameof(gradProbabilities));
        var (vw, weighted, weightRows) = ElementRowWeightsView(rowWeights, count, width);
        if (count == 0) return;
        var elementLoss = RowLossScratch(count);
        _crossEntropyFromProbabilities(_stream, count, vp, vt, epsilon, vg, writeG, gradScale, elementLoss, vw, weighted, weightRows, width);
        _sumInto(_stream, new KernelConfig(1, ReductionKernels.GroupSize), elementLoss, count, vloss);
    }

    public void BinaryCrossEntropyFromProbabilities(DeviceBuffer<float> probabilities, DeviceBuffer<float> targets, int count, float epsilon,
        DeviceBuffer<float>? gradProbabilities, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1)
    {
        var (vp, vt, vloss) = LossViews(probabilities, targets, count, lossSum, nameof(probabilities));
        var (vg, writeG) = Optional(gradProbabilities, count, nameof(gradProbabilities));
        var (vw, weighted, weightRows) = ElementRowWeightsView(rowWeights, count, width);
        if (count == 0) return;
        var elementLoss = RowLossScratch(count);
        _binaryCrossEntropyFromProbabilities(_stream, count, vp, vt, epsilon, vg, writeG, gradScale, elementLoss, vw, weighted, weightRows, width);
        _sumInto(_stream, new KernelConfig(1, ReductionKernels.GroupSize), elementLoss, count, vloss);
    }

    public void MeanSquaredError(DeviceBuffer<float> predictions, DeviceBuffer<float> targets, int count,
        DeviceBuffer<float>? gradPredictions, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1)
    {
        var (vp, vt, vloss) = LossViews(predictions, targets, count, lossSum, nameof(predictions));
        var (vg, writeG) = Optional(gradPredictions, count, nameof(gradPredictions));
        var (vw, weighted, weightRows) = ElementRowWeightsView(rowWeights, count, width);
        if (count == 0) return;
        var elementLoss = RowLossScratch(count);
        _squaredError(_stream, count, vp, vt, vg, writeG, gradScale, elementLoss, vw, weighted, weightRows, width);
        _sumInto(_stream, new KernelConfig(1, ReductionKernels.GroupSize), elementLoss, count, vloss);
    }

    public void CountCorrectBinary(DeviceBuffer<float> scores, DeviceBuffer<int> labels, int rows, float threshold, DeviceBuffer<int> correct,
        DeviceBuffer<float>? rowWeights = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        Require(scores, rows, nameof(scores)); Require(labels, rows, nameof(labels)); Require(correct, 1, nameof(correct));
        var vs = View(scores, nameof(scores)); var vl = View(labels, nameof(labels)); var vc = View(correct, nameof(correct));
        var (vw, weighted) = RowWeightsView(rowWeights, rows);
        if (rows > 0)
            _countCorrectBinary(_stream, new KernelConfig(LossKernels.CountGroups(rows), SoftmaxKernels.GroupSize), vs, vl, rows, threshold, vc,
                vw, weighted);
    }

    public void CountCorrectMultiLabel(DeviceBuffer<float> scores, DeviceBuffer<float> targets, int count, float threshold, DeviceBuffer<int> correct,
        DeviceBuffer<float>? rowWeights = null, int width = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(scores, count, nameof(scores)); Require(targets, count, nameof(targets)); Require(correct, 1, nameof(correct));
        var vs = View(scores, nameof(scores)); var vt = View(targets, nameof(targets)); var vc = View(correct, nameof(correct));
        var (vw, weighted, _) = ElementRowWeightsView(rowWeights, count, width);
        if (count > 0)
            _countCorrectMultiLabel(_stream, new KernelConfig(LossKernels.CountGroups(count), SoftmaxKernels.GroupSize), vs, vt, count, threshold, vc,
                vw, weighted, width);
    }

    public void SoftmaxBackward(DeviceBuffer<float> y, DeviceBuffer<float> gradOutput, DeviceBuffer<float> gradInput, int rows, int cols, bool accumulate)
    {
        RequireNonNegative(rows, cols, "SoftmaxBackward");
        long n = (long)rows * cols;
        Require(y, n, nameof(y)); Require(gradOutput, n, nameof(gradOutput)); Require(gradInput, n, nameof(gradInput));
        var vy = View(y, nameof(y)); var vdy = View(gradOutput, nameof(gradOutput)); var vdx = View(gradInput, nameof(gradInput));
        if (rows > 0 && cols > 0) _softmaxBackward(_stream, RowConfig(rows), vy, vdy, vdx, rows, cols, accumulate ? 1 : 0);
    }

    /// <summary>Validates an element-wise loss's inputs (count, both inputs, the one-element loss sum) and returns their views.</summary>
    private (FloatView Input, FloatView Targets, FloatView LossSum) LossViews(DeviceBuffer<float> input, DeviceBuffer<float> targets,
        int count, DeviceBuffer<float> lossSum, string inputName)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(input, count, inputName); Require(targets, count, nameof(targets)); Require(lossSum, 1, nameof(lossSum));
        return (View(input, inputName), View(targets, nameof(targets)), View(lossSum, nameof(lossSum)));
    }

    /// <summary>
    /// The view of optional row weights for <paramref name="rows"/> rows (2 x R values, checked by <see cref="RowWeights.Require"/>)
    /// and the kernel flag that says whether there are any: without them, the one-element dummy with flag 0.
    /// </summary>
    private (FloatView View, int Present) RowWeightsView(DeviceBuffer<float>? rowWeights, int rows)
    {
        RowWeights.Require(rowWeights, rows);
        return Optional(rowWeights, 2L * rows, nameof(rowWeights));
    }

    /// <summary>
    /// <see cref="RowWeightsView"/> for an element-wise operation over <paramref name="count"/> elements, <paramref name="width"/>
    /// to a row (checked by <see cref="RowWeights.RowsOf"/>), with its row count R = count / width (0 without row weights).
    /// </summary>
    private (FloatView View, int Present, int Rows) ElementRowWeightsView(DeviceBuffer<float>? rowWeights, int count, int width)
    {
        int rows = RowWeights.RowsOf(rowWeights, count, width);
        var (view, present) = RowWeightsView(rowWeights, rows);
        return (view, present, rows);
    }

    /// <summary>
    /// The view of an optional output and the kernel flag that says whether to write it: an absent
    /// buffer is the one-element dummy with flag 0 (the kernel never touches it).
    /// </summary>
    private (FloatView View, int Present) Optional(DeviceBuffer<float>? buffer, long needed, string name)
    {
        if (buffer is null) return (_dummy.View, 0);
        Require(buffer, needed, name);
        return (View(buffer, name), 1);
    }
}

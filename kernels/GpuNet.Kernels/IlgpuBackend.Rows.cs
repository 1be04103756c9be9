using GpuNet.Backends;
using ILGPU;

namespace GpuNet.Kernels;

public sealed partial class IlgpuBackend
{
    public void Softmax(DeviceBuffer<float> x, DeviceBuffer<float> y, int rows, int cols)
    {
        RequireNonNegative(rows, cols, "Softmax");
        Require(x, (long)rows * cols, nameof(x)); Require(y, (long)rows * cols, nameof(y));
        var vx = View(x, nameof(x)); var vy = View(y, nameof(y));
        if (rows > 0 && cols > 0) _softmax(_stream, RowConfig(rows), vx, vy, rows, cols);
    }

    public void SoftmaxCrossEntropy(DeviceBuffer<float> logits, DeviceBuffer<int> labels, int rows, int cols,
        DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null)
    {
        RequireNonNegative(rows, cols, "SoftmaxCrossEntropy");
        Require(logits, (long)rows * cols, nameof(logits));
        Require(labels, rows, nameof(labels));
        Require(lossSum, 1, nameof(lossSum));
        if (probabilities is not null) Require(probabilities, (long)rows * cols, nameof(probabilities));
        if (gradLogits is not null) Require(gradLogits, (long)rows * cols, nameof(gradLogits));
        var vx = View(logits, nameof(logits));
        var vl = View(labels, nameof(labels));
        var vp = probabilities is null ? _dummy.View : View(probabilities, nameof(probabilities));
        var vg = gradLogits is null ? _dummy.View : View(gradLogits, nameof(gradLogits));
        var vloss = View(lossSum, nameof(lossSum));
        var (vw, weighted) = RowWeightsView(rowWeights, rows);
        if (rows == 0 || cols == 0) return;
        var rowLoss = RowLossScratch(rows);
        _softmaxCrossEntropy(_stream, RowConfig(rows), vx, vl, rows, cols,
            vp, probabilities is null ? 0 : 1, vg, gradLogits is null ? 0 : 1, gradScale, rowLoss, vw, weighted);
        _sumInto(_stream, new KernelConfig(1, ReductionKernels.GroupSize), rowLoss, rows, vloss);
    }

    /// <summary>
    /// The per-row loss scratch, grown (rarely: only when a batch is larger than any before) to hold
    /// <paramref name="rows"/> values. Per-row losses summed in a fixed order make the loss deterministic.
    /// </summary>
    private FloatView RowLossScratch(int rows)
    {
        if (_rowLoss.Length < rows)
        {
            _stream.Synchronize(); // queued kernels may still read the old scratch
            _rowLoss.Dispose();
            _rowLoss = _accelerator.Allocate1D<float>(Math.Max(rows, 2 * _rowLoss.Length));
        }
        return _rowLoss.View.SubView(0, rows);
    }

    public void CountCorrect(DeviceBuffer<float> scores, DeviceBuffer<int> labels, int rows, int cols, DeviceBuffer<int> correct,
        DeviceBuffer<float>? rowWeights = null)
    {
        RequireNonNegative(rows, cols, "CountCorrect");
        Require(scores, (long)rows * cols, nameof(scores)); Require(labels, rows, nameof(labels)); Require(correct, 1, nameof(correct));
        var vs = View(scores, nameof(scores)); var vl = View(labels, nameof(labels)); var vc = View(correct, nameof(correct));
        var (vw, weighted) = RowWeightsView(rowWeights, rows);
        if (rows > 0 && cols > 0) _countCorrect(_stream, RowConfig(rows), vs, vl, rows, cols, vc, vw, weighted);
    }

    public void ArgMax(DeviceBuffer<float> scores, int rows, int cols, DeviceBuffer<int> result)
    {
        RequireNonNegative(rows, cols, "ArgMax");
        Require(scores, (long)rows * cols, nameof(scores)); Require(result, rows, nameof(result));
        var vs = View(scores, nameof(scores)); var vr = View(result, nameof(result));
        if (rows > 0 && cols > 0) _argMax(_stream, RowConfig(rows), vs, rows, cols, vr);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Indices are not checked on the host (that would need a synchronization): a row index outside the
    /// source fills its destination row with NaN.
    /// </remarks>
    public void GatherRows(DeviceBuffer<float> source, DeviceBuffer<int> indices, int indexOffset, int count, int cols,
        DeviceBuffer<float> destination)
    {
        RequireNonNegative(count, cols, "GatherRows");
        ArgumentOutOfRangeException.ThrowIfNegative(indexOffset);
        Require(indices, (long)indexOffset + count, nameof(indices));
        Require(destination, (long)count * cols, nameof(destination));
        var vs = View(source, nameof(source)); var vi = View(indices, nameof(indices)); var vd = View(destination, nameof(destination));
        int sourceRows = source.Length / Math.Max(cols, 1);
        if (count > 0 && cols > 0) _gatherRows(_stream, count * cols, vs, vi, indexOffset, cols, sourceRows, vd);
    }

    public void CopyColumns(DeviceBuffer<float> x, int xCols, int xOffset, DeviceBuffer<float> y, int yCols, int yOffset, int rows, int cols, bool accumulate)
    {
        ColumnBlock.Check(xCols, xOffset, yCols, yOffset, rows, cols);
        if (rows == 0 || cols == 0) return;
        Require(x, (long)(rows - 1) * xCols + xOffset + cols, nameof(x));
        Require(y, (long)(rows - 1) * yCols + yOffset + cols, nameof(y));
        _copyColumns(_stream, rows * cols, View(x, nameof(x)), xCols, xOffset, View(y, nameof(y)), yCols, yOffset, cols, accumulate ? 1 : 0);
    }

    /// <inheritdoc/>
    /// <remarks>An index outside the source writes -1 (no host check inside a step; the loss then reports NaN).</remarks>
    public void Gather(DeviceBuffer<int> source, DeviceBuffer<int> indices, int indexOffset, int count, DeviceBuffer<int> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(indexOffset);
        Require(indices, (long)indexOffset + count, nameof(indices));
        Require(destination, count, nameof(destination));
        var vs = View(source, nameof(source)); var vi = View(indices, nameof(indices)); var vd = View(destination, nameof(destination));
        if (count > 0) _gather(_stream, count, vs, vi, indexOffset, source.Length, vd);
    }
}

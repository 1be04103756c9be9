using System.Numerics.Tensors;
using GpuNet.Backends.Cpu;

namespace GpuNet.Backends;

public sealed partial class CpuBackend
{
    public void SoftmaxCrossEntropy(DeviceBuffer<float> logits, DeviceBuffer<int> labels, int rows, int cols,
        DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null)
    {
        RowWeights.Require(rowWeights, rows);
        Require(logits, (long)rows * cols, nameof(logits));
        Require(labels, rows, nameof(labels));
        Require(lossSum, 1, nameof(lossSum));
        if (probabilities is not null) Require(probabilities, (long)rows * cols, nameof(probabilities));
        if (gradLogits is not null) Require(gradLogits, (long)rows * cols, nameof(gradLogits));
        var cx = Cpu(logits, nameof(logits));
        var cl = Cpu(labels, nameof(labels));
        var cp = probabilities is null ? null : Cpu(probabilities, nameof(probabilities));
        var cg = gradLogits is null ? null : Cpu(gradLogits, nameof(gradLogits));
        var closs = Cpu(lossSum, nameof(lossSum));

        // Reused scratch: per-row losses (summed in a fixed order afterwards, so the result does not
        // depend on thread timing) and, for an evaluation pass, the probabilities nobody asked to keep.
        var rowLoss = Scratch(ref _rowLossScratch, rows);
        var probScratch = cp is null && cg is null ? Scratch(ref _probScratch, rows * cols) : null;
        var cw = rowWeights is null ? null : Cpu(rowWeights, nameof(rowWeights));
        ForRows(rows, cols, new SoftmaxCrossEntropyBody(cx, cl, cp, cg, probScratch, rowLoss, cols, gradScale, cw, rows));
        double total = 0;
        for (int r = 0; r < rows; r++) total += rowLoss[r];
        closs.Array[closs.Offset] += (float)total;
    }

    private readonly record struct SoftmaxCrossEntropyBody(CpuBuffer<float> Logits, CpuBuffer<int> Labels, CpuBuffer<float>? Probabilities,
        CpuBuffer<float>? Grad, float[]? ProbScratch, float[] RowLoss, int Cols, float GradScale, CpuBuffer<float>? Weights, int Rows) : IRangeBody
    {
        public void Run(int start, int length)
        {
            int cols = Cols;
            for (int r = start; r < start + length; r++)
            {
                var x = Logits.Array.AsSpan(Logits.Offset + r * cols, cols);
                Span<float> p = Probabilities is not null ? Probabilities.Array.AsSpan(Probabilities.Offset + r * cols, cols)
                    : Grad is not null ? Grad.Array.AsSpan(Grad.Offset + r * cols, cols)
                    : ProbScratch.AsSpan(r * cols, cols);
                int label = Labels.Array[Labels.Offset + r];
                float logSum = ActivationMath.SoftmaxRow(x, p, out float max);
                // -log p[label] = log(sum exp(x - max)) - (x[label] - max): finite even where p underflows
                float loss = (uint)label < (uint)cols ? logSum - (x[label] - max) : float.NaN;
                // a weighted row adds weight x loss and takes gradScale x its gradient weight; a padding row (weight 0) nothing
                float weight = Weights is null ? 1f : Weights.Array[Weights.Offset + r];
                RowLoss[r] = Weights is null ? loss : LossMath.Weighted(loss, weight);
                if (Grad is not null)
                {
                    var g = Grad.Array.AsSpan(Grad.Offset + r * cols, cols);
                    if (weight == 0f) { g.Clear(); continue; }
                    if (!p.Overlaps(g)) p.CopyTo(g);
                    if ((uint)label < (uint)cols) g[label] -= 1f;
                    TensorPrimitives.Multiply(g, Weights is null ? GradScale : GradScale * Weights.Array[Weights.Offset + Rows + r], g);
                }
            }
        }
    }

    private float[]? _rowLossScratch, _probScratch;

    private static float[] Scratch(ref float[]? cache, int length)
    {
        if (cache is null || cache.Length < length) cache = new float[length];
        return cache;
    }

    public void CountCorrect(DeviceBuffer<float> scores, DeviceBuffer<int> labels, int rows, int cols, DeviceBuffer<int> correct,
        DeviceBuffer<float>? rowWeights = null)
    {
        Require(scores, (long)rows * cols, nameof(scores)); Require(labels, rows, nameof(labels)); Require(correct, 1, nameof(correct));
        RowWeights.Require(rowWeights, rows);
        var cs = Cpu(scores, nameof(scores)); var cl = Cpu(labels, nameof(labels)); var cc = Cpu(correct, nameof(correct));
        var w = rowWeights is null ? default : Cpu(rowWeights, nameof(rowWeights)).Span;
        int n = 0;
        for (int r = 0; r < rows; r++)
            if (TensorPrimitives.IndexOfMax(cs.Array.AsSpan(cs.Offset + r * cols, cols)) == cl.Array[cl.Offset + r] && !IsPadding(w, r, 1)) n++;
        cc.Array[cc.Offset] += n;
    }

    public void ArgMax(DeviceBuffer<float> scores, int rows, int cols, DeviceBuffer<int> result)
    {
        Require(scores, (long)rows * cols, nameof(scores)); Require(result, rows, nameof(result));
        var cs = Cpu(scores, nameof(scores)); var cr = Cpu(result, nameof(result));
        for (int r = 0; r < rows; r++)
            cr.Array[cr.Offset + r] = TensorPrimitives.IndexOfMax(cs.Array.AsSpan(cs.Offset + r * cols, cols));
    }

    public void CopyColumns(DeviceBuffer<float> x, int xCols, int xOffset, DeviceBuffer<float> y, int yCols, int yOffset, int rows, int cols, bool accumulate)
    {
        ColumnBlock.Check(xCols, xOffset, yCols, yOffset, rows, cols);
        if (rows == 0 || cols == 0) return;
        Require(x, (long)(rows - 1) * xCols + xOffset + cols, nameof(x));
        Require(y, (long)(rows - 1) * yCols + yOffset + cols, nameof(y));
        var cx = Cpu(x, nameof(x)).Span; var cy = Cpu(y, nameof(y)).Span;
        for (int r = 0; r < rows; r++)
        {
            var from = cx.Slice(r * xCols + xOffset, cols);
            var to = cy.Slice(r * yCols + yOffset, cols);
            if (accumulate) System.Numerics.Tensors.TensorPrimitives.Add(from, to, to);
            else from.CopyTo(to);
        }
    }

    public void GatherRows(DeviceBuffer<float> source, DeviceBuffer<int> indices, int indexOffset, int count, int cols,
        DeviceBuffer<float> destination)
    {
        Require(indices, (long)indexOffset + count, nameof(indices));
        Require(destination, (long)count * cols, nameof(destination));
        var cs = Cpu(source, nameof(source)); var ci = Cpu(indices, nameof(indices)); var cd = Cpu(destination, nameof(destination));
        ForRows(count, cols, new GatherRowsBody(cs, ci, cd, indexOffset, cols, source.Length / Math.Max(cols, 1)));
    }

    private readonly record struct GatherRowsBody(CpuBuffer<float> Source, CpuBuffer<int> Indices, CpuBuffer<float> Destination,
        int IndexOffset, int Cols, int SourceRows) : IRangeBody
    {
        public void Run(int start, int length)
        {
            for (int i = start; i < start + length; i++)
            {
                int row = Indices.Array[Indices.Offset + IndexOffset + i];
                if ((uint)row >= (uint)SourceRows)
                    throw new ArgumentOutOfRangeException("indices", row, $"Row index {row} is outside the source's {SourceRows} rows.");
                Source.Array.AsSpan(Source.Offset + row * Cols, Cols).CopyTo(Destination.Array.AsSpan(Destination.Offset + i * Cols, Cols));
            }
        }
    }

    public void Gather(DeviceBuffer<int> source, DeviceBuffer<int> indices, int indexOffset, int count, DeviceBuffer<int> destination)
    {
        Require(indices, (long)indexOffset + count, nameof(indices));
        Require(destination, count, nameof(destination));
        var cs = Cpu(source, nameof(source)); var ci = Cpu(indices, nameof(indices)); var cd = Cpu(destination, nameof(destination));
        for (int i = 0; i < count; i++)
        {
            int row = ci.Array[ci.Offset + indexOffset + i];
            if ((uint)row >= (uint)source.Length)
                throw new ArgumentOutOfRangeException(nameof(indices), row, $"Index {row} is outside the source's {source.Length} elements.");
            cd.Array[cd.Offset + i] = cs.Array[cs.Offset + row];
        }
    }

    public void SgdUpdate(DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, DeviceBuffer<int> stepValues, int rateIndex) =>
        OptimizerUpdate(new OptimizerStep { Kind = OptimizerKind.Sgd }, stepValues, rateIndex, parameters, gradients, null, null, count);

    public void SgdUpdate(DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, float learningRate)
    {
        Update(new OptimizerStep { Kind = OptimizerKind.Sgd, LearningRate = learningRate }, parameters, gradients, null, null, count);
    }

    public void RandomUniform(DeviceBuffer<float> buffer, float low, float high, ulong seed, uint stream)
    {
        var span = Cpu(buffer, nameof(buffer)).Span;
        float scale = high - low;
        for (int i = 0; i < span.Length; i++)
            span[i] = RandomMath.Uniform(i, stream, seed, low, scale);
    }

    public void RandomNormal(DeviceBuffer<float> buffer, float mean, float stddev, ulong seed, uint stream)
    {
        var span = Cpu(buffer, nameof(buffer)).Span;
        for (int i = 0; i < span.Length; i++)
            span[i] = RandomMath.Normal(Philox.ForElement(i, stream, seed), mean, stddev);
    }
}

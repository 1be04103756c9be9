using System.Numerics.Tensors;

namespace GpuNet.Backends;

public sealed partial class CpuBackend
{
    public void SoftmaxCrossEntropyDense(DeviceBuffer<float> logits, DeviceBuffer<float> targets, int rows, int cols,
        DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null)
    {
        long n = (long)rows * cols;
        Require(logits, n, nameof(logits)); Require(targets, n, nameof(targets)); Require(lossSum, 1, nameof(lossSum));
        RowWeights.Require(rowWeights, rows);
        var w = rowWeights is null ? default : Cpu(rowWeights, nameof(rowWeights)).Span;
        var x = Cpu(logits, nameof(logits)).Span; var t = Cpu(targets, nameof(targets)).Span;
        var p = probabilities is null ? Scratch(ref _probScratch, (int)n) : Cpu(probabilities, nameof(probabilities)).Span;
        var g = gradLogits is null ? default : Cpu(gradLogits, nameof(gradLogits)).Span;
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * cols, cols); var tr = t.Slice(r * cols, cols); var pr = p.Slice(r * cols, cols);
            float logSum = ActivationMath.SoftmaxRow(xr, pr, out float max);
            float tsum = 0, rowLoss = 0;
            // -sum_c t_c log p_c with log p_c = (x_c - max) - logSum: no log of an underflowed p
            for (int c = 0; c < cols; c++) { rowLoss -= tr[c] * (xr[c] - max - logSum); tsum += tr[c]; }
            total += rowWeights is null ? rowLoss : LossMath.Weighted(rowLoss, w[r]);
            if (gradLogits is not null)
            {
                float lossWeight = rowWeights is null ? 1f : w[r], scale = rowWeights is null ? gradScale : gradScale * w[rows + r];
                for (int c = 0; c < cols; c++) g[r * cols + c] = LossMath.Masked(scale * (pr[c] * tsum - tr[c]), lossWeight);
            }
        }
        Cpu(lossSum, nameof(lossSum)).Span[0] += (float)total;
    }

    public void SigmoidCrossEntropy(DeviceBuffer<float> logits, DeviceBuffer<float> targets, int count,
        DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1)
    {
        Require(logits, count, nameof(logits)); Require(targets, count, nameof(targets)); Require(lossSum, 1, nameof(lossSum));
        var x = Cpu(logits, nameof(logits)).Span; var t = Cpu(targets, nameof(targets)).Span;
        var p = probabilities is null ? default : Cpu(probabilities, nameof(probabilities)).Span;
        var g = gradLogits is null ? default : Cpu(gradLogits, nameof(gradLogits)).Span;
        int weightRows = RowWeights.RowsOf(rowWeights, count, width);
        var w = rowWeights is null ? default : Cpu(rowWeights, nameof(rowWeights)).Span;
        double total = 0;
        for (int i = 0; i < count; i++)
        {
            float xi = x[i], s = ActivationMath.Sigmoid(xi);
            total += Weigh(LossMath.SigmoidCrossEntropy(xi, t[i]), w, i, width);
            if (probabilities is not null) p[i] = s;
            if (gradLogits is not null) g[i] = IsPadding(w, i, width) ? 0f : LossMath.SigmoidCrossEntropyGradient(s, t[i], GradScale(w, weightRows, i, width, gradScale));
        }
        Cpu(lossSum, nameof(lossSum)).Span[0] += (float)total;
    }

    public void CrossEntropyFromProbabilities(DeviceBuffer<float> probabilities, DeviceBuffer<float> targets, int count, float epsilon,
        DeviceBuffer<float>? gradProbabilities, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1) =>
        ElementwiseLoss(new ProbabilityCrossEntropy(epsilon), probabilities, targets, count, gradProbabilities, gradScale, lossSum, rowWeights, width,
            nameof(probabilities), nameof(gradProbabilities));

    public void BinaryCrossEntropyFromProbabilities(DeviceBuffer<float> probabilities, DeviceBuffer<float> targets, int count, float epsilon,
        DeviceBuffer<float>? gradProbabilities, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1) =>
        ElementwiseLoss(new ProbabilityBinaryCrossEntropy(epsilon), probabilities, targets, count, gradProbabilities, gradScale, lossSum, rowWeights,
            width, nameof(probabilities), nameof(gradProbabilities));

    public void MeanSquaredError(DeviceBuffer<float> predictions, DeviceBuffer<float> targets, int count,
        DeviceBuffer<float>? gradPredictions, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1) =>
        ElementwiseLoss(new SquaredError(), predictions, targets, count, gradPredictions, gradScale, lossSum, rowWeights, width,
            nameof(predictions), nameof(gradPredictions));

    /// <summary>An element-wise loss of an input and a target: its value and its gradient times scale (LossMath's formulas).</summary>
    private interface IElementLoss
    {
        float Evaluate(float input, float target, float scale, out float gradient);
    }

    private readonly record struct ProbabilityCrossEntropy(float Epsilon) : IElementLoss
    {
        public float Evaluate(float p, float t, float scale, out float gradient)
        {
            float pc = LossMath.Clip(p, Epsilon);
            gradient = LossMath.CrossEntropyGradient(pc, t, scale);
            return LossMath.CrossEntropy(pc, t);
        }
    }

    private readonly record struct ProbabilityBinaryCrossEntropy(float Epsilon) : IElementLoss
    {
        public float Evaluate(float p, float t, float scale, out float gradient)
        {
            float pc = LossMath.Clip(p, Epsilon);
            gradient = LossMath.BinaryCrossEntropyGradient(pc, t, scale);
            return LossMath.BinaryCrossEntropy(pc, t);
        }
    }

    private readonly record struct SquaredError : IElementLoss
    {
        public float Evaluate(float p, float t, float scale, out float gradient)
        {
            float d = p - t;
            gradient = LossMath.SquaredErrorGradient(d, scale);
            return d * d;
        }
    }

    /// <summary>lossSum[0] += the (weighted) sum of the losses of the first count elements; grad = their gradients, when wanted.</summary>
    private static void ElementwiseLoss<TLoss>(TLoss loss, DeviceBuffer<float> input, DeviceBuffer<float> targets, int count,
        DeviceBuffer<float>? grad, float gradScale, DeviceBuffer<float> lossSum, DeviceBuffer<float>? rowWeights, int width,
        string inputName, string gradName) where TLoss : struct, IElementLoss
    {
        Require(input, count, inputName); Require(targets, count, nameof(targets)); Require(lossSum, 1, nameof(lossSum));
        var p = Cpu(input, inputName).Span; var t = Cpu(targets, nameof(targets)).Span;
        var g = grad is null ? default : Cpu(grad, gradName).Span;
        int weightRows = RowWeights.RowsOf(rowWeights, count, width);
        var w = rowWeights is null ? default : Cpu(rowWeights, nameof(rowWeights)).Span;
        double total = 0;
        for (int i = 0; i < count; i++)
        {
            total += Weigh(loss.Evaluate(p[i], t[i], GradScale(w, weightRows, i, width, gradScale), out float gradient), w, i, width);
            if (grad is not null) g[i] = IsPadding(w, i, width) ? 0f : gradient;
        }
        Cpu(lossSum, nameof(lossSum)).Span[0] += (float)total;
    }

    // Element i of a weighted element-wise loss is in row i / width; the weights' second row starts at weightRows. With
    // no weights (an empty span) every element counts with weight 1 and the gradient scale as given.
    private static double Weigh(float loss, ReadOnlySpan<float> w, int i, int width) => w.IsEmpty ? loss : LossMath.Weighted(loss, w[i / width]);

    private static bool IsPadding(ReadOnlySpan<float> w, int i, int width) => !w.IsEmpty && w[i / width] == 0f;

    private static float GradScale(ReadOnlySpan<float> w, int weightRows, int i, int width, float gradScale) =>
        w.IsEmpty ? gradScale : gradScale * w[weightRows + i / width];

    public void CountCorrectBinary(DeviceBuffer<float> scores, DeviceBuffer<int> labels, int rows, float threshold, DeviceBuffer<int> correct,
        DeviceBuffer<float>? rowWeights = null)
    {
        Require(scores, rows, nameof(scores)); Require(labels, rows, nameof(labels)); Require(correct, 1, nameof(correct));
        RowWeights.Require(rowWeights, rows);
        var s = Cpu(scores, nameof(scores)).Span; var l = Cpu(labels, nameof(labels)).Span;
        var w = rowWeights is null ? default : Cpu(rowWeights, nameof(rowWeights)).Span;
        int n = 0;
        for (int r = 0; r < rows; r++) if ((s[r] > threshold ? 1 : 0) == l[r] && !IsPadding(w, r, 1)) n++;
        Cpu(correct, nameof(correct)).Span[0] += n;
    }

    public void CountCorrectMultiLabel(DeviceBuffer<float> scores, DeviceBuffer<float> targets, int count, float threshold, DeviceBuffer<int> correct,
        DeviceBuffer<float>? rowWeights = null, int width = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(scores, count, nameof(scores)); Require(targets, count, nameof(targets)); Require(correct, 1, nameof(correct));
        RowWeights.RowsOf(rowWeights, count, width);
        var s = Cpu(scores, nameof(scores)).Span; var t = Cpu(targets, nameof(targets)).Span;
        var w = rowWeights is null ? default : Cpu(rowWeights, nameof(rowWeights)).Span;
        int n = 0;
        for (int i = 0; i < count; i++) if (LossMath.MultiLabelHit(s[i], t[i], threshold) && !IsPadding(w, i, width)) n++;
        Cpu(correct, nameof(correct)).Span[0] += n;
    }

    public void SoftmaxBackward(DeviceBuffer<float> y, DeviceBuffer<float> gradOutput, DeviceBuffer<float> gradInput, int rows, int cols, bool accumulate)
    {
        long n = (long)rows * cols;
        Require(y, n, nameof(y)); Require(gradOutput, n, nameof(gradOutput)); Require(gradInput, n, nameof(gradInput));
        ForRows(rows, cols, new SoftmaxBackwardBody(Cpu(y, nameof(y)), Cpu(gradOutput, nameof(gradOutput)), Cpu(gradInput, nameof(gradInput)), cols, accumulate));
    }

    private readonly record struct SoftmaxBackwardBody(Cpu.CpuBuffer<float> Y, Cpu.CpuBuffer<float> GradOutput, Cpu.CpuBuffer<float> GradInput,
        int Cols, bool Accumulate) : IRangeBody
    {
        public void Run(int start, int length)
        {
            int cols = Cols;
            for (int r = start; r < start + length; r++)
            {
                var yr = Y.Array.AsSpan(Y.Offset + r * cols, cols);
                var dyr = GradOutput.Array.AsSpan(GradOutput.Offset + r * cols, cols);
                var dxr = GradInput.Array.AsSpan(GradInput.Offset + r * cols, cols);
                // dx_i = y_i (dy_i - sum_j dy_j y_j): the softmax Jacobian diag(y) - y y^T applied to dy
                float dot = TensorPrimitives.Dot(dyr, yr);
                for (int c = 0; c < cols; c++)
                {
                    float v = yr[c] * (dyr[c] - dot);
                    dxr[c] = Accumulate ? dxr[c] + v : v;
                }
            }
        }
    }
}

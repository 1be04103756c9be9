using GpuNet.Backends;
using ILGPU;
using ILGPU.Algorithms;

namespace GpuNet.Kernels;

/// <summary>
/// Loss kernels: fused softmax + dense cross-entropy, fused sigmoid + binary cross-entropy, the
/// cross-entropies of probabilities, squared error, and the binary accuracy count.
/// </summary>
/// <remarks>
/// <para>Every loss kernel writes one loss per element (or per row) into a scratch view and
/// <see cref="ReductionKernels.SumIntoKernel"/> then adds them to lossSum[0] in a fixed order: the sum is
/// deterministic, and no float atomic is used (ILGPU's CPU accelerator spins forever in a float
/// Atomic.Add once the target is NaN, and a NaN loss must stay a reportable NaN).</para>
/// <para>Optional outputs (probabilities, gradients) come with an int flag: when the flag is 0 the view
/// is a one-element dummy that is never touched. Gradients are overwritten, never accumulated.</para>
/// <para>Row weights (<see cref="KernelRowWeights"/>) come as a 2 x R view and an int flag, 0 when the call has none
/// (the view is then a one-element dummy that is never read): a row with loss weight 0 writes a loss of exactly 0
/// and a gradient of exactly 0, any other row r its loss times rowWeights[r] and its gradient with the scale
/// gradScale x rowWeights[R + r]. The element-wise kernels take the row width too: element i is in row i / width.</para>
/// <para>The element-wise formulas are <see cref="LossMath"/>'s, shared with <c>CpuBackend.Losses.cs</c>; the
/// softmax rows are those of the CPU backend with <see cref="XMath"/> in place of MathF. Clipping is written
/// with comparisons, as Math.Clamp, so a NaN probability stays NaN.</para>
/// </remarks>
public static class LossKernels
{
    /// <summary>
    /// Fused softmax + categorical cross-entropy with dense targets, one warp per row:
    /// rowLoss[r] = -sum_c t[r,c] log p[r,c] = T_r log(sum_c e^(x_c - max)) - sum_c t[r,c] (x_c - max)
    /// with T_r = sum_c t[r,c]; gradLogits[r,c] = gradScale (p[r,c] T_r - t[r,c]).
    /// </summary>
    /// <param name="logits">R x C pre-softmax scores.</param>
    /// <param name="targets">R x C target distributions (one-hot or soft).</param>
    /// <param name="rows">R.</param>
    /// <param name="cols">C.</param>
    /// <param name="probabilities">R x C output, or a dummy when writeProbabilities == 0.</param>
    /// <param name="writeProbabilities">Non-zero: write the probabilities.</param>
    /// <param name="gradLogits">R x C output, or a dummy when writeGradient == 0.</param>
    /// <param name="writeGradient">Non-zero: write the gradient.</param>
    /// <param name="gradScale">Scale of the gradient, usually 1 / R.</param>
    /// <param name="rowLoss">R per-row losses (weighted by the loss weights).</param>
    /// <param name="rowWeights">2 x R row weights, or a dummy when weighted == 0.</param>
    /// <param name="weighted">Non-zero: apply the row weights.</param>
    /// <remarks>
    /// Launched as <see cref="SoftmaxKernels"/>' row kernels (ceil(R / (GroupSize / warpSize)) groups of
    /// GroupSize). log p is never formed from an underflowed p, so a confident wrong prediction gives a
    /// large finite loss rather than infinity.
    /// </remarks>
    public static void SoftmaxCrossEntropyDenseKernel(FloatView logits, FloatView targets, int rows, int cols,
        FloatView probabilities, int writeProbabilities, FloatView gradLogits, int writeGradient, float gradScale,
        FloatView rowLoss, FloatView rowWeights, int weighted)
    {
        int row = SoftmaxKernels.WarpRow(), lane = Warp.LaneIdx;
        bool active = row < rows;
        int n = active ? cols : 0, start = active ? row * cols : 0;
        float lossWeight = active ? KernelRowWeights.LossWeight(rowWeights, weighted, row) : 1f;
        float max = SoftmaxKernels.RowMax(logits, start, n, lane);
        float sum = SoftmaxKernels.RowSumExp(logits, start, n, lane, max);
        float targetDotShifted = 0f, targetSum = 0f;
        for (int c = lane; c < n; c += Warp.WarpSize)
        {
            float t = targets[start + c];
            targetDotShifted += t * (logits[start + c] - max);
            targetSum += t;
        }
        targetDotShifted = SoftmaxKernels.WarpSum(targetDotShifted);
        targetSum = SoftmaxKernels.WarpSum(targetSum);
        if (active && lane == 0)
            rowLoss[row] = LossMath.Weighted(targetSum * XMath.Log(sum) - targetDotShifted, lossWeight);
        if (writeProbabilities == 0 && writeGradient == 0) return; // uniform: after the last shuffle
        float scale = active ? KernelRowWeights.GradientScale(rowWeights, weighted, rows, row, gradScale) : gradScale;
        for (int c = lane; c < n; c += Warp.WarpSize)
        {
            float p = XMath.Exp(logits[start + c] - max) / sum;
            float t = targets[start + c];
            if (writeProbabilities != 0) probabilities[start + c] = p;
            if (writeGradient != 0) gradLogits[start + c] = KernelRowWeights.Gradient(lossWeight, scale * (p * targetSum - t));
        }
    }

    /// <summary>
    /// Fused sigmoid + binary cross-entropy: loss[i] = max(x, 0) - x t + log(1 + e^-|x|);
    /// probabilities[i] = s(x); gradLogits[i] = gradScale (s(x) - t).
    /// </summary>
    /// <param name="index">Element i; launch with extent count.</param>
    /// <param name="logits">Pre-sigmoid scores.</param>
    /// <param name="targets">Targets in [0, 1].</param>
    /// <param name="probabilities">Output s(x), or a dummy when writeProbabilities == 0.</param>
    /// <param name="writeProbabilities">Non-zero: write the probabilities.</param>
    /// <param name="gradLogits">Output gradient, or a dummy when writeGradient == 0.</param>
    /// <param name="writeGradient">Non-zero: write the gradient.</param>
    /// <param name="gradScale">Scale of the gradient.</param>
    /// <param name="elementLoss">Per-element losses (weighted by their rows' loss weights).</param>
    /// <param name="rowWeights">2 x R row weights, or a dummy when weighted == 0.</param>
    /// <param name="weighted">Non-zero: apply the row weights.</param>
    /// <param name="rows">R = count / width (read only when weighted).</param>
    /// <param name="width">Elements per row: element i is in row i / width (read only when weighted).</param>
    /// <remarks>The logits form of -(t log s + (1 - t) log(1 - s)): finite for any finite x.</remarks>
    public static void SigmoidCrossEntropyKernel(Index1D index, FloatView logits, FloatView targets,
        FloatView probabilities, int writeProbabilities, FloatView gradLogits, int writeGradient, float gradScale,
        FloatView elementLoss, FloatView rowWeights, int weighted, int rows, int width)
    {
        float x = logits[index], t = targets[index];
        float s = ActivationMath.Sigmoid(x);
        int row = weighted != 0 ? index / width : 0;
        float lossWeight = KernelRowWeights.LossWeight(rowWeights, weighted, row);
        elementLoss[index] = LossMath.Weighted(LossMath.SigmoidCrossEntropy(x, t), lossWeight);
        if (writeProbabilities != 0) probabilities[index] = s;
        if (writeGradient != 0)
            gradLogits[index] = KernelRowWeights.Gradient(lossWeight,
                LossMath.SigmoidCrossEntropyGradient(s, t, KernelRowWeights.GradientScale(rowWeights, weighted, rows, row, gradScale)));
    }

    /// <summary>
    /// Cross-entropy of probabilities: loss[i] = -t log pc with pc = clip(p, eps, 1 - eps);
    /// gradProbabilities[i] = -gradScale t / pc.
    /// </summary>
    /// <param name="index">Element i; launch with extent count.</param>
    /// <param name="probabilities">Predicted probabilities.</param>
    /// <param name="targets">Targets.</param>
    /// <param name="epsilon">Clipping margin.</param>
    /// <param name="gradProbabilities">Output gradient, or a dummy when writeGradient == 0.</param>
    /// <param name="writeGradient">Non-zero: write the gradient.</param>
    /// <param name="gradScale">Scale of the gradient.</param>
    /// <param name="elementLoss">Per-element losses (weighted by their rows' loss weights).</param>
    /// <param name="rowWeights">2 x R row weights, or a dummy when weighted == 0.</param>
    /// <param name="weighted">Non-zero: apply the row weights.</param>
    /// <param name="rows">R = count / width (read only when weighted).</param>
    /// <param name="width">Elements per row: element i is in row i / width (read only when weighted).</param>
    public static void CrossEntropyFromProbabilitiesKernel(Index1D index, FloatView probabilities, FloatView targets, float epsilon,
        FloatView gradProbabilities, int writeGradient, float gradScale, FloatView elementLoss,
        FloatView rowWeights, int weighted, int rows, int width)
    {
        float pc = LossMath.Clip(probabilities[index], epsilon), t = targets[index];
        int row = weighted != 0 ? index / width : 0;
        float lossWeight = KernelRowWeights.LossWeight(rowWeights, weighted, row);
        elementLoss[index] = LossMath.Weighted(LossMath.CrossEntropy(pc, t), lossWeight);
        if (writeGradient != 0)
            gradProbabilities[index] = KernelRowWeights.Gradient(lossWeight,
                LossMath.CrossEntropyGradient(pc, t, KernelRowWeights.GradientScale(rowWeights, weighted, rows, row, gradScale)));
    }

    /// <summary>
    /// Binary cross-entropy of probabilities: loss[i] = -(t log pc + (1 - t) log(1 - pc)) with
    /// pc = clip(p, eps, 1 - eps); gradProbabilities[i] = gradScale (pc - t) / (pc (1 - pc)).
    /// </summary>
    /// <param name="index">Element i; launch with extent count.</param>
    /// <param name="probabilities">Predicted probabilities.</param>
    /// <param name="targets">Targets in [0, 1].</param>
    /// <param name="epsilon">Clipping margin.</param>
    /// <param name="gradProbabilities">Output gradient, or a dummy when writeGradient == 0.</param>
    /// <param name="writeGradient">Non-zero: write the gradient.</param>
    /// <param name="gradScale">Scale of the gradient.</param>
    /// <param name="elementLoss">Per-element losses (weighted by their rows' loss weights).</param>
    /// <param name="rowWeights">2 x R row weights, or a dummy when weighted == 0.</param>
    /// <param name="weighted">Non-zero: apply the row weights.</param>
    /// <param name="rows">R = count / width (read only when weighted).</param>
    /// <param name="width">Elements per row: element i is in row i / width (read only when weighted).</param>
    public static void BinaryCrossEntropyFromProbabilitiesKernel(Index1D index, FloatView probabilities, FloatView targets, float epsilon,
        FloatView gradProbabilities, int writeGradient, float gradScale, FloatView elementLoss,
        FloatView rowWeights, int weighted, int rows, int width)
    {
        float pc = LossMath.Clip(probabilities[index], epsilon), t = targets[index];
        int row = weighted != 0 ? index / width : 0;
        float lossWeight = KernelRowWeights.LossWeight(rowWeights, weighted, row);
        elementLoss[index] = LossMath.Weighted(LossMath.BinaryCrossEntropy(pc, t), lossWeight);
        if (writeGradient != 0)
            gradProbabilities[index] = KernelRowWeights.Gradient(lossWeight,
                LossMath.BinaryCrossEntropyGradient(pc, t, KernelRowWeights.GradientScale(rowWeights, weighted, rows, row, gradScale)));
    }

    /// <summary>Squared error: loss[i] = (p - t)^2; gradPredictions[i] = gradScale 2 (p - t).</summary>
    /// <param name="index">Element i; launch with extent count.</param>
    /// <param name="predictions">Predictions.</param>
    /// <param name="targets">Targets.</param>
    /// <param name="gradPredictions">Output gradient, or a dummy when writeGradient == 0.</param>
    /// <param name="writeGradient">Non-zero: write the gradient.</param>
    /// <param name="gradScale">Scale of the gradient, usually 1 / (R C).</param>
    /// <param name="elementLoss">Per-element losses (weighted by their rows' loss weights).</param>
    /// <param name="rowWeights">2 x R row weights, or a dummy when weighted == 0.</param>
    /// <param name="weighted">Non-zero: apply the row weights.</param>
    /// <param name="rows">R = count / width (read only when weighted).</param>
    /// <param name="width">Elements per row: element i is in row i / width (read only when weighted).</param>
    public static void SquaredErrorKernel(Index1D index, FloatView predictions, FloatView targets,
        FloatView gradPredictions, int writeGradient, float gradScale, FloatView elementLoss,
        FloatView rowWeights, int weighted, int rows, int width)
    {
        float d = predictions[index] - targets[index];
        int row = weighted != 0 ? index / width : 0;
        float lossWeight = KernelRowWeights.LossWeight(rowWeights, weighted, row);
        elementLoss[index] = LossMath.Weighted(d * d, lossWeight);
        if (writeGradient != 0)
            gradPredictions[index] = KernelRowWeights.Gradient(lossWeight,
                LossMath.SquaredErrorGradient(d, KernelRowWeights.GradientScale(rowWeights, weighted, rows, row, gradScale)));
    }

    /// <summary>
    /// correct[0] += number of rows r with (scores[r] &gt; threshold ? 1 : 0) == labels[r] (one output column).
    /// </summary>
    /// <param name="scores">R scores or probabilities.</param>
    /// <param name="labels">R labels, 0 or 1 (any other value never counts).</param>
    /// <param name="rows">R.</param>
    /// <param name="threshold">Decision threshold (0.5 for probabilities, 0 for logits).</param>
    /// <param name="correct">correct[0] accumulates the count.</param>
    /// <param name="rowWeights">2 x R row weights, or a dummy when weighted == 0: a row with loss weight 0 never counts.</param>
    /// <param name="weighted">Non-zero: apply the row weights.</param>
    /// <remarks>
    /// One thread per row, launched in groups of <see cref="SoftmaxKernels.GroupSize"/>: each warp adds
    /// its lanes' 0/1 with a butterfly and one lane does a single int atomic add, so there are R / 32
    /// atomics rather than R. Threads past the last row count 0 but still take part in the shuffles.
    /// </remarks>
    public static void CountCorrectBinaryKernel(FloatView scores, IntView labels, int rows, float threshold, IntView correct,
        FloatView rowWeights, int weighted)
    {
        int r = Grid.GlobalIndex.X;
        int hit = r < rows && KernelRowWeights.IsReal(rowWeights, weighted, r) && (scores[r] > threshold ? 1 : 0) == labels[r] ? 1 : 0;
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)
            hit += Warp.ShuffleXor(hit, offset);
        if (Warp.LaneIdx == 0 && hit != 0)
            Atomic.Add(ref correct[0], hit);
    }

    /// <summary>
    /// Multi-label accuracy: correct[0] += number of i &lt; count with (scores[i] &gt; threshold) == (targets[i] &gt; 0.5),
    /// every (sample, label) pair on its own (Keras' binary accuracy).
    /// </summary>
    /// <param name="scores">Scores or probabilities.</param>
    /// <param name="targets">Targets; above 0.5 is the positive side.</param>
    /// <param name="count">Number of (sample, label) pairs.</param>
    /// <param name="threshold">Decision threshold of the scores.</param>
    /// <param name="correct">correct[0] accumulates the count.</param>
    /// <param name="rowWeights">2 x R row weights, or a dummy when weighted == 0: the elements of a row with loss weight 0 never count.</param>
    /// <param name="weighted">Non-zero: apply the row weights.</param>
    /// <param name="width">Elements per row: element i is in row i / width (read only when weighted).</param>
    /// <remarks>One thread per element, counted per warp as in <see cref="CountCorrectBinaryKernel"/>: count / 32 atomics.</remarks>
    public static void CountCorrectMultiLabelKernel(FloatView scores, FloatView targets, int count, float threshold, IntView correct,
        FloatView rowWeights, int weighted, int width)
    {
        int i = Grid.GlobalIndex.X;
        int row = weighted != 0 && i < count ? i / width : 0;
        int hit = i < count && KernelRowWeights.IsReal(rowWeights, weighted, row) && LossMath.MultiLabelHit(scores[i], targets[i], threshold) ? 1 : 0;
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)
            hit += Warp.ShuffleXor(hit, offset);
        if (Warp.LaneIdx == 0 && hit != 0)
            Atomic.Add(ref correct[0], hit);
    }

    /// <summary>Groups of <see cref="SoftmaxKernels.GroupSize"/> threads that <see cref="CountCorrectBinaryKernel"/> needs for R rows.</summary>
    public static int CountGroups(int rows) => (rows + SoftmaxKernels.GroupSize - 1) / SoftmaxKernels.GroupSize;
}

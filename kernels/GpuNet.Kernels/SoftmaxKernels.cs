using GpuNet.Backends;
using ILGPU;
using ILGPU.Algorithms;

namespace GpuNet.Kernels;

/// <summary>
/// Row-wise kernels over an R x C row-major matrix: softmax and its backward pass, fused softmax +
/// cross-entropy, argmax and accuracy counts.
/// </summary>
/// <remarks>
/// <para>One warp per row: a group of <see cref="GroupSize"/> threads handles GroupSize / warpSize rows.
/// The lanes stride over the row's columns (coalesced), then combine their partial max / sum / argmax
/// with butterfly shuffles (<see cref="Warp.ShuffleXor{T}(T, int)"/>), which leave the result in every
/// lane with no shared memory and no group barrier. A warp per row keeps all 32 lanes busy from C = 32
/// up to wide rows (C in the thousands) and keeps many rows in flight for a batch; one thread per row
/// would leave wide rows serial and a group per row would idle most threads on MNIST's C = 10.</para>
/// <para>Launch with ceil(R / (GroupSize / warpSize)) groups of GroupSize threads. A warp past the last
/// row does not return early: it runs the shuffles on an empty row and writes nothing, so every lane of
/// the group takes part in every shuffle (ILGPU's CPU accelerator emulates shuffles with barriers).</para>
/// </remarks>
public static class SoftmaxKernels
{
    /// <summary>Threads per group (a multiple of the warp size).</summary>
    public const int GroupSize = 256;

    /// <summary>y = exp(x - max) / sum exp(x - max), row by row. y may alias x.</summary>
    /// <param name="x">R x C scores.</param>
    /// <param name="y">R x C probabilities.</param>
    /// <param name="rows">R.</param>
    /// <param name="cols">C.</param>
    public static void SoftmaxKernel(FloatView x, FloatView y, int rows, int cols)
    {
        int row = WarpRow(), lane = Warp.LaneIdx;
        int n = row < rows ? cols : 0, start = row < rows ? row * cols : 0;
        float max = RowMax(x, start, n, lane);
        float sum = RowSumExp(x, start, n, lane, max);
        // each lane reads x[c] before writing y[c] itself, so aliasing x and y is safe
        for (int c = lane; c < n; c += Warp.WarpSize)
            y[start + c] = XMath.Exp(x[start + c] - max) / sum;
    }

    /// <summary>
    /// Fused softmax + sparse categorical cross-entropy: rowLoss[r] = -log p[r, label_r]; optionally
    /// probabilities[r, :] = p[r, :] and gradLogits[r, :] = gradScale * (p[r, :] - onehot(label_r)).
    /// </summary>
    /// <param name="logits">R x C pre-softmax scores.</param>
    /// <param name="labels">R class indices; one outside [0, C) gives a NaN row loss.</param>
    /// <param name="rows">R.</param>
    /// <param name="cols">C.</param>
    /// <param name="probabilities">R x C output, or any view when writeProbabilities == 0.</param>
    /// <param name="writeProbabilities">Non-zero: write the probabilities.</param>
    /// <param name="gradLogits">R x C output, or any view when writeGradient == 0.</param>
    /// <param name="writeGradient">Non-zero: write the gradient.</param>
    /// <param name="gradScale">Scale of the gradient, usually 1 / R.</param>
    /// <param name="rowLoss">R per-row losses, summed afterwards by <see cref="ReductionKernels.SumIntoKernel"/>.</param>
    /// <param name="rowWeights">2 x R row weights (<see cref="KernelRowWeights"/>), or a dummy when weighted == 0.</param>
    /// <param name="weighted">Non-zero: rowLoss[r] = rowWeights[r] x loss_r and the gradient scale is gradScale x rowWeights[R + r];
    /// a row with loss weight 0 writes a loss and a gradient of exactly 0, whatever its logits and label.</param>
    /// <remarks>
    /// -log p[label] is computed as log(sum exp(x - max)) - (x[label] - max), finite even where p
    /// underflows to 0.
    /// </remarks>
    public static void SoftmaxCrossEntropyKernel(FloatView logits, IntView labels, int rows, int cols,
        FloatView probabilities, int writeProbabilities, FloatView gradLogits, int writeGradient, float gradScale,
        FloatView rowLoss, FloatView rowWeights, int weighted)
    {
        int row = WarpRow(), lane = Warp.LaneIdx;
        bool active = row < rows;
        int n = active ? cols : 0, start = active ? row * cols : 0;
        int label = active ? labels[row] : -1;
        float lossWeight = active ? KernelRowWeights.LossWeight(rowWeights, weighted, row) : 1f;
        bool valid = (uint)label < (uint)cols;
        // read before any lane writes: the outputs may alias the logits (the shuffles below order it)
        float xLabel = valid ? logits[start + label] : 0f;
        float max = RowMax(logits, start, n, lane);
        float sum = RowSumExp(logits, start, n, lane, max);
        if (active && lane == 0)
            rowLoss[row] = LossMath.Weighted(valid ? XMath.Log(sum) - (xLabel - max) : float.NaN, lossWeight);
        if (writeProbabilities == 0 && writeGradient == 0) return; // uniform: after the last shuffle
        float scale = active ? KernelRowWeights.GradientScale(rowWeights, weighted, rows, row, gradScale) : gradScale;
        for (int c = lane; c < n; c += Warp.WarpSize)
        {
            float p = XMath.Exp(logits[start + c] - max) / sum;
            if (writeProbabilities != 0) probabilities[start + c] = p;
            if (writeGradient != 0) gradLogits[start + c] = KernelRowWeights.Gradient(lossWeight, scale * (c == label ? p - 1f : p));
        }
    }

    /// <summary>correct[0] += 1 for each row whose argmax (first max wins) equals its label.</summary>
    /// <param name="scores">R x C scores or probabilities.</param>
    /// <param name="labels">R class indices.</param>
    /// <param name="rows">R.</param>
    /// <param name="cols">C.</param>
    /// <param name="correct">correct[0] accumulates the count.</param>
    /// <param name="rowWeights">2 x R row weights, or a dummy when weighted == 0: a row with loss weight 0 never counts.</param>
    /// <param name="weighted">Non-zero: apply the row weights.</param>
    public static void CountCorrectKernel(FloatView scores, IntView labels, int rows, int cols, IntView correct,
        FloatView rowWeights, int weighted)
    {
        int row = WarpRow();
        bool active = row < rows;
        int best = RowArgMax(scores, active ? row * cols : 0, active ? cols : 0, Warp.LaneIdx);
        if (active && Warp.LaneIdx == 0 && best == labels[row] && KernelRowWeights.IsReal(rowWeights, weighted, row))
            Atomic.Add(ref correct[0], 1);
    }

    /// <summary>result[r] = index of the largest of scores[r, :] (first max wins; a NaN counts as largest).</summary>
    /// <param name="scores">R x C scores.</param>
    /// <param name="rows">R.</param>
    /// <param name="cols">C.</param>
    /// <param name="result">R indices.</param>
    public static void ArgMaxKernel(FloatView scores, int rows, int cols, IntView result)
    {
        int row = WarpRow();
        bool active = row < rows;
        int best = RowArgMax(scores, active ? row * cols : 0, active ? cols : 0, Warp.LaneIdx);
        if (active && Warp.LaneIdx == 0) result[row] = best;
    }

    /// <summary>
    /// Softmax backward from its output: gradInput[r, :] (+)= y[r, :] * (gradOutput[r, :] - dot_r), with
    /// dot_r = sum_c gradOutput[r, c] y[r, c] (the Jacobian diag(y) - y y^T applied to dy).
    /// </summary>
    /// <param name="y">R x C softmax outputs.</param>
    /// <param name="gradOutput">R x C dL/dy.</param>
    /// <param name="gradInput">R x C dL/dx, written or accumulated; may alias gradOutput.</param>
    /// <param name="rows">R.</param>
    /// <param name="cols">C.</param>
    /// <param name="accumulate">Non-zero: add to gradInput instead of overwriting it.</param>
    public static void SoftmaxBackwardKernel(FloatView y, FloatView gradOutput, FloatView gradInput, int rows, int cols, int accumulate)
    {
        int row = WarpRow(), lane = Warp.LaneIdx;
        int n = row < rows ? cols : 0, start = row < rows ? row * cols : 0;
        float dot = 0f;
        for (int c = lane; c < n; c += Warp.WarpSize)
            dot += gradOutput[start + c] * y[start + c];
        dot = WarpSum(dot);
        // each lane reads dy[c] before writing dx[c] itself, so aliasing gradInput and gradOutput is safe
        for (int c = lane; c < n; c += Warp.WarpSize)
        {
            float v = y[start + c] * (gradOutput[start + c] - dot);
            gradInput[start + c] = accumulate != 0 ? gradInput[start + c] + v : v;
        }
    }

    /// <summary>Groups needed for <paramref name="rows"/> rows with the given warp size.</summary>
    public static int GroupCount(int rows, int warpSize)
    {
        int rowsPerGroup = GroupSize / warpSize;
        return (rows + rowsPerGroup - 1) / rowsPerGroup;
    }

    /// <summary>The row of the calling warp: GroupSize / warpSize rows per group.</summary>
    internal static int WarpRow() => Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;

    /// <summary>max over x[start .. start + cols), in every lane.</summary>
    internal static float RowMax(FloatView x, int start, int cols, int lane)
    {
        float max = float.NegativeInfinity;
        for (int c = lane; c < cols; c += Warp.WarpSize)
            max = XMath.Max(max, x[start + c]);
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)
            max = XMath.Max(max, Warp.ShuffleXor(max, offset));
        return max;
    }

    /// <summary>sum of exp(x - max) over the row, in every lane.</summary>
    internal static float RowSumExp(FloatView x, int start, int cols, int lane, float max)
    {
        // subtract the row max: exp(89) already overflows float32
        float sum = 0f;
        for (int c = lane; c < cols; c += Warp.WarpSize)
            sum += XMath.Exp(x[start + c] - max);
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)
            sum += Warp.ShuffleXor(sum, offset);
        return sum;
    }

    /// <summary>The sum of <paramref name="value"/> over the warp's lanes, in every lane (a butterfly: the same order in every lane).</summary>
    internal static float WarpSum(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)
            value += Warp.ShuffleXor(value, offset);
        return value;
    }

    /// <summary>Index of the row's largest element (first wins, NaN largest), in every lane.</summary>
    private static int RowArgMax(FloatView x, int start, int cols, int lane)
    {
        float bestValue = float.NegativeInfinity;
        int bestIndex = int.MaxValue; // "no element": loses every comparison against a real one
        for (int c = lane; c < cols; c += Warp.WarpSize)
        {
            float v = x[start + c];
            if (bestIndex == int.MaxValue || Better(v, c, bestValue, bestIndex))
            {
                bestValue = v;
                bestIndex = c;
            }
        }
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)
        {
            float otherValue = Warp.ShuffleXor(bestValue, offset);
            int otherIndex = Warp.ShuffleXor(bestIndex, offset);
            if (Better(otherValue, otherIndex, bestValue, bestIndex))
            {
                bestValue = otherValue;
                bestIndex = otherIndex;
            }
        }
        return bestIndex;
    }

    /// <summary>
    /// Whether (v, i) beats (bestV, bestI): a NaN beats any number (as in TensorPrimitives.IndexOfMax),
    /// a larger value beats a smaller one, and between equals the lower index wins. A total order, so
    /// the butterfly leaves the same winner in every lane.
    /// </summary>
    private static bool Better(float v, int i, float bestV, int bestI)
    {
        bool vNaN = float.IsNaN(v), bestNaN = float.IsNaN(bestV);
        if (vNaN != bestNaN) return vNaN;
        if (!vNaN && v != bestV) return v > bestV;
        return i < bestI;
    }
}

using GpuNet.Backends;
using ILGPU;
using ILGPU.Algorithms;

namespace GpuNet.Kernels;

/// <summary>
/// Layer kernels: element-wise products and scales, the per-column affine map, inverted dropout,
/// L1/L2 penalty and gradient, batch normalization (training, inference, backward) and maxout.
/// </summary>
/// <remarks>
/// <para>Matrices are R x C, row-major. The per-element formulas are <see cref="LayerMath"/>'s and
/// <see cref="RandomMath"/>'s, shared with <c>CpuBackend.Layers.cs</c>.</para>
/// <para>Batch normalization reduces over the rows of each column. A group of <see cref="GroupSize"/>
/// threads owns a tile of <see cref="TileColumns"/> adjacent columns: thread (tx, ty) with
/// tx = column in the tile and ty in [0, <see cref="TileRowLanes"/>) sums rows ty, ty + 8, ... of its
/// column, so the 32 threads of a warp read 32 adjacent floats of one row (coalesced). The 8 partial
/// sums of a column are combined through shared memory, every thread adding them in the same order
/// (deterministic, no atomics); the statistics then normalize the tile in the same launch. One launch
/// per call, ceil(C / 32) groups: a batch of a few hundred rows is a few dozen loads per thread.</para>
/// <para>With row weights (<see cref="KernelRowWeights"/>, a 2 x R view and an int flag) the statistics and the
/// backward column sums run over the real rows only, padding rows selected away.</para>
/// </remarks>
public static class LayerKernels
{
    /// <summary>Threads per group of the batch-normalization and penalty kernels.</summary>
    public const int GroupSize = 256;

    /// <summary>Adjacent columns one batch-normalization group owns (a warp's width, for coalescing).</summary>
    public const int TileColumns = 32;

    /// <summary>Threads per column in a batch-normalization group, each summing every 8th row.</summary>
    public const int TileRowLanes = GroupSize / TileColumns;

    /// <summary>result[i] = a[i] b[i] (+ result[i] when accumulate != 0).</summary>
    /// <param name="index">Element i; launch with extent count.</param>
    public static void MultiplyKernel(Index1D index, FloatView a, FloatView b, FloatView result, int accumulate)
    {
        float v = a[index] * b[index];
        result[index] = accumulate != 0 ? result[index] + v : v;
    }

    /// <summary>y[i] = op(x[i]) for a <see cref="UnaryOp"/> (<see cref="UnaryMath.Apply"/>, shared with the CPU backend's reference).</summary>
    /// <param name="index">Element i; launch with extent count.</param>
    /// <param name="x">At least count inputs.</param>
    /// <param name="y">At least count outputs; may alias x.</param>
    /// <param name="op">A <see cref="UnaryOp"/> as int (uniform: one predictable branch per element).</param>
    public static void UnaryKernel(Index1D index, FloatView x, FloatView y, int op) =>
        y[index] = UnaryMath.Apply((UnaryOp)op, x[index]);

    /// <summary>buffer[i] *= factor.</summary>
    /// <param name="index">Element i; launch with extent count.</param>
    public static void ScaleKernel(Index1D index, FloatView buffer, float factor) => buffer[index] *= factor;

    /// <summary>y[r, c] (+)= x[r, c] scale[c] + shift[c] (shift read only when hasShift != 0).</summary>
    /// <param name="index">Flat element r * C + c; launch with extent R * C.</param>
    /// <param name="x">R x C input.</param>
    /// <param name="scale">C scales.</param>
    /// <param name="shift">C shifts, or a dummy when hasShift == 0.</param>
    /// <param name="hasShift">Non-zero: add the shift.</param>
    /// <param name="y">R x C output; may alias x.</param>
    /// <param name="cols">C.</param>
    /// <param name="accumulate">Non-zero: add to y instead of overwriting it.</param>
    public static void ColumnAffineKernel(Index1D index, FloatView x, FloatView scale, FloatView shift, int hasShift,
        FloatView y, int cols, int accumulate)
    {
        int c = index % cols;
        float v = x[index] * scale[c] + (hasShift != 0 ? shift[c] : 0f);
        y[index] = accumulate != 0 ? y[index] + v : v;
    }

    /// <summary>
    /// Inverted dropout: mask[i] = keepScale if u_i &gt;= rate else 0, y[i] = x[i] mask[i], with u_i the
    /// Philox uniform of <see cref="Philox.ForStep"/>(i, step, purpose, seed), word X.
    /// </summary>
    /// <param name="index">Element i; launch with extent count.</param>
    /// <param name="x">Input.</param>
    /// <param name="y">Output; may alias x.</param>
    /// <param name="mask">Output mask (0 or keepScale), what the backward pass multiplies by.</param>
    /// <param name="rate">Probability of dropping a unit.</param>
    /// <param name="keepScale">1 / (1 - rate), computed on the host as the CPU backend does (same float).</param>
    /// <param name="seed">The model's seed.</param>
    /// <param name="purpose">Separates this layer's draws from other draws of the step.</param>
    /// <param name="stepValues">The step values: the training step is the counter at stepIndex (low word) and stepIndex + 1.</param>
    /// <param name="stepIndex">Where the step counter is.</param>
    public static void DropoutKernel(Index1D index, FloatView x, FloatView y, FloatView mask, float rate, float keepScale,
        ulong seed, uint purpose, IntView stepValues, int stepIndex)
    {
        ulong step = StepValueMath.Counter(stepValues[stepIndex], stepValues[stepIndex + 1]);
        float m = RandomMath.DropoutFactor(index, step, purpose, seed, rate, keepScale);
        mask[index] = m;
        y[index] = x[index] * m;
    }

    /// <summary>
    /// partials[g] = sum over this group's elements of l1 |w| + l2 w^2: elements g * 256 + t, strided by
    /// the launch's total thread count, summed per thread, then by a shared-memory tree in a fixed order.
    /// </summary>
    /// <param name="parameters">At least count weights.</param>
    /// <param name="count">Number of weights.</param>
    /// <param name="l1">L1 factor.</param>
    /// <param name="l2">L2 factor.</param>
    /// <param name="partials">One partial sum per group.</param>
    /// <remarks>
    /// Launch with <see cref="PenaltyGroups"/> groups of <see cref="GroupSize"/>, then add the partials
    /// to lossSum[0] with <see cref="ReductionKernels.SumIntoKernel"/>: a deterministic two-level sum
    /// without float atomics. The group count depends only on count and the device, so the order does too.
    /// </remarks>
    public static void L1L2PartialKernel(FloatView parameters, int count, float l1, float l2, FloatView partials)
    {
        var shared = SharedMemory.Allocate<float>(GroupSize);
        int t = Group.IdxX;
        float sum = 0f;
        for (int i = Grid.GlobalIndex.X; i < count; i += Grid.DimX * GroupSize)
        {
            float w = parameters[i];
            // a zero factor skips its term, as the CPU path does: 0 * inf would turn an infinite penalty into NaN
            if (l1 != 0f) sum += l1 * XMath.Abs(w);
            if (l2 != 0f) sum += l2 * w * w;
        }
        shared[t] = sum;
        Group.Barrier();
        for (int stride = GroupSize / 2; stride > 0; stride >>= 1)
        {
            if (t < stride) shared[t] += shared[t + stride];
            Group.Barrier();
        }
        if (t == 0) partials[Grid.IdxX] = shared[0];
    }

    /// <summary>
    /// Groups <see cref="L1L2PartialKernel"/> uses for count weights: one per 256 weights, at most
    /// <paramref name="maxGroups"/> (two per multiprocessor fill a GPU; beyond that threads loop).
    /// </summary>
    public static int PenaltyGroups(int count, int maxGroups) => Math.Clamp((count + GroupSize - 1) / GroupSize, 1, Math.Max(maxGroups, 1));

    /// <summary>x[i] clamped to [-limit, limit]; NaN stays NaN (comparisons, not min/max, which would drop it).</summary>
    /// <param name="index">Element i; launch with extent count.</param>
    public static void ClipByValueKernel(Index1D index, FloatView x, float limit)
    {
        x[index] = LayerMath.ClipByValue(x[index], limit);
    }

    /// <summary>x[i] *= maxNorm / n when n = sqrt(sumSquares[0]) exceeds maxNorm (every thread reads the same cell).</summary>
    /// <param name="index">Element i; launch with extent count.</param>
    public static void ScaleToMaxNormKernel(Index1D index, FloatView x, FloatView sumSquares, float maxNorm)
    {
        float norm = XMath.Sqrt(sumSquares[0]);
        if (norm > maxNorm) x[index] *= maxNorm / norm;
    }

    /// <summary>gradients[i] += l1 sign(w) + 2 l2 w, sign(0) = 0 (the subgradient that keeps zeros at zero).</summary>
    /// <param name="index">Element i; launch with extent count.</param>
    public static void L1L2GradientKernel(Index1D index, FloatView parameters, FloatView gradients, float l1, float l2)
    {
        gradients[index] += LayerMath.L1L2Gradient(parameters[index], l1, l2);
    }

    /// <summary>
    /// Batch normalization in training: per column c, mean and biased variance over the R rows,
    /// savedInvStd = 1 / sqrt(var + eps), y = gamma (x - mean) savedInvStd + beta, and the running
    /// averages running = momentum running + (1 - momentum) batch statistic.
    /// </summary>
    /// <param name="x">R x C input.</param>
    /// <param name="rows">R.</param>
    /// <param name="cols">C.</param>
    /// <param name="gamma">C scales.</param>
    /// <param name="beta">C shifts.</param>
    /// <param name="y">R x C output; may alias x (all of a column is read before any of it is written).</param>
    /// <param name="savedMean">C batch means, for the backward pass.</param>
    /// <param name="savedInvStd">C batch 1 / sqrt(var + eps), for the backward pass.</param>
    /// <param name="runningMean">C moving means, updated.</param>
    /// <param name="runningVariance">C moving variances, updated.</param>
    /// <param name="momentum">Weight of the old moving average.</param>
    /// <param name="epsilon">Added to the variance.</param>
    /// <param name="rowWeights">2 x R row weights (<see cref="KernelRowWeights"/>), or a dummy when weighted == 0.</param>
    /// <param name="weighted">Non-zero: the weighted statistics mean = sum_r u_r x_r and var = sum_r u_r (x_r - mean)^2
    /// over the real rows (loss weight not 0), u_r = rowWeights[R + r]; every row, padding included, is normalized with them.</param>
    /// <remarks>
    /// Launch with ceil(C / <see cref="TileColumns"/>) groups of <see cref="GroupSize"/>. The variance is
    /// the mean of squared deviations from the mean (two passes over the column), which does not cancel
    /// catastrophically as E[x^2] - mean^2 does for columns with a large mean.
    /// </remarks>
    public static void BatchNormTrainingKernel(FloatView x, int rows, int cols, FloatView gamma, FloatView beta,
        FloatView y, FloatView savedMean, FloatView savedInvStd, FloatView runningMean, FloatView runningVariance,
        float momentum, float epsilon, FloatView rowWeights, int weighted)
    {
        var partial = SharedMemory.Allocate<float>(GroupSize);
        int tx = Group.IdxX % TileColumns, ty = Group.IdxX / TileColumns;
        int c = Grid.IdxX * TileColumns + tx;
        int n = c < cols ? rows : 0; // a thread past the last column sums nothing but joins the barriers

        float sum = 0f;
        for (int r = ty; r < n; r += TileRowLanes)
        {
            float v = x[r * cols + c];
            sum += weighted != 0 ? KernelRowWeights.StatisticTerm(rowWeights, rows, r, v) : v;
        }
        float mean = ColumnStatistic(ColumnTotal(partial, sum, tx, ty), rows, weighted);

        float squares = 0f;
        for (int r = ty; r < n; r += TileRowLanes)
        {
            float d = x[r * cols + c] - mean;
            squares += weighted != 0 ? KernelRowWeights.StatisticTerm(rowWeights, rows, r, d * d) : d * d;
        }
        float variance = ColumnStatistic(ColumnTotal(partial, squares, tx, ty), rows, weighted); // biased, as Keras normalizes with
        float invStd = 1f / XMath.Sqrt(variance + epsilon);
        if (c >= cols) return; // after the last barrier

        if (ty == 0)
        {
            savedMean[c] = mean;
            savedInvStd[c] = invStd;
            runningMean[c] = LayerMath.MovingAverage(runningMean[c], mean, momentum);
            runningVariance[c] = LayerMath.MovingAverage(runningVariance[c], variance, momentum);
        }
        float g = gamma[c], b = beta[c];
        for (int r = ty; r < rows; r += TileRowLanes)
            y[r * cols + c] = LayerMath.Normalize(x[r * cols + c], mean, invStd, g, b);
    }

    /// <summary>Batch normalization in inference: y[r, c] = gamma[c] (x[r, c] - runningMean[c]) / sqrt(runningVariance[c] + eps) + beta[c].</summary>
    /// <param name="index">Flat element r * C + c; launch with extent R * C.</param>
    public static void BatchNormInferenceKernel(Index1D index, FloatView x, int cols, FloatView gamma, FloatView beta,
        FloatView runningMean, FloatView runningVariance, float epsilon, FloatView y)
    {
        int c = index % cols;
        y[index] = LayerMath.NormalizeInference(x[index], runningMean[c], runningVariance[c], epsilon, gamma[c], beta[c]);
    }

    /// <summary>gradInput argument of <see cref="BatchNormBackwardKernel"/>: absent (a dummy, not written).</summary>
    public const int InputNone = 0;

    /// <summary>gradInput argument of <see cref="BatchNormBackwardKernel"/>: overwritten with dx.</summary>
    public const int InputWrite = 1;

    /// <summary>gradInput argument of <see cref="BatchNormBackwardKernel"/>: dx added to it.</summary>
    public const int InputAdd = 2;

    /// <summary>
    /// Batch normalization backward with the training statistics: xhat = (x - mean) invStd,
    /// dbeta = sum_r dy, dgamma = sum_r dy xhat, dx = gamma invStd / R (R dy - dbeta - xhat dgamma).
    /// With row weights the sums run over the real rows (loss weight not 0), a real row r gets
    /// dx = gamma invStd (dy - u_r (dbeta + xhat dgamma)) with u_r = rowWeights[R + r], and a padding row dx = 0.
    /// </summary>
    /// <param name="x">R x C input of the forward pass.</param>
    /// <param name="gradOutput">R x C dL/dy.</param>
    /// <param name="rows">R.</param>
    /// <param name="cols">C.</param>
    /// <param name="gamma">C scales.</param>
    /// <param name="savedMean">C batch means from the forward pass.</param>
    /// <param name="savedInvStd">C batch inverse deviations from the forward pass.</param>
    /// <param name="gradInput">R x C dL/dx, or a dummy when inputMode is <see cref="InputNone"/>; may alias gradOutput.</param>
    /// <param name="inputMode"><see cref="InputNone"/>, <see cref="InputWrite"/> or <see cref="InputAdd"/> (one argument for
    /// both flags: a launcher takes at most 14 kernel arguments).</param>
    /// <param name="gradGamma">C dL/dgamma.</param>
    /// <param name="gradBeta">C dL/dbeta.</param>
    /// <param name="accumulateParameters">Non-zero: add to gradGamma and gradBeta.</param>
    /// <param name="rowWeights">2 x R row weights (<see cref="KernelRowWeights"/>), or a dummy when weighted == 0.</param>
    /// <param name="weighted">Non-zero: apply the row weights.</param>
    /// <remarks>Launch as <see cref="BatchNormTrainingKernel"/>: the column sums and dx in one launch.</remarks>
    public static void BatchNormBackwardKernel(FloatView x, FloatView gradOutput, int rows, int cols, FloatView gamma,
        FloatView savedMean, FloatView savedInvStd, FloatView gradInput, int inputMode, FloatView gradGamma, FloatView gradBeta,
        int accumulateParameters, FloatView rowWeights, int weighted)
    {
        var partial = SharedMemory.Allocate<float>(GroupSize);
        int tx = Group.IdxX % TileColumns, ty = Group.IdxX / TileColumns;
        int c = Grid.IdxX * TileColumns + tx;
        bool active = c < cols;
        int n = active ? rows : 0;
        float mean = active ? savedMean[c] : 0f, invStd = active ? savedInvStd[c] : 0f;

        float sumDy = 0f, sumDyXhat = 0f;
        for (int r = ty; r < n; r += TileRowLanes)
        {
            int i = r * cols + c;
            bool real = KernelRowWeights.IsReal(rowWeights, weighted, r); // selects: a padding row's NaN never reaches a sum
            float dy = gradOutput[i], xhat = (x[i] - mean) * invStd;
            sumDy += real ? dy : 0f;
            sumDyXhat += real ? dy * xhat : 0f;
        }
        sumDy = ColumnTotal(partial, sumDy, tx, ty);
        sumDyXhat = ColumnTotal(partial, sumDyXhat, tx, ty);
        if (!active) return; // after the last barrier

        if (ty == 0)
        {
            gradBeta[c] = accumulateParameters != 0 ? gradBeta[c] + sumDy : sumDy;
            gradGamma[c] = accumulateParameters != 0 ? gradGamma[c] + sumDyXhat : sumDyXhat;
        }
        if (inputMode == InputNone) return;
        float g = gamma[c], k = g * invStd / rows;
        for (int r = ty; r < rows; r += TileRowLanes)
        {
            int i = r * cols + c;
            float v = weighted == 0 ? LayerMath.NormalizeBackward(x[i], gradOutput[i], mean, invStd, k, rows, sumDy, sumDyXhat)
                : rowWeights[r] == 0f ? 0f
                : LayerMath.NormalizeBackwardWeighted(x[i], gradOutput[i], mean, invStd, g, rowWeights[rows + r], sumDy, sumDyXhat);
            gradInput[i] = inputMode == InputAdd ? gradInput[i] + v : v;
        }
    }

    /// <summary>Groups of <see cref="GroupSize"/> the batch-normalization kernels need for C columns.</summary>
    public static int ColumnTileGroups(int cols) => (cols + TileColumns - 1) / TileColumns;

    /// <summary>
    /// Maxout: y[i] = max_k x[i pieces + k] and argMax[i] = that k for i = r units + u. The first max wins;
    /// a NaN counts as the largest and +0 beats -0, as TensorPrimitives.IndexOfMax (the CPU path) decides.
    /// </summary>
    /// <param name="index">Output i = r * units + u; launch with extent R * units.</param>
    /// <param name="x">R x (units * pieces) pre-activations, the pieces of a unit adjacent.</param>
    /// <param name="pieces">Pieces per unit.</param>
    /// <param name="y">R x units outputs.</param>
    /// <param name="argMax">R x units winning pieces, for the backward pass.</param>
    public static void MaxoutKernel(Index1D index, FloatView x, int pieces, FloatView y, IntView argMax)
    {
        int start = index * pieces;
        float best = x[start];
        int bestK = 0;
        for (int k = 1; k < pieces; k++)
        {
            float v = x[start + k];
            if (float.IsNaN(best)) break;
            if (float.IsNaN(v) || v > best || (v == best && IsNegative(best) && !IsNegative(v)))
            {
                best = v;
                bestK = k;
            }
        }
        y[index] = best;
        argMax[index] = bestK;
    }

    /// <summary>Maxout backward: gradInput[i pieces + k] (+)= gradOutput[i] if k == argMax[i] else 0.</summary>
    /// <param name="index">Input element j = i * pieces + k; launch with extent R * units * pieces.</param>
    /// <param name="gradOutput">R x units dL/dy.</param>
    /// <param name="argMax">R x units winning pieces from the forward pass.</param>
    /// <param name="pieces">Pieces per unit.</param>
    /// <param name="gradInput">R x (units * pieces) dL/dx.</param>
    /// <param name="accumulate">Non-zero: add to gradInput instead of overwriting it.</param>
    public static void MaxoutBackwardKernel(Index1D index, FloatView gradOutput, IntView argMax, int pieces,
        FloatView gradInput, int accumulate)
    {
        int i = index / pieces, k = index - i * pieces;
        float v = k == argMax[i] ? gradOutput[i] : 0f;
        gradInput[index] = accumulate != 0 ? gradInput[index] + v : v;
    }

    /// <summary>
    /// A batch statistic from its column total: the total itself when the terms were weighted (sum_r u_r v_r), else
    /// the total / R.
    /// </summary>
    private static float ColumnStatistic(float total, int rows, int weighted) => weighted != 0 ? total : total / rows;

    /// <summary>
    /// The column total of <paramref name="value"/> over the group's <see cref="TileRowLanes"/> row lanes,
    /// in every thread of the column: each thread adds the 8 partials in the same order.
    /// </summary>
    private static float ColumnTotal(ArrayView<float> partial, float value, int tx, int ty)
    {
        partial[ty * TileColumns + tx] = value;
        Group.Barrier();
        float total = 0f;
        for (int lane = 0; lane < TileRowLanes; lane++)
            total += partial[lane * TileColumns + tx];
        Group.Barrier(); // everyone has read the partials before they are overwritten
        return total;
    }

    private static bool IsNegative(float v) => (Interop.FloatAsInt(v) & 0x8000_0000u) != 0;
}

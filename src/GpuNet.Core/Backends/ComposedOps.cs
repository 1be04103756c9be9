using System.Runtime.CompilerServices;
using static GpuNet.Backends.ElementOps;

namespace GpuNet.Backends;

/// <summary>
/// The default implementations of the optional, fused operations of <see cref="IBackend"/> (IBackend.Fused.cs),
/// composed from the thin core's primitives only: a new backend trains every model once it implements the
/// core, and overrides a fused operation only where one pass is faster than the composition.
/// </summary>
/// <remarks>
/// <para>Each composition follows the fused operation's contract, formula for formula (the operator structs
/// call the same <see cref="ActivationMath"/>, <see cref="LossMath"/>, <see cref="LayerMath"/> and
/// <see cref="RandomMath"/>), so the backend contract suite holds for it too. Sums go through
/// <see cref="IBackend.ColumnSum"/> and row sums through a GEMM with a column of ones, so results may differ from
/// the fused kernels' in the last bits.</para>
/// <para>Intermediate results live in per-backend scratch buffers (<see cref="Workspace"/>), allocated on first
/// use and grown when a larger size comes: after the first step of a given shape, a composed step allocates
/// nothing. Everything stays on the device except two things: <see cref="AugmentImages"/> round-trips through host
/// memory (the per-pixel resampling is not expressible in the primitives), and the optimizer update, dropout and
/// augmentation read their per-step values (learning rate, bias corrections, step counter) from the step-value
/// buffer to the host, one small download each, to use them as operator constants. Both are correct and slow, and
/// meant to be overridden: the fused backends read those values on the device.</para>
/// </remarks>
public static class ComposedOps
{
    private static readonly ConditionalWeakTable<IBackend, Workspace> Workspaces = new();

    /// <summary>Scratch buffers of one backend, by slot: distinct slots never alias within one operation.</summary>
    private sealed class Workspace
    {
        private readonly Slot<float>[] _floats = [new(), new(), new(), new(), new(), new(), new(), new()];
        private readonly Slot<int>[] _ints = [new(), new()];
        public float[] HostSource = [], HostDestination = [];
        public readonly int[] HostStepValues = new int[3];
        private readonly Views<int> _stepViews = new();
        private readonly Views<float> _weightViews = new();

        /// <summary>The step values' [index, index + width) (a step's learning rate and corrections, or its counter).</summary>
        public DeviceBuffer<int> StepView(DeviceBuffer<int> values, int index, int width) => _stepViews.Get(values, index, width);

        /// <summary>A row of a row-weights matrix (the loss row or the gradient row).</summary>
        public DeviceBuffer<float> WeightView(DeviceBuffer<float> weights, int offset, int length) => _weightViews.Get(weights, offset, length);

        public DeviceBuffer<float> Floats(IBackend backend, int slot, int length) => _floats[slot].Get(backend, length);

        public DeviceBuffer<int> Ints(IBackend backend, int slot, int length) => _ints[slot].Get(backend, length);
    }

    /// <summary>
    /// Views of the callers' buffers, by (offset, length), each made once (no allocation per step); weakly keyed by the
    /// buffer, so a graph's buffer that is gone (a rebuilt or disposed model) takes its views with it.
    /// </summary>
    private sealed class Views<T> where T : unmanaged
    {
        private readonly ConditionalWeakTable<DeviceBuffer<T>, Dictionary<(int, int), DeviceBuffer<T>>> _views = new();

        public DeviceBuffer<T> Get(DeviceBuffer<T> buffer, int offset, int length)
        {
            var views = _views.GetValue(buffer, _ => []);
            if (!views.TryGetValue((offset, length), out var view)) views[(offset, length)] = view = buffer.Slice(offset, length);
            return view;
        }
    }

    /// <summary>One scratch buffer and the views of it handed out, by length (each created once: no allocation per step).</summary>
    private sealed class Slot<T> where T : unmanaged
    {
        private DeviceBuffer<T>? _buffer;
        private readonly Dictionary<int, DeviceBuffer<T>> _views = [];

        public DeviceBuffer<T> Get(IBackend backend, int length)
        {
            length = Math.Max(length, 1);
            if (_buffer is null || _buffer.Length < length)
            {
                int grown = Math.Max(length, (_buffer?.Length ?? 0) * 3 / 2); // a slowly rising size does not reallocate every time
                _buffer?.Dispose();
                _buffer = backend.Allocate<T>(grown);
                _views.Clear();
            }
            if (!_views.TryGetValue(length, out var view)) _views[length] = view = _buffer.Slice(0, length);
            return view;
        }
    }

    private static Workspace Scratch(IBackend backend) => Workspaces.GetValue(backend, _ => new Workspace());

    private static DeviceBuffer<float> Floats(IBackend backend, int slot, int length) => Scratch(backend).Floats(backend, slot, length);

    /// <summary>A whole-buffer fill names its own buffer when that buffer belongs to another backend (the primitives would name theirs).</summary>
    private static void RequireOwn<T>(IBackend backend, DeviceBuffer<T>? buffer, string name) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (!ReferenceEquals(buffer.Backend, backend))
            throw new ArgumentException($"Buffer '{name}' lives on {buffer.Backend.Name}, not on {backend.Name}. Allocate it with the backend that uses it.", name);
    }

    private static void Require<T>(IBackend backend, DeviceBuffer<T>? buffer, long needed, string name) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer.Length < needed)
            throw new ArgumentException($"Buffer '{name}' has {buffer.Length} elements; this operation needs at least {needed}.", name);
    }

    private static void RequireShape(int rows, int cols, string what)
    {
        if (rows < 0 || cols < 0)
            throw new ArgumentOutOfRangeException(nameof(rows), $"{what} needs non-negative dimensions; got {rows} x {cols}.");
    }

    /// <summary>result[r] = sum_c x[r, c]: a GEMM with a column of ones (scratch slot 7).</summary>
    private static void RowSum(IBackend b, DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> result)
    {
        var ones = Floats(b, 7, cols);
        b.Generate(new Constant(1f), ones, cols);
        b.Gemm(false, false, rows, 1, cols, 1f, x, ones, 0f, result);
    }

    /// <summary>
    /// The step's values (learning rate and bias corrections as float bits, or a step counter) read to the host: the
    /// composed update and dropout take them as operator constants. One synchronization per call, where a fused
    /// backend reads them on the device.
    /// </summary>
    private static ReadOnlySpan<int> ReadStepValues(IBackend b, DeviceBuffer<int> values, int index, int width)
    {
        StepValueMath.Require(values, index, width, "stepValues");
        var ws = Scratch(b);
        var host = ws.HostStepValues.AsSpan(0, width);
        b.Download(ws.StepView(values, index, width), host);
        return host;
    }

    /// <summary>The loss row (first R values) and the gradient row (next R) of a row-weights matrix, as buffers (made once).</summary>
    private static (DeviceBuffer<float> Loss, DeviceBuffer<float> Gradient) WeightRows(IBackend b, DeviceBuffer<float> weights, int rows)
    {
        var ws = Scratch(b);
        return (ws.WeightView(weights, 0, rows), ws.WeightView(weights, rows, rows));
    }

    /// <summary>
    /// Applies row weights to an R x W block in place: each value times its row's weight, exactly 0 in padding rows
    /// (<see cref="Weighted"/>). For the per-row or per-element losses before they are summed.
    /// </summary>
    private static void WeighRows(IBackend b, DeviceBuffer<float> values, int rows, int width, DeviceBuffer<float> rowWeight) =>
        b.Zip(new Weighted(), values, rowWeight, values, rows, width, Broadcast.Columns, false);

    /// <summary>
    /// A gradient over R x W (already times gradScale) taken through row weights in place: times each row's gradient weight,
    /// exactly 0 in padding rows.
    /// </summary>
    private static void WeighGradient(IBackend b, DeviceBuffer<float> grad, int rows, int width, DeviceBuffer<float> weights)
    {
        var (loss, gradient) = WeightRows(b, weights, rows);
        b.Zip(new Multiply(), grad, gradient, grad, rows, width, Broadcast.Columns, false);
        b.Zip(new Masked(), grad, loss, grad, rows, width, Broadcast.Columns, false);
    }

    /// <summary>lossSum[0] += sum of the first count elements of values.</summary>
    private static void SumInto(IBackend b, DeviceBuffer<float> values, int count, DeviceBuffer<float> lossSum) =>
        b.ColumnSum(values, count, 1, lossSum, accumulate: true);

    // ---- element-wise and training basics --------------------------------------------------

    public static void Fill(IBackend b, DeviceBuffer<float> buffer, float value)
    {
        RequireOwn(b, buffer, nameof(buffer));
        b.Generate(new Constant(value), buffer, buffer.Length);
    }

    public static void BiasAdd(IBackend b, DeviceBuffer<float> x, DeviceBuffer<float> bias, int rows, int cols)
    {
        RequireShape(rows, cols, "BiasAdd");
        Require(b, x, (long)rows * cols, nameof(x)); Require(b, bias, cols, nameof(bias));
        b.Zip(new Add(), x, bias, x, rows, cols, Broadcast.Rows, accumulate: false);
    }

    public static void Activation(IBackend b, ActivationKind kind, float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y, int count)
    {
        ActivationMath.RequireKnown(kind);
        b.Map(new Activation(kind, alpha), x, y, count);
    }

    public static void ActivationBackward(IBackend b, ActivationKind kind, float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y,
        DeviceBuffer<float> gradOutput, DeviceBuffer<float> gradInput, int count, bool accumulate)
    {
        ActivationMath.RequireKnown(kind);
        if (kind == ActivationKind.Step) throw ActivationMath.StepHasNoGradient();
        Require(b, x, count, nameof(x)); Require(b, y, count, nameof(y));
        Require(b, gradOutput, count, nameof(gradOutput)); Require(b, gradInput, count, nameof(gradInput));
        var derivative = Floats(b, 0, count);
        b.Zip(new ActivationDerivative(kind, alpha), x, y, derivative, 1, count, Broadcast.None, false);
        b.Zip(new Multiply(), gradOutput, derivative, gradInput, 1, count, Broadcast.None, accumulate);
    }

    public static void SgdUpdate(IBackend b, DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, float learningRate)
    {
        Require(b, parameters, count, nameof(parameters)); Require(b, gradients, count, nameof(gradients));
        b.Zip(new Combine(1f, -learningRate), parameters, gradients, parameters, 1, count, Broadcast.None, false); // w - lr g
    }

    public static void RandomUniform(IBackend b, DeviceBuffer<float> buffer, float low, float high, ulong seed, uint stream)
    {
        RequireOwn(b, buffer, nameof(buffer));
        b.Generate(new Uniform(stream, seed, low, high - low), buffer, buffer.Length);
    }

    public static void RandomNormal(IBackend b, DeviceBuffer<float> buffer, float mean, float stddev, ulong seed, uint stream)
    {
        RequireOwn(b, buffer, nameof(buffer));
        b.Generate(new Normal(stream, seed, mean, stddev), buffer, buffer.Length);
    }

    // ---- softmax losses and accuracy -------------------------------------------------------

    /// <summary>
    /// The shared first half of the softmax losses: shifted = x - rowmax (slot 1), sumExp = sum_c exp(shifted)
    /// (slot 3), the probabilities into <paramref name="probabilities"/> (or slot 2), and logSum = log sumExp (slot 4).
    /// </summary>
    private static (DeviceBuffer<float> Shifted, DeviceBuffer<float> P, DeviceBuffer<float> LogSum) SoftmaxParts(
        IBackend b, DeviceBuffer<float> logits, int rows, int cols, DeviceBuffer<float>? probabilities)
    {
        int n = rows * cols;
        var argMax = Scratch(b).Ints(b, 0, rows);
        var max = Floats(b, 0, rows);
        b.ArgMax(logits, rows, cols, argMax);
        b.TakeAlongRows(logits, argMax, rows, cols, max);
        var shifted = Floats(b, 1, n);
        b.Zip(new Subtract(), logits, max, shifted, rows, cols, Broadcast.Columns, false);
        var p = probabilities ?? Floats(b, 2, n);
        b.Map(new Unary(UnaryOp.Exp), shifted, p, n);
        var sumExp = Floats(b, 3, rows);
        RowSum(b, p, rows, cols, sumExp);
        b.Zip(new Divide(), p, sumExp, p, rows, cols, Broadcast.Columns, false);
        var logSum = Floats(b, 4, rows);
        b.Map(new Unary(UnaryOp.Log), sumExp, logSum, rows);
        return (shifted, p, logSum);
    }

    /// <summary>The checks both softmax losses make; returns R x C.</summary>
    private static long RequireSoftmaxLoss(IBackend b, string what, DeviceBuffer<float> logits, int rows, int cols,
        DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, DeviceBuffer<float> lossSum)
    {
        RequireShape(rows, cols, what);
        long n = (long)rows * cols;
        Require(b, logits, n, nameof(logits)); Require(b, lossSum, 1, nameof(lossSum));
        if (probabilities is not null) Require(b, probabilities, n, nameof(probabilities));
        if (gradLogits is not null) Require(b, gradLogits, n, nameof(gradLogits));
        return n;
    }

    public static void SoftmaxCrossEntropy(IBackend b, DeviceBuffer<float> logits, DeviceBuffer<int> labels, int rows, int cols,
        DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null)
    {
        Require(b, labels, rows, nameof(labels));
        RowWeights.Require(rowWeights, rows);
        long n = RequireSoftmaxLoss(b, "SoftmaxCrossEntropy", logits, rows, cols, probabilities, gradLogits, lossSum);
        if (n == 0) return;
        var (shifted, p, logSum) = SoftmaxParts(b, logits, rows, cols, probabilities);
        // -log p[label] = logSum - (x[label] - max); a label outside [0, C) takes NaN, so the loss is NaN
        var picked = Floats(b, 5, rows);
        b.TakeAlongRows(shifted, labels, rows, cols, picked);
        b.Zip(new Subtract(), logSum, picked, picked, 1, rows, Broadcast.None, false);
        if (rowWeights is not null) WeighRows(b, picked, rows, 1, WeightRows(b, rowWeights, rows).Loss);
        SumInto(b, picked, rows, lossSum);
        if (gradLogits is null) return;
        // gradScale (p - onehot(label)): scale p, then subtract gradScale at each row's label
        b.Map(new Affine(gradScale, 0f), p, gradLogits, (int)n);
        var minusScale = Floats(b, 6, rows);
        b.Generate(new Constant(-gradScale), minusScale, rows);
        b.PutAlongRows(minusScale, labels, rows, cols, gradLogits);
        if (rowWeights is not null) WeighGradient(b, gradLogits, rows, cols, rowWeights);
    }

    public static void SoftmaxCrossEntropyDense(IBackend b, DeviceBuffer<float> logits, DeviceBuffer<float> targets, int rows, int cols,
        DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null)
    {
        Require(b, targets, (long)rows * cols, nameof(targets));
        RowWeights.Require(rowWeights, rows);
        long n = RequireSoftmaxLoss(b, "SoftmaxCrossEntropyDense", logits, rows, cols, probabilities, gradLogits, lossSum);
        if (n == 0) return;
        var (shifted, p, logSum) = SoftmaxParts(b, logits, rows, cols, probabilities);
        // -sum_c t_c log p_c with log p_c = shifted_c - logSum
        b.Zip(new Subtract(), shifted, logSum, shifted, rows, cols, Broadcast.Columns, false);
        b.Zip(new Multiply(), targets, shifted, shifted, rows, cols, Broadcast.None, false);
        b.Map(new Affine(-1f, 0f), shifted, shifted, (int)n);
        if (rowWeights is not null) WeighRows(b, shifted, rows, cols, WeightRows(b, rowWeights, rows).Loss);
        SumInto(b, shifted, (int)n, lossSum);
        if (gradLogits is null) return;
        // gradScale (p sum_c t_c - t)
        var targetSum = Floats(b, 5, rows);
        RowSum(b, targets, rows, cols, targetSum);
        var weighted = Floats(b, 1, (int)n);
        b.Zip(new Multiply(), p, targetSum, weighted, rows, cols, Broadcast.Columns, false);
        b.Zip(new Subtract(), weighted, targets, weighted, rows, cols, Broadcast.None, false);
        b.Map(new Affine(gradScale, 0f), weighted, gradLogits, (int)n);
        if (rowWeights is not null) WeighGradient(b, gradLogits, rows, cols, rowWeights);
    }

    public static void SoftmaxBackward(IBackend b, DeviceBuffer<float> y, DeviceBuffer<float> gradOutput, DeviceBuffer<float> gradInput,
        int rows, int cols, bool accumulate)
    {
        RequireShape(rows, cols, "SoftmaxBackward");
        long n = (long)rows * cols;
        Require(b, y, n, nameof(y)); Require(b, gradOutput, n, nameof(gradOutput)); Require(b, gradInput, n, nameof(gradInput));
        if (rows == 0 || cols == 0) return;
        // dx = y (dy - sum_j dy_j y_j)
        var product = Floats(b, 0, (int)n);
        b.Zip(new Multiply(), gradOutput, y, product, rows, cols, Broadcast.None, false);
        var dot = Floats(b, 1, rows);
        RowSum(b, product, rows, cols, dot);
        b.Zip(new Subtract(), gradOutput, dot, product, rows, cols, Broadcast.Columns, false);
        b.Zip(new Multiply(), y, product, gradInput, rows, cols, Broadcast.None, accumulate);
    }

    public static void CountCorrect(IBackend b, DeviceBuffer<float> scores, DeviceBuffer<int> labels, int rows, int cols, DeviceBuffer<int> correct,
        DeviceBuffer<float>? rowWeights = null)
    {
        RowWeights.Require(rowWeights, rows);
        RequireShape(rows, cols, "CountCorrect");
        Require(b, scores, (long)rows * cols, nameof(scores)); Require(b, labels, rows, nameof(labels)); Require(b, correct, 1, nameof(correct));
        if (rows == 0 || cols == 0) return;
        // one-hot of each row's argmax, read at the label: 1 where they agree (NaN for a label out of range)
        var argMax = Scratch(b).Ints(b, 0, rows);
        b.ArgMax(scores, rows, cols, argMax);
        var oneHot = Floats(b, 0, rows * cols);
        b.Generate(new Constant(0f), oneHot, rows * cols);
        var ones = Floats(b, 1, rows);
        b.Generate(new Constant(1f), ones, rows);
        b.PutAlongRows(ones, argMax, rows, cols, oneHot);
        var hit = Floats(b, 2, rows);
        b.TakeAlongRows(oneHot, labels, rows, cols, hit);
        if (rowWeights is not null) b.Zip(new Masked(), hit, WeightRows(b, rowWeights, rows).Loss, hit, 1, rows, Broadcast.None, false);
        b.Count(new Is(1f), hit, hit, rows, correct);
    }

    public static void CountCorrectBinary(IBackend b, DeviceBuffer<float> scores, DeviceBuffer<int> labels, int rows, float threshold,
        DeviceBuffer<int> correct, DeviceBuffer<float>? rowWeights = null)
    {
        RowWeights.Require(rowWeights, rows);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        Require(b, scores, rows, nameof(scores)); Require(b, labels, rows, nameof(labels)); Require(b, correct, 1, nameof(correct));
        if (rows == 0) return;
        // the prediction as a two-column one-hot [1 - s > t, s > t], read at the label (0 or 1; anything else never counts)
        var predicted = Floats(b, 0, rows);
        b.Map(new Above(threshold), scores, predicted, rows);
        var pair = Floats(b, 1, rows * 2);
        b.CopyColumns(predicted, 1, 0, pair, 2, 1, rows, 1, false);
        b.Map(new Affine(-1f, 1f), predicted, predicted, rows);
        b.CopyColumns(predicted, 1, 0, pair, 2, 0, rows, 1, false);
        b.TakeAlongRows(pair, labels, rows, 2, predicted);
        if (rowWeights is not null) b.Zip(new Masked(), predicted, WeightRows(b, rowWeights, rows).Loss, predicted, 1, rows, Broadcast.None, false);
        b.Count(new Is(1f), predicted, predicted, rows, correct);
    }

    public static void CountCorrectMultiLabel(IBackend b, DeviceBuffer<float> scores, DeviceBuffer<float> targets, int count, float threshold,
        DeviceBuffer<int> correct, DeviceBuffer<float>? rowWeights = null, int width = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(b, scores, count, nameof(scores)); Require(b, targets, count, nameof(targets)); Require(b, correct, 1, nameof(correct));
        int rows = RowWeights.RowsOf(rowWeights, count, width);
        if (rowWeights is null || count == 0)
        {
            b.Count(new MultiLabelHit(threshold), scores, targets, count, correct);
            return;
        }
        // the hits as values, dropped in padding rows, then counted
        var hits = Floats(b, 0, count);
        b.Zip(new MultiLabelHitValue(threshold), scores, targets, hits, 1, count, Broadcast.None, false);
        b.Zip(new Masked(), hits, WeightRows(b, rowWeights, rows).Loss, hits, rows, width, Broadcast.Columns, false);
        b.Count(new Is(1f), hits, hits, count, correct);
    }

    // ---- element-wise losses ---------------------------------------------------------------

    /// <summary>lossSum += sum loss(a, b); gradient = grad(a, b) when wanted.</summary>
    private static void ElementwiseLoss<TLoss, TGrad>(IBackend b, TLoss loss, TGrad gradient, DeviceBuffer<float> a, DeviceBuffer<float> t,
        int count, DeviceBuffer<float>? grad, DeviceBuffer<float> lossSum, string aName, string gradName,
        DeviceBuffer<float>? rowWeights, int width)
        where TLoss : struct, IBinaryOperator where TGrad : struct, IBinaryOperator
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(b, a, count, aName); Require(b, t, count, "targets"); Require(b, lossSum, 1, nameof(lossSum));
        if (grad is not null) Require(b, grad, count, gradName);
        int rows = RowWeights.RowsOf(rowWeights, count, width);
        if (count == 0) return;
        var values = Floats(b, 0, count);
        b.Zip(loss, a, t, values, 1, count, Broadcast.None, false);
        if (rowWeights is not null) WeighRows(b, values, rows, width, WeightRows(b, rowWeights, rows).Loss);
        SumInto(b, values, count, lossSum);
        if (grad is null) return;
        b.Zip(gradient, a, t, grad, 1, count, Broadcast.None, false);
        if (rowWeights is not null) WeighGradient(b, grad, rows, width, rowWeights);
    }

    public static void SigmoidCrossEntropy(IBackend b, DeviceBuffer<float> logits, DeviceBuffer<float> targets, int count,
        DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1)
    {
        int rows = RowWeights.RowsOf(rowWeights, count, width);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(b, logits, count, nameof(logits)); Require(b, targets, count, nameof(targets)); Require(b, lossSum, 1, nameof(lossSum));
        if (probabilities is not null) Require(b, probabilities, count, nameof(probabilities));
        if (gradLogits is not null) Require(b, gradLogits, count, nameof(gradLogits));
        if (count == 0) return;
        var values = Floats(b, 0, count);
        b.Zip(new SigmoidCrossEntropy(), logits, targets, values, 1, count, Broadcast.None, false);
        if (rowWeights is not null) WeighRows(b, values, rows, width, WeightRows(b, rowWeights, rows).Loss);
        SumInto(b, values, count, lossSum);
        if (probabilities is null && gradLogits is null) return;
        var s = probabilities ?? Floats(b, 1, count);
        b.Map(new Activation(ActivationKind.Sigmoid, 0f), logits, s, count);
        if (gradLogits is null) return;
        b.Zip(new SigmoidCrossEntropyGradient(gradScale), s, targets, gradLogits, 1, count, Broadcast.None, false);
        if (rowWeights is not null) WeighGradient(b, gradLogits, rows, width, rowWeights);
    }

    public static void CrossEntropyFromProbabilities(IBackend b, DeviceBuffer<float> probabilities, DeviceBuffer<float> targets, int count,
        float epsilon, DeviceBuffer<float>? gradProbabilities, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1) =>
        ElementwiseLoss(b, new CrossEntropy(epsilon), new CrossEntropyGradient(epsilon, gradScale), probabilities, targets, count,
            gradProbabilities, lossSum, nameof(probabilities), nameof(gradProbabilities), rowWeights, width);

    public static void BinaryCrossEntropyFromProbabilities(IBackend b, DeviceBuffer<float> probabilities, DeviceBuffer<float> targets, int count,
        float epsilon, DeviceBuffer<float>? gradProbabilities, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1) =>
        ElementwiseLoss(b, new BinaryCrossEntropy(epsilon), new BinaryCrossEntropyGradient(epsilon, gradScale), probabilities, targets, count,
            gradProbabilities, lossSum, nameof(probabilities), nameof(gradProbabilities), rowWeights, width);

    public static void MeanSquaredError(IBackend b, DeviceBuffer<float> predictions, DeviceBuffer<float> targets, int count,
        DeviceBuffer<float>? gradPredictions, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1) =>
        ElementwiseLoss(b, new SquaredError(), new SquaredErrorGradient(gradScale), predictions, targets, count,
            gradPredictions, lossSum, nameof(predictions), nameof(gradPredictions), rowWeights, width);

    // ---- layers ----------------------------------------------------------------------------

    public static void Multiply(IBackend b, DeviceBuffer<float> a, DeviceBuffer<float> bValues, DeviceBuffer<float> result, int count, bool accumulate) =>
        b.Zip(new Multiply(), a, bValues, result, 1, count, Broadcast.None, accumulate);

    public static void Unary(IBackend b, UnaryOp op, DeviceBuffer<float> x, DeviceBuffer<float> y, int count)
    {
        UnaryMath.RequireKnown(op);
        b.Map(new Unary(op), x, y, count);
    }

    public static void Scale(IBackend b, DeviceBuffer<float> buffer, int count, float factor) =>
        b.Map(new Affine(factor, 0f), buffer, buffer, count);

    public static void ColumnAffine(IBackend b, DeviceBuffer<float> x, DeviceBuffer<float> scale, DeviceBuffer<float>? shift, DeviceBuffer<float> y,
        int rows, int cols, bool accumulate)
    {
        RequireShape(rows, cols, "ColumnAffine");
        long n = (long)rows * cols;
        Require(b, x, n, nameof(x)); Require(b, y, n, nameof(y)); Require(b, scale, cols, nameof(scale));
        if (shift is null)
        {
            b.Zip(new Multiply(), x, scale, y, rows, cols, Broadcast.Rows, accumulate);
            return;
        }
        Require(b, shift, cols, nameof(shift));
        var scaled = Floats(b, 0, (int)n);
        b.Zip(new Multiply(), x, scale, scaled, rows, cols, Broadcast.Rows, false);
        b.Zip(new Add(), scaled, shift, y, rows, cols, Broadcast.Rows, accumulate);
    }

    public static void Dropout(IBackend b, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> mask, int count, float rate,
        ulong seed, uint purpose, DeviceBuffer<int> stepValues, int stepIndex)
    {
        Require(b, x, count, nameof(x)); Require(b, y, count, nameof(y)); Require(b, mask, count, nameof(mask));
        var counter = ReadStepValues(b, stepValues, stepIndex, 2);
        ulong step = StepValueMath.Counter(counter[0], counter[1]);
        b.Generate(new DropoutMask(step, purpose, seed, rate, 1f / (1f - rate)), mask, count);
        b.Zip(new Multiply(), x, mask, y, 1, count, Broadcast.None, false);
    }

    public static void L1L2Penalty(IBackend b, DeviceBuffer<float> parameters, int count, float l1, float l2, DeviceBuffer<float> lossSum)
    {
        Require(b, parameters, count, nameof(parameters)); Require(b, lossSum, 1, nameof(lossSum));
        if (count == 0) return;
        var values = Floats(b, 0, count);
        b.Map(new L1L2Penalty(l1, l2), parameters, values, count);
        SumInto(b, values, count, lossSum);
    }

    public static void L1L2Gradient(IBackend b, DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, float l1, float l2)
    {
        Require(b, parameters, count, nameof(parameters)); Require(b, gradients, count, nameof(gradients));
        b.Map(new L1L2Gradient(l1, l2), parameters, gradients, count, accumulate: true);
    }

    public static void ClipByValue(IBackend b, DeviceBuffer<float> x, int count, float limit) =>
        b.Map(new ClipByValue(limit), x, x, count);

    public static void ScaleToMaxNorm(IBackend b, DeviceBuffer<float> x, int count, DeviceBuffer<float> sumSquares, float maxNorm)
    {
        Require(b, x, count, nameof(x)); Require(b, sumSquares, 1, nameof(sumSquares));
        var factor = Floats(b, 0, 1);
        b.Map(new MaxNormFactor(maxNorm), sumSquares, factor, 1);
        b.Zip(new Multiply(), x, factor, x, 1, count, Broadcast.Scalar, false);
    }

    public static void BatchNormTraining(IBackend b, DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> gamma, DeviceBuffer<float> beta,
        DeviceBuffer<float> y, DeviceBuffer<float> savedMean, DeviceBuffer<float> savedInvStd,
        DeviceBuffer<float> runningMean, DeviceBuffer<float> runningVariance, float momentum, float epsilon,
        DeviceBuffer<float>? rowWeights = null)
    {
        RequireShape(rows, cols, "BatchNormTraining");
        RowWeights.Require(rowWeights, rows);
        long n = (long)rows * cols;
        Require(b, x, n, nameof(x)); Require(b, y, n, nameof(y));
        Require(b, gamma, cols, nameof(gamma)); Require(b, beta, cols, nameof(beta));
        Require(b, savedMean, cols, nameof(savedMean)); Require(b, savedInvStd, cols, nameof(savedInvStd));
        Require(b, runningMean, cols, nameof(runningMean)); Require(b, runningVariance, cols, nameof(runningVariance));
        if (rows == 0 || cols == 0) return;
        var centered = Floats(b, 0, (int)n);
        var squares = Floats(b, 1, (int)n);
        var variance = Floats(b, 2, cols);
        if (rowWeights is null)
        {
            float inverseRows = 1f / rows;
            b.ColumnSum(x, rows, cols, savedMean, false);
            b.Map(new Affine(inverseRows, 0f), savedMean, savedMean, cols);
            b.Zip(new Subtract(), x, savedMean, centered, rows, cols, Broadcast.Rows, false);
            b.Map(new Square(), centered, squares, (int)n);
            b.ColumnSum(squares, rows, cols, variance, false);
            b.Map(new Affine(inverseRows, 0f), variance, variance, cols); // biased, as Keras uses for both
        }
        else
        {
            // mean = u^T x and variance = u^T (x - mean)^2 with u the gradient weights, padding rows dropped from both
            var (loss, gradient) = WeightRows(b, rowWeights, rows);
            var u = Floats(b, 3, rows);
            b.Zip(new Masked(), gradient, loss, u, 1, rows, Broadcast.None, false);
            b.Zip(new Masked(), x, loss, squares, rows, cols, Broadcast.Columns, false);
            b.Gemm(false, false, 1, cols, rows, 1f, u, squares, 0f, savedMean);
            b.Zip(new Subtract(), x, savedMean, centered, rows, cols, Broadcast.Rows, false);
            b.Map(new Square(), centered, squares, (int)n);
            b.Zip(new Masked(), squares, loss, squares, rows, cols, Broadcast.Columns, false);
            b.Gemm(false, false, 1, cols, rows, 1f, u, squares, 0f, variance);
        }
        b.Map(new InverseSqrt(epsilon), variance, savedInvStd, cols);
        b.Zip(new Combine(momentum, 1f - momentum), runningMean, savedMean, runningMean, 1, cols, Broadcast.None, false);
        b.Zip(new Combine(momentum, 1f - momentum), runningVariance, variance, runningVariance, 1, cols, Broadcast.None, false);
        // y = gamma (x - mean) invStd + beta
        b.Zip(new Multiply(), centered, gamma, centered, rows, cols, Broadcast.Rows, false);
        b.Zip(new Multiply(), centered, savedInvStd, centered, rows, cols, Broadcast.Rows, false);
        b.Zip(new Add(), centered, beta, y, rows, cols, Broadcast.Rows, false);
    }

    public static void BatchNormInference(IBackend b, DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> gamma, DeviceBuffer<float> beta,
        DeviceBuffer<float> runningMean, DeviceBuffer<float> runningVariance, float epsilon, DeviceBuffer<float> y)
    {
        RequireShape(rows, cols, "BatchNormInference");
        long n = (long)rows * cols;
        Require(b, x, n, nameof(x)); Require(b, y, n, nameof(y));
        Require(b, gamma, cols, nameof(gamma)); Require(b, beta, cols, nameof(beta));
        Require(b, runningMean, cols, nameof(runningMean)); Require(b, runningVariance, cols, nameof(runningVariance));
        if (rows == 0 || cols == 0) return;
        var invStd = Floats(b, 0, cols);
        b.Map(new InverseSqrt(epsilon), runningVariance, invStd, cols);
        var centered = Floats(b, 1, (int)n);
        b.Zip(new Subtract(), x, runningMean, centered, rows, cols, Broadcast.Rows, false);
        b.Zip(new Multiply(), centered, gamma, centered, rows, cols, Broadcast.Rows, false);
        b.Zip(new Multiply(), centered, invStd, centered, rows, cols, Broadcast.Rows, false);
        b.Zip(new Add(), centered, beta, y, rows, cols, Broadcast.Rows, false);
    }

    public static void BatchNormBackward(IBackend b, DeviceBuffer<float> x, DeviceBuffer<float> gradOutput, int rows, int cols, DeviceBuffer<float> gamma,
        DeviceBuffer<float> savedMean, DeviceBuffer<float> savedInvStd, DeviceBuffer<float>? gradInput,
        DeviceBuffer<float> gradGamma, DeviceBuffer<float> gradBeta, bool accumulateInput, bool accumulateParameters,
        DeviceBuffer<float>? rowWeights = null)
    {
        RequireShape(rows, cols, "BatchNormBackward");
        RowWeights.Require(rowWeights, rows);
        long n = (long)rows * cols;
        Require(b, x, n, nameof(x)); Require(b, gradOutput, n, nameof(gradOutput));
        Require(b, gamma, cols, nameof(gamma)); Require(b, savedMean, cols, nameof(savedMean)); Require(b, savedInvStd, cols, nameof(savedInvStd));
        Require(b, gradGamma, cols, nameof(gradGamma)); Require(b, gradBeta, cols, nameof(gradBeta));
        if (gradInput is not null) Require(b, gradInput, n, nameof(gradInput));
        if (rows == 0 || cols == 0) return;
        // xhat = (x - mean) invStd; dbeta = sum_r dy; dgamma = sum_r dy xhat
        var xhat = Floats(b, 0, (int)n);
        b.Zip(new Subtract(), x, savedMean, xhat, rows, cols, Broadcast.Rows, false);
        b.Zip(new Multiply(), xhat, savedInvStd, xhat, rows, cols, Broadcast.Rows, false);
        var dyXhat = Floats(b, 1, (int)n);
        b.Zip(new Multiply(), gradOutput, xhat, dyXhat, rows, cols, Broadcast.None, false);
        var sumDy = Floats(b, 2, cols);
        var sumDyXhat = Floats(b, 3, cols);
        var dy = gradOutput;
        if (rowWeights is not null)
        {
            // the sums over the real rows only: padding rows' values dropped first
            var loss = WeightRows(b, rowWeights, rows).Loss;
            dy = Floats(b, 5, (int)n);
            b.Zip(new Masked(), gradOutput, loss, dy, rows, cols, Broadcast.Columns, false);
            b.Zip(new Masked(), dyXhat, loss, dyXhat, rows, cols, Broadcast.Columns, false);
        }
        b.ColumnSum(dy, rows, cols, sumDy, false);
        b.ColumnSum(dyXhat, rows, cols, sumDyXhat, false);
        b.Map(new Affine(1f, 0f), sumDy, gradBeta, cols, accumulateParameters);
        b.Map(new Affine(1f, 0f), sumDyXhat, gradGamma, cols, accumulateParameters);
        if (gradInput is null) return;
        if (rowWeights is not null)
        {
            // dx = gamma invStd (dy - u (dbeta + xhat dgamma)) in real rows, 0 in padding rows
            var (loss, gradient) = WeightRows(b, rowWeights, rows);
            var u = Floats(b, 6, rows);
            b.Zip(new Masked(), gradient, loss, u, 1, rows, Broadcast.None, false);
            b.Zip(new Multiply(), xhat, sumDyXhat, xhat, rows, cols, Broadcast.Rows, false);
            b.Zip(new Add(), xhat, sumDy, xhat, rows, cols, Broadcast.Rows, false);
            b.Zip(new Multiply(), xhat, u, xhat, rows, cols, Broadcast.Columns, false);
            b.Zip(new Subtract(), dy, xhat, xhat, rows, cols, Broadcast.None, false);
            var gammaInvStd = Floats(b, 4, cols);
            b.Zip(new Multiply(), gamma, savedInvStd, gammaInvStd, 1, cols, Broadcast.None, false);
            b.Zip(new Multiply(), xhat, gammaInvStd, xhat, rows, cols, Broadcast.Rows, false);
            b.Zip(new Masked(), xhat, loss, gradInput, rows, cols, Broadcast.Columns, accumulateInput);
            return;
        }
        // dx = k (R dy - dbeta - xhat dgamma), k = gamma invStd / R
        b.Zip(new Multiply(), xhat, sumDyXhat, xhat, rows, cols, Broadcast.Rows, false);
        b.Zip(new Combine(rows, -1f), gradOutput, xhat, xhat, rows, cols, Broadcast.None, false);
        b.Zip(new Subtract(), xhat, sumDy, xhat, rows, cols, Broadcast.Rows, false);
        var k = Floats(b, 4, cols);
        b.Zip(new Multiply(), gamma, savedInvStd, k, 1, cols, Broadcast.None, false);
        b.Map(new Affine(1f / rows, 0f), k, k, cols);
        b.Zip(new Multiply(), xhat, k, gradInput, rows, cols, Broadcast.Rows, accumulateInput);
    }

    public static void Maxout(IBackend b, DeviceBuffer<float> x, int rows, int units, int pieces, DeviceBuffer<float> y, DeviceBuffer<int> argMax)
    {
        RequireShape(rows, units, "Maxout");
        Require(b, x, (long)rows * units * pieces, nameof(x)); Require(b, y, (long)rows * units, nameof(y)); Require(b, argMax, (long)rows * units, nameof(argMax));
        if (rows == 0 || units == 0) return;
        // each unit's pieces are one row of a (R units) x pieces matrix
        b.ArgMax(x, rows * units, pieces, argMax);
        b.TakeAlongRows(x, argMax, rows * units, pieces, y);
    }

    public static void MaxoutBackward(IBackend b, DeviceBuffer<float> gradOutput, DeviceBuffer<int> argMax, int rows, int units, int pieces,
        DeviceBuffer<float> gradInput, bool accumulate)
    {
        RequireShape(rows, units, "MaxoutBackward");
        int n = rows * units * pieces;
        Require(b, gradOutput, (long)rows * units, nameof(gradOutput)); Require(b, argMax, (long)rows * units, nameof(argMax)); Require(b, gradInput, n, nameof(gradInput));
        if (!accumulate) b.Generate(new Constant(0f), gradInput, n);
        if (rows == 0 || units == 0) return;
        b.PutAlongRows(gradOutput, argMax, rows * units, pieces, gradInput);
    }

    // ---- optimization and data -------------------------------------------------------------

    public static void OptimizerUpdate(IBackend b, OptimizerStep step, DeviceBuffer<int> stepValues, int valueIndex,
        DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, DeviceBuffer<float>? state1, DeviceBuffer<float>? state2, int count)
    {
        OptimizerMath.RequireStates(step, state1, state2, count);
        Require(b, parameters, count, nameof(parameters)); Require(b, gradients, count, nameof(gradients));
        if (OptimizerMath.UsesState1(step.Kind)) Require(b, state1, count, nameof(state1));
        if (OptimizerMath.UsesState2(step.Kind)) Require(b, state2, count, nameof(state2));
        var values = ReadStepValues(b, stepValues, valueIndex, 3);
        step = OptimizerMath.WithStepValues(step, values[0], values[1], values[2]);
        if (count == 0) return;
        float lr = step.LearningRate;
        var w = parameters; var g = gradients;
        // each line applies the float operations of OptimizerMath.Rule in the same order
        switch (step.Kind)
        {
            case OptimizerKind.Sgd: // w - lr g
                b.Zip(new Combine(1f, -lr), w, g, w, 1, count, Broadcast.None, false);
                break;
            case OptimizerKind.Momentum: // s1 = b1 s1 - lr g; w + s1
                b.Zip(new Combine(step.Beta1, -lr), state1!, g, state1!, 1, count, Broadcast.None, false);
                b.Zip(new Add(), w, state1!, w, 1, count, Broadcast.None, false);
                break;
            case OptimizerKind.Nesterov: // s1 = b1 s1 - lr g; (w + b1 s1) - lr g
                b.Zip(new Combine(step.Beta1, -lr), state1!, g, state1!, 1, count, Broadcast.None, false);
                b.Zip(new Combine(1f, step.Beta1), w, state1!, w, 1, count, Broadcast.None, false);
                b.Zip(new Combine(1f, -lr), w, g, w, 1, count, Broadcast.None, false);
                break;
            case OptimizerKind.AdaGrad: // s1 += g^2; w - lr g / (sqrt(s1) + eps)
            case OptimizerKind.RmsProp: // s1 = rho s1 + (1 - rho) g^2; the same step
            {
                var moment = step.Kind == OptimizerKind.AdaGrad ? new CombineSquare(1f, 1f) : new CombineSquare(step.Beta2, 1f - step.Beta2);
                b.Zip(moment, state1!, g, state1!, 1, count, Broadcast.None, false);
                var delta = Floats(b, 0, count);
                b.Zip(new AdaptiveStep(lr, 1f, 1f, step.Epsilon), g, state1!, delta, 1, count, Broadcast.None, false);
                b.Zip(new Subtract(), w, delta, w, 1, count, Broadcast.None, false);
                break;
            }
            case OptimizerKind.Adamax: // s1 moving mean; s2 = max(b2 s2, |g|); w - lr (s1 c1) / (s2 + eps)
            {
                b.Zip(new Combine(step.Beta1, 1f - step.Beta1), state1!, g, state1!, 1, count, Broadcast.None, false);
                b.Zip(new MaxOfScaledAndAbs(step.Beta2), state2!, g, state2!, 1, count, Broadcast.None, false);
                var delta = Floats(b, 0, count);
                b.Zip(new InfinityNormStep(lr, step.BiasCorrection1, step.Epsilon), state1!, state2!, delta, 1, count, Broadcast.None, false);
                b.Zip(new Subtract(), w, delta, w, 1, count, Broadcast.None, false);
                break;
            }
            default: // Adam, AdamW: s1, s2 moving moments; w - lr (s1 c1) / (sqrt(s2 c2) + eps)
            {
                if (step.Kind == OptimizerKind.AdamW)
                    b.Zip(new Combine(1f, -(lr * step.WeightDecay)), w, w, w, 1, count, Broadcast.None, false);
                b.Zip(new Combine(step.Beta1, 1f - step.Beta1), state1!, g, state1!, 1, count, Broadcast.None, false);
                b.Zip(new CombineSquare(step.Beta2, 1f - step.Beta2), state2!, g, state2!, 1, count, Broadcast.None, false);
                var delta = Floats(b, 0, count);
                b.Zip(new AdaptiveStep(lr, step.BiasCorrection1, step.BiasCorrection2, step.Epsilon), state1!, state2!, delta, 1, count, Broadcast.None, false);
                b.Zip(new Subtract(), w, delta, w, 1, count, Broadcast.None, false);
                break;
            }
        }
    }

    /// <summary>
    /// Augmentation through host memory: the source is downloaded, resampled with <see cref="AugmentMath"/> (the
    /// formulas of the fused kernels) and uploaded. Correct on any backend; a backend overrides it to stay on the device.
    /// </summary>
    public static void AugmentImages(IBackend b, DeviceBuffer<float> source, DeviceBuffer<float> destination, int rows, int height, int width,
        AugmentationSettings settings, ulong seed, DeviceBuffer<int> stepValues, int stepIndex)
    {
        var counter = ReadStepValues(b, stepValues, stepIndex, 2);
        ulong step = StepValueMath.Counter(counter[0], counter[1]);
        if (rows < 0 || height < 0 || width < 0)
            throw new ArgumentOutOfRangeException(nameof(rows), $"AugmentImages needs non-negative sizes; got {rows} x {height} x {width}.");
        int pixels = height * width, n = rows * pixels;
        Require(b, source, n, nameof(source)); Require(b, destination, n, nameof(destination));
        if (ReferenceEquals(source, destination))
            throw new ArgumentException("AugmentImages cannot work in place: pass a separate destination buffer.", nameof(destination));
        if (n == 0) return;
        var ws = Scratch(b);
        if (ws.HostSource.Length < n) { ws.HostSource = new float[n]; ws.HostDestination = new float[n]; }
        b.Download(source.Length == n ? source : source.Slice(0, n), ws.HostSource.AsSpan(0, n));
        for (int r = 0; r < rows; r++)
            AugmentMath.Image(settings, ws.HostSource.AsSpan(r * pixels, pixels), ws.HostDestination.AsSpan(r * pixels, pixels), r, height, width, seed, step);
        b.Upload<float>(ws.HostDestination.AsSpan(0, n), destination.Length == n ? destination : destination.Slice(0, n));
    }
}

using GpuNet.Backends;
using Xunit;

namespace GpuNet.Kernels.Tests;

/// <summary>The fused losses that take row weights: the two softmax losses (R x C, one row a sample) and the element-wise ones (width elements to a row).</summary>
public enum WeightedLoss { SoftmaxCrossEntropy, SoftmaxCrossEntropyDense, SigmoidCrossEntropy, CrossEntropy, BinaryCrossEntropy, SquaredError }

/// <summary>The accuracy counts that take row weights.</summary>
public enum WeightedCount { CountCorrect, CountCorrectBinary, CountCorrectMultiLabel }

/// <summary>
/// The row weights of a test: a padded batch (loss weights 1 for the first A rows and 0 after, gradient weights 1 / A for
/// those rows and 0 after) or sample weights (loss weights 0.5, 2, 0, 1, 1.25, 0, 3 repeating, see
/// <c>SampleRowWeights</c>).
/// </summary>
public enum RowWeightPattern { Padded, Sample }

/// <summary>
/// Row weights (IBackend.Fused.cs): a 2 x R matrix, loss weights then gradient weights. A row whose loss weight is 0 is
/// padding and adds exactly nothing to a loss sum, a count or a batch statistic and gets a zero gradient whatever its values
/// (NaN included); any other row r adds rowWeights[r] x its loss and gets gradScale x rowWeights[R + r] x its gradient.
/// </summary>
/// <remarks>
/// Padding rows hold NaN inputs and targets (and labels outside [0, C)) throughout: reading one into a sum poisons it.
/// The weights sit inside NaN guards, so reading past 2R poisons the result too.
/// </remarks>
public abstract partial class BackendContractTests
{
    private const float RowLossEpsilon = 1e-7f;
    private const float StaleGradient = 5f; // what an output buffer holds before a call: every element is overwritten

    private static readonly float[] SampleLossWeights = [0.5f, 2f, 0f, 1f, 1.25f, 0f, 3f];

    /// <summary>A padded batch of R rows, A of them real: loss weights 1 then 0, gradient weights 1 / A then 0.</summary>
    private static float[] PaddedRowWeights(int rows, int real)
    {
        var weights = new float[2 * rows];
        for (int r = 0; r < real; r++)
        {
            weights[r] = 1f;
            weights[rows + r] = 1f / real;
        }
        return weights;
    }

    /// <summary>
    /// Sample weights: loss weights cycling through 0.5, 2, 0, 1, 1.25, 0, 3. The gradient weights are 0 for the padding rows and
    /// for every real row with r % 7 == 3 (a real row whose gradient is switched off); otherwise, unless
    /// <paramref name="normalized"/>, 0.1 + 0.05 (r % 5), independent of the loss weights, and with it the loss weights over
    /// their sum over those rows (summing to 1, as a weighted batch statistic's weights do).
    /// </summary>
    private static float[] SampleRowWeights(int rows, bool normalized)
    {
        var weights = new float[2 * rows];
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            weights[r] = SampleLossWeights[r % SampleLossWeights.Length];
            if (weights[r] != 0f && r % 7 != 3) total += weights[r];
        }
        for (int r = 0; r < rows; r++)
        {
            if (weights[r] == 0f || r % 7 == 3) continue;
            weights[rows + r] = normalized ? (float)(weights[r] / total) : 0.1f + 0.05f * (r % 5);
        }
        return weights;
    }

    private static float[] MakeRowWeights(RowWeightPattern pattern, int rows, int real, bool normalized = false) =>
        pattern == RowWeightPattern.Padded ? PaddedRowWeights(rows, real) : SampleRowWeights(rows, normalized);

    private static bool IsPadding(float[] weights, int row) => weights[row] == 0f;

    private static int[] RealRows(float[] weights, int rows) => Enumerable.Range(0, rows).Where(r => !IsPadding(weights, r)).ToArray();

    private static int[] PaddingRows(float[] weights, int rows) => Enumerable.Range(0, rows).Where(r => IsPadding(weights, r)).ToArray();

    private static void FillPaddingRows(float[] data, float[] weights, int rows, int width, float value)
    {
        foreach (int r in PaddingRows(weights, rows)) data.AsSpan(r * width, width).Fill(value);
    }

    private static float[] Filled(int count, float value)
    {
        var data = new float[count];
        Array.Fill(data, value);
        return data;
    }

    /// <summary>The elements of the given rows, in order.</summary>
    private static T[] SelectRows<T>(T[] values, int width, IEnumerable<int> rows) =>
        rows.SelectMany(r => values.Skip(r * width).Take(width)).ToArray();

    /// <summary>Every element of a padding row is exactly 0 (or, when accumulating, exactly what it held before).</summary>
    private static void AssertPaddingRows(float[] actual, float[] weights, int rows, int width, float[]? before, string what)
    {
        foreach (int r in PaddingRows(weights, rows))
            for (int c = 0; c < width; c++)
            {
                int i = r * width + c;
                float expected = before is null ? 0f : before[i];
                if (!(actual[i] == expected))
                    Assert.Fail($"{what}: padding row {r}, element {c} holds {actual[i]:R}; expected exactly {expected:R}.");
            }
    }

    // ---- losses ----------------------------------------------------------------------------

    private static bool IsSoftmax(WeightedLoss kind) => kind is WeightedLoss.SoftmaxCrossEntropy or WeightedLoss.SoftmaxCrossEntropyDense;

    private static bool HasProbabilities(WeightedLoss kind) => IsSoftmax(kind) || kind == WeightedLoss.SigmoidCrossEntropy;

    private static ElementLoss ToElementLoss(WeightedLoss kind) => kind switch
    {
        WeightedLoss.SigmoidCrossEntropy => ElementLoss.SigmoidCrossEntropy,
        WeightedLoss.CrossEntropy => ElementLoss.CrossEntropy,
        WeightedLoss.BinaryCrossEntropy => ElementLoss.BinaryCrossEntropy,
        WeightedLoss.SquaredError => ElementLoss.SquaredError,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>The inputs of one weighted loss call: logits or predictions, dense or element targets, sparse labels.</summary>
    private sealed record WeightedLossData(float[] Input, float[] Targets, int[] Labels);

    /// <summary>
    /// Inputs for R rows of <paramref name="width"/> elements (C classes for the softmax losses): the real rows as the
    /// unweighted tests draw them; the padding rows NaN in inputs and targets, with labels outside [0, C) or valid.
    /// </summary>
    private static WeightedLossData WeightedLossInputs(WeightedLoss kind, int rows, int width, float[] weights)
    {
        float[] input, targets;
        var labels = new int[rows];
        if (IsSoftmax(kind))
        {
            input = Check.Uniform(rows * width, seed: 141, low: -8f, high: 8f);
            targets = SoftTargets(rows, width, seed: 142);
            for (int r = 0; r < rows; r++) labels[r] = (r * 7 + 3) % width;
        }
        else
            (input, targets) = ElementLossInputs(ToElementLoss(kind), rows * width);
        foreach (int r in PaddingRows(weights, rows))
            labels[r] = (r % 3) switch { 0 => width + 2, 1 => -1, _ => 0 };
        FillPaddingRows(input, weights, rows, width, float.NaN);
        FillPaddingRows(targets, weights, rows, width, float.NaN);
        return new(input, targets, labels);
    }

    /// <summary>The unweighted loss of each row and the gradient of the loss sum (gradScale 1), in double.</summary>
    private static (double[] RowLoss, double[] Gradient) WeightedLossReference(WeightedLoss kind, WeightedLossData data, int rows, int width)
    {
        switch (kind)
        {
            case WeightedLoss.SoftmaxCrossEntropy:
                return (Reference.CrossEntropyPerRow(data.Input, data.Labels, rows, width),
                    Reference.CrossEntropyGradient(data.Input, data.Labels, rows, width, 1));
            case WeightedLoss.SoftmaxCrossEntropyDense:
                return Reference.SoftmaxCrossEntropyDense(data.Input, data.Targets, rows, width, 1);
            default:
                var rowLoss = new double[rows];
                var gradient = new double[rows * width];
                for (int i = 0; i < rows * width; i++)
                {
                    var (loss, grad) = Reference.Loss(ToElementLoss(kind), data.Input[i], data.Targets[i], RowLossEpsilon, 1);
                    rowLoss[i / width] += loss;
                    gradient[i] = grad;
                }
                return (rowLoss, gradient);
        }
    }

    /// <summary>
    /// The weighted contract: initial + sum over the rows with a nonzero loss weight of rowWeights[r] x row loss; gradient
    /// gradScale x rowWeights[R + r] x the row's gradient, and exactly 0 in a row whose loss weight is 0.
    /// </summary>
    private static (double Loss, double[] Gradient) Weigh((double[] RowLoss, double[] Gradient) reference, float[] weights,
        int rows, int width, float gradScale, float initialLoss)
    {
        double loss = initialLoss;
        var gradient = new double[rows * width];
        for (int r = 0; r < rows; r++)
        {
            if (IsPadding(weights, r)) continue;
            loss += (double)weights[r] * reference.RowLoss[r];
            for (int c = 0; c < width; c++)
                gradient[r * width + c] = (double)gradScale * weights[rows + r] * reference.Gradient[r * width + c];
        }
        return (loss, gradient);
    }

    private static double[] ExpectedProbabilities(WeightedLoss kind, float[] input, int rows, int width) =>
        IsSoftmax(kind) ? Reference.Softmax(input, rows, width) : input.Select(v => 1 / (1 + Math.Exp(-(double)v))).ToArray();

    private void RunWeightedLoss(WeightedLoss kind, DeviceBuffer<float> input, DeviceBuffer<float> targets, DeviceBuffer<int> labels,
        int rows, int width, DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradient, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights)
    {
        int count = rows * width;
        switch (kind)
        {
            case WeightedLoss.SoftmaxCrossEntropy:
                Backend.SoftmaxCrossEntropy(input, labels, rows, width, probabilities, gradient, gradScale, lossSum, rowWeights);
                break;
            case WeightedLoss.SoftmaxCrossEntropyDense:
                Backend.SoftmaxCrossEntropyDense(input, targets, rows, width, probabilities, gradient, gradScale, lossSum, rowWeights);
                break;
            case WeightedLoss.SigmoidCrossEntropy:
                Backend.SigmoidCrossEntropy(input, targets, count, probabilities, gradient, gradScale, lossSum, rowWeights, width);
                break;
            case WeightedLoss.CrossEntropy:
                Backend.CrossEntropyFromProbabilities(input, targets, count, RowLossEpsilon, gradient, gradScale, lossSum, rowWeights, width);
                break;
            case WeightedLoss.BinaryCrossEntropy:
                Backend.BinaryCrossEntropyFromProbabilities(input, targets, count, RowLossEpsilon, gradient, gradScale, lossSum, rowWeights, width);
                break;
            default:
                Backend.MeanSquaredError(input, targets, count, gradient, gradScale, lossSum, rowWeights, width);
                break;
        }
    }

    public static TheoryData<WeightedLoss, int, int, RowWeightPattern, int, bool, bool, int> WeightedLossCases
    {
        get
        {
            var data = new TheoryData<WeightedLoss, int, int, RowWeightPattern, int, bool, bool, int>();
            foreach (var kind in Enum.GetValues<WeightedLoss>())
            {
                data.Add(kind, 1, 1, RowWeightPattern.Padded, 1, true, true, 0);   // R = 1 = A
                data.Add(kind, 1, 3, RowWeightPattern.Sample, 0, false, true, 1);  // one row of weight 0.5
                data.Add(kind, 7, 13, RowWeightPattern.Padded, 4, true, true, 1);  // A < R
                data.Add(kind, 7, 13, RowWeightPattern.Padded, 7, false, true, 2); // A = R
                data.Add(kind, 13, 3, RowWeightPattern.Sample, 0, true, true, 2);
                data.Add(kind, 13, 37, RowWeightPattern.Padded, 6, false, false, 0); // an evaluation pass: loss only
                data.Add(kind, 5, 70, RowWeightPattern.Sample, 0, false, true, 0);  // rows wider than two warps
                data.Add(kind, 7, 5, RowWeightPattern.Padded, 0, false, true, 1);   // all padding: nothing added, zero gradients
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(WeightedLossCases))]
    public void RowWeightedLossMatchesReference(WeightedLoss kind, int rows, int width, RowWeightPattern pattern, int real,
        bool withProbabilities, bool withGradient, int offset)
    {
        var weights = MakeRowWeights(pattern, rows, real);
        var data = WeightedLossInputs(kind, rows, width, weights);
        int count = rows * width;
        // a padded step: gradScale 1 (1 / width for the element-wise losses: the mean over a row), the 1 / A in the weights
        float gradScale = (pattern == RowWeightPattern.Sample ? 0.75f : 1f) / (IsSoftmax(kind) ? 1 : width);
        var lossSum = Put([InitialLoss], offset);
        var probabilities = withProbabilities && HasProbabilities(kind) ? Put(Filled(count, StaleGradient), offset) : null;
        var gradient = withGradient ? Put(Filled(count, StaleGradient), offset + 1) : null;

        RunWeightedLoss(kind, Put(data.Input, offset), Put(data.Targets, offset + 1), Put(data.Labels, offset + 2), rows, width,
            probabilities, gradient, gradScale, lossSum, Put(weights, offset + 2));

        var (expectedLoss, expectedGradient) = Weigh(WeightedLossReference(kind, data, rows, width), weights, rows, width, gradScale, InitialLoss);
        string what = $"{kind} {rows}x{width}, {pattern} weights (A = {real})";
        // weighted row losses (weights <= 3, rows of up to 70 elements of a few ulp each), summed in float
        Check.Close([expectedLoss], Get(lossSum), 1e-5, 2e-5, $"{what}: loss sum (padding rows NaN)");
        var realRows = RealRows(weights, rows);
        if (probabilities is not null)
            Check.Close(SelectRows(ExpectedProbabilities(kind, data.Input, rows, width), width, realRows),
                SelectRows(Get(probabilities), width, realRows), SoftmaxAtol, SoftmaxRtol, $"{what}: probabilities of the real rows");
        if (gradient is null) return;
        var actual = Get(gradient);
        AssertPaddingRows(actual, weights, rows, width, null, $"{what}: gradient");
        // the unweighted tests' tolerances (p T - t cancels for the dense loss); the weights only scale
        Check.Close(expectedGradient, actual, kind == WeightedLoss.SoftmaxCrossEntropyDense ? 3e-7 : 1e-7, 1e-5, $"{what}: gradient");
    }

    public static TheoryData<WeightedLoss, int, int, int> PaddedLossCases
    {
        get
        {
            var data = new TheoryData<WeightedLoss, int, int, int>();
            foreach (var kind in Enum.GetValues<WeightedLoss>())
            {
                data.Add(kind, 1, 1, 1);
                data.Add(kind, 7, 4, 13);
                data.Add(kind, 13, 13, 3);
                data.Add(kind, 13, 6, 37);
                data.Add(kind, 7, 1, 5);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(PaddedLossCases))]
    public void RowWeightedPaddedBatchLossEqualsTheUnweightedLossOfItsRealRows(WeightedLoss kind, int rows, int real, int width)
    {
        // what a padded training step relies on: R = capacity rows with loss weights 1 / 0 and gradient weights 1 / A / 0 give
        // the loss sum and real-row gradients of the unweighted call over the A real rows with gradScale / A
        var weights = PaddedRowWeights(rows, real);
        var data = WeightedLossInputs(kind, rows, width, weights);
        int count = rows * width, realCount = real * width;
        float gradScale = IsSoftmax(kind) ? 1f : 1f / width;
        var weightedLoss = Put([InitialLoss]);
        var weightedGradient = Put(Filled(count, StaleGradient));
        RunWeightedLoss(kind, Put(data.Input), Put(data.Targets), Put(data.Labels), rows, width, null, weightedGradient, gradScale,
            weightedLoss, Put(weights));
        var plainLoss = Put([InitialLoss]);
        var plainGradient = Alloc<float>(realCount);
        RunWeightedLoss(kind, Put(data.Input[..realCount]), Put(data.Targets[..realCount]), Put(data.Labels[..real]), real, width, null,
            plainGradient, gradScale / real, plainLoss, null);

        string what = $"{kind} {rows}x{width} padded to A = {real}";
        Check.Close(Get(plainLoss), Get(weightedLoss), 1e-5, 1e-5, $"{what}: weighted vs unweighted loss sum");
        var actual = Get(weightedGradient);
        AssertPaddingRows(actual, weights, rows, width, null, $"{what}: gradient");
        // gradScale x (1 / A) against gradScale / A: an ulp apart; p - 1 may be formed after the scaling
        Check.Close(Get(plainGradient), actual[..realCount], kind == WeightedLoss.SoftmaxCrossEntropyDense ? 3e-7 : 1e-7, 1e-5,
            $"{what}: weighted vs unweighted gradient of the real rows");
    }

    public static TheoryData<WeightedLoss> WeightedLossKinds => new(Enum.GetValues<WeightedLoss>());

    [Theory]
    [MemberData(nameof(WeightedLossKinds))]
    public void RowWeightZeroLossWeightMakesAPaddingRowWhateverItsGradientWeight(WeightedLoss kind)
    {
        // row 1: loss weight 0 but gradient weight 0.7, NaN inputs: still padding (no loss, zero gradient)
        const int rows = 3, width = 4;
        float[] weights = [1f, 0f, 2f, 0.5f, 0.7f, 0.25f];
        var data = WeightedLossInputs(kind, rows, width, weights);
        float gradScale = IsSoftmax(kind) ? 1f : 1f / width;
        var lossSum = Put([InitialLoss]);
        var gradient = Put(Filled(rows * width, StaleGradient));
        RunWeightedLoss(kind, Put(data.Input), Put(data.Targets), Put(data.Labels), rows, width, null, gradient, gradScale, lossSum, Put(weights, 1));
        var (expectedLoss, expectedGradient) = Weigh(WeightedLossReference(kind, data, rows, width), weights, rows, width, gradScale, InitialLoss);
        Check.Close([expectedLoss], Get(lossSum), 1e-5, 1e-5, $"{kind}: loss sum");
        var actual = Get(gradient);
        AssertPaddingRows(actual, weights, rows, width, null, $"{kind}: gradient");
        Check.Close(expectedGradient, actual, 3e-7, 1e-5, $"{kind}: gradient");
    }

    // ---- accuracy counts -------------------------------------------------------------------

    public static TheoryData<WeightedCount, int, int, RowWeightPattern, int, int> WeightedCountCases
    {
        get
        {
            var data = new TheoryData<WeightedCount, int, int, RowWeightPattern, int, int>();
            foreach (var op in Enum.GetValues<WeightedCount>())
            {
                data.Add(op, 1, 1, RowWeightPattern.Padded, 1, 0);
                data.Add(op, 7, 13, RowWeightPattern.Padded, 4, 1);
                data.Add(op, 13, 3, RowWeightPattern.Sample, 0, 2); // loss weights 0.5, 2, 1.25, 3: each real row counts once
                data.Add(op, 37, 5, RowWeightPattern.Padded, 37, 0);
                data.Add(op, 7, 5, RowWeightPattern.Padded, 0, 1);  // all padding: nothing counted
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(WeightedCountCases))]
    public void RowWeightedCountsSkipPaddingRows(WeightedCount op, int rows, int width, RowWeightPattern pattern, int real, int offset)
    {
        // every padding row would count if it were read: finite ones predict their label, NaN ones compare false == false
        const float threshold = 0.25f;
        if (op == WeightedCount.CountCorrectBinary) width = 1;
        var weights = MakeRowWeights(pattern, rows, real);
        var scores = Check.Uniform(rows * width, seed: 151, low: -1f, high: 1f);
        int expected = 11;
        var correct = Put([11], offset); // accumulates
        var rowWeights = Put(weights, offset + 1);
        switch (op)
        {
            case WeightedCount.CountCorrect:
            {
                var argMax = Reference.ArgMax(scores, rows, width);
                var labels = new int[rows];
                for (int r = 0; r < rows; r++)
                {
                    if (IsPadding(weights, r))
                    {
                        labels[r] = argMax[r];
                        if (r % 2 == 1) { scores.AsSpan(r * width, width).Fill(float.NaN); labels[r] = 0; }
                        continue;
                    }
                    labels[r] = r % 3 == 1 ? (argMax[r] + 1) % width : argMax[r];
                    if (labels[r] == argMax[r]) expected++;
                }
                Backend.CountCorrect(Put(scores, offset + 2), Put(labels, offset), rows, width, correct, rowWeights);
                break;
            }
            case WeightedCount.CountCorrectBinary:
            {
                var labels = new int[rows];
                for (int r = 0; r < rows; r++)
                {
                    int predicted = scores[r] > threshold ? 1 : 0;
                    if (IsPadding(weights, r))
                    {
                        labels[r] = predicted;
                        if (r % 2 == 1) { scores[r] = float.NaN; labels[r] = 0; } // NaN > threshold is false: predicted 0
                        continue;
                    }
                    labels[r] = (r % 3) switch { 0 => predicted, 1 => 1 - predicted, _ => 2 };
                    if (labels[r] == predicted) expected++;
                }
                Backend.CountCorrectBinary(Put(scores, offset + 2), Put(labels, offset), rows, threshold, correct, rowWeights);
                break;
            }
            default:
            {
                var targets = new float[rows * width];
                for (int i = 0; i < targets.Length; i++)
                {
                    int r = i / width;
                    bool predicted = scores[i] > threshold;
                    if (IsPadding(weights, r))
                    {
                        targets[i] = predicted ? 1f : 0f;
                        if (r % 2 == 1) scores[i] = targets[i] = float.NaN; // NaN > threshold == NaN > 0.5
                        continue;
                    }
                    targets[i] = (i * 5 / 3) % 2 == 0 ? 0f : 1f;
                    if (predicted == targets[i] > 0.5f) expected++;
                }
                Backend.CountCorrectMultiLabel(Put(scores, offset + 2), Put(targets, offset), rows * width, threshold, correct, rowWeights, width);
                break;
            }
        }
        Assert.Equal(expected, Get(correct)[0]);
    }

    // ---- batch normalization ---------------------------------------------------------------

    /// <summary>
    /// The weighted batch statistics per column: over the rows whose loss weight is not 0, mean = sum_r u_r x_r and
    /// var = sum_r u_r (x_r - mean)^2 with u_r the gradient weights.
    /// </summary>
    private static (double[] Mean, double[] Variance) WeightedColumnMoments(double[] x, int rows, int cols, float[] weights)
    {
        var mean = new double[cols];
        var variance = new double[cols];
        var real = RealRows(weights, rows);
        for (int c = 0; c < cols; c++)
        {
            foreach (int r in real) mean[c] += weights[rows + r] * x[r * cols + c];
            foreach (int r in real) variance[c] += weights[rows + r] * (x[r * cols + c] - mean[c]) * (x[r * cols + c] - mean[c]);
        }
        return (mean, variance);
    }

    /// <summary>y = gamma (x - mean) / sqrt(var + eps) + beta for every row (padding rows too) with the weighted statistics.</summary>
    private static double[] WeightedBatchNormForward(double[] x, int rows, int cols, double[] gamma, double[] beta, float[] weights, double epsilon)
    {
        var (mean, variance) = WeightedColumnMoments(x, rows, cols, weights);
        var y = new double[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                y[r * cols + c] = gamma[c] * (x[r * cols + c] - mean[c]) / Math.Sqrt(variance[c] + epsilon) + beta[c];
        return y;
    }

    /// <summary>
    /// The weighted backward from the saved statistics: xhat = (x - mean) invStd; over the rows with a nonzero loss weight
    /// dbeta = sum dy, dgamma = sum dy xhat; dx_r = gamma invStd (dy_r - u_r (dbeta + xhat_r dgamma)); dx = 0 in padding rows.
    /// </summary>
    private static (double[] GradInput, double[] GradGamma, double[] GradBeta) WeightedBatchNormBackward(float[] x, float[] gradOutput,
        int rows, int cols, float[] gamma, float[] mean, float[] invStd, float[] weights)
    {
        var dx = new double[rows * cols];
        var dgamma = new double[cols];
        var dbeta = new double[cols];
        var real = RealRows(weights, rows);
        for (int c = 0; c < cols; c++)
        {
            foreach (int r in real)
            {
                double xhat = ((double)x[r * cols + c] - mean[c]) * invStd[c];
                dbeta[c] += gradOutput[r * cols + c];
                dgamma[c] += gradOutput[r * cols + c] * xhat;
            }
            foreach (int r in real)
            {
                double xhat = ((double)x[r * cols + c] - mean[c]) * invStd[c];
                dx[r * cols + c] = (double)gamma[c] * invStd[c] * (gradOutput[r * cols + c] - (double)weights[rows + r] * (dbeta[c] + xhat * dgamma[c]));
            }
        }
        return (dx, dgamma, dbeta);
    }

    [Theory]
    [InlineData(1, 1, RowWeightPattern.Padded, 1, false, 0)]
    [InlineData(7, 13, RowWeightPattern.Padded, 4, true, 1)]
    [InlineData(7, 13, RowWeightPattern.Padded, 4, false, 2)] // finite padding rows: normalized with the real rows' statistics
    [InlineData(13, 3, RowWeightPattern.Sample, 0, true, 2)]
    [InlineData(5, 40, RowWeightPattern.Padded, 5, false, 0)] // A = R, two tiles of 32 columns
    [InlineData(37, 3, RowWeightPattern.Padded, 20, true, 1)]
    [InlineData(13, 40, RowWeightPattern.Sample, 0, false, 0)]
    public void RowWeightedBatchNormTrainingMatchesReference(int rows, int cols, RowWeightPattern pattern, int real, bool nanPadding, int offset)
    {
        const float momentum = 0.9f, epsilon = 1e-3f;
        var weights = MakeRowWeights(pattern, rows, real, normalized: true);
        var x = BatchNormInput(rows, cols, seed: 163);
        foreach (int r in PaddingRows(weights, rows))
            for (int c = 0; c < cols; c++)
                x[r * cols + c] = nanPadding ? float.NaN : x[r * cols + c] + 50f; // far off: would move the statistics if read
        var gamma = Check.Uniform(cols, seed: 64, low: 0.5f, high: 2f);
        var beta = Check.Uniform(cols, seed: 65);
        var runningMean0 = Check.Uniform(cols, seed: 66);
        var runningVariance0 = Check.Uniform(cols, seed: 67, low: 0.5f, high: 2f);
        var y = Put(new float[rows * cols], offset);
        var savedMean = Put(new float[cols], offset + 1);
        var savedInvStd = Put(new float[cols], offset + 2);
        var runningMean = Put(runningMean0, offset);
        var runningVariance = Put(runningVariance0, offset + 1);

        Backend.BatchNormTraining(Put(x, offset + 2), rows, cols, Put(gamma, offset), Put(beta, offset + 1),
            y, savedMean, savedInvStd, runningMean, runningVariance, momentum, epsilon, Put(weights, offset));

        string what = $"weighted BatchNorm {rows}x{cols}, {pattern} (A = {real}){(nanPadding ? ", NaN padding" : "")}";
        var xd = ToDouble(x);
        var (mean, variance) = WeightedColumnMoments(xd, rows, cols, weights);
        Check.Close(mean, Get(savedMean), 1e-5, 1e-6, $"{what}: batch mean");
        Check.Close(variance.Select(v => 1 / Math.Sqrt(v + epsilon)).ToArray(), Get(savedInvStd), 1e-5, 1e-5, $"{what}: 1/sqrt(var + eps)");
        Check.Close(mean.Select((m, c) => momentum * runningMean0[c] + (1 - momentum) * m).ToArray(), Get(runningMean), 1e-5, 1e-6,
            $"{what}: running mean");
        Check.Close(variance.Select((v, c) => momentum * runningVariance0[c] + (1 - momentum) * v).ToArray(), Get(runningVariance),
            1e-5, 1e-5, $"{what}: running variance (weighted biased variance)");
        var expectedY = WeightedBatchNormForward(xd, rows, cols, ToDouble(gamma), ToDouble(beta), weights, epsilon);
        var actualY = Get(y);
        var realRows = RealRows(weights, rows);
        Check.Close(SelectRows(expectedY, cols, realRows), SelectRows(actualY, cols, realRows), 2e-5, 1e-5, $"{what}: output of the real rows");
        if (!nanPadding)
            Check.Close(expectedY, actualY, 2e-5, 1e-5, $"{what}: output of every row");
    }

    [Theory]
    [InlineData(7, 13, 4)]
    [InlineData(13, 3, 13)]
    [InlineData(37, 3, 20)]
    [InlineData(5, 40, 1)] // one real row: variance 0
    public void RowWeightedBatchNormTrainingOfAPaddedBatchEqualsTheUnweightedCallOnItsRealRows(int rows, int cols, int real)
    {
        const float momentum = 0.8f, epsilon = 1e-3f;
        var weights = PaddedRowWeights(rows, real);
        var x = BatchNormInput(rows, cols, seed: 166);
        FillPaddingRows(x, weights, rows, cols, float.NaN);
        var gamma = Put(Check.Uniform(cols, seed: 64, low: 0.5f, high: 2f));
        var beta = Put(Check.Uniform(cols, seed: 65));
        var runningMean0 = Check.Uniform(cols, seed: 66);
        var runningVariance0 = Check.Uniform(cols, seed: 67, low: 0.5f, high: 2f);

        float[][] Run(float[] input, int n, DeviceBuffer<float>? rowWeights)
        {
            var y = Alloc<float>(n * cols);
            var savedMean = Alloc<float>(cols);
            var savedInvStd = Alloc<float>(cols);
            var runningMean = Put(runningMean0);
            var runningVariance = Put(runningVariance0);
            Backend.BatchNormTraining(Put(input), n, cols, gamma, beta, y, savedMean, savedInvStd, runningMean, runningVariance,
                momentum, epsilon, rowWeights);
            return [Get(y)[..(real * cols)], Get(savedMean), Get(savedInvStd), Get(runningMean), Get(runningVariance)];
        }

        var weighted = Run(x, rows, Put(weights));
        var plain = Run(x[..(real * cols)], real, null);
        string[] names = ["output of the real rows", "batch mean", "1/sqrt(var + eps)", "running mean", "running variance"];
        double[] atol = [2e-5, 1e-5, 1e-5, 1e-5, 1e-5], rtol = [1e-5, 1e-6, 1e-5, 1e-6, 1e-5];
        for (int k = 0; k < names.Length; k++)
            Check.Close(plain[k], weighted[k], atol[k], rtol[k], $"BatchNorm {rows}x{cols} padded to A = {real}: weighted vs unweighted {names[k]}");
    }

    [Theory]
    [InlineData(1, 1, RowWeightPattern.Padded, 1, true, false, false, 0)]
    [InlineData(7, 13, RowWeightPattern.Padded, 4, true, false, false, 1)]
    [InlineData(7, 13, RowWeightPattern.Padded, 4, true, true, true, 2)] // padding rows add 0 to the old dx
    [InlineData(13, 3, RowWeightPattern.Sample, 0, true, true, false, 0)]
    [InlineData(37, 3, RowWeightPattern.Padded, 20, true, false, true, 1)]
    [InlineData(5, 40, RowWeightPattern.Padded, 5, false, false, true, 0)] // gradInput null, A = R
    [InlineData(13, 40, RowWeightPattern.Sample, 0, true, false, false, 2)]
    public void RowWeightedBatchNormBackwardMatchesReference(int rows, int cols, RowWeightPattern pattern, int real, bool withInput,
        bool accumulateInput, bool accumulateParameters, int offset)
    {
        const double epsilon = 1e-3;
        var weights = MakeRowWeights(pattern, rows, real, normalized: true);
        var x = BatchNormInput(rows, cols, seed: 164);
        var dy = Check.Uniform(rows * cols, seed: 165);
        FillPaddingRows(x, weights, rows, cols, float.NaN);
        FillPaddingRows(dy, weights, rows, cols, float.NaN);
        var gamma = Check.Uniform(cols, seed: 76, low: 0.5f, high: 2f);
        var initialDx = Check.Uniform(rows * cols, seed: 77);
        var initialDGamma = Check.Uniform(cols, seed: 78);
        var initialDBeta = Check.Uniform(cols, seed: 79);
        // the saved statistics as the weighted forward pass stores them: float mean and 1 / sqrt(var + eps)
        var (mean, variance) = WeightedColumnMoments(ToDouble(x), rows, cols, weights);
        var savedMean = mean.Select(m => (float)m).ToArray();
        var savedInvStd = variance.Select(v => (float)(1 / Math.Sqrt(v + epsilon))).ToArray();
        var dx = withInput ? Put(initialDx, offset) : null;
        var dgamma = Put(initialDGamma, offset + 1);
        var dbeta = Put(initialDBeta, offset + 2);

        Backend.BatchNormBackward(Put(x, offset + 1), Put(dy, offset + 2), rows, cols, Put(gamma, offset),
            Put(savedMean, offset + 1), Put(savedInvStd, offset + 2), dx, dgamma, dbeta, accumulateInput, accumulateParameters,
            Put(weights, offset));

        string what = $"weighted BatchNorm backward {rows}x{cols}, {pattern} (A = {real})";
        var (expectedDx, expectedDGamma, expectedDBeta) = WeightedBatchNormBackward(x, dy, rows, cols, gamma, savedMean, savedInvStd, weights);
        if (accumulateParameters)
            for (int c = 0; c < cols; c++) { expectedDGamma[c] += initialDGamma[c]; expectedDBeta[c] += initialDBeta[c]; }
        Check.Close(expectedDBeta, Get(dbeta), 1e-5, 1e-5, $"{what}: dbeta");
        Check.Close(expectedDGamma, Get(dgamma), 1e-5, 1e-5, $"{what}: dgamma");
        if (dx is null) return;
        var actual = Get(dx);
        AssertPaddingRows(actual, weights, rows, cols, accumulateInput ? initialDx : null, $"{what}: dx");
        if (accumulateInput) for (int i = 0; i < expectedDx.Length; i++) expectedDx[i] += initialDx[i];
        var realRows = RealRows(weights, rows);
        Check.Close(SelectRows(expectedDx, cols, realRows), SelectRows(actual, cols, realRows), 2e-5, 1e-4, $"{what}: dx of the real rows");
    }

    [Theory]
    [InlineData(7, 13, 4, false)]
    [InlineData(13, 3, 13, true)]
    [InlineData(37, 3, 20, true)]
    public void RowWeightedBatchNormBackwardOfAPaddedBatchEqualsTheUnweightedCallOnItsRealRows(int rows, int cols, int real, bool accumulate)
    {
        const double epsilon = 1e-3;
        var weights = PaddedRowWeights(rows, real);
        var x = BatchNormInput(rows, cols, seed: 167);
        var dy = Check.Uniform(rows * cols, seed: 168);
        FillPaddingRows(x, weights, rows, cols, float.NaN);
        FillPaddingRows(dy, weights, rows, cols, float.NaN);
        var (mean, variance) = Reference.ColumnMoments(ToDouble(x[..(real * cols)]), real, cols);
        var savedMean = Put(mean.Select(m => (float)m).ToArray());
        var savedInvStd = Put(variance.Select(v => (float)(1 / Math.Sqrt(v + epsilon))).ToArray());
        var gamma = Put(Check.Uniform(cols, seed: 76, low: 0.5f, high: 2f));
        var initialDx = Check.Uniform(rows * cols, seed: 77);
        var initialDGamma = Check.Uniform(cols, seed: 78);
        var initialDBeta = Check.Uniform(cols, seed: 79);

        float[][] Run(int n, DeviceBuffer<float>? rowWeights)
        {
            var dx = Put(initialDx[..(n * cols)]);
            var dgamma = Put(initialDGamma);
            var dbeta = Put(initialDBeta);
            Backend.BatchNormBackward(Put(x[..(n * cols)]), Put(dy[..(n * cols)]), n, cols, gamma, savedMean, savedInvStd, dx, dgamma, dbeta,
                accumulate, accumulate, rowWeights);
            return [Get(dx), Get(dgamma), Get(dbeta)];
        }

        var weighted = Run(rows, Put(weights));
        var plain = Run(real, null);
        string what = $"BatchNorm backward {rows}x{cols} padded to A = {real}";
        Check.Close(plain[2], weighted[2], 1e-5, 1e-5, $"{what}: weighted vs unweighted dbeta");
        Check.Close(plain[1], weighted[1], 1e-5, 1e-5, $"{what}: weighted vs unweighted dgamma");
        Check.Close(plain[0], weighted[0][..(real * cols)], 2e-5, 1e-4, $"{what}: weighted vs unweighted dx of the real rows");
        AssertPaddingRows(weighted[0], weights, rows, cols, accumulate ? initialDx : null, $"{what}: dx");
    }

    [Theory]
    [InlineData(RowWeightPattern.Padded, 5, 3)]
    [InlineData(RowWeightPattern.Padded, 4, 4)]
    [InlineData(RowWeightPattern.Sample, 7, 0)] // gradient weights summing to 1, one real row with gradient weight 0
    public void RowWeightedBatchNormBackwardMatchesFiniteDifferences(RowWeightPattern pattern, int rows, int real)
    {
        // L = sum over the real rows of dy * BatchNorm(x; gamma, beta) with the weighted statistics, in double: central
        // differences with h = 1e-5 (truncation ~1e-9, rounding ~1e-10). Where the real rows' gradient weights sum to 1, the
        // documented dx is this exact gradient; padding rows do not move the statistics, so their gradient is 0.
        const int cols = 3;
        const double epsilon = 1e-3, h = 1e-5;
        var weights = MakeRowWeights(pattern, rows, real, normalized: true);
        var xf = Check.Uniform(rows * cols, seed: 169, low: -2f, high: 2f);
        var dyf = Check.Uniform(rows * cols, seed: 170);
        FillPaddingRows(xf, weights, rows, cols, float.NaN);
        FillPaddingRows(dyf, weights, rows, cols, float.NaN);
        float[] gammaF = [0.5f, 1.5f, -2f];
        var x = ToDouble(xf);
        var gamma = ToDouble(gammaF);
        double[] beta = [0.1, -0.2, 0.3];
        var realRows = RealRows(weights, rows);

        double Loss()
        {
            var y = WeightedBatchNormForward(x, rows, cols, gamma, beta, weights, epsilon);
            return realRows.Sum(r => Enumerable.Range(0, cols).Sum(c => dyf[r * cols + c] * y[r * cols + c]));
        }
        double Central(double[] vector, int i)
        {
            double saved = vector[i];
            vector[i] = saved + h; double plus = Loss();
            vector[i] = saved - h; double minus = Loss();
            vector[i] = saved;
            return (plus - minus) / (2 * h);
        }

        var numericDx = new double[rows * cols];
        foreach (int r in realRows)
            for (int c = 0; c < cols; c++) numericDx[r * cols + c] = Central(x, r * cols + c);
        var numericDGamma = Enumerable.Range(0, cols).Select(c => Central(gamma, c)).ToArray();
        var numericDBeta = Enumerable.Range(0, cols).Select(c => Central(beta, c)).ToArray();

        var (mean, variance) = WeightedColumnMoments(x, rows, cols, weights);
        var dx = Put(Filled(rows * cols, StaleGradient));
        var dgamma = Alloc<float>(cols);
        var dbeta = Alloc<float>(cols);
        Backend.BatchNormBackward(Put(xf), Put(dyf), rows, cols, Put(gammaF), Put(mean.Select(m => (float)m).ToArray()),
            Put(variance.Select(v => (float)(1 / Math.Sqrt(v + epsilon))).ToArray()), dx, dgamma, dbeta, false, false, Put(weights));

        string what = $"weighted BatchNorm backward {rows}x{cols}, {pattern} (A = {real}) vs finite differences";
        Check.Close(numericDBeta, Get(dbeta), 1e-5, 1e-4, $"{what}: dbeta");
        Check.Close(numericDGamma, Get(dgamma), 1e-5, 1e-4, $"{what}: dgamma");
        var actual = Get(dx);
        AssertPaddingRows(actual, weights, rows, cols, null, $"{what}: dx");
        Check.Close(numericDx, actual, 2e-5, 1e-4, $"{what}: dx");
    }

    [Fact]
    public void RowWeightZeroLossWeightKeepsARowOutOfBatchNormWhateverItsGradientWeight()
    {
        // row 1: loss weight 0 but gradient weight 0.4, NaN values: out of the statistics, the sums and dx
        const int rows = 4, cols = 5;
        const float epsilon = 1e-3f;
        float[] weights = [1f, 0f, 1f, 1f, 1f / 3, 0.4f, 1f / 3, 1f / 3];
        var x = BatchNormInput(rows, cols, seed: 171);
        var dy = Check.Uniform(rows * cols, seed: 172);
        FillPaddingRows(x, weights, rows, cols, float.NaN);
        FillPaddingRows(dy, weights, rows, cols, float.NaN);
        var gamma = Check.Uniform(cols, seed: 76, low: 0.5f, high: 2f);
        var savedMean = Alloc<float>(cols);
        var savedInvStd = Alloc<float>(cols);
        var rowWeights = Put(weights, 2);
        Backend.BatchNormTraining(Put(x), rows, cols, Put(gamma), Alloc<float>(cols), Alloc<float>(rows * cols), savedMean, savedInvStd,
            Alloc<float>(cols), Put(Filled(cols, 1f)), 0.9f, epsilon, rowWeights);
        var (mean, variance) = WeightedColumnMoments(ToDouble(x), rows, cols, weights);
        Check.Close(mean, Get(savedMean), 1e-5, 1e-6, "batch mean");
        Check.Close(variance.Select(v => 1 / Math.Sqrt(v + epsilon)).ToArray(), Get(savedInvStd), 1e-5, 1e-5, "batch 1/sqrt(var + eps)");

        var dx = Put(Filled(rows * cols, StaleGradient));
        var dgamma = Alloc<float>(cols);
        var dbeta = Alloc<float>(cols);
        Backend.BatchNormBackward(Put(x), Put(dy), rows, cols, Put(gamma), savedMean, savedInvStd, dx, dgamma, dbeta, false, false, rowWeights);
        var (expectedDx, expectedDGamma, expectedDBeta) = WeightedBatchNormBackward(x, dy, rows, cols, gamma, Get(savedMean), Get(savedInvStd), weights);
        Check.Close(expectedDBeta, Get(dbeta), 1e-5, 1e-5, "dbeta");
        Check.Close(expectedDGamma, Get(dgamma), 1e-5, 1e-5, "dgamma");
        var actual = Get(dx);
        AssertPaddingRows(actual, weights, rows, cols, null, "dx");
        Check.Close(expectedDx, actual, 2e-5, 1e-4, "dx");
    }

    // ---- the weights buffer ----------------------------------------------------------------

    [Fact]
    public void RowWeightBufferLongerThanTwoRowsReadsOnlyItsFirstTwoR()
    {
        // the gradient weights start at index R of the call's rows, not at half the buffer's length; what follows 2R is NaN
        const int rows = 5, width = 3, n = rows * width;
        var weights = SampleRowWeights(rows, normalized: true);
        var exact = Put(weights);
        var longer = Put([.. weights, .. Filled(4, float.NaN)]);
        var x = BatchNormInput(rows, width, seed: 173);
        var t = Check.Uniform(n, seed: 174);
        FillPaddingRows(x, weights, rows, width, float.NaN);
        FillPaddingRows(t, weights, rows, width, float.NaN);
        var input = Put(x);
        var targets = Put(t);
        var labels = Put([2, 0, -1, 1, 1]);
        var gamma = Put(Check.Uniform(width, seed: 76, low: 0.5f, high: 2f));
        var mean = Put(Check.Uniform(width, seed: 175));
        var invStd = Put(Check.Uniform(width, seed: 176, low: 0.5f, high: 2f));

        float[] Run(DeviceBuffer<float> w)
        {
            var mseLoss = Put([InitialLoss]); var mseGradient = Alloc<float>(n);
            var sceLoss = Put([InitialLoss]); var sceGradient = Alloc<float>(n);
            var correct = Alloc<int>(1);
            var y = Alloc<float>(n); var savedMean = Alloc<float>(width); var savedInvStd = Alloc<float>(width);
            var dx = Alloc<float>(n); var dgamma = Alloc<float>(width); var dbeta = Alloc<float>(width);
            Backend.MeanSquaredError(input, targets, n, mseGradient, 1f / width, mseLoss, w, width);
            Backend.SoftmaxCrossEntropy(input, labels, rows, width, null, sceGradient, 1f, sceLoss, w);
            Backend.CountCorrectMultiLabel(input, targets, n, 0f, correct, w, width);
            Backend.BatchNormTraining(input, rows, width, gamma, gamma, y, savedMean, savedInvStd, Alloc<float>(width), Alloc<float>(width), 0.9f, 1e-3f, w);
            Backend.BatchNormBackward(input, targets, rows, width, gamma, mean, invStd, dx, dgamma, dbeta, false, false, w);
            return [.. Get(mseLoss), .. Get(mseGradient), .. Get(sceLoss), .. Get(sceGradient), Get(correct)[0],
                .. SelectRows(Get(y), width, RealRows(weights, rows)), .. Get(savedMean), .. Get(savedInvStd), .. Get(dx), .. Get(dgamma), .. Get(dbeta)];
        }

        var expected = Run(exact);
        Assert.All(expected, v => Assert.True(float.IsFinite(v), "every result of the real rows is finite"));
        Check.Close(expected, Run(longer), 1e-7, 1e-6, "results with 2R + 4 weights (NaN after 2R) vs exactly 2R");
    }

    /// <summary>The eleven operations that take row weights.</summary>
    internal static readonly string[] RowWeightedOperationNames =
    [
        nameof(IBackend.SoftmaxCrossEntropy), nameof(IBackend.SoftmaxCrossEntropyDense), nameof(IBackend.SigmoidCrossEntropy),
        nameof(IBackend.CrossEntropyFromProbabilities), nameof(IBackend.BinaryCrossEntropyFromProbabilities), nameof(IBackend.MeanSquaredError),
        nameof(IBackend.CountCorrect), nameof(IBackend.CountCorrectBinary), nameof(IBackend.CountCorrectMultiLabel),
        nameof(IBackend.BatchNormTraining), nameof(IBackend.BatchNormBackward),
    ];

    public static TheoryData<string> RowWeightedOperations => new(RowWeightedOperationNames);

    /// <summary>
    /// One call of a row-weighted operation on valid buffers: R x width (C = width for the softmax losses, CountCorrect and
    /// batch normalization; one column for CountCorrectBinary), or <paramref name="count"/> elements of <paramref name="width"/>
    /// to a row for the element-wise ones.
    /// </summary>
    private void RunRowWeighted(string operation, int rows, int width, DeviceBuffer<float> rowWeights, int count)
    {
        int n = Math.Max(rows * width, count);
        var input = Put(Check.Uniform(n, seed: 177, low: 0.1f, high: 0.9f));
        var targets = Put(Check.Uniform(n, seed: 178, low: 0f, high: 1f));
        var labels = Put(Enumerable.Range(0, rows).Select(r => r % Math.Max(width, 1)).ToArray());
        var lossSum = Alloc<float>(1);
        var gradient = Alloc<float>(n);
        var correct = Alloc<int>(1);
        var columns = Put(Filled(Math.Max(width, 1), 1f));
        switch (operation)
        {
            case nameof(IBackend.SoftmaxCrossEntropy): Backend.SoftmaxCrossEntropy(input, labels, rows, width, null, gradient, 1f, lossSum, rowWeights); break;
            case nameof(IBackend.SoftmaxCrossEntropyDense): Backend.SoftmaxCrossEntropyDense(input, targets, rows, width, null, gradient, 1f, lossSum, rowWeights); break;
            case nameof(IBackend.SigmoidCrossEntropy): Backend.SigmoidCrossEntropy(input, targets, count, null, gradient, 1f, lossSum, rowWeights, width); break;
            case nameof(IBackend.CrossEntropyFromProbabilities): Backend.CrossEntropyFromProbabilities(input, targets, count, 1e-7f, gradient, 1f, lossSum, rowWeights, width); break;
            case nameof(IBackend.BinaryCrossEntropyFromProbabilities): Backend.BinaryCrossEntropyFromProbabilities(input, targets, count, 1e-7f, gradient, 1f, lossSum, rowWeights, width); break;
            case nameof(IBackend.MeanSquaredError): Backend.MeanSquaredError(input, targets, count, gradient, 1f, lossSum, rowWeights, width); break;
            case nameof(IBackend.CountCorrect): Backend.CountCorrect(input, labels, rows, width, correct, rowWeights); break;
            case nameof(IBackend.CountCorrectBinary): Backend.CountCorrectBinary(input, labels, rows, 0.5f, correct, rowWeights); break;
            case nameof(IBackend.CountCorrectMultiLabel): Backend.CountCorrectMultiLabel(input, targets, count, 0.5f, correct, rowWeights, width); break;
            case nameof(IBackend.BatchNormTraining):
                Backend.BatchNormTraining(input, rows, width, columns, columns, gradient, Alloc<float>(width), Alloc<float>(width),
                    Alloc<float>(width), Put(Filled(width, 1f)), 0.9f, 1e-3f, rowWeights);
                break;
            case nameof(IBackend.BatchNormBackward):
                Backend.BatchNormBackward(input, targets, rows, width, columns, columns, columns, gradient, Alloc<float>(width), Alloc<float>(width),
                    false, false, rowWeights);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(operation), operation, null);
        }
    }

    [Theory]
    [MemberData(nameof(RowWeightedOperations))]
    public void RowWeightsShorterThanTwoRowsAreRejected(string operation)
    {
        const int rows = 3, width = 2;
        var weights = PaddedRowWeights(rows, 2);
        var ex = Assert.ThrowsAny<ArgumentException>(() => RunRowWeighted(operation, rows, width, Put(weights[..^1]), rows * width));
        Assert.Equal("rowWeights", ex.ParamName);
        RunRowWeighted(operation, rows, width, Put(weights), rows * width); // 2R values are enough
    }

    public static TheoryData<string, int, int> RowWeightWidthCases
    {
        get
        {
            var data = new TheoryData<string, int, int>();
            foreach (var operation in new[] { nameof(IBackend.SigmoidCrossEntropy), nameof(IBackend.CrossEntropyFromProbabilities),
                nameof(IBackend.BinaryCrossEntropyFromProbabilities), nameof(IBackend.MeanSquaredError), nameof(IBackend.CountCorrectMultiLabel) })
            {
                data.Add(operation, 12, 5);  // not whole rows
                data.Add(operation, 13, 2);
                data.Add(operation, 12, 0);
                data.Add(operation, 12, -3);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(RowWeightWidthCases))]
    public void RowWeightWidthMustBePositiveAndDivideTheCount(string operation, int count, int width)
    {
        // the weights hold 2 x count values: enough for any row count, so only the width is wrong (ArgumentOutOfRangeException on
        // the real backends, an ArgumentException either way)
        var weights = Put(Filled(2 * count, 1f));
        Assert.ThrowsAny<ArgumentException>(() => RunRowWeighted(operation, 1, width, weights, count));
    }
}

/// <summary>
/// The composed row-weighted defaults on the ILGPU kernels (ILGPU's CPU accelerator): the operator kernels the weighted
/// compositions use compile and run, and match the fused kernels.
/// </summary>
public sealed class IlgpuComposedRowWeightTests(IlgpuCpuBackendFixture fixture) : IClassFixture<IlgpuCpuBackendFixture>, IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var buffer in _owned) buffer.Dispose();
    }

    private DeviceBuffer<T> Put<T>(T[] data) where T : unmanaged
    {
        var buffer = fixture.Backend.Allocate<T>(data.Length);
        _owned.Add(buffer);
        fixture.Backend.Upload<T>(data, buffer);
        return buffer;
    }

    private T[] Get<T>(DeviceBuffer<T> buffer) where T : unmanaged
    {
        var host = new T[buffer.Length];
        fixture.Backend.Download(buffer, host);
        return host;
    }

    [Fact]
    public void ComposedRowWeightedOperationsMatchTheFusedKernels()
    {
        IBackend fused = fixture.Backend;
        IBackend composed = new CoreOnlyBackend(fixture.Backend);
        const int rows = 7, width = 5, n = rows * width;
        // 4 real rows of 7; padding rows NaN in the losses' inputs and targets, finite (far off) in batch normalization's input
        float[] weights = [1, 1, 0.5f, 2, 0, 0, 0, 0.25f, 0.25f, 0.25f, 0.25f, 0, 0.5f, 0];
        var x = Check.Uniform(n, seed: 181, low: 0.05f, high: 0.95f);
        var t = Check.Uniform(n, seed: 182, low: 0f, high: 1f);
        var bnInput = (float[])x.Clone();
        for (int i = 4 * width; i < n; i++) { x[i] = t[i] = float.NaN; bnInput[i] += 50f; }
        var input = Put(x);
        var targets = Put(t);
        var bnX = Put(bnInput);
        var labels = Put(new[] { 4, 0, 2, 1, -1, 9, 3 });
        var w = Put(weights);
        var gamma = Put(Check.Uniform(width, seed: 183, low: 0.5f, high: 2f));
        var mean = Put(Check.Uniform(width, seed: 184));
        var invStd = Put(Check.Uniform(width, seed: 185, low: 0.5f, high: 2f));
        var dy = Put(Check.Uniform(n, seed: 186));

        float[] Run(IBackend via, string operation)
        {
            var loss = Put(new[] { 2.5f });
            var gradient = Put(new float[n]);
            var correct = Put(new[] { 3 });
            var stats = new[] { Put(new float[width]), Put(new float[width]), Put(new float[width]), Put(new float[width]), Put(new float[width]) };
            switch (operation)
            {
                case nameof(IBackend.SoftmaxCrossEntropy): via.SoftmaxCrossEntropy(input, labels, rows, width, null, gradient, 1f, loss, w); break;
                case nameof(IBackend.SoftmaxCrossEntropyDense): via.SoftmaxCrossEntropyDense(input, targets, rows, width, null, gradient, 1f, loss, w); break;
                case nameof(IBackend.SigmoidCrossEntropy): via.SigmoidCrossEntropy(input, targets, n, null, gradient, 0.2f, loss, w, width); break;
                case nameof(IBackend.CrossEntropyFromProbabilities): via.CrossEntropyFromProbabilities(input, targets, n, 1e-7f, gradient, 0.2f, loss, w, width); break;
                case nameof(IBackend.BinaryCrossEntropyFromProbabilities): via.BinaryCrossEntropyFromProbabilities(input, targets, n, 1e-7f, gradient, 0.2f, loss, w, width); break;
                case nameof(IBackend.MeanSquaredError): via.MeanSquaredError(input, targets, n, gradient, 0.2f, loss, w, width); break;
                case nameof(IBackend.CountCorrect): via.CountCorrect(input, labels, rows, width, correct, w); break;
                case nameof(IBackend.CountCorrectBinary): via.CountCorrectBinary(input, labels, rows, 0.5f, correct, w); break;
                case nameof(IBackend.CountCorrectMultiLabel): via.CountCorrectMultiLabel(input, targets, n, 0.5f, correct, w, width); break;
                case nameof(IBackend.BatchNormTraining):
                    via.BatchNormTraining(bnX, rows, width, gamma, mean, gradient, stats[0], stats[1], stats[2], stats[3], 0.9f, 1e-3f, w);
                    break;
                default:
                    via.BatchNormBackward(input, dy, rows, width, gamma, mean, invStd, gradient, stats[0], stats[1], true, true, w);
                    break;
            }
            return [.. Get(loss), .. Get(gradient), Get(correct)[0], .. stats.SelectMany(Get)];
        }

        foreach (var operation in BackendContractTests.RowWeightedOperationNames)
        {
            var expected = Run(fused, operation);
            Assert.All(expected, v => Assert.True(float.IsFinite(v), $"{operation}: fused results are finite"));
            Check.Close(expected, Run(composed, operation), 1e-6, 1e-5, $"{operation}: composed vs fused, row-weighted");
        }
    }
}

using GpuNet.Backends;
using Xunit;

namespace GpuNet.Kernels.Tests;

public abstract partial class BackendContractTests
{
    private const float InitialLoss = 2.5f; // lossSum accumulates: never reset by a loss operation

    /// <summary>R rows of soft targets: non-negative, rows summing to 1 except every third, which sums to 1.5 (T != 1 matters to the gradient).</summary>
    private static float[] SoftTargets(int rows, int cols, int seed)
    {
        var t = Check.Uniform(rows * cols, seed, low: 0f, high: 1f);
        for (int r = 0; r < rows; r++)
        {
            float sum = 0;
            for (int c = 0; c < cols; c++) sum += t[r * cols + c];
            float total = r % 3 == 2 ? 1.5f : 1f;
            for (int c = 0; c < cols; c++) t[r * cols + c] *= total / sum;
        }
        return t;
    }

    [Theory]
    [InlineData(1, 1, true, true, 0)]
    [InlineData(7, 13, true, true, 1)]
    [InlineData(5, 37, false, true, 2)]
    [InlineData(13, 3, true, false, 0)]
    [InlineData(3, 70, false, false, 1)]
    public void SoftmaxCrossEntropyDenseMatchesReference(int rows, int cols, bool withProbabilities, bool withGradient, int offset)
    {
        var logits = Check.Uniform(rows * cols, seed: 41, low: -8f, high: 8f);
        var targets = SoftTargets(rows, cols, seed: 42);
        float gradScale = 1f / rows;
        var lossSum = Put([InitialLoss], offset);
        var probabilities = withProbabilities ? Put(new float[rows * cols], offset) : null;
        var gradient = withGradient ? Put(new float[rows * cols], offset + 1) : null;

        Backend.SoftmaxCrossEntropyDense(Put(logits, offset), Put(targets, offset + 2), rows, cols, probabilities, gradient, gradScale, lossSum);

        var (rowLoss, expectedGradient) = Reference.SoftmaxCrossEntropyDense(logits, targets, rows, cols, gradScale);
        // R row losses below ~25 (|x| <= 8), each T log-sum-exp minus a C-term dot product in float:
        // ~1e-6 relative each, summed in float
        Check.Close([InitialLoss + rowLoss.Sum()], Get(lossSum), 1e-5, 1e-5, "dense SCE loss sum");
        if (probabilities is not null)
            Check.Close(Reference.Softmax(logits, rows, cols), Get(probabilities), SoftmaxAtol, SoftmaxRtol, "dense SCE probabilities");
        if (gradient is not null)
            // p T - t cancels where p T ~ t: a few ulp of p (<= 1) absolute, times gradScale <= 1
            Check.Close(expectedGradient, Get(gradient), 3e-7, SoftmaxRtol, "dense SCE gradient");
    }

    [Fact]
    public void SoftmaxCrossEntropyDenseWithOneHotTargetsEqualsTheSparseLoss()
    {
        // one-hot rows: -sum_c t_c log p_c = -log p[label], the same number the label-indexed loss gives
        const int rows = 4, cols = 6;
        var logits = Check.Uniform(rows * cols, seed: 43, low: -4f, high: 4f);
        int[] labels = [5, 0, 2, 2];
        var oneHot = new float[rows * cols];
        for (int r = 0; r < rows; r++) oneHot[r * cols + labels[r]] = 1f;
        var dense = Alloc<float>(1);
        var sparse = Alloc<float>(1);
        var denseGradient = Alloc<float>(rows * cols);
        var sparseGradient = Alloc<float>(rows * cols);
        Backend.SoftmaxCrossEntropyDense(Put(logits), Put(oneHot), rows, cols, null, denseGradient, 0.25f, dense);
        Backend.SoftmaxCrossEntropy(Put(logits), Put(labels), rows, cols, null, sparseGradient, 0.25f, sparse);
        Check.Close(Get(sparse), Get(dense), 1e-6, 1e-6, "dense vs sparse loss");
        Check.Close(Get(sparseGradient), Get(denseGradient), 1e-7, 1e-6, "dense vs sparse gradient");
    }

    public static TheoryData<ElementLoss, int, bool, int> ElementLossCases
    {
        get
        {
            var data = new TheoryData<ElementLoss, int, bool, int>();
            foreach (var kind in Enum.GetValues<ElementLoss>())
            {
                data.Add(kind, 1, true, 0);
                data.Add(kind, 37, true, 2);
                data.Add(kind, 70, false, 1); // an evaluation pass: loss only
            }
            return data;
        }
    }

    /// <summary>
    /// Inputs for each element-wise loss: logits in [-30, 30] (both sigmoid branches, e^-|x| near
    /// underflow); probabilities in [0, 1] with exact 0 and 1 (clipped) and tiny ones; any real prediction.
    /// </summary>
    private static (float[] Input, float[] Targets) ElementLossInputs(ElementLoss kind, int count)
    {
        var input = kind switch
        {
            ElementLoss.SigmoidCrossEntropy => Check.Uniform(count, seed: 44, low: -30f, high: 30f),
            ElementLoss.SquaredError => Check.Uniform(count, seed: 44, low: -3f, high: 3f),
            _ => Check.Uniform(count, seed: 44, low: 0f, high: 1f),
        };
        if (kind is ElementLoss.CrossEntropy or ElementLoss.BinaryCrossEntropy && count > 3)
        {
            input[0] = 0f; input[1] = 1f; input[2] = 1e-9f; input[3] = 0.99999994f; // the last: the float below 1, above 1 - eps
        }
        var targets = Check.Uniform(count, seed: 45, low: 0f, high: 1f);
        for (int i = 0; i < count; i += 2) targets[i] = i % 4 == 0 ? 1f : 0f; // hard targets too
        if (kind == ElementLoss.SquaredError) targets = Check.Uniform(count, seed: 45, low: -3f, high: 3f);
        return (input, targets);
    }

    private void RunElementLoss(ElementLoss kind, DeviceBuffer<float> input, DeviceBuffer<float> targets, int count,
        float epsilon, DeviceBuffer<float>? gradient, float gradScale, DeviceBuffer<float> lossSum)
    {
        switch (kind)
        {
            case ElementLoss.SigmoidCrossEntropy:
                Backend.SigmoidCrossEntropy(input, targets, count, null, gradient, gradScale, lossSum);
                break;
            case ElementLoss.CrossEntropy:
                Backend.CrossEntropyFromProbabilities(input, targets, count, epsilon, gradient, gradScale, lossSum);
                break;
            case ElementLoss.BinaryCrossEntropy:
                Backend.BinaryCrossEntropyFromProbabilities(input, targets, count, epsilon, gradient, gradScale, lossSum);
                break;
            default:
                Backend.MeanSquaredError(input, targets, count, gradient, gradScale, lossSum);
                break;
        }
    }

    [Theory]
    [MemberData(nameof(ElementLossCases))]
    public void ElementLossMatchesReference(ElementLoss kind, int count, bool withGradient, int offset)
    {
        const float epsilon = 1e-7f;
        var (input, targets) = ElementLossInputs(kind, count);
        float gradScale = 1f / count;
        var lossSum = Put([InitialLoss], offset);
        var gradient = withGradient ? Put(new float[count], offset + 1) : null;

        RunElementLoss(kind, Put(input, offset), Put(targets, offset + 2), count, epsilon, gradient, gradScale, lossSum);

        var expected = Enumerable.Range(0, count).Select(i => Reference.Loss(kind, input[i], targets[i], epsilon, gradScale)).ToArray();
        // element losses to a few ulp (the largest, -log 1e-7 = 16 or 30 for |x| = 30), summed in float:
        // ~count * 6e-8 relative to the total
        Check.Close([InitialLoss + expected.Sum(e => e.Loss)], Get(lossSum), 1e-5, 1e-5, $"{kind} loss sum");
        if (gradient is not null)
            // one division by pc (1 - pc) ~ 1e-7 at the clip: relative error of a few ulp, large absolute values
            Check.Close(expected.Select(e => e.Gradient).ToArray(), Get(gradient), 1e-7, 1e-5, $"{kind} gradient");
    }

    [Fact]
    public void SigmoidCrossEntropyWritesTheProbabilities()
    {
        // s(x) = 1 / (1 + e^-x): s(0) = 0.5, s(+-40) = 1 and e^-40 ~ 4e-18 (no overflow on either branch)
        float[] x = [0f, 2f, -2f, 40f, -40f];
        var probabilities = Put(new float[5], 1);
        Backend.SigmoidCrossEntropy(Put(x), Put(new float[5]), 5, probabilities, null, 1f, Alloc<float>(1));
        Check.Close(x.Select(v => 1 / (1 + Math.Exp(-(double)v))).ToArray(), Get(probabilities), 1e-7, 1e-6, "sigmoid probabilities");
    }

    [Fact]
    public void BinaryCrossEntropyGivesTheLectureNumber()
    {
        // y = 1, 0, 0, 1 and p = .8, .3, .5, .9: -(ln .8 + ln .7 + ln .5 + ln .9) / 4 = 0.3446
        var loss = Alloc<float>(1);
        Backend.BinaryCrossEntropyFromProbabilities(Put([0.8f, 0.3f, 0.5f, 0.9f]), Put([1f, 0f, 0f, 1f]), 4, 1e-7f, null, 0f, loss);
        Assert.Equal(0.3446, Math.Round(Get(loss)[0] / 4.0, 4));
    }

    [Fact]
    public void PerfectPredictionsCostAboutNothing()
    {
        // clipped at eps = 1e-7: -log(1 - 1e-7) ~ 1e-7 per element; squared error exactly 0
        var loss = Alloc<float>(1);
        Backend.CrossEntropyFromProbabilities(Put([0f, 1f, 0f]), Put([0f, 1f, 0f]), 3, 1e-7f, null, 1f, loss);
        Backend.BinaryCrossEntropyFromProbabilities(Put([0f, 1f]), Put([0f, 1f]), 2, 1e-7f, null, 1f, loss);
        Backend.MeanSquaredError(Put([0.25f, -3f]), Put([0.25f, -3f]), 2, null, 1f, loss);
        Assert.InRange(Get(loss)[0], 0f, 1e-6f);
    }

    public static TheoryData<string> LossOperations => new()
    {
        nameof(IBackend.SoftmaxCrossEntropyDense), nameof(IBackend.SigmoidCrossEntropy), nameof(IBackend.CrossEntropyFromProbabilities),
        nameof(IBackend.BinaryCrossEntropyFromProbabilities), nameof(IBackend.MeanSquaredError), nameof(IBackend.L1L2Penalty),
    };

    [Theory]
    [MemberData(nameof(LossOperations))]
    public void ANaNInputMakesTheLossNaNWithoutHanging(string operation)
    {
        // NaN + finite = NaN, and a NaN total must come back rather than spin (regression: ILGPU's CPU
        // accelerator loops forever in a float Atomic.Add once the target is NaN)
        float[] x = [0.2f, 0.7f, float.NaN, 0.4f, 0.9f, 0.1f];
        float[] t = [0f, 1f, 0f, 1f, 0f, 1f];
        var input = Put(x, 1);
        var targets = Put(t);
        var loss = Put([1f]);
        var nanLoss = Put([float.NaN]);
        foreach (var lossSum in new[] { loss, nanLoss })
            switch (operation)
            {
                case nameof(IBackend.SoftmaxCrossEntropyDense): Backend.SoftmaxCrossEntropyDense(input, targets, 3, 2, null, Alloc<float>(6), 1f, lossSum); break;
                case nameof(IBackend.SigmoidCrossEntropy): Backend.SigmoidCrossEntropy(input, targets, 6, null, Alloc<float>(6), 1f, lossSum); break;
                case nameof(IBackend.CrossEntropyFromProbabilities): Backend.CrossEntropyFromProbabilities(input, targets, 6, 1e-7f, Alloc<float>(6), 1f, lossSum); break;
                case nameof(IBackend.BinaryCrossEntropyFromProbabilities): Backend.BinaryCrossEntropyFromProbabilities(input, targets, 6, 1e-7f, Alloc<float>(6), 1f, lossSum); break;
                case nameof(IBackend.MeanSquaredError): Backend.MeanSquaredError(input, targets, 6, Alloc<float>(6), 1f, lossSum); break;
                default: Backend.L1L2Penalty(input, 6, 0.1f, 0.2f, lossSum); break; // L1L2Penalty
            }
        Assert.True(float.IsNaN(Get(loss)[0]), $"{operation}: a NaN input must give a NaN loss");
        Assert.True(float.IsNaN(Get(nanLoss)[0]), $"{operation}: a NaN loss sum must stay NaN");
    }

    [Fact]
    public void ElementLossesOnlyReadTheirFirstCountElements()
    {
        // element 3 (and the guards around the slices) is NaN: reading it would make the loss NaN
        var loss = Put([0f], 2);
        var gradient = Put(new float[4], 1);
        Backend.MeanSquaredError(Put([1f, 2f, 3f, float.NaN], 1), Put([0f, 0f, 0f, float.NaN], 3), 3, gradient, 0.5f, loss);
        // 1 + 4 + 9 = 14; gradient 0.5 * 2 (p - t) = p
        Check.Close([14.0], Get(loss), 0, 1e-7, "MSE loss of three elements");
        Check.Close([1.0, 2.0, 3.0, 0.0], Get(gradient), 0, 1e-7, "MSE gradient (element 3 untouched)");
    }

    [Theory]
    [InlineData(1, 0.5f, 0)]
    [InlineData(31, 0.5f, 1)]
    [InlineData(70, 0f, 2)]
    [InlineData(300, 0.25f, 0)]
    public void CountCorrectBinaryCountsThresholdedMatches(int rows, float threshold, int offset)
    {
        var scores = Check.Uniform(rows, seed: 46, low: -1f, high: 1f);
        if (rows > 3) scores[3] = threshold; // exactly at the threshold: predicted 0 (strictly greater is 1)
        var labels = Enumerable.Range(0, rows).Select(r => r % 5 == 4 ? 2 : (r * 7 / 3) % 2).ToArray(); // 2 never matches
        int expected = 10 + Enumerable.Range(0, rows).Count(r => (scores[r] > threshold ? 1 : 0) == labels[r]);
        var correct = Put([10], offset); // accumulates
        Backend.CountCorrectBinary(Put(scores, offset + 1), Put(labels, offset), rows, threshold, correct);
        Assert.Equal(expected, Get(correct)[0]);
    }

    [Theory]
    [InlineData(1, 0.5f, 0)]
    [InlineData(33, 0.5f, 1)]
    [InlineData(97, 0f, 2)]
    [InlineData(311, 0.25f, 0)]
    public void CountCorrectMultiLabelCountsEachLabelOnItsOwn(int count, float threshold, int offset)
    {
        var scores = Check.Uniform(count, seed: 47, low: -1f, high: 1f);
        if (count > 3) scores[3] = threshold; // exactly at the threshold: predicted 0
        var targets = Enumerable.Range(0, count).Select(i => (i * 5 / 3) % 2 == 0 ? 0f : 1f).ToArray();
        if (count > 5) targets[5] = 0.5f; // a soft 0.5 counts as 0 (strictly greater is 1)
        int expected = 7 + Enumerable.Range(0, count).Count(i => scores[i] > threshold == targets[i] > 0.5f);
        var correct = Put([7], offset); // accumulates
        Backend.CountCorrectMultiLabel(Put(scores, offset + 1), Put(targets, offset), count, threshold, correct);
        Assert.Equal(expected, Get(correct)[0]);
    }

    [Theory]
    [InlineData(1, 1, false, 0)]
    [InlineData(7, 13, false, 1)]
    [InlineData(3, 37, true, 2)]
    [InlineData(5, 70, true, 0)]
    public void SoftmaxBackwardMatchesTheJacobian(int rows, int cols, bool accumulate, int offset)
    {
        var y = Array.ConvertAll(Reference.Softmax(Check.Uniform(rows * cols, seed: 47, low: -3f, high: 3f), rows, cols), v => (float)v);
        var dy = Check.Uniform(rows * cols, seed: 48);
        var initial = Check.Uniform(rows * cols, seed: 49);
        var dx = Put(initial, offset);
        Backend.SoftmaxBackward(Put(y, offset + 1), Put(dy, offset + 2), dx, rows, cols, accumulate);
        var expected = Reference.SoftmaxBackward(y, dy, rows, cols);
        if (accumulate) for (int i = 0; i < expected.Length; i++) expected[i] += initial[i];
        // y (dy - dy.y): a C-term dot product (|terms| <= 1) and one product: ~1e-7 absolute
        Check.Close(expected, Get(dx), 3e-7, 1e-6, $"SoftmaxBackward {rows}x{cols}");
    }
}

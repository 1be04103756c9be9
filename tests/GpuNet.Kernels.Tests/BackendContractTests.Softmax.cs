using GpuNet.Backends;
using Xunit;

namespace GpuNet.Kernels.Tests;

public abstract partial class BackendContractTests
{
    // exp, a sum of C terms and a division: a few ulp of each probability
    private const double SoftmaxAtol = 1e-7, SoftmaxRtol = 1e-5;

    [Fact]
    public void SoftmaxGivesTheLectureNumbers()
    {
        // softmax([0.3, 2.9, 4.0]) = e^x / (e^0.3 + e^2.9 + e^4.0) = [1.350, 18.17, 54.60] / 74.12
        var y = Alloc<float>(3);
        Backend.Softmax(Put([0.3f, 2.9f, 4.0f]), y, 1, 3);
        var p = Get(y);
        Assert.Equal([0.018, 0.245, 0.737], p.Select(v => Math.Round(v, 3)).ToArray());
    }

    [Fact]
    public void SoftmaxDoesNotOverflow()
    {
        // exp(1234) overflows: only the max-subtracted form gives [e^0, e^-1234] / (1 + e^-1234) = [1, 0]
        var y = Alloc<float>(4);
        Backend.Softmax(Put([1234f, 0f, -1234f, -1234f]), y, 2, 2);
        Assert.Equal([1f, 0f, 0.5f, 0.5f], Get(y));
    }

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(7, 13, 0)]
    [InlineData(3, 37, 2)]
    [InlineData(13, 70, 1)]
    public void SoftmaxMatchesReference(int rows, int cols, int offset)
    {
        var x = Check.Uniform(rows * cols, seed: 31, low: -10f, high: 10f);
        var y = Put(new float[rows * cols], offset);
        Backend.Softmax(Put(x, offset + 1), y, rows, cols);
        Check.Close(Reference.Softmax(x, rows, cols), Get(y), SoftmaxAtol, SoftmaxRtol, $"Softmax {rows}x{cols}");
    }

    [Fact]
    public void SoftmaxMayRunInPlace()
    {
        var x = Check.Uniform(5 * 37, seed: 32, low: -5f, high: 5f);
        var buffer = Put(x, 1);
        Backend.Softmax(buffer, buffer, 5, 37);
        Check.Close(Reference.Softmax(x, 5, 37), Get(buffer), SoftmaxAtol, SoftmaxRtol, "Softmax in place");
    }

    [Theory]
    [InlineData(1, 1, true, true, 0)]
    [InlineData(7, 13, true, true, 0)]
    [InlineData(5, 37, false, true, 1)]
    [InlineData(13, 3, true, false, 2)]
    [InlineData(3, 70, false, false, 0)]
    public void SoftmaxCrossEntropyMatchesReference(int rows, int cols, bool withProbabilities, bool withGradient, int offset)
    {
        var logits = Check.Uniform(rows * cols, seed: 33, low: -8f, high: 8f);
        var labels = Enumerable.Range(0, rows).Select(r => (r * 7 + 3) % cols).ToArray();
        float gradScale = 1f / rows;
        const float initialLoss = 2.5f; // lossSum accumulates: never reset by the call
        var lossSum = Put([initialLoss], offset);
        var probabilities = withProbabilities ? Put(new float[rows * cols], offset) : null;
        var gradient = withGradient ? Put(new float[rows * cols], offset + 1) : null;

        Backend.SoftmaxCrossEntropy(Put(logits, offset), Put(labels, offset), rows, cols, probabilities, gradient, gradScale, lossSum);

        double expectedLoss = initialLoss + Reference.CrossEntropyPerRow(logits, labels, rows, cols).Sum();
        // R row losses of a few ulp each (log-sum-exp), summed in float: ~1e-6 relative growing like sqrt(R)
        Check.Close([expectedLoss], Get(lossSum), 1e-6, 2e-6 * Math.Sqrt(rows), "SCE loss sum");
        if (probabilities is not null)
            Check.Close(Reference.Softmax(logits, rows, cols), Get(probabilities), SoftmaxAtol, SoftmaxRtol, "SCE probabilities");
        if (gradient is not null)
            Check.Close(Reference.CrossEntropyGradient(logits, labels, rows, cols, gradScale), Get(gradient),
                SoftmaxAtol, SoftmaxRtol, "SCE gradient");
    }

    [Fact]
    public void SoftmaxCrossEntropyGradientMatchesFiniteDifferencesOfTheLoss()
    {
        // dL/dx[r, c] for L = gradScale * sum_r -log p[r, label_r], by central differences of this
        // backend's own float loss, step 1e-2: truncation ~h^2 / 6 * |L'''| ~ 2e-6, cancellation
        // ~2 * 1.2e-7 * |L| / (2h) ~ 3e-5 for row losses below 2.5.
        const int rows = 2, cols = 5;
        const float h = 1e-2f, gradScale = 0.5f;
        var logits = Check.Uniform(rows * cols, seed: 34, low: -2f, high: 2f);
        int[] labels = [3, 0];
        var gradient = Alloc<float>(rows * cols);
        Backend.SoftmaxCrossEntropy(Put(logits), Put(labels), rows, cols, null, gradient, gradScale, Alloc<float>(1));
        var analytic = Get(gradient);

        var numeric = new double[rows * cols];
        var deviceLabels = Put(labels);
        for (int i = 0; i < rows * cols; i++)
        {
            double Loss(float delta)
            {
                var shifted = (float[])logits.Clone();
                shifted[i] += delta;
                var loss = Alloc<float>(1);
                Backend.SoftmaxCrossEntropy(Put(shifted), deviceLabels, rows, cols, null, null, 0f, loss);
                return gradScale * (double)Get(loss)[0];
            }
            numeric[i] = (Loss(h) - Loss(-h)) / (2 * h);
        }
        Check.Close(numeric, analytic, 1e-4, 1e-3, "SCE gradient vs finite differences");
    }

    [Fact]
    public void SoftmaxCrossEntropyOfAConfidentCorrectPredictionIsAboutZero()
    {
        // -log p = log(1 + e^-20 + e^-20) ~ 4e-9: zero in float32
        var loss = Alloc<float>(1);
        Backend.SoftmaxCrossEntropy(Put([20f, 0f, 0f, 0f, 0f, 20f]), Put([0, 2]), 2, 3, null, null, 1f, loss);
        Assert.InRange(Get(loss)[0], 0f, 1e-6f);
    }

    [Fact]
    public void SoftmaxCrossEntropyStaysFiniteWherePUnderflows()
    {
        // p[label] = e^-200 underflows to 0 in float; -log p = log(1 + e^-200) + 200 = 200
        var loss = Alloc<float>(1);
        Backend.SoftmaxCrossEntropy(Put([100f, -100f]), Put([1]), 1, 2, null, null, 1f, loss);
        Check.Close([200.0], Get(loss), 0, 1e-6, "-log p of an underflowing p");
    }

    [Fact]
    public void SoftmaxCrossEntropyWithALabelOutOfRangeGivesNaN()
    {
        var loss = Alloc<float>(1);
        Backend.SoftmaxCrossEntropy(Put([1f, 2f, 3f, 4f]), Put([1, 2]), 2, 2, null, null, 1f, loss);
        Assert.True(float.IsNaN(Get(loss)[0]), "a label outside [0, C) must show up as a NaN loss");
    }

    [Fact]
    public void SoftmaxCrossEntropyKeepsANaNLossSumNaN()
    {
        // NaN + finite = NaN. (Regression: summing the row losses with ILGPU's float Atomic.Add hung on
        // its CPU accelerator once the target was NaN: the compare-exchange loop compares floats.)
        var loss = Put([float.NaN]);
        Backend.SoftmaxCrossEntropy(Put([1f, 2f, 3f, 4f, 5f, 6f]), Put([0, 1, 0]), 3, 2, null, null, 1f, loss);
        Assert.True(float.IsNaN(Get(loss)[0]));
    }

    [Fact]
    public void SoftmaxCrossEntropyLossIsDeterministic()
    {
        const int rows = 37, cols = 11;
        var logits = Put(Check.Uniform(rows * cols, seed: 37, low: -5f, high: 5f));
        var labels = Put(Enumerable.Range(0, rows).Select(r => r % cols).ToArray());
        float LossOnce()
        {
            var loss = Alloc<float>(1);
            Backend.SoftmaxCrossEntropy(logits, labels, rows, cols, null, null, 1f, loss);
            return Get(loss)[0];
        }
        float first = LossOnce();
        for (int i = 0; i < 3; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(first), BitConverter.SingleToInt32Bits(LossOnce()));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 13)]
    [InlineData(3, 37)]
    [InlineData(5, 70)]
    public void ArgMaxMatchesReference(int rows, int cols)
    {
        var scores = Check.Uniform(rows * cols, seed: 35);
        var result = Put(new int[rows], 3);
        Backend.ArgMax(Put(scores, 2), rows, cols, result);
        Check.Equal(Reference.ArgMax(scores, rows, cols), Get(result), $"ArgMax {rows}x{cols}");
    }

    [Fact]
    public void ArgMaxAndCountCorrectBreakTiesTowardsTheFirstMax()
    {
        // ties at indices (1, 2), (0, 2), (40, 68): the lowest index wins, across warp lanes too
        const int cols = 70;
        var scores = new float[3 * cols];
        scores[1] = scores[2] = 5f;
        scores[cols] = scores[cols + 2] = 1f;
        for (int c = 1; c < cols; c++) if (c != 2) scores[cols + c] = -1f;
        scores[2 * cols + 40] = scores[2 * cols + 68] = 3f;
        var result = Alloc<int>(3);
        Backend.ArgMax(Put(scores), 3, cols, result);
        Check.Equal([1, 0, 40], Get(result), "ArgMax with ties");

        var correct = Put([10], 1); // CountCorrect accumulates
        Backend.CountCorrect(Put(scores), Put([1, 2, 40]), 3, cols, correct); // right, wrong (2 ties 0), right
        Assert.Equal(12, Get(correct)[0]);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(13, 7)]
    [InlineData(31, 37)]
    public void CountCorrectCountsRowsWhoseArgMaxIsTheLabel(int rows, int cols)
    {
        var scores = Check.Uniform(rows * cols, seed: 36);
        var argMax = Reference.ArgMax(scores, rows, cols);
        var labels = Enumerable.Range(0, rows).Select(r => r % 3 == 0 ? (argMax[r] + 1) % cols : argMax[r]).ToArray();
        int expected = labels.Where((label, r) => label == argMax[r]).Count();
        var correct = Alloc<int>(1);
        Backend.CountCorrect(Put(scores, 1), Put(labels, 2), rows, cols, correct);
        Assert.Equal(expected, Get(correct)[0]);
    }
}

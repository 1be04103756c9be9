using GpuNet.Backends;
using Xunit;

namespace GpuNet.Kernels.Tests;

public abstract partial class BackendContractTests
{
    [Theory]
    [InlineData(1, false, 0)]
    [InlineData(37, false, 2)]
    [InlineData(70, true, 1)]
    public void MultiplyMultipliesElementWise(int count, bool accumulate, int offset)
    {
        var a = Check.Uniform(count + 2, seed: 51); // two elements past count must stay untouched
        var b = Check.Uniform(count + 2, seed: 52);
        var initial = Check.Uniform(count + 2, seed: 53);
        var result = Put(initial, offset);
        Backend.Multiply(Put(a, offset + 1), Put(b, offset + 2), result, count, accumulate);
        var expected = Enumerable.Range(0, count + 2)
            .Select(i => i >= count ? initial[i] : (double)a[i] * b[i] + (accumulate ? initial[i] : 0)).ToArray();
        // one product (and one sum): half an ulp each, or one rounding where the backend fuses them
        Check.Close(expected, Get(result), 1e-7, 1e-6, $"Multiply {count}, accumulate {accumulate}");
    }

    [Theory]
    [InlineData(UnaryOp.Exp, 1, 0)]
    [InlineData(UnaryOp.Exp, 37, 2)]
    [InlineData(UnaryOp.Log, 37, 1)]
    [InlineData(UnaryOp.Reciprocal, 70, 3)]
    public void UnaryAppliesItsFunctionToTheFirstCountElements(UnaryOp op, int count, int offset)
    {
        // exp on [-4, 4]; log and 1/x on [0.05, 4] (positive, including values near 0 where both are steep)
        var x = op == UnaryOp.Exp ? Check.Uniform(count + 2, seed: 57, low: -4f, high: 4f) : Check.Uniform(count + 2, seed: 57, low: 0.05f, high: 4f);
        var initial = Check.Uniform(count + 2, seed: 58);
        var y = Put(initial, offset);
        Backend.Unary(op, Put(x, offset + 1), y, count);
        Func<double, double> f = op switch { UnaryOp.Exp => Math.Exp, UnaryOp.Log => Math.Log, _ => v => 1 / v };
        var expected = Enumerable.Range(0, count + 2).Select(i => i < count ? f(x[i]) : initial[i]).ToArray();
        // float32 exp and log are within a few ulps (vectorized and device approximations), a division within half an ulp
        Check.Close(expected, Get(y), 1e-6, 2e-6, $"{op} {count}");
    }

    [Fact]
    public void UnaryMayWorkInPlace()
    {
        var x = Check.Uniform(19, seed: 59);
        var buffer = Put(x, 0);
        Backend.Unary(UnaryOp.Exp, buffer, buffer, 19);
        Check.Close(Array.ConvertAll(x, v => Math.Exp(v)), Get(buffer), 1e-6, 2e-6, "exp in place");
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(37, 3)]
    public void ScaleScalesTheFirstCountElements(int count, int offset)
    {
        var x = Check.Uniform(count + 2, seed: 54);
        var buffer = Put(x, offset);
        Backend.Scale(buffer, count, -1.5f);
        var expected = x.Select((v, i) => i < count ? -1.5 * v : v).ToArray();
        Check.Close(expected, Get(buffer), 0, 1e-7, $"Scale {count}"); // one rounding
    }

    [Theory]
    [InlineData(1, 1, true, false, 0)]
    [InlineData(7, 13, true, true, 1)]
    [InlineData(13, 7, false, false, 2)]
    [InlineData(3, 37, false, true, 0)]
    public void ColumnAffineScalesAndShiftsEachColumn(int rows, int cols, bool withShift, bool accumulate, int offset)
    {
        var x = Check.Uniform(rows * cols, seed: 55, low: -3f, high: 3f);
        var scale = Check.Uniform(cols, seed: 56);
        var shift = Check.Uniform(cols, seed: 57);
        var initial = Check.Uniform(rows * cols, seed: 58);
        var y = Put(initial, offset);
        Backend.ColumnAffine(Put(x, offset + 1), Put(scale, offset), withShift ? Put(shift, offset + 2) : null, y, rows, cols, accumulate);
        var expected = new double[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                expected[i] = (double)x[i] * scale[c] + (withShift ? shift[c] : 0) + (accumulate ? initial[i] : 0);
            }
        // a product and up to two sums of values below 4: ~3 half-ulps
        Check.Close(expected, Get(y), 1e-6, 1e-6, $"ColumnAffine {rows}x{cols}");
    }

    /// <summary>Step values (a guarded slice) with <paramref name="step"/> at index 1, between ints the operations must not read.</summary>
    private DeviceBuffer<int> StepCounter(ulong step) => Put(StepCounterInts(step), 1);

    private static int[] StepCounterInts(ulong step) => [-1, StepValueMath.CounterLow(step), StepValueMath.CounterHigh(step), -1];

    [Theory]
    [InlineData(1, 0.5f, 0)]
    [InlineData(37, 0.2f, 1)]
    [InlineData(2003, 0.3f, 2)]
    public void DropoutMaskIsThePhiloxMask(int count, float rate, int offset)
    {
        const ulong seed = 0x5EED_0000_0001UL, step = 0x1_0000_0003UL; // both halves of seed and step in use
        const uint purpose = 17;
        var x = Check.Uniform(count, seed: 59, low: 0.5f, high: 2f); // never 0, so y = 0 only where dropped
        var y = Put(new float[count], offset);
        var mask = Put(new float[count], offset + 1);
        Backend.Dropout(Put(x, offset + 2), y, mask, count, rate, seed, purpose, StepCounter(step), 1);

        // inverted dropout: kept units scaled by 1 / (1 - rate), so E[y] = x
        float keepScale = 1f / (1f - rate);
        var expectedMask = Enumerable.Range(0, count)
            .Select(i => Reference.DropoutKeeps(i, rate, seed, step, purpose) ? (double)keepScale : 0).ToArray();
        Check.Close(expectedMask, Get(mask), 0, 0, "dropout mask vs Philox.ForStep"); // exactly 0 or the same float
        Check.Close(expectedMask.Select((m, i) => m * x[i]).ToArray(), Get(y), 0, 1e-7, "dropout output");
        if (count > 1000)
        {
            // dropped ~ Binomial(n, rate): standard deviation sqrt(n rate (1 - rate)) / n ~ 0.01; allow 5
            double dropped = expectedMask.Count(m => m == 0) / (double)count;
            Assert.InRange(dropped, rate - 0.05, rate + 0.05);
        }
    }

    [Fact]
    public void DropoutMasksDifferBetweenStepsAndPurposes()
    {
        float[] Mask(ulong step, uint purpose)
        {
            var mask = Alloc<float>(64);
            Backend.Dropout(Put(new float[64]), Alloc<float>(64), mask, 64, 0.5f, 7, purpose, StepCounter(step), 1);
            return Get(mask);
        }
        Assert.Equal(Mask(1, 0), Mask(1, 0));
        Assert.NotEqual(Mask(1, 0), Mask(2, 0));
        Assert.NotEqual(Mask(1, 0), Mask(1, 1));
        Assert.NotEqual(Mask(1, 0), Mask(1UL << 32 | 1, 0)); // the high half of the step is counter word 2
    }

    [Fact]
    public void DropoutReadsItsStepFromTheStepValuesWhenItRuns()
    {
        // the same launch twice, with the step counter uploaded in between: the second mask is the next step's
        var mask = Alloc<float>(64);
        var values = StepCounter(5);
        var x = Put(new float[64]);
        var y = Alloc<float>(64);
        Backend.Dropout(x, y, mask, 64, 0.5f, 7, 3, values, 1);
        var first = Get(mask);
        Backend.Upload<int>(StepCounterInts(6), values);
        Backend.Dropout(x, y, mask, 64, 0.5f, 7, 3, values, 1);
        var second = Get(mask);
        float[] Expected(ulong step) => [.. Enumerable.Range(0, 64).Select(i => Reference.DropoutKeeps(i, 0.5f, 7, step, 3) ? 2f : 0f)];
        Assert.Equal(Expected(5), first);
        Assert.Equal(Expected(6), second);
        Assert.NotEqual(first, second);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Backend.Dropout(x, y, mask, 64, 0.5f, 7, 3, values, 3));
        Assert.Equal("stepValues", ex.ParamName);
    }

    [Theory]
    [InlineData(1, 0.1f, 0.2f, 0)]
    [InlineData(37, 0.1f, 0f, 1)]
    [InlineData(600, 0f, 0.05f, 2)] // 3 groups of 256 (ILGPU's CPU accelerator allows 2: its threads loop)
    [InlineData(70001, 0.01f, 0.02f, 0)] // 274 groups of 256: more than two per multiprocessor of an H100 (132)
    public void L1L2PenaltyAddsTheKerasPenalty(int count, float l1, float l2, int offset)
    {
        var w = Check.Uniform(count, seed: 60, low: -2f, high: 2f);
        var lossSum = Put([InitialLoss], offset);
        Backend.L1L2Penalty(Put(w, offset + 1), count, l1, l2, lossSum);
        double expected = InitialLoss + w.Sum(v => l1 * Math.Abs((double)v) + l2 * (double)v * v);
        // count terms summed in float: ~6e-8 sqrt(count) relative for a random-order sum, 1e-5 is generous
        Check.Close([expected], Get(lossSum), 1e-6, 1e-5, $"L1L2 penalty of {count}");
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(37, 2)]
    [InlineData(600, 1)]
    public void ClipByValueClampsEveryElement(int count, int offset)
    {
        const float limit = 0.6f;
        var x = Check.Uniform(count, seed: 63, low: -2f, high: 2f);
        if (count > 3) (x[1], x[2], x[3]) = (limit, -limit, 0f); // on the bounds and inside stay as they are
        var buffer = Put(x, offset);
        Backend.ClipByValue(buffer, count, limit);
        Check.Close([.. x.Select(v => (double)Math.Clamp(v, -limit, limit))], Get(buffer), 0, 0, "clip by value");

        // NaN stays NaN (a diverged gradient is not turned into a plausible one)
        var nan = Put([float.NaN, 5f], offset);
        Backend.ClipByValue(nan, 2, limit);
        var clipped = Get(nan);
        Assert.True(float.IsNaN(clipped[0]), $"NaN became {clipped[0]}");
        Assert.Equal(limit, clipped[1]);
    }

    [Theory]
    [InlineData(1, 0, 0.5f)]     // |x| = 1.2 > 0.5: scaled
    [InlineData(37, 2, 0.5f)]
    [InlineData(600, 1, 3f)]
    [InlineData(600, 1, 1000f)]  // below the limit: unchanged
    public void ScaleToMaxNormScalesOnlyANormAboveTheLimit(int count, int offset, float maxNorm)
    {
        var x = Check.Uniform(count, seed: 64, low: -2f, high: 2f);
        if (count == 1) x[0] = 1.2f;
        double sumSquares = x.Sum(v => (double)v * v), norm = Math.Sqrt(sumSquares);
        var buffer = Put(x, offset);
        Backend.ScaleToMaxNorm(buffer, count, Put([(float)sumSquares], offset + 1), maxNorm);
        double factor = norm > maxNorm ? maxNorm / norm : 1;
        var result = Get(buffer);
        Check.Close([.. x.Select(v => v * factor)], result, 1e-7, 1e-6, "scale to max norm");
        Assert.Equal(Math.Min(norm, maxNorm), Math.Sqrt(result.Sum(v => (double)v * v)), Math.Min(norm, maxNorm) * 1e-5);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(37, 2)]
    public void L1L2GradientAddsL1SignPlusTwiceL2W(int count, int offset)
    {
        const float l1 = 0.1f, l2 = 0.3f;
        var w = Check.Uniform(count, seed: 61, low: -2f, high: 2f);
        if (count > 3) w[3] = 0f; // sign(0) = 0: the subgradient that keeps a zero weight at zero
        var initial = Check.Uniform(count, seed: 62);
        var gradients = Put(initial, offset);
        Backend.L1L2Gradient(Put(w, offset + 1), gradients, count, l1, l2);
        // d/dw (l1 |w| + l2 w^2) = l1 sign(w) + 2 l2 w
        var expected = w.Select((v, i) => initial[i] + l1 * Math.Sign(v) + 2 * (double)l2 * v).ToArray();
        Check.Close(expected, Get(gradients), 1e-7, 1e-6, "L1L2 gradient");
    }

    /// <summary>
    /// Batch-norm test input: column c is centred at c - 3 with spread 1 + c / 10, column 1 at 30: there
    /// E[x^2] - mean^2 in float would lose ~1e-4 of the variance to cancellation, which the tolerances catch.
    /// </summary>
    private static float[] BatchNormInput(int rows, int cols, int seed)
    {
        var x = Check.Uniform(rows * cols, seed, low: -1f, high: 1f);
        for (int i = 0; i < x.Length; i++) x[i] = x[i] * (1 + i % cols / 10f) + (i % cols - 3) + (i % cols == 1 ? 30f : 0f);
        return x;
    }

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(7, 13, 1)]
    [InlineData(37, 3, 2)]
    [InlineData(5, 40, 0)] // two tiles of 32 columns
    public void BatchNormTrainingNormalizesWithBatchStatistics(int rows, int cols, int offset)
    {
        const float momentum = 0.9f, epsilon = 1e-3f;
        var x = BatchNormInput(rows, cols, seed: 63);
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
            y, savedMean, savedInvStd, runningMean, runningVariance, momentum, epsilon);

        var xd = Array.ConvertAll(x, v => (double)v);
        var (mean, variance) = Reference.ColumnMoments(xd, rows, cols);
        // mean and variance of <= 37 floats up to ~30, summed in float: ~1e-6 relative
        Check.Close(mean, Get(savedMean), 1e-5, 1e-6, "batch mean");
        Check.Close(variance.Select(v => 1 / Math.Sqrt(v + epsilon)).ToArray(), Get(savedInvStd), 1e-5, 1e-5, "batch 1/sqrt(var + eps)");
        Check.Close(mean.Select((m, c) => momentum * runningMean0[c] + (1 - momentum) * m).ToArray(), Get(runningMean), 1e-5, 1e-6, "running mean");
        Check.Close(variance.Select((v, c) => momentum * runningVariance0[c] + (1 - momentum) * v).ToArray(), Get(runningVariance),
            1e-5, 1e-5, "running variance (biased batch variance)");
        // (x - mean) keeps the mean's absolute error (~ulp(30) = 2e-6), times invStd and gamma: ~1e-5 absolute
        Check.Close(Reference.BatchNormForward(xd, rows, cols, ToDouble(gamma), ToDouble(beta), epsilon), Get(y), 2e-5, 1e-5,
            $"BatchNorm training output {rows}x{cols}");
    }

    [Fact]
    public void BatchNormTrainingMayRunInPlace()
    {
        const int rows = 9, cols = 5;
        var x = BatchNormInput(rows, cols, seed: 68);
        var buffer = Put(x, 1);
        float[] ones = [1f, 1f, 1f, 1f, 1f];
        Backend.BatchNormTraining(buffer, rows, cols, Put(ones), Alloc<float>(cols), buffer,
            Alloc<float>(cols), Alloc<float>(cols), Alloc<float>(cols), Alloc<float>(cols), 0.99f, 1e-3f);
        Check.Close(Reference.BatchNormForward(ToDouble(x), rows, cols, [1, 1, 1, 1, 1], [0, 0, 0, 0, 0], 1e-3), Get(buffer),
            2e-5, 1e-5, "BatchNorm training in place");
    }

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(13, 7, 2)]
    [InlineData(3, 37, 1)]
    public void BatchNormInferenceUsesTheRunningStatistics(int rows, int cols, int offset)
    {
        const float epsilon = 1e-3f;
        var x = Check.Uniform(rows * cols, seed: 69, low: -3f, high: 3f);
        var gamma = Check.Uniform(cols, seed: 70, low: 0.5f, high: 2f);
        var beta = Check.Uniform(cols, seed: 71);
        var runningMean = Check.Uniform(cols, seed: 72);
        var runningVariance = Check.Uniform(cols, seed: 73, low: 0.1f, high: 2f);
        var y = Put(new float[rows * cols], offset);
        Backend.BatchNormInference(Put(x, offset + 1), rows, cols, Put(gamma, offset), Put(beta, offset + 2),
            Put(runningMean, offset + 1), Put(runningVariance), epsilon, y);
        var expected = new double[rows * cols];
        for (int i = 0; i < expected.Length; i++)
        {
            int c = i % cols;
            expected[i] = gamma[c] * ((double)x[i] - runningMean[c]) / Math.Sqrt(runningVariance[c] + (double)epsilon) + beta[c];
        }
        Check.Close(expected, Get(y), 1e-6, 1e-6, $"BatchNorm inference {rows}x{cols}"); // ~5 roundings of values below 20
    }

    [Theory]
    [InlineData(1, 1, true, false, false, 0)]
    [InlineData(7, 13, true, false, false, 1)]
    [InlineData(37, 3, true, true, true, 2)]
    [InlineData(5, 40, false, false, true, 0)] // gradInput null: the parameter gradients only
    public void BatchNormBackwardMatchesReference(int rows, int cols, bool withInput, bool accumulateInput, bool accumulateParameters, int offset)
    {
        const float epsilon = 1e-3f;
        var x = BatchNormInput(rows, cols, seed: 74);
        var dy = Check.Uniform(rows * cols, seed: 75);
        var gamma = Check.Uniform(cols, seed: 76, low: 0.5f, high: 2f);
        var initialDx = Check.Uniform(rows * cols, seed: 77);
        var initialDGamma = Check.Uniform(cols, seed: 78);
        var initialDBeta = Check.Uniform(cols, seed: 79);
        var xd = Array.ConvertAll(x, v => (double)v);
        var (mean, variance) = Reference.ColumnMoments(xd, rows, cols);
        // the saved statistics as the forward pass stores them: float mean and 1 / sqrt(var + eps)
        var savedMean = mean.Select(m => (float)m).ToArray();
        var savedInvStd = variance.Select(v => (float)(1 / Math.Sqrt(v + epsilon))).ToArray();
        var dx = withInput ? Put(initialDx, offset) : null;
        var dgamma = Put(initialDGamma, offset + 1);
        var dbeta = Put(initialDBeta, offset + 2);

        Backend.BatchNormBackward(Put(x, offset + 1), Put(dy, offset + 2), rows, cols, Put(gamma, offset),
            Put(savedMean, offset + 1), Put(savedInvStd, offset + 2), dx, dgamma, dbeta, accumulateInput, accumulateParameters);

        var (expectedDx, expectedDGamma, expectedDBeta) = Reference.BatchNormBackward(xd, ToDouble(dy), rows, cols, ToDouble(gamma), epsilon);
        if (accumulateParameters)
            for (int c = 0; c < cols; c++) { expectedDGamma[c] += initialDGamma[c]; expectedDBeta[c] += initialDBeta[c]; }
        // sums of R terms below 2 (xhat within +-sqrt(R)): ~R ulp absolute
        Check.Close(expectedDBeta, Get(dbeta), 1e-5, 1e-5, "BatchNorm dbeta");
        Check.Close(expectedDGamma, Get(dgamma), 1e-5, 1e-5, "BatchNorm dgamma");
        if (dx is null) return;
        if (accumulateInput) for (int i = 0; i < expectedDx.Length; i++) expectedDx[i] += initialDx[i];
        // R dy - dbeta - xhat dgamma cancels terms of size ~R: ~1e-5 absolute, then scaled by gamma invStd / R
        Check.Close(expectedDx, Get(dx), 2e-5, 1e-4, $"BatchNorm dx {rows}x{cols}");
    }

    [Theory]
    [InlineData(1, 1, 1, 0)]
    [InlineData(3, 5, 3, 1)]
    [InlineData(7, 4, 2, 2)]
    [InlineData(2, 37, 4, 0)]
    public void MaxoutTakesTheLargestPiece(int rows, int units, int pieces, int offset)
    {
        int outputs = rows * units;
        var x = Check.Uniform(outputs * pieces, seed: 80);
        for (int i = 0; i < outputs; i += 3) // ties: the first max wins
            if (pieces > 1) x[i * pieces + pieces - 1] = x[i * pieces] = 5f;
        var y = Put(new float[outputs], offset);
        var argMax = Put(new int[outputs], offset + 1);
        Backend.Maxout(Put(x, offset + 2), rows, units, pieces, y, argMax);
        var (expectedY, expectedArgMax) = Reference.Maxout(x, outputs, pieces);
        Check.Equal(expectedArgMax, Get(argMax), $"Maxout argMax {rows}x{units}x{pieces}");
        Check.Close(expectedY, Get(y), 0, 0, "Maxout y"); // a copy of an input: exact
    }

    [Fact]
    public void MaxoutRanksNaNHighestAndPositiveZeroAboveNegativeZero()
    {
        // the CPU backend's TensorPrimitives.IndexOfMax order, which every backend follows: a NaN wins
        // (the first NaN), +0 beats an earlier -0, and otherwise the first of equal maxima wins
        float[] x = [1f, float.NaN, float.NaN, -0f, 0f, -1f, 2f, 1f, 2f];
        var y = Alloc<float>(3);
        var argMax = Alloc<int>(3);
        Backend.Maxout(Put(x), 1, 3, 3, y, argMax);
        Check.Equal([1, 1, 0], Get(argMax), "Maxout argMax");
        var values = Get(y);
        Assert.True(float.IsNaN(values[0]));
        Assert.Equal(0, BitConverter.SingleToInt32Bits(values[1])); // +0, not -0
        Assert.Equal(2f, values[2]);
    }

    [Theory]
    [InlineData(1, 1, 1, false, 0)]
    [InlineData(3, 5, 3, true, 1)]
    [InlineData(2, 37, 4, false, 2)]
    public void MaxoutBackwardRoutesTheGradientToTheWinner(int rows, int units, int pieces, bool accumulate, int offset)
    {
        int outputs = rows * units;
        var dy = Check.Uniform(outputs, seed: 81);
        var argMax = Enumerable.Range(0, outputs).Select(i => i * 7 % pieces).ToArray();
        var initial = Check.Uniform(outputs * pieces, seed: 82);
        var dx = Put(initial, offset);
        Backend.MaxoutBackward(Put(dy, offset + 1), Put(argMax, offset + 2), rows, units, pieces, dx, accumulate);
        // dx[i, k] = dy[i] for the winning piece, 0 for the others (plus the old dx when accumulating)
        var expected = new double[outputs * pieces];
        for (int i = 0; i < outputs; i++)
            for (int k = 0; k < pieces; k++)
                expected[i * pieces + k] = (k == argMax[i] ? dy[i] : 0) + (accumulate ? initial[i * pieces + k] : 0);
        Check.Close(expected, Get(dx), 1e-7, 1e-6, "Maxout backward");
    }
}

/// <summary>Checks of the references themselves (no backend).</summary>
public sealed class ReferenceTests
{
    [Fact]
    public void BatchNormBackwardReferenceMatchesFiniteDifferences()
    {
        // L = sum dy * BatchNorm(x; gamma, beta): dL/dx, dL/dgamma, dL/dbeta by central differences in
        // double with h = 1e-5: truncation ~h^2 |L'''| ~ 1e-9, rounding ~1e-16 |L| / h ~ 1e-10
        const int rows = 5, cols = 3;
        const double epsilon = 1e-3, h = 1e-5;
        var x = Array.ConvertAll(Check.Uniform(rows * cols, seed: 83, low: -2f, high: 2f), v => (double)v);
        var dy = Array.ConvertAll(Check.Uniform(rows * cols, seed: 84), v => (double)v);
        double[] gamma = [0.5, 1.5, -2], beta = [0.1, -0.2, 0.3];
        double Loss(double[] xs, double[] g, double[] b) =>
            Reference.BatchNormForward(xs, rows, cols, g, b, epsilon).Select((y, i) => y * dy[i]).Sum();
        double Central(double[] vector, int i, Func<double> loss)
        {
            double saved = vector[i];
            vector[i] = saved + h; double plus = loss();
            vector[i] = saved - h; double minus = loss();
            vector[i] = saved;
            return (plus - minus) / (2 * h);
        }

        var (dx, dgamma, dbeta) = Reference.BatchNormBackward(x, dy, rows, cols, gamma, epsilon);
        var numericDx = Enumerable.Range(0, x.Length).Select(i => Central(x, i, () => Loss(x, gamma, beta))).ToArray();
        var numericDGamma = Enumerable.Range(0, cols).Select(c => Central(gamma, c, () => Loss(x, gamma, beta))).ToArray();
        var numericDBeta = Enumerable.Range(0, cols).Select(c => Central(beta, c, () => Loss(x, gamma, beta))).ToArray();
        Check.Close(numericDx, Array.ConvertAll(dx, v => (float)v), 1e-6, 1e-5, "reference dx vs finite differences");
        Check.Close(numericDGamma, Array.ConvertAll(dgamma, v => (float)v), 1e-6, 1e-5, "reference dgamma vs finite differences");
        Check.Close(numericDBeta, Array.ConvertAll(dbeta, v => (float)v), 1e-6, 1e-5, "reference dbeta vs finite differences");
    }
}

using GpuNet.Backends;
using GpuNet.Losses;
using Xunit;

namespace GpuNet.Tests;

/// <summary>The lecture's worked examples, computed by the backend kernels.</summary>
public class LectureNumbersTests
{
    private static readonly CpuBackend Backend = new();

    private static float[] Run(ActivationKind kind, float[] x, float alpha = 0f)
    {
        using var bx = Backend.Allocate<float>(x.Length);
        using var by = Backend.Allocate<float>(x.Length);
        Backend.Upload<float>(x, bx);
        Backend.Activation(kind, alpha, bx, by, x.Length);
        var y = new float[x.Length];
        Backend.Download(by, y);
        return y;
    }

    [Fact]
    public void SoftmaxOfTheLectureVector()
    {
        // e^0.3 = 1.350, e^2.9 = 18.174, e^4.0 = 54.598; sum 74.122 -> 0.018, 0.245, 0.737
        using var x = Backend.Allocate<float>(3);
        using var y = Backend.Allocate<float>(3);
        Backend.Upload<float>([0.3f, 2.9f, 4.0f], x);
        Backend.Softmax(x, y, 1, 3);
        var p = new float[3];
        Backend.Download(y, p);
        Assert.Equal(0.018, p[0], 3);
        Assert.Equal(0.245, p[1], 3);
        Assert.Equal(0.737, p[2], 3);
    }

    private static readonly float[] Matrix = [-1, 3, 2, 0, 2, -3, -1, -4, 1];

    [Fact]
    public void ReluOfTheLectureMatrix()
    {
        Assert.Equal([0, 3, 2, 0, 2, 0, 0, 0, 1], Run(ActivationKind.Relu, Matrix));
    }

    [Fact]
    public void TanhOfTheLectureMatrix()
    {
        var y = Run(ActivationKind.Tanh, Matrix);
        // row 1: tanh(-1) = -0.762, tanh(3) = 0.995, tanh(2) = 0.964
        Assert.Equal(-0.762, y[0], 3);
        Assert.Equal(0.995, y[1], 3);
        Assert.Equal(0.964, y[2], 3);
        // row 2: tanh(0) = 0, tanh(2) = 0.964, tanh(-3) = -0.995
        Assert.Equal(0.0, y[3], 3);
        Assert.Equal(-0.995, y[5], 3);
    }

    [Fact]
    public void SigmoidDerivativeIsOneMinusSTimesS()
    {
        float[] x = [-3f, -0.5f, 0f, 0.7f, 4f];
        var s = Run(ActivationKind.Sigmoid, x);
        using var bx = Backend.Allocate<float>(5); using var by = Backend.Allocate<float>(5);
        using var dy = Backend.Allocate<float>(5); using var dx = Backend.Allocate<float>(5);
        Backend.Upload<float>(x, bx); Backend.Upload<float>(s, by); Backend.Fill(dy, 1f);
        Backend.ActivationBackward(ActivationKind.Sigmoid, 0f, bx, by, dy, dx, 5, accumulate: false);
        var d = new float[5];
        Backend.Download(dx, d);
        for (int i = 0; i < 5; i++) Assert.Equal((1 - s[i]) * s[i], d[i], 6);
        Assert.Equal(0.25f, d[2], 6); // the maximum, at x = 0
    }

    [Fact]
    public void SwishMinimumIsAboutMinus0278NearMinus1278()
    {
        // scan x in [-3, 0] with step 0.001 and find the minimum of x * sigmoid(x)
        var x = Enumerable.Range(0, 3001).Select(i => -3f + i * 0.001f).ToArray();
        var y = Run(ActivationKind.Swish, x);
        int arg = Array.IndexOf(y, y.Min());
        Assert.Equal(-0.278, y[arg], 3);
        Assert.Equal(-1.278, x[arg], 2);
    }

    // y_pred rows from the lecture; the true classes have probabilities 0.1, 0.3 and 0.1:
    // -(ln 0.1 + ln 0.3 + ln 0.1) / 3 = (2.302585 + 1.203973 + 2.302585) / 3 = 1.936381
    private static readonly float[] Predictions = [.6f, .3f, .1f, .3f, .6f, .1f, .1f, .7f, .2f];

    [Fact]
    public void CategoricalCrossEntropyExample()
    {
        float[] oneHot = [0, 0, 1, 1, 0, 0, 1, 0, 0];
        Assert.Equal(1.936381, new CategoricalCrossentropy().Compute(Backend, oneHot, Predictions, 3, 3), 5);
    }

    [Fact]
    public void SparseCategoricalCrossEntropyExample()
    {
        Assert.Equal(1.936381, new SparseCategoricalCrossentropy().Compute(Backend, [2, 0, 0], Predictions, 3, 3), 5);
    }

    [Fact]
    public void BinaryCrossEntropyExample()
    {
        // -(ln .8 + ln .7 + ln .5 + ln .9) / 4 = (0.22314 + 0.35667 + 0.69315 + 0.10536) / 4 = 0.34458
        Assert.Equal(0.3446, new BinaryCrossentropy().Compute(Backend, [1, 0, 0, 1], [.8f, .3f, .5f, .9f], 4, 1), 4);
    }

    [Fact]
    public void CrossEntropyOfAPerfectPredictionIsZero()
    {
        // clipping at 1 - 1e-7 leaves -ln(1 - 1e-7) = 1e-7
        Assert.Equal(0.0, new CategoricalCrossentropy().Compute(Backend, [0, 1, 0], [0, 1, 0], 1, 3), 6);
        Assert.Equal(0.0, new BinaryCrossentropy().Compute(Backend, [1, 0], [1, 0], 2, 1), 6);
    }

    [Fact]
    public void MeanSquaredErrorExample()
    {
        // ((1 - 0.5)^2 + (0 - 0.5)^2 + (2 - 1)^2) / 3 = (0.25 + 0.25 + 1) / 3 = 0.5
        Assert.Equal(0.5, new MeanSquaredError().Compute(Backend, [1, 0, 2], [0.5f, 0.5f, 1f], 3, 1), 6);
    }
}

using GpuNet.Backends;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

public class OptimizerTests
{
    private static readonly CpuBackend Backend = new();

    /// <summary>Runs backend.OptimizerUpdate on (w, g) with the optimizer's step parameters for the given iteration.</summary>
    private static float[] Step(Optimizer opt, float[] w, float[] g, float[] s1, float[] s2, long iteration)
    {
        using var bw = Backend.Allocate<float>(w.Length); using var bg = Backend.Allocate<float>(w.Length);
        using var b1 = Backend.Allocate<float>(w.Length); using var b2 = Backend.Allocate<float>(w.Length);
        Backend.Upload<float>(w, bw); Backend.Upload<float>(g, bg); Backend.Upload<float>(s1, b1); Backend.Upload<float>(s2, b2);
        using var values = Backend.Allocate<int>(OptimizerMath.StepValueCount);
        var h = opt.StepParameters(iteration, 0);
        Backend.Upload<int>([StepValueMath.FromFloat(h.LearningRate), StepValueMath.FromFloat(h.BiasCorrection1), StepValueMath.FromFloat(h.BiasCorrection2)], values);
        Backend.OptimizerUpdate(h, values, 0, bw, bg, b1, b2, w.Length);
        var result = new float[w.Length];
        Backend.Download(bw, result); Backend.Download(b1, s1); Backend.Download(b2, s2);
        return result;
    }

    [Fact]
    public void SgdStep()
    {
        // w - lr g = 1 - 0.1 * 2 = 0.8
        Assert.Equal(0.8f, Step(new Sgd(0.1f), [1f], [2f], [0f], [0f], 0)[0], 6);
    }

    [Fact]
    public void MomentumSteps()
    {
        // v1 = 0.9*0 - 0.1*2 = -0.2, w1 = 1 - 0.2 = 0.8; v2 = 0.9*(-0.2) - 0.1*2 = -0.38, w2 = 0.8 - 0.38 = 0.42
        var opt = new Sgd(0.1f, momentum: 0.9f);
        float[] s1 = [0f], s2 = [0f];
        var w = Step(opt, [1f], [2f], s1, s2, 0);
        Assert.Equal(0.8f, w[0], 6);
        w = Step(opt, w, [2f], s1, s2, 1);
        Assert.Equal(0.42f, w[0], 5);
        Assert.Equal(-0.38f, s1[0], 5);
    }

    [Fact]
    public void NesterovStep()
    {
        // v = 0.9*0.5 - 0.1*2 = 0.25; w = 1 + 0.9*0.25 - 0.1*2 = 1.025
        float[] s1 = [0.5f], s2 = [0f];
        Assert.Equal(1.025f, Step(new Sgd(0.1f, 0.9f, nesterov: true), [1f], [2f], s1, s2, 0)[0], 5);
    }

    [Fact]
    public void AdaGradStep()
    {
        // a = 0.1 + 4 = 4.1; w = 1 - 0.1 * 2 / (sqrt(4.1) + 1e-7) = 1 - 0.098773 = 0.901227
        float[] s1 = [0.1f], s2 = [0f];
        Assert.Equal(0.901227f, Step(new AdaGrad(0.1f), [1f], [2f], s1, s2, 0)[0], 5);
        Assert.Equal(4.1f, s1[0], 5);
    }

    [Fact]
    public void RmsPropStep()
    {
        // a = 0.9*0 + 0.1*4 = 0.4; w = 1 - 0.01 * 2 / sqrt(0.4) = 1 - 0.0316228 = 0.9683772
        float[] s1 = [0f], s2 = [0f];
        Assert.Equal(0.9683772f, Step(new RmsProp(0.01f), [1f], [2f], s1, s2, 0)[0], 5);
    }

    [Fact]
    public void AdamFirstStepMovesByTheLearningRate()
    {
        // t = 1: m = 0.1 g, v = 0.001 g^2; m^ = g, v^ = g^2 -> w -= lr * g / |g| = lr * sign(g)
        float[] s1 = [0f, 0f], s2 = [0f, 0f];
        var w = Step(new Adam(0.01f), [1f, 1f], [2f, -0.5f], s1, s2, 0);
        Assert.Equal(0.99f, w[0], 5);
        Assert.Equal(1.01f, w[1], 5);
    }

    [Fact]
    public void AdamWDecaysTheWeightFirst()
    {
        // w = 1 - 0.01 * 0.1 * 1 = 0.999, then the Adam step of 0.01 * sign(g): 0.989
        float[] s1 = [0f], s2 = [0f];
        Assert.Equal(0.989f, Step(new AdamW(0.01f, weightDecay: 0.1f), [1f], [2f], s1, s2, 0)[0], 5);
    }

    [Fact]
    public void AdamaxStepsFollowTheInfinityNormRule()
    {
        // Keras' Adamax in double, three steps: m = b1 m + (1 - b1) g; u = max(b2 u, |g|); w -= lr / (1 - b1^t) m / (u + eps)
        var opt = new Adamax(0.02f);
        float[] grads = [2f, -0.5f, 1f];
        float[] s1 = [0f], s2 = [0f];
        float[] w = [1f];
        double m = 0, u = 0, expected = 1;
        for (int t = 0; t < grads.Length; t++)
        {
            w = Step(opt, w, [grads[t]], s1, s2, t);
            m = 0.9 * m + 0.1 * grads[t];
            u = Math.Max(0.999 * u, Math.Abs(grads[t]));
            expected -= 0.02 / (1 - Math.Pow(0.9, t + 1)) * m / (u + 1e-7);
            Assert.Equal(expected, w[0], 1e-6);
            Assert.Equal(u, s2[0], 1e-6);
        }
    }

    public static TheoryData<string> AllOptimizers() => ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "adamax"];

    private static Optimizer Make(string name) => name switch
    {
        "sgd" => new Sgd(0.1f),
        "momentum" => new Sgd(0.05f, 0.9f),
        "nesterov" => new Sgd(0.05f, 0.9f, nesterov: true),
        "adagrad" => new AdaGrad(0.5f),
        "rmsprop" => new RmsProp(0.01f),
        "adam" => new Adam(0.05f),
        "adamw" => new AdamW(0.05f, weightDecay: 1e-4f),
        "adamax" => new Adamax(0.05f),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(AllOptimizers))]
    public void ConvergesToTheMinimumOfAQuadratic(string name)
    {
        // f(w) = sum_i a_i (w_i - c_i)^2 / 2 with curvatures a = 1, 4, 0.5: gradient a (w - c), minimum at c
        float[] a = [1f, 4f, 0.5f], c = [3f, -2f, 0.5f];
        var opt = Make(name);
        var w = new float[3];
        float[] s1 = name == "adagrad" ? [0.1f, 0.1f, 0.1f] : new float[3], s2 = new float[3];
        for (int t = 0; t < 2000; t++)
        {
            var g = w.Select((wi, i) => a[i] * (wi - c[i])).ToArray();
            w = Step(opt, w, g, s1, s2, t);
        }
        for (int i = 0; i < 3; i++)
            Assert.True(MathF.Abs(w[i] - c[i]) < 0.02f, $"{name}: w[{i}] = {w[i]}, minimum at {c[i]}");
    }

    [Fact]
    public void SchedulesFollowTheirFormulas()
    {
        Assert.Equal(0.1f, new StepDecay(0.1f, 0.5f, 10).Rate(0, 9), 6);
        Assert.Equal(0.05f, new StepDecay(0.1f, 0.5f, 10).Rate(0, 10), 6);
        Assert.Equal(0.025f, new StepDecay(0.1f, 0.5f, 10).Rate(0, 25), 6);
        // 0.1 * 0.96^(500/1000) = 0.1 * 0.979796
        Assert.Equal(0.0979796f, new ExponentialDecay(0.1f, 1000, 0.96f).Rate(500, 0), 6);
        Assert.Equal(0.1f, new ExponentialDecay(0.1f, 1000, 0.96f, staircase: true).Rate(999, 0), 6);
        // cosine: half way = initial / 2; at the end alpha * initial
        Assert.Equal(0.05f, new CosineDecay(0.1f, 100).Rate(50, 0), 6);
        Assert.Equal(0.01f, new CosineDecay(0.1f, 100, alpha: 0.1f).Rate(500, 0), 6);
        // lecture: lr / (1 + decay * iteration) = 0.01 / (1 + 0.001 * 1000) = 0.005
        Assert.Equal(0.005f, new InverseTimeDecay(0.01f, 0.001f).Rate(1000, 0), 6);
    }

    [Fact]
    public void ScheduledLearningRateReachesTheKernel()
    {
        var opt = new Sgd(new StepDecay(0.1f, 0.5f, 1));
        Assert.Equal(0.1f, opt.StepParameters(0, 0).LearningRate);
        Assert.Equal(0.025f, opt.StepParameters(0, 2).LearningRate);
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(1f)]
    public void MomentumOutsideTheUnitIntervalIsRejected(float momentum)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(0.01f, momentum));
        Assert.Contains($"momentum={momentum}", e.Message);
    }

    [Fact]
    public void NesterovWithoutMomentumIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sgd(0.01f, 0f, nesterov: true));
        Assert.Contains("momentum > 0", e.Message);
    }

    [Fact]
    public void AdamRejectsBetaOfOne()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(0.001f, beta1: 1f));
        Assert.Contains("beta_1", e.Message);
    }
}

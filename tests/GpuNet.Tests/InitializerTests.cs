using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Initializers;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

public class InitializerTests
{
    private static readonly CpuBackend Backend = new();

    private static float[] Draw(Initializer init, int fanIn, int fanOut, ulong seed = 5, uint stream = 0)
    {
        using var b = Backend.Allocate<float>(fanIn * fanOut);
        init.Initialize(Backend, b, fanIn, fanOut, seed, stream);
        var host = new float[fanIn * fanOut];
        Backend.Download(b, host);
        return host;
    }

    private static (double Mean, double Variance) Stats(float[] x)
    {
        double mean = x.Average(v => (double)v);
        return (mean, x.Average(v => (v - mean) * (v - mean)));
    }

    /// <summary>
    /// For n draws with variance s2 the sample mean has standard error sqrt(s2/n) and the sample variance
    /// about s2 sqrt(2/n) (normal) or less (uniform); 5 standard errors keep false failures below 1e-6.
    /// </summary>
    public static TheoryData<string, double> Expected() => new()
    {
        // fanIn 300, fanOut 200
        { "glorot_uniform", 2.0 / 500 }, { "glorot_normal", 2.0 / 500 },
        { "he_uniform", 2.0 / 300 }, { "he_normal", 2.0 / 300 },
        { "lecun_uniform", 1.0 / 300 }, { "lecun_normal", 1.0 / 300 },
        { "random_normal", 0.05 * 0.05 }, { "random_uniform", 0.1 * 0.1 / 12 },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public void VarianceMatchesTheFormula(string name, double variance)
    {
        var w = Draw(Initializer.Parse(name), 300, 200);
        var (mean, v) = Stats(w);
        double n = w.Length;
        Assert.True(Math.Abs(mean) < 5 * Math.Sqrt(variance / n), $"{name}: mean {mean}");
        Assert.True(Math.Abs(v - variance) < 5 * variance * Math.Sqrt(2 / n), $"{name}: variance {v}, expected {variance}");
    }

    [Fact]
    public void GlorotUniformStaysInsideItsLimit()
    {
        var w = Draw(new GlorotUniform(), 784, 128);
        float limit = MathF.Sqrt(6f / (784 + 128));
        Assert.All(w, v => Assert.InRange(v, -limit, limit));
        Assert.True(w.Max() > 0.99f * limit && w.Min() < -0.99f * limit, "the draws should reach near both ends");
    }

    [Fact]
    public void SameSeedSameWeightsOtherSeedOtherWeights()
    {
        Assert.Equal(Draw(new HeNormal(), 20, 10, seed: 1), Draw(new HeNormal(), 20, 10, seed: 1));
        Assert.NotEqual(Draw(new HeNormal(), 20, 10, seed: 1), Draw(new HeNormal(), 20, 10, seed: 2));
        Assert.NotEqual(Draw(new HeNormal(), 20, 10, stream: 0), Draw(new HeNormal(), 20, 10, stream: 1));
    }

    [Theory]
    [InlineData(50, 20)]
    [InlineData(20, 50)]
    [InlineData(16, 16)]
    public void OrthogonalGivesOrthonormalColumnsOrRows(int fanIn, int fanOut)
    {
        var w = Draw(new Orthogonal(), fanIn, fanOut);
        // W^T W = I (fanIn >= fanOut) or W W^T = I
        bool cols = fanIn >= fanOut;
        int k = cols ? fanOut : fanIn, len = cols ? fanIn : fanOut;
        for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++)
            {
                double dot = 0;
                for (int i = 0; i < len; i++)
                    dot += cols ? w[i * fanOut + a] * w[i * fanOut + b] : w[a * fanOut + i] * w[b * fanOut + i];
                Assert.True(Math.Abs(dot - (a == b ? 1 : 0)) < 1e-4, $"(W^T W)[{a},{b}] = {dot}");
            }
    }

    [Fact]
    public void ConstantsFillAndAreSymmetric()
    {
        Assert.All(Draw(new Constant(0.3f), 3, 4), v => Assert.Equal(0.3f, v));
        Assert.All(Draw(new Ones(), 3, 4), v => Assert.Equal(1f, v));
        Assert.All(Draw(new Zeros(), 3, 4), v => Assert.Equal(0f, v));
        Assert.True(new Constant(0.3f).IsSymmetric);
        Assert.False(new GlorotUniform().IsSymmetric);
    }

    [Fact]
    public void SymmetricKernelInitializerWarnsAndNeverBreaksSymmetry()
    {
        var train = Datasets.Mnist10k().Train.Range(0, 300);
        using var backend = new CpuBackend();
        // both layers constant: every hidden unit has the same inputs, outgoing weights and gradient
        var hidden = new Dense(8, "relu", kernelInitializer: new Constant(0.01f), name: "hidden");
        using var model = new Sequential(hidden, new Dense(10, "softmax", kernelInitializer: new Constant(0.01f)));
        model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend);
        model.Fit(train, new FitOptions { Epochs = 2, BatchSize = 30 });
        Assert.Contains(model.Warnings, w => w.Contains("'hidden'") && w.Contains("symmetry"));
        // every column of the hidden kernel (one per unit) is still identical after training
        var w = new float[hidden.Node!.Weights.Count];
        backend.Download(hidden.Node.Weights.Value, w);
        for (int r = 0; r < 784; r++)
            for (int c = 1; c < 8; c++)
                Assert.Equal(w[r * 8], w[r * 8 + c], 5);
    }

    [Fact]
    public void LsuvBringsEachLayerOutputVarianceToOne()
    {
        var train = Datasets.Mnist10k().Train.Range(0, 512);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(64, "relu", kernelInitializer: new Lsuv()), new Dense(32, "tanh", kernelInitializer: "lsuv"),
            new Dense(10, "softmax"));
        model.Compile(new Sgd(0.01f), new SparseCategoricalCrossentropy(), backend);
        var result = model.InitializeLsuv(train, batchSize: 256);
        Assert.Equal(2, result.Count);
        Assert.All(result, r => Assert.InRange(r.Variance, 0.9f, 1.1f));
    }

    [Fact]
    public void UnknownInitializerNamesTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => Initializer.Parse("xavierr"));
        Assert.Contains("glorot_uniform", e.Message);
    }
}

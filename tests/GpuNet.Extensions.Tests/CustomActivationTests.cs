using GpuNet.Backends;
using GpuNet.Graph;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Extensions.Tests;

/// <summary>A user-written activation (<see cref="MyActivations.QuickGelu"/>, x sigmoid(1.702 x)): its values, its autograd
/// derivative against finite differences, and its use wherever a built-in activation goes.</summary>
public class CustomActivationTests
{
    private static readonly float[] Points = [-3f, -1.2f, -0.3f, 0f, 0.4f, 1.1f, 2.5f];

    [Fact]
    public void ItsValuesAndAutogradDerivativeMatchFiniteDifferences()
    {
        using var backend = new CpuBackend();
        using var g = new ComputationGraph(backend, 1);
        var x = g.Variable("x", 1, Points.Length, Points);
        var y = MyActivations.QuickGelu.Apply(g, x);
        var total = g.Sum(y);
        g.Seal();
        g.Forward();
        g.Backward(total);
        var values = g.Read(y);
        var gradient = g.ReadGradient(x);
        const double h = 1e-4;
        for (int i = 0; i < Points.Length; i++)
        {
            double p = Points[i];
            Assert.Equal(MyActivations.QuickGeluOf(p), values[i], 1e-5);
            double numeric = (MyActivations.QuickGeluOf(p + h) - MyActivations.QuickGeluOf(p - h)) / (2 * h); // central, in double
            Assert.True(Math.Abs(gradient[i] - numeric) < 1e-4, $"f'({p}): autograd {gradient[i]}, finite differences {numeric}");
        }
    }

    [Fact]
    public void ADenseLayerWithItTrainsAndItsNameParsesOnceRegistered()
    {
        CustomObjects.RegisterActivation(MyActivations.QuickGelu);
        Assert.Same(MyActivations.QuickGelu, Activation.Parse("quick_gelu"));
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(32, MyActivations.QuickGelu, name: "hidden"), new Dense(16, "quick_gelu"), new Dense(10, "softmax"));
        model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend);
        var data = CustomLayerTests.Digits.Value;
        var history = model.Fit(data, new FitOptions { Epochs = 3, BatchSize = 32 });
        Assert.True(history.Epochs[^1].Loss < history.Epochs[0].Loss * 0.8, $"losses {string.Join(", ", history.Epochs.Select(e => e.Loss))}");
        Assert.Contains("hidden (Dense, quick_gelu)", model.Summary());

        string path = Path.Combine(Path.GetTempPath(), $"gpunet-custom-activation-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            using var loaded = Sequential.Load(path, backend);
            Assert.Same(MyActivations.QuickGelu, ((Dense)loaded.GetLayer("hidden")).Activation);
            Assert.Equal(model.Predict(data.Features), loaded.Predict(data.Features));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ItCannotTakeABuiltInName()
    {
        var e = Assert.Throws<ArgumentException>(() => Activation.Custom("relu", (g, x) => x));
        Assert.Contains("built-in", e.Message);
    }
}

using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Kernels.Tests;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// Whole models train on <see cref="ThinBackend"/>, which implements only the thin core (every loss, layer and
/// optimizer rule runs as its composed default), as they train on the fused CPU backend: the core is enough.
/// </summary>
public class ThinBackendTrainingTests
{
    [Fact]
    public void TheLectureModelTrainsToTheSameAccuracyOnTheThinCore()
    {
        // the lecture's MNIST model (784-128-64-10, SGD with momentum, batch 64), on 5,000 training digits for 3 epochs
        var mnist = Datasets.Mnist10k();
        var train = mnist.Train.Range(0, 5000);
        var test = mnist.Test.Range(0, 1000);
        (double Loss, double Accuracy) Run(IBackend backend)
        {
            using var model = new Sequential(new Dense(128, "relu"), new Dense(64, "relu"), new Dense(10, "softmax"));
            model.Compile(new Sgd(0.01f, momentum: 0.9f), new SparseCategoricalCrossentropy(), backend, seed: 7);
            model.Fit(train, new FitOptions { Epochs = 3, BatchSize = 64, Seed = 3 });
            var result = model.Evaluate(test);
            return (result.Loss, result.Accuracy);
        }
        using var cpu = new CpuBackend();
        using var thin = new ThinBackend();
        var fused = Run(cpu);
        var composed = Run(thin);
        TestContext.Current.TestOutputHelper?.WriteLine($"lecture model, 5,000 digits, 3 epochs: fused CPU {fused.Accuracy:P2} (loss {fused.Loss:F4}), thin core {composed.Accuracy:P2} (loss {composed.Loss:F4})");
        Assert.True(fused.Accuracy > 0.85, $"the fused CPU run reached only {fused.Accuracy:P1} (thin core: {composed.Accuracy:P1})");
        // the same seeds and the same formulas; only float summation orders differ
        Assert.Equal(fused.Accuracy, composed.Accuracy, 0.01);
        Assert.Equal(fused.Loss, composed.Loss, 0.01 * fused.Loss);
    }

    public static TheoryData<string> Losses() => ["sparse", "categorical", "mse", "binary"];

    [Theory]
    [MemberData(nameof(Losses))]
    public void EveryFusedLayerTrainsAlikeOnTheThinCore(string lossName)
    {
        // batch norm, swish, dropout, elastic net, maxout, Adam: each fused operation's composition in a real step
        IReadOnlyList<EpochResult> Train(IBackend backend)
        {
            var data = TestData.Blobs(90, 1);
            if (lossName == "binary") data = new Dataset("blobs01", data.Features, data.Labels.Select(l => l == 0 ? 1 : 0).ToArray(), 6, 2);
            Layer last = lossName == "binary" ? new Dense(1, "sigmoid") : new Dense(3, "softmax");
            Loss loss = lossName switch
            {
                "sparse" => new SparseCategoricalCrossentropy(),
                "categorical" => new CategoricalCrossentropy(),
                "binary" => new BinaryCrossentropy(),
                _ => new MeanSquaredError(),
            };
            using var model = new Sequential(new Dense(8, useBias: false, kernelInitializer: "he_normal", kernelRegularizer: Regularizer.ElasticNet(1e-3f, 1e-3f)),
                new BatchNormalization(), new ActivationLayer("swish"), new Dropout(0.2f), new Maxout(4, 2), new Dense(5, "tanh"), last);
            model.Compile(new Adam(0.01f), loss, backend, seed: 11);
            return model.Fit(data, new FitOptions { Epochs = 2, BatchSize = 32, ValidationSplit = 0.2, Seed = 5 }).Epochs;
        }
        using var cpu = new CpuBackend();
        using var thin = new ThinBackend();
        var a = Train(cpu);
        var b = Train(thin);
        for (int e = 0; e < a.Count; e++)
        {
            Assert.Equal(a[e].Loss, b[e].Loss, 1e-3 * Math.Max(1, Math.Abs(a[e].Loss)));
            Assert.Equal(a[e].ValidationLoss!.Value, b[e].ValidationLoss!.Value, 1e-3 * Math.Max(1, Math.Abs(a[e].ValidationLoss!.Value)));
            Assert.Equal(a[e].Accuracy, b[e].Accuracy, 0.02);
        }
    }
}

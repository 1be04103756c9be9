using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Keras' Rescaling layer (y = x scale + offset): its values, its gradient, saving, and its bad settings.</summary>
public class RescalingTests
{
    private static readonly float[] Features = [0f, 255f, 51f, 102f, 204f, 17f];

    [Fact]
    public void ScalesAndShiftsEveryValueAndKeepsTheShape()
    {
        using var backend = new CpuBackend();
        using var model = new Sequential(new Rescaling(1f / 255, -0.5f, name: "scale") { InputShape = [3] }, new Dense(2, "softmax", name: "out"));
        Assert.Equal("(None, 3)", model.GetLayer("scale").OutputShape(new Graph.Shape(3)).WithBatch());
        model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend);
        model.Evaluate(new Dataset("two", Features, [0, 1], 3, 2));
        var output = model.Graph!.Nodes.OfType<Graph.ColumnAffineNode>().Single().Output;
        var values = new float[6];
        backend.Download(output.Value.Slice(0, 6), values);
        for (int i = 0; i < 6; i++) Assert.Equal(Features[i] * (1f / 255) - 0.5f, values[i], 1e-6);
    }

    [Fact]
    public void TrainsLikeTheSameModelOnPrescaledData()
    {
        // the Dense layer sees the same inputs up to float rounding, so the two runs agree closely
        var (train, _) = Datasets.Mnist10k();
        var scaled = train.Range(0, 512);
        var raw = new Dataset("raw", [.. scaled.Features.Select(v => v * 255f)], scaled.Labels, 784, 10);
        double Loss(Dataset data, params Layer[] layers)
        {
            using var backend = new CpuBackend();
            using var model = new Sequential(layers);
            model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend, seed: 5);
            return model.Fit(data, new FitOptions { Epochs = 2, BatchSize = 64, Seed = 2 }).Epochs[^1].Loss;
        }
        double inModel = Loss(raw, new Rescaling(1f / 255), new Dense(16, "relu", name: "h"), new Dense(10, "softmax", name: "o"));
        double outside = Loss(scaled, new Dense(16, "relu", name: "h"), new Dense(10, "softmax", name: "o"));
        Assert.Equal(outside, inModel, 1e-4);
    }

    [Fact]
    public void SavesItsScaleAndOffset()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("gpunet-rescaling-").FullName, "m.safetensors");
        using var backend = new CpuBackend();
        using var model = new Sequential(new Rescaling(0.5f, 2f, name: "scale"), new Dense(2, "softmax"));
        model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend);
        var data = new Dataset("two", Features, [0, 1], 3, 2);
        model.Fit(data, new FitOptions { Epochs = 1, BatchSize = 2 });
        model.Save(path);
        using var loaded = Sequential.Load(path, backend);
        var layer = Assert.IsType<Rescaling>(loaded.GetLayer("scale"));
        Assert.Equal((0.5f, 2f), (layer.Scale, layer.Offset));
        Assert.Equal(model.Predict(Features, 2), loaded.Predict(Features, 2));
    }

    [Theory]
    [InlineData(0f, 0f)]
    [InlineData(float.NaN, 0f)]
    [InlineData(1f, float.PositiveInfinity)]
    public void RefusesAScaleOfZeroOrValuesThatAreNotFinite(float scale, float offset)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Rescaling(scale, offset));
        Assert.Contains("Rescaling needs a finite", ex.Message);
    }
}

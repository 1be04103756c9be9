using System.Text.Json;
using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Graph;
using GpuNet.Models;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// A model file saved by release 0.1.0 (Data/model-0.1.0.safetensors: `gpunet train --epochs 1 --layers
/// "16,batchnorm,dropout:0.2,8:leaky_relu:0.1" --scaler standard --optimizer adam --seed 7`, on MNIST-10k) must keep
/// loading, with the same predictions, whatever the persistence code becomes.
/// </summary>
/// <remarks>Data/model-0.1.0-expected.json holds its probabilities for the first 20 test digits, written by this test when
/// GPUNET_WRITE_FIXTURE=1 at the commit that saved the model.</remarks>
public sealed class SavedModelFixtureTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Data", name);

    [Fact]
    public void AModelSavedByRelease010LoadsWithItsLayersOptimizerAndPredictions()
    {
        using var backend = new CpuBackend();
        using var model = Sequential.Load(Fixture("model-0.1.0.safetensors"), backend, out var meta);
        Assert.Equal(["Normalization", "Dense", "BatchNormalization", "Dropout", "Dense", "Dense"], model.Layers.Select(l => l.TypeName));
        Assert.Equal(784, model.InputSize);
        Assert.Equal(100, model.Iterations); // one epoch of 6,400 digits in batches of 64
        Assert.StartsWith("Adam", model.Optimizer!.ToString());
        Assert.Equal("mnist10k", meta["gpunet.dataset"]);

        var test = Datasets.Mnist10k().Test.Range(0, 20);
        var p = model.Predict(test.Features);
        string expectedPath = Fixture("model-0.1.0-expected.json");
        if (Environment.GetEnvironmentVariable("GPUNET_WRITE_FIXTURE") == "1")
        {
            string source = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Data", "model-0.1.0-expected.json");
            File.WriteAllText(source, JsonSerializer.Serialize(p));
            return;
        }
        var expected = JsonSerializer.Deserialize<float[]>(File.ReadAllText(expectedPath))!;
        Assert.Equal(expected.Length, p.Length);
        for (int i = 0; i < p.Length; i++) Assert.True(Math.Abs(expected[i] - p[i]) <= 1e-6 + 1e-5 * Math.Abs(expected[i]), $"probability {i}: {p[i]} vs {expected[i]}");

        // it trains on from its saved Adam moments and step count
        var history = model.Fit(Datasets.Mnist10k().Train.Range(0, 640), new FitOptions { Epochs = 1, BatchSize = 64 });
        Assert.Equal(110, model.Iterations);
        Assert.True(double.IsFinite(history.Epochs[0].Loss));
    }

    /// <summary>
    /// A functional model saved before several inputs and shared layers (Data/functional-one-input.safetensors, see
    /// Data/SOURCE.md: its config lists one input at node 0 and has no "input_nodes") loads with its shape, summary and predictions.
    /// </summary>
    [Fact]
    public void AFunctionalModelSavedWithOneInputBeforeSeveralInputsLoadsWithItsPredictions()
    {
        using var backend = new CpuBackend();
        using var model = Sequential.Load(Fixture("functional-one-input.safetensors"), backend);
        Assert.Equal(new Shape(2, 3), model.InputShape);
        Assert.Equal(8, model.Iterations);
        string summary = model.Summary();
        Assert.Contains("Model: \"branched\" (functional)", summary);
        Assert.Matches(@"input \(InputLayer\) +\(None, 2, 3\) +0", summary);
        Assert.Matches(@"add_2 \(Add\) +\(None, 8\) +0 +concatenate_1, h", summary);
        Assert.Contains("Total params: 155 ", summary); // 6*8+8 + 2 (8*4+4) + 8*3+3

        var p = model.Predict(TestData.Blobs(20, 9).Features);
        var expected = JsonSerializer.Deserialize<float[]>(File.ReadAllText(Fixture("functional-one-input-expected.json")))!;
        Assert.Equal(expected.Length, p.Length);
        for (int i = 0; i < p.Length; i++) Assert.True(Math.Abs(expected[i] - p[i]) <= 1e-6 + 1e-5 * Math.Abs(expected[i]), $"probability {i}: {p[i]} vs {expected[i]}");

        // it trains on
        model.Fit(TestData.Blobs(60, 2), new FitOptions { Epochs = 1, BatchSize = 32 });
        Assert.Equal(10, model.Iterations);
    }
}

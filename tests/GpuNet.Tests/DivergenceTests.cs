using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Divergence for every optimizer (NaN, infinite or exploding loss, non-finite weights), and what a diverged model may not do.</summary>
public sealed class DivergenceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-diverge-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Sequential Lecture() => new(new Dense(128, "relu"), new Dense(64, "relu"), new Dense(10, "softmax"));

    public static TheoryData<string> Optimizers() => ["sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw"];

    private static Optimizer Huge(string name) => name switch
    {
        // rates far past any sensible one: SGD overflows to NaN; the adaptive rules take steps of about lr per weight,
        // so the logits and the fused softmax cross-entropy grow to 1e5 and more while staying finite
        "sgd" => new Sgd(1e6f),
        "momentum" => new Sgd(1e6f, momentum: 0.9f),
        "adagrad" => new AdaGrad(1e4f),
        "rmsprop" => new RmsProp(1e4f),
        "adam" => new Adam(1e4f),
        _ => new AdamW(1e4f),
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void EveryOptimizerStopsWhenTheLossExplodesOrTurnsNaN(string optimizer)
    {
        var train = Datasets.Mnist10k().Train.Range(0, 256);
        using var backend = new CpuBackend();
        using var model = Lecture();
        model.Compile(Huge(optimizer), new SparseCategoricalCrossentropy(), backend);
        var e = Assert.Throws<TrainingDivergedException>(() => model.Fit(train, new FitOptions { Epochs = 20, BatchSize = 32 }));
        Assert.Equal(1, e.Epoch); // caught after the first epoch, not after 20
        Assert.Contains("Lower the learning rate", e.Message);
        Assert.DoesNotContain("check the data", e.Message);

        // the diverged weights are refused for prediction, evaluation and saving
        var predict = Assert.Throws<InvalidOperationException>(() => model.Predict(train.Features));
        Assert.Contains("diverged in epoch 1", predict.Message);
        Assert.Throws<InvalidOperationException>(() => model.Evaluate(train));
    }

    [Fact]
    public void AnExplodingButFiniteLossIsMeasuredAgainstTheUntrainedModel()
    {
        // Adam at 1e4: the mean loss of epoch 1 is finite but over 10^4 x the untrained model's ln(10) = 2.3
        var train = Datasets.Mnist10k().Train.Range(0, 256);
        using var backend = new CpuBackend();
        using var model = Lecture();
        model.Compile(new Adam(1e4f), new SparseCategoricalCrossentropy(), backend);
        var e = Assert.Throws<TrainingDivergedException>(() => model.Fit(train, new FitOptions { Epochs = 5, BatchSize = 32 }));
        Assert.True(double.IsFinite(e.Loss), $"loss {e.Loss}");
        Assert.Contains("times the untrained model's", e.Message);
        // finite weights, but the run diverged: saving is refused all the same
        var save = Assert.Throws<InvalidOperationException>(() => model.Save(Path.Combine(_folder, "exploded.safetensors")));
        Assert.Contains("diverged in epoch 1", save.Message);
        Assert.Empty(Directory.GetFiles(_folder));

        // with the factor lifted, the run "succeeds" with that loss: the check is what stops it
        using var unchecked_ = Lecture();
        unchecked_.Compile(new Adam(1e4f), new SparseCategoricalCrossentropy(), backend);
        var h = unchecked_.Fit(train, new FitOptions { Epochs = 1, BatchSize = 32, ExplodingLossFactor = double.PositiveInfinity });
        Assert.True(h.Epochs[0].Loss > 1e4 * 2.3, $"loss {h.Epochs[0].Loss}");
    }

    [Fact]
    public void ADivergedModelNeverReplacesAGoodFile()
    {
        var train = Datasets.Mnist10k().Train.Range(0, 256);
        using var backend = new CpuBackend();
        using var model = Lecture();
        model.Compile(new Sgd(0.01f), new SparseCategoricalCrossentropy(), backend);
        model.Fit(train, new FitOptions { Epochs = 1, BatchSize = 32 });
        string path = Path.Combine(_folder, "good.safetensors");
        model.Save(path);
        byte[] good = File.ReadAllBytes(path);

        model.Compile(new Sgd(1e6f), new SparseCategoricalCrossentropy(), backend);
        Assert.Throws<TrainingDivergedException>(() => model.Fit(train, new FitOptions { Epochs = 5, BatchSize = 32, ExplodingLossFactor = double.PositiveInfinity }));
        var e = Assert.Throws<InvalidOperationException>(() => model.Save(path));
        Assert.Contains("the existing file is left as it was", e.Message);
        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_folder));
    }

    [Fact]
    public void AModelFileHoldingNaNIsRefusedOnLoad()
    {
        var data = TestData.Blobs(60, 1);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(4, "relu"), new Dense(3, "softmax"));
        model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend);
        model.Fit(data, new FitOptions { Epochs = 1 });
        string path = Path.Combine(_folder, "m.safetensors");
        model.Save(path);
        var (tensors, meta) = SafeTensorsFile.Read(path);
        tensors.First(t => t.Name.EndsWith("/kernel", StringComparison.Ordinal)).Data[5] = float.PositiveInfinity;
        SafeTensorsFile.Write(path, tensors, meta);

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path, backend));
        Assert.Contains("holds ∞ at index 5", e.Message.Replace("Infinity", "∞"));
        Assert.Contains("diverged", e.Message);
    }

    [Fact]
    public void InfiniteOrMissingDataIsNamedInsteadOfBlamingTheLearningRate()
    {
        var data = TestData.Blobs(60, 1);
        data.Features[7 * 6 + 2] = float.PositiveInfinity;
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(3, "softmax"));
        model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend);
        var e = Assert.Throws<ArgumentException>(() => model.Fit(data, new FitOptions { Epochs = 1, ValidationSplit = 0 }));
        Assert.Contains("feature 2 of sample 7", e.Message);
        Assert.DoesNotContain("learning rate", e.Message);

        var empty = new Dataset("empty", [], [], 6, 3);
        var none = Assert.Throws<ArgumentException>(() => model.Fit(empty, new FitOptions { Epochs = 1 }));
        Assert.Contains("'empty' has no samples", none.Message);
    }
}

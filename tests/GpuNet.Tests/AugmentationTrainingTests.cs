using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

public class AugmentationTrainingTests
{
    private static readonly AugmentationSettings Strong = new() { MaxShift = 3, MaxRotationDegrees = 15, MaxBrightness = 0.1f, NoiseStddev = 0.1f, CutoutSize = 8 };

    private static (History History, EvaluationResult First, EvaluationResult Second) Run(AugmentationSettings? settings, int seed)
    {
        var train = Datasets.Mnist10k().Train.Range(0, 640);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(32, "relu"), new Dense(10, "softmax"));
        model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend, seed: 1);
        var history = model.Fit(train, new FitOptions
        {
            Epochs = 2, BatchSize = 64, Seed = seed, ValidationSplit = 0.25,
            Augmentation = settings is { } s ? new ImageAugmentation(28, 28, s) : null,
        });
        return (history, model.Evaluate(train), model.Evaluate(train));
    }

    [Fact]
    public void AugmentationIsReproducibleFromTheSeedAndChangesTraining()
    {
        var a = Run(Strong, seed: 4);
        var b = Run(Strong, seed: 4);
        var c = Run(Strong, seed: 5);
        var plain = Run(null, seed: 4);
        Assert.Equal(a.History.Epochs[^1].Loss, b.History.Epochs[^1].Loss);
        Assert.NotEqual(a.History.Epochs[^1].Loss, c.History.Epochs[^1].Loss);
        // augmented batches are harder: the training loss is higher than on the plain images
        Assert.True(a.History.Epochs[^1].Loss > plain.History.Epochs[^1].Loss,
            $"augmented loss {a.History.Epochs[^1].Loss:F4} vs plain {plain.History.Epochs[^1].Loss:F4}");
    }

    [Fact]
    public void EvaluationNeverAugments()
    {
        var (_, first, second) = Run(Strong, seed: 4);
        Assert.Equal(first.Loss, second.Loss); // no randomness outside training
    }

    [Fact]
    public void AugmentationNeedsTheImageShape()
    {
        var train = Datasets.Mnist10k().Train.Range(0, 64);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(10, "softmax"));
        model.Compile(new Sgd(), new SparseCategoricalCrossentropy(), backend);
        var e = Assert.Throws<ArgumentException>(() => model.Fit(train, new FitOptions { Augmentation = new ImageAugmentation(28, 27, Strong) }));
        Assert.Contains("28 x 27 = 756", e.Message);
        Assert.Contains("784 features", e.Message);
    }
}

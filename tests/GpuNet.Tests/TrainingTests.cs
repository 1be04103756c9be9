using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

public class TrainingTests
{
    private static Sequential LectureModel() => new(
        new Dense(128, "relu"), new Dense(64, "relu"), new Dense(10, "softmax"));

    [Fact]
    public void LectureModelReaches90PercentOnMnist10kOnTheCpu()
    {
        // The lecture's setup (784-128-64-10, SGD 0.01, batch 64, validation_split 0.2, 30 epochs)
        // on the shipped MNIST-10k: 6,400 training digits, so a little below the lecture's 97.6% on
        // the full 60,000; 90% is the bar the engine must clear.
        var sets = Datasets.Mnist10k();
        using var backend = new CpuBackend();
        using var model = LectureModel();
        model.Compile(new Sgd(0.01f), new SparseCategoricalCrossentropy(), backend, seed: 42);
        var history = model.Fit(sets.Train, new FitOptions { Epochs = 30, BatchSize = 64, ValidationSplit = 0.2, Seed = 42 });
        var test = model.Evaluate(sets.Test);

        Assert.Equal(30, history.Epochs.Count);
        Assert.True(history.Epochs[^1].Loss < history.Epochs[0].Loss / 3,
            $"training loss should fall: first epoch {history.Epochs[0].Loss:F4}, last {history.Epochs[^1].Loss:F4}");
        Assert.True(test.Accuracy >= 0.90, $"test accuracy {test.Accuracy:P2} is below 90%");
        Assert.Equal(2000, test.Samples);
        Assert.Equal(6400, history.Epochs[0].Samples);
        Assert.Equal(100, history.Epochs[0].Steps); // 6,400 / 64
    }

    [Fact]
    public void SameSeedGivesTheSameTraining()
    {
        var sets = Datasets.Mnist10k();
        var small = sets.Train.Range(0, 500);
        double Run()
        {
            using var backend = new CpuBackend();
            using var model = LectureModel();
            model.Compile(new Sgd(0.05f), new SparseCategoricalCrossentropy(), backend, seed: 3);
            return model.Fit(small, new FitOptions { Epochs = 2, BatchSize = 50, Seed = 3 }).Epochs[^1].Loss;
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void PredictReturnsProbabilitiesThatAgreeWithEvaluate()
    {
        var sets = Datasets.Mnist10k();
        var train = sets.Train.Range(0, 1000);
        var test = sets.Test.Range(0, 300);
        using var backend = new CpuBackend();
        using var model = LectureModel();
        model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend);
        model.Fit(train, new FitOptions { Epochs = 3, BatchSize = 32 });
        var probs = model.Predict(test.Features);
        Assert.Equal(300 * 10, probs.Length);
        int correct = 0;
        for (int r = 0; r < 300; r++)
        {
            var row = probs.AsSpan(r * 10, 10);
            float sum = 0; int arg = 0;
            for (int c = 0; c < 10; c++) { sum += row[c]; if (row[c] > row[arg]) arg = c; }
            Assert.InRange(sum, 0.999f, 1.001f);
            if (arg == test.Labels[r]) correct++;
        }
        Assert.Equal(model.Evaluate(test).Accuracy, correct / 300.0, 6);
    }

    [Fact]
    public void FromLogitsTrainsALinearOutput()
    {
        var train = Datasets.Mnist10k().Train.Range(0, 600);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(32, "tanh"), new Dense(10));
        model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(fromLogits: true), backend);
        var h = model.Fit(train, new FitOptions { Epochs = 3, BatchSize = 60 });
        Assert.True(h.Epochs[^1].Loss < h.Epochs[0].Loss);
        var logits = model.Predict(train.Range(0, 2).Features);
        Assert.Contains(logits, v => v < 0 || v > 1); // raw scores, not probabilities
    }

    [Fact]
    public void ProbabilityLossWithoutSoftmaxOutputIsRejected()
    {
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(10, "relu"));
        var e = Assert.Throws<ArgumentException>(() => model.Compile(new Sgd(), new SparseCategoricalCrossentropy(), backend));
        Assert.Contains("softmax", e.Message);
        Assert.Contains("fromLogits", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void DenseRejectsNonPositiveUnits(int units)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Dense(units));
        Assert.Contains($"units={units}", e.Message);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-0.1f)]
    [InlineData(float.NaN)]
    public void SgdRejectsABadLearningRate(float lr)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(lr));
        Assert.Contains("learning_rate", e.Message);
    }

    [Fact]
    public void UnknownActivationNamesTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => new Dense(3, "rellu"));
        Assert.Contains("'rellu'", e.Message);
        Assert.Contains("leaky_relu", e.Message);
    }

    [Fact]
    public void TooFewOutputUnitsForTheClassesIsRejected()
    {
        var train = Datasets.Mnist10k().Train.Range(0, 100);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(4, "softmax"));
        model.Compile(new Sgd(), new SparseCategoricalCrossentropy(), backend);
        var e = Assert.Throws<ArgumentException>(() => model.Fit(train, new FitOptions()));
        Assert.Contains("10 classes", e.Message);
    }

    [Fact]
    public void DivergenceIsReportedWithAdvice()
    {
        var train = Datasets.Mnist10k().Train.Range(0, 256);
        using var backend = new CpuBackend();
        using var model = LectureModel();
        model.Compile(new Sgd(1e6f), new SparseCategoricalCrossentropy(), backend);
        var e = Assert.Throws<TrainingDivergedException>(() => model.Fit(train, new FitOptions { Epochs = 5, BatchSize = 32 }));
        Assert.Contains("Lower the learning rate", e.Message);
    }

    [Fact]
    public void SummaryCountsParametersLikeKeras()
    {
        // 784*128+128 = 100,480; 128*64+64 = 8,256; 64*10+10 = 650; total 109,386
        var summary = LectureModel().Summary(784);
        Assert.Contains("100,480", summary);
        Assert.Contains("8,256", summary);
        Assert.Contains("Total params: 109,386", summary);
    }
}

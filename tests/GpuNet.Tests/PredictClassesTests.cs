using GpuNet.Backends;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Sequential.PredictClasses / Ensemble.PredictClasses and the ClassPredictions they return.</summary>
public sealed class PredictClassesTests
{
    [Fact]
    public void ArgmaxPerRowFirstMaxOnATieAndAHalfThresholdForOneOutput()
    {
        var multi = ClassPredictions.FromProbabilities([0.1f, 0.7f, 0.2f, 0.4f, 0.2f, 0.4f], rows: 2);
        Assert.Equal([1, 0], multi.Classes);
        Assert.Equal([0.7f, 0.4f], multi.Confidence);
        Assert.Equal(3, multi.ClassCount);

        var single = ClassPredictions.FromProbabilities([0.7f, 0.5f, 0.2f], rows: 3);
        Assert.Equal([1, 0, 0], single.Classes); // class 1 only above 0.5, as Keras' p > 0.5
        Assert.Equal(2, single.ClassCount);
        Assert.Equal([0.3f, 0.7f], single.Probabilities[..2], (a, b) => Math.Abs(a - b) < 1e-7f);
        Assert.Equal(0.8f, single.Confidence[2], 1e-7f);

        var e = Assert.Throws<ArgumentException>(() => ClassPredictions.FromProbabilities([0.1f, 0.2f, 0.3f], rows: 2));
        Assert.Contains("3 probabilities are not 2 whole rows", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PredictedClassesScoreTheAccuracyEvaluateReports(bool fromLogits)
    {
        var train = TestData.Blobs(150, 1);
        var test = TestData.Blobs(90, 2);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(16, "relu"), new Dense(3, fromLogits ? "linear" : "softmax"));
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(fromLogits), backend, seed: 7);
        model.Fit(train, new FitOptions { Epochs = 15, BatchSize = 30 });

        var predicted = model.PredictClasses(test.Features);
        int correct = predicted.Classes.Zip(test.Labels).Count(t => t.First == t.Second);
        Assert.Equal(model.Evaluate(test).Accuracy, (double)correct / test.Count, 1e-12); // host argmax = device correct count
        Assert.True(correct > test.Count * 0.8, $"{correct} of {test.Count}");
        for (int r = 0; r < test.Count; r++) // probabilities, also for a from-logits model
        {
            var row = predicted.Probabilities.AsSpan(r * 3, 3);
            Assert.Equal(1f, row[0] + row[1] + row[2], 1e-5f);
            Assert.Equal(row[predicted.Classes[r]], predicted.Confidence[r]);
        }
    }

    [Fact]
    public void AnUnfittedModelAndRaggedFeaturesGetAClearMessage()
    {
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(3, "softmax"));
        model.Compile(new Sgd(), new SparseCategoricalCrossentropy(), backend);
        Assert.Contains("Fit or Evaluate", Assert.Throws<InvalidOperationException>(() => model.PredictClasses([1f, 2f])).Message);
        model.Fit(TestData.Blobs(30, 3), new FitOptions { Epochs = 1 });
        Assert.Contains("not a whole number of rows of 6 features", Assert.Throws<ArgumentException>(() => model.PredictClasses(new float[7])).Message);
    }
}

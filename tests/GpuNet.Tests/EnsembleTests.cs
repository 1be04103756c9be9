using GpuNet.Backends;
using GpuNet.Cli;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

public class EnsembleTests
{
    private static Sequential Trained(IBackend backend, Dataset train, int seed, Loss? loss = null, string output = "softmax")
    {
        var model = new Sequential(new Dense(32, "relu"), new Dense(10, output));
        model.Compile(new Sgd(0.05f), loss ?? new SparseCategoricalCrossentropy(), backend, seed: (ulong)seed);
        model.Fit(train, new FitOptions { Epochs = 3, BatchSize = 32, Seed = seed });
        return model;
    }

    [Fact]
    public void TheEnsembleAveragesItsMembersProbabilitiesAndBeatsTheirMeanAccuracy()
    {
        var sets = Datasets.Mnist10k();
        var train = sets.Train.Range(0, 1500);
        var test = sets.Test.Range(0, 1000);
        using var backend = new CpuBackend();
        var members = Enumerable.Range(1, 5).Select(seed => Trained(backend, train, seed)).ToList();
        try
        {
            var ensemble = new Ensemble(members);
            var mean = ensemble.Predict(test.Features);
            var outputs = members.Select(m => m.Predict(test.Features)).ToList();
            for (int j = 0; j < mean.Length; j += 97)
            {
                float expected = outputs.Average(o => o[j]);
                Assert.True(Math.Abs(mean[j] - expected) <= 1e-6f + 1e-5f * expected, $"output {j}: {mean[j]} vs {expected}");
            }

            var result = ensemble.Evaluate(test);
            Assert.Equal(5, result.Members.Count);
            Assert.Equal(members[2].Evaluate(test).Accuracy, result.Members[2].Accuracy);
            // Five seeds' errors differ enough that voting by averaged probabilities beats the typical member.
            Assert.True(result.Ensemble.Accuracy > result.MeanMemberAccuracy,
                $"ensemble {result.Ensemble.Accuracy:F4} vs members' mean {result.MeanMemberAccuracy:F4}");
            Assert.True(result.Ensemble.Loss < result.Members.Average(m => m.Loss));
        }
        finally
        {
            members.ForEach(m => m.Dispose());
        }
    }

    [Fact]
    public void MembersTrainedFromLogitsAreAveragedAsProbabilities()
    {
        var train = Datasets.Mnist10k().Train.Range(0, 600);
        using var backend = new CpuBackend();
        using var probs = Trained(backend, train, 1);
        using var logits = Trained(backend, train, 2, new SparseCategoricalCrossentropy(fromLogits: true), "linear");
        var x = train.Range(0, 50).Features;
        var mean = new Ensemble([probs, logits]).Predict(x);
        for (int r = 0; r < 50; r++)
        {
            float sum = 0;
            for (int c = 0; c < 10; c++) sum += mean[r * 10 + c];
            Assert.Equal(1f, sum, 4); // both halves are probability rows
        }
    }

    [Fact]
    public void BadEnsemblesAreRejectedClearly()
    {
        Assert.Contains("at least one model", Assert.Throws<ArgumentException>(() => new Ensemble([])).Message);
        using var raw = new Sequential(new Dense(3, "softmax"));
        Assert.Contains("not compiled", Assert.Throws<ArgumentException>(() => new Ensemble([raw])).Message);
    }

    [Fact]
    public void TheCliTrainsAnEnsembleAndReportsItBesideItsMembers()
    {
        var (code, text, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", "--ensemble", "3");
        Assert.True(code == 0, error);
        Assert.Contains("member 3 (seed 44): test accuracy", text);
        Assert.Contains("Ensemble of 3: test loss", text);

        (code, _, error) = TestData.RunCli("train", "--ensemble", "3", "--save", Path.Combine(Path.GetTempPath(), "e.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("only single models can be saved", error);
    }
}

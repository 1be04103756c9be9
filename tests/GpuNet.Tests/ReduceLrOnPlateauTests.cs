using GpuNet.Backends;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>ReduceLrOnPlateau (Keras' ReduceLROnPlateau) and the optimizer's learning-rate scale it sets.</summary>
public sealed class ReduceLrOnPlateauTests
{
    private static EpochResult Epoch(int epoch, double valLoss) =>
        new(epoch, 100, Loss: 1, Accuracy: 0.5, ValidationLoss: valLoss, ValidationAccuracy: 0.5, TimeSpan.Zero, Steps: 1, Samples: 1);

    /// <summary>Feeds a scripted val_loss sequence; returns the rate after each epoch.</summary>
    private static float[] Drive(ReduceLrOnPlateau callback, Optimizer optimizer, double[] valLosses, Func<int, float>? baseRate = null)
    {
        callback.Reset();
        var rates = new float[valLosses.Length];
        for (int i = 0; i < valLosses.Length; i++)
        {
            float rate = baseRate?.Invoke(i + 1) ?? optimizer.Schedule.Rate(0, 0);
            callback.OnEpochEnd(optimizer, Epoch(i + 1, valLosses[i]), rate);
            rates[i] = rate * optimizer.LearningRateScale;
        }
        return rates;
    }

    [Fact]
    public void ReducesByTheFactorAfterPatienceEpochsWithoutImprovement()
    {
        var sgd = new Sgd(0.1f);
        var callback = new ReduceLrOnPlateau(factor: 0.5, patience: 2);
        // epochs 3 and 4 do not improve on 0.9 -> reduce after 4; 6 improves; 7 and 8 do not -> reduce after 8
        var rates = Drive(callback, sgd, [1.0, 0.9, 0.95, 0.95, 0.95, 0.85, 0.9, 0.9]);

        Assert.Equal([(4, 0.05f), (8, 0.025f)], callback.Reductions.Select(r => (r.Epoch, MathF.Round(r.LearningRate, 6))));
        Assert.Equal(0.25f, sgd.LearningRateScale, 1e-6f);
        Assert.Equal(0.1f, rates[2], 1e-7f);
        Assert.Equal(0.05f, rates[3], 1e-7f);
        Assert.Equal(0.025f, sgd.StepParameters(0, 0).LearningRate, 1e-7f); // what the update kernel receives
    }

    [Fact]
    public void CooldownMinDeltaAndTheFloorBehaveAsInKeras()
    {
        // cooldown 2, as Keras counts it: the epoch after a reduction is skipped; in the next one the cooldown
        // runs out before the check, so it counts again -> reductions after epochs 2, 4 and 6, none after 3 and 5
        var cooled = new ReduceLrOnPlateau(factor: 0.5, patience: 1, cooldown: 2);
        Drive(cooled, new Sgd(0.1f), [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
        Assert.Equal([2, 4, 6], cooled.Reductions.Select(r => r.Epoch));
        var uncooled = new ReduceLrOnPlateau(factor: 0.5, patience: 1);
        Drive(uncooled, new Sgd(0.1f), [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
        Assert.Equal([2, 3, 4, 5, 6], uncooled.Reductions.Select(r => r.Epoch));

        // an improvement smaller than minDelta is no improvement
        var strict = new ReduceLrOnPlateau(factor: 0.5, patience: 2, minDelta: 0.01);
        Drive(strict, new Sgd(0.1f), [1.0, 0.995, 0.99]);
        Assert.Equal([3], strict.Reductions.Select(r => r.Epoch));

        // never below minLearningRate, and no reduction once there
        var sgd = new Sgd(0.1f);
        var floored = new ReduceLrOnPlateau(factor: 0.1, patience: 1, minLearningRate: 0.02);
        var rates = Drive(floored, sgd, [1.0, 1.0, 1.0, 1.0]);
        Assert.Single(floored.Reductions);
        Assert.Equal(0.02f, rates[^1], 1e-7f);

        // a floor that float rounds up (0.001 is 0.0010000000475 as a float) is reached once, not re-"reduced" every epoch
        var sgd2 = new Sgd(0.05f);
        var roundsUp = new ReduceLrOnPlateau(factor: 0.5, patience: 1, minLearningRate: 0.001);
        var rates2 = Drive(roundsUp, sgd2, [.. Enumerable.Repeat(1.0, 30)]);
        Assert.Equal(6, roundsUp.Reductions.Count); // 0.025, 0.0125, 0.00625, 0.003125, 0.0015625, then the floor 0.001
        Assert.Equal(0.001f, rates2[^1], 1e-9f);
        Assert.Equal(0.001f, roundsUp.Reductions[^1].LearningRate, 1e-9f);
    }

    [Fact]
    public void TheReductionScalesADecayingSchedule()
    {
        var schedule = new StepDecay(0.1f, factor: 0.5f, epochsPerDrop: 1);
        var sgd = new Sgd(schedule);
        var callback = new ReduceLrOnPlateau(factor: 0.1, patience: 1);
        Drive(callback, sgd, [1.0, 1.0], epoch => schedule.Rate(0, epoch)); // reduction after epoch 2, base 0.1 * 0.5^2
        Assert.Equal(0.1f, sgd.LearningRateScale, 1e-6f);
        Assert.Equal(0.1f * 0.125f * 0.1f, sgd.LearningRate(0, 3), 1e-8f); // the schedule goes on decaying, scaled
    }

    [Fact]
    public void FitReportsEachEpochsRateAndTrainsWithTheReducedRate()
    {
        var train = TestData.Blobs(90, 1);
        var validation = TestData.Blobs(60, 2);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(16, "relu"), new Dense(3, "softmax"));
        model.Compile(new Sgd(2f), new SparseCategoricalCrossentropy(), backend, seed: 3);
        var callback = new ReduceLrOnPlateau(factor: 0.5, patience: 1);
        var reported = new List<(int, float)>();
        var h = model.Fit(train, new FitOptions
        {
            Epochs = 25, BatchSize = 30, ValidationData = validation, ReduceLrOnPlateau = callback,
            OnLearningRateReduced = (e, lr) => reported.Add((e, lr)),
        });

        Assert.NotEmpty(callback.Reductions);
        Assert.Equal(callback.Reductions, reported);
        for (int i = 0; i < h.Epochs.Count; i++)
        {
            float expected = 2f * MathF.Pow(0.5f, callback.Reductions.Count(r => r.Epoch < i + 1));
            Assert.Equal(expected, h.Epochs[i].LearningRate, 1e-6f);
        }
        Assert.Equal(h.Epochs[^1].LearningRate * (callback.Reductions[^1].Epoch == h.Epochs.Count ? 0.5f : 1f),
            model.Optimizer!.LearningRate(model.Iterations, 0), 1e-6f);
    }

    [Fact]
    public void TheScaleReachesTheUpdateKernel()
    {
        // SGD(0.2) at scale 0.5 must train exactly as SGD(0.1)
        var data = TestData.Blobs(60, 4);
        float[] Train(Sgd sgd)
        {
            using var backend = new CpuBackend();
            using var model = new Sequential(new Dense(8, "tanh"), new Dense(3, "softmax"));
            model.Compile(sgd, new SparseCategoricalCrossentropy(), backend, seed: 5);
            model.Fit(data, new FitOptions { Epochs = 3, BatchSize = 20 });
            return model.Predict(data.Features);
        }
        var halved = new Sgd(0.2f) { LearningRateScale = 0.5f };
        Assert.Equal(Train(new Sgd(0.1f)), Train(halved));
    }

    [Fact]
    public void TheReducedRateIsSavedWithTheModel()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("gpunet-rlr-").FullName, "m.safetensors");
        var data = TestData.Blobs(30, 6);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(3, "softmax"));
        model.Compile(new Adam(0.01f) { LearningRateScale = 0.25f }, new SparseCategoricalCrossentropy(), backend);
        model.Fit(data, new FitOptions { Epochs = 1 });
        model.Save(path);
        using var loaded = Sequential.Load(path, backend);
        Assert.Equal(0.25f, loaded.Optimizer!.LearningRateScale);
        Assert.Equal("2", SafeTensorsFile.Read(path).Metadata["version"]); // older builds refuse it rather than drop the scale
        Assert.Equal("Adam(lr=0.01) x0.25", loaded.Optimizer.ToString());
        Assert.Equal(0.0025f, loaded.Optimizer.LearningRate(0, 0), 1e-8f);

        // a model whose rate was never reduced keeps the layout older builds read
        using var plain = new Sequential(new Dense(3, "softmax"));
        plain.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), backend);
        plain.Fit(data, new FitOptions { Epochs = 1 });
        plain.Save(path);
        Assert.Equal("1", SafeTensorsFile.Read(path).Metadata["version"]);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Theory]
    [InlineData(1.0, 10, 0.0, "factor must be in (0, 1)")]
    [InlineData(0.0, 10, 0.0, "factor must be in (0, 1)")]
    [InlineData(0.5, 0, 0.0, "patience must be a positive number")]
    [InlineData(0.5, 3, -1.0, "min_lr must be a finite number >= 0")]
    public void BadSettingsGetAClearMessage(double factor, int patience, double minLr, string expected)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLrOnPlateau(factor, patience, minLearningRate: minLr));
        Assert.Contains(expected, e.Message);
        var s = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(0.1f) { LearningRateScale = 0f });
        Assert.Contains("positive finite", s.Message);
    }
}

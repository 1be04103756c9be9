using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Continuing a run (FitOptions.InitialEpoch, <c>gpunet train --resume</c>): it must equal the uninterrupted run.</summary>
public sealed class ResumeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-resume-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Dropout (a stream keyed by the step), a schedule that drops every epoch, shuffling and a validation split:
    /// everything a resumed run must continue rather than restart.</summary>
    private static Sequential Model(string optimizer, IBackend backend)
    {
        var model = new Sequential(new Dense(16, "relu"), new Dropout(0.25f), new Dense(3, "softmax"));
        var schedule = new StepDecay(optimizer == "adam" ? 0.01f : 0.1f, factor: 0.5f, epochsPerDrop: 1);
        model.Compile(optimizer == "adam" ? new Adam(schedule) : new Sgd(schedule, momentum: 0.9f), new SparseCategoricalCrossentropy(), backend, seed: 3);
        return model;
    }

    private static readonly FitOptions Options = new() { Epochs = 2, BatchSize = 16, ValidationSplit = 0.2, Seed = 11, Shuffle = true };

    [Theory]
    [InlineData("sgd-momentum")]
    [InlineData("adam")]
    public void TwoEpochsEqualOneEpochSavedLoadedAndResumedForOneMore(string optimizer)
    {
        var data = TestData.Blobs(150, 1);
        using var backend = new CpuBackend();
        using var straight = Model(optimizer, backend);
        var whole = straight.Fit(data, Options);

        using var first = Model(optimizer, backend);
        first.Fit(data, Options with { Epochs = 1 });
        string path = Path.Combine(_folder, "epoch1.safetensors");
        first.Save(path);
        using var resumed = Sequential.Load(path, backend);
        var rest = resumed.Fit(data, Options with { InitialEpoch = 1 });

        Assert.Equal(2, Assert.Single(rest.Epochs).Epoch);
        Assert.Equal(whole.Epochs[1].Loss, rest.Epochs[0].Loss); // bitwise: the same batches, rates, masks and moments
        Assert.Equal(whole.Epochs[1].ValidationLoss, rest.Epochs[0].ValidationLoss);
        Assert.Equal(whole.Epochs[1].LearningRate, rest.Epochs[0].LearningRate); // the step schedule's second epoch: halved
        Assert.Equal(straight.Predict(data.Features), resumed.Predict(data.Features));
        Assert.Equal(straight.Iterations, resumed.Iterations);

        // without the initial epoch the shuffle and the schedule restart, and the result differs: the test can fail
        using var restarted = Sequential.Load(path, backend);
        restarted.Fit(data, Options with { Epochs = 1 });
        Assert.NotEqual(straight.Predict(data.Features), restarted.Predict(data.Features));
    }

    [Fact]
    public void ContinuingTheSameModelInMemoryEqualsTheUninterruptedRun()
    {
        var data = TestData.Blobs(120, 2);
        using var backend = new CpuBackend();
        using var straight = Model("adam", backend);
        straight.Fit(data, Options with { Epochs = 3 });
        using var stepwise = Model("adam", backend);
        for (int done = 0; done < 3; done++) stepwise.Fit(data, Options with { Epochs = done + 1, InitialEpoch = done });
        Assert.Equal(straight.Predict(data.Features), stepwise.Predict(data.Features));
    }

    [Fact]
    public void AnInitialEpochAtOrPastTheLastIsRejectedWithTheFix()
    {
        using var backend = new CpuBackend();
        using var model = Model("adam", backend);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Fit(TestData.Blobs(30, 1), new FitOptions { Epochs = 3, InitialEpoch = 3 }));
        Assert.Contains("initial_epoch=3, epochs=3", e.Message);
        Assert.Contains("set Epochs = 5", e.Message);
    }

    [Fact]
    public void ACheckpointOfAResumedRunSavesOnlyEpochsThatBeatTheEarlierBest()
    {
        var data = TestData.Blobs(90, 4);
        using var backend = new CpuBackend();
        using var model = Model("adam", backend);
        string path = Path.Combine(_folder, "best.safetensors");
        var unbeatable = new ModelCheckpoint(path) { InitialBest = 1e-9 };
        model.Fit(data, Options with { Epochs = 3, InitialEpoch = 1, Checkpoint = unbeatable });
        Assert.Equal(0, unbeatable.SavedEpoch);
        Assert.False(File.Exists(path));

        var fresh = new ModelCheckpoint(path); // infinity: the first epoch is saved, with its loss for a later resume
        model.Fit(data, Options with { Epochs = 4, InitialEpoch = 3, Checkpoint = fresh });
        Assert.Equal(4, fresh.SavedEpoch);
        var meta = SafeTensorsFile.Read(path).Metadata;
        Assert.Equal("4", meta[ModelCheckpoint.EpochKey]);
        Assert.True(double.Parse(meta[ModelCheckpoint.MonitoredKey], System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public void EarlyStoppingCountsTheResumedEpochNumbers()
    {
        var data = TestData.Blobs(90, 3);
        using var backend = new CpuBackend();
        using var model = Model("adam", backend);
        var stop = new EarlyStopping(patience: 50);
        var h = model.Fit(data, Options with { Epochs = 7, InitialEpoch = 4, EarlyStopping = stop });
        Assert.Equal([5, 6, 7], h.Epochs.Select(e => e.Epoch));
        Assert.InRange(stop.BestEpoch, 5, 7);
    }
}

/// <summary><c>gpunet train --resume CHECKPOINT</c>.</summary>
public sealed class CliResumeTests : IDisposable
{
    private static readonly string TitanicPath = Path.Combine(AppContext.BaseDirectory, "Data", "titanic.csv");
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-cli-resume-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private static (int Code, string Out, string Err) Train(params string[] more) => TestData.RunCli(
        ["train", "--device", "cpu", "--dataset", $"csv:{TitanicPath}", "--target", "survived", "--optimizer", "adam", "--dropout", "0.2", "--batch-size", "32", .. more]);

    private static float[] Weights(string path) => [.. SafeTensorsFile.Read(path).Tensors.SelectMany(t => t.Data)];

    [Fact]
    public void ResumingACheckpointForOneMoreEpochEqualsTheTwoEpochRun()
    {
        var (code, _, error) = Train("--epochs", "2", "--save", PathOf("straight.safetensors"), "--checkpoint", PathOf("straight-best.safetensors"));
        Assert.True(code == 0, error);
        (code, _, error) = Train("--epochs", "1", "--checkpoint", PathOf("epoch1.safetensors"));
        Assert.True(code == 0, error);

        // the data, seed, batch size and split come from the checkpoint; --epochs names the last epoch
        (code, var output, error) = TestData.RunCli("train", "--device", "cpu", "--resume", PathOf("epoch1.safetensors"), "--epochs", "2",
            "--save", PathOf("resumed.safetensors"), "--checkpoint", PathOf("resumed-best.safetensors"));
        Assert.True(code == 0, error);
        Assert.Contains("training epochs 2 to 2", output);
        Assert.Contains("Epoch 2/2", output);
        Assert.DoesNotContain("Epoch 1/2", output);
        Assert.Equal(Weights(PathOf("straight.safetensors")), Weights(PathOf("resumed.safetensors"))); // bitwise, optimizer slots included
        // the best epoch of the whole run: in the resumed run's checkpoint if epoch 2 beat epoch 1, else still in epoch 1's
        string best = File.Exists(PathOf("resumed-best.safetensors")) ? PathOf("resumed-best.safetensors") : PathOf("epoch1.safetensors");
        Assert.Equal(SafeTensorsFile.Read(PathOf("straight-best.safetensors")).Metadata[ModelCheckpoint.EpochKey], SafeTensorsFile.Read(best).Metadata[ModelCheckpoint.EpochKey]);
        Assert.Equal(Weights(PathOf("straight-best.safetensors")), Weights(best));

        // nothing left to do, and options that would change the resumed model, are refused with the fix
        (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--resume", PathOf("resumed.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("holds epoch 2 and --epochs is 2", error);
        (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--resume", PathOf("epoch1.safetensors"), "--epochs", "3", "--lr", "0.1");
        Assert.Equal(1, code);
        Assert.Contains("--lr with --resume", error);
        (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--resume", PathOf("epoch1.safetensors"), "--epochs", "3", "--checkpoint", PathOf("epoch1.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("is the --resume checkpoint", error);
    }
}

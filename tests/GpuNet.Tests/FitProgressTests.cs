using GpuNet.Backends;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Per-batch callbacks, cancellation and the command line's verbosity (Keras' on_train_batch_end, stop_training, verbose).</summary>
public sealed class FitProgressTests
{
    private static Sequential Model(CpuBackend backend)
    {
        var model = new Sequential(new Dense(8, "relu"), new Dense(3, "softmax"));
        model.Compile(new Sgd(0.05f), new SparseCategoricalCrossentropy(), backend, seed: 2);
        return model;
    }

    [Fact]
    public void OnBatchEndReportsEveryBatchWithTheEpochsRunningFigures()
    {
        using var backend = new CpuBackend();
        using var model = Model(backend);
        var seen = new List<BatchProgress>();
        // 300 samples in batches of 64: 4 full batches and one of 44, so 5 per epoch
        var history = model.Fit(TestData.Blobs(300, 1), new FitOptions { Epochs = 2, BatchSize = 64, OnBatchEnd = seen.Add });

        Assert.Equal([1, 2, 3, 4, 5, 1, 2, 3, 4, 5], seen.Select(b => b.Batch));
        Assert.All(seen, b => Assert.Equal((5, 2), (b.Batches, b.Epochs)));
        Assert.Equal([1, 1, 1, 1, 1, 2, 2, 2, 2, 2], seen.Select(b => b.Epoch));
        // after an epoch's last batch the running figures are the epoch's: the same sums over the same 300 samples
        for (int e = 0; e < 2; e++)
        {
            Assert.Equal(history.Epochs[e].Loss, seen[5 * e + 4].Loss, 12);
            Assert.Equal(history.Epochs[e].Accuracy, seen[5 * e + 4].Accuracy, 12);
        }
        // accuracy over the samples so far: a whole number of correct ones out of 64 after the first batch
        Assert.Equal(0, seen[0].Accuracy * 64 % 1, 6);
    }

    [Fact]
    public void CancellingStopsFitWithinOneBatchAndKeepsItsSteps()
    {
        using var backend = new CpuBackend();
        using var model = Model(backend);
        using var cancel = new CancellationTokenSource();
        var options = new FitOptions
        {
            Epochs = 5, BatchSize = 32, CancellationToken = cancel.Token,
            OnBatchEnd = b => { if (b.Epoch == 2 && b.Batch == 3) cancel.Cancel(); },
        };
        Assert.ThrowsAny<OperationCanceledException>(() => model.Fit(TestData.Blobs(300, 1), options));
        // 300 / 32: 10 batches in epoch 1, then 3 of epoch 2 before the check of the 4th
        Assert.Equal(13, model.Iterations);
    }

    [Fact]
    public void FitPrintsAsKerasVerboseSaysAndStaysQuietWhenItsOutputIsRedirected()
    {
        using var backend = new CpuBackend();
        string Printed(Verbosity verbose)
        {
            using var model = Model(backend);
            var writer = new StringWriter();
            var epochs = new List<int>();
            model.Fit(TestData.Blobs(300, 1), new FitOptions { Epochs = 2, BatchSize = 64, Verbose = verbose, Output = writer, OnEpochEnd = e => epochs.Add(e.Epoch) });
            Assert.Equal([1, 2], epochs); // the user's callback runs under every display
            return writer.ToString();
        }

        Assert.Equal("", Printed(Verbosity.Auto)); // the default: not a terminal, so nothing
        Assert.Equal("", Printed(Verbosity.Silent));
        string lines = Printed(Verbosity.EpochLines);
        Assert.Matches(@"^Epoch 1/2 - [0-9.]+s - loss: [0-9.]+ - accuracy: [0-9.]+\r?\nEpoch 2/2 - ", lines);
        Assert.Equal(lines.Split('\n').Length, Printed(Verbosity.ProgressBar).Split('\n').Length); // no bar off a terminal: the lines

        using var model = Model(backend);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.Fit(TestData.Blobs(30, 1), new FitOptions { Verbose = (Verbosity)7 }));
        Assert.Contains("Unknown verbosity 7", error.Message);
    }

    [Fact]
    public void TheProgressBarDrawsEachEpochOnATerminal()
    {
        // a Spectre console that claims a terminal, writing to a string: the bar Fit draws by default on a real one
        var writer = new StringWriter();
        var saved = Spectre.Console.AnsiConsole.Console;
        Spectre.Console.AnsiConsole.Console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Ansi = Spectre.Console.AnsiSupport.Yes,
            ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
            Interactive = Spectre.Console.InteractionSupport.Yes,
            Out = new Spectre.Console.AnsiConsoleOutput(writer),
        });
        try
        {
            using var backend = new CpuBackend();
            using var model = Model(backend);
            var batches = new List<BatchProgress>();
            var options = new FitOptions { Epochs = 2, BatchSize = 64, OnBatchEnd = batches.Add };
            var history = FitProgress.Run(Verbosity.ProgressBar, Console.Out, options, o => model.Fit(TestData.Blobs(300, 1), o with { Verbose = Verbosity.Silent }));
            Assert.Equal(2, history.Epochs.Count);
            Assert.Equal(10, batches.Count); // the user asked for every batch: the bar does not thin them out
            string shown = writer.ToString();
            Assert.Contains("Epoch 1/2 - ", shown);
            Assert.Contains("Epoch 2/2 - ", shown);
            Assert.Contains("100%", shown);
        }
        finally
        {
            Spectre.Console.AnsiConsole.Console = saved;
        }
    }

    [Fact]
    public void ABatchEndIntervalThinsTheReportsButKeepsEachEpochsLast()
    {
        using var backend = new CpuBackend();
        using var model = Model(backend);
        var seen = new List<BatchProgress>();
        model.Fit(TestData.Blobs(300, 1), new FitOptions { Epochs = 2, BatchSize = 32, OnBatchEnd = seen.Add, BatchEndInterval = TimeSpan.FromHours(1) });
        Assert.Equal([(1, 10), (2, 10)], seen.Select(b => (b.Epoch, b.Batch)));
    }

    [Fact]
    public void VerboseZeroPrintsNoEpochLinesAndAnUnknownLevelIsRejected()
    {
        var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "2", "--verbose", "0", "--layers", "16");
        Assert.True(code == 0, error);
        Assert.DoesNotContain("Epoch 1/2", output);
        Assert.Contains("Test: loss", output);

        // a redirected output (here a writer) gets Keras' verbose-2 lines, not a progress bar
        (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "2", "--verbose", "1", "--layers", "16");
        Assert.True(code == 0, error);
        Assert.Contains("Epoch 2/2 - ", output);
        Assert.DoesNotContain("━", output);

        (code, _, error) = TestData.RunCli("train", "--verbose", "3");
        Assert.NotEqual(0, code);
        Assert.Contains("Argument '3' not recognized", error);
        Assert.Contains("'2'", error); // the accepted levels are listed
    }
}

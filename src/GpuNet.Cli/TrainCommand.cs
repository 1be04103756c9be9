using System.CommandLine;
using System.Diagnostics;
using GpuNet.Models;

namespace GpuNet.Cli;

/// <summary>
/// <c>gpunet train</c>: with no options, the lecture's MNIST model (784-128-64-10, ReLU, softmax,
/// SGD 0.01, batch 64, 30 epochs, 20% validation) on the shipped MNIST-10k, on the best device.
/// Every lecture choice (optimizer, activation, initializer, regularization, schedule, augmentation)
/// is an option; see <see cref="TrainSettings"/>.
/// </summary>
internal static class TrainCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var o = new TrainOptions();
        var command = new Command("train", "Train a multi-layer perceptron (default: the lecture's MNIST model, 784-128-64-10) and report test accuracy.");
        foreach (var option in o.All) command.Options.Add(option);
        command.SetAction(parse => Program.Guard(error, () => Run(o.Read(parse), output, error)));
        return command;
    }

    /// <summary>Trains and evaluates; returns the exit code.</summary>
    internal static int Run(TrainSettings s, TextWriter output, TextWriter error)
    {
        var data = DataLoader.Load(s, output);
        if (data.Train.Count < DataLoader.MinRowsToHoldOut && !s.ValidationSplitGiven && s.ValidationSplit > 0)
        {
            output.WriteLine($"  {data.Train.Count} training rows: too few for a validation split, so every row trains (--validation-split to hold some out)");
            s = s with { ValidationSplit = 0 };
        }
        using var backend = GpuNet.Device.Create(s.Device);
        output.WriteLine($"Device: {backend.Name}");

        using var model = ModelFactory.Build(s, data);
        var loss = ModelFactory.Loss(s, data); // checks --loss against the data first
        if (s.LabelSmoothing > 0) data = data with { Train = ModelFactory.Smoothed(data.Train, s.LabelSmoothing, data.ClassCount) };
        model.Compile(ModelFactory.Optimizer(s, data), loss, backend, seed: (ulong)s.Seed);

        int validation = (int)Math.Round(data.Train.Count * s.ValidationSplit);
        output.WriteLine($"Data: {data.Train.Name} {data.Train.Count - validation:N0} train / {validation:N0} validation, " +
                         $"{data.Test.Name} {data.Test.Count:N0} test; {data.Train.FeatureCount} features, {(data.IsRegression ? "1 numeric target" : $"{data.ClassCount} classes")}");
        output.WriteLine(model.Summary(data.Train.FeatureCount));
        output.WriteLine($"Optimizer: {model.Optimizer}, loss: {model.Loss}, batch_size={s.BatchSize}, epochs={s.Epochs}" +
                         (s.Augmentation is null ? "" : $", augmentation: {s.AugmentationText}"));

        if (s.GradientNorms)
        {
            // Training-mode forward and backward on the first batch, no update: how much gradient reaches each layer.
            var kernels = model.GradientNorms(data.Train, s.BatchSize).Where(n => n.Parameter.EndsWith("/kernel", StringComparison.Ordinal)).ToList();
            output.WriteLine($"Gradient RMS of each kernel on one batch of {Math.Min(s.BatchSize, data.Train.Count)}, input side first " +
                             $"(first / last = {kernels[0].RootMeanSquare / kernels[^1].RootMeanSquare:0.0e0}):");
            output.WriteLine("  " + string.Join(", ", kernels.Select(k => $"{k.Parameter[..^"/kernel".Length]} {k.RootMeanSquare:0.0e0}")));
        }
        var options = FitOptionsFor(s, data, s.Seed) with
        {
            Checkpoint = s.CheckpointPath is { } cp ? new ModelCheckpoint(cp, metadata: ModelMetadata(s, data)) : null,
            OnEpochEnd = s.Verbose == "0" ? null : e => output.WriteLine(e),
            OnLearningRateReduced = (epoch, lr) => output.WriteLine(
                $"Epoch {epoch}: {(s.ValidationSplit > 0 ? "val_loss" : "loss")} has not improved for {s.ReduceLrPatience} epochs; learning rate reduced to {lr:G4}."),
        };
        var (checkpoint, stopping) = (options.Checkpoint, options.EarlyStopping);
        var total = Stopwatch.StartNew();
        var history = TrainProgress.ShowsBar(s.Verbose, output) ? TrainProgress.Fit(model, data.Train, options) : model.Fit(data.Train, options);
        total.Stop();
        foreach (var warning in model.Warnings) error.WriteLine($"warning: {warning}");
        var test = model.Evaluate(data.Test);
        var epochs = history.Epochs;
        double meanEpoch = epochs.Count > 1 ? epochs.Skip(1).Average(e => e.Elapsed.TotalSeconds) : epochs[0].Elapsed.TotalSeconds;
        if (epochs.Count < s.Epochs) output.WriteLine($"Early stopping after epoch {epochs.Count}.");
        if (checkpoint is { SavedEpoch: > 0 })
            output.WriteLine($"Checkpoint: {checkpoint.Path} holds epoch {checkpoint.SavedEpoch}, the best by {(s.ValidationSplit > 0 ? "val_loss" : "loss")}.");
        if (stopping is { RestoredEpoch: > 0 }) output.WriteLine($"Restored the weights of epoch {stopping.RestoredEpoch}, the best by {(s.ValidationSplit > 0 ? "val_loss" : "loss")}.");
        output.WriteLine($"Training time: {total.Elapsed.TotalSeconds:F1}s ({meanEpoch:F3}s per epoch after the first, " +
                         $"{epochs[^1].SamplesPerSecond:N0} samples/s in the last)");
        output.WriteLine(data.IsRegression ? data.RegressionReport(model, test.Loss)
            : $"Test: loss {test.Loss:F4} - accuracy {test.Accuracy:F4} ({test.Samples:N0} samples)");
        if (s.Ensemble > 1) TrainEnsemble(s, data, backend, model, test, output);
        if (s.SavePath is { } path)
        {
            model.Save(path, ModelMetadata(s, data));
            output.WriteLine($"Saved the model to {path} ({new FileInfo(path).Length:N0} bytes); evaluate it with: gpunet evaluate --model {path}");
            if (data.Preprocessor is not null) output.WriteLine($"Predict new rows with: gpunet predict --model {path} --input NEW.csv");
        }
        // after the model is saved: a report that cannot be written never costs the trained model
        if (s.HistoryPath is { } csv)
        {
            BenchReport.WriteAtomically(csv, System.Text.Encoding.UTF8.GetBytes(history.ToCsv()));
            output.WriteLine($"Wrote the per-epoch history to {csv}");
        }
        if (s.PlotPath is { } png)
        {
            BenchReport.WriteAtomically(png, HistoryReport.ChartPng(history, $"{data.Train.Name}, {model.Optimizer}", stopping?.RestoredEpoch is > 0 and var r ? r : null));
            output.WriteLine($"Wrote the learning curves to {png}");
        }
        return 0;
    }

    /// <summary>
    /// Trains <c>--ensemble N</c> - 1 more models like <paramref name="first"/>, each from its own seed (weights,
    /// shuffles, dropout), and reports the test accuracy of their averaged probabilities beside each member's
    /// (for a regression target, the errors of their averaged values).
    /// </summary>
    private static void TrainEnsemble(TrainSettings s, LoadedData data, Backends.IBackend backend, Sequential first,
        EvaluationResult firstTest, TextWriter output)
    {
        // a member's figure: its accuracy, or for regression its RMSE in the target's units
        string Score(Sequential m, EvaluationResult r) => data.IsRegression
            ? FormattableString.Invariant($"test RMSE {data.RegressionErrors(m.Predict(data.Test.Features)).Rmse:G5}")
            : $"test accuracy {r.Accuracy:F4}";
        output.WriteLine($"Ensemble: training {s.Ensemble - 1} more models with seeds {s.Seed + 1}..{s.Seed + s.Ensemble - 1}");
        output.WriteLine($"  member 1 (seed {s.Seed}): {Score(first, firstTest)}");
        var members = new List<Sequential> { first };
        try
        {
            for (int i = 1; i < s.Ensemble; i++)
            {
                var member = ModelFactory.Build(s, data);
                members.Add(member);
                int seed = s.Seed + i;
                member.Compile(ModelFactory.Optimizer(s, data), ModelFactory.Loss(s, data), backend, seed: (ulong)seed);
                var clock = Stopwatch.StartNew();
                member.Fit(data.Train, FitOptionsFor(s, data, seed));
                output.WriteLine($"  member {i + 1} (seed {seed}): {Score(member, member.Evaluate(data.Test))} ({clock.Elapsed.TotalSeconds:F1}s)");
            }
            var ensemble = new Ensemble(members);
            if (data.IsRegression)
            {
                var metrics = data.RegressionErrors(ensemble.Predict(data.Test.Features));
                var memberRmse = members.Select(m => data.RegressionErrors(m.Predict(data.Test.Features)).Rmse).ToList();
                output.WriteLine(FormattableString.Invariant($"Ensemble of {members.Count} (mean of their values): {metrics} ") +
                                 FormattableString.Invariant($"(members: RMSE mean {memberRmse.Average():G5}, best {memberRmse.Min():G5})"));
                return;
            }
            var result = ensemble.Evaluate(data.Test);
            output.WriteLine($"Ensemble of {members.Count}: test loss {result.Ensemble.Loss:F4} - accuracy {result.Ensemble.Accuracy:F4} " +
                             $"(members: mean {result.MeanMemberAccuracy:F4}, best {result.Members.Max(m => m.Accuracy):F4})");
        }
        finally
        {
            foreach (var m in members.Skip(1)) m.Dispose();
        }
    }

    /// <summary>The training options the settings ask for, with <paramref name="seed"/> (ensemble members each have their own).</summary>
    private static FitOptions FitOptionsFor(TrainSettings s, LoadedData data, int seed) => new()
    {
        Epochs = s.Epochs,
        BatchSize = s.BatchSize,
        ValidationSplit = s.ValidationSplit,
        Seed = seed,
        Augmentation = s.Augmentation is { } a ? new ImageAugmentation(data.ImageHeight, data.ImageWidth, a) : null,
        EarlyStopping = s.EarlyStoppingPatience is int p ? new EarlyStopping(p, restoreBestWeights: true) : null,
        ReduceLrOnPlateau = s.ReduceLrPatience is int r ? new ReduceLrOnPlateau(s.ReduceLrFactor, r, minLearningRate: s.MinLearningRate) : null,
    };

    /// <summary>What a saved model was trained on, so <c>gpunet evaluate</c> can load the same data by default.</summary>
    internal static Dictionary<string, string> ModelMetadata(TrainSettings s, LoadedData data)
    {
        var meta = new Dictionary<string, string>
        {
            // A CSV path made absolute, so that evaluate finds it from any folder.
            ["gpunet.dataset"] = s.Dataset.StartsWith("csv:", StringComparison.Ordinal) ? "csv:" + Path.GetFullPath(s.Dataset["csv:".Length..]) : s.Dataset,
            ["gpunet.seed"] = s.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (s.DataFolder is not null) meta["gpunet.data"] = Path.GetFullPath(s.DataFolder);
        if (s.Target is not null) meta["gpunet.target"] = s.Target;
        if (s.Scaler != "auto") meta["gpunet.scaler"] = s.Scaler;
        if (data.Preprocessor is { } tabular) meta["gpunet.task"] = tabular.Task == Data.Tabular.TabularTask.Regression ? "regression" : "classification";
        // The fitted CSV preprocessing (fill values, categories, scaling), so that `gpunet predict` encodes new rows the same way.
        if (data.Preprocessor is { } prep) meta[PredictCommand.PreprocessorKey] = prep.ToJson();
        return meta;
    }
}

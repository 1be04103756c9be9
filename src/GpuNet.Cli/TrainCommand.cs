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
        if (s.ResumePath is { } checkpoint) return Resume(s, checkpoint, output, error);
        var data = DataLoader.Load(s, output);
        if (data.Train.Count < DataLoader.MinRowsToHoldOut && !s.Given.Contains("--validation-split") && s.ValidationSplit > 0)
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
        Freeze(model, s, output);
        return Train(s, data, backend, model, 0, output, error);
    }

    /// <summary><c>--freeze</c>: the named layers keep their weights through training (an unknown name lists the model's).</summary>
    private static void Freeze(Sequential model, TrainSettings s, TextWriter output)
    {
        if (s.Freeze.Length == 0) return;
        foreach (var name in s.Freeze)
        {
            Layers.Layer layer;
            try { layer = model.GetLayer(name); }
            catch (KeyNotFoundException e) { throw new ArgumentException($"--freeze {name}: {e.Message} Give the names the summary shows.", e); }
            if (layer is not (Layers.Dense or Layers.Maxout or Layers.BatchNormalization))
                throw new ArgumentException($"--freeze {name}: layer '{name}' ({layer.TypeName}) has no trainable weights. Freeze a Dense, Maxout or BatchNormalization layer.");
            layer.Trainable = false;
        }
        output.WriteLine($"Frozen (weights kept as they are): {string.Join(", ", s.Freeze)}");
    }

    /// <summary>
    /// <c>--resume CHECKPOINT</c>: the saved model with its optimizer state and step count, trained on from the epoch
    /// after the saved one with the saved run's data, seed, batch size, validation split and augmentation (unless given
    /// again), so that the result equals the uninterrupted run's.
    /// </summary>
    private static int Resume(TrainSettings given, string path, TextWriter output, TextWriter error)
    {
        using var backend = GpuNet.Device.Create(given.Device);
        using var model = Sequential.Load(path, backend, out var meta);
        if (!meta.TryGetValue(ModelCheckpoint.EpochKey, out var saved) || !int.TryParse(saved, System.Globalization.CultureInfo.InvariantCulture, out int done) || done < 1)
            throw new ArgumentException(
                $"--resume '{path}' does not record the epoch it was saved after (it was written by Sequential.Save or an older gpunet). " +
                "Resume from a file written by gpunet train --checkpoint or --save.");
        var s = ResumedSettings(given, meta);
        if (s.Epochs <= done)
            throw new ArgumentException(
                $"--resume '{path}' holds epoch {done} and --epochs is {s.Epochs}: nothing is left to train. --epochs is the number of the last epoch: " +
                $"--epochs {done + 10} trains 10 more.");
        var fitted = meta.TryGetValue(PredictCommand.PreprocessorKey, out var json) ? Data.Tabular.TabularPreprocessor.FromJson(json) : null;
        var data = DataLoader.Load(s, output, fitted);
        if (data.Train.FeatureCount != model.InputSize)
            throw new ArgumentException(
                $"--resume '{path}' takes {model.InputSize} input features but {data.Train.Name} has {data.Train.FeatureCount}: resume on the data the run was trained on.");
        if (s.LabelSmoothing > 0) data = data with { Train = ModelFactory.Smoothed(data.Train, s.LabelSmoothing, data.ClassCount) };
        output.WriteLine($"Device: {backend.Name}");
        output.WriteLine($"Resuming {path}: epoch {done} of the run done ({model.Iterations:N0} steps); training epochs {done + 1} to {s.Epochs}");
        // the checkpoint of the whole run: a resumed epoch is saved only when it beats the epochs before it
        double best = meta.TryGetValue(ModelCheckpoint.MonitoredKey, out var monitored)
            && double.TryParse(monitored, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double m) ? m : double.PositiveInfinity;
        Freeze(model, s, output);
        return Train(s, data, backend, model, done, output, error, best);
    }

    /// <summary>The saved run's data and training settings, each unless given on this command line.</summary>
    private static TrainSettings ResumedSettings(TrainSettings s, IReadOnlyDictionary<string, string> meta)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        bool Saved(string option, string key, out string value) => !s.Given.Contains(option) & meta.TryGetValue(key, out value!);
        bool dataGiven = s.Given.Contains("--dataset") || s.Given.Contains("--data");
        var r = s with
        {
            Dataset = !dataGiven && meta.TryGetValue("gpunet.dataset", out var d) ? d : s.Dataset,
            DataFolder = !dataGiven && meta.TryGetValue("gpunet.data", out var f) ? f : s.DataFolder,
            Target = Saved("--target", "gpunet.target", out var t) ? t : s.Target,
            Task = Saved("--task", "gpunet.task", out var task) ? task : s.Task,
            Scaler = meta.TryGetValue("gpunet.scaler", out var scaler) ? scaler : "auto",
        };
        if (Saved("--seed", "gpunet.seed", out var seed)) r = r with { Seed = int.Parse(seed, invariant) };
        if (Saved("--epochs", "gpunet.epochs", out var epochs)) r = r with { Epochs = int.Parse(epochs, invariant) };
        if (Saved("--batch-size", "gpunet.batch_size", out var batch)) r = r with { BatchSize = int.Parse(batch, invariant) };
        if (Saved("--validation-split", "gpunet.validation_split", out var split)) r = r with { ValidationSplit = double.Parse(split, invariant) };
        if (meta.TryGetValue("gpunet.label_smoothing", out var smoothing)) r = r with { LabelSmoothing = float.Parse(smoothing, invariant) };
        if (Saved("--augment", "gpunet.augment", out var augment)) r = r with { AugmentationText = augment, Augmentation = TrainOptions.ParseAugmentation(augment) };
        return r;
    }

    /// <summary>Fits <paramref name="model"/> from epoch <paramref name="initialEpoch"/> + 1, reports, and writes what was asked for.</summary>
    private static int Train(TrainSettings s, LoadedData data, Backends.IBackend backend, Sequential model, int initialEpoch, TextWriter output, TextWriter error,
        double checkpointBest = double.PositiveInfinity)
    {
        int validation = (int)Math.Round(data.Train.Count * s.ValidationSplit);
        output.WriteLine($"Data: {data.Train.Name} {data.Train.Count - validation:N0} train / {validation:N0} validation, " +
                         $"{data.Test.Name} {data.Test.Count:N0} test; {data.Train.FeatureCount} features, {(data.IsRegression ? "1 numeric target" : data.IsMultiLabel ? $"{data.ClassCount} labels per row" : $"{data.ClassCount} classes")}");
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
            InitialEpoch = initialEpoch,
            Checkpoint = s.CheckpointPath is { } cp ? new ModelCheckpoint(cp, metadata: ModelMetadata(s, data)) { InitialBest = checkpointBest } : null,
            // Keras' verbose: a bar on a terminal (auto, 1), one line per epoch in a log or pipe (auto, 1 redirected; 2), nothing (0)
            Verbose = s.Verbose switch { "0" => Verbosity.Silent, "2" => Verbosity.EpochLines, _ => Verbosity.ProgressBar },
            Output = output,
            OnLearningRateReduced = (epoch, lr) => output.WriteLine(
                $"Epoch {epoch}: {(s.ValidationSplit > 0 ? "val_loss" : "loss")} has not improved for {s.ReduceLrPatience} epochs; learning rate reduced to {lr:G4}."),
        };
        var (checkpoint, stopping) = (options.Checkpoint, options.EarlyStopping);
        var total = Stopwatch.StartNew();
        var history = model.Fit(data.Train, options);
        total.Stop();
        foreach (var warning in model.Warnings) error.WriteLine($"warning: {warning}");
        var test = model.Evaluate(data.Test);
        var epochs = history.Epochs;
        double meanEpoch = epochs.Count > 1 ? epochs.Skip(1).Average(e => e.Elapsed.TotalSeconds) : epochs[0].Elapsed.TotalSeconds;
        if (epochs[^1].Epoch < s.Epochs) output.WriteLine($"Early stopping after epoch {epochs[^1].Epoch}.");
        if (checkpoint is { SavedEpoch: > 0 })
            output.WriteLine($"Checkpoint: {checkpoint.Path} holds epoch {checkpoint.SavedEpoch}, the best by {(s.ValidationSplit > 0 ? "val_loss" : "loss")}.");
        else if (checkpoint is not null && initialEpoch > 0)
            output.WriteLine($"Checkpoint: no resumed epoch beat the {(s.ValidationSplit > 0 ? "val_loss" : "loss")} {checkpointBest:G6} of {s.ResumePath}, " +
                             $"which still holds the run's best epoch; {checkpoint.Path} was not written.");
        if (stopping is { RestoredEpoch: > 0 }) output.WriteLine($"Restored the weights of epoch {stopping.RestoredEpoch}, the best by {(s.ValidationSplit > 0 ? "val_loss" : "loss")}.");
        output.WriteLine($"Training time: {total.Elapsed.TotalSeconds:F1}s ({meanEpoch:F3}s per epoch after the first, " +
                         $"{epochs[^1].SamplesPerSecond:N0} samples/s in the last)");
        output.WriteLine(data.IsRegression ? data.RegressionReport(model, test.Loss)
            : data.IsMultiLabel ? data.MultiLabelReport(test)
            : $"Test: loss {test.Loss:F4} - accuracy {test.Accuracy:F4} ({test.Samples:N0} samples)");
        if (s.Ensemble > 1) TrainEnsemble(s, data, backend, model, test, output);
        if (s.SavePath is { } path)
        {
            var meta = ModelMetadata(s, data);
            meta[ModelCheckpoint.EpochKey] = epochs[^1].Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture);
            model.Save(path, meta);
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
            BenchReport.WriteAtomically(png, GpuNet.Plotting.Plots.ToPng(history, $"{data.Train.Name}, {model.Optimizer}", stopping?.RestoredEpoch is > 0 and var r ? r : null));
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
            : $"test {(data.IsMultiLabel ? "binary " : "")}accuracy {r.Accuracy:F4}";
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
                member.Fit(data.Train, FitOptionsFor(s, data, seed) with { Verbose = Verbosity.Silent });
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
            if (data.IsMultiLabel)
            {
                var memberAccuracy = members.Select(m => m.Evaluate(data.Test).Accuracy).ToList();
                output.WriteLine($"Ensemble of {members.Count} (mean of their probabilities): test binary accuracy {data.BinaryAccuracy(ensemble.Predict(data.Test.Features)):F4} " +
                                 $"(members: mean {memberAccuracy.Average():F4}, best {memberAccuracy.Max():F4})");
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
            // what `--resume` needs to continue the run as it was
            ["gpunet.epochs"] = s.Epochs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["gpunet.batch_size"] = s.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["gpunet.validation_split"] = s.ValidationSplit.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        };
        if (s.AugmentationText is not null) meta["gpunet.augment"] = s.AugmentationText;
        if (s.LabelSmoothing > 0) meta["gpunet.label_smoothing"] = s.LabelSmoothing.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        if (s.DataFolder is not null) meta["gpunet.data"] = Path.GetFullPath(s.DataFolder);
        if (s.Target is not null) meta["gpunet.target"] = s.Target;
        if (s.Scaler != "auto") meta["gpunet.scaler"] = s.Scaler;
        if (data.Preprocessor is { } tabular) meta["gpunet.task"] = tabular.Task switch
        {
            Data.Tabular.TabularTask.Regression => "regression",
            Data.Tabular.TabularTask.MultiLabel => "multilabel",
            _ => "classification",
        };
        // The fitted CSV preprocessing (fill values, categories, scaling), so that `gpunet predict` encodes new rows the same way.
        if (data.Preprocessor is { } prep) meta[PredictCommand.PreprocessorKey] = prep.ToJson();
        return meta;
    }
}

using System.CommandLine;
using GpuNet.Models;

namespace GpuNet.Cli;

/// <summary>
/// <c>gpunet evaluate --model PATH</c>: loads a model saved by <c>gpunet train --save</c> (or
/// <see cref="Sequential.Save"/>) and reports its loss and accuracy on a dataset's test split, by default
/// the data it was trained on.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "A model file written by `gpunet train --save`.", Required = true };
        var device = DeviceOption.Create();
        var dataset = new Option<string?>("--dataset") { Description = "mnist10k, mnist, fashion-mnist or csv:PATH (default: what the model was trained on)." };
        var data = new Option<string?>("--data") { Description = "A folder of IDX files; overrides --dataset." };
        var target = new Option<string?>("--target") { Description = "The label column of a CSV dataset (default: the one used in training)." };
        var report = new Option<bool>("--report") { Description = "Also print the confusion matrix and each class's precision, recall and F1." };
        var batch = new Option<int>("--batch-size") { Description = "Samples per forward pass.", DefaultValueFactory = _ => 256 };
        batch.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v < 1) r.AddError($"--batch-size must be a positive integer; received {v}. For example --batch-size 256.");
        });
        var command = new Command("evaluate", "Load a saved model and report its loss and accuracy on a test set.")
        {
            model, device, dataset, data, target, batch, report,
        };
        command.SetAction(p => Program.Guard(error, () => Run(p.GetValue(model)!, p.GetValue(device)!, p.GetValue(dataset), p.GetValue(data),
            p.GetValue(target), p.GetValue(batch), output, p.GetValue(report))));
        return command;
    }

    internal static int Run(string path, string device, string? dataset, string? dataFolder, string? target, int batchSize, TextWriter output, bool report = false)
    {
        using var backend = GpuNet.Device.Create(DeviceOption.Parse(device));
        using var model = Sequential.Load(path, backend, out var meta);
        output.WriteLine($"Device: {backend.Name}");
        output.WriteLine($"Model: {path}, {model.Layers.Count} layers, {model.InputSize} inputs, trained for {model.Iterations:N0} steps with {model.Optimizer}");

        // The data the model was trained on, unless told otherwise; the same seed re-creates a CSV's split and scaling.
        var settings = new TrainSettings
        {
            Dataset = dataset ?? (dataFolder is null && meta.TryGetValue("gpunet.dataset", out var d) ? d : "mnist10k"),
            DataFolder = dataFolder ?? (dataset is null && meta.TryGetValue("gpunet.data", out var f) ? f : null),
            Target = target ?? (meta.TryGetValue("gpunet.target", out var t) ? t : null),
            // models saved before regression existed are classifiers
            Task = meta.TryGetValue("gpunet.task", out var task) ? task : "classification",
            Seed = meta.TryGetValue("gpunet.seed", out var seed) && int.TryParse(seed, out int sd) ? sd : 42,
            Scaler = meta.TryGetValue("gpunet.scaler", out var scaler) ? scaler : "auto",
        };
        if (target is not null && (settings.DataFolder is not null || !settings.Dataset.StartsWith("csv:", StringComparison.Ordinal)))
            throw new ArgumentException(
                $"--target {target} has no effect on {(settings.DataFolder is { } folder ? $"the IDX folder '{folder}'" : $"--dataset {settings.Dataset}")}: image datasets carry their labels. " +
                "--target names the label column of a CSV dataset.");
        if (settings.Dataset.StartsWith("csv:", StringComparison.Ordinal) && settings.Target is null)
            throw new ArgumentException($"--dataset {settings.Dataset} needs --target COLUMN: the column holding the labels.");
        // A CSV model's saved preprocessing (fill values, categories, scaling, the target's classes or its mean and
        // standard deviation) encodes the rows, as in predict: refitting on the file evaluated would measure against
        // that file's own statistics.
        var fitted = meta.TryGetValue(PredictCommand.PreprocessorKey, out var json) ? Data.Tabular.TabularPreprocessor.FromJson(json) : null;
        if (fitted is not null && settings.Target is not null && !string.Equals(settings.Target, fitted.Target, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--target {settings.Target}: the model was trained to predict '{fitted.Target}'. Evaluate it on that column (leave --target out).");
        var loaded = DataLoader.Load(settings, output, fitted);
        if (loaded.Test.FeatureCount != model.InputSize)
            throw new ArgumentException(
                $"The model takes {model.InputSize} input features but {loaded.Test.Name} has {loaded.Test.FeatureCount}. Evaluate it on data shaped like its training data.");
        var result = model.Evaluate(loaded.Test, batchSize);
        if (loaded.IsRegression)
        {
            output.WriteLine($"Test ({loaded.Test.Name}):" + loaded.RegressionReport(model, result.Loss)["Test:".Length..]);
            if (report) output.WriteLine("--report: a regression model has no classes; the errors above are its report.");
            return 0;
        }
        if (loaded.IsMultiLabel)
        {
            output.WriteLine($"Test ({loaded.Test.Name}):" + loaded.MultiLabelReport(result)["Test:".Length..]);
            if (report) output.WriteLine("--report: a multi-label model has no single class per row; the binary accuracy above is its report.");
            return 0;
        }
        output.WriteLine($"Test ({loaded.Test.Name}): loss {result.Loss:F4} - accuracy {result.Accuracy:F4} ({result.Samples:N0} samples)");
        if (report)
        {
            var names = loaded.Preprocessor?.Classes
                ?? (settings.Dataset == "fashion-mnist" && settings.DataFolder is null ? GpuNet.Data.Datasets.FashionMnistClassNames : null);
            var predicted = model.PredictClasses(loaded.Test.Features, batchSize);
            int classes = Math.Max(loaded.Test.ClassCount, predicted.ClassCount);
            output.WriteLine();
            output.WriteLine(new ConfusionMatrix(loaded.Test.Labels, predicted.Classes, classes, names?.Count == classes ? names : null));
        }
        return 0;
    }
}

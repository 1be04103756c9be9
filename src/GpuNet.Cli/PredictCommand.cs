using System.CommandLine;
using System.Globalization;
using GpuNet.Data.Tabular;
using GpuNet.Models;

namespace GpuNet.Cli;

/// <summary>
/// <c>gpunet predict --model PATH --input NEW.csv</c>: loads a model trained with <c>--dataset csv:PATH --save</c>,
/// encodes the new rows exactly as the training rows were (the saved fill values, categories and scaling),
/// and prints (and optionally writes) each row's predicted class with its probability.
/// </summary>
internal static class PredictCommand
{
    /// <summary>The saved-model metadata key holding <see cref="TabularPreprocessor.ToJson"/>.</summary>
    public const string PreprocessorKey = "gpunet.preprocessor";

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "A model file written by `gpunet train --save FILE` (a CSV model, or an image model such as MNIST's).", Required = true };
        var input = new Option<string>("--input") { Description = "For a CSV model, a CSV file with the training file's feature columns (the target column may be absent); for an image model, an image file or a folder of images.", Required = true };
        var save = new Option<string?>("--output") { Description = "Also write the predictions to this CSV file (row number, or file name for images; predicted class, its probability, one probability column per class; the value for a regression model)." };
        var show = new Option<int>("--show") { Description = "How many rows (or images) to print.", DefaultValueFactory = _ => 10 };
        var device = DeviceOption.Create();
        show.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v < 0) r.AddError($"--show must be 0 or more; received {v}. For example --show 10.");
        });
        var command = new Command("predict", "Predict the class (or, for a regression model, the value) of each row of a CSV file, or of image files for an image model.")
        {
            model, input, save, show, device,
        };
        command.SetAction(p => Program.Guard(error, () =>
            Run(p.GetValue(model)!, p.GetValue(input)!, p.GetValue(save), p.GetValue(show), p.GetValue(device)!, output)));
        return command;
    }

    internal static int Run(string path, string input, string? outputPath, int show, string device, TextWriter output)
    {
        if (outputPath is not null)
        {
            TrainOptions.CheckSavePath(outputPath, "--output", "predictions.csv");
            // every file read: the model, the input file or each file of an input folder
            var inputs = Directory.Exists(input) ? Directory.GetFiles(input).Select(f => ("an --input file", f)) : [("the --input file", input)];
            RunFiles.CheckOutputs([("--output", outputPath)], inputs.Prepend(("the --model file", path)));
        }
        using var backend = GpuNet.Device.Create(DeviceOption.Parse(device));
        using var model = Sequential.Load(path, backend, out var meta);
        if (!File.Exists(input) && !Directory.Exists(input))
            throw new FileNotFoundException($"--input '{input}' does not exist. Give a CSV file for a CSV model, or an image file or folder of images for an image model.", input);
        if (!meta.TryGetValue(PreprocessorKey, out var json))
        {
            if (ImageInput.IsImageInput(input)) return PredictImages(model, meta, path, input, outputPath, show, backend.Name, output);
            throw new ArgumentException(
                $"'{path}' is an image model (it holds no CSV preprocessing): give --input an image file (PNG, JPEG, BMP, GIF, WebP) or a folder of images. " +
                "CSV rows are read for models trained with --dataset csv:PATH --target COLUMN --save FILE.");
        }
        if (ImageInput.IsImageInput(input))
            throw new ArgumentException($"'{path}' is a CSV model (trained on '{(meta.TryGetValue("gpunet.dataset", out var d) ? d : "a CSV file")}'): give --input a CSV file with its feature columns, not {(Directory.Exists(input) ? "a folder" : "an image")}.");
        var prep = TabularPreprocessor.FromJson(json);
        // Read the feature columns with the kinds they had in training: a small file whose 'age' is blank in every
        // row is still a numeric column (imputed with the saved fill value), not an empty text column; and a missing
        // feature column is named at once.
        var table = CsvTable.Load(input, new CsvLoadOptions { ColumnKinds = prep.ColumnKinds });
        if (table.RowCount == 0) throw new ArgumentException($"'{input}' has no data rows.");
        var features = prep.TransformFeatures(table);
        int rows = table.RowCount;
        foreach (var warning in table.Warnings) output.WriteLine($"warning: '{input}': {warning}");
        foreach (var line in prep.UnseenCategories(table)) output.WriteLine($"warning: unseen categories: {line}; those rows are predicted without that column's information.");
        if (features.Length != rows * model.InputSize)
            throw new InvalidDataException($"The saved preprocessing makes {features.Length / rows} features per row but the model takes {model.InputSize}.");

        if (prep.Task == TabularTask.Regression) return PredictNumbers(model, prep, table, features, path, input, outputPath, show, backend.Name, output);
        if (prep.Task == TabularTask.MultiLabel) return PredictLabels(model, prep, table, features, path, input, outputPath, show, backend.Name, output);

        // Probabilities (a from-logits model is softmaxed or sigmoided first) and the class of each row
        var decided = model.PredictClasses(features);
        var (predicted, confidence, perClass, width) = (decided.Classes, decided.Confidence, decided.Probabilities, decided.ClassCount);
        var classes = prep.Classes;
        string Name(int c) => c < classes.Count ? classes[c] : c.ToString(CultureInfo.InvariantCulture);

        output.WriteLine($"Device: {backend.Name}");
        output.WriteLine($"Model: {path}; {rows:N0} rows of {input}; target '{prep.Target}' with classes {string.Join(", ", classes.Select((c, i) => $"{i}={c}"))}");
        for (int r = 0; r < Math.Min(show, rows); r++)
            output.WriteLine($"  row {r + 1}: {prep.Target}={Name(predicted[r])} (p={confidence[r]:F3})");
        if (rows > show && show > 0) output.WriteLine($"  ... {rows - show:N0} more rows");
        output.WriteLine("Predicted: " + string.Join(", ", Enumerable.Range(0, width).Select(c => $"{Name(c)} {predicted.Count(p => p == c):N0}")));
        ReportAccuracy(prep, table, predicted, output);

        if (outputPath is not null)
        {
            WriteCsv(outputPath, prep.Target, predicted, confidence, perClass, width, Name);
            output.WriteLine($"Wrote {rows:N0} predictions to {outputPath}");
        }
        return 0;
    }

    /// <summary>
    /// A multi-label model: each label's probability per row, the labels above 0.5 named, and the binary accuracy against the
    /// file's label columns when it has them.
    /// </summary>
    private static int PredictLabels(Sequential model, TabularPreprocessor prep, CsvTable table, float[] features, string path, string input,
        string? outputPath, int show, string deviceName, TextWriter output)
    {
        var p = model.Predict(features);
        if (model.Loss?.FromLogits == true) // a from-logits model outputs logits: one sigmoid per label
            for (int i = 0; i < p.Length; i++) p[i] = 1f / (1f + MathF.Exp(-p[i]));
        var labels = prep.Targets;
        var values = prep.LabelValues;
        int k = labels.Count, rows = table.RowCount;
        output.WriteLine($"Device: {deviceName}");
        output.WriteLine($"Model: {path}; {rows:N0} rows of {input}; {k} labels per row: {string.Join(", ", labels.Select((l, j) => $"{l} ({values[j][1]} when p > 0.5)"))}");
        for (int r = 0; r < Math.Min(show, rows); r++)
        {
            var on = Enumerable.Range(0, k).Where(j => p[r * k + j] > 0.5f).Select(j => labels[j]).ToList();
            output.WriteLine($"  row {r + 1}: {(on.Count == 0 ? "no label" : string.Join(", ", on))} " +
                             $"({string.Join(", ", Enumerable.Range(0, k).Select(j => FormattableString.Invariant($"{labels[j]}={p[r * k + j]:F3}")))})");
        }
        if (rows > show && show > 0) output.WriteLine($"  ... {rows - show:N0} more rows");
        output.WriteLine("Predicted: " + string.Join(", ", Enumerable.Range(0, k).Select(j => $"{labels[j]} {Enumerable.Range(0, rows).Count(r => p[r * k + j] > 0.5f):N0}")));
        // against the file's own labels, where every label column is there and filled
        if (labels.All(l => table.Columns.Any(c => string.Equals(c.Name, l, StringComparison.OrdinalIgnoreCase))))
        {
            try
            {
                var known = labels.Aggregate(table, (t, l) => t.WithoutMissing(l));
                var keep = Enumerable.Range(0, rows).Where(r => labels.All(l => !table[l].IsMissing(r))).ToArray();
                var y = prep.EncodeLabels(known);
                int agree = 0;
                for (int i = 0; i < keep.Length; i++)
                    for (int j = 0; j < k; j++) agree += (p[keep[i] * k + j] > 0.5f ? 1f : 0f) == y[i * k + j] ? 1 : 0;
                if (keep.Length > 0)
                    output.WriteLine($"Binary accuracy against the file's label columns: {(double)agree / (keep.Length * k):F4} ({agree:N0} of {keep.Length * k:N0} labels" +
                                     (keep.Length < rows ? $"; {rows - keep.Length:N0} rows without every label left out)" : ")"));
            }
            catch (InvalidDataException e)
            {
                output.WriteLine($"Not compared with the file's label columns: {e.Message}");
            }
        }
        if (outputPath is not null)
        {
            using var text = new StringWriter(CultureInfo.InvariantCulture);
            using (var csv = new CsvHelper.CsvWriter(text, CultureInfo.InvariantCulture))
            {
                csv.WriteField("row");
                foreach (var l in labels) csv.WriteField($"predicted_{l}");
                foreach (var l in labels) csv.WriteField($"p_{l}");
                csv.NextRecord();
                for (int r = 0; r < rows; r++)
                {
                    csv.WriteField(r + 1);
                    for (int j = 0; j < k; j++) csv.WriteField(values[j][p[r * k + j] > 0.5f ? 1 : 0]);
                    for (int j = 0; j < k; j++) csv.WriteField(p[r * k + j].ToString("R", CultureInfo.InvariantCulture));
                    csv.NextRecord();
                }
            }
            BenchReport.WriteAtomically(outputPath, System.Text.Encoding.UTF8.GetBytes(text.ToString()));
            output.WriteLine($"Wrote {rows:N0} predictions to {outputPath}");
        }
        return 0;
    }

    /// <summary>An image model: each image's class with its probability and the runner-up.</summary>
    private static int PredictImages(Sequential model, IReadOnlyDictionary<string, string> meta, string path, string input,
        string? outputPath, int show, string deviceName, TextWriter output)
    {
        int side = (int)Math.Round(Math.Sqrt(model.InputSize));
        if (side * side != model.InputSize)
            throw new ArgumentException($"'{path}' takes {model.InputSize} inputs, not a square image; predict images with a model trained on images.");
        var candidates = ImageInput.Files(input);
        var files = new List<string>(candidates.Count);
        var rows = new List<float[]>(candidates.Count);
        int inverted = 0;
        foreach (var file in candidates)
        {
            try
            {
                rows.Add(ImageInput.Load(file, side, out bool flipped));
                files.Add(file);
                if (flipped) inverted++;
            }
            catch (InvalidDataException e) when (candidates.Count > 1) // one unreadable file does not stop a folder
            {
                output.WriteLine($"skipped: {e.Message}");
            }
        }
        if (files.Count == 0) throw new InvalidDataException($"No image in '{input}' could be read.");
        var features = new float[files.Count * model.InputSize];
        for (int i = 0; i < rows.Count; i++) rows[i].CopyTo(features, i * model.InputSize);
        if (meta.TryGetValue("gpunet.scaler", out var scaler) && scaler == "none") // trained on raw 0-255 pixels
            for (int i = 0; i < features.Length; i++) features[i] *= 255f;
        var decided = model.PredictClasses(features);
        var names = meta.TryGetValue("gpunet.dataset", out var dataset) && dataset == "fashion-mnist" && !meta.ContainsKey("gpunet.data")
            ? Data.Datasets.FashionMnistClassNames : null;
        string Name(int c) => names is not null && c < names.Count ? names[c] : c.ToString(CultureInfo.InvariantCulture);
        int width = decided.ClassCount;

        output.WriteLine($"Device: {deviceName}");
        output.WriteLine($"Model: {path}; {files.Count:N0} image{(files.Count == 1 ? "" : "s")} read as {side} x {side} grey, light on dark" +
                         (inverted > 0 ? $" ({inverted:N0} with a light background inverted)" : ""));
        for (int i = 0; i < Math.Min(show, files.Count); i++)
        {
            int best = decided.Classes[i], second = best == 0 ? 1 : 0;
            for (int c = 0; c < width; c++)
                if (c != best && decided.Probabilities[i * width + c] > decided.Probabilities[i * width + second]) second = c;
            output.WriteLine($"  {Path.GetFileName(files[i])}: {Name(best)} (p={decided.Confidence[i]:F3}), next {Name(second)} (p={decided.Probabilities[i * width + second]:F3})");
        }
        if (files.Count > show && show > 0) output.WriteLine($"  ... {files.Count - show:N0} more images");
        if (outputPath is not null)
        {
            WriteCsv(outputPath, "class", decided.Classes, decided.Confidence, decided.Probabilities, width, Name,
                [.. files.Select(Path.GetFileName)!]);
            output.WriteLine($"Wrote {files.Count:N0} predictions to {outputPath}");
        }
        return 0;
    }

    /// <summary>A regression model: each row's predicted value in the target's units, and the errors against the file's target column when it has one.</summary>
    private static int PredictNumbers(Sequential model, TabularPreprocessor prep, CsvTable table, float[] features, string path, string input,
        string? outputPath, int show, string deviceName, TextWriter output)
    {
        var values = prep.TargetToOriginal(model.Predict(features));
        output.WriteLine($"Device: {deviceName}");
        output.WriteLine($"Model: {path}; {values.Length:N0} rows of {input}; target '{prep.Target}' predicted as a number");
        for (int r = 0; r < Math.Min(show, values.Length); r++)
            output.WriteLine(FormattableString.Invariant($"  row {r + 1}: {prep.Target}={values[r]:G5}"));
        if (values.Length > show && show > 0) output.WriteLine($"  ... {values.Length - show:N0} more rows");
        if (table.Columns.FirstOrDefault(c => string.Equals(c.Name, prep.Target, StringComparison.OrdinalIgnoreCase)) is { } column)
        {
            // the rows of a labelled file that have a target value
            var known = column.Numbers is null ? [] : Enumerable.Range(0, values.Length).Where(r => !column.IsMissing(r)).ToArray();
            if (known.Length == 0)
                output.WriteLine($"Not compared with column '{prep.Target}': it has no numbers.");
            else
                output.WriteLine($"Against the file's '{prep.Target}' column ({known.Length:N0} rows with a value): " +
                    RegressionMetrics.Of([.. known.Select(r => values[r])], [.. known.Select(r => (float)column.Numbers![r])]));
        }
        if (outputPath is not null)
        {
            using var text = new StringWriter(CultureInfo.InvariantCulture);
            using (var csv = new CsvHelper.CsvWriter(text, CultureInfo.InvariantCulture))
            {
                csv.WriteField("row");
                csv.WriteField($"predicted_{prep.Target}");
                csv.NextRecord();
                for (int r = 0; r < values.Length; r++)
                {
                    csv.WriteField(r + 1);
                    csv.WriteField(values[r].ToString("R", CultureInfo.InvariantCulture));
                    csv.NextRecord();
                }
            }
            BenchReport.WriteAtomically(outputPath, System.Text.Encoding.UTF8.GetBytes(text.ToString()));
            output.WriteLine($"Wrote {values.Length:N0} predictions to {outputPath}");
        }
        return 0;
    }

    /// <summary>
    /// When the file still has the target column (a labelled test file), how many predictions match it, over the rows
    /// that have a label (as training leaves unlabelled rows out).
    /// </summary>
    private static void ReportAccuracy(TabularPreprocessor prep, CsvTable table, int[] predicted, TextWriter output)
    {
        if (!table.Columns.Any(c => string.Equals(c.Name, prep.Target, StringComparison.OrdinalIgnoreCase))) return;
        var column = table[prep.Target];
        var known = Enumerable.Range(0, table.RowCount).Where(r => !column.IsMissing(r)).ToArray();
        int[] labels;
        try
        {
            labels = prep.EncodeTarget(table.WithoutMissing(prep.Target));
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or KeyNotFoundException)
        {
            output.WriteLine($"Not compared with column '{prep.Target}': {e.Message}");
            return;
        }
        if (labels.Length == 0)
        {
            output.WriteLine($"Not compared with column '{prep.Target}': no row has a label.");
            return;
        }
        int correct = labels.Zip(known).Count(t => t.First == predicted[t.Second]);
        string scope = known.Length == table.RowCount ? "" : $", the rows with a label";
        output.WriteLine($"Accuracy against the file's '{prep.Target}' column: {(double)correct / labels.Length:F4} ({correct:N0} of {labels.Length:N0}{scope})");
    }

    private static void WriteCsv(string path, string target, int[] predicted, float[] confidence, float[] perClass, int width, Func<int, string> name,
        string[]? files = null)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = new CsvHelper.CsvWriter(text, CultureInfo.InvariantCulture))
        {
            csv.WriteField(files is null ? "row" : "file");
            csv.WriteField($"predicted_{target}");
            csv.WriteField("probability");
            for (int c = 0; c < width; c++) csv.WriteField($"p_{name(c)}");
            csv.NextRecord();
            for (int r = 0; r < predicted.Length; r++)
            {
                if (files is null) csv.WriteField(r + 1);
                else csv.WriteField(files[r]);
                csv.WriteField(name(predicted[r]));
                csv.WriteField(confidence[r].ToString("R", CultureInfo.InvariantCulture));
                for (int c = 0; c < width; c++) csv.WriteField(perClass[r * width + c].ToString("R", CultureInfo.InvariantCulture));
                csv.NextRecord();
            }
        }
        BenchReport.WriteAtomically(path, System.Text.Encoding.UTF8.GetBytes(text.ToString()));
    }
}

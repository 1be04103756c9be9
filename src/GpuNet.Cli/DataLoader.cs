using GpuNet.Data;
using GpuNet.Data.Tabular;

namespace GpuNet.Cli;

/// <summary>Training and test data for <c>gpunet train</c>, with what the model builder needs to know of it.</summary>
internal sealed record LoadedData(Dataset Train, Dataset Test, int ClassCount, int ImageHeight, int ImageWidth,
    TabularPreprocessor? Preprocessor = null)
{
    /// <summary>Two classes: a single sigmoid output with binary cross-entropy, as the lecture's Titanic model.</summary>
    public bool IsBinary => ClassCount == 2 && !IsRegression && !IsMultiLabel;

    /// <summary>Several CSV label columns: one sigmoid output per label with binary cross-entropy.</summary>
    public bool IsMultiLabel => Preprocessor?.Task == TabularTask.MultiLabel;

    /// <summary>A numeric CSV target: one linear output with mean squared error on the standardized target.</summary>
    public bool IsRegression => Preprocessor?.Task == TabularTask.Regression;

    /// <summary>The test line of a regression model: the loss, and the errors in the target's own units.</summary>
    public string RegressionReport(Models.Sequential model, double loss) =>
        $"Test: loss {loss:F4} (MSE of the standardized '{Preprocessor!.Target}') - {RegressionErrors(model.Predict(Test.Features))}";

    /// <summary>The errors of standardized predictions for the test rows, in the target's own units.</summary>
    public Models.RegressionMetrics RegressionErrors(float[] standardized) =>
        Models.RegressionMetrics.Of(Preprocessor!.TargetToOriginal(standardized), Preprocessor.TargetToOriginal(Test.Targets!));

    public bool IsImage => ImageHeight > 0;

    /// <summary>Multi-label: Keras' binary accuracy of <paramref name="probabilities"/> (rows x labels) on the test rows, the
    /// share of (row, label) pairs where p &gt; 0.5 agrees with the 0/1 label (for an ensemble's averaged probabilities;
    /// one model's is <see cref="Models.Sequential.Evaluate"/>'s accuracy).</summary>
    public double BinaryAccuracy(float[] probabilities)
    {
        var y = Test.Targets!;
        int agree = 0;
        for (int i = 0; i < y.Length; i++) agree += (probabilities[i] > 0.5f ? 1f : 0f) == y[i] ? 1 : 0;
        return (double)agree / y.Length;
    }

    /// <summary>The test line of a multi-label model: Evaluate's accuracy is Keras' binary accuracy for such data.</summary>
    public string MultiLabelReport(Models.EvaluationResult test) =>
        $"Test: loss {test.Loss:F4} - binary accuracy {test.Accuracy:F4} ({Test.Count:N0} samples x {ClassCount} labels)";
}

internal static class DataLoader
{
    /// <summary>A table with fewer rows (the lecture's 4-row XOR) is trained and tested whole, without a held-out part.</summary>
    public const int MinRowsToHoldOut = 10;

    /// <param name="fitted">A CSV model's saved preprocessing: used as it is (its task, classes, fill values and
    /// scaling) instead of fitting a new one on the file.</param>
    public static LoadedData Load(TrainSettings s, TextWriter output, TabularPreprocessor? fitted = null)
    {
        if (s.DataFolder is not null) return Images(CheckLabels(Datasets.FromIdxFolder(s.DataFolder), s.DataFolder, output), s.Scaler);
        if (s.Dataset == "mnist10k") return Images(Datasets.Mnist10k(), s.Scaler);
        if (s.Dataset == "mnist") return Images(Datasets.Mnist(), s.Scaler);
        if (s.Dataset == "fashion-mnist") return Images(Datasets.FashionMnist(), s.Scaler);
        var scaler = s.Scaler switch { "minmax" => ScalerKind.MinMax, "none" => ScalerKind.None, _ => ScalerKind.Standard };
        return Csv(s.Dataset["csv:".Length..], s.Target!, s.Seed, s.Task, scaler, output, fitted);
    }

    /// <summary>
    /// An IDX labels file declares no class count: the classes run to its largest label. Labels that leave classes
    /// without a training sample (a stray 200 among digits 0..9) are reported, since each becomes an output the model cannot learn.
    /// </summary>
    private static TrainTestData CheckLabels(TrainTestData d, string folder, TextWriter output)
    {
        var counts = new int[d.Train.ClassCount];
        foreach (int label in d.Train.Labels) counts[label]++;
        var empty = Enumerable.Range(0, counts.Length).Where(c => counts[c] == 0).ToList();
        if (empty.Count > 0)
            output.WriteLine($"warning: the labels of '{folder}' run from 0 to {d.Train.ClassCount - 1}, but {empty.Count:N0} of those {counts.Length:N0} classes have no training sample " +
                             $"({string.Join(", ", empty.Take(5))}{(empty.Count > 5 ? ", ..." : "")}); " +
                             $"the largest label is {d.Train.Labels.Max()} (in {counts[^1]:N0} samples). A label outside the dataset's classes? Each class up to it gets an output the model cannot learn.");
        return d;
    }

    /// <summary>Image pixels are bytes divided by 255 (the lecture's scaling, and --scaler minmax); --scaler none keeps
    /// the raw 0-255 values; --scaler standard keeps /255 here and puts a Normalization layer in the model.</summary>
    private static LoadedData Images(TrainTestData d, string scaler = "auto")
    {
        if (scaler == "none")
        {
            static Dataset Raw(Dataset x) => new(x.Name, [.. x.Features.Select(v => MathF.Round(v * 255f))], x.Labels, x.FeatureCount, x.ClassCount);
            d = new TrainTestData(Raw(d.Train), Raw(d.Test));
        }
        int side = (int)Math.Round(Math.Sqrt(d.Train.FeatureCount));
        bool square = side * side == d.Train.FeatureCount;
        // image models keep one softmax output per class even for two classes
        return new LoadedData(d.Train, d.Test, Math.Max(d.Train.ClassCount, Math.Max(d.Test.ClassCount, 3)),
            square ? side : 0, square ? side : 0);
    }

    /// <summary>
    /// A CSV file: a stratified 80/20 train/test split by the target (a random one for a regression target), then
    /// imputation, one-hot encoding and standard scaling fitted on the training rows only. <paramref name="task"/>
    /// "auto" predicts a numeric target with fractional or many values as a number, anything else as classes.
    /// </summary>
    private static LoadedData Csv(string path, string target, int seed, string task, ScalerKind scaler, TextWriter output, TabularPreprocessor? fitted = null)
    {
        // a fitted preprocessor reads the columns with their training kinds (a column blank in this file stays numeric)
        var table = CsvTable.Load(path, fitted is null ? null : new CsvLoadOptions { ColumnKinds = fitted.ColumnKinds });
        // several comma-separated columns: a multi-label target, one 0/1 output per column
        string[] targets = target.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        bool multiLabel = fitted?.Task == TabularTask.MultiLabel || targets.Length > 1;
        if (multiLabel && task == "regression")
            throw new ArgumentException($"--target {target} names {targets.Length} columns, a multi-label target (classification of each); --task regression takes one column.");
        int rowsInFile = table.RowCount;
        foreach (var t in targets)
        {
            if (table[t].MissingCount == table.RowCount)
                throw new ArgumentException($"The target column '{t}' of '{path}' has no values; choose another --target.");
            table = table.WithoutMissing(t); // rows whose target is unknown cannot be trained or tested on
        }
        int unlabelled = rowsInFile - table.RowCount;
        var kind = fitted?.Task ?? (multiLabel ? TabularTask.MultiLabel : task switch
        {
            "classification" => TabularTask.Classification,
            "regression" => TabularTask.Regression,
            _ => TabularPreprocessor.SuggestTask(table[target]),
        });
        foreach (var warning in table.Warnings) output.WriteLine($"warning: '{path}': {warning}");
        // "Infinity" parses as a number but no model can learn from it; name the cell, not a feature index after scaling
        foreach (var column in table.Columns.Where(c => c.Numbers is not null))
            if (Array.FindIndex(column.Numbers!, double.IsInfinity) is var row and >= 0)
                throw new ArgumentException(
                    $"CSV file '{path}': column '{column.Name}' holds {column.Numbers![row]} in row {row + 1} ({column.Numbers.Count(double.IsInfinity):N0} infinite values in all). " +
                    "A model needs finite numbers: fix those cells, or leave them blank to have them imputed.");
        if (kind == TabularTask.MultiLabel) return MultiLabelCsv(path, target, table, seed, scaler, unlabelled, output, fitted);
        if (kind == TabularTask.Classification && fitted is null && table[target] is var labels
            && Enumerable.Range(0, table.RowCount).Select(r => labels.Numbers?[r].ToString(System.Globalization.CultureInfo.InvariantCulture) ?? labels.Categories![r]).Distinct().ToList() is { Count: 1 } only)
            throw new ArgumentException(
                $"The target column '{target}' of '{path}' holds one class, '{only[0]}', in all {table.RowCount:N0} labelled rows: a classifier needs at least two. " +
                "Choose another --target, or add rows of the other classes.");
        var prep = fitted ?? new TabularPreprocessor(target, task: kind, scaler: scaler);
        int[] all = [.. Enumerable.Range(0, table.RowCount)];
        var (trainRows, testRows) = table.RowCount < MinRowsToHoldOut ? (all, all)
            : kind == TabularTask.Regression
            ? Splits.RandomTrainTest(prep.TargetValues(table).Length, 0.2, seed)
            : Splits.StratifiedTrainTest(prep.EncodeTarget(table), 0.2, seed);
        if (fitted is null) prep.Fit(table, trainRows);
        string name = Path.GetFileNameWithoutExtension(path);
        var train = prep.Transform(table, trainRows, name + "/train");
        var test = prep.Transform(table, testRows, name + "/test");
        if (kind == TabularTask.Regression)
            output.WriteLine($"CSV: {table.RowCount:N0} rows, target '{target}' predicted as a number (regression{(task == "auto" && fitted is null ? ", from its values; --task classification to change" : "")}): " +
                             $"training mean {prep.TargetMean:G5}, standard deviation {prep.TargetStd:G5}");
        else
            output.WriteLine($"CSV: {table.RowCount:N0} rows, target '{target}' with classes {string.Join(", ", prep.Classes.Select((c, i) => $"{i}={c}"))}");
        if (unlabelled > 0) output.WriteLine($"  left out: {unlabelled:N0} rows without a '{target}' value");
        ReportFeatures(table, prep, fitted is not null, output);
        if (kind == TabularTask.Regression)
        {
            // predicting the training mean for every test row
            var actual = prep.TargetToOriginal(test.Targets!);
            var baseline = Models.RegressionMetrics.Of(Enumerable.Repeat((float)prep.TargetMean, actual.Length).ToArray(), actual);
            output.WriteLine($"  mean-prediction baseline on the test split: RMSE {baseline.Rmse:G5} - MAE {baseline.Mae:G5}");
            return new LoadedData(train, test, 1, 0, 0, prep);
        }
        int majority = test.Labels.GroupBy(l => l).Max(g => g.Count());
        output.WriteLine($"  majority-class baseline on the test split: {(double)majority / test.Count:P1}");
        return new LoadedData(train, test, Math.Max(prep.Classes.Count, 2), 0, 0, prep);
    }

    /// <summary>What became of the table's rows and columns: a held-out test set or none, imputed columns, skipped ones, features.</summary>
    private static void ReportFeatures(CsvTable table, TabularPreprocessor prep, bool savedScaling, TextWriter output)
    {
        if (table.RowCount < MinRowsToHoldOut)
            output.WriteLine($"  {table.RowCount} rows: too few to hold out a test set (fewer than {MinRowsToHoldOut}), so the test figures are on the training rows");
        foreach (var line in table.MissingReport()) output.WriteLine($"  missing: {line} (imputed: median for numbers, most frequent for categories, from the training rows)");
        if (prep.Skipped.Count > 0) output.WriteLine($"  skipped: {string.Join(", ", prep.Skipped)}");
        output.WriteLine($"  features: {string.Join(", ", prep.FeatureNames)}; numeric columns standard-scaled on the training rows" +
                         (!savedScaling ? "" : " (the model's saved scaling)"));
    }

    /// <summary>
    /// A multi-label CSV: the label columns (each two values) become 0/1 targets, a random 80/20 split (a stratified one
    /// would need one class per row), the features prepared as for one target.
    /// </summary>
    private static LoadedData MultiLabelCsv(string path, string target, CsvTable table, int seed, ScalerKind scaler, int unlabelled,
        TextWriter output, TabularPreprocessor? fitted)
    {
        var prep = fitted ?? new TabularPreprocessor(target, task: TabularTask.MultiLabel, scaler: scaler);
        int[] all = [.. Enumerable.Range(0, table.RowCount)];
        var (trainRows, testRows) = table.RowCount < MinRowsToHoldOut ? (all, all) : Splits.RandomTrainTest(table.RowCount, 0.2, seed);
        if (fitted is null) prep.Fit(table, trainRows);
        string name = Path.GetFileNameWithoutExtension(path);
        var train = prep.Transform(table, trainRows, name + "/train");
        var test = prep.Transform(table, testRows, name + "/test");
        var values = prep.LabelValues;
        output.WriteLine($"CSV: {table.RowCount:N0} rows, {prep.Targets.Count} labels per row (multi-label: one sigmoid output each): " +
                         string.Join(", ", prep.Targets.Select((t, j) => $"{t} ({values[j][1]}=1, {values[j][0]}=0)")));
        if (unlabelled > 0) output.WriteLine($"  left out: {unlabelled:N0} rows without every label");
        ReportFeatures(table, prep, fitted is not null, output);
        // each label predicted as the training rows' more frequent value: Keras' binary accuracy of that guess
        int k = prep.Targets.Count;
        var positive = new double[k];
        for (int i = 0; i < train.Count; i++)
            for (int j = 0; j < k; j++) positive[j] += train.Targets![i * k + j];
        double agree = 0;
        for (int i = 0; i < test.Count; i++)
            for (int j = 0; j < k; j++) agree += (positive[j] * 2 >= train.Count ? 1f : 0f) == test.Targets![i * k + j] ? 1 : 0;
        output.WriteLine($"  most-frequent-value baseline on the test split: binary accuracy {agree / (test.Count * (double)k):P1}");
        return new LoadedData(train, test, k, 0, 0, prep);
    }
}

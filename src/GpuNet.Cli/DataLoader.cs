using GpuNet.Data;
using GpuNet.Data.Tabular;

namespace GpuNet.Cli;

/// <summary>Training and test data for <c>gpunet train</c>, with what the model builder needs to know of it.</summary>
internal sealed record LoadedData(Dataset Train, Dataset Test, int ClassCount, int ImageHeight, int ImageWidth,
    TabularPreprocessor? Preprocessor = null)
{
    /// <summary>Two classes: a single sigmoid output with binary cross-entropy, as the lecture's Titanic model.</summary>
    public bool IsBinary => ClassCount == 2;

    public bool IsImage => ImageHeight > 0;
}

internal static class DataLoader
{
    public static LoadedData Load(TrainSettings s, TextWriter output)
    {
        if (s.DataFolder is not null) return Images(Datasets.FromIdxFolder(s.DataFolder));
        if (s.Dataset == "mnist10k") return Images(Datasets.Mnist10k());
        if (s.Dataset == "fashion-mnist") return Images(Datasets.FashionMnist());
        return Csv(s.Dataset["csv:".Length..], s.Target!, s.Seed, output);
    }

    private static LoadedData Images(TrainTestData d)
    {
        int side = (int)Math.Round(Math.Sqrt(d.Train.FeatureCount));
        bool square = side * side == d.Train.FeatureCount;
        // image models keep one softmax output per class even for two classes
        return new LoadedData(d.Train, d.Test, Math.Max(d.Train.ClassCount, Math.Max(d.Test.ClassCount, 3)),
            square ? side : 0, square ? side : 0);
    }

    /// <summary>
    /// A CSV file: stratified 80/20 train/test split by the target, then imputation, one-hot encoding and
    /// standard scaling fitted on the training rows only.
    /// </summary>
    private static LoadedData Csv(string path, string target, int seed, TextWriter output)
    {
        var table = CsvTable.Load(path);
        var prep = new TabularPreprocessor(target);
        var labels = prep.EncodeTarget(table);
        var (trainRows, testRows) = Splits.StratifiedTrainTest(labels, 0.2, seed);
        prep.Fit(table, trainRows);
        string name = Path.GetFileNameWithoutExtension(path);
        var train = prep.Transform(table, trainRows, name + "/train");
        var test = prep.Transform(table, testRows, name + "/test");
        output.WriteLine($"CSV: {table.RowCount:N0} rows, target '{target}' with classes {string.Join(", ", prep.Classes.Select((c, i) => $"{i}={c}"))}");
        foreach (var line in table.MissingReport()) output.WriteLine($"  missing: {line} (imputed: median for numbers, most frequent for categories, from the training rows)");
        if (prep.Skipped.Count > 0) output.WriteLine($"  skipped: {string.Join(", ", prep.Skipped)}");
        output.WriteLine($"  features: {string.Join(", ", prep.FeatureNames)}; numeric columns standard-scaled on the training rows");
        int majority = test.Labels.GroupBy(l => l).Max(g => g.Count());
        output.WriteLine($"  majority-class baseline on the test split: {(double)majority / test.Count:P1}");
        return new LoadedData(train, test, Math.Max(prep.Classes.Count, 2), 0, 0, prep);
    }
}

using System.Globalization;
using GpuNet.Data;
using GpuNet.Data.Tabular;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Several labels per row from a CSV: the preprocessing, and gpunet train / evaluate / predict with --target a,b,c.</summary>
public sealed class MultiLabelTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-multilabel-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>
    /// 400 rows: three numbers and a colour, and three labels written three ways: a = x1 &gt; 0 (1/0), b = x2 + x3 &gt; 0
    /// (yes/no), c = the colour is red (true/false).
    /// </summary>
    private string WriteCsv(int rows = 400, int seed = 1)
    {
        var random = new Random(seed);
        var lines = new List<string> { "x1,x2,x3,color,a,b,c" };
        string[] colours = ["red", "green", "blue"];
        for (int r = 0; r < rows; r++)
        {
            double x1 = random.NextDouble() * 2 - 1, x2 = random.NextDouble() * 2 - 1, x3 = random.NextDouble() * 2 - 1;
            string colour = colours[random.Next(3)];
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{x1:F3},{x2:F3},{x3:F3},{colour},{(x1 > 0 ? 1 : 0)},{(x2 + x3 > 0 ? "yes" : "no")},{(colour == "red" ? "true" : "false")}"));
        }
        string path = Path.Combine(_folder, "labels.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void ThePreprocessorEncodesEachLabelColumnAsZeroOrOneAndRestoresFromItsJson()
    {
        var table = CsvTable.Load(WriteCsv(40));
        var prep = new TabularPreprocessor("a, b,c", task: TabularTask.MultiLabel);
        int[] rows = [.. Enumerable.Range(0, 30)];
        prep.Fit(table, rows);
        // no label column is a feature; colour is one-hot
        Assert.Equal(["x1", "x2", "x3", "color=blue", "color=green", "color=red"], prep.FeatureNames);
        Assert.Equal(["a", "b", "c"], prep.Classes);
        Assert.Equal(["no", "yes"], prep.LabelValues[1]); // the second value in ordinal order is 1
        var data = prep.Transform(table, rows, "train");
        Assert.True(data.IsMultiLabel);
        Assert.Equal(3, data.TargetCount);
        for (int r = 0; r < rows.Length; r++)
        {
            Assert.Equal(table["x1"].Numbers![r] > 0 ? 1f : 0f, data.Targets![r * 3]);
            Assert.Equal(table["b"].Categories![r] == "yes" ? 1f : 0f, data.Targets[r * 3 + 1]);
            Assert.Equal(table["color"].Categories![r] == "red" ? 1f : 0f, data.Targets[r * 3 + 2]);
        }
        var restored = TabularPreprocessor.FromJson(prep.ToJson());
        Assert.Equal(TabularTask.MultiLabel, restored.Task);
        Assert.Equal(data.Targets, restored.Transform(table, rows, "again").Targets);
        Assert.Equal(data.Features, restored.Transform(table, rows, "again").Features);
    }

    [Fact]
    public void ALabelColumnWithoutExactlyTwoValuesIsRefusedByName()
    {
        var table = CsvTable.Load(WriteCsv(40));
        var prep = new TabularPreprocessor("a,color", task: TabularTask.MultiLabel);
        var e = Assert.Throws<InvalidDataException>(() => prep.Fit(table, [.. Enumerable.Range(0, 40)]));
        Assert.Contains("Label column 'color' holds 3 distinct values", e.Message);
        Assert.Contains("needs two", e.Message);
        var one = Assert.Throws<ArgumentException>(() => new TabularPreprocessor("a", task: TabularTask.MultiLabel));
        Assert.Contains("at least two columns", one.Message);
    }

    [Fact]
    public void ExplicitMultiLabelKeepsRowsWithOneLabelIndependent()
    {
        // every row happens to have exactly one label: without the flag these rows read as one-hot classes
        float[] targets = [1, 0, 0, 1, 1, 0];
        var guessed = Dataset.WithTargets("one-each", new float[3], targets, 1, 2);
        Assert.False(guessed.IsMultiLabel);
        Assert.True(Dataset.WithTargets("labels", new float[3], targets, 1, 2, multiLabel: true).IsMultiLabel);
        var e = Assert.Throws<ArgumentException>(() => Dataset.WithTargets("x", new float[3], [1, 1, 0, 1, 0, 0], 1, 2, multiLabel: false));
        Assert.Contains("do not sum to 1", e.Message);
    }

    [Fact]
    public void TrainEvaluateAndPredictAMultiLabelCsvFromTheCommandLine()
    {
        string csv = WriteCsv(), model = Path.Combine(_folder, "m.safetensors"), predictions = Path.Combine(_folder, "p.csv");
        var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--dataset", $"csv:{csv}", "--target", "a,b,c",
            "--optimizer", "adam", "--lr", "0.01", "--epochs", "60", "--layers", "16", "--save", model);
        Assert.True(code == 0, error);
        Assert.Contains("3 labels per row (multi-label: one sigmoid output each): a (1=1, 0=0), b (yes=1, no=0), c (true=1, false=0)", output);
        Assert.Contains("loss: binary_crossentropy", output);
        Assert.Matches(@"Epoch 60/60 - [0-9.]+s - loss: [0-9.]+ - accuracy: 0\.9[0-9]+ - val_loss: [0-9.]+ - val_accuracy: 0\.9", output); // binary accuracy per epoch
        Assert.Matches(@"\(Dense, sigmoid\) +\(None, 3\)", output); // one sigmoid output per label
        double Figure(string text, string label) =>
            double.Parse(text[(text.IndexOf(label, StringComparison.Ordinal) + label.Length)..].Split([' ', '%'], StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
        double baseline = Figure(output, "baseline on the test split: binary accuracy ") / 100;
        double test = Figure(output, "- binary accuracy ");
        // three separable labels: well above guessing each label's more frequent value
        Assert.True(test > 0.9 && test > baseline + 0.2, $"test binary accuracy {test}, baseline {baseline}");

        (code, var evaluated, error) = TestData.RunCli("evaluate", "--model", model);
        Assert.True(code == 0, error);
        Assert.Equal(test, Figure(evaluated, "- binary accuracy "), 6); // the saved split and preprocessing: the same figure

        (code, var predicted, error) = TestData.RunCli("predict", "--model", model, "--input", csv, "--output", predictions);
        Assert.True(code == 0, error);
        Assert.True(Figure(predicted, "against the file's label columns: ") > 0.9, predicted);
        var rows = File.ReadAllLines(predictions);
        Assert.Equal("row,predicted_a,predicted_b,predicted_c,p_a,p_b,p_c", rows[0]);
        Assert.Equal(401, rows.Length);
        Assert.Matches(@"^1,[01],(yes|no),(true|false),[0-9.E-]+,[0-9.E-]+,[0-9.E-]+$", rows[1]);

        (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--dataset", $"csv:{csv}", "--target", "a,b", "--loss", "sparse_categorical_crossentropy", "--epochs", "1");
        Assert.NotEqual(0, code);
        Assert.Contains("several labels at once", error);
    }
}

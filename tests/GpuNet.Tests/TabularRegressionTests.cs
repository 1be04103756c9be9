using System.Globalization;
using System.Text;
using GpuNet.Backends;
using GpuNet.Cli;
using GpuNet.Data.Tabular;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>CSV files with a numeric target: regression through TabularPreprocessor, the model and the CLI.</summary>
public sealed class TabularRegressionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-regression-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>y = 40 + 3 x1 - 2 x2 + 5 [color = red] + noise (sd 0.5), some x1 and y missing.</summary>
    private string SyntheticCsv(int rows = 400)
    {
        var rng = new Random(11);
        var text = new StringBuilder("x1,x2,color,y\n");
        string[] colors = ["red", "green", "blue"];
        for (int r = 0; r < rows; r++)
        {
            double x1 = rng.NextDouble() * 10, x2 = rng.NextDouble() * 5;
            string color = colors[r % 3];
            double y = 40 + 3 * x1 - 2 * x2 + (color == "red" ? 5 : 0) + (rng.NextDouble() - 0.5) * Math.Sqrt(12) * 0.5;
            string x1Text = r % 37 == 5 ? "" : x1.ToString("R", CultureInfo.InvariantCulture);   // imputed feature
            string yText = r % 50 == 7 ? "" : y.ToString("F3", CultureInfo.InvariantCulture);   // rows left out
            text.Append(CultureInfo.InvariantCulture, $"{x1Text},{x2.ToString("R", CultureInfo.InvariantCulture)},{color},{yText}\n");
        }
        string path = Path.Combine(_folder, "synthetic.csv");
        File.WriteAllText(path, text.ToString());
        return path;
    }

    private static (int Code, string Out, string Err) Run(params string[] args) => TestData.RunCli(args);

    [Fact]
    public void SuggestTaskTellsNumbersFromClasses()
    {
        var table = CsvTable.Parse(new StringReader("a,b,c,d\n0.5,1,x,1\n2,0,y,2\n" +
            string.Concat(Enumerable.Range(3, 30).Select(i => $"{i},{i % 2},z,{i}\n"))), "t");
        Assert.Equal(TabularTask.Regression, TabularPreprocessor.SuggestTask(table["a"]));      // fractional values
        Assert.Equal(TabularTask.Classification, TabularPreprocessor.SuggestTask(table["b"]));  // 0/1
        Assert.Equal(TabularTask.Classification, TabularPreprocessor.SuggestTask(table["c"]));  // text
        Assert.Equal(TabularTask.Regression, TabularPreprocessor.SuggestTask(table["d"]));      // 32 distinct whole numbers
    }

    [Fact]
    public void RegressionMetricsMatchAHandWorkedExample()
    {
        var m = RegressionMetrics.Of([1f, 2f, 3f], [1f, 2f, 5f]);
        Assert.Equal(4.0 / 3, m.Mse, 1e-12);
        Assert.Equal(Math.Sqrt(4.0 / 3), m.Rmse, 1e-12);
        Assert.Equal(2.0 / 3, m.Mae, 1e-12);
        Assert.Equal(1 - (4.0 / 3 * 3) / (26.0 / 3), m.R2, 1e-12); // SST = 26/3 around the mean 8/3
        Assert.Contains("3 predictions for 2 actual values", Assert.Throws<ArgumentException>(() => RegressionMetrics.Of([1f, 2f, 3f], [1f, 2f])).Message);
        // a constant target, as scikit-learn's r2_score: 1 when predicted exactly, 0 otherwise
        Assert.Equal(1.0, RegressionMetrics.Of([4f, 4f], [4f, 4f]).R2);
        Assert.Equal(0.0, RegressionMetrics.Of([4f, 5f], [4f, 4f]).R2);
    }

    [Fact]
    public void ALinearTargetIsLearnedInItsOwnUnitsAndThePreprocessingSurvivesJson()
    {
        var table = CsvTable.Load(SyntheticCsv()).WithoutMissing("y");
        Assert.Equal(392, table.RowCount); // 8 of 400 rows have no y
        var prep = new TabularPreprocessor("y", task: TabularTask.Regression);
        var (trainRows, testRows) = Splits.RandomTrainTest(table.RowCount, 0.2, 3);
        prep.Fit(table, trainRows);
        var train = prep.Transform(table, trainRows, "train");
        var test = prep.Transform(table, testRows, "test");
        Assert.True(train.IsRegression);
        Assert.Equal(0.0, train.Targets!.Average(v => (double)v), 1e-5); // standardized on the training rows
        Assert.Equal(1.0, Math.Sqrt(train.Targets!.Average(v => (double)v * v)), 1e-5);

        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(16, "relu"), new Dense(1, "linear"));
        model.Compile(new Adam(0.01f), new MeanSquaredError(), backend, seed: 2);
        model.Fit(train, new FitOptions { Epochs = 150, BatchSize = 32 });
        var predicted = prep.TargetToOriginal(model.Predict(test.Features));
        var actual = prep.TargetToOriginal(test.Targets!);
        var metrics = RegressionMetrics.Of(predicted, actual);
        Assert.True(metrics.R2 > 0.95, $"R² {metrics.R2}"); // the target's spread is about 9 against noise of 0.5 (and 1 in 37 x1 imputed)
        Assert.True(metrics.Rmse < 2.5, $"RMSE {metrics.Rmse}");

        var restored = TabularPreprocessor.FromJson(prep.ToJson());
        Assert.Equal((TabularTask.Regression, prep.TargetMean, prep.TargetStd), (restored.Task, restored.TargetMean, restored.TargetStd));
        Assert.Equal(predicted, restored.TargetToOriginal(model.Predict(restored.TransformFeatures(table)))
            .Where((_, i) => testRows.Contains(i)).ToArray());
    }

    [Fact]
    public void TheCliTrainsEvaluatesAndPredictsANumericTarget()
    {
        string csv = SyntheticCsv(), model = Path.Combine(_folder, "m.safetensors"), predictions = Path.Combine(_folder, "p.csv");
        var (code, output, error) = Run("train", "--device", "cpu", "--dataset", $"csv:{csv}", "--target", "y", "--optimizer", "adam",
            "--lr", "0.01", "--epochs", "60", "--save", model);
        Assert.True(code == 0, error);
        Assert.Contains("target 'y' predicted as a number (regression", output);
        Assert.Contains("left out: 8 rows without a 'y' value", output);
        Assert.Contains("1 numeric target", output);
        var test = System.Text.RegularExpressions.Regex.Match(output, @"Test: loss [0-9.]+ \(MSE of the standardized 'y'\) - RMSE ([0-9.]+) - MAE [0-9.]+ - R² ([0-9.-]+)");
        Assert.True(test.Success, output);
        Assert.True(double.Parse(test.Groups[2].Value, CultureInfo.InvariantCulture) > 0.9, test.Value);

        (code, var evaluated, error) = Run("evaluate", "--model", model, "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.Contains(test.Value["Test:".Length..], evaluated); // the same split and figures

        (code, var predicted, error) = Run("predict", "--model", model, "--input", csv, "--output", predictions, "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.Contains("target 'y' predicted as a number", predicted);
        Assert.Contains("Against the file's 'y' column (392 rows with a value): RMSE", predicted); // rows without y are not compared
        var lines = File.ReadAllLines(predictions);
        Assert.Equal("row,predicted_y", lines[0]);
        Assert.Equal(401, lines.Length); // every input row, also those whose y is unknown
    }

    [Fact]
    public void AnEnsembleOfRegressionModelsAveragesTheirValues()
    {
        var (code, output, error) = Run("train", "--device", "cpu", "--dataset", $"csv:{SyntheticCsv()}", "--target", "y",
            "--optimizer", "adam", "--lr", "0.01", "--epochs", "30", "--ensemble", "3");
        Assert.True(code == 0, error);
        var members = System.Text.RegularExpressions.Regex.Matches(output, @"member \d \(seed \d+\): test RMSE ([0-9.]+)");
        Assert.Equal(3, members.Count);
        var ensemble = System.Text.RegularExpressions.Regex.Match(output, @"Ensemble of 3 \(mean of their values\): RMSE ([0-9.]+) - MAE [0-9.]+ - R² ([0-9.]+)");
        Assert.True(ensemble.Success, output);
        double rmse = double.Parse(ensemble.Groups[1].Value, CultureInfo.InvariantCulture);
        // averaging cannot be worse than the average member (the squared error is convex)
        Assert.True(rmse <= members.Average(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)) + 1e-3, output);
    }

    [Fact]
    public void EvaluateUsesTheSavedPreprocessingNotTheFilesOwnStatistics()
    {
        string csv = SyntheticCsv(), model = Path.Combine(_folder, "m.safetensors");
        var (code, _, error) = Run("train", "--device", "cpu", "--dataset", $"csv:{csv}", "--target", "y", "--optimizer", "adam",
            "--lr", "0.01", "--epochs", "40", "--save", model);
        Assert.True(code == 0, error);
        // the same file with every y 100 higher: refitting the target's mean on it would hide the error
        string shifted = Path.Combine(_folder, "shifted.csv");
        File.WriteAllLines(shifted, File.ReadAllLines(csv).Select((line, i) =>
        {
            if (i == 0) return line;
            var cells = line.Split(',');
            if (cells[3] != "") cells[3] = (double.Parse(cells[3], CultureInfo.InvariantCulture) + 100).ToString(CultureInfo.InvariantCulture);
            return string.Join(',', cells);
        }));
        (code, var output, error) = Run("evaluate", "--model", model, "--device", "cpu", "--dataset", $"csv:{shifted}");
        Assert.True(code == 0, error);
        var mae = System.Text.RegularExpressions.Regex.Match(output, @"MAE ([0-9.]+)");
        Assert.True(mae.Success, output);
        Assert.InRange(double.Parse(mae.Groups[1].Value, CultureInfo.InvariantCulture), 95, 105); // every prediction about 100 off

        (code, _, error) = Run("evaluate", "--model", model, "--device", "cpu", "--target", "x1");
        Assert.NotEqual(0, code);
        Assert.Contains("--target x1: the model was trained to predict 'y'", error);
    }

    [Theory]
    [InlineData(new[] { "--dataset", "csv:{csv}", "--target", "color", "--task", "regression" }, "regression needs numbers")]
    [InlineData(new[] { "--task", "regression" }, "--task regression applies to CSV datasets")]
    public void MisuseGetsAClearMessage(string[] args, string expected)
    {
        string csv = SyntheticCsv(60);
        var (code, _, error) = Run(["train", "--device", "cpu", "--epochs", "1", .. args.Select(a => a.Replace("{csv}", csv))]);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
    }
}

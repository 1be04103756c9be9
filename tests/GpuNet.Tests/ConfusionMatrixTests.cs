using GpuNet.Cli;
using GpuNet.Models;
using Xunit;

namespace GpuNet.Tests;

/// <summary>ConfusionMatrix (scikit-learn's confusion_matrix and classification_report) and gpunet evaluate --report.</summary>
public sealed class ConfusionMatrixTests
{
    [Fact]
    public void CountsAndPerClassScoresMatchAHandWorkedExample()
    {
        // actual 0,0,0,1,1,2; predicted 0,1,1,1,2,2: an asymmetric matrix, so precision and recall differ per class
        // (scikit-learn: precision 1, 1/3, 1/2; recall 1/3, 1/2, 1; f1 0.5, 0.4, 2/3)
        var m = new ConfusionMatrix([0, 0, 0, 1, 1, 2], [0, 1, 1, 1, 2, 2], 3, ["cat", "dog", "bird"]);
        Assert.Equal([1L, 2, 0, 0, 1, 1, 0, 0, 1], Enumerable.Range(0, 9).Select(i => m[i / 3, i % 3])); // rows actual, columns predicted
        Assert.Equal(3.0 / 6, m.Accuracy, 1e-12);
        Assert.Equal([1.0, 1.0 / 3, 0.5], Enumerable.Range(0, 3).Select(m.Precision), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal([1.0 / 3, 0.5, 1.0], Enumerable.Range(0, 3).Select(m.Recall), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal([0.5, 0.4, 2.0 / 3], Enumerable.Range(0, 3).Select(m.F1), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal((0.5 + 0.4 + 2.0 / 3) / 3, m.MacroF1, 1e-12);
        Assert.Equal((0.5 * 3 + 0.4 * 2 + 2.0 / 3 * 1) / 6, m.WeightedF1, 1e-12);
        Assert.Equal(2, m.Support(1));
        string text = m.ToString();
        Assert.Contains("dog", text);
        Assert.Contains("weighted avg", text);
        Assert.Contains("0.3333", text);
    }

    [Fact]
    public void AClassNeverPredictedHasZeroPrecisionAndBadInputIsNamed()
    {
        var m = new ConfusionMatrix([0, 1, 1], [0, 0, 0], 2);
        Assert.Equal(0, m.Precision(1)); // scikit-learn's zero_division=0
        Assert.Equal(0, m.F1(1));
        Assert.Contains("2 labels but 3 predictions", Assert.Throws<ArgumentException>(() => new ConfusionMatrix([0, 1], [0, 1, 1], 2)).Message);
        Assert.Contains("class 5 is outside [0, 3)", Assert.Throws<ArgumentException>(() => new ConfusionMatrix([0, 5], [0, 1], 3)).Message);
        Assert.Contains("2 class names for 3 classes", Assert.Throws<ArgumentException>(() => new ConfusionMatrix([0], [0], 3, ["a", "b"])).Message);
    }

    [Fact]
    public void EvaluateReportPrintsTheMatrixOfTheTestSet()
    {
        string folder = Directory.CreateTempSubdirectory("gpunet-cm-").FullName, path = Path.Combine(folder, "m.safetensors");
        try
        {
            Report(path);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void Report(string path)
    {
        var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "2", "--save", path);
        Assert.True(code == 0, error);
        (code, var text, error) = TestData.RunCli("evaluate", "--model", path, "--device", "cpu", "--report");
        Assert.True(code == 0, error);
        var accuracy = System.Text.RegularExpressions.Regex.Match(text, @"accuracy (0\.\d{4}) \(2,000 samples\)").Groups[1].Value;
        Assert.NotEmpty(accuracy);
        Assert.Matches($@"accuracy\s+{accuracy.Replace(".", @"\.")}\s+2,000", text); // the report's accuracy is the test line's
        Assert.Contains("actual \\ predicted", text);
    }
}

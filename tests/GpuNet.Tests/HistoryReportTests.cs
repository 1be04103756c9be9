using System.Buffers.Binary;
using System.Globalization;
using GpuNet.Cli;
using GpuNet.Models;
using Xunit;

namespace GpuNet.Tests;

/// <summary><c>gpunet train --history</c> (CSV) and <c>--plot</c> (PNG learning curves).</summary>
public sealed class HistoryReportTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-history-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    [Fact]
    public void TrainWritesTheHistoryCsvAndTheLearningCurves()
    {
        string csv = Path.Combine(_folder, "history.csv"), png = Path.Combine(_folder, "curves.png");
        var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "3", "--history", csv, "--plot", png);
        Assert.True(code == 0, error);

        var lines = File.ReadAllLines(csv);
        Assert.Equal("epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds", lines[0]);
        Assert.Equal(4, lines.Length);
        // the CSV holds the printed epoch lines' figures
        var printed = output.Split('\n').Where(l => l.StartsWith("Epoch 3/3", StringComparison.Ordinal)).Single();
        var last = lines[3].Split(',');
        Assert.Equal("3", last[0]);
        Assert.Contains($"val_loss: {double.Parse(last[3], CultureInfo.InvariantCulture):F4}", printed);
        Assert.Equal("0.01", last[5]);

        var (width, height) = PngSize(File.ReadAllBytes(png));
        Assert.Equal((1280, 480), (width, height)); // two panels: loss and accuracy
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp")); // written atomically, nothing left behind
    }

    [Fact]
    public void ARegressionHistoryHasOnlyTheLossPanelAndEmptyAccuracyFields()
    {
        var history = new History();
        for (int e = 1; e <= 3; e++)
            history.Add(new EpochResult(e, 3, 1.0 / e, double.NaN, null, null, TimeSpan.FromSeconds(0.5), 10, 100) { LearningRate = 0.001f });
        var (width, _) = PngSize(GpuNet.Plotting.Plots.ToPng(history, "regression"));
        Assert.Equal(640, width);
        var lines = history.ToCsv().Split("\r\n", StringSplitOptions.RemoveEmptyEntries); // RFC 4180 line ends
        Assert.Equal("2,0.5,,,,0.001,0.5", lines[2]);
    }

    [Fact]
    public void TheLearningCurvesComeFromTheApiAsSvgAndCsv()
    {
        using var backend = new Backends.CpuBackend();
        using var model = new Sequential(new Layers.Dense(8, "relu"), new Layers.Dense(3, "softmax"));
        model.Compile(new Optimizers.Sgd(0.05f), new Losses.SparseCategoricalCrossentropy(), backend);
        var history = model.Fit(TestData.Blobs(300, 1), new FitOptions { Epochs = 4, ValidationSplit = 0.2 });
        string svgPath = Path.Combine(_folder, "curves.svg"), csvPath = Path.Combine(_folder, "history.csv");
        history.Save(svgPath, "blobs <sgd>");
        history.Save(csvPath);

        var svg = System.Xml.Linq.XDocument.Load(svgPath);
        System.Xml.Linq.XNamespace ns = "http://www.w3.org/2000/svg";
        var curves = svg.Descendants(ns + "polyline").ToList();
        // loss, val_loss, accuracy, val_accuracy: one point per epoch each
        Assert.Equal(["loss", "val_loss", "accuracy", "val_accuracy"], curves.Select(c => c.Element(ns + "title")!.Value));
        Assert.All(curves, c => Assert.Equal(4, c.Attribute("points")!.Value.Split(' ').Length));
        // the loss falls, so its last point is lower on the panel (a larger y) than its first
        var loss = curves[0].Attribute("points")!.Value.Split(' ').Select(p => double.Parse(p.Split(',')[1], CultureInfo.InvariantCulture)).ToList();
        Assert.True(history.Epochs[^1].Loss < history.Epochs[0].Loss);
        Assert.True(loss[^1] > loss[0]);
        Assert.Contains(svg.Descendants(ns + "text"), t => t.Value == "blobs <sgd>: loss");
        Assert.Equal(history.ToCsv(), File.ReadAllText(csvPath));

        var e = Assert.Throws<ArgumentException>(() => history.Save(Path.Combine(_folder, "curves.png")));
        Assert.Contains("SavePlot(\"curves.png\")", e.Message);

        // PNG from the API (GpuNet.Plotting): two panels of 640 x 480, as the command line draws them; SVG the same as Save's
        string pngPath = Path.Combine(_folder, "curves.png");
        GpuNet.Plotting.Plots.SavePlot(history, pngPath, "blobs");
        Assert.Equal((1280, 480), PngSize(File.ReadAllBytes(pngPath)));
        GpuNet.Plotting.Plots.SavePlot(history, svgPath, "blobs <sgd>");
        Assert.Equal(history.ToSvg("blobs <sgd>"), File.ReadAllText(svgPath));
        e = Assert.Throws<ArgumentException>(() => GpuNet.Plotting.Plots.SavePlot(history, Path.Combine(_folder, "curves.pdf")));
        Assert.Contains("'curves.png'", e.Message);
    }

    [Fact]
    public void APlotPathInAMissingFolderIsRefusedBeforeTraining()
    {
        var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--plot", "/no/such/folder/c.png");
        Assert.NotEqual(0, code);
        Assert.Contains("--plot '/no/such/folder/c.png': the folder '/no/such/folder' does not exist", error);
    }
}

using GpuNet.Models;
using SkiaSharp;

namespace GpuNet.Cli;

/// <summary>
/// The training history of <c>gpunet train</c> as a
/// PNG of the learning curves (the CSV is <see cref="History.ToCsv"/>), loss and accuracy per epoch for training and validation (the lecture's plots of
/// <c>history.history</c>).
/// </summary>
internal static class HistoryReport
{
    /// <summary>
    /// Two panels side by side, loss and accuracy against epoch, training solid and validation dashed; the accuracy
    /// panel is left out when there is none (regression). <paramref name="markEpoch"/> (the restored best epoch) is
    /// drawn as a vertical line.
    /// </summary>
    public static byte[] ChartPng(History history, string title, int? markEpoch = null, int panelWidth = 640, int height = 480)
    {
        var epochs = history.Epochs;
        bool accuracy = epochs.Any(e => double.IsFinite(e.Accuracy));
        var panels = new List<byte[]>
        {
            Panel(epochs, "loss", e => e.Loss, e => e.ValidationLoss, $"{title}: loss", markEpoch, panelWidth, height),
        };
        if (accuracy)
            panels.Add(Panel(epochs, "accuracy", e => e.Accuracy, e => e.ValidationAccuracy, $"{title}: accuracy", markEpoch, panelWidth, height));
        return SideBySide(panels);
    }

    private static byte[] Panel(IReadOnlyList<EpochResult> epochs, string metric, Func<EpochResult, double> train,
        Func<EpochResult, double?> validation, string title, int? markEpoch, int width, int height)
    {
        using var plot = new ScottPlot.Plot();
        double[] x = [.. epochs.Select(e => (double)e.Epoch)];
        var trainLine = plot.Add.Scatter(x, epochs.Select(train).ToArray());
        trainLine.LegendText = metric;
        trainLine.LineWidth = 2;
        trainLine.MarkerSize = epochs.Count <= 40 ? 5 : 0;
        if (epochs.All(e => validation(e) is double v && double.IsFinite(v)))
        {
            var valLine = plot.Add.Scatter(x, epochs.Select(e => validation(e)!.Value).ToArray());
            valLine.LegendText = "val_" + metric;
            valLine.LineWidth = 2;
            valLine.MarkerSize = trainLine.MarkerSize;
            valLine.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        if (markEpoch is int best)
        {
            var line = plot.Add.VerticalLine(best);
            line.LineColor = ScottPlot.Colors.Gray;
            line.LinePattern = ScottPlot.LinePattern.Dotted;
            line.LegendText = $"restored epoch {best}";
        }
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(metric);
        plot.ShowLegend(metric == "loss" ? ScottPlot.Alignment.UpperRight : ScottPlot.Alignment.LowerRight);
        return plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
    }

    /// <summary>PNG images placed left to right on a white canvas as tall as the tallest.</summary>
    internal static byte[] SideBySide(List<byte[]> pngs)
    {
        var bitmaps = pngs.Select(SKBitmap.Decode).ToList();
        try
        {
            using var surface = SKSurface.Create(new SKImageInfo(bitmaps.Sum(b => b.Width), bitmaps.Max(b => b.Height)));
            surface.Canvas.Clear(SKColors.White);
            int left = 0;
            foreach (var b in bitmaps)
            {
                surface.Canvas.DrawBitmap(b, left, 0);
                left += b.Width;
            }
            using var image = surface.Snapshot();
            using var data = image.Encode(SKEncodedImageFormat.Png, 100);
            return data.ToArray();
        }
        finally
        {
            foreach (var b in bitmaps) b.Dispose();
        }
    }
}

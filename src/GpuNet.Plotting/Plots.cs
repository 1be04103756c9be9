using GpuNet.Models;
using SkiaSharp;

namespace GpuNet.Plotting;

/// <summary>
/// PNG pictures of GpuNet's models and training runs, as Keras draws them: <c>plot_model</c> (the <see cref="ModelDiagram"/>
/// of <see cref="Sequential.Diagram(int?)"/>) and the learning curves of a <see cref="History"/> (the lecture's plots of
/// <c>history.history</c>). GpuNet writes both as SVG without this package (<see cref="ModelDiagram.ToSvg"/>,
/// <see cref="History.ToSvg"/>); this one adds PNG through ScottPlot and SkiaSharp, whose native libraries it brings.
/// </summary>
/// <example>
/// <code>
/// var history = model.Fit(train, new FitOptions { Epochs = 30, ValidationSplit = 0.2 });
/// history.SavePlot("curves.png");
/// model.PlotModel("model.png");
/// </code>
/// </example>
public static class Plots
{
    /// <summary>
    /// Keras' <c>plot_model(model, to_file, show_shapes=True)</c>: the model's layers with their shapes and parameter counts,
    /// written atomically as PNG or SVG by the extension of <paramref name="path"/>.
    /// </summary>
    /// <param name="inputSize">The input width, when the model does not know it yet (never fitted, evaluated or loaded).</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> ends in neither .png nor .svg.</exception>
    /// <exception cref="InvalidOperationException">The input width is not known and none is given.</exception>
    public static void PlotModel(this Sequential model, string path, int? inputSize = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var diagram = model.Diagram(inputSize);
        byte[] bytes = Extension(path, nameof(path), "PlotModel", "model.png") switch
        {
            ".png" => diagram.ToPng(),
            _ => System.Text.Encoding.UTF8.GetBytes(diagram.ToSvg()),
        };
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>
    /// The learning curves, loss and accuracy per epoch for training and validation
    /// (<see cref="ToPng(History, string, int?, int, int)"/>), written atomically as PNG or SVG (<see cref="History.ToSvg"/>)
    /// by the extension of <paramref name="path"/>.
    /// </summary>
    /// <param name="markEpoch">An epoch to mark with a vertical line (e.g. the one early stopping restored).</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> ends in neither .png nor .svg.</exception>
    public static void SavePlot(this History history, string path, string title = "training", int? markEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        byte[] bytes = Extension(path, nameof(path), "SavePlot", "curves.png") switch
        {
            ".png" => history.ToPng(title, markEpoch),
            _ => System.Text.Encoding.UTF8.GetBytes(history.ToSvg(title)),
        };
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    private static string Extension(string path, string parameter, string method, string example)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path, parameter);
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is ".png" or ".svg") return extension;
        throw new ArgumentException($"{method} writes .png or .svg; '{path}' has neither extension. Give e.g. '{example}'.", parameter);
    }

    /// <summary>
    /// Two panels side by side, loss and accuracy against epoch, training solid and validation dashed; the accuracy
    /// panel is left out when there is none (regression). <paramref name="markEpoch"/> (the restored best epoch) is
    /// drawn as a vertical line.
    /// </summary>
    public static byte[] ToPng(this History history, string title = "training", int? markEpoch = null, int panelWidth = 640, int height = 480)
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

    /// <summary>The diagram's boxes, text and arrows at one pixel per unit (y flipped: the diagram's y runs downwards).</summary>
    public static byte[] ToPng(this ModelDiagram diagram)
    {
        using var plot = new ScottPlot.Plot();
        double h = diagram.Height;
        for (int i = 0; i < diagram.Boxes.Count; i++)
        {
            var b = diagram.Boxes[i];
            var box = plot.Add.Rectangle(b.X, b.X + b.Width, h - b.Y - b.Height, h - b.Y);
            box.FillStyle.Color = b.IsInput ? ScottPlot.Color.FromHex("#eef3fb") : ScottPlot.Color.FromHex("#f7f7f7");
            box.LineStyle.Color = ScottPlot.Color.FromHex("#444444");
            for (int l = 0; l < b.Lines.Count; l++)
            {
                var text = plot.Add.Text(b.Lines[l], b.X + ModelDiagram.Padding, h - (b.Y + ModelDiagram.Padding + l * ModelDiagram.LineHeight));
                text.LabelAlignment = ScottPlot.Alignment.UpperLeft;
                text.LabelFontSize = (float)ModelDiagram.FontSize;
                text.LabelFontName = ScottPlot.Fonts.Monospace;
                text.LabelBold = l == 0;
            }
        }
        foreach (var arrow in diagram.Arrows)
        {
            var p = arrow.Points;
            for (int s = 0; s + 1 < p.Count; s++)
            {
                var start = new ScottPlot.Coordinates(p[s].X, h - p[s].Y);
                var end = new ScottPlot.Coordinates(p[s + 1].X, h - p[s + 1].Y);
                if (s + 2 < p.Count)
                {
                    var line = plot.Add.Line(start, end);
                    line.LineColor = ScottPlot.Color.FromHex("#444444");
                    line.LineWidth = 2;
                    continue;
                }
                var head = plot.Add.Arrow(start, end); // the last segment ends in the arrowhead
                head.ArrowFillColor = head.ArrowLineColor = ScottPlot.Color.FromHex("#444444");
                head.ArrowWidth = 2;
                head.ArrowheadWidth = 10;
                head.ArrowheadLength = 10;
            }
        }
        plot.Axes.SetLimits(0, diagram.Width, 0, h);
        plot.Layout.Frameless();
        plot.HideGrid();
        return plot.GetImageBytes((int)Math.Ceiling(diagram.Width), (int)Math.Ceiling(h), ScottPlot.ImageFormat.Png);
    }
}

using System.Globalization;
using System.Security;
using System.Text;

namespace GpuNet.Models;

public sealed partial class History
{
    /// <summary>
    /// The history as CSV, one row per epoch (as Keras' CSVLogger, epochs counted from 1, RFC 4180 CRLF line ends):
    /// epoch, loss, accuracy, val_loss, val_accuracy, learning_rate, seconds; empty fields where there is no value.
    /// </summary>
    public string ToCsv()
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = new CsvHelper.CsvWriter(text, CultureInfo.InvariantCulture))
        {
            foreach (var name in new[] { "epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds" }) csv.WriteField(name);
            csv.NextRecord();
            foreach (var e in _epochs)
            {
                csv.WriteField(e.Epoch);
                csv.WriteField(Number(e.Loss));
                csv.WriteField(Number(e.Accuracy));
                csv.WriteField(Number(e.ValidationLoss));
                csv.WriteField(Number(e.ValidationAccuracy));
                csv.WriteField(float.IsFinite(e.LearningRate) ? e.LearningRate.ToString("R", CultureInfo.InvariantCulture) : "");
                csv.WriteField(e.Elapsed.TotalSeconds.ToString("0.####", CultureInfo.InvariantCulture));
                csv.NextRecord();
            }
        }
        return text.ToString();
    }

    private static string Number(double? value) =>
        value is double v && double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "";

    /// <summary>
    /// The learning curves as an SVG document (the lecture's plots of <c>history.history</c>): a loss panel and, unless the
    /// model is a regression, an accuracy panel, each against the epoch, training solid and validation dashed, with the
    /// axes' ranges labelled. <c>gpunet train --plot</c> draws the same curves as PNG.
    /// </summary>
    /// <exception cref="InvalidOperationException">The history has no epochs.</exception>
    public string ToSvg(string title = "training")
    {
        if (_epochs.Count == 0) throw new InvalidOperationException("The history has no epochs to draw: Fit the model first.");
        const double panelWidth = 420, panelHeight = 300, left = 60, right = 20, top = 40, bottom = 45;
        bool accuracy = _epochs.Any(e => double.IsFinite(e.Accuracy));
        int panels = accuracy ? 2 : 1;
        var sb = new StringBuilder();
        sb.AppendLine(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{panels * panelWidth}\" height=\"{panelHeight}\" font-family=\"sans-serif\" font-size=\"12\">"));
        sb.AppendLine("  <rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        Panel(0, "loss", e => e.Loss, e => e.ValidationLoss);
        if (accuracy) Panel(panelWidth, "accuracy", e => e.Accuracy, e => e.ValidationAccuracy);
        sb.AppendLine("</svg>");
        return sb.ToString();

        void Panel(double x0, string metric, Func<EpochResult, double> train, Func<EpochResult, double?> validation)
        {
            var series = new List<(string Name, double[] Values, string Dash)> { (metric, [.. _epochs.Select(train)], "") };
            if (_epochs.All(e => validation(e) is double v && double.IsFinite(v)))
                series.Add(("val_" + metric, [.. _epochs.Select(e => validation(e)!.Value)], " stroke-dasharray=\"6,4\""));
            var finite = series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(0).ToList();
            double low = finite.Min(), high = finite.Max();
            if (high - low < 1e-12) (low, high) = (low - 0.5, high + 0.5);
            int first = _epochs[0].Epoch, last = _epochs[^1].Epoch;
            double w = panelWidth - left - right, h = panelHeight - top - bottom;
            double X(int epoch) => x0 + left + (last == first ? w / 2 : (epoch - first) * w / (last - first));
            double Y(double v) => top + (high - v) * h / (high - low);

            sb.AppendLine(Invariant($"  <text x=\"{x0 + panelWidth / 2}\" y=\"22\" text-anchor=\"middle\" font-weight=\"bold\">{SecurityElement.Escape($"{title}: {metric}")}</text>"));
            sb.AppendLine(Invariant($"  <rect x=\"{x0 + left}\" y=\"{top}\" width=\"{w}\" height=\"{h}\" fill=\"none\" stroke=\"#888\"/>"));
            sb.AppendLine(Invariant($"  <text x=\"{x0 + left - 6}\" y=\"{top + 4}\" text-anchor=\"end\">{high:G4}</text>"));
            sb.AppendLine(Invariant($"  <text x=\"{x0 + left - 6}\" y=\"{top + h + 4}\" text-anchor=\"end\">{low:G4}</text>"));
            sb.AppendLine(Invariant($"  <text x=\"{X(first)}\" y=\"{top + h + 18}\" text-anchor=\"middle\">{first}</text>"));
            if (last != first) sb.AppendLine(Invariant($"  <text x=\"{X(last)}\" y=\"{top + h + 18}\" text-anchor=\"middle\">{last}</text>"));
            sb.AppendLine(Invariant($"  <text x=\"{x0 + left + w / 2}\" y=\"{top + h + 36}\" text-anchor=\"middle\">epoch</text>"));
            string[] colors = ["#1f77b4", "#ff7f0e"];
            for (int s = 0; s < series.Count; s++)
            {
                var points = string.Join(" ", _epochs.Select((e, i) => Invariant($"{X(e.Epoch):0.##},{Y(series[s].Values[i]):0.##}")));
                sb.AppendLine($"  <polyline fill=\"none\" stroke=\"{colors[s]}\" stroke-width=\"2\"{series[s].Dash} points=\"{points}\"><title>{series[s].Name}</title></polyline>");
                sb.AppendLine(Invariant($"  <text x=\"{x0 + left + w - 8}\" y=\"{top + 18 + 16 * s}\" text-anchor=\"end\" fill=\"{colors[s]}\">{series[s].Name}</text>"));
            }
        }

        static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Writes <see cref="ToSvg"/> (a path ending in .svg) or <see cref="ToCsv"/> (.csv) to <paramref name="path"/>, atomically.</summary>
    /// <exception cref="ArgumentException">Another extension; for PNG, the GpuNet.Plotting package's <c>history.SavePlot("curves.png")</c>.</exception>
    public void Save(string path, string title = "training")
    {
        string text = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".svg" => ToSvg(title),
            ".csv" => ToCsv(),
            _ => throw new ArgumentException($"History.Save writes .svg (the learning curves) or .csv (the figures per epoch); '{path}' has neither extension. For a PNG, add the GpuNet.Plotting package and call history.SavePlot(\"curves.png\").", nameof(path)),
        };
        var bytes = Encoding.UTF8.GetBytes(text);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}

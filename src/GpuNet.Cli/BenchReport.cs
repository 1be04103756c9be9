using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace GpuNet.Cli;

/// <summary>The machine a benchmark ran on, as far as .NET and /proc tell.</summary>
internal sealed record BenchMachine(string Os, string Architecture, int LogicalCores, string? Cpu, string Runtime)
{
    public static BenchMachine Current() => new(
        RuntimeInformation.OSDescription, RuntimeInformation.OSArchitecture.ToString(), Environment.ProcessorCount,
        CpuModel(), RuntimeInformation.FrameworkDescription);

    private static string? CpuModel()
    {
        try
        {
            const string cpuinfo = "/proc/cpuinfo";
            if (!File.Exists(cpuinfo)) return null;
            var line = File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}

/// <summary>A device that ran, with the backend's description.</summary>
internal sealed record BenchDeviceInfo(string Device, string Name);

/// <summary>Everything a run measured: the JSON file's content.</summary>
internal sealed record BenchResults(
    string Command, DateTimeOffset Date, string Model, string Data, string Optimizer, int Warmup, int MinSteps, double MinSeconds,
    int Seed, BenchMachine Machine, IReadOnlyList<BenchDeviceInfo> Devices, IReadOnlyList<BenchPoint> Points, IReadOnlyList<string> Notes);

/// <summary>The table, the chart and the JSON file of <c>gpunet bench</c>.</summary>
internal static class BenchReport
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>
    /// One row per (width,) batch size: samples/s of each device, and cuda / cpu when both ran.
    /// A markdown table when the output is not a terminal, so a redirected run pastes into docs.
    /// </summary>
    public static Table Table(BenchResults r, bool terminal)
    {
        var devices = r.Devices.Select(d => d.Device).ToArray();
        bool sweep = r.Points.Any(p => p.Width is not null);
        bool ratio = devices.Contains("cuda") && devices.Contains("cpu");
        var table = new Table { Border = terminal ? TableBorder.Rounded : TableBorder.Markdown };
        if (sweep) table.AddColumn(new TableColumn("width").RightAligned());
        table.AddColumn(new TableColumn("batch").RightAligned());
        foreach (var d in devices) table.AddColumn(new TableColumn($"{d} samples/s").RightAligned());
        if (ratio) table.AddColumn(new TableColumn("cuda / cpu").RightAligned());
        foreach (var row in Rows(r))
        {
            var cells = new List<string>();
            if (sweep) cells.Add(row.Width?.ToString(CultureInfo.InvariantCulture) ?? "");
            cells.Add(row.Batch.ToString(CultureInfo.InvariantCulture));
            foreach (var d in devices) cells.Add(row.Rate(d) is double v ? Rate(v) : "-");
            if (ratio) cells.Add(row.Ratio is double q ? $"x{q.ToString(q < 10 ? "F2" : "F1", CultureInfo.InvariantCulture)}" : "-");
            table.AddRow([.. cells.Select(c => new Text(c))]);
        }
        return table;
    }

    /// <summary>Where the GPU pays: per width, the smallest batch from which CUDA is faster at every larger batch measured.</summary>
    public static IEnumerable<string> Verdicts(BenchResults r)
    {
        foreach (var group in Rows(r).GroupBy(row => row.Model))
        {
            var rows = group.Where(row => row.Ratio is not null).OrderBy(row => row.Batch).ToList();
            if (rows.Count == 0) continue;
            string model = group.First().Width is int w ? $"width {w}" : group.Key;
            var best = rows.MaxBy(row => row.Ratio!.Value)!;
            string bestText = $"x{best.Ratio!.Value.ToString("F1", CultureInfo.InvariantCulture)} at batch {best.Batch}";
            int from = rows.Count;
            while (from > 0 && rows[from - 1].Ratio > 1) from--;
            var faster = rows.Where(row => row.Ratio > 1).Select(row => row.Batch).ToList();
            yield return from < rows.Count
                ? $"{model}: CUDA is faster than the CPU backend from batch {rows[from].Batch} on (best {bestText})."
                : faster.Count == 0
                    ? $"{model}: the CPU backend is faster at every batch size measured (CUDA's best: {bestText})."
                    : $"{model}: CUDA is faster only at batch {string.Join(", ", faster)}, not at the largest batch measured (best {bestText}).";
        }
    }

    /// <summary>Samples/s with thousands separators; one decimal below 100 (ILGPU's CPU simulator runs a few per second).</summary>
    public static string Rate(double samplesPerSecond) =>
        samplesPerSecond.ToString(samplesPerSecond < 100 ? "N1" : "N0", CultureInfo.InvariantCulture);

    public static string ToJson(BenchResults r) => JsonSerializer.Serialize(r, Json);

    /// <summary>
    /// Samples/s against batch size, one line per device (and width), both axes logarithmic: ScottPlot has
    /// linear axes only, so the points are plotted at log2(batch) and log10(samples/s) with ticks labelled
    /// in the original units.
    /// </summary>
    public static byte[] ChartPng(BenchResults r, int width = 1000, int height = 650)
    {
        using var plot = new ScottPlot.Plot();
        var names = r.Devices.ToDictionary(d => d.Device, d => d.Name);
        var palette = new ScottPlot.Palettes.Category10();
        var widths = r.Points.Select(p => p.Width).Distinct().Order().ToList();
        bool sweep = widths.Count > 1 || widths[0] is not null;
        foreach (var line in r.Points.GroupBy(p => (p.Device, p.Model, p.Width)).OrderBy(g => g.Key.Width ?? 0))
        {
            var points = line.OrderBy(p => p.Batch).ToArray();
            var scatter = plot.Add.Scatter(
                points.Select(p => Math.Log2(p.Batch)).ToArray(),
                points.Select(p => Math.Log10(p.SamplesPerSecond)).ToArray());
            int device = Array.IndexOf(BenchDevice.All.Select(d => d.Key).ToArray(), line.Key.Device);
            // a sweep: one colour per width, the device told by line pattern and marker; else one colour per device
            scatter.Color = palette.GetColor(sweep ? widths.IndexOf(line.Key.Width) : device);
            scatter.LinePattern = device switch { 0 => ScottPlot.LinePattern.Solid, 1 => ScottPlot.LinePattern.Dashed, _ => ScottPlot.LinePattern.Dotted };
            scatter.MarkerShape = device switch { 0 => ScottPlot.MarkerShape.FilledCircle, 1 => ScottPlot.MarkerShape.FilledSquare, _ => ScottPlot.MarkerShape.FilledTriangleUp };
            scatter.LineWidth = 2;
            scatter.MarkerSize = 7;
            string label = $"{line.Key.Device}: {names[line.Key.Device]}";
            scatter.LegendText = line.Key.Width is int w ? $"width {w}, {label}" : label;
        }
        plot.Grid.MinorLineWidth = 1;
        plot.Grid.MinorLineColor = ScottPlot.Colors.Black.WithAlpha(0.05);

        var batches = r.Points.Select(p => p.Batch).Distinct().Order().ToArray();
        var x = new ScottPlot.TickGenerators.NumericManual();
        foreach (int b in batches) x.AddMajor(Math.Log2(b), b.ToString(CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = x;

        var rates = r.Points.Select(p => p.SamplesPerSecond).ToArray();
        double low = Math.Log10(rates.Min()), high = Math.Log10(rates.Max());
        plot.Axes.Left.TickGenerator = LogTicks(low, high);

        double xPad = batches.Length > 1 ? 0.3 : 1;
        double yPad = Math.Max(0.1, (high - low) * 0.06);
        plot.Axes.SetLimits(Math.Log2(batches[0]) - xPad, Math.Log2(batches[^1]) + xPad, low - yPad, high + yPad);

        string model = sweep ? "width sweep 784-W-W-10" : $"{r.Model} model {string.Join('-', r.Points[0].Layers)}";
        plot.Title($"GpuNet training throughput: {model}, SGD, synthetic MNIST-shaped data");
        plot.XLabel("batch size (log scale)");
        plot.YLabel("samples / s (log scale, higher is better)");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        return plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
    }

    /// <summary>Writes a file by a temporary file in the same folder and a move, so no half-written file is ever left.</summary>
    public static void WriteAtomically(string path, byte[] content) => AtomicFile.Write(path, stream => stream.Write(content));

    /// <summary>Decade ticks 1, 10, 100, 1k ... with 2..9 minor ticks; over less than three decades, 2 and 5 are labelled too.</summary>
    private static ScottPlot.TickGenerators.NumericManual LogTicks(double low, double high)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        bool narrow = high - low < 3;
        for (int decade = (int)Math.Floor(low) - 1; decade <= (int)Math.Ceiling(high); decade++)
            for (int k = 1; k <= 9; k++)
            {
                double value = k * Math.Pow(10, decade);
                double position = Math.Log10(value);
                if (k == 1 || (narrow && k is 2 or 5)) ticks.AddMajor(position, Human(value));
                else ticks.AddMinor(position);
            }
        return ticks;
    }

    /// <summary>1, 20, 500, 1k, 20k, 1M ...</summary>
    private static string Human(double value) => value switch
    {
        >= 1e9 => $"{value / 1e9:0.##}G",
        >= 1e6 => $"{value / 1e6:0.##}M",
        >= 1e3 => $"{value / 1e3:0.##}k",
        _ => value.ToString("0.##", CultureInfo.InvariantCulture),
    };

    private sealed record Row(string Model, int? Width, int Batch, Dictionary<string, double> Rates)
    {
        public double? Rate(string device) => Rates.TryGetValue(device, out double v) ? v : null;
        public double? Ratio => Rate("cuda") is double g && Rate("cpu") is double c ? g / c : null;
    }

    private static IEnumerable<Row> Rows(BenchResults r) =>
        r.Points
            .GroupBy(p => (p.Model, p.Width, p.Batch))
            .OrderBy(g => g.Key.Width ?? 0).ThenBy(g => g.Key.Batch)
            .Select(g => new Row(g.Key.Model, g.Key.Width, g.Key.Batch, g.ToDictionary(p => p.Device, p => p.SamplesPerSecond)));
}

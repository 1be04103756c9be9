using System.CommandLine;
using System.Globalization;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;

namespace GpuNet.Cli;

/// <summary>
/// <c>gpunet xor</c>: the lecture's XOR example. A single layer (a perceptron with a sigmoid) draws one straight
/// line and gets at most 3 of the 4 points right; two stacked linear layers collapse to one and do no better; a
/// 2-2-1 network with a tanh hidden layer bends the boundary and gets all 4. Each is trained from several seeds
/// (full batch, Adam 0.05, binary cross-entropy), because a 2-2-1 net can also end in a local minimum; with
/// <c>--plot</c> the decision regions of the first seed's linear model and of the first 2-2-1 net that solved it.
/// </summary>
internal static class XorCommand
{
    private static readonly Dataset Xor = new("xor", [0, 0, 0, 1, 1, 0, 1, 1], [0, 1, 1, 0], 2, 2);

    public static Command Create(TextWriter output, TextWriter error)
    {
        var plot = new Option<string?>("--plot") { Description = "Write the decision regions of the linear and the 2-2-1 network to this PNG file." };
        var seeds = new Option<int>("--seeds") { Description = "Train each model from this many seeds (1..N).", DefaultValueFactory = _ => 10 };
        var epochs = new Option<int>("--epochs") { Description = "Full-batch steps per model.", DefaultValueFactory = _ => 500 };
        foreach (var (option, example) in new[] { (seeds, "10"), (epochs, "500") })
            option.Validators.Add(r =>
            {
                int v = r.GetValueOrDefault<int>();
                if (v < 1 || v > 100_000) r.AddError($"{option.Name} must be an integer in [1, 100000]; received {v}. For example {option.Name} {example}.");
            });
        var command = new Command("xor", "The lecture's XOR: a linear model fails, a 2-2-1 network with a tanh hidden layer succeeds.") { plot, seeds, epochs };
        command.SetAction(p => Program.Guard(error, () => Run(p.GetValue(plot), p.GetValue(seeds), p.GetValue(epochs), output)));
        return command;
    }

    private sealed record Architecture(string Name, Func<Layer[]> Layers);

    private static readonly Architecture[] Architectures =
    [
        new("linear (2-1, sigmoid)", () => [new Dense(1, "sigmoid")]),
        new("two linear layers (2-2-1)", () => [new Dense(2, "linear"), new Dense(1, "sigmoid")]),
        new("2-2-1, tanh hidden layer", () => [new Dense(2, "tanh"), new Dense(1, "sigmoid")]),
    ];

    internal static int Run(string? plotPath, int seeds, int epochs, TextWriter output)
    {
        if (plotPath is not null) TrainOptions.CheckSavePath(plotPath, "--plot", "xor.png");
        var c = CultureInfo.InvariantCulture;
        using var backend = new Backends.CpuBackend();
        output.WriteLine($"XOR: (0,0) -> 0, (0,1) -> 1, (1,0) -> 1, (1,1) -> 0; each model trained {epochs} full-batch steps with Adam(0.05) from seeds 1..{seeds}");
        output.WriteLine($"{"model",-28}{"solved",10}   p(0,0)  p(0,1)  p(1,0)  p(1,1)  (first seed that solved it, else seed 1)");
        var shown = new List<(string Name, Sequential Model)>();
        try
        {
            foreach (var architecture in Architectures)
            {
                Sequential? best = null;
                int solved = 0;
                for (int seed = 1; seed <= seeds; seed++)
                {
                    var model = new Sequential(architecture.Layers());
                    model.Compile(new Adam(0.05f), new BinaryCrossentropy(), backend, seed: (ulong)seed);
                    model.Fit(Xor, new FitOptions { Epochs = epochs, BatchSize = 4, Seed = seed, Verbose = Verbosity.Silent });
                    bool ok = model.Evaluate(Xor).Accuracy == 1.0;
                    if (ok) solved++;
                    if (best is null || (ok && solved == 1)) { best?.Dispose(); best = model; }
                    else model.Dispose();
                }
                shown.Add((architecture.Name, best!));
                var p = best!.Predict(Xor.Features);
                output.WriteLine($"{architecture.Name,-28}{$"{solved}/{seeds}",10}  " + string.Concat(p.Select(v => v.ToString("0.000", c).PadLeft(8))));
            }
            output.WriteLine();
            output.WriteLine("A linear model draws one straight line: no line puts (0,1) and (1,0) on one side and (0,0) and (1,1) on the other, so at most 3 of 4 are right.");
            output.WriteLine("Two linear layers are still one linear map, W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2). The tanh hidden layer makes the boundary bend.");
            if (plotPath is not null)
            {
                BenchReport.WriteAtomically(plotPath, GpuNet.Plotting.Plots.SideBySide([Regions(shown[0]), Regions(shown[2])]));
                output.WriteLine($"Wrote the decision regions to {plotPath}");
            }
        }
        finally
        {
            foreach (var (_, model) in shown) model.Dispose();
        }
        return 0;
    }

    /// <summary>The model's p(class 1) over [-0.5, 1.5]^2 as a heat map, the 0.5 boundary, and the four points.</summary>
    private static byte[] Regions((string Name, Sequential Model) m)
    {
        const int n = 121;
        const double lo = -0.5, hi = 1.5;
        var grid = new float[n * n * 2];
        for (int r = 0; r < n; r++)
            for (int col = 0; col < n; col++)
            {
                int i = r * n + col;
                grid[2 * i] = (float)(lo + (hi - lo) * col / (n - 1));
                grid[2 * i + 1] = (float)(hi - (hi - lo) * r / (n - 1)); // row 0 is the top of the picture
            }
        var p = m.Model.Predict(grid);
        var intensities = new double[n, n];
        for (int r = 0; r < n; r++)
            for (int col = 0; col < n; col++)
                intensities[r, col] = p[r * n + col];

        using var plot = new ScottPlot.Plot();
        var heat = plot.Add.Heatmap(intensities);
        heat.Colormap = new ScottPlot.Colormaps.Viridis();
        heat.ManualRange = new ScottPlot.Range(0, 1);
        heat.Position = new ScottPlot.CoordinateRect(lo, hi, lo, hi);
        plot.Add.ColorBar(heat).Label = "p(output = 1)";
        double[] xs = [0, 0, 1, 1], ys = [0, 1, 0, 1];
        for (int k = 0; k < 4; k++)
        {
            var point = plot.Add.Marker(xs[k], ys[k], Xor.Labels[k] == 1 ? ScottPlot.MarkerShape.FilledCircle : ScottPlot.MarkerShape.FilledSquare, 16);
            point.Color = Xor.Labels[k] == 1 ? ScottPlot.Colors.White : ScottPlot.Colors.Black;
        }
        plot.Title($"{m.Name}: accuracy {m.Model.Evaluate(Xor).Accuracy:P0}");
        plot.XLabel("x1");
        plot.YLabel("x2");
        plot.Axes.SetLimits(lo, hi, lo, hi);
        return plot.GetImageBytes(560, 480, ScottPlot.ImageFormat.Png);
    }
}

using System.CommandLine;
using System.Globalization;
using GpuNet.Backends;
using GpuNet.Layers;

namespace GpuNet.Cli;

/// <summary>
/// <c>gpunet activations</c>: the lecture's activation functions and their derivatives, computed by GpuNet's own
/// CPU code (<see cref="ActivationMath"/>, the reference every backend is tested against): a table at a few points,
/// the facts the lecture quotes (sigmoid's largest slope 0.25, swish's minimum), and with <c>--plot</c> the chart.
/// </summary>
internal static class ActivationsCommand
{
    private static readonly string[] Names = ["step", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish", "softplus", "gelu", "selu"];

    public static Command Create(TextWriter output, TextWriter error)
    {
        var plot = new Option<string?>("--plot") { Description = "Write the functions and their derivatives on [-5, 5] to this PNG file." };
        var alpha = new Option<float>("--alpha") { Description = "alpha of leaky_relu (the lecture uses 0.1; Keras' default is 0.3, GpuNet's 0.01); elu has Keras' alpha 1.", DefaultValueFactory = _ => 0.1f };
        alpha.Validators.Add(r =>
        {
            float v = r.GetValueOrDefault<float>();
            if (!(float.IsFinite(v) && v > 0)) r.AddError($"--alpha must be a positive number; received {v}. For example --alpha 0.1.");
        });
        var command = new Command("activations", "Tabulate (and with --plot, draw) the lecture's activation functions and their derivatives.") { plot, alpha };
        command.SetAction(p => Program.Guard(error, () => Run(p.GetValue(plot), p.GetValue(alpha), output)));
        return command;
    }

    private static Activation Of(string name, float alpha) => name switch
    {
        "leaky_relu" => Activation.LeakyRelu(alpha),
        "elu" => Activation.Elu(1f),
        _ => Activation.Parse(name),
    };

    private static string Label(string name, float alpha) => name switch
    {
        "leaky_relu" => $"leaky_relu({alpha.ToString(CultureInfo.InvariantCulture)})",
        "elu" => "elu(1)",
        _ => name,
    };

    /// <summary>f'(x), NaN for step (0 everywhere but undefined at 0: the reason it cannot be trained by backprop).</summary>
    private static float Slope(Activation a, float x) =>
        a.Kind == ActivationKind.Step ? float.NaN : ActivationMath.Derivative(a.Kind, a.Alpha, x, ActivationMath.Forward(a.Kind, a.Alpha, x));

    internal static int Run(string? plotPath, float alpha, TextWriter output)
    {
        if (plotPath is not null) TrainOptions.CheckSavePath(plotPath, "--plot", "activations.png");
        float[] points = [-2f, -1f, 0f, 1f, 2f];
        var c = CultureInfo.InvariantCulture;
        output.WriteLine($"{"f(x) at x =",-16}" + string.Concat(points.Select(x => $"{x.ToString("0", c),9}")) + "   f'(x) at the same points");
        foreach (var name in Names)
        {
            var a = Of(name, alpha);
            output.WriteLine($"{Label(name, alpha),-16}" + string.Concat(points.Select(x => ActivationMath.Forward(a.Kind, a.Alpha, x).ToString("0.0000", c).PadLeft(9)))
                + "   " + string.Concat(points.Select(x => (Slope(a, x) is var d && float.IsNaN(d) ? "-" : d.ToString("0.000", c)).PadLeft(7))));
        }
        // the lecture's numbers, found numerically from the same code
        int sigmoidArgmax = Enumerable.Range(-5000, 10001).MaxBy(i => Slope(Activation.Sigmoid, i / 1000f));
        float sigmoidMax = Slope(Activation.Sigmoid, sigmoidArgmax / 1000f);
        int argmin = Enumerable.Range(-5000, 5001).MinBy(i => ActivationMath.Forward(ActivationKind.Swish, 0, i / 1000f));
        output.WriteLine();
        output.WriteLine(FormattableString.Invariant($"sigmoid's largest slope: {sigmoidMax:0.0000}, at x = {sigmoidArgmax / 1000f:0.###}: each sigmoid layer multiplies the backward signal by at most a quarter (times its weights): vanishing gradients."));
        output.WriteLine(FormattableString.Invariant($"swish's minimum: {ActivationMath.Forward(ActivationKind.Swish, 0, argmin / 1000f):0.000} at x = {argmin / 1000f:0.000}; step has no useful derivative (0, undefined at 0), so it cannot be trained by backprop."));
        if (plotPath is not null)
        {
            BenchReport.WriteAtomically(plotPath, Chart(alpha));
            output.WriteLine($"Wrote the chart to {plotPath}");
        }
        return 0;
    }

    private static byte[] Chart(float alpha)
    {
        double[] xs = [.. Enumerable.Range(0, 401).Select(i => -5 + i * 0.025)];
        byte[] Panel(string title, string yLabel, Func<Activation, float, float> value)
        {
            using var plot = new ScottPlot.Plot();
            var palette = new ScottPlot.Palettes.Category10();
            int k = 0;
            foreach (var name in Names)
            {
                var a = Of(name, alpha);
                var ys = xs.Select(x => (double)value(a, (float)x)).ToArray();
                if (ys.All(double.IsNaN)) { k++; continue; } // step in the derivative panel: it has none
                var line = plot.Add.Scatter(xs, ys);
                line.MarkerSize = 0;
                line.LineWidth = 2;
                line.Color = palette.GetColor(k % 10);
                line.LinePattern = k >= 7 ? ScottPlot.LinePattern.Dashed : ScottPlot.LinePattern.Solid;
                line.LegendText = Label(name, alpha);
                k++;
            }
            plot.Title(title);
            plot.XLabel("x");
            plot.YLabel(yLabel);
            plot.Axes.SetLimits(-5, 5, -1.5, 3);
            plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
            return plot.GetImageBytes(640, 480, ScottPlot.ImageFormat.Png);
        }
        return GpuNet.Plotting.Plots.SideBySide(
        [
            Panel("activation functions f(x)", "f(x)", (a, x) => ActivationMath.Forward(a.Kind, a.Alpha, x)),
            Panel("derivatives f'(x) (step: none)", "f'(x)", Slope),
        ]);
    }
}

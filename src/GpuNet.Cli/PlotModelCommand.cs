using System.CommandLine;
using GpuNet.Models;

namespace GpuNet.Cli;

/// <summary>
/// <c>gpunet plot-model --model PATH --output model.png|model.svg</c>: Keras' plot_model for a saved model, the
/// <see cref="ModelDiagram"/> as SVG (the library's) or PNG (drawn here with ScottPlot, which renders the text).
/// </summary>
internal static class PlotModelCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "A model file written by `gpunet train --save FILE` (or Sequential.Save).", Required = true };
        var file = new Option<string>("--output") { Description = "The diagram to write: model.png or model.svg (replaced atomically if it exists).", Required = true };
        var command = new Command("plot-model", "Draw a saved model's layers, shapes and parameter counts as a PNG or SVG diagram (Keras' plot_model).") { model, file };
        command.SetAction(p => Program.Guard(error, () => Run(p.GetValue(model)!, p.GetValue(file)!, output)));
        return command;
    }

    internal static int Run(string path, string file, TextWriter output)
    {
        TrainOptions.CheckSavePath(file, "--output", "model.png");
        RunFiles.CheckOutputs([("--output", file)], [("the --model file", path)]);
        bool png = file.EndsWith(".png", StringComparison.OrdinalIgnoreCase);
        if (!png && !file.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--output '{file}': give a .png or .svg file, e.g. --output model.png.");
        using var backend = GpuNet.Device.Create(DeviceChoice.Cpu);
        using var model = Sequential.Load(path, backend);
        var diagram = model.Diagram();
        byte[] bytes = png ? Png(diagram) : System.Text.Encoding.UTF8.GetBytes(diagram.ToSvg());
        BenchReport.WriteAtomically(file, bytes);
        output.WriteLine($"Wrote the diagram of {path} ({model.Layers.Count} layers) to {file}");
        return 0;
    }

    /// <summary>The diagram's boxes, text and arrows at one pixel per unit (y flipped: the diagram's y runs downwards).</summary>
    internal static byte[] Png(ModelDiagram diagram)
    {
        using var plot = new ScottPlot.Plot();
        double h = diagram.Height;
        for (int i = 0; i < diagram.Boxes.Count; i++)
        {
            var b = diagram.Boxes[i];
            var box = plot.Add.Rectangle(b.X, b.X + b.Width, h - b.Y - b.Height, h - b.Y);
            box.FillStyle.Color = i == 0 ? ScottPlot.Color.FromHex("#eef3fb") : ScottPlot.Color.FromHex("#f7f7f7");
            box.LineStyle.Color = ScottPlot.Color.FromHex("#444444");
            for (int l = 0; l < b.Lines.Count; l++)
            {
                var text = plot.Add.Text(b.Lines[l], b.X + ModelDiagram.Padding, h - (b.Y + ModelDiagram.Padding + l * ModelDiagram.LineHeight));
                text.LabelAlignment = ScottPlot.Alignment.UpperLeft;
                text.LabelFontSize = (float)ModelDiagram.FontSize;
                text.LabelFontName = ScottPlot.Fonts.Monospace;
                text.LabelBold = l == 0;
            }
            if (i + 1 < diagram.Boxes.Count)
            {
                double x = b.X + b.Width / 2;
                var arrow = plot.Add.Arrow(new ScottPlot.Coordinates(x, h - b.Y - b.Height), new ScottPlot.Coordinates(x, h - diagram.Boxes[i + 1].Y));
                arrow.ArrowFillColor = arrow.ArrowLineColor = ScottPlot.Color.FromHex("#444444");
                arrow.ArrowWidth = 2;
                arrow.ArrowheadWidth = 10;
                arrow.ArrowheadLength = 10;
            }
        }
        plot.Axes.SetLimits(0, diagram.Width, 0, h);
        plot.Layout.Frameless();
        plot.HideGrid();
        return plot.GetImageBytes((int)Math.Ceiling(diagram.Width), (int)Math.Ceiling(h), ScottPlot.ImageFormat.Png);
    }
}

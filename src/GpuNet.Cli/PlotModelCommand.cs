using System.CommandLine;
using GpuNet.Models;

namespace GpuNet.Cli;

/// <summary>
/// <c>gpunet plot-model --model PATH --output model.png|model.svg</c>: Keras' plot_model for a saved model, the
/// <see cref="ModelDiagram"/> as SVG or PNG (GpuNet.Plotting's <see cref="Plotting.Plots.PlotModel"/>).
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
        byte[] bytes = png ? GpuNet.Plotting.Plots.ToPng(diagram) : System.Text.Encoding.UTF8.GetBytes(diagram.ToSvg());
        BenchReport.WriteAtomically(file, bytes);
        output.WriteLine($"Wrote the diagram of {path} ({model.Layers.Count} layers) to {file}");
        return 0;
    }
}

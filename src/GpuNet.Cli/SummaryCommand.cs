using System.CommandLine;
using GpuNet.Models;

namespace GpuNet.Cli;

/// <summary><c>gpunet summary --model PATH</c>: a saved model's Keras-style summary (<see cref="Sequential.Summary()"/>).</summary>
internal static class SummaryCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "A model file written by `gpunet train --save FILE` (or Sequential.Save).", Required = true };
        var command = new Command("summary", "Print a saved model's layers, output shapes and parameter counts (trainable and not).") { model };
        command.SetAction(p => Program.Guard(error, () => Run(p.GetValue(model)!, output)));
        return command;
    }

    internal static int Run(string path, TextWriter output)
    {
        using var backend = GpuNet.Device.Create(DeviceChoice.Cpu); // reading a file needs no GPU
        using var model = Sequential.Load(path, backend);
        output.WriteLine($"Model: {path}, {model.InputSize} inputs, trained for {model.Iterations:N0} steps with {model.Optimizer}, loss {model.Loss}");
        output.WriteLine(model.Summary());
        return 0;
    }
}

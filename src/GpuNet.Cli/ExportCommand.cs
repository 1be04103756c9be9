using System.CommandLine;
using GpuNet.Models;

namespace GpuNet.Cli;

/// <summary>
/// <c>gpunet export --model m.safetensors --onnx m.onnx</c>: writes a saved model as an ONNX file
/// (<see cref="Sequential.ExportOnnx"/>), with what the command line saved about its data (the CSV preprocessing,
/// the dataset, the target) in the file's metadata.
/// </summary>
internal static class ExportCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "A model file written by `gpunet train --save FILE` (or Sequential.Save).", Required = true };
        var onnx = new Option<string>("--onnx") { Description = "The ONNX file to write, e.g. model.onnx (replaced atomically if it exists).", Required = true };
        var command = new Command("export", "Export a saved model to ONNX, for ONNX Runtime and other inference engines.") { model, onnx };
        command.SetAction(p => Program.Guard(error, () => Run(p.GetValue(model)!, p.GetValue(onnx)!, output)));
        return command;
    }

    internal static int Run(string path, string onnxPath, TextWriter output)
    {
        TrainOptions.CheckSavePath(onnxPath, "--onnx", "model.onnx");
        RunFiles.CheckOutputs([("--onnx", onnxPath)], [("the --model file", path)]); // links resolved, as every command's outputs
        // reading weights needs no GPU
        using var backend = GpuNet.Device.Create(DeviceChoice.Cpu);
        using var model = Sequential.Load(path, backend, out var meta);
        var kept = meta.Where(kv => kv.Key.StartsWith("gpunet.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);
        model.ExportOnnx(onnxPath, kept);

        string what = model.Loss switch
        {
            Losses.MeanSquaredError => "values",
            { FromLogits: true } => "logits",
            _ => "probabilities",
        };
        output.WriteLine($"Exported {path} to {onnxPath} ({new FileInfo(onnxPath).Length:N0} bytes, ONNX opset {Sequential.OnnxOpset}): " +
                         $"input 'input' [batch, {model.InputSize}], output 'output' [batch, {model.OutputSize}] ({what})");
        if (kept.ContainsKey(PredictCommand.PreprocessorKey))
            output.WriteLine($"The file takes encoded features: its metadata '{PredictCommand.PreprocessorKey}' holds the CSV preprocessing " +
                             "(fill values, categories, scaling) to apply to raw rows first (docs/datasets.md).");
        return 0;
    }
}

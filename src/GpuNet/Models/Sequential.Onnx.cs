using Google.Protobuf;

namespace GpuNet.Models;

public sealed partial class Sequential
{
    /// <summary>The ONNX operator set <see cref="ExportOnnx"/> writes.</summary>
    public const int OnnxOpset = OnnxExporter.Opset;

    /// <summary>
    /// Writes the model in inference form as an <see href="https://onnx.ai">ONNX</see> file (opset 13), which ONNX Runtime,
    /// TensorRT, OpenVINO, Netron and others read: one input <c>input</c> [batch, InputSize] (or [batch, d1, ..., dk] for a
    /// model whose <see cref="InputShape"/> has several dimensions) and one output <c>output</c>
    /// [batch, outputs], float32, with a symbolic batch dimension. A functional model with several inputs has the same one
    /// input, of their values side by side (as Predict takes them), which Slice nodes split. The file computes what <see cref="Predict"/> returns
    /// (probabilities, or logits for a from-logits loss, or values for regression): dropout passes inputs through, batch
    /// normalization uses its moving statistics, and a normalization layer's adapted statistics are in the file.
    /// </summary>
    /// <remarks>
    /// Weights keep their GpuNet names (<c>dense_1/kernel</c>, In x Units, as Gemm's B). <paramref name="metadata"/> goes to the
    /// model's <c>metadata_props</c>: the command line puts a CSV model's preprocessing there (its JSON, under
    /// <c>gpunet.preprocessor</c>), since the file takes encoded features, not CSV rows. The file is written atomically
    /// (a temporary file, then a rename).
    /// </remarks>
    /// <param name="path">The file to write, usually <c>model.onnx</c>.</param>
    /// <param name="metadata">String pairs to store in the file (e.g. what data the model was trained on).</param>
    /// <exception cref="InvalidOperationException">The model has no weights yet (it was never fitted, evaluated or loaded).</exception>
    /// <exception cref="NotSupportedException">A layer has no ONNX form (every built-in layer has one).</exception>
    /// <exception cref="IOException">The folder does not exist or the file cannot be written (an existing file is left as it was).</exception>
    public void ExportOnnx(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        RequireWeights("exporting it to ONNX");
        string doc = $"GpuNet Sequential: {string.Join(" -> ", _layers.Select(l => $"{l.Name} ({l.TypeName})"))}; input: {_builtShape!.WithBatch()}" +
                     (Loss is { FromLogits: true } ? "; output: logits (apply softmax or sigmoid for probabilities)" : "");
        var model = OnnxExporter.Export(_graph!, _input!, _prediction!, metadata ?? new Dictionary<string, string>(), doc);
        AtomicFile.Write(path, stream => model.WriteTo(stream));
    }
}

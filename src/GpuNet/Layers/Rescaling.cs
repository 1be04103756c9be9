using System.Text.Json.Nodes;
using GpuNet.Graph;

namespace GpuNet.Layers;

/// <summary>
/// Keras' Rescaling: y = x scale + offset, element-wise, e.g. <c>new Rescaling(1f / 255)</c> to bring raw pixels to
/// [0, 1] inside the model, or <c>new Rescaling(1f / 127.5f, -1f)</c> to [-1, 1]: the lecture's scaling, saved with the model.
/// </summary>
public sealed class Rescaling : Layer
{
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="scale"/> or <paramref name="offset"/> is not finite, or scale is 0.</exception>
    public Rescaling(float scale, float offset = 0f, string? name = null) : base(name)
    {
        if (!float.IsFinite(scale) || scale == 0f)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"Rescaling needs a finite, non-zero scale; received scale={scale}. For pixels in 0..255 use 1f / 255.");
        if (!float.IsFinite(offset))
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Rescaling needs a finite offset; received offset={offset}.");
        Scale = scale;
        Offset = offset;
    }

    public float Scale { get; }
    public float Offset { get; }

    public override string TypeName => "Rescaling";
    public override int OutputSize(int inputSize) => inputSize;

    /// <summary>The input's shape: rescaling is element-wise.</summary>
    public override Shape OutputShape(Shape inputShape) => inputShape;
    public override long ParameterCount(int inputSize) => 0;

    /// <summary>Keras' <c>get_config</c>: scale and offset.</summary>
    public override JsonObject GetConfig() => new() { ["scale"] = Scale, ["offset"] = Offset };

    internal static Rescaling FromConfig(JsonObject c, string name, LayerLoading loading) =>
        new(c["scale"]!.GetValue<float>(), c["offset"]!.GetValue<float>(), name);

    internal override Tensor Build(ComputationGraph graph, Tensor input, BuildContext context)
    {
        // a per-column affine map with every column's scale and shift the same (its backward is dx = dy scale)
        var node = graph.Add(new ColumnAffineNode(graph, NodeName, input));
        context.AfterSeal.Add(() =>
        {
            graph.Backend.Fill(node.ScaleBuffer, Scale);
            graph.Backend.Fill(node.ShiftBuffer, Offset);
        });
        return node.Output;
    }
}

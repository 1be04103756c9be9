using System.Text.Json.Nodes;
using GpuNet.Graph;

namespace GpuNet.Layers;

/// <summary>
/// Flattens each sample to one dimension, as Keras' Flatten: (None, 28, 28) becomes (None, 784). The values and their
/// order do not change (a view of the input, no device work), so a Flatten model trains exactly as the same model on
/// flat rows.
/// </summary>
/// <example>
/// <code>
/// var model = new Sequential(new Flatten(inputShape: [28, 28]), new Dense(128, "relu"), new Dense(10, "softmax"));
/// </code>
/// </example>
public sealed class Flatten : Layer
{
    /// <param name="inputShape">The shape of one input sample when this is the model's first layer (Keras' <c>input_shape</c>),
    /// e.g. [28, 28]; see <see cref="Layer.InputShape"/>.</param>
    /// <param name="name">The layer's name; "flatten_N" when null.</param>
    /// <exception cref="ArgumentException"><paramref name="inputShape"/> is empty or has a dimension below 1.</exception>
    public Flatten(int[]? inputShape = null, string? name = null) : base(name)
    {
        if (inputShape is not null) InputShape = new Shape(inputShape);
    }

    public override string TypeName => "Flatten";

    /// <summary>Keras' <c>get_config</c>: nothing (the declared input shape is saved for every layer).</summary>
    public override JsonObject GetConfig() => [];

    internal static Flatten FromConfig(JsonObject c, string name, LayerLoading loading) => new(name: name);

    public override int OutputSize(int inputSize) => inputSize;

    /// <summary>(d1 ... dk): one dimension of the input's size.</summary>
    public override Shape OutputShape(Shape inputShape) => inputShape.Flatten();

    public override long ParameterCount(int inputSize) => 0;

    internal override Tensor Build(ComputationGraph graph, Tensor input, BuildContext context) =>
        graph.Flatten(input);
}

/// <summary>
/// Gives each sample the shape <see cref="TargetShape"/>, as Keras' Reshape: (None, 784) with target (28, 28) becomes
/// (None, 28, 28). One dimension may be -1, inferred from the input's size. The values and their order do not change (a
/// view of the input, no device work).
/// </summary>
public sealed class Reshape : Layer
{
    private readonly int[] _targetShape;

    /// <param name="targetShape">The shape of one output sample, batch not included; one dimension may be -1.</param>
    /// <param name="inputShape">The shape of one input sample when this is the model's first layer; see <see cref="Layer.InputShape"/>.</param>
    /// <param name="name">The layer's name; "reshape_N" when null.</param>
    /// <exception cref="ArgumentException">The target is empty, has a dimension of 0 or below -1, or more than one -1.</exception>
    public Reshape(int[] targetShape, int[]? inputShape = null, string? name = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(targetShape);
        string given = $"({string.Join(", ", targetShape)})";
        if (targetShape.Length == 0)
            throw new ArgumentException("Reshape needs a target shape of at least one dimension, e.g. new Reshape([28, 28]).", nameof(targetShape));
        if (targetShape.Any(d => d == 0 || d < -1))
            throw new ArgumentException($"Reshape's target dimensions must be at least 1, or -1 for one inferred dimension. Received: target_shape={given}.", nameof(targetShape));
        if (targetShape.Count(d => d == -1) > 1)
            throw new ArgumentException($"Reshape's target shape can infer only one dimension (-1). Received: target_shape={given}.", nameof(targetShape));
        _targetShape = [.. targetShape];
        if (inputShape is not null) InputShape = new Shape(inputShape);
    }

    /// <summary>The requested shape of one sample, as given (-1 where a dimension is inferred).</summary>
    public IReadOnlyList<int> TargetShape => _targetShape;

    public override string TypeName => "Reshape";

    /// <summary>Keras' <c>get_config</c>: the target shape.</summary>
    public override JsonObject GetConfig() => new() { ["target_shape"] = new JsonArray([.. TargetShape.Select(d => (JsonNode)d)]) };

    internal static Reshape FromConfig(JsonObject c, string name, LayerLoading loading) =>
        new([.. c["target_shape"]!.AsArray().Select(d => d!.GetValue<int>())], name: name);

    /// <exception cref="ArgumentException">No shape of <see cref="TargetShape"/> has <paramref name="inputSize"/> values.</exception>
    public override int OutputSize(int inputSize) => new Shape(inputSize).Reshape(_targetShape).Size;

    /// <summary><see cref="TargetShape"/>, with its -1 inferred from the input's size.</summary>
    /// <exception cref="ArgumentException">The sizes differ; the message names both shapes.</exception>
    public override Shape OutputShape(Shape inputShape) => inputShape.Reshape(_targetShape);

    public override long ParameterCount(int inputSize) => 0;

    internal override Tensor Build(ComputationGraph graph, Tensor input, BuildContext context) =>
        graph.Reshape(input, _targetShape);
}

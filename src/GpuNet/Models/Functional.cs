using System.Text.Json.Nodes;
using GpuNet.Graph;
using GpuNet.Layers;

namespace GpuNet.Models;

/// <summary>
/// A tensor of a model under construction with the functional API (Keras' KerasTensor): the model's input, or what a
/// layer (<see cref="Layer.Apply"/>), <see cref="Functional.Add"/> or <see cref="Functional.Concatenate"/> makes of others.
/// It holds no values; <see cref="Functional.Model"/> turns the graph of them into a model.
/// </summary>
public sealed class SymbolicTensor
{
    internal SymbolicTensor(Shape shape, SymbolicKind kind, Layer? layer, IReadOnlyList<SymbolicTensor> inputs)
    {
        Shape = shape;
        Kind = kind;
        Layer = layer;
        Inputs = inputs;
    }

    /// <summary>Values per sample (the width of a row): <see cref="Shape"/>.Size.</summary>
    public int Features => Shape.Size;

    /// <summary>The shape of one sample, batch not included: (784), or (28, 28) for an image.</summary>
    public Shape Shape { get; }

    internal SymbolicKind Kind { get; }

    /// <summary>The layer that makes this tensor (null for the input and the merges).</summary>
    internal Layer? Layer { get; }

    internal IReadOnlyList<SymbolicTensor> Inputs { get; }

    public override string ToString() => $"SymbolicTensor{Shape.WithBatch()}{(Layer is null ? "" : $" from {Layer.Name}")}";
}

internal enum SymbolicKind { Input, Layer, Add, Concatenate }

/// <summary>
/// Keras' functional API: models that are graphs of layers, not only stacks: branches, a residual add, a concatenation.
/// </summary>
/// <example>
/// <code>
/// var x = Functional.Input(784);                           // or Functional.Input(28, 28) then new Flatten().Apply(x)
/// var h = new Dense(128, "relu").Apply(x);
/// var a = new Dense(64, "relu").Apply(h);                    // two branches from h
/// var b = new Dense(64, "tanh").Apply(h);
/// var joined = Functional.Concatenate(a, b);                 // 128 features
/// var y = new Dense(10, "softmax").Apply(Functional.Add(joined, h)); // a residual connection
/// using var model = Functional.Model(x, y);                  // compile, fit, evaluate, save as any model
/// </code>
/// </example>
public static class Functional
{
    /// <summary>
    /// The model's input: samples of <paramref name="shape"/>, batch not included (Keras' <c>Input(shape=...)</c>):
    /// <c>Input(784)</c> for rows of 784 features, <c>Input(28, 28)</c> for images (then a <see cref="Flatten"/>, or a Dense on the last axis).
    /// </summary>
    /// <exception cref="ArgumentException">No dimension, or one below 1.</exception>
    public static SymbolicTensor Input(params int[] shape) => new(new Shape(shape), SymbolicKind.Input, null, []);

    /// <summary>a + b element-wise (Keras' <c>layers.Add</c>), as a residual connection; both have the same shape.</summary>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static SymbolicTensor Add(SymbolicTensor a, SymbolicTensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Shape != b.Shape)
            throw new ArgumentException(a.Shape.Rank == 1 && b.Shape.Rank == 1
                ? $"Add needs tensors of the same width; received {a.Features} and {b.Features} features. Concatenate joins different widths."
                : $"Add needs tensors of the same shape; received {a.Shape.WithBatch()} and {b.Shape.WithBatch()}.");
        return new SymbolicTensor(a.Shape, SymbolicKind.Add, null, [a, b]);
    }

    /// <summary>[a, b] side by side (Keras' <c>layers.Concatenate</c> on the feature axis): a.Features + b.Features wide.</summary>
    /// <exception cref="ArgumentException">An input has more than one dimension (flatten it first).</exception>
    public static SymbolicTensor Concatenate(SymbolicTensor a, SymbolicTensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Shape.Rank != 1 || b.Shape.Rank != 1)
            throw new ArgumentException(
                $"Concatenate joins flat rows (None, features); received {a.Shape.WithBatch()} and {b.Shape.WithBatch()}. Apply a Flatten to each first.");
        return new SymbolicTensor(new Shape(a.Features + b.Features), SymbolicKind.Concatenate, null, [a, b]);
    }

    /// <summary>
    /// The model from <paramref name="input"/> to <paramref name="output"/> (Keras' <c>Model(inputs, outputs)</c>): a
    /// <see cref="Sequential"/> whose one layer is the graph, so it compiles, fits, evaluates, predicts, freezes layers
    /// (by their names), saves and loads as any model. Its summary lists every layer with the layers it is connected to.
    /// </summary>
    /// <exception cref="ArgumentException">The output does not depend on the input, or a layer is applied twice.</exception>
    public static Sequential Model(SymbolicTensor input, SymbolicTensor output, string? name = null) =>
        new(new FunctionalBlock(input, output, name));
}

/// <summary>
/// The graph of a functional model as one layer of a <see cref="Sequential"/>: it builds its layers in topological order,
/// each on the graph tensors of its inputs, and the merges as autograd operations (AddNode, ConcatNode).
/// </summary>
internal sealed class FunctionalBlock : Layer
{
    private readonly SymbolicTensor[] _order; // topological: the input first, the output last

    public FunctionalBlock(SymbolicTensor input, SymbolicTensor output, string? name) : base(name)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        if (input.Kind != SymbolicKind.Input)
            throw new ArgumentException("The model's input must come from Functional.Input(features).", nameof(input));
        var order = new List<SymbolicTensor>();
        var state = new Dictionary<SymbolicTensor, bool>(ReferenceEqualityComparer.Instance); // false: visiting, true: done
        void Visit(SymbolicTensor t)
        {
            if (state.TryGetValue(t, out bool done))
            {
                if (!done) throw new ArgumentException("The layers form a cycle.", nameof(output));
                return;
            }
            if (t.Kind == SymbolicKind.Input && !ReferenceEquals(t, input))
                throw new ArgumentException($"The output depends on another input ({t.Shape.WithBatch()}) than the model's; a model here has one input.", nameof(output));
            state[t] = false;
            foreach (var i in t.Inputs) Visit(i);
            state[t] = true;
            order.Add(t);
        }
        Visit(output);
        if (!ReferenceEquals(order[0], input))
            throw new ArgumentException("The output does not depend on the model's input: connect it with Layer.Apply(input).", nameof(output));
        var layers = order.Where(t => t.Layer is not null).Select(t => t.Layer!).ToList();
        if (layers.Distinct(ReferenceEqualityComparer.Instance).Count() != layers.Count)
            throw new ArgumentException("A layer is applied twice; shared layers are not supported: create one layer per use.", nameof(output));
        if (layers.Select(l => l.Name).Distinct().Count() != layers.Count)
            throw new ArgumentException($"Two layers share a name ({string.Join(", ", layers.GroupBy(l => l.Name).Where(g => g.Count() > 1).Select(g => g.Key))}); names identify their weights.", nameof(output));
        _order = [.. order];
        Input = input;
        Output = output;
    }

    public SymbolicTensor Input { get; }
    public SymbolicTensor Output { get; }

    /// <summary>The layers, in the order they are built.</summary>
    public IEnumerable<Layer> Inner => _order.Where(t => t.Layer is not null).Select(t => t.Layer!);

    public override string TypeName => "Functional";

    public override Activation? OutputActivation => Output.Layer?.OutputActivation;

    public override int OutputSize(int inputSize)
    {
        RequireWidth(inputSize);
        return Output.Features;
    }

    /// <summary>The output's shape; the input must have the model's input size (a flat row of that size takes its shape).</summary>
    public override Shape OutputShape(Shape inputShape)
    {
        RequireWidth(inputShape.Size);
        return Output.Shape;
    }

    public override long ParameterCount(int inputSize)
    {
        RequireWidth(inputSize);
        return _order.Where(t => t.Layer is not null).Sum(t => t.Layer!.ParameterCount(t.Inputs[0].Shape));
    }

    public override int StatisticCount(int inputSize)
    {
        RequireWidth(inputSize);
        return _order.Where(t => t.Layer is not null).Sum(t => t.Layer!.StatisticCount(t.Inputs[0].Shape));
    }

    internal override IEnumerable<LayerWeight> BuiltWeights => Inner.SelectMany(l => l.BuiltWeights);

    /// <summary>The type shown for a node without a layer: the input or a merge.</summary>
    public static string NodeType(SymbolicTensor t) => t.Kind switch
    {
        SymbolicKind.Input => "InputLayer",
        SymbolicKind.Add => "Add",
        SymbolicKind.Concatenate => "Concatenate",
        _ => t.Layer!.TypeName,
    };

    /// <summary>Each layer's inputs, by name ("input" for the model's input, "add_3" and the like for the merges).</summary>
    public IReadOnlyList<(SymbolicTensor Tensor, string Name, IReadOnlyList<string> ConnectedTo)> Nodes()
    {
        var names = new Dictionary<SymbolicTensor, string>(ReferenceEqualityComparer.Instance);
        var nodes = new List<(SymbolicTensor, string, IReadOnlyList<string>)>();
        int merges = 0;
        foreach (var t in _order)
        {
            string name = t.Kind switch
            {
                SymbolicKind.Input => "input",
                SymbolicKind.Layer => t.Layer!.Name,
                SymbolicKind.Add => $"add_{++merges}",
                _ => $"concatenate_{++merges}",
            };
            names[t] = name;
            nodes.Add((t, name, [.. t.Inputs.Select(i => names[i])]));
        }
        return nodes;
    }

    internal override Tensor Build(ComputationGraph graph, Tensor input, BuildContext context)
    {
        RequireWidth(input.Cols);
        if (input.Shape != Input.Shape) input = graph.Reshape(input, Input.Shape.ToArray()); // a flat row of the right size
        var values = new Dictionary<SymbolicTensor, Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var t in _order)
            values[t] = t.Kind switch
            {
                SymbolicKind.Input => input,
                SymbolicKind.Layer => t.Layer!.BuildShaped(graph, values[t.Inputs[0]], context),
                SymbolicKind.Add => graph.Add(values[t.Inputs[0]], values[t.Inputs[1]]),
                _ => graph.Concatenate(values[t.Inputs[0]], values[t.Inputs[1]]),
            };
        return values[Output];
    }

    /// <summary>The graph as JSON: each node's kind, its inputs (indices of earlier nodes) and a layer's own config.</summary>
    internal JsonObject ToConfig(Func<Layer, JsonObject> layerConfig)
    {
        var index = new Dictionary<SymbolicTensor, int>(ReferenceEqualityComparer.Instance);
        var nodes = new JsonArray();
        foreach (var t in _order)
        {
            index[t] = index.Count;
            var node = new JsonObject
            {
                ["kind"] = t.Kind.ToString(),
                ["features"] = t.Features,
                ["shape"] = new JsonArray([.. t.Shape.Select(d => (JsonNode)d)]),
                ["inputs"] = new JsonArray([.. t.Inputs.Select(i => (JsonNode)index[i])]),
            };
            if (t.Layer is not null) node["layer"] = layerConfig(t.Layer);
            nodes.Add(node);
        }
        return new JsonObject { ["nodes"] = nodes };
    }

    /// <summary>Keras' <c>get_config</c> of a functional model: its graph of nodes, each layer with its own config.</summary>
    public override JsonObject GetConfig() => new() { ["config"] = ToConfig(LayerConfigs.ToConfig) };

    internal static FunctionalBlock FromConfig(JsonObject c, string name, LayerLoading loading) =>
        FromConfig(c["config"]!.AsObject(), name, loading.Load);

    /// <summary>The block saved by <see cref="ToConfig"/>, its layers made by <paramref name="layerFromConfig"/>.</summary>
    internal static FunctionalBlock FromConfig(JsonObject config, string name, Func<JsonObject, Layer> layerFromConfig)
    {
        var made = new List<SymbolicTensor>();
        foreach (var node in config["nodes"]!.AsArray().Select(n => n!.AsObject()))
        {
            var inputs = node["inputs"]!.AsArray().Select(i => made[i!.GetValue<int>()]).ToArray();
            made.Add(Enum.Parse<SymbolicKind>(node["kind"]!.GetValue<string>()) switch
            {
                // files from before shapes have only the width
                SymbolicKind.Input => node["shape"] is JsonArray shape
                    ? Functional.Input([.. shape.Select(d => d!.GetValue<int>())])
                    : Functional.Input(node["features"]!.GetValue<int>()),
                SymbolicKind.Layer => layerFromConfig(node["layer"]!.AsObject()).Apply(inputs[0]),
                SymbolicKind.Add => Functional.Add(inputs[0], inputs[1]),
                _ => Functional.Concatenate(inputs[0], inputs[1]),
            });
        }
        return new FunctionalBlock(made[0], made[^1], name);
    }

    private void RequireWidth(int inputSize)
    {
        if (inputSize != Input.Features)
            throw new ArgumentException($"Functional model '{Name}' takes {Input.Features} values per sample (its Input, {Input.Shape.WithBatch()}), but received {inputSize}.");
    }
}

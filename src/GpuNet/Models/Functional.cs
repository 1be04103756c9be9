using System.Text.Json.Nodes;
using GpuNet.Graph;
using GpuNet.Layers;

namespace GpuNet.Models;

/// <summary>
/// A tensor of a model under construction with the functional API (Keras' KerasTensor): the model's input, or what a
/// layer (<see cref="Layer.Apply"/>), <see cref="Functional.Add"/> or <see cref="Functional.Concatenate"/> makes of others.
/// It holds no values; <see cref="Functional.Model(SymbolicTensor[], SymbolicTensor, string?)"/> turns the graph of them into a model.
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
/// Keras' functional API: models that are graphs of layers, not only stacks: branches, a residual add, a concatenation,
/// several inputs, and layers shared between branches.
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
/// Two inputs through one shared layer (a Siamese model); the model's rows are the two inputs side by side:
/// <code>
/// var left = Functional.Input(6); var right = Functional.Input(6);
/// var encoder = new Dense(16, "relu");                       // one kernel and bias ...
/// var pair = Functional.Concatenate(encoder.Apply(left), encoder.Apply(right)); // ... used twice
/// using var siamese = Functional.Model([left, right], new Dense(1, "sigmoid").Apply(pair));
/// siamese.Predict(Dataset.JoinFeatures((leftRows, 6), (rightRows, 6)));
/// </code>
/// </example>
public static class Functional
{
    /// <summary>
    /// A model input: samples of <paramref name="shape"/>, batch not included (Keras' <c>Input(shape=...)</c>):
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
    /// A layer applied more than once is shared: one set of weights, used by every application.
    /// </summary>
    /// <exception cref="ArgumentException">The output does not depend on the input, depends on another input, or applies
    /// a layer that cannot be shared (batch or adapted normalization) more than once.</exception>
    public static Sequential Model(SymbolicTensor input, SymbolicTensor output, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new(new FunctionalBlock([input], output, name));
    }

    /// <summary>
    /// The model from several <paramref name="inputs"/> to <paramref name="output"/> (Keras' <c>Model([x1, x2], y)</c>).
    /// The model takes one row per sample: the inputs' values side by side, in the order given (input 0's features, then
    /// input 1's ...), so a <see cref="Data.Dataset"/>'s features and <see cref="Sequential.Predict"/>'s rows are that
    /// concatenation; <see cref="Data.Dataset.JoinFeatures"/> builds them from one array per input. Inside, each input is
    /// its block of columns of the row, in its own shape. The ONNX export has the same one input.
    /// </summary>
    /// <exception cref="ArgumentException">No inputs; an input given twice or not made by <see cref="Input"/>; an input the
    /// output does not depend on; an output that depends on an input not in the list; a layer that cannot be shared applied
    /// more than once. The message says what to change.</exception>
    public static Sequential Model(SymbolicTensor[] inputs, SymbolicTensor output, string? name = null) =>
        new(new FunctionalBlock(inputs, output, name));
}

/// <summary>One node of a functional model as its summary and diagram show it.</summary>
/// <param name="Name">"input" (or "input_1", "input_2" ... for several inputs), a layer's name ("name[1]" for the second
/// application of a shared layer, "name[2]" for the third ...), "add_3" and the like for the merges.</param>
/// <param name="ConnectedTo">The names of the nodes it reads.</param>
/// <param name="Application">For a layer's node, which application of the layer it is (0: the first, which owns the weights).</param>
internal sealed record FunctionalNode(SymbolicTensor Tensor, string Name, IReadOnlyList<string> ConnectedTo, int Application);

/// <summary>
/// The graph of a functional model as one layer of a <see cref="Sequential"/>: it builds its layers in topological order,
/// each on the graph tensors of its inputs, and the merges as autograd operations (AddNode, ConcatNode). With several
/// inputs the model's input row is their values side by side, and each input is a SliceColumnsNode of it (reshaped to the
/// input's shape). A layer applied more than once builds its weights at its first application; the later ones add nodes
/// that use the same parameters, so the gradients of every use add up in them.
/// </summary>
internal sealed class FunctionalBlock : Layer
{
    private readonly SymbolicTensor[] _inputs;
    private readonly SymbolicTensor[] _order; // topological: the inputs first (in the order given), the output last

    public FunctionalBlock(IReadOnlyList<SymbolicTensor> inputs, SymbolicTensor output, string? name) : base(name)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(output);
        if (inputs.Count == 0)
            throw new ArgumentException("A model needs at least one input: Functional.Model([x], y) with x = Functional.Input(features).", nameof(inputs));
        bool several = inputs.Count > 1;
        var position = new Dictionary<SymbolicTensor, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"Input {i} of the model is null.");
            if (input.Kind != SymbolicKind.Input)
                throw new ArgumentException(several
                    ? $"Input {i} of the model ({input}) is not a model input: every input must come from Functional.Input(shape)."
                    : "The model's input must come from Functional.Input(features).", nameof(inputs));
            if (!position.TryAdd(input, i))
                throw new ArgumentException(
                    $"Inputs {position[input]} and {i} of the model are the same tensor {input.Shape.WithBatch()}: give each input once. " +
                    "For two inputs of the same shape, make two: Functional.Input(...) for each.", nameof(inputs));
        }
        var order = new List<SymbolicTensor>(inputs);
        var state = new Dictionary<SymbolicTensor, bool>(ReferenceEqualityComparer.Instance); // false: visiting, true: done
        void Visit(SymbolicTensor t)
        {
            if (state.TryGetValue(t, out bool done))
            {
                if (!done) throw new ArgumentException("The layers form a cycle.", nameof(output));
                return;
            }
            if (t.Kind == SymbolicKind.Input && !position.ContainsKey(t))
                throw new ArgumentException(several
                    ? $"The output depends on another input ({t.Shape.WithBatch()}) than the model's {inputs.Count}: add it to the inputs, Functional.Model([..., thatInput], output)."
                    : $"The output depends on another input ({t.Shape.WithBatch()}) than the model's: pass every input it uses, Functional.Model([input, thatInput], output).",
                    nameof(output));
            state[t] = false;
            foreach (var i in t.Inputs) Visit(i);
            state[t] = true;
            if (t.Kind != SymbolicKind.Input) order.Add(t); // the inputs are already first
        }
        Visit(output);
        for (int i = 0; i < inputs.Count; i++)
            if (!state.ContainsKey(inputs[i]))
                throw new ArgumentException(several
                    ? $"Input {i} of the model ({inputs[i].Shape.WithBatch()}) does not reach the output: connect it with Layer.Apply, Functional.Add or Functional.Concatenate, or leave it out of the inputs."
                    : "The output does not depend on the model's input: connect it with Layer.Apply(input).", nameof(output));

        // a layer applied more than once is shared: every later application must take what its first one built
        var uses = order.Where(t => t.Layer is not null).GroupBy<SymbolicTensor, Layer>(t => t.Layer!, ReferenceEqualityComparer.Instance).ToList();
        foreach (var use in uses)
        {
            var layer = use.Key;
            var first = use.First().Inputs[0].Shape;
            foreach (var later in use.Skip(1))
                if (layer.SharingRefusal(first, later.Inputs[0].Shape) is { } why)
                    throw new ArgumentException(
                        $"Layer '{layer.Name}' ({layer.TypeName}) is applied {use.Count()} times: {why}. Create one layer per use instead of applying the same one again.",
                        nameof(output));
        }
        var layers = uses.Select(u => u.Key).ToList();
        if (layers.Select(l => l.Name).Distinct().Count() != layers.Count)
            throw new ArgumentException($"Two layers share a name ({string.Join(", ", layers.GroupBy(l => l.Name).Where(g => g.Count() > 1).Select(g => g.Key))}); names identify their weights.", nameof(output));
        _inputs = [.. inputs];
        _order = [.. order];
        Output = output;
        ModelInputShape = several ? new Shape(inputs.Sum(t => t.Features)) : inputs[0].Shape;
    }

    /// <summary>The model's inputs, in the order their values stand side by side in the model's input row.</summary>
    public IReadOnlyList<SymbolicTensor> Inputs => _inputs;

    public SymbolicTensor Output { get; }

    /// <summary>The shape of the model's input row: the one input's shape, or a flat row of every input's values side by side.</summary>
    public Shape ModelInputShape { get; }

    /// <summary>The layers, in the order they are built (a shared layer once, at its first application).</summary>
    public IEnumerable<Layer> Inner => _order.Where(t => t.Layer is not null).Select(t => t.Layer!).Distinct<Layer>(ReferenceEqualityComparer.Instance);

    // each layer with the input shape of its first application (the one that creates its weights)
    private IEnumerable<(Layer Layer, Shape Input)> FirstApplications =>
        _order.Where(t => t.Layer is not null).DistinctBy<SymbolicTensor, Layer>(t => t.Layer!, ReferenceEqualityComparer.Instance).Select(t => (t.Layer!, t.Inputs[0].Shape));

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

    /// <summary>Every layer's weights, a shared layer's once (Keras counts them once).</summary>
    public override long ParameterCount(int inputSize)
    {
        RequireWidth(inputSize);
        return FirstApplications.Sum(a => a.Layer.ParameterCount(a.Input));
    }

    public override int StatisticCount(int inputSize)
    {
        RequireWidth(inputSize);
        return FirstApplications.Sum(a => a.Layer.StatisticCount(a.Input));
    }

    internal override IEnumerable<LayerWeight> BuiltWeights => Inner.SelectMany(l => l.BuiltWeights);

    /// <summary>The type shown for a node without a layer: an input or a merge.</summary>
    public static string NodeType(SymbolicTensor t) => t.Kind switch
    {
        SymbolicKind.Input => "InputLayer",
        SymbolicKind.Add => "Add",
        SymbolicKind.Concatenate => "Concatenate",
        _ => t.Layer!.TypeName,
    };

    /// <summary>The name of input <paramref name="index"/>: "input" for a model's only input, else "input_1", "input_2" ...</summary>
    private string InputName(int index) => _inputs.Length == 1 ? "input" : $"input_{index + 1}";

    /// <summary>Every node in build order, with its name and the names of the nodes it reads.</summary>
    public IReadOnlyList<FunctionalNode> Nodes()
    {
        var names = new Dictionary<SymbolicTensor, string>(ReferenceEqualityComparer.Instance);
        var applications = new Dictionary<Layer, int>(ReferenceEqualityComparer.Instance);
        var nodes = new List<FunctionalNode>();
        int merges = 0;
        foreach (var t in _order)
        {
            int application = 0;
            if (t.Layer is { } layer)
            {
                application = applications.GetValueOrDefault(layer);
                applications[layer] = application + 1;
            }
            string name = t.Kind switch
            {
                SymbolicKind.Input => InputName(Array.IndexOf(_inputs, t)),
                SymbolicKind.Layer => application == 0 ? t.Layer!.Name : $"{t.Layer!.Name}[{application}]",
                SymbolicKind.Add => $"add_{++merges}",
                _ => $"concatenate_{++merges}",
            };
            names[t] = name;
            nodes.Add(new FunctionalNode(t, name, [.. t.Inputs.Select(i => names[i])], application));
        }
        return nodes;
    }

    internal override Tensor Build(ComputationGraph graph, Tensor input, BuildContext context)
    {
        RequireWidth(input.Cols);
        var values = new Dictionary<SymbolicTensor, Tensor>(ReferenceEqualityComparer.Instance);
        if (_inputs.Length == 1)
            values[_inputs[0]] = input.Shape == _inputs[0].Shape ? input : graph.Reshape(input, _inputs[0].Shape.ToArray()); // a flat row of the right size
        else
        {
            // each input is its block of the row's columns, in its own shape
            int offset = 0;
            for (int i = 0; i < _inputs.Length; i++)
            {
                var t = _inputs[i];
                var part = graph.Add(new SliceColumnsNode(graph, InputName(i), input, offset, t.Features)).Output;
                values[t] = t.Shape.Rank == 1 ? part : graph.Reshape(part, t.Shape.ToArray());
                offset += t.Features;
            }
        }
        var applications = new Dictionary<Layer, int>(ReferenceEqualityComparer.Instance);
        foreach (var t in _order)
        {
            if (t.Kind == SymbolicKind.Input) continue;
            if (t.Layer is { } layer)
            {
                int application = applications.GetValueOrDefault(layer);
                applications[layer] = application + 1;
                values[t] = layer.BuildShaped(graph, values[t.Inputs[0]], context, application);
            }
            else
                values[t] = t.Kind == SymbolicKind.Add
                    ? graph.Add(values[t.Inputs[0]], values[t.Inputs[1]])
                    : graph.Concatenate(values[t.Inputs[0]], values[t.Inputs[1]]);
        }
        return values[Output];
    }

    /// <summary>
    /// The graph as JSON: each node's kind, its inputs (indices of earlier nodes) and a layer's own config, or, for a shared
    /// layer's later application, the index of the node of its first one ("same_layer_as"); and the model's inputs
    /// ("input_nodes", the first nodes, in order).
    /// </summary>
    internal JsonObject ToConfig(Func<Layer, JsonObject> layerConfig)
    {
        var index = new Dictionary<SymbolicTensor, int>(ReferenceEqualityComparer.Instance);
        var firstUse = new Dictionary<Layer, int>(ReferenceEqualityComparer.Instance);
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
            if (t.Layer is { } layer)
            {
                if (firstUse.TryGetValue(layer, out int first)) node["same_layer_as"] = first;
                else
                {
                    firstUse[layer] = index[t];
                    node["layer"] = layerConfig(layer);
                }
            }
            nodes.Add(node);
        }
        return new JsonObject
        {
            ["nodes"] = nodes,
            ["input_nodes"] = new JsonArray([.. _inputs.Select(i => (JsonNode)index[i])]),
        };
    }

    /// <summary>Keras' <c>get_config</c> of a functional model: its graph of nodes, each layer with its own config.</summary>
    public override JsonObject GetConfig() => new() { ["config"] = ToConfig(LayerConfigs.ToConfig) };

    internal static FunctionalBlock FromConfig(JsonObject c, string name, LayerLoading loading) =>
        FromConfig(c["config"]!.AsObject(), name, loading.Load);

    /// <summary>The block saved by <see cref="ToConfig"/>, its layers made by <paramref name="layerFromConfig"/>.</summary>
    /// <remarks>Files from before several inputs have no "input_nodes": their one input is node 0.</remarks>
    /// <exception cref="InvalidDataException">A node refers to a node that is not before it, or "same_layer_as" to one without a layer.</exception>
    internal static FunctionalBlock FromConfig(JsonObject config, string name, Func<JsonObject, Layer> layerFromConfig)
    {
        var made = new List<SymbolicTensor>();
        SymbolicTensor Earlier(JsonNode? i, string what)
        {
            int n = i!.GetValue<int>();
            return n >= 0 && n < made.Count ? made[n]
                : throw new InvalidDataException($"Functional model '{name}': {what} {n} is not one of the nodes before it (0 to {made.Count - 1}).");
        }
        foreach (var node in config["nodes"]!.AsArray().Select(n => n!.AsObject()))
        {
            var inputs = node["inputs"]!.AsArray().Select(i => Earlier(i, "input node")).ToArray();
            made.Add(Enum.Parse<SymbolicKind>(node["kind"]!.GetValue<string>()) switch
            {
                // files from before shapes have only the width
                SymbolicKind.Input => node["shape"] is JsonArray shape
                    ? Functional.Input([.. shape.Select(d => d!.GetValue<int>())])
                    : Functional.Input(node["features"]!.GetValue<int>()),
                SymbolicKind.Layer => (node["same_layer_as"] is { } same
                        ? Earlier(same, "shared layer's node").Layer ?? throw new InvalidDataException($"Functional model '{name}': node {made.Count} shares the layer of a node that has none.")
                        : layerFromConfig(node["layer"]!.AsObject()))
                    .Apply(inputs[0]),
                SymbolicKind.Add => Functional.Add(inputs[0], inputs[1]),
                _ => Functional.Concatenate(inputs[0], inputs[1]),
            });
        }
        SymbolicTensor[] modelInputs = config["input_nodes"] is JsonArray listed ? [.. listed.Select(i => Earlier(i, "model input node"))] : [made[0]];
        return new FunctionalBlock(modelInputs, made[^1], name);
    }

    private void RequireWidth(int inputSize)
    {
        if (inputSize == ModelInputShape.Size) return;
        throw new ArgumentException(_inputs.Length == 1
            ? $"Functional model '{Name}' takes {ModelInputShape.Size} values per sample (its Input, {ModelInputShape.WithBatch()}), but received {inputSize}."
            : $"Functional model '{Name}' takes {ModelInputShape.Size} values per sample, its {_inputs.Length} inputs side by side " +
              $"({string.Join(", ", _inputs.Select((t, i) => $"{InputName(i)} {t.Shape.WithBatch()}"))}), but received {inputSize}. Join one array per input with Dataset.JoinFeatures.");
    }
}

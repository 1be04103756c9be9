using System.Globalization;
using System.Text;
using GpuNet.Backends;
using GpuNet.Graph;
using GpuNet.Layers;

namespace GpuNet.Models;

public sealed partial class Sequential
{
    /// <summary>Device copies of the frozen layers' weights (<see cref="Layer.Trainable"/> false), put back after every optimizer step.</summary>
    private WeightBackup? _frozen;

    /// <summary>Every layer, those inside a functional model's graph included, in build order.</summary>
    internal IEnumerable<Layer> AllLayers => _layers.SelectMany(l => l is FunctionalBlock f ? f.Inner : [l]);

    /// <summary>The layer named <paramref name="name"/> (Keras' <c>get_layer</c>); in a functional model, one of its graph's.</summary>
    /// <exception cref="KeyNotFoundException">No layer has that name; the message lists the names.</exception>
    public Layer GetLayer(string name) => AllLayers.FirstOrDefault(l => l.Name == name)
        ?? throw new KeyNotFoundException($"The model has no layer named '{name}'. Its layers are: {string.Join(", ", AllLayers.Select(l => l.Name))}.");

    /// <summary>
    /// The weights of the layer named <paramref name="layerName"/>, copied from the device, in Keras' order: a Dense or Maxout
    /// kernel [In, Units] and bias [Units]; batch normalization's gamma, beta, moving mean and moving variance; a normalization
    /// layer's scale and shift. Empty for layers without weights (activation, dropout).
    /// </summary>
    /// <exception cref="KeyNotFoundException">No layer has that name.</exception>
    /// <exception cref="InvalidOperationException">The model has no weights yet (never fitted, evaluated or loaded).</exception>
    public IReadOnlyList<NamedTensor> GetWeights(string layerName)
    {
        var layer = GetLayer(layerName);
        RequireWeights("reading weights");
        return [.. layer.BuiltWeights.Select(w =>
        {
            var data = new float[w.Buffer.Length];
            Backend!.Download(w.Buffer, data);
            return new NamedTensor(w.Name, w.Shape, data);
        })];
    }

    /// <summary>
    /// Replaces the weights of the layer named <paramref name="layerName"/> (Keras' <c>set_weights</c>): one array per
    /// tensor <see cref="GetWeights"/> returns, in the same order, each with as many values as its shape (row-major).
    /// </summary>
    /// <exception cref="KeyNotFoundException">No layer has that name.</exception>
    /// <exception cref="ArgumentException">Wrong number of arrays or of values; the message gives the expected shapes.</exception>
    /// <exception cref="InvalidOperationException">The model has no weights yet.</exception>
    public void SetWeights(string layerName, params float[][] weights)
    {
        var layer = GetLayer(layerName);
        RequireWeights("setting weights");
        var expected = layer.BuiltWeights.ToList();
        string Shapes() => string.Join(", ", expected.Select(w => $"{w.Name} [{string.Join(", ", w.Shape)}]"));
        if (weights.Length != expected.Count)
            throw new ArgumentException($"Layer '{layerName}' has {expected.Count} weight tensors ({Shapes()}) but {weights.Length} arrays were given. Pass one array per tensor, in that order.", nameof(weights));
        for (int i = 0; i < weights.Length; i++)
            if (weights[i] is null || weights[i].Length != expected[i].Buffer.Length)
                throw new ArgumentException(
                    $"Array {i} for '{expected[i].Name}' has {weights[i]?.Length ?? 0} values; its shape [{string.Join(", ", expected[i].Shape)}] needs {expected[i].Buffer.Length}. The layer's tensors: {Shapes()}.",
                    nameof(weights));
        for (int i = 0; i < weights.Length; i++) Backend!.Upload<float>(weights[i], expected[i].Buffer);
    }

    /// <summary>Builds the graph from weights that wait on the host (a re-compiled model); throws when there are none.</summary>
    private void RequireWeights(string what)
    {
        if (InputSize == 0)
            throw new InvalidOperationException($"The model has no weights yet: Fit it (or load a saved one with Sequential.Load) before {what}.");
        EnsureBuilt(InputSize, 256);
    }

    /// <summary>Takes device copies of the frozen layers' weights, to put back after each optimizer step (null when no layer is frozen).</summary>
    private void CaptureFrozenWeights()
    {
        _frozen?.Dispose();
        var frozen = AllLayers.Where(l => !l.Trainable).SelectMany(l => l.BuiltWeights).Select(w => w.Buffer).ToList();
        _frozen = frozen.Count == 0 ? null : new WeightBackup(Backend!, frozen);
        _frozen?.Save();
        // a frozen batch-norm layer trains in inference mode, as in Keras
        foreach (var layer in AllLayers)
            if (layer is BatchNormalization { Node: { } node }) node.SetInferenceMode(Backend!, !layer.Trainable);
    }

    /// <summary>One optimizer update of every parameter, then the frozen layers' weights put back (device work only).</summary>
    internal void UpdateWeights(long iteration, int epoch = 0)
    {
        Optimizer!.Step(_graph!, iteration, epoch);
        _frozen?.Restore();
    }

    /// <summary>
    /// The model as a diagram (Keras' <c>plot_model</c> with shapes): the input, then each layer with its input and output
    /// shapes and parameter counts (statistics and frozen weights marked), for the input shape the model was built for or
    /// declares (<see cref="InputShape"/>), or a flat row of <paramref name="inputSize"/> features.
    /// </summary>
    /// <exception cref="InvalidOperationException">The input shape is not known yet and no width is given.</exception>
    public ModelDiagram Diagram(int? inputSize = null)
    {
        if (inputSize is int width) ArgumentOutOfRangeException.ThrowIfLessThan(width, 1, nameof(inputSize));
        var shape = inputSize is int w ? ShapeForWidth(w) : InputShape
            ?? throw new InvalidOperationException("The model does not know its input width yet: Fit, Evaluate or load it first, or call Diagram(inputSize), e.g. Diagram(784).");
        return Diagram(shape);
    }

    /// <summary>The model as a diagram (see <see cref="Diagram(int?)"/>) for input samples of <paramref name="inputShape"/>.</summary>
    /// <exception cref="ArgumentException">A layer does not take its input's shape.</exception>
    public ModelDiagram Diagram(Shape inputShape)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        static IReadOnlyList<string> LayerBox(Layer layer, Shape shape)
        {
            long parameters = layer.ParameterCount(shape), statistics = layer.StatisticCount(shape);
            string act = layer.OutputActivation is { } a && a.Name != "linear" ? $", {a}" : "";
            var lines = new List<string> { $"{layer.Name} ({layer.TypeName}{act})", $"{shape.WithBatch()} -> {layer.OutputShape(shape).WithBatch()}" };
            string count = FormattableString.Invariant($"params: {parameters + statistics:N0}");
            if (!layer.Trainable && parameters + statistics > 0) count += " (frozen)";
            else if (statistics > 0) count += FormattableString.Invariant($" ({statistics:N0} non-trainable)");
            lines.Add(count);
            return lines;
        }
        var boxes = new List<IReadOnlyList<string>>();
        if (_layers is [FunctionalBlock functional])
        {
            // a box per input, layer application and merge, in build order, with an arrow from each to those it feeds
            functional.OutputShape(inputShape); // checks the width
            var nodes = functional.Nodes();
            var index = new Dictionary<SymbolicTensor, int>(ReferenceEqualityComparer.Instance);
            var edges = new List<(int, int)>();
            for (int i = 0; i < nodes.Count; i++)
            {
                var (tensor, name, _, application) = nodes[i];
                index[tensor] = i;
                if (tensor.Kind == SymbolicKind.Input)
                    boxes.Add([$"{name} (InputLayer)", $"output: {(functional.Inputs.Count == 1 ? inputShape : tensor.Shape).WithBatch()}"]);
                else if (tensor.Layer is { } layer)
                {
                    var shape = tensor.Inputs[0].Shape;
                    // a shared layer's later application: its weights are counted in its first application's box
                    boxes.Add(application == 0 ? LayerBox(layer, shape)
                        : [$"{name} ({layer.TypeName}{(layer.OutputActivation is { } a && a.Name != "linear" ? $", {a}" : "")})",
                           $"{shape.WithBatch()} -> {layer.OutputShape(shape).WithBatch()}", $"params: shared with {layer.Name}"]);
                }
                else
                    boxes.Add([$"{name} ({FunctionalBlock.NodeType(tensor)})",
                       $"{string.Join(" + ", tensor.Inputs.Select(t => t.Shape.WithBatch()))} -> {tensor.Shape.WithBatch()}"]);
                edges.AddRange(tensor.Inputs.Select(t => (index[t], i)));
            }
            return new ModelDiagram(boxes, edges);
        }
        boxes.Add(["input (InputLayer)", $"output: {inputShape.WithBatch()}"]);
        foreach (var layer in _layers)
        {
            boxes.Add(LayerBox(layer, inputShape));
            inputShape = layer.OutputShape(inputShape);
        }
        return new ModelDiagram(boxes);
    }

    /// <summary>
    /// A Keras-style table of layers, output shapes and parameter counts, for the input shape the model was built for or
    /// declares (<see cref="InputShape"/>): <c>(None, 28, 28)</c> through a Flatten to <c>(None, 784)</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The input shape is not known yet: use <see cref="Summary(int)"/>.</exception>
    public string Summary() => InputShape is { } shape ? Summary(shape)
        : throw new InvalidOperationException("The model does not know its input width yet: Fit, Evaluate or load it first, or call Summary(inputSize), e.g. Summary(784).");

    /// <summary>
    /// A Keras-style table of layers, output shapes and parameter counts for <paramref name="inputSize"/> input features
    /// (taken in the model's own input shape when it declares one of that size): see <see cref="Summary(Shape)"/>.
    /// </summary>
    public string Summary(int inputSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 1);
        return Summary(ShapeForWidth(inputSize));
    }

    // the model's own shape when it has that many values, else a flat row
    private Shape ShapeForWidth(int width) => InputShape is { } known && known.Size == width ? known : new Shape(width);

    /// <summary>
    /// A Keras-style table of layers, output shapes and parameter counts for input samples of <paramref name="inputShape"/>:
    /// then the total, trainable and non-trainable counts (batch-norm moving statistics, normalization scale and shift,
    /// and every weight of a frozen layer) with their size in float32 bytes. A Trainable column appears when a layer is frozen.
    /// </summary>
    /// <exception cref="ArgumentException">A layer does not take its input's shape (the message says what to add).</exception>
    public string Summary(Shape inputShape)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        var functional = _layers.Count == 1 ? _layers[0] as FunctionalBlock : null;
        bool anyFrozen = AllLayers.Any(l => !l.Trainable);
        // cells: name (type), output shape, params, trainable, connected to
        var rows = new List<string[]>();
        long total = 0, trainable = 0;
        void Row(Layer layer, Shape input, string connectedTo, string? outputShape = null)
        {
            long parameters = layer.ParameterCount(input), statistics = layer.StatisticCount(input);
            total += parameters + statistics;
            if (layer.Trainable) trainable += parameters;
            string act = layer.OutputActivation is { } a && a.Name != "linear" ? $", {a}" : "";
            rows.Add([$"{layer.Name} ({layer.TypeName}{act})", outputShape ?? layer.OutputShape(input).WithBatch(), (parameters + statistics).ToString("N0", CultureInfo.InvariantCulture),
                layer.Trainable ? "Y" : "N", connectedTo]);
        }
        if (functional is null)
        {
            var shape = inputShape;
            foreach (var layer in _layers)
            {
                Row(layer, shape, "");
                shape = layer.OutputShape(shape);
            }
        }
        else
        {
            functional.OutputShape(inputShape); // checks the width
            var nodes = functional.Nodes();
            foreach (var (tensor, name, connectedTo, application) in nodes)
            {
                if (tensor.Layer is { } layer)
                {
                    // one row per layer, as in Keras: a shared layer's row lists what every application reads, and its weights once
                    if (application > 0) continue;
                    var uses = nodes.Where(n => ReferenceEquals(n.Tensor.Layer, layer)).ToList();
                    bool sameShape = uses.All(u => u.Tensor.Shape == tensor.Shape);
                    Row(layer, tensor.Inputs[0].Shape, string.Join(", ", uses.SelectMany(u => u.ConnectedTo)), sameShape ? null : "multiple");
                }
                else rows.Add([$"{name} ({FunctionalBlock.NodeType(tensor)})",
                    tensor.Shape.WithBatch(), "0", "-", string.Join(", ", connectedTo)]);
            }
        }
        string[] header = ["Layer (type)", "Output Shape", "Param #", "Trainable", "Connected to"];
        int[] shown = [0, 1, 2, .. anyFrozen ? new[] { 3 } : [], .. functional is null ? [] : new[] { 4 }];
        // each column as wide as its longest entry, and three spaces between columns, so long names never run into the shapes
        var widths = shown.Select(c => rows.Select(r => r[c].Length).Append(header[c].Length).Max()).ToArray();
        string Line(string[] cells) => string.Concat(shown.Select((c, i) =>
            i == 0 ? cells[c].PadRight(widths[i]) : "   " + (c == 2 ? cells[c].PadLeft(widths[i]) : cells[c].PadRight(widths[i])))).TrimEnd();
        int lineWidth = widths.Sum() + 3 * (shown.Length - 1);
        string rule = new('-', lineWidth), doubleRule = new('=', lineWidth);

        var sb = new StringBuilder();
        sb.AppendLine(functional is null ? "Model: \"sequential\"" : $"Model: \"{functional.Name}\" (functional)").AppendLine(rule).AppendLine(Line(header)).AppendLine(doubleRule);
        foreach (var row in rows) sb.AppendLine(Line(row));
        sb.AppendLine(doubleRule)
            .AppendLine($"Total params: {Count(total)}")
            .AppendLine($"Trainable params: {Count(trainable)}")
            .AppendLine($"Non-trainable params: {Count(total - trainable)}")
            .Append(rule);
        return sb.ToString();

        static string Count(long n) => FormattableString.Invariant($"{n:N0} ({Bytes(4 * n)})");
        static string Bytes(long b) => b switch
        {
            < 1024 => FormattableString.Invariant($"{b} B"),
            < 1024 * 1024 => FormattableString.Invariant($"{b / 1024.0:F2} KB"),
            _ => FormattableString.Invariant($"{b / (1024.0 * 1024):F2} MB"),
        };
    }
}

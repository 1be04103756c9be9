using GpuNet.Backends;
using GpuNet.Graph;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Optimizers;

namespace GpuNet.Models;

/// <summary>
/// A stack of layers trained as one static graph, with Keras' workflow:
/// <c>new Sequential(layers) → Compile(optimizer, loss, backend) → Fit → Evaluate / Predict</c>.
/// </summary>
/// <remarks>
/// The graph is built on first use, when the input width is known from the data, for a batch
/// capacity equal to the batch size; every buffer is allocated then. The input is a flat row of the data's
/// width unless the first layer declares a shape (<see cref="Layer.InputShape"/>: <c>new Flatten(inputShape: [28, 28])</c>). Training data is uploaded to
/// the device once and batches are gathered there by a shuffled index, so a training step is only
/// kernel launches: loss and accuracy accumulate on the device and are read once per epoch.
/// </remarks>
public sealed partial class Sequential : IDisposable
{
    private readonly List<Layer> _layers;
    private readonly List<string> _warnings = [];
    private ComputationGraph? _graph;
    private Tensor? _input;
    private Tensor? _prediction;
    private LossNode? _lossNode;
    private bool _lsuvPending;
    private bool _lsuvDone; // LSUV ran (or the weights came from a file): rebuilding must not run it again

    public Sequential(params Layer[] layers)
    {
        if (layers.Length == 0)
            throw new ArgumentException("A Sequential model needs at least one layer, e.g. new Dense(10, \"softmax\").", nameof(layers));
        // As in Keras: weights are saved and restored by layer name.
        if (layers.GroupBy(l => l.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"Two layers are named '{twice.Key}'; layer names must be unique in a model. Leave name out to get a unique one.", nameof(layers));
        if (layers.FirstOrDefault(l => l.Name.StartsWith("__", StringComparison.Ordinal)) is { } reserved)
            throw new ArgumentException($"Layer name '{reserved.Name}' starts with \"__\", which GpuNet reserves for its own entries in saved models.", nameof(layers));
        _layers = [.. layers];
    }

    public IReadOnlyList<Layer> Layers => _layers;

    public IBackend? Backend { get; private set; }
    public Optimizer? Optimizer { get; private set; }
    public Loss? Loss { get; private set; }

    /// <summary>Seed of the weight initialization and of dropout masks.</summary>
    public ulong Seed { get; private set; }

    /// <summary>The built graph (null before the first Fit/Evaluate/Predict).</summary>
    public ComputationGraph? Graph => _graph;

    /// <summary>The loss node of the built graph.</summary>
    public LossNode? LossNode => _lossNode;

    /// <summary>The input shape the model was built for (null before it is built); see <see cref="InputShape"/>.</summary>
    private Shape? _builtShape;

    /// <summary>Input features (values per sample) the model was built for (0 before it is built).</summary>
    public int InputSize => _builtShape?.Size ?? 0;

    /// <summary>
    /// The shape of one input sample, batch not included (Keras' <c>model.input_shape</c> without the None): the shape the
    /// model was built for, else the one its first layer declares (<see cref="Layer.InputShape"/>, a functional model's
    /// <see cref="Functional.Input"/>, or a flat row of its several inputs side by side), else null (the model takes a flat row of the data's width when it is built).
    /// </summary>
    public Shape? InputShape => _builtShape ?? DeclaredInputShape;

    /// <summary>The shape the first layer declares: a functional model's input, or the first layer's <see cref="Layer.InputShape"/>.</summary>
    private Shape? DeclaredInputShape => _layers[0] is FunctionalBlock f ? f.ModelInputShape : _layers[0].InputShape;

    /// <summary>Outputs per sample (0 before the input width is known).</summary>
    public int OutputSize => InputSize == 0 ? 0 : OutputShapeFor(_builtShape!).Size;

    /// <summary>The shape of one output sample (null before the input shape is known): (None, 10) is (10).</summary>
    public Shape? OutputShape => InputShape is { } input ? OutputShapeFor(input) : null;

    /// <summary>The shape after the last layer for input samples of <paramref name="inputShape"/> (an activation or dropout layer
    /// keeps its input's shape); each layer checks that it takes its input's shape.</summary>
    private Shape OutputShapeFor(Shape inputShape) => _layers.Aggregate(inputShape, (shape, layer) => layer.OutputShape(shape));

    /// <summary>
    /// The input shape for samples of <paramref name="features"/> values (of <paramref name="dataShape"/>, when the data has one):
    /// the shape the model was built for or declares, which must have that many values, else a flat row of them.
    /// </summary>
    /// <exception cref="ArgumentException">The sizes differ, or both shapes have several dimensions and differ; the message names both.</exception>
    private Shape InputShapeFor(int features, Shape? dataShape = null, string? dataName = null)
    {
        string data = dataName is null ? "the data" : $"dataset '{dataName}'";
        string dataShown = dataShape is { Rank: > 1 } ? $"samples of shape {dataShape.WithBatch()}" : $"{features} features per sample";
        if (_builtShape is { } built && built.Size != features)
            throw new ArgumentException(
                $"The model was built for {built.Size} input features (input shape {built.WithBatch()}), but {data} has {dataShown}. Use data of the same shape as in training.");
        var known = _builtShape ?? DeclaredInputShape;
        if (known is null) return new Shape(features);
        if (known.Size != features)
            throw new ArgumentException(
                $"The model's input shape is {known.WithBatch()} ({known.Size} values per sample), but {data} has {dataShown}. " +
                "Give the first layer the data's shape (inputShape), or reshape the data.");
        // a flat row of the right size fills any shape (the storage is the same); two image shapes must agree
        if (known.Rank > 1 && dataShape is { Rank: > 1 } && dataShape != known)
            throw new ArgumentException(
                $"The model's input shape is {known.WithBatch()}, but {data} has samples of shape {dataShape.WithBatch()}. " +
                "Give the first layer the data's shape (inputShape), or add a Reshape layer.");
        return known;
    }

    /// <summary>The model's output shape for <paramref name="inputShape"/>, which a loss needs flat: one row of outputs per sample.</summary>
    /// <exception cref="ArgumentException">The last layer's output has more than one dimension; the message says to add a Flatten.</exception>
    private Shape FlatOutputShape(Shape inputShape)
    {
        var output = OutputShapeFor(inputShape);
        if (output.Rank != 1)
            throw new ArgumentException(
                $"The model's output is {output.WithBatch()} for input {inputShape.WithBatch()}, but losses take one flat row per sample (None, outputs). " +
                $"Add a Flatten layer (new Flatten()) before the last Dense, or a Reshape to (-1).");
        return output;
    }

    /// <summary>Warnings raised while building (e.g. a symmetric kernel initializer).</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    private Activation LastActivation => _layers[^1].OutputActivation ?? Activation.Linear;

    /// <summary>
    /// Chooses the optimizer, the loss and the device. Weights are created on first use. Compiling a model
    /// that already has weights keeps them (as in Keras), moving them to <paramref name="backend"/>; the
    /// optimizer starts afresh (no slots, <see cref="Iterations"/> 0). The weights are read from the previous
    /// backend, so dispose that one only after compiling.
    /// </summary>
    /// <exception cref="ArgumentException">The loss cannot work with the last layer's activation.</exception>
    public void Compile(Optimizer optimizer, Loss loss, IBackend backend, ulong seed = 1)
    {
        loss.Validate(LastActivation, _layers[^1].Name);
        var kept = CaptureState(includeOptimizer: false);
        var inputShape = _builtShape;
        ReleaseGraph();
        if (kept is not null)
        {
            foreach (var slot in kept.Keys.Where(k => k.StartsWith(SlotPrefix, StringComparison.Ordinal)).ToList()) kept.Remove(slot);
            _pendingState = kept;
            _builtShape = inputShape;
        }
        Optimizer = optimizer;
        Loss = loss;
        Backend = backend;
        Seed = seed;
        Iterations = 0;
    }

    /// <summary>
    /// The graph for <paramref name="inputSize"/> features, built on first use for batches of up to
    /// <paramref name="batchCapacity"/>. With <paramref name="exactCapacity"/> (Fit) a graph built for smaller
    /// batches is rebuilt, keeping weights, states and optimizer slots; Evaluate and Predict use whatever capacity there is.
    /// </summary>
    private ComputationGraph EnsureBuilt(int inputSize, int batchCapacity, bool exactCapacity = false)
    {
        if (Backend is null || Optimizer is null || Loss is null)
            throw new InvalidOperationException("Compile the model (optimizer, loss, device) before Fit, Evaluate or Predict.");
        var inputShape = InputShapeFor(inputSize);
        if (_graph is not null && exactCapacity && _graph.BatchCapacity < batchCapacity)
        {
            _pendingState = CaptureState(includeOptimizer: true);
            ReleaseGraph();
            _builtShape = inputShape;
        }
        if (_graph is not null) return _graph;

        FlatOutputShape(inputShape); // every layer takes its input's shape, and the loss gets flat rows
        CheckFits(inputShape, batchCapacity);
        var graph = new ComputationGraph(Backend, batchCapacity);
        try
        {
            // First in the graph, so its backward runs last and adds to gradients the layers wrote.
            var regularization = graph.Add(new RegularizationNode(graph));
            var build = new BuildContext(Seed, regularization);
            _input = graph.CreateTensor("input", inputShape, requiresGrad: false);
            var x = _input;
            for (int i = 0; i < _layers.Count; i++)
            {
                x = _layers[i].BuildShaped(graph, x, build);
                if (i < _layers.Count - 1 && _layers[i].OutputActivation is { IsSoftmax: true })
                    build.Warnings.Add(
                        $"Layer '{_layers[i].Name}' is a hidden layer with softmax: its {x.Cols} outputs are forced to sum to 1, so they compete " +
                        "instead of carrying independent features, and their gradients shrink. Softmax belongs on the output layer; use relu (or tanh) here.");
            }
            // the rewrite pass: a loss that applies the output activation itself takes that node out and reads the logits
            _lossNode = LossFusion.AddLoss(graph, x, Loss, LastActivation);
            regularization.AttachLoss(_lossNode.LossSum);
            _prediction = Loss.FromLogits ? x : _lossNode.Prediction;
            graph.Seal();
            foreach (var (p, init, fanIn, fanOut, stream) in build.Initializations)
                init.Initialize(Backend, p.Value, fanIn, fanOut, Seed, stream);
            foreach (var action in build.AfterSeal) action();
            Optimizer.Build(graph);
            _warnings.Clear();
            _warnings.AddRange(build.Warnings);
            _lsuvPending = !_lsuvDone && AllLayers.OfType<Dense>().Any(d => d.KernelInitializer is Initializers.Lsuv);
            _builtShape = inputShape;
            _graph = graph;
            if (_pendingState is { } pending)
            {
                RestoreState(pending); // trained, loaded or kept weights replace the fresh initialization
                // Dropout masks are keyed by step: continue the stream where training left it (one training forward per iteration).
                graph.StepValues.Step = (ulong)Iterations;
                _pendingState = null;
            }
            return graph;
        }
        catch
        {
            _lossNode?.Dispose();
            _lossNode = null;
            _graph = null;
            graph.Dispose();
            throw;
        }
    }

    private void ReleaseGraph()
    {
        _frozen?.Dispose();
        _frozen = null;
        _lossNode?.Dispose();
        _graph?.Dispose();
        _lossNode = null;
        _graph = null;
        _builtShape = null;
    }

    public void Dispose() => ReleaseGraph();
}

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
/// capacity equal to the batch size; every buffer is allocated then. Training data is uploaded to
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

    /// <summary>Input features the model was built for (0 before it is built).</summary>
    public int InputSize { get; private set; }

    /// <summary>Outputs per sample (0 before the input width is known).</summary>
    public int OutputSize => InputSize == 0 ? 0 : OutputWidth(InputSize);

    /// <summary>The width after the last layer for <paramref name="inputSize"/> input features (an activation or dropout layer keeps its input's width).</summary>
    private int OutputWidth(int inputSize) => _layers.Aggregate(inputSize, (width, layer) => layer.OutputSize(width));

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
        int inputSize = InputSize;
        ReleaseGraph();
        if (kept is not null)
        {
            foreach (var slot in kept.Keys.Where(k => k.StartsWith(SlotPrefix, StringComparison.Ordinal)).ToList()) kept.Remove(slot);
            _pendingState = kept;
            InputSize = inputSize;
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
        if (InputSize != 0 && inputSize != InputSize)
            throw new ArgumentException(
                $"The model was built for {InputSize} input features, but the data has {inputSize}. Use data of the same shape as in training.");
        if (_graph is not null && exactCapacity && _graph.BatchCapacity < batchCapacity)
        {
            _pendingState = CaptureState(includeOptimizer: true);
            ReleaseGraph();
            InputSize = inputSize;
        }
        if (_graph is not null) return _graph;

        CheckFits(inputSize, batchCapacity);
        var graph = new ComputationGraph(Backend, batchCapacity);
        try
        {
            // First in the graph, so its backward runs last and adds to gradients the layers wrote.
            var regularization = graph.Add(new RegularizationNode(graph));
            var build = new BuildContext(Seed, regularization);
            _input = graph.CreateTensor("input", inputSize, requiresGrad: false);
            var last = LastActivation;
            bool fused = Loss.FusesWith(last);
            var x = _input;
            for (int i = 0; i < _layers.Count; i++)
            {
                x = _layers[i].Build(graph, x, build, omitFinalActivation: fused && i == _layers.Count - 1);
                if (i < _layers.Count - 1 && _layers[i].OutputActivation is { IsSoftmax: true })
                    build.Warnings.Add(
                        $"Layer '{_layers[i].Name}' is a hidden layer with softmax: its {x.Cols} outputs are forced to sum to 1, so they compete " +
                        "instead of carrying independent features, and their gradients shrink. Softmax belongs on the output layer; use relu (or tanh) here.");
            }
            _lossNode = graph.Add(Loss.CreateNode(graph, x, last));
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
            InputSize = inputSize;
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
        InputSize = 0;
    }

    public void Dispose() => ReleaseGraph();
}

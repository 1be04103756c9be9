using System.Text;
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
    private ComputationGraph? _graph;
    private Tensor? _input;
    private Tensor? _prediction;
    private SoftmaxCrossEntropyLoss? _lossNode;

    public Sequential(params Layer[] layers)
    {
        if (layers.Length == 0)
            throw new ArgumentException("A Sequential model needs at least one layer, e.g. new Dense(10, \"softmax\").", nameof(layers));
        _layers = [.. layers];
    }

    public IReadOnlyList<Layer> Layers => _layers;

    public IBackend? Backend { get; private set; }
    public Optimizer? Optimizer { get; private set; }
    public Loss? Loss { get; private set; }

    /// <summary>Seed of the weight initialization.</summary>
    public ulong Seed { get; private set; }

    /// <summary>The built graph (null before the first Fit/Evaluate/Predict).</summary>
    public ComputationGraph? Graph => _graph;

    /// <summary>Input features the model was built for (0 before it is built).</summary>
    public int InputSize { get; private set; }

    /// <summary>Chooses the optimizer, the loss and the device. Weights are created on first use.</summary>
    public void Compile(Optimizer optimizer, Loss loss, IBackend backend, ulong seed = 1)
    {
        if (loss is SparseCategoricalCrossentropy sce)
        {
            var last = _layers[^1].OutputActivation;
            if (!sce.FromLogits && last is not { IsSoftmax: true })
                throw new ArgumentException(
                    $"sparse_categorical_crossentropy expects probabilities, but the last layer '{_layers[^1].Name}' ends in " +
                    $"'{last?.Name ?? "no activation"}'. Give the last layer activation \"softmax\", or use new SparseCategoricalCrossentropy(fromLogits: true).",
                    nameof(loss));
            if (sce.FromLogits && last is { IsSoftmax: true })
                throw new ArgumentException(
                    $"The loss was created with fromLogits: true, but the last layer '{_layers[^1].Name}' already applies softmax. " +
                    "Remove the softmax (use a linear last layer) or use fromLogits: false.", nameof(loss));
        }
        else
        {
            throw new NotSupportedException($"Loss '{loss.Name}' is not supported yet; use SparseCategoricalCrossentropy.");
        }
        _graph?.Dispose();
        _lossNode?.Dispose();
        _graph = null;
        Optimizer = optimizer;
        Loss = loss;
        Backend = backend;
        Seed = seed;
    }

    private ComputationGraph EnsureBuilt(int inputSize, int batchCapacity)
    {
        if (Backend is null || Optimizer is null || Loss is null)
            throw new InvalidOperationException("Compile the model (optimizer, loss, device) before Fit, Evaluate or Predict.");
        if (_graph is not null)
        {
            if (inputSize != InputSize)
                throw new ArgumentException(
                    $"The model was built for {InputSize} input features, but the data has {inputSize}. Use data of the same shape as in training.");
            return _graph;
        }

        var graph = new ComputationGraph(Backend, batchCapacity);
        var build = new BuildContext(Seed);
        _input = graph.CreateTensor("input", inputSize, requiresGrad: false);
        var x = _input;
        for (int i = 0; i < _layers.Count; i++)
            x = _layers[i].Build(graph, x, build, omitFinalActivation: i == _layers.Count - 1);
        _lossNode = graph.Add(new SoftmaxCrossEntropyLoss(graph, x));
        _prediction = ((SparseCategoricalCrossentropy)Loss).FromLogits ? x : _lossNode.Output;
        graph.Seal();
        foreach (var (p, init, fanIn, fanOut, stream) in build.Initializations)
            init.Initialize(Backend, p.Value, fanIn, fanOut, Seed, stream);
        Optimizer.Build(graph);
        InputSize = inputSize;
        _graph = graph;
        return graph;
    }

    /// <summary>A Keras-style table of layers, output shapes and parameter counts.</summary>
    public string Summary(int inputSize)
    {
        var sb = new StringBuilder();
        string line = new('-', 64);
        sb.AppendLine("Model: \"sequential\"").AppendLine(line);
        sb.AppendLine($"{"Layer (type)",-28}{"Output Shape",-20}{"Param #",16}").AppendLine(line);
        int width = inputSize, total = 0;
        foreach (var layer in _layers)
        {
            int p = layer.ParameterCount(width);
            width = layer.OutputSize(width);
            total += p;
            string act = layer.OutputActivation is { } a && a.Name != "linear" ? $", {a}" : "";
            sb.AppendLine($"{$"{layer.Name} ({layer.TypeName}{act})",-28}{$"(None, {width})",-20}{p,16:N0}");
        }
        sb.AppendLine(line).AppendLine($"Total params: {total:N0}").AppendLine($"Trainable params: {total:N0}").Append(line);
        return sb.ToString();
    }

    public void Dispose()
    {
        _lossNode?.Dispose();
        _graph?.Dispose();
    }
}

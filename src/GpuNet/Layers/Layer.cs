using GpuNet.Graph;

namespace GpuNet.Layers;

/// <summary>A layer of a <see cref="Models.Sequential"/> model: it adds its nodes to the graph when the model is built.</summary>
public abstract class Layer
{
    private static int _counter;

    protected Layer(string? name) => Name = name ?? $"{DefaultName}_{Interlocked.Increment(ref _counter)}";

    /// <summary>The layer's name in summaries and messages.</summary>
    public string Name { get; }

    /// <summary>The type shown in a summary ("Dense").</summary>
    public abstract string TypeName { get; }

    protected virtual string DefaultName => TypeName.ToLowerInvariant();

    /// <summary>The activation applied last, if the layer has one (the loss may fuse a final softmax).</summary>
    public virtual Activation? OutputActivation => null;

    /// <summary>Adds this layer's nodes. Returns the output tensor; when <paramref name="omitFinalActivation"/>
    /// is true the layer leaves out its output activation (the loss applies it, fused).</summary>
    internal abstract Tensor Build(ComputationGraph graph, Tensor input, BuildContext context, bool omitFinalActivation);

    /// <summary>Output features for a given input width.</summary>
    public abstract int OutputSize(int inputSize);

    /// <summary>Trainable scalars for a given input width.</summary>
    public abstract int ParameterCount(int inputSize);

    /// <summary>Adds the activation's node (softmax forward-only; it must be fused into the loss to train).</summary>
    internal static Tensor AddActivation(ComputationGraph graph, string name, Tensor input, Activation activation)
    {
        if (activation.IsSoftmax)
            throw new NotSupportedException(
                $"Layer '{name}' applies softmax before another layer. Softmax is supported as the output activation, fused with " +
                "sparse categorical cross-entropy; use it only on the last layer.");
        if (activation.Kind == Backends.ActivationKind.Linear) return input;
        return graph.Add(new ActivationNode(graph, name, input, activation.Kind, activation.Alpha)).Output;
    }
}

/// <summary>Settings a layer needs while the model is built.</summary>
internal sealed class BuildContext(ulong seed)
{
    private uint _stream;

    public ulong Seed { get; } = seed;

    /// <summary>Initialization jobs run after the graph is sealed (parameter buffers exist then).</summary>
    public List<(Graph.Parameter Parameter, Initializers.Initializer Initializer, int FanIn, int FanOut, uint Stream)> Initializations { get; } = [];

    public void Initialize(Graph.Parameter p, Initializers.Initializer init, int fanIn, int fanOut) =>
        Initializations.Add((p, init, fanIn, fanOut, _stream++));
}

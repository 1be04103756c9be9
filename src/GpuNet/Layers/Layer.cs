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

    /// <summary>
    /// Whether Fit updates this layer's weights (Keras' <c>trainable</c>). A frozen layer (false) keeps its weights, and a
    /// batch-norm layer its moving statistics, through every Fit; gradients still flow through it to earlier layers.
    /// It can be changed between Fit calls.
    /// </summary>
    /// <remarks>A frozen batch-norm layer runs in inference mode during Fit, as in Keras: it normalizes training batches with
    /// its moving statistics, not the batch's, and its gamma, beta and moving statistics stay as they are.</remarks>
    public bool Trainable { get; set; } = true;

    /// <summary>The activation applied last, if the layer has one (the loss may fuse a final softmax or sigmoid).</summary>
    public virtual Activation? OutputActivation => null;

    /// <summary>Adds this layer's nodes and returns its output tensor. When <paramref name="omitFinalActivation"/>
    /// is true the layer leaves out its output activation (the loss applies it, fused).</summary>
    internal abstract Tensor Build(ComputationGraph graph, Tensor input, BuildContext context, bool omitFinalActivation);

    /// <summary>Output features for a given input width.</summary>
    public abstract int OutputSize(int inputSize);

    /// <summary>Trainable scalars for a given input width.</summary>
    public abstract long ParameterCount(int inputSize);

    /// <summary>Non-trainable scalars for a given input width: statistics the layer keeps but no gradient changes
    /// (batch normalization's moving mean and variance, normalization's scale and shift).</summary>
    public virtual int StatisticCount(int inputSize) => 0;

    /// <summary>The layer's weights in the built graph, in Keras' order: trainable parameters, then statistics (empty before the model is built).</summary>
    internal virtual IEnumerable<LayerWeight> BuiltWeights => [];

    /// <summary>Adds the activation's node (nothing for linear).</summary>
    internal static Tensor AddActivation(ComputationGraph graph, string name, Tensor input, Activation activation)
    {
        if (activation.IsSoftmax) return graph.Add(new SoftmaxNode(graph, name, input)).Output;
        if (activation.Kind == Backends.ActivationKind.Linear) return input;
        return graph.Add(new ActivationNode(graph, name, input, activation.Kind, activation.Alpha)).Output;
    }
}

/// <summary>One weight tensor of a built layer: a parameter (kernel, bias, gamma, beta) or a statistic.</summary>
/// <param name="Shape">[rows, cols] for a matrix, [cols] for a vector, as in saved models.</param>
internal sealed record LayerWeight(string Name, int[] Shape, Backends.DeviceBuffer<float> Buffer, bool IsParameter)
{
    public static LayerWeight Of(Parameter p) => new(p.Name, p.Rows == 1 ? [p.Cols] : [p.Rows, p.Cols], p.Value, true);

    public static LayerWeight Statistic(string name, Backends.DeviceBuffer<float> buffer) => new(name, [buffer.Length], buffer, false);
}

/// <summary>Settings and deferred work of one model build.</summary>
internal sealed class BuildContext(ulong seed, RegularizationNode regularization)
{
    private uint _stream;
    private uint _purpose;

    public ulong Seed { get; } = seed;

    public RegularizationNode Regularization { get; } = regularization;

    /// <summary>Initialization jobs, run after the graph is sealed (parameter buffers exist then).</summary>
    public List<(Parameter Parameter, Initializers.Initializer Initializer, int FanIn, int FanOut, uint Stream)> Initializations { get; } = [];

    /// <summary>Work to do once buffers exist (uploading adapted statistics, for example).</summary>
    public List<Action> AfterSeal { get; } = [];

    /// <summary>Messages for the user (e.g. a symmetric kernel initializer).</summary>
    public List<string> Warnings { get; } = [];

    public void Initialize(Parameter p, Initializers.Initializer init, int fanIn, int fanOut) =>
        Initializations.Add((p, init, fanIn, fanOut, _stream++));

    /// <summary>A distinct Philox purpose word for each random layer (dropout) of the model.</summary>
    public uint NextPurpose() => 0xD0000000u + _purpose++;
}

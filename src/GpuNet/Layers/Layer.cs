using System.Text.Json.Nodes;
using GpuNet.Graph;

namespace GpuNet.Layers;

/// <summary>A layer of a <see cref="Models.Sequential"/> model: it adds its nodes to the graph when the model is built.</summary>
/// <remarks>
/// <para>To write your own layer (Keras' subclassed <c>Layer</c>), derive from this class and override
/// <see cref="Build(LayerBuilder)"/> (create the weights with <see cref="LayerBuilder.AddWeight"/>), <see cref="Call"/>
/// (the output, made of the graph's differentiable operations on the input and those weights) and
/// <see cref="OutputSize"/>. Autograd gives the gradients, Fit trains the weights, Summary counts them, and
/// <see cref="Models.Sequential.Save"/> stores them with the layer's <see cref="GetConfig"/>; register the class with
/// <see cref="CustomObjects.RegisterLayer{TLayer}"/> for <see cref="Models.Sequential.Load(string, Backends.IBackend)"/> to rebuild it.</para>
/// <para>The built-in layers add fused nodes of their own instead (a Dense layer is one GEMM and bias node).</para>
/// </remarks>
public abstract class Layer
{
    private static int _counter;
    private readonly List<Parameter> _weights = [];
    private Shape? _builtInputShape;
    private int _application; // which application of a shared layer is being built: 0 the first (the one that creates the weights)

    protected Layer(string? name) => Name = name ?? $"{DefaultName}_{Interlocked.Increment(ref _counter)}";

    /// <summary>The layer's name in summaries and messages.</summary>
    public string Name { get; }

    /// <summary>The type shown in a summary ("Dense"); the class name unless overridden.</summary>
    public virtual string TypeName => GetType().Name;

    protected virtual string DefaultName => TypeName.ToLowerInvariant();

    /// <summary>
    /// Whether Fit updates this layer's weights (Keras' <c>trainable</c>). A frozen layer (false) keeps its weights, and a
    /// batch-norm layer its moving statistics, through every Fit; gradients still flow through it to earlier layers.
    /// It can be changed between Fit calls.
    /// </summary>
    /// <remarks>A frozen batch-norm layer runs in inference mode during Fit, as in Keras: it normalizes training batches with
    /// its moving statistics, not the batch's, and its gamma, beta and moving statistics stay as they are.</remarks>
    public bool Trainable { get; set; } = true;

    /// <summary>
    /// The shape of one input sample, batch not included, when this is the model's first layer (Keras' <c>input_shape</c>):
    /// <c>new Flatten(inputShape: [28, 28])</c>, or <c>new Dense(64) { InputShape = [20] }</c>. The model then knows its input
    /// before it sees data (Summary works at once), and data must have as many values per sample. On any other layer it is
    /// ignored, as in Keras. When no layer declares it, the input is a flat row of the data's width.
    /// </summary>
    public Shape? InputShape { get => _inputShape; init => _inputShape = value; }

    private Shape? _inputShape;

    /// <summary>Sets <see cref="InputShape"/> on a layer made from a saved config (whose factory does not know it).</summary>
    internal void RestoreInputShape(Shape shape) => _inputShape = shape;

    /// <summary>
    /// This layer on <paramref name="input"/> in a functional model (Keras' <c>layer(x)</c>): the symbolic tensor it makes,
    /// for <see cref="Models.Functional.Model(Models.SymbolicTensor, Models.SymbolicTensor, string?)"/>. Applying the same
    /// layer object again shares it (Keras' shared layers, the Siamese pattern): its weights are created once and used by
    /// every application, and training adds up the gradients of all of them. Layers with moving or adapted statistics
    /// (<see cref="BatchNormalization"/>, <see cref="Normalization"/>) cannot be shared; the model refuses them.
    /// </summary>
    public Models.SymbolicTensor Apply(Models.SymbolicTensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new Models.SymbolicTensor(OutputShape(input.Shape), Models.SymbolicKind.Layer, this, [input]);
    }

    /// <summary>True while the layer builds its second or later application in a functional model: it must reuse the weights
    /// its first application created in this graph, not create others.</summary>
    private protected bool IsSharedApplication => _application > 0;

    /// <summary>The name of the nodes the application being built adds: the layer's <see cref="Name"/>, and "name[k]" for its
    /// (k+1)-th application in a functional model (graph and ONNX tensor names stay unique; the weights keep the layer's name).</summary>
    private protected string NodeName => _application == 0 ? Name : $"{Name}[{_application}]";

    /// <summary>
    /// Why this layer cannot be applied again to samples of <paramref name="later"/> after its first application to samples
    /// of <paramref name="first"/> in the same functional model (a shared layer), or null when it can. By default a layer
    /// without weights or statistics can be applied to anything, and one with weights (a user-written layer) to the same shape
    /// only, since its Build created them for that shape.
    /// </summary>
    internal virtual string? SharingRefusal(Shape first, Shape later) =>
        first == later || ParameterCount(first) + StatisticCount(first) == 0 ? null
            : $"its weights were built for input {first.WithBatch()}, but it is also applied to {later.WithBatch()}";

    /// <summary>The activation applied last, if the layer has one (the loss may fuse a final softmax or sigmoid).</summary>
    public virtual Activation? OutputActivation => null;

    /// <summary>
    /// Builds the layer on <paramref name="input"/> (see <see cref="Build(ComputationGraph, Tensor, BuildContext)"/>) and
    /// gives the output the row shape <see cref="OutputShape"/> promises, as a view when the nodes made a flat row of that size.
    /// </summary>
    /// <exception cref="ArgumentException">The layer cannot take the input's shape (the message says what to add).</exception>
    /// <param name="application">0 for the layer's first application in this graph (it creates the weights), k for its
    /// (k+1)-th in a functional model, which reuses the weights the first one created and names its nodes <see cref="NodeName"/>.</param>
    internal Tensor BuildShaped(ComputationGraph graph, Tensor input, BuildContext context, int application = 0)
    {
        var expected = OutputShape(input.Shape);
        Tensor output;
        _application = application;
        try
        {
            output = Build(graph, input, context);
        }
        finally
        {
            _application = 0;
        }
        if (output.Shape == expected) return output;
        if (output.Cols != expected.Size)
            throw new InvalidOperationException(
                $"Layer '{Name}' ({TypeName}) made '{output.Name}' {output.Shape.WithBatch()} for input {input.Shape.WithBatch()}, but OutputShape says {expected.WithBatch()}.");
        return graph.Reshape(output, expected.ToArray());
    }

    /// <summary>Adds this layer's nodes, its output activation included, and returns its output tensor. (A loss that
    /// applies the output activation itself takes that node out afterwards: <see cref="Losses.LossFusion"/>.)</summary>
    /// <remarks>The built-in layers override it; for a user-written layer it runs <see cref="Build(LayerBuilder)"/> then <see cref="Call"/>.</remarks>
    internal virtual Tensor Build(ComputationGraph graph, Tensor input, BuildContext context)
    {
        if (!IsSharedApplication)
        {
            _weights.Clear();
            Build(new LayerBuilder(this, graph, context, input.Shape, _weights));
            _builtInputShape = input.Shape;
        }
        // a shared layer applied again: Call on the weight tensors its first application's Build created (Keras calls call once per use)
        var output = Call(graph, input)
            ?? throw new InvalidOperationException($"Layer '{Name}' ({GetType().Name}): Call returned null; return the layer's output tensor.");
        var expected = OutputShape(input.Shape);
        if (!output.FollowsBatch || output.Cols != expected.Size)
            throw new InvalidOperationException(
                $"Layer '{Name}' ({GetType().Name}): Call returned '{output.Name}' [{(output.FollowsBatch ? "batch" : output.MaxRows.ToString())} x {output.Cols}], " +
                $"but OutputShape{input.Shape} says {expected.WithBatch()}, batch x {expected.Size}. Return one row per sample, with that many columns.");
        return output;
    }

    /// <summary>
    /// Creates the layer's weights (Keras' <c>build</c>): call <see cref="LayerBuilder.AddWeight"/> for each and keep the
    /// tensors it returns for <see cref="Call"/>. Runs each time the model builds its graph (the input width is
    /// <see cref="LayerBuilder.InputSize"/>), once per graph even when a functional model applies the layer several times
    /// (each application calls Call on these weights, which must then take inputs of the same shape), and on a graph
    /// without a device when <see cref="ParameterCount(Shape)"/> counts the weights.
    /// </summary>
    /// <remarks>The built-in layers do not use it. The default creates no weights.</remarks>
    protected virtual void Build(LayerBuilder builder) { }

    /// <summary>
    /// The layer's output for <paramref name="input"/> (batch x input width), written with the graph's differentiable
    /// operations (<see cref="ComputationGraph.MatMul"/>, <see cref="ComputationGraph.Add(Tensor, Tensor)"/>,
    /// <see cref="ComputationGraph.Multiply"/>, <see cref="ComputationGraph.Relu"/>, an <see cref="Activation.Apply"/> ...) on it and
    /// the weights from <see cref="Build(LayerBuilder)"/>: Keras' <c>call</c>. It must return a batch x <see cref="OutputSize"/> tensor.
    /// </summary>
    /// <remarks>It runs when the graph is built: once, or once per application of a layer shared in a functional model (each
    /// time on the same weights, which Build created once); the nodes it adds then run every step without allocating.
    /// A layer written this way reports no <see cref="OutputActivation"/> (apply any activation inside Call).</remarks>
    /// <exception cref="NotSupportedException">The layer overrides neither this nor the internal build (a subclass must override Call).</exception>
    protected virtual Tensor Call(ComputationGraph graph, Tensor input) =>
        throw new NotSupportedException($"Layer type {GetType().Name} must override Call(graph, input) to compute its output (and Build(builder) to create weights).");

    /// <summary>
    /// The layer's settings for a saved model (Keras' <c>get_config</c>), given back to the factory registered with
    /// <see cref="CustomObjects.RegisterLayer{TLayer}"/> when the model is loaded. The name and trainable flag are saved
    /// separately. Built-in layers are saved by the model itself; the default is an empty object.
    /// </summary>
    public virtual JsonObject GetConfig() => [];

    /// <summary>Output features for a given input width.</summary>
    public abstract int OutputSize(int inputSize);

    /// <summary>
    /// The shape of one output sample for input samples of <paramref name="inputShape"/>, batch not included (Keras'
    /// <c>compute_output_shape</c> without the batch). The default is a flat row of <see cref="OutputSize"/> of the input's
    /// size; element-wise layers keep the shape, Dense maps the last axis, Flatten and Reshape make theirs.
    /// </summary>
    /// <exception cref="ArgumentException">The layer takes no input of that shape (the message says what to add, e.g. a Flatten).</exception>
    public virtual Shape OutputShape(Shape inputShape) => new(OutputSize(inputShape.Size));

    /// <summary>Trainable scalars for input samples of <paramref name="inputShape"/>; by default <see cref="ParameterCount(int)"/> of its size.</summary>
    /// <remarks>A layer written with Build and Call that does not override <see cref="ParameterCount(int)"/> counts the weights
    /// its Build creates for this very shape.</remarks>
    public virtual long ParameterCount(Shape inputShape) =>
        CountsByBuilding ? CountWeights(inputShape) : ParameterCount(inputShape.Size);

    // ParameterCount(int) is this class's (it counts what Build creates), not an override of the layer's own
    private bool CountsByBuilding =>
        GetType().GetMethod(nameof(ParameterCount), [typeof(int)])!.DeclaringType == typeof(Layer);

    /// <summary>Non-trainable scalars for input samples of <paramref name="inputShape"/>; by default <see cref="StatisticCount(int)"/> of its size.</summary>
    public virtual int StatisticCount(Shape inputShape) => StatisticCount(inputShape.Size);

    /// <summary>Throws unless <paramref name="inputShape"/> is a flat row of features: for layers that work per feature of a
    /// flat row (batch normalization, normalization, maxout), where an image or a sequence needs a Flatten first.</summary>
    /// <exception cref="ArgumentException">The shape has more than one dimension; the message names it and says to add a Flatten.</exception>
    protected Shape RequireFlat(Shape inputShape)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Rank != 1)
            throw new ArgumentException(
                $"Layer '{Name}' ({TypeName}) takes flat samples (None, features), but its input is {inputShape.WithBatch()}. " +
                $"Add a Flatten layer before it (new Flatten(), giving (None, {inputShape.Size})), or a Reshape.", nameof(inputShape));
        return inputShape;
    }

    /// <summary>Trainable scalars for a given input width.</summary>
    /// <remarks>The default counts the weights <see cref="Build(LayerBuilder)"/> creates (running it on a graph without a
    /// device; nothing is allocated), or those of the built graph when it was built for <paramref name="inputSize"/>.</remarks>
    public virtual long ParameterCount(int inputSize) => CountWeights(new Shape(inputSize));

    // The weights Build creates for inputShape, counted on a graph without a device (or those of the built graph).
    private long CountWeights(Shape inputShape)
    {
        if (_builtInputShape == inputShape && _weights.Count > 0) return _weights.Sum(w => (long)w.Count);
        using var shapes = new ComputationGraph(null!, 1); // shapes only: parameters and their tensors allocate nothing before Seal
        Build(new LayerBuilder(this, shapes, null, inputShape, []));
        return shapes.ParameterCount;
    }

    /// <summary>Non-trainable scalars for a given input width: statistics the layer keeps but no gradient changes
    /// (batch normalization's moving mean and variance, normalization's scale and shift).</summary>
    public virtual int StatisticCount(int inputSize) => 0;

    /// <summary>The layer's weights in the built graph, in Keras' order: trainable parameters, then statistics (empty before the model is built).</summary>
    internal virtual IEnumerable<LayerWeight> BuiltWeights => _weights.Select(LayerWeight.Of);

    /// <summary>Adds the activation's node (nothing for linear).</summary>
    internal static Tensor AddActivation(ComputationGraph graph, string name, Tensor input, Activation activation)
    {
        if (activation.IsCustom) return activation.Apply(graph, input);
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

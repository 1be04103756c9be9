using System.Text.Json.Nodes;
using GpuNet.Graph;
using GpuNet.Initializers;

namespace GpuNet.Layers;

/// <summary>
/// A fully connected layer: y = activation(x W + b). x is B x In, W is In x Units, b is 1 x Units.
/// </summary>
/// <remarks>
/// As in Keras, the kernel defaults to Glorot-uniform initialization and the bias to zeros, and
/// the input width is taken from the data when the model is built. On samples of more than one dimension
/// (T, In) it maps the last axis, as Keras' Dense does: (None, T, In) becomes (None, T, Units), with one In x Units
/// kernel shared by the T rows. Add a <see cref="Flatten"/> first for one kernel over all T In values.
/// </remarks>
public sealed class Dense : Layer
{
    /// <param name="units">Output features; a positive integer.</param>
    /// <param name="activation">An <see cref="Layers.Activation"/> or its name; linear when null.</param>
    /// <param name="kernelRegularizer">An L1/L2 penalty on W added to the loss.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is not positive.</exception>
    public Dense(int units, Activation? activation = null, bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? biasInitializer = null, Regularizer? kernelRegularizer = null,
        string? name = null) : base(name)
    {
        if (units < 1)
            throw new ArgumentOutOfRangeException(nameof(units), units, $"Dense expects a positive integer number of units. Received: units={units}.");
        Units = units;
        Activation = activation ?? Activation.Linear;
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? new GlorotUniform();
        BiasInitializer = biasInitializer ?? new Zeros();
        KernelRegularizer = kernelRegularizer;
    }

    public int Units { get; }
    public Activation Activation { get; }
    public bool UseBias { get; }
    public Initializer KernelInitializer { get; }
    public Initializer BiasInitializer { get; }
    public Regularizer? KernelRegularizer { get; }

    /// <summary>The affine node once the model is built (its weights, for LSUV and inspection); for a layer shared in a
    /// functional model, the node of its first application, which owns the weights the later ones use.</summary>
    public AffineNode? Node { get; private set; }

    public override string TypeName => "Dense";

    public override Activation? OutputActivation => Activation;

    public override int OutputSize(int inputSize) => Units;

    public override long ParameterCount(int inputSize) => (long)inputSize * Units + (UseBias ? Units : 0);

    /// <summary>The input's shape with its last axis mapped to <see cref="Units"/>: (784) to (Units), (T, In) to (T, Units).</summary>
    public override Shape OutputShape(Shape inputShape) => inputShape.WithLast(Units);

    /// <summary>The kernel maps the last axis: In x Units, plus the bias.</summary>
    public override long ParameterCount(Shape inputShape) => ParameterCount(inputShape.Last);

    /// <summary>Keras' <c>get_config</c>: units, activation (and its alpha), use_bias and the kernel regularizer.</summary>
    public override JsonObject GetConfig() => new()
    {
        ["units"] = Units, ["activation"] = Activation.Name, ["alpha"] = Activation.Alpha, ["use_bias"] = UseBias,
        ["kernel_regularizer"] = KernelRegularizer is { } r ? new JsonObject { ["l1"] = r.L1, ["l2"] = r.L2 } : null,
    };

    internal static Dense FromConfig(JsonObject c, string name, LayerLoading loading) =>
        new(c["units"]!.GetValue<int>(), Activation.FromConfig(c), c["use_bias"]!.GetValue<bool>(),
            kernelRegularizer: c["kernel_regularizer"] is JsonObject r ? new Regularizer(r["l1"]!.GetValue<float>(), r["l2"]!.GetValue<float>()) : null,
            name: name);

    internal override IEnumerable<LayerWeight> BuiltWeights =>
        Node is null ? [] : Node.Bias is null ? [LayerWeight.Of(Node.Weights)] : [LayerWeight.Of(Node.Weights), LayerWeight.Of(Node.Bias)];

    /// <summary>A Dense layer is shared over inputs whose last axis has the kernel's In features.</summary>
    internal override string? SharingRefusal(Shape first, Shape later) => first.Last == later.Last ? null
        : $"its kernel maps the {first.Last} features on the last axis of its first input {first.WithBatch()}, but it is also applied to {later.WithBatch()}";

    internal override Tensor Build(ComputationGraph graph, Tensor input, BuildContext context)
    {
        if (IsSharedApplication)
        {
            // applied again in a functional model: the first application's kernel and bias, initialized and regularized once
            var again = graph.Add(new AffineNode(graph, NodeName, input, Node!.Weights, Node.Bias));
            return AddActivation(graph, NodeName + "/" + Activation.Name, again.Output, Activation);
        }
        var affine = graph.Add(new AffineNode(graph, Name, input, Units, UseBias));
        Node = affine;
        int fanIn = affine.InFeatures;
        context.Initialize(affine.Weights, KernelInitializer, fanIn, Units);
        if (KernelInitializer.IsSymmetric)
            context.Warnings.Add(
                $"Layer '{Name}': kernel initializer {KernelInitializer} gives every weight the same value, so all {Units} units compute the " +
                "same function and receive the same gradient: symmetry is never broken and the layer learns like a single unit. Use glorot_uniform or he_normal.");
        if (affine.Bias is not null) context.Initialize(affine.Bias, BiasInitializer, fanIn, Units);
        if (KernelRegularizer is { } r) context.Regularization.Add(affine.Weights, r.L1, r.L2);
        return AddActivation(graph, Name + "/" + Activation.Name, affine.Output, Activation);
    }
}

/// <summary>Applies an activation on its own, as Keras' Activation layer.</summary>
public sealed class ActivationLayer(Activation activation, string? name = null) : Layer(name)
{
    public Activation Activation { get; } = activation;

    public override string TypeName => "Activation";

    public override Activation? OutputActivation => Activation;

    /// <summary>Keras' <c>get_config</c>: the activation and its alpha.</summary>
    public override JsonObject GetConfig() => new() { ["activation"] = Activation.Name, ["alpha"] = Activation.Alpha };

    internal static ActivationLayer FromConfig(JsonObject c, string name, LayerLoading loading) => new(Activation.FromConfig(c), name);

    public override int OutputSize(int inputSize) => inputSize;

    /// <summary>The input's shape: the activation is element-wise (softmax normalizes the last axis).</summary>
    public override Shape OutputShape(Shape inputShape) => inputShape;

    public override long ParameterCount(int inputSize) => 0;

    internal override Tensor Build(ComputationGraph graph, Tensor input, BuildContext context) =>
        AddActivation(graph, NodeName, input, Activation);
}

/// <summary>
/// An L1 / L2 / elastic-net weight penalty (Keras' regularizers): penalty = l1 sum |w| + l2 sum w^2,
/// gradient l1 sign(w) + 2 l2 w.
/// </summary>
public sealed class Regularizer
{
    public Regularizer(float l1, float l2)
    {
        if (!(l1 >= 0 && float.IsFinite(l1)) || !(l2 >= 0 && float.IsFinite(l2)) || l1 + l2 == 0)
            throw new ArgumentOutOfRangeException(nameof(l1),
                $"Regularization factors must be finite, >= 0 and not both 0; received l1={l1}, l2={l2}. Typical values are 1e-4 to 1e-2.");
        L1 = l1;
        L2 = l2;
    }

    public float L1 { get; }
    public float L2 { get; }

    /// <summary>Lasso: l1 sum |w| (drives weights to exactly 0).</summary>
    public static Regularizer Lasso(float l1 = 0.01f) => new(l1, 0f);

    /// <summary>Ridge / weight decay: l2 sum w^2.</summary>
    public static Regularizer Ridge(float l2 = 0.01f) => new(0f, l2);

    /// <summary>Elastic net: l1 sum |w| + l2 sum w^2.</summary>
    public static Regularizer ElasticNet(float l1 = 0.01f, float l2 = 0.01f) => new(l1, l2);

    public override string ToString() => L1 == 0 ? $"l2({L2})" : L2 == 0 ? $"l1({L1})" : $"l1_l2({L1}, {L2})";
}

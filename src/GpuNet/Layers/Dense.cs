using GpuNet.Graph;
using GpuNet.Initializers;

namespace GpuNet.Layers;

/// <summary>
/// A fully connected layer: y = activation(x W + b). x is B x In, W is In x Units, b is 1 x Units.
/// </summary>
/// <remarks>
/// As in Keras, the kernel defaults to Glorot-uniform initialization and the bias to zeros, and
/// the input width is taken from the data when the model is built.
/// </remarks>
public sealed class Dense : Layer
{
    /// <param name="units">Output features; a positive integer.</param>
    /// <param name="activation">An <see cref="Layers.Activation"/> or its name; linear when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is not positive.</exception>
    public Dense(int units, Activation? activation = null, bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? biasInitializer = null, string? name = null) : base(name)
    {
        if (units < 1)
            throw new ArgumentOutOfRangeException(nameof(units), units, $"Dense expects a positive integer number of units. Received: units={units}.");
        Units = units;
        Activation = activation ?? Activation.Linear;
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? new GlorotUniform();
        BiasInitializer = biasInitializer ?? new Zeros();
    }

    public int Units { get; }
    public Activation Activation { get; }
    public bool UseBias { get; }
    public Initializer KernelInitializer { get; }
    public Initializer BiasInitializer { get; }

    public override string TypeName => "Dense";

    public override Activation? OutputActivation => Activation;

    public override int OutputSize(int inputSize) => Units;

    public override int ParameterCount(int inputSize) => inputSize * Units + (UseBias ? Units : 0);

    internal override Tensor Build(ComputationGraph graph, Tensor input, BuildContext context, bool omitFinalActivation)
    {
        var affine = graph.Add(new AffineNode(graph, Name, input, Units, UseBias));
        context.Initialize(affine.Weights, KernelInitializer, input.Cols, Units);
        if (affine.Bias is not null) context.Initialize(affine.Bias, BiasInitializer, input.Cols, Units);
        return omitFinalActivation ? affine.Output : AddActivation(graph, Name + "/" + Activation.Name, affine.Output, Activation);
    }
}

/// <summary>Applies an activation on its own, as Keras' Activation layer.</summary>
public sealed class ActivationLayer(Activation activation, string? name = null) : Layer(name)
{
    public Activation Activation { get; } = activation;

    public override string TypeName => "Activation";

    public override Activation? OutputActivation => Activation;

    public override int OutputSize(int inputSize) => inputSize;

    public override int ParameterCount(int inputSize) => 0;

    internal override Tensor Build(ComputationGraph graph, Tensor input, BuildContext context, bool omitFinalActivation) =>
        omitFinalActivation ? input : AddActivation(graph, Name, input, Activation);
}

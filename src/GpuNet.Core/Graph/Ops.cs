using GpuNet.Backends;

namespace GpuNet.Graph;

/// <summary>
/// Affine map Y = X W + b on the last axis.  X is B x In, W is In x Out, b is 1 x Out, Y is B x Out.
/// </summary>
/// <remarks>
/// <para>Backward: dW = X^T dY (In x Out), db = column sums of dY, dX = dY W^T (B x In).</para>
/// <para>A sample of shape (T, In) (any leading dimensions, T their product) maps to (T, Out), as Keras' Dense does:
/// row-major, a batch of them is a (B T) x In matrix, so the same GEMMs run with B T rows and nothing is copied.</para>
/// </remarks>
public sealed class AffineNode : Node
{
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

    public AffineNode(ComputationGraph graph, string name, Tensor input, int units, bool useBias = true)
    {
        Input = input;
        InFeatures = input.Shape.Last;
        RowsPerSample = input.Cols / InFeatures;
        Weights = graph.CreateParameter($"{name}/kernel", InFeatures, units);
        Bias = useBias ? graph.CreateParameter($"{name}/bias", 1, units) : null;
        Output = graph.CreateTensor($"{name}/output", input.Shape.WithLast(units));
    }

    /// <summary>
    /// An affine map with the weights of another: <paramref name="weights"/> (In x Out) and <paramref name="bias"/> (1 x Out)
    /// are parameters an earlier node created (a shared layer applied again, Keras' Siamese pattern). Both nodes read the
    /// same values, and their backward rules add their contributions into the same gradients (each asks
    /// <see cref="StepContext.Accumulate(Parameter)"/>), so the gradient is the sum over every use.
    /// </summary>
    /// <exception cref="ArgumentException">The input's last dimension is not the kernel's rows, or the bias does not have the kernel's columns.</exception>
    public AffineNode(ComputationGraph graph, string name, Tensor input, Parameter weights, Parameter? bias)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weights);
        if (input.Shape.Last != weights.Rows)
            throw new ArgumentException(
                $"'{name}' shares kernel '{weights.Name}' [{weights.Rows} x {weights.Cols}], which maps {weights.Rows} features, but its input '{input.Name}' {input.Shape.WithBatch()} has {input.Shape.Last} on its last axis.",
                nameof(input));
        if (bias is not null && (bias.Rows != 1 || bias.Cols != weights.Cols))
            throw new ArgumentException($"Bias '{bias.Name}' [{bias.Rows} x {bias.Cols}] does not go with kernel '{weights.Name}' [{weights.Rows} x {weights.Cols}]; it needs [1 x {weights.Cols}].", nameof(bias));
        Input = input;
        InFeatures = weights.Rows;
        RowsPerSample = input.Cols / InFeatures;
        Weights = weights;
        Bias = bias;
        Output = graph.CreateTensor($"{name}/output", input.Shape.WithLast(weights.Cols));
    }

    public Tensor Input { get; }
    public Parameter Weights { get; }
    public Parameter? Bias { get; }

    /// <summary>Features the kernel maps: the input's last dimension (In).</summary>
    public int InFeatures { get; }

    /// <summary>GEMM rows per sample: the product of the input's dimensions before the last (1 for a flat input).</summary>
    public int RowsPerSample { get; }

    public override IEnumerable<Parameter> Parameters => Bias is null ? [Weights] : [Weights, Bias];

    public override void Forward(StepContext ctx)
    {
        int b = ctx.Rows * RowsPerSample, k = InFeatures, n = Weights.Cols;
        ctx.Backend.Gemm(false, false, b, n, k, 1f, Input.Value, Weights.Value, 0f, Output.Value);
        if (Bias is not null) ctx.Backend.BiasAdd(Output.Value, Bias.Value, b, n);
    }

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output)) return;
        int b = ctx.Rows * RowsPerSample, k = InFeatures, n = Weights.Cols;
        var dy = Output.Grad!;
        ctx.Backend.Gemm(true, false, k, n, b, 1f, Input.Value, dy, ctx.Accumulate(Weights) ? 1f : 0f, Weights.Grad);
        if (Bias is not null) ctx.Backend.ColumnSum(dy, b, n, Bias.Grad, ctx.Accumulate(Bias));
        if (Input.Grad is not null)
            ctx.Backend.Gemm(false, true, b, k, n, 1f, dy, Weights.Value, ctx.Accumulate(Input) ? 1f : 0f, Input.Grad);
    }
}

/// <summary>Y = f(X) element-wise (see <see cref="ActivationKind"/> for f and f').</summary>
public sealed class ActivationNode : Node
{
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

    public ActivationNode(ComputationGraph graph, string name, Tensor input, ActivationKind kind, float alpha = 0f)
    {
        Input = input;
        Kind = kind;
        Alpha = alpha;
        Output = graph.CreateTensorLike($"{name}/output", input);
    }

    public Tensor Input { get; }
    public ActivationKind Kind { get; }
    public float Alpha { get; }

    public override void Forward(StepContext ctx) =>
        ctx.Backend.Activation(Kind, Alpha, Input.Value, Output.Value, Input.ActiveCount(ctx));

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output) || Input.Grad is null) return;
        ctx.Backend.ActivationBackward(Kind, Alpha, Input.Value, Output.Value, Output.Grad!, Input.Grad,
            Input.ActiveCount(ctx), ctx.Accumulate(Input));
    }
}

/// <summary>Y = softmax(X) over the last axis (max-subtracted): row-wise for a flat row. Backward: dX = Y (dY - sum_c dY Y).</summary>
/// <remarks>Used where softmax is not fused into a cross-entropy loss (e.g. softmax output with MSE). A sample of shape
/// (T, C) is T rows of C for the backend, as in Keras, where softmax normalizes the last axis.</remarks>
public sealed class SoftmaxNode : Node
{
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

    public SoftmaxNode(ComputationGraph graph, string name, Tensor input)
    {
        Input = input;
        Output = graph.CreateTensorLike($"{name}/output", input);
    }

    public Tensor Input { get; }

    // rows of the last axis in use: the tensor's rows times the dimensions before the last
    private int Rows(StepContext ctx) => Input.ActiveRows(ctx) * (Input.Cols / Input.Shape.Last);

    public override void Forward(StepContext ctx) => ctx.Backend.Softmax(Input.Value, Output.Value, Rows(ctx), Input.Shape.Last);

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output) || Input.Grad is null) return;
        ctx.Backend.SoftmaxBackward(Output.Value, Output.Grad!, Input.Grad, Rows(ctx), Input.Shape.Last, ctx.Accumulate(Input));
    }
}

using GpuNet.Backends;

namespace GpuNet.Graph;

/// <summary>
/// Affine map Y = X W + b.  X is B x In, W is In x Out, b is 1 x Out, Y is B x Out.
/// </summary>
/// <remarks>
/// Backward: dW = X^T dY (In x Out), db = column sums of dY, dX = dY W^T (B x In).
/// </remarks>
public sealed class AffineNode : Node
{
    public AffineNode(ComputationGraph graph, string name, Tensor input, int units, bool useBias = true)
    {
        Input = input;
        Weights = graph.CreateParameter($"{name}/kernel", input.Cols, units);
        Bias = useBias ? graph.CreateParameter($"{name}/bias", 1, units) : null;
        Output = graph.CreateTensor($"{name}/output", units);
    }

    public Tensor Input { get; }
    public Parameter Weights { get; }
    public Parameter? Bias { get; }

    public override IEnumerable<Parameter> Parameters => Bias is null ? [Weights] : [Weights, Bias];

    public override void Forward(StepContext ctx)
    {
        int b = ctx.Rows, k = Input.Cols, n = Output.Cols;
        ctx.Backend.Gemm(false, false, b, n, k, 1f, Input.Value, Weights.Value, 0f, Output.Value);
        if (Bias is not null) ctx.Backend.BiasAdd(Output.Value, Bias.Value, b, n);
    }

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output)) return;
        int b = ctx.Rows, k = Input.Cols, n = Output.Cols;
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

/// <summary>Y = softmax(X) row-wise (max-subtracted). Backward: dX = Y (dY - sum_c dY Y).</summary>
/// <remarks>Used where softmax is not fused into a cross-entropy loss (e.g. softmax output with MSE).</remarks>
public sealed class SoftmaxNode : Node
{
    public SoftmaxNode(ComputationGraph graph, string name, Tensor input)
    {
        Input = input;
        Output = graph.CreateTensorLike($"{name}/output", input);
    }

    public Tensor Input { get; }

    public override void Forward(StepContext ctx) => ctx.Backend.Softmax(Input.Value, Output.Value, Input.ActiveRows(ctx), Input.Cols);

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output) || Input.Grad is null) return;
        ctx.Backend.SoftmaxBackward(Output.Value, Output.Grad!, Input.Grad, Input.ActiveRows(ctx), Input.Cols, ctx.Accumulate(Input));
    }
}

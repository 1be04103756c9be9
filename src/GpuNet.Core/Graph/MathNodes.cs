using GpuNet.Backends;

namespace GpuNet.Graph;

// Exp, log, matrix product and sums of the autograd (ComputationGraph.Autograd.cs).

/// <summary>Y = e^X element-wise. Backward: dX += dY * Y.</summary>
public sealed class ExpNode : Node
{
    public ExpNode(ComputationGraph graph, string name, Tensor input)
    {
        Input = input;
        Output = graph.CreateTensorLike($"{name}/output", input);
    }

    public Tensor Input { get; }

    public override void Forward(StepContext ctx) => ctx.Backend.Unary(UnaryOp.Exp, Input.Value, Output.Value, Input.ActiveCount(ctx));

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output) || Input.Grad is null) return;
        ctx.Backend.Multiply(Output.Grad!, Output.Value, Input.Grad, Input.ActiveCount(ctx), ctx.Accumulate(Input));
    }
}

/// <summary>Y = ln X element-wise. Backward: dX += dY / X.</summary>
/// <remarks>IEEE semantics: ln 0 = -inf, ln of a negative number is NaN (no clamping).</remarks>
public sealed class LogNode : Node
{
    private readonly DeviceBuffer<float> _reciprocal; // 1/X, computed in backward

    public LogNode(ComputationGraph graph, string name, Tensor input)
    {
        Input = input;
        Output = graph.CreateTensorLike($"{name}/output", input);
        _reciprocal = graph.CreateBuffer(Output.Value.Length);
    }

    public Tensor Input { get; }

    public override void Forward(StepContext ctx) => ctx.Backend.Unary(UnaryOp.Log, Input.Value, Output.Value, Input.ActiveCount(ctx));

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output) || Input.Grad is null) return;
        int n = Input.ActiveCount(ctx);
        ctx.Backend.Unary(UnaryOp.Reciprocal, Input.Value, _reciprocal, n);
        ctx.Backend.Multiply(Output.Grad!, _reciprocal, Input.Grad, n, ctx.Accumulate(Input));
    }
}

/// <summary>
/// Matrix product Y = A B. A is R x K (a batch or a fixed shape), B is K x N with a fixed shape, Y is R x N
/// (following the batch when A does).
/// </summary>
/// <remarks>Backward: dA += dY B^T (R x K), dB += A^T dY (K x N), both one GEMM with beta = 1 to accumulate.</remarks>
public sealed class MatMulNode : Node
{
    public MatMulNode(ComputationGraph graph, string name, Tensor a, Tensor b)
    {
        if (b.FollowsBatch || a.Cols != b.MaxRows)
            throw new ArgumentException(
                $"MatMul needs A (R x K) times B (K x N) with B of a fixed shape; got '{a.Name}' ({BroadcastNode.Describe(a)}) " +
                $"and '{b.Name}' ({BroadcastNode.Describe(b)}).", nameof(b));
        A = a;
        B = b;
        Output = a.FollowsBatch ? graph.CreateTensor($"{name}/output", b.Cols) : graph.CreateFixedTensor($"{name}/output", a.MaxRows, b.Cols);
    }

    public Tensor A { get; }
    public Tensor B { get; }

    public override void Forward(StepContext ctx) =>
        ctx.Backend.Gemm(false, false, A.ActiveRows(ctx), B.Cols, A.Cols, 1f, A.Value, B.Value, 0f, Output.Value);

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output)) return;
        int r = A.ActiveRows(ctx), k = A.Cols, n = B.Cols;
        var dy = Output.Grad!;
        if (A.Grad is not null) ctx.Backend.Gemm(false, true, r, k, n, 1f, dy, B.Value, ctx.Accumulate(A) ? 1f : 0f, A.Grad);
        if (B.Grad is not null) ctx.Backend.Gemm(true, false, k, n, r, 1f, A.Value, dy, ctx.Accumulate(B) ? 1f : 0f, B.Grad);
    }
}

/// <summary>
/// A sum (or mean) of an R x C input: over every element (Y is 1 x 1), over the rows (<c>axis</c> 0, Y is 1 x C)
/// or over the columns (<c>axis</c> 1, Y is R x 1, following the batch when X does).
/// </summary>
/// <remarks>
/// Y = s * X reduced, with s = 1 for a sum and 1 / (elements reduced) for a mean (R counts the step's rows).
/// Forward and backward are GEMMs with a vector of ones: Y = s 1^T X (axis 0), Y = s X 1 (axis 1), and
/// dX += s 1 dY (axis 0), dX += s dY 1^T (axis 1); the sum of every element is axis 0 of the input
/// flattened to an RC x 1 column.
/// Float32 sums of many elements carry rounding error ~ n * eps relative.
/// </remarks>
public sealed class SumNode : Node
{
    private readonly DeviceBuffer<float> _ones;

    public SumNode(ComputationGraph graph, string name, Tensor input, int? axis, bool mean)
    {
        if (axis is not (null or 0 or 1))
            throw new ArgumentOutOfRangeException(nameof(axis), axis, "Sum over axis 0 (the rows), 1 (the columns) or null (every element).");
        Input = input;
        Axis = axis;
        Mean = mean;
        Output = axis == 1 && input.FollowsBatch
            ? graph.CreateTensor($"{name}/output", 1, input.RequiresGrad)
            : graph.CreateFixedTensor($"{name}/output", axis == 1 ? input.MaxRows : 1, axis == 0 ? input.Cols : 1, input.RequiresGrad);
        _ones = graph.CreateBuffer(input.MaxRows * input.Cols, 1f); // not Value.Length: a parameter tensor has no buffer before Seal
    }

    public Tensor Input { get; }

    /// <summary>null: every element; 0: over the rows; 1: over the columns.</summary>
    public int? Axis { get; }

    /// <summary>True for the mean, false for the sum.</summary>
    public bool Mean { get; }

    public override void Forward(StepContext ctx)
    {
        var (rows, cols) = Layout(ctx);
        float s = Mean ? 1f / (Axis == 1 ? cols : rows) : 1f;
        if (Axis == 1) ctx.Backend.Gemm(false, false, rows, 1, cols, s, Input.Value, _ones, 0f, Output.Value); // X 1
        else ctx.Backend.Gemm(false, false, 1, cols, rows, s, _ones, Input.Value, 0f, Output.Value); // 1^T X
    }

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output) || Input.Grad is null) return;
        var (rows, cols) = Layout(ctx);
        float s = Mean ? 1f / (Axis == 1 ? cols : rows) : 1f;
        float beta = ctx.Accumulate(Input) ? 1f : 0f;
        if (Axis == 1) ctx.Backend.Gemm(false, false, rows, cols, 1, s, Output.Grad!, _ones, beta, Input.Grad); // dY 1^T
        else ctx.Backend.Gemm(false, false, rows, cols, 1, s, _ones, Output.Grad!, beta, Input.Grad); // 1 dY
    }

    // The whole sum reduces the flattened input, an RC x 1 column, over its rows.
    private (int Rows, int Cols) Layout(StepContext ctx) =>
        Axis is null ? (Input.ActiveCount(ctx), 1) : (Input.ActiveRows(ctx), Input.Cols);
}

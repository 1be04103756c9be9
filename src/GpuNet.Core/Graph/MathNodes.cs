using GpuNet.Backends;

namespace GpuNet.Graph;

// Exp, log, matrix product and sums of the autograd (ComputationGraph.Autograd.cs).

/// <summary>Y = e^X element-wise. Backward: dX += dY * Y.</summary>
public sealed class ExpNode : Node
{
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

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
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

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
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

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
    /// <summary>Its sums over the batch rows are weighted by the step's row weights, so padding rows add nothing.</summary>
    public override bool HandlesPaddedRows => true;

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
        _rowSums = axis is null && input.FollowsBatch ? graph.CreateBuffer(input.MaxRows) : null;
    }

    // per-row sums of a padded step's sum over every element (batch x 1), weighted afterwards
    private readonly DeviceBuffer<float>? _rowSums;

    public Tensor Input { get; }

    /// <summary>null: every element; 0: over the rows; 1: over the columns.</summary>
    public int? Axis { get; }

    /// <summary>True for the mean, false for the sum.</summary>
    public bool Mean { get; }

    public override void Forward(StepContext ctx)
    {
        if (Weights(ctx) is { } w)
        {
            // a padded step: the real rows weighted 1 (a sum) or 1 / A (a mean over the rows), padding 0
            int r = ctx.Rows, c = Input.Cols;
            if (Axis == 0) ctx.Backend.Gemm(false, false, 1, c, r, 1f, w, Input.Value, 0f, Output.Value); // w^T X
            else
            {
                ctx.Backend.Gemm(false, false, r, 1, c, 1f, Input.Value, _ones, 0f, _rowSums!); // X 1
                ctx.Backend.Gemm(false, false, 1, 1, r, Mean ? 1f / c : 1f, w, _rowSums!, 0f, Output.Value); // w^T (X 1)
            }
            return;
        }
        var (rows, cols) = Layout(ctx);
        float s = Mean ? 1f / (Axis == 1 ? cols : rows) : 1f;
        if (Axis == 1) ctx.Backend.Gemm(false, false, rows, 1, cols, s, Input.Value, _ones, 0f, Output.Value); // X 1
        else ctx.Backend.Gemm(false, false, 1, cols, rows, s, _ones, Input.Value, 0f, Output.Value); // 1^T X
    }

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output) || Input.Grad is null) return;
        if (Weights(ctx) is { } w)
        {
            // dX[r, :] = w_r dY (axis 0), or w_r dY / (C if a mean) in every column (every element): 0 in padding rows
            int r = ctx.Rows, c = Input.Cols;
            float b = ctx.Accumulate(Input) ? 1f : 0f;
            if (Axis == 0) ctx.Backend.Gemm(false, false, r, c, 1, 1f, w, Output.Grad!, b, Input.Grad);
            else
            {
                ctx.Backend.Gemm(false, false, r, 1, 1, Mean ? 1f / c : 1f, w, Output.Grad!, 0f, _rowSums!);
                ctx.Backend.Gemm(false, false, r, c, 1, 1f, _rowSums!, _ones, b, Input.Grad);
            }
            return;
        }
        var (rows, cols) = Layout(ctx);
        float s = Mean ? 1f / (Axis == 1 ? cols : rows) : 1f;
        float beta = ctx.Accumulate(Input) ? 1f : 0f;
        if (Axis == 1) ctx.Backend.Gemm(false, false, rows, cols, 1, s, Output.Grad!, _ones, beta, Input.Grad); // dY 1^T
        else ctx.Backend.Gemm(false, false, rows, cols, 1, s, _ones, Output.Grad!, beta, Input.Grad); // 1 dY
    }

    // The row weights of a padded step when this sum runs over the batch rows (axis 0 or every element of a batch tensor):
    // the gradient weights (1 / A) for a mean, the loss weights (1) for a sum; null otherwise.
    private DeviceBuffer<float>? Weights(StepContext ctx) =>
        Input.FollowsBatch && Axis != 1 ? (Mean ? ctx.GradientWeights : ctx.LossWeights) : null;

    // The whole sum reduces the flattened input, an RC x 1 column, over its rows.
    private (int Rows, int Cols) Layout(StepContext ctx) =>
        Axis is null ? (Input.ActiveCount(ctx), 1) : (Input.ActiveRows(ctx), Input.Cols);
}

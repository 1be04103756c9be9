using GpuNet.Backends;

namespace GpuNet.Graph;

// The element-wise binary ops of the autograd (ComputationGraph.Autograd.cs): both operands have the
// output's shape (the builder inserts a BroadcastNode first where they do not). n is the number of
// elements in use this step (Tensor.ActiveCount). Every backward rule is written with forward ops and
// adds where StepContext.Accumulate says a gradient already holds another consumer's contribution.

/// <summary>
/// Y = A + s B element-wise (same shape), s = 1 (add) or -1 (subtract). Backward: dA += dY, dB += s dY.
/// </summary>
public sealed class AddNode : Node
{
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

    private readonly DeviceBuffer<float> _one, _sign; // [1] each: ColumnAffine's scale, so y (+)= x * s is one launch

    /// <param name="subtract">True for A - B.</param>
    public AddNode(ComputationGraph graph, string name, Tensor a, Tensor b, bool subtract = false)
    {
        A = a;
        B = b;
        _one = graph.CreateBuffer(1, 1f);
        _sign = subtract ? graph.CreateBuffer(1, -1f) : _one;
        Subtract = subtract;
        Output = graph.CreateTensorLike($"{name}/output", a);
    }

    /// <summary>True for A - B.</summary>
    public bool Subtract { get; }

    public Tensor A { get; }
    public Tensor B { get; }

    public override void Forward(StepContext ctx)
    {
        int n = Output.ActiveCount(ctx);
        ctx.Backend.ColumnAffine(A.Value, _one, null, Output.Value, n, 1, accumulate: false);
        ctx.Backend.ColumnAffine(B.Value, _sign, null, Output.Value, n, 1, accumulate: true);
    }

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output)) return;
        int n = Output.ActiveCount(ctx);
        if (A.Grad is not null) ctx.Backend.ColumnAffine(Output.Grad!, _one, null, A.Grad, n, 1, ctx.Accumulate(A));
        if (B.Grad is not null) ctx.Backend.ColumnAffine(Output.Grad!, _sign, null, B.Grad, n, 1, ctx.Accumulate(B));
    }
}

/// <summary>Y = A * B element-wise (same shape). Backward: dA += dY * B, dB += dY * A.</summary>
/// <remarks>A and B may be the same tensor (x * x): its two contributions add up to 2 x dY.</remarks>
public sealed class MultiplyNode : Node
{
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

    public MultiplyNode(ComputationGraph graph, string name, Tensor a, Tensor b)
    {
        A = a;
        B = b;
        Output = graph.CreateTensorLike($"{name}/output", a);
    }

    public Tensor A { get; }
    public Tensor B { get; }

    public override void Forward(StepContext ctx) =>
        ctx.Backend.Multiply(A.Value, B.Value, Output.Value, Output.ActiveCount(ctx), accumulate: false);

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output)) return;
        int n = Output.ActiveCount(ctx);
        if (A.Grad is not null) ctx.Backend.Multiply(Output.Grad!, B.Value, A.Grad, n, ctx.Accumulate(A));
        if (B.Grad is not null) ctx.Backend.Multiply(Output.Grad!, A.Value, B.Grad, n, ctx.Accumulate(B));
    }
}

/// <summary>Y = A / B element-wise (same shape), as A * (1/B). Backward: dA += dY / B, dB -= dY * Y / B (= dY A / B^2).</summary>
/// <remarks>IEEE semantics: B = 0 gives +-inf or NaN, as in the forward pass.</remarks>
public sealed class DivideNode : Node
{
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

    private readonly DeviceBuffer<float> _reciprocal, _scratch; // 1/B from the forward pass; dY * Y in backward

    public DivideNode(ComputationGraph graph, string name, Tensor a, Tensor b)
    {
        A = a;
        B = b;
        Output = graph.CreateTensorLike($"{name}/output", a);
        _reciprocal = graph.CreateBuffer(Output.Value.Length);
        _scratch = graph.CreateBuffer(Output.Value.Length);
    }

    public Tensor A { get; }
    public Tensor B { get; }

    public override void Forward(StepContext ctx)
    {
        int n = Output.ActiveCount(ctx);
        ctx.Backend.Unary(UnaryOp.Reciprocal, B.Value, _reciprocal, n);
        ctx.Backend.Multiply(A.Value, _reciprocal, Output.Value, n, accumulate: false);
    }

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output)) return;
        int n = Output.ActiveCount(ctx);
        if (A.Grad is not null) ctx.Backend.Multiply(Output.Grad!, _reciprocal, A.Grad, n, ctx.Accumulate(A));
        if (B.Grad is not null)
        {
            // d(a/b)/db = -a/b^2 = -y/b
            ctx.Backend.Multiply(Output.Grad!, Output.Value, _scratch, n, accumulate: false);
            ctx.Backend.Scale(_scratch, n, -1f);
            ctx.Backend.Multiply(_scratch, _reciprocal, B.Grad, n, ctx.Accumulate(B));
        }
    }
}

/// <summary>
/// Y = X repeated to the shape of <c>like</c>: a 1 x C row vector copied to every row (Y[r, c] = X[0, c]),
/// or a 1 x 1 scalar copied to every element. Backward sums dY back: dX += column sums of dY (row vector)
/// or the sum of all of dY (scalar).
/// </summary>
/// <remarks>The element-wise ops insert it for their broadcast operand (numpy's rule, restricted to these two cases).</remarks>
public sealed class BroadcastNode : Node
{
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

    private readonly DeviceBuffer<float> _ones; // X is the scale of ColumnAffine(ones): y[r, c] = 1 * x[c]

    public BroadcastNode(ComputationGraph graph, string name, Tensor input, Tensor like)
    {
        if (input.FollowsBatch || input.MaxRows != 1 || (input.Cols != 1 && input.Cols != like.Cols))
            throw new ArgumentException(
                $"Cannot broadcast '{input.Name}' ({Describe(input)}) to '{like.Name}' ({Describe(like)}): " +
                "only a 1 x C row vector (over the rows) or a 1 x 1 scalar (over every element) broadcasts.", nameof(input));
        Input = input;
        Output = graph.CreateTensorLike($"{name}/output", like, requiresGrad: input.RequiresGrad);
        _ones = graph.CreateBuffer(Output.Value.Length, 1f);
    }

    public Tensor Input { get; }

    public override void Forward(StepContext ctx)
    {
        var (rows, cols) = Layout(ctx);
        ctx.Backend.ColumnAffine(_ones, Input.Value, null, Output.Value, rows, cols, accumulate: false);
    }

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output) || Input.Grad is null) return;
        var (rows, cols) = Layout(ctx);
        ctx.Backend.ColumnSum(Output.Grad!, rows, cols, Input.Grad, ctx.Accumulate(Input));
    }

    // A scalar is a row vector of the flattened output (R*C x 1).
    private (int Rows, int Cols) Layout(StepContext ctx) =>
        Input.Cols == Output.Cols ? (Output.ActiveRows(ctx), Output.Cols) : (Output.ActiveCount(ctx), 1);

    internal static string Describe(Tensor t) => t.FollowsBatch ? $"batch x {t.Cols}" : $"{t.MaxRows} x {t.Cols}";
}

/// <summary>
/// Y = [A, B] side by side: R x (Ca + Cb) from R x Ca and R x Cb (Keras' Concatenate on the feature axis). Backward hands
/// each input its block of dY's columns.
/// </summary>
public sealed class ConcatNode : Node
{
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

    public ConcatNode(ComputationGraph graph, string name, Tensor a, Tensor b)
    {
        if (a.FollowsBatch != b.FollowsBatch || (!a.FollowsBatch && a.MaxRows != b.MaxRows))
            throw new ArgumentException(
                $"Concatenate joins tensors with the same rows: '{a.Name}' ({Rows(a)} x {a.Cols}) and '{b.Name}' ({Rows(b)} x {b.Cols}) differ.");
        A = a;
        B = b;
        int cols = a.Cols + b.Cols;
        bool grad = a.Grad is not null || b.Grad is not null;
        Output = a.FollowsBatch ? graph.CreateTensor($"{name}/output", cols, grad) : graph.CreateFixedTensor($"{name}/output", a.MaxRows, cols, grad);

        static string Rows(Tensor t) => t.FollowsBatch ? "batch" : t.MaxRows.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public Tensor A { get; }
    public Tensor B { get; }

    public override void Forward(StepContext ctx)
    {
        int rows = Output.ActiveRows(ctx), width = Output.Cols;
        ctx.Backend.CopyColumns(A.Value, A.Cols, 0, Output.Value, width, 0, rows, A.Cols, accumulate: false);
        ctx.Backend.CopyColumns(B.Value, B.Cols, 0, Output.Value, width, A.Cols, rows, B.Cols, accumulate: false);
    }

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output)) return;
        int rows = Output.ActiveRows(ctx), width = Output.Cols;
        if (A.Grad is not null) ctx.Backend.CopyColumns(Output.Grad!, width, 0, A.Grad, A.Cols, 0, rows, A.Cols, ctx.Accumulate(A));
        if (B.Grad is not null) ctx.Backend.CopyColumns(Output.Grad!, width, A.Cols, B.Grad, B.Cols, 0, rows, B.Cols, ctx.Accumulate(B));
    }
}

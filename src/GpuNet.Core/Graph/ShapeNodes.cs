namespace GpuNet.Graph;

/// <summary>
/// Y = X with another row shape: (batch, <see cref="InputShape"/>) to (batch, <see cref="Node.Output"/>.Shape), the same
/// values in the same order (Keras' Reshape and Flatten, PyTorch's <c>view</c>). Y is a view of X: it shares X's value
/// and gradient buffers, so forward and backward do no device work.
/// </summary>
/// <remarks>
/// Backward: dX = dY, unchanged, which the shared gradient buffer already holds: a consumer of Y writes into X's gradient,
/// and <see cref="StepContext"/> counts Y and X as one tensor when it decides whether a contribution overwrites or adds.
/// The node is kept in the graph so that exports and summaries see the reshape.
/// </remarks>
public sealed class ReshapeNode : Node
{
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

    public ReshapeNode(string name, Tensor input, Shape shape)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Size != input.Cols)
            throw new ArgumentException(
                $"Cannot reshape '{input.Name}' {input.Shape.WithBatch()} ({input.Cols} values per sample) to {shape.WithBatch()} ({shape.Size} values per sample).",
                nameof(shape));
        Input = input;
        Output = new Tensor($"{name}/output", input, shape);
    }

    public Tensor Input { get; }

    /// <summary>The row shape of the input.</summary>
    public Shape InputShape => Input.Shape;

    /// <summary>True when the output has one dimension (a Flatten).</summary>
    public bool Flattens => Output.Shape.Rank == 1;

    public override void Forward(StepContext context) { }

    public override void Backward(StepContext context) { }
}

/// <summary>
/// Y = X[:, offset : offset + count]: a block of <see cref="Count"/> columns of each row of X, starting at column
/// <see cref="Offset"/> (a functional model's input taken from the model's joined input row). Unlike a reshape, Y has its own
/// buffers: forward copies the block with <see cref="Backends.IBackend.CopyColumns"/>.
/// </summary>
/// <remarks>
/// Backward: dX[:, offset : offset + count] += dY, and nothing for X's other columns. The first contribution of a step to
/// dX clears all of dX first, so the columns no slice covers hold zero, not the last step's gradient.
/// </remarks>
public sealed class SliceColumnsNode : Node
{
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

    public SliceColumnsNode(ComputationGraph graph, string name, Tensor input, int offset, int count)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(input);
        if (count < 1 || offset < 0 || offset > input.Cols - count)
            throw new ArgumentOutOfRangeException(nameof(count),
                $"Cannot take {count} columns from column {offset} of '{input.Name}', whose rows have {input.Cols} values: " +
                $"the block must lie within columns 0..{input.Cols - 1} and hold at least one column.");
        Input = input;
        Offset = offset;
        Count = count;
        bool grad = input.RequiresGrad;
        Output = input.FollowsBatch
            ? graph.CreateTensor($"{name}/output", count, grad)
            : graph.CreateFixedTensor($"{name}/output", input.MaxRows, count, grad);
    }

    public Tensor Input { get; }

    /// <summary>The first column taken.</summary>
    public int Offset { get; }

    /// <summary>The columns taken: the output's width.</summary>
    public int Count { get; }

    public override void Forward(StepContext ctx) =>
        ctx.Backend.CopyColumns(Input.Value, Input.Cols, Offset, Output.Value, Count, 0, Output.ActiveRows(ctx), Count, accumulate: false);

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output) || Input.Grad is null) return;
        if (!ctx.Accumulate(Input)) ctx.Backend.Fill(Input.Grad, 0f); // the other columns get no gradient from this node
        ctx.Backend.CopyColumns(Output.Grad!, Count, 0, Input.Grad, Input.Cols, Offset, Output.ActiveRows(ctx), Count, accumulate: true);
    }
}

public sealed partial class ComputationGraph
{
    /// <summary>
    /// <paramref name="x"/> with each row (sample) reshaped to <paramref name="shape"/>, the batch kept first (Keras'
    /// <c>Reshape(target_shape)</c>, PyTorch's <c>x.view(batch, *shape)</c>): a view sharing x's buffers, so it costs no
    /// device work, and its gradient flows back to x unchanged. One dimension may be -1, inferred from the others.
    /// </summary>
    /// <param name="x">A batch tensor (batch, d1, ..., dk), or a fixed R x C tensor (each of its rows is reshaped).</param>
    /// <param name="shape">The new shape of one row, batch not included; its size must equal x's values per row.</param>
    /// <exception cref="ArgumentException">The sizes differ, or the shape has more than one -1 or a dimension below -1 or of 0; the message names both shapes.</exception>
    /// <example><c>var image = g.Reshape(x, 28, 28); // (None, 784) -> (None, 28, 28)</c></example>
    public Tensor Reshape(Tensor x, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(x);
        var target = x.Shape.Reshape(shape);
        return Add(new ReshapeNode($"reshape{_nodes.Count}", x, target)).Output;
    }

    /// <summary>
    /// <paramref name="x"/> with each row flattened to one dimension: (batch, d1, ..., dk) to (batch, d1 ... dk), Keras'
    /// <c>Flatten</c> and PyTorch's <c>x.flatten(1)</c>. A view, as <see cref="Reshape"/>; a tensor that is already flat is returned as it is.
    /// </summary>
    public Tensor Flatten(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        return x.Shape.Rank == 1 ? x : Add(new ReshapeNode($"flatten{_nodes.Count}", x, x.Shape.Flatten())).Output;
    }

    /// <summary>
    /// Columns <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="count"/> - 1 of each row of
    /// <paramref name="x"/> (NumPy's <c>x[:, offset:offset + count]</c>), as a flat row of <paramref name="count"/> values:
    /// a copy, whose gradient flows back into that block of x's columns. The inverse of <see cref="Concatenate"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The block does not lie within x's columns, or is empty.</exception>
    /// <example><c>var left = g.SliceColumns(x, 0, 6); var right = g.SliceColumns(x, 6, 3); // x is (None, 9)</c></example>
    public Tensor SliceColumns(Tensor x, int offset, int count)
    {
        ArgumentNullException.ThrowIfNull(x);
        return Add(new SliceColumnsNode(this, $"slice{_nodes.Count}", x, offset, count)).Output;
    }
}

namespace GpuNet.Graph;

/// <summary>
/// One operation of the static graph: it knows its inputs, writes its output in <see cref="Forward"/>,
/// and in <see cref="Backward"/> turns the output's gradient into its inputs' and parameters' gradients.
/// </summary>
/// <remarks>
/// Backward rules add into gradients that other consumers of the same tensor also feed: they ask
/// <see cref="StepContext.Accumulate(Tensor)"/> whether to overwrite (first contribution this step) or add,
/// so no gradient buffer needs zeroing before a step.
/// </remarks>
public abstract class Node
{
    /// <summary>The tensor this node writes.</summary>
    public Tensor Output { get; protected init; } = null!;

    /// <summary>Computes <see cref="Output"/> for the first <see cref="StepContext.Rows"/> rows.</summary>
    public abstract void Forward(StepContext context);

    /// <summary>Propagates the gradient of <see cref="Output"/> to inputs and parameters.</summary>
    public abstract void Backward(StepContext context);

    /// <summary>Parameters this node owns (weights, biases).</summary>
    public virtual IEnumerable<Parameter> Parameters => [];
}

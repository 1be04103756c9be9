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

    /// <summary>
    /// Whether the node is right on a padded training step (<see cref="ComputationGraph.PadsPartialBatches"/>): it works row
    /// by row, so padding rows change nothing it computes for the real ones, and whatever it sums over the batch rows (a loss,
    /// a statistic) it weights with <see cref="StepContext.RowWeights"/>, so padding adds nothing. False by default: a graph
    /// with a node that does not say so runs a smaller batch at its own row count instead. Every built-in node handles them.
    /// </summary>
    public virtual bool HandlesPaddedRows => false;

    /// <summary>Parameters this node owns (weights, biases).</summary>
    public virtual IEnumerable<Parameter> Parameters => [];
}

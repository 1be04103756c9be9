using GpuNet.Backends;

namespace GpuNet.Graph;

/// <summary>The state of one forward/backward pass: the backend, the batch rows, and gradient bookkeeping.</summary>
public sealed class StepContext
{
    // Which gradient buffers already hold this step's first contribution (host-side flags, no device work). A reshaped
    // view shares its source's gradient buffer, so both are recorded as their storage: a contribution through either
    // is the first or a later one for both.
    private readonly HashSet<object> _written = new(ReferenceEqualityComparer.Instance);

    internal StepContext(IBackend backend) => Backend = backend;

    public IBackend Backend { get; }

    /// <summary>Rows in this step's batch (at most the graph's batch capacity).</summary>
    public int Rows { get; internal set; }

    /// <summary>True in training (dropout active, batch statistics), false in inference.</summary>
    public bool Training { get; internal set; }

    /// <summary>False for the first gradient contribution to <paramref name="tensor"/> (or to a view sharing its buffers) this step (overwrite), true after (add).</summary>
    public bool Accumulate(Tensor tensor) => !_written.Add(tensor.Storage);

    /// <summary>False for the first gradient contribution to <paramref name="parameter"/> this step, true after.</summary>
    public bool Accumulate(Parameter parameter) => !_written.Add(parameter);

    /// <summary>Whether any gradient has been written into <paramref name="tensor"/> this step.</summary>
    public bool HasGradient(Tensor tensor) => _written.Contains(tensor.Storage);

    internal void ResetGradients() => _written.Clear();
}

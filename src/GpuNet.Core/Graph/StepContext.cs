using GpuNet.Backends;

namespace GpuNet.Graph;

/// <summary>The state of one forward/backward pass: the backend, the batch rows, and gradient bookkeeping.</summary>
public sealed class StepContext
{
    // Which gradient buffers already hold this step's first contribution (host-side flags, no device work).
    private readonly HashSet<object> _written = new(ReferenceEqualityComparer.Instance);

    internal StepContext(IBackend backend) => Backend = backend;

    public IBackend Backend { get; }

    /// <summary>Rows in this step's batch (at most the graph's batch capacity).</summary>
    public int Rows { get; internal set; }

    /// <summary>True in training (dropout active, batch statistics), false in inference.</summary>
    public bool Training { get; internal set; }

    /// <summary>False for the first gradient contribution to <paramref name="tensor"/> this step (overwrite), true after (add).</summary>
    public bool Accumulate(Tensor tensor) => !_written.Add(tensor);

    /// <summary>False for the first gradient contribution to <paramref name="parameter"/> this step, true after.</summary>
    public bool Accumulate(Parameter parameter) => !_written.Add(parameter);

    /// <summary>Whether any gradient has been written into <paramref name="tensor"/> this step.</summary>
    public bool HasGradient(Tensor tensor) => _written.Contains(tensor);

    internal void ResetGradients() => _written.Clear();
}

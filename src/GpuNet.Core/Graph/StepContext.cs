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

    /// <summary>
    /// Rows every operation of this step runs over (at most the graph's batch capacity). A training step of a graph that
    /// pads (<see cref="ComputationGraph.PadsPartialBatches"/>) runs the whole capacity, its last
    /// <see cref="Rows"/> - <see cref="SampleRows"/> rows padding.
    /// </summary>
    public int Rows { get; internal set; }

    /// <summary>Rows of real samples in this step: <see cref="Rows"/>, less the padding of a padded training step.</summary>
    public int SampleRows { get; internal set; }

    /// <summary>
    /// The row weights of a padded training step (2 x <see cref="Rows"/> + 1 values, see <see cref="StepValues"/>), for the
    /// fused operations' rowWeights; null when every row is a real sample (inference, a graph that does not pad).
    /// A node whose operation sums over the batch rows passes them, or weights its sum with <see cref="LossWeights"/> or
    /// <see cref="GradientWeights"/>, so padding rows add nothing.
    /// </summary>
    public DeviceBuffer<float>? RowWeights => Padding?.RowWeights;

    /// <summary>1 for each real row, 0 for padding (Rows values); null when not padded.</summary>
    public DeviceBuffer<float>? LossWeights => Padding?.LossWeights;

    /// <summary>1 / <see cref="SampleRows"/> for each real row, 0 for padding (Rows values); null when not padded.</summary>
    public DeviceBuffer<float>? GradientWeights => Padding?.GradientWeights;

    /// <summary><see cref="SampleRows"/> as one float on the device; null when not padded.</summary>
    public DeviceBuffer<float>? ActiveRowCount => Padding?.ActiveRowCount;

    /// <summary>The graph's step values on a padded training step (the weights above are theirs), null otherwise.</summary>
    internal StepValues? Padding { get; set; }

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

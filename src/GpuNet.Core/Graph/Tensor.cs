using GpuNet.Backends;

namespace GpuNet.Graph;

/// <summary>
/// A value in the computational graph: a row-major matrix of up to <see cref="MaxRows"/> rows (the batch)
/// and <see cref="Cols"/> columns, with its device buffer and, when it needs one, its gradient buffer.
/// </summary>
/// <remarks>
/// Buffers are allocated once, for <see cref="MaxRows"/> rows, when the graph is built. A step with a
/// smaller batch (the last, partial batch of an epoch) uses the first rows only. A tensor that does not
/// <see cref="FollowsBatch"/> (an autograd variable or constant, a reduction) has a fixed shape and
/// always uses all <see cref="MaxRows"/> rows.
/// </remarks>
public sealed class Tensor
{
    internal Tensor(string name, int maxRows, int cols, DeviceBuffer<float> value, DeviceBuffer<float>? grad, bool followsBatch = true)
    {
        Name = name;
        MaxRows = maxRows;
        Cols = cols;
        Value = value;
        Grad = grad;
        FollowsBatch = followsBatch;
    }

    /// <summary>A name for messages and summaries.</summary>
    public string Name { get; }

    /// <summary>Rows the buffers hold (the batch size the graph was built for).</summary>
    public int MaxRows { get; }

    /// <summary>Columns (features per sample).</summary>
    public int Cols { get; }

    /// <summary>The forward value, MaxRows x Cols (for a <see cref="ComputationGraph.ParameterTensor"/>, a view of the
    /// parameter that exists once the graph is sealed).</summary>
    public DeviceBuffer<float> Value { get; internal set; }

    /// <summary>d(loss)/d(value), MaxRows x Cols, or null where no gradient flows (the input).</summary>
    public DeviceBuffer<float>? Grad { get; internal set; }

    /// <summary>True when a gradient flows into this tensor: it has a <see cref="Grad"/> buffer, or it is a
    /// <see cref="ComputationGraph.ParameterTensor"/>, whose buffer exists once the graph is sealed.</summary>
    public bool RequiresGrad => Grad is not null || IsParameter;

    /// <summary>A view of a trainable parameter (<see cref="ComputationGraph.ParameterTensor"/>).</summary>
    public bool IsParameter { get; internal init; }

    /// <summary>True when the rows are the step's batch (activations); false for a fixed MaxRows x Cols shape.</summary>
    public bool FollowsBatch { get; }

    /// <summary>Rows in use in the current step: the step's batch, or <see cref="MaxRows"/> for a fixed shape.</summary>
    public int ActiveRows(StepContext context) => FollowsBatch ? context.Rows : MaxRows;

    /// <summary>Elements in use in the current step: <see cref="ActiveRows"/> x <see cref="Cols"/>.</summary>
    public int ActiveCount(StepContext context) => ActiveRows(context) * Cols;

    public override string ToString() => $"{Name} [{MaxRows} x {Cols}]";
}

/// <summary>A trainable matrix (weights: Rows x Cols; a bias: 1 x Cols) with its gradient.</summary>
/// <remarks>Value and Grad are slices of the graph's single parameter and gradient buffers.</remarks>
public sealed class Parameter
{
    internal Parameter(string name, int rows, int cols, int offset)
    {
        Name = name;
        Rows = rows;
        Cols = cols;
        Offset = offset;
    }

    public string Name { get; }
    public int Rows { get; }
    public int Cols { get; }

    /// <summary>Rows x Cols.</summary>
    public int Count => Rows * Cols;

    /// <summary>Where the parameter starts in the flat parameter buffer.</summary>
    public int Offset { get; }

    public DeviceBuffer<float> Value { get; internal set; } = null!;
    public DeviceBuffer<float> Grad { get; internal set; } = null!;

    public override string ToString() => $"{Name} [{Rows} x {Cols}]";
}

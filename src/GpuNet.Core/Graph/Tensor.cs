using GpuNet.Backends;

namespace GpuNet.Graph;

/// <summary>
/// A value in the computational graph: a row-major matrix of up to <see cref="MaxRows"/> rows (the batch)
/// and <see cref="Cols"/> columns, with its device buffer and, when it needs one, its gradient buffer.
/// Each row is one sample of shape <see cref="Shape"/>, so the whole tensor is (batch, d1, ..., dk).
/// </summary>
/// <remarks>
/// <para>Buffers are allocated once, for <see cref="MaxRows"/> rows, when the graph is built. A step with a
/// smaller batch (the last, partial batch of an epoch) uses the first rows only. A tensor that does not
/// <see cref="FollowsBatch"/> (an autograd variable or constant, a reduction) has a fixed shape and
/// always uses all <see cref="MaxRows"/> rows.</para>
/// <para>The shape only describes the row: storage is always MaxRows x Cols with Cols = Shape.Size, so every backend
/// operation sees a matrix. A tensor made by <see cref="ComputationGraph.Reshape"/> is a view: it shares the value and
/// gradient buffers of the tensor it reshapes (its <see cref="ViewOf"/>), and gradient bookkeeping treats the two as one.</para>
/// </remarks>
public sealed class Tensor
{
    private DeviceBuffer<float> _value;
    private DeviceBuffer<float>? _grad;

    internal Tensor(string name, int maxRows, int cols, DeviceBuffer<float> value, DeviceBuffer<float>? grad, bool followsBatch = true, Shape? shape = null)
    {
        if (shape is not null && shape.Size != cols)
            throw new ArgumentException($"Tensor '{name}': shape {shape} has {shape.Size} values per row, not {cols}.", nameof(shape));
        Name = name;
        MaxRows = maxRows;
        Cols = cols;
        _value = value;
        _grad = grad;
        FollowsBatch = followsBatch;
        Shape = shape ?? new Shape(cols);
    }

    // A view of source with another row shape: the same buffers (read through source, so a parameter's view sees them once sealed).
    internal Tensor(string name, Tensor source, Shape shape)
        : this(name, source.MaxRows, source.Cols, null!, null, source.FollowsBatch, shape)
    {
        ViewOf = source;
        IsParameter = source.IsParameter;
    }

    /// <summary>A name for messages and summaries.</summary>
    public string Name { get; }

    /// <summary>Rows the buffers hold (the batch size the graph was built for).</summary>
    public int MaxRows { get; }

    /// <summary>Columns (values per sample): <see cref="Shape"/>.Size.</summary>
    public int Cols { get; }

    /// <summary>The shape of one row (one sample), batch not included: (Cols) for a flat row of features.</summary>
    public Shape Shape { get; }

    /// <summary>The tensor whose buffers this one shares (made by <see cref="ComputationGraph.Reshape"/>), or null.</summary>
    public Tensor? ViewOf { get; }

    /// <summary>The tensor that owns the buffers: this one, or the end of the <see cref="ViewOf"/> chain. Gradient
    /// bookkeeping (<see cref="StepContext.Accumulate(Tensor)"/>) is kept per storage, since views share one gradient.</summary>
    internal Tensor Storage => ViewOf?.Storage ?? this;

    /// <summary>The forward value, MaxRows x Cols (for a <see cref="ComputationGraph.ParameterTensor"/>, a view of the
    /// parameter that exists once the graph is sealed).</summary>
    public DeviceBuffer<float> Value
    {
        get => ViewOf?.Value ?? _value;
        internal set => _value = value;
    }

    /// <summary>d(loss)/d(value), MaxRows x Cols, or null where no gradient flows (the input).</summary>
    public DeviceBuffer<float>? Grad
    {
        get => ViewOf is null ? _grad : ViewOf.Grad;
        internal set => _grad = value;
    }

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

    public override string ToString() => Shape.Rank == 1 ? $"{Name} [{MaxRows} x {Cols}]" : $"{Name} [{MaxRows} x {string.Join(" x ", Shape)}]";
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

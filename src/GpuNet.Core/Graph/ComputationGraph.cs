using GpuNet.Backends;

namespace GpuNet.Graph;

/// <summary>
/// A static computational graph: nodes are added once, in topological order, with every buffer
/// preallocated for <see cref="BatchCapacity"/> rows. <see cref="Forward(int, bool)"/> and <see cref="Backward()"/>
/// then only launch backend operations: no allocation and no host synchronization.
/// </summary>
/// <remarks>
/// All parameters live in one flat buffer (and their gradients in another), so an optimizer updates
/// every parameter of the model with a single launch. Call <see cref="Seal"/> after the last node.
/// </remarks>
public sealed partial class ComputationGraph : IDisposable
{
    private readonly List<Node> _nodes = [];
    private readonly List<Parameter> _parameters = [];
    private readonly List<DeviceBuffer<float>> _owned = [];
    private readonly List<DeviceBuffer<int>> _ownedInts = [];
    private readonly List<(string, DeviceBuffer<float>)> _states = [];
    private readonly List<(Tensor Tensor, Parameter Parameter)> _parameterTensors = [];
    private int _parameterCount;

    public ComputationGraph(IBackend backend, int batchCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchCapacity, 1);
        Backend = backend;
        BatchCapacity = batchCapacity;
        Context = new StepContext(backend);
        StepValues = new StepValues(batchCapacity);
    }

    public IBackend Backend { get; }

    /// <summary>The largest batch a step can run (rows of every activation buffer).</summary>
    public int BatchCapacity { get; }

    public StepContext Context { get; }

    /// <summary>The values that change every training step, in one device buffer (allocated by <see cref="Seal"/>).</summary>
    public StepValues StepValues { get; }

    public IReadOnlyList<Node> Nodes => _nodes;

    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Every parameter, contiguous (valid after <see cref="Seal"/>).</summary>
    public DeviceBuffer<float> ParameterBuffer { get; private set; } = null!;

    /// <summary>Every parameter's gradient, in the same layout as <see cref="ParameterBuffer"/>.</summary>
    public DeviceBuffer<float> GradientBuffer { get; private set; } = null!;

    /// <summary>Total trainable scalars.</summary>
    public int ParameterCount => _parameterCount;

    public bool IsSealed { get; private set; }

    /// <summary>Creates a tensor of BatchCapacity x <paramref name="cols"/> (with a gradient buffer unless <paramref name="requiresGrad"/> is false).</summary>
    public Tensor CreateTensor(string name, int cols, bool requiresGrad = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        return CreateTensor(name, new Shape(cols), requiresGrad);
    }

    /// <summary>Creates a tensor of BatchCapacity samples of <paramref name="shape"/>: BatchCapacity x shape.Size, row-major
    /// (with a gradient buffer unless <paramref name="requiresGrad"/> is false).</summary>
    public Tensor CreateTensor(string name, Shape shape, bool requiresGrad = true)
    {
        ThrowIfSealed();
        ArgumentNullException.ThrowIfNull(shape);
        int cols = shape.Size;
        var value = Own(Backend.Allocate<float>(checked(BatchCapacity * cols)));
        var grad = requiresGrad ? Own(Backend.Allocate<float>(BatchCapacity * cols)) : null;
        return new Tensor(name, BatchCapacity, cols, value, grad, shape: shape);
    }

    /// <summary>
    /// Creates a tensor of the same shape as <paramref name="like"/>: BatchCapacity samples of its <see cref="Tensor.Shape"/> when it
    /// follows the batch, else its fixed MaxRows x Cols (with a gradient buffer unless <paramref name="requiresGrad"/> is false).
    /// </summary>
    public Tensor CreateTensorLike(string name, Tensor like, bool requiresGrad = true) =>
        like.FollowsBatch ? CreateTensor(name, like.Shape, requiresGrad) : CreateFixedTensor(name, like.MaxRows, like.Cols, requiresGrad, like.Shape);

    /// <summary>Creates a tensor of a fixed <paramref name="rows"/> x <paramref name="cols"/> shape that does not follow the batch.</summary>
    public Tensor CreateFixedTensor(string name, int rows, int cols, bool requiresGrad = true) => CreateFixedTensor(name, rows, cols, requiresGrad, null);

    // rowShape: the shape of each row (cols values), (cols) when null
    private Tensor CreateFixedTensor(string name, int rows, int cols, bool requiresGrad, Shape? rowShape)
    {
        ThrowIfSealed();
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        var value = Own(Backend.Allocate<float>(rows * cols));
        var grad = requiresGrad ? Own(Backend.Allocate<float>(rows * cols)) : null;
        return new Tensor(name, rows, cols, value, grad, followsBatch: false, shape: rowShape);
    }

    /// <summary>A scratch float buffer owned by the graph, filled with <paramref name="initialValue"/> (not saved, unlike <see cref="CreateState"/>).</summary>
    public DeviceBuffer<float> CreateBuffer(int length, float initialValue = 0f)
    {
        ThrowIfSealed();
        var buffer = Own(Backend.Allocate<float>(Math.Max(length, 1)));
        if (initialValue != 0f) Backend.Fill(buffer, initialValue);
        return buffer;
    }

    /// <summary>A persistent, non-trainable float buffer (moving averages, fixed scales), filled with <paramref name="initialValue"/>.</summary>
    public DeviceBuffer<float> CreateState(string name, int length, float initialValue = 0f)
    {
        ThrowIfSealed();
        var buffer = Own(Backend.Allocate<float>(length));
        if (initialValue != 0f) Backend.Fill(buffer, initialValue);
        _states.Add((name, buffer));
        return buffer;
    }

    /// <summary>Named non-trainable state buffers (for saving and inspection).</summary>
    public IReadOnlyList<(string Name, DeviceBuffer<float> Buffer)> States => _states;

    /// <summary>A scratch int buffer owned by the graph (e.g. maxout's winners).</summary>
    public DeviceBuffer<int> CreateIntBuffer(int length)
    {
        ThrowIfSealed();
        var buffer = Backend.Allocate<int>(length);
        _ownedInts.Add(buffer);
        return buffer;
    }

    /// <summary>Reserves a trainable parameter; its buffers exist after <see cref="Seal"/>.</summary>
    public Parameter CreateParameter(string name, int rows, int cols)
    {
        ThrowIfSealed();
        var p = new Parameter(name, rows, cols, _parameterCount);
        _parameterCount = checked(_parameterCount + p.Count);
        _parameters.Add(p);
        return p;
    }

    /// <summary>
    /// <paramref name="parameter"/> as a fixed Rows x Cols tensor with a gradient, for the autograd operations
    /// (<see cref="MatMul"/>, <see cref="Add(Tensor, Tensor)"/> ...): a user-written layer's weight. Its
    /// <see cref="Tensor.Value"/> and <see cref="Tensor.Grad"/> are the parameter's own slices of
    /// <see cref="ParameterBuffer"/> and <see cref="GradientBuffer"/> (no copy), so the optimizer updates it with
    /// every other parameter; they exist once the graph is sealed.
    /// </summary>
    /// <remarks>
    /// The gradient is written by the operations that consume the tensor; when none does in a step (the weight
    /// does not reach the output), <see cref="Backward()"/> sets it to zero. A parameter is either used through
    /// this tensor or by a node that owns it (<see cref="AffineNode"/>), not both.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="parameter"/> is not one of this graph's parameters.</exception>
    public Tensor ParameterTensor(Parameter parameter)
    {
        ThrowIfSealed();
        if (!_parameters.Contains(parameter))
            throw new ArgumentException($"'{parameter.Name}' is not a parameter of this graph; create it with CreateParameter.", nameof(parameter));
        foreach (var (t, p) in _parameterTensors)
            if (p == parameter) return t;
        var tensor = new Tensor(parameter.Name, parameter.Rows, parameter.Cols, null!, null!, followsBatch: false) { IsParameter = true };
        _parameterTensors.Add((tensor, parameter));
        return tensor;
    }

    /// <summary>Appends a node; nodes must be added after the nodes that produce their inputs.</summary>
    public T Add<T>(T node) where T : Node
    {
        ThrowIfSealed();
        _nodes.Add(node);
        return node;
    }

    /// <summary>Allocates the flat parameter and gradient buffers and points every parameter into them.</summary>
    public void Seal()
    {
        ThrowIfSealed();
        StepValues.Allocate(Backend);
        ParameterBuffer = Own(Backend.Allocate<float>(Math.Max(_parameterCount, 1)));
        GradientBuffer = Own(Backend.Allocate<float>(Math.Max(_parameterCount, 1)));
        foreach (var p in _parameters)
        {
            p.Value = ParameterBuffer.Slice(p.Offset, p.Count);
            p.Grad = GradientBuffer.Slice(p.Offset, p.Count);
        }
        foreach (var (t, p) in _parameterTensors)
        {
            t.Value = p.Value;
            t.Grad = p.Grad;
        }
        PadsPartialBatches = _nodes.All(n => n.HandlesPaddedRows);
        IsSealed = true;
    }

    /// <summary>
    /// Whether a training step with fewer rows than <see cref="BatchCapacity"/> runs the whole capacity with the extra rows
    /// as padding, weighted out of every sum by <see cref="StepValues.RowWeights"/> (so every training step launches the same
    /// operations with the same arguments), rather than with its own row counts. True when every node handles padding rows
    /// (<see cref="Node.HandlesPaddedRows"/>); set by <see cref="Seal"/>.
    /// </summary>
    public bool PadsPartialBatches { get; private set; }

    /// <summary>Runs every node forward for a batch of <paramref name="rows"/> rows.</summary>
    /// <remarks>
    /// In training the step values are uploaded first if they changed since the last upload (Fit uploads them itself at the
    /// start of a step, so nothing is sent here), and <see cref="StepValues.Step"/> advances by one afterwards. A training
    /// step of a graph that <see cref="PadsPartialBatches"/> runs all <see cref="BatchCapacity"/> rows: rows
    /// [<paramref name="rows"/>, capacity) of the inputs are padding: they must hold finite values (Fit repeats the batch's
    /// own samples there; a weight gradient multiplies them by their zero gradients), and they add nothing to the loss, the
    /// counts, the batch statistics or the gradients.
    /// </remarks>
    public void Forward(int rows, bool training)
    {
        ThrowIfNotSealed();
        if (rows < 1 || rows > BatchCapacity)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"A step runs 1..{BatchCapacity} rows (the batch size the graph was built for).");
        bool padded = training && PadsPartialBatches;
        if (padded) StepValues.ActiveRows = rows;
        Context.Rows = padded ? BatchCapacity : rows;
        Context.SampleRows = rows;
        Context.Padding = padded ? StepValues : null;
        Context.Training = training;
        if (training) StepValues.UploadIfDirty();
        foreach (var node in _nodes) node.Forward(Context);
        if (training) StepValues.Step++;
    }

    /// <summary>Runs every node's backward rule in reverse order (after a <see cref="Forward(int, bool)"/> of the same rows).</summary>
    public void Backward()
    {
        ThrowIfNotSealed();
        Context.ResetGradients();
        for (int i = _nodes.Count - 1; i >= 0; i--) _nodes[i].Backward(Context);
        ZeroUnreachedParameterTensors();
    }

    // A parameter tensor no operation wrote a gradient into this step gets zero, not the last step's.
    private void ZeroUnreachedParameterTensors()
    {
        foreach (var (t, _) in _parameterTensors)
            if (!Context.HasGradient(t)) Backend.Fill(t.Grad!, 0f);
    }

    private DeviceBuffer<float> Own(DeviceBuffer<float> buffer)
    {
        _owned.Add(buffer);
        return buffer;
    }

    private void ThrowIfSealed()
    {
        if (IsSealed) throw new InvalidOperationException("The graph is sealed: build every node and parameter before Seal().");
    }

    private void ThrowIfNotSealed()
    {
        if (!IsSealed) throw new InvalidOperationException("Call Seal() after adding the last node, before running the graph.");
    }

    public void Dispose()
    {
        foreach (var b in _owned) b.Dispose();
        foreach (var b in _ownedInts) b.Dispose();
        StepValues.Dispose();
        _owned.Clear();
        _ownedInts.Clear();
    }
}

using GpuNet.Backends;

namespace GpuNet.Graph;

/// <summary>
/// The values that change from one training step to the next, in one small device buffer of ints per graph: the optimizer's
/// learning rate and bias corrections, the step counter that keys dropout masks and image augmentations, and the batch's
/// row indices; and, in a float buffer beside it, the row weights that say which rows of the batch are real samples. A step
/// writes them into host arrays allocated once and sends them with two <see cref="IBackend.Upload{T}"/> calls (the same
/// arguments every step); the operations read them on the device, so a training step is the same sequence of launches with
/// the same arguments every step, a smaller last batch included (see docs/architecture.md).
/// </summary>
/// <remarks>
/// Layout (ints): [<see cref="LearningRateIndex"/>, +3) learning rate, bias correction 1 and 2 as float bits
/// (<see cref="IBackend.OptimizerUpdate"/>); [<see cref="StepIndex"/>, +2) the step counter, low word first
/// (<see cref="IBackend.Dropout"/>, <see cref="IBackend.AugmentImages"/>); from <see cref="BatchIndexOffset"/>, one index per
/// row of the batch capacity (the rows <see cref="IBackend.GatherRows"/> takes from the dataset).
/// <para><see cref="RowWeights"/> (floats, for a batch capacity C and A real rows): [0, C) the loss weights, 1 for the A real
/// rows and 0 for the padding after them; [C, 2C) the gradient weights, 1 / A for the real rows and 0 after; [2C] A itself.
/// The fused losses, the accuracy counts and batch normalization take the first 2C as their row weights (IBackend.Fused.cs),
/// so a last batch of A &lt; C rows runs at C rows with the padding dropped from every sum.</para>
/// </remarks>
public sealed class StepValues
{
    /// <summary>Index of the learning rate, followed by bias corrections 1 and 2 (float bits).</summary>
    public const int LearningRateIndex = 0;

    /// <summary>Index of the 64-bit step counter (low word, then high word).</summary>
    public const int StepIndex = LearningRateIndex + OptimizerMath.StepValueCount;

    /// <summary>Index of the first batch row index.</summary>
    public const int BatchIndexOffset = 8;

    private readonly int[] _host;
    private readonly float[] _hostWeights;
    private readonly int _capacity;
    private DeviceBuffer<int>? _buffer;
    private DeviceBuffer<float>? _weights, _lossWeights, _gradientWeights, _activeRowCount;
    private IBackend? _backend;

    internal StepValues(int batchCapacity)
    {
        _capacity = batchCapacity;
        _host = new int[BatchIndexOffset + batchCapacity];
        _hostWeights = new float[2 * batchCapacity + 1];
        SetOptimizerValues(0f, 1f, 1f);
        WriteRowWeights(batchCapacity);
    }

    /// <summary>The device buffer (allocated when the graph is sealed).</summary>
    /// <exception cref="InvalidOperationException">The graph is not sealed yet.</exception>
    public DeviceBuffer<int> Buffer => _buffer ?? throw new InvalidOperationException("The step values exist once the graph is sealed.");

    /// <summary>The row weights of the batch (see the remarks): the loss weights, the gradient weights, then the real rows' count.</summary>
    /// <exception cref="InvalidOperationException">The graph is not sealed yet.</exception>
    public DeviceBuffer<float> RowWeights => _weights ?? throw new InvalidOperationException("The step values exist once the graph is sealed.");

    /// <summary>The loss weights: 1 for a real row, 0 for padding (the first row of <see cref="RowWeights"/>).</summary>
    public DeviceBuffer<float> LossWeights => _lossWeights ?? throw new InvalidOperationException("The step values exist once the graph is sealed.");

    /// <summary>The gradient weights: 1 / A for a real row, 0 for padding (the second row of <see cref="RowWeights"/>).</summary>
    public DeviceBuffer<float> GradientWeights => _gradientWeights ?? throw new InvalidOperationException("The step values exist once the graph is sealed.");

    /// <summary>The count of real rows A as one float (the last value of <see cref="RowWeights"/>).</summary>
    public DeviceBuffer<float> ActiveRowCount => _activeRowCount ?? throw new InvalidOperationException("The step values exist once the graph is sealed.");

    /// <summary>
    /// The real rows of the step's batch (host copy), 1 to the batch capacity: setting it rewrites the row weights, which
    /// then wait for an upload.
    /// </summary>
    public int ActiveRows
    {
        get => (int)_hostWeights[2 * _capacity];
        set
        {
            if (value < 1 || value > _capacity)
                throw new ArgumentOutOfRangeException(nameof(value), value, $"A step has 1..{_capacity} real rows (the batch capacity).");
            if (value == ActiveRows) return;
            WriteRowWeights(value);
            IsDirty = true;
        }
    }

    private void WriteRowWeights(int rows)
    {
        var loss = _hostWeights.AsSpan(0, _capacity);
        var gradient = _hostWeights.AsSpan(_capacity, _capacity);
        loss[..rows].Fill(1f);
        loss[rows..].Clear();
        gradient[..rows].Fill(1f / rows);
        gradient[rows..].Clear();
        _hostWeights[2 * _capacity] = rows;
    }

    /// <summary>Whether the host arrays hold values not uploaded yet.</summary>
    public bool IsDirty { get; private set; }

    /// <summary>
    /// The training step counter (host copy): dropout masks and augmentations are drawn from it. Fit sets it to the
    /// iteration before each step; <see cref="ComputationGraph.Forward(int, bool)"/> in training advances it by one afterwards,
    /// so consecutive training passes draw new masks.
    /// </summary>
    public ulong Step
    {
        get => StepValueMath.Counter(_host[StepIndex], _host[StepIndex + 1]);
        set
        {
            Set(StepIndex, StepValueMath.CounterLow(value));
            Set(StepIndex + 1, StepValueMath.CounterHigh(value));
        }
    }

    /// <summary>The learning rate this step's update applies (host copy).</summary>
    public float LearningRate => StepValueMath.ToFloat(_host[LearningRateIndex]);

    /// <summary>Writes the optimizer's per-step values; returns whether any changed (they then wait for an upload).</summary>
    public bool SetOptimizerValues(float learningRate, float biasCorrection1, float biasCorrection2)
    {
        bool changed = Set(LearningRateIndex, StepValueMath.FromFloat(learningRate));
        changed |= Set(LearningRateIndex + 1, StepValueMath.FromFloat(biasCorrection1));
        changed |= Set(LearningRateIndex + 2, StepValueMath.FromFloat(biasCorrection2));
        OptimizerValuesPending |= changed;
        return changed;
    }

    /// <summary>Whether the optimizer's values changed since the last upload (the update must not run before one).</summary>
    public bool OptimizerValuesPending { get; private set; }

    /// <summary>The host array's batch row indices (batch capacity of them), to fill before <see cref="Upload"/>.</summary>
    public Span<int> BatchIndices
    {
        get
        {
            IsDirty = true;
            return _host.AsSpan(BatchIndexOffset);
        }
    }

    /// <summary>Sends the host arrays to the device: a training step's two uploads, the same every step.</summary>
    public void Upload()
    {
        _backend!.Upload<int>(_host, Buffer);
        _backend.Upload<float>(_hostWeights, RowWeights);
        IsDirty = false;
        OptimizerValuesPending = false;
    }

    /// <summary>Uploads when the host array changed since the last upload.</summary>
    public void UploadIfDirty()
    {
        if (IsDirty) Upload();
    }

    internal void Allocate(IBackend backend)
    {
        _backend = backend;
        _buffer = backend.Allocate<int>(_host.Length);
        _weights = backend.Allocate<float>(_hostWeights.Length);
        _lossWeights = _weights.Slice(0, _capacity);
        _gradientWeights = _weights.Slice(_capacity, _capacity);
        _activeRowCount = _weights.Slice(2 * _capacity, 1);
        IsDirty = OptimizerValuesPending = true; // sent by the first step's upload: nothing reads them before
    }

    internal void Dispose()
    {
        _buffer?.Dispose();
        _buffer = null;
        _weights?.Dispose();
        _weights = _lossWeights = _gradientWeights = _activeRowCount = null;
    }

    private bool Set(int index, int value)
    {
        if (_host[index] == value) return false;
        _host[index] = value;
        IsDirty = true;
        return true;
    }
}

using GpuNet.Backends;

namespace GpuNet.Graph;

/// <summary>
/// The values that change from one training step to the next, in one small device buffer of ints per graph: the optimizer's
/// learning rate and bias corrections, the step counter that keys dropout masks and image augmentations, and the batch's
/// row indices. A step writes them into a host array allocated once and sends them with one
/// <see cref="IBackend.Upload{T}"/> (the same arguments every step); the operations read them on the device, so a training
/// step is the same sequence of launches with the same arguments every step (see docs/architecture.md).
/// </summary>
/// <remarks>
/// Layout (ints): [<see cref="LearningRateIndex"/>, +3) learning rate, bias correction 1 and 2 as float bits
/// (<see cref="IBackend.OptimizerUpdate"/>); [<see cref="StepIndex"/>, +2) the step counter, low word first
/// (<see cref="IBackend.Dropout"/>, <see cref="IBackend.AugmentImages"/>); from <see cref="BatchIndexOffset"/>, one index per
/// row of the batch capacity (the rows <see cref="IBackend.GatherRows"/> takes from the dataset).
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
    private DeviceBuffer<int>? _buffer;
    private IBackend? _backend;

    internal StepValues(int batchCapacity)
    {
        _host = new int[BatchIndexOffset + batchCapacity];
        SetOptimizerValues(0f, 1f, 1f);
    }

    /// <summary>The device buffer (allocated when the graph is sealed).</summary>
    /// <exception cref="InvalidOperationException">The graph is not sealed yet.</exception>
    public DeviceBuffer<int> Buffer => _buffer ?? throw new InvalidOperationException("The step values exist once the graph is sealed.");

    /// <summary>Whether the host array holds values not uploaded yet.</summary>
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

    /// <summary>Sends the host array to the device: a training step's one upload.</summary>
    public void Upload()
    {
        _backend!.Upload<int>(_host, Buffer);
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
        IsDirty = OptimizerValuesPending = true; // sent by the first step's upload: nothing reads them before
    }

    internal void Dispose()
    {
        _buffer?.Dispose();
        _buffer = null;
    }

    private bool Set(int index, int value)
    {
        if (_host[index] == value) return false;
        _host[index] = value;
        IsDirty = true;
        return true;
    }
}

using System.Text.Json.Nodes;
using System.Reflection;
using GpuNet.Backends;
using GpuNet.Graph;

namespace GpuNet.Optimizers;

/// <summary>
/// Updates every parameter of a graph from its gradient with one fused launch over the flat parameter
/// buffer (see <see cref="OptimizerKind"/> for each rule). The learning rate of each step comes from a
/// <see cref="LearningRateSchedule"/> evaluated on the host, so a step needs no device-side counter; it reaches
/// the device in the graph's <see cref="StepValues"/> (with Adam's bias corrections), so the launch is the same every step.
/// </summary>
/// <remarks>
/// To write your own rule, derive from this class, override <see cref="Name"/>, <see cref="StateBuffers"/> (0, 1 or 2
/// per-parameter slots) and <see cref="Update"/> (the update written with the backend's element-wise operations on the
/// parameter, gradient and slot buffers). Clipping, the learning-rate scale, frozen layers, slots in saved models and
/// resuming then work as for the built-in rules; register it with <see cref="CustomObjects.RegisterOptimizer{TOptimizer}"/>
/// for saved models to load. The built-in rules are one fused kernel each.
/// </remarks>
public abstract class Optimizer
{
    private DeviceBuffer<float>? _state1, _state2;
    private DeviceBuffer<float>[] _slots = [];
    private int _count;
    // the step values of the graph being updated (set by Step, read by the default Update) and the rule's constants
    private StepValues? _values;
    private OptimizerStep _constants;
    private (StepValues?, long, int, float) _written; // the step values, step, epoch and rate scale last written

    protected Optimizer(LearningRateSchedule schedule) => Schedule = schedule;

    /// <summary>The learning rate as a function of iteration and epoch.</summary>
    public LearningRateSchedule Schedule { get; }

    /// <summary>
    /// A factor on every rate of <see cref="Schedule"/>, 1 unless lowered during training (by
    /// <see cref="Models.ReduceLrOnPlateau"/>); saved with the model.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a positive finite number.</exception>
    public float LearningRateScale
    {
        get => _scale;
        set => _scale = float.IsFinite(value) && value > 0 ? value
            : throw new ArgumentOutOfRangeException(nameof(LearningRateScale), value, $"The learning-rate scale must be a positive finite number; received {value}.");
    }

    private float _scale = 1f;

    /// <summary>
    /// Keras' clipvalue: before each update every gradient element is clipped to [-ClipValue, ClipValue].
    /// Null (the default) for none; at most one of <see cref="ClipValue"/>, <see cref="ClipNorm"/> and
    /// <see cref="GlobalClipNorm"/>, as in Keras.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a positive finite number.</exception>
    /// <exception cref="InvalidOperationException">Another clipping is set already.</exception>
    public float? ClipValue
    {
        get => _clipValue;
        set => _clipValue = CheckClip(value, nameof(ClipValue), "clipvalue", OtherClip("clipvalue"));
    }

    /// <summary>
    /// Keras' clipnorm: before each update, each parameter tensor's gradient (a kernel, a bias) whose norm n exceeds
    /// ClipNorm is multiplied by ClipNorm / n, on the device: two launches per tensor after one fill
    /// (<see cref="GlobalClipNorm"/> needs three launches in all).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a positive finite number.</exception>
    /// <exception cref="InvalidOperationException">Another clipping is set already.</exception>
    public float? ClipNorm
    {
        get => _clipNorm;
        set => _clipNorm = CheckClip(value, nameof(ClipNorm), "clipnorm", OtherClip("clipnorm"));
    }

    /// <summary>
    /// Keras' global_clipnorm: before each update, when the norm n of all gradients together exceeds it, every
    /// gradient is multiplied by GlobalClipNorm / n (the step keeps its direction). Computed on the device: no
    /// host synchronization. The lecture's remedy for exploding gradients.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a positive finite number.</exception>
    /// <exception cref="InvalidOperationException">Another clipping is set already.</exception>
    public float? GlobalClipNorm
    {
        get => _globalClipNorm;
        set => _globalClipNorm = CheckClip(value, nameof(GlobalClipNorm), "global_clipnorm", OtherClip("global_clipnorm"));
    }

    private float? _clipValue, _clipNorm, _globalClipNorm;
    private DeviceBuffer<float>? _normSquared;
    // clipnorm: one squared-norm cell per parameter tensor, sliced once in Build (no allocation per step); the
    // gradients come from the graph each step, so an optimizer shared by two models clips each one's own
    private DeviceBuffer<float>[] _normCells = [];

    /// <summary>The Keras name of a clipping set other than <paramref name="self"/>, or null.</summary>
    private string? OtherClip(string self) =>
        _clipValue is not null && self != "clipvalue" ? "clipvalue"
        : _clipNorm is not null && self != "clipnorm" ? "clipnorm"
        : _globalClipNorm is not null && self != "global_clipnorm" ? "global_clipnorm" : null;

    private static float? CheckClip(float? value, string name, string keras, string? other)
    {
        if (value is float v && !(float.IsFinite(v) && v > 0))
            throw new ArgumentOutOfRangeException(name, v, $"{keras} must be a positive finite number; received {keras}={v}. For example 1.0.");
        if (value is not null && other is not null)
            throw new InvalidOperationException($"Set one of clipvalue, clipnorm and global_clipnorm (as Keras allows one): {other} is set already.");
        return value;
    }

    /// <summary>The learning rate of step <paramref name="iteration"/> (0-based) in epoch <paramref name="epoch"/>: the schedule's rate times <see cref="LearningRateScale"/>.</summary>
    public float LearningRate(long iteration, int epoch) => Schedule.Rate(iteration, epoch) * _scale;

    /// <summary>The rule the kernel applies.</summary>
    /// <exception cref="NotSupportedException">A user-written rule (it overrides <see cref="Update"/> instead).</exception>
    public virtual OptimizerKind Kind =>
        throw new NotSupportedException($"{GetType().Name} is a user-written optimizer: its rule is its Update method, not a built-in OptimizerKind.");

    /// <summary>The optimizer's settings for a saved model (Keras' <c>get_config</c>), besides the learning rate, given back to
    /// the factory registered with <see cref="CustomObjects.RegisterOptimizer{TOptimizer}"/>. Empty by default.</summary>
    public virtual JsonObject GetConfig() => [];

    /// <summary>
    /// Updates the first <paramref name="count"/> parameters from their gradients (one optimizer step): by default the built-in
    /// fused kernel of <see cref="Kind"/>. A user-written optimizer overrides it with the backend's element-wise operations
    /// (<see cref="IBackend.Scale"/>, <see cref="IBackend.SgdUpdate(DeviceBuffer{float}, DeviceBuffer{float}, int, DeviceBuffer{int}, int)"/>, <see cref="IBackend.Multiply"/>,
    /// <see cref="IBackend.ColumnAffine"/>, <see cref="IBackend.Unary"/> ...), which queue device work and allocate nothing.
    /// </summary>
    /// <param name="backend">The model's backend.</param>
    /// <param name="parameters">Every parameter of the model, contiguous.</param>
    /// <param name="gradients">Their gradients (clipped already), in the same layout.</param>
    /// <param name="slots"><see cref="StateBuffers"/> buffers of the same layout, zero (or <see cref="InitialState"/>) at first,
    /// kept between steps and saved with the model.</param>
    /// <param name="count">Scalars to update.</param>
    /// <param name="iteration">The step, 0-based, counted over every Fit.</param>
    /// <param name="epoch">The epoch, 0-based.</param>
    /// <remarks>The default reads this step's learning rate and bias corrections from the graph's step values, which
    /// <see cref="Step"/> has brought up to date; its launch arguments are the same every step.</remarks>
    protected virtual void Update(IBackend backend, DeviceBuffer<float> parameters, DeviceBuffer<float> gradients,
        IReadOnlyList<DeviceBuffer<float>> slots, int count, long iteration, int epoch) =>
        backend.OptimizerUpdate(_constants, _values!.Buffer, StepValues.LearningRateIndex, parameters, gradients, _state1, _state2, count);

    /// <summary>
    /// This step's learning rate (the schedule's, times any reduction) on the device, for a user-written <see cref="Update"/>:
    /// the graph's step values and the rate's index in them, to pass to
    /// <see cref="IBackend.SgdUpdate(DeviceBuffer{float}, DeviceBuffer{float}, int, DeviceBuffer{int}, int)"/>, so the update
    /// launches with the same arguments every step. <see cref="Step"/> has written and uploaded the rate before it calls Update.
    /// </summary>
    /// <exception cref="InvalidOperationException">Read outside <see cref="Update"/> (before the optimizer's first step).</exception>
    protected (DeviceBuffer<int> Values, int Index) StepLearningRate
    {
        get
        {
            var values = _values ?? throw new InvalidOperationException("The step's learning rate is on the device once Step runs: read it in Update.");
            return (values.Buffer, StepValues.LearningRateIndex);
        }
    }

    /// <summary>Per-parameter state buffers this rule needs (0, 1 or 2).</summary>
    /// <exception cref="NotSupportedException">(When the optimizer is built) more than 2.</exception>
    protected virtual int StateBuffers => 0;

    /// <summary>Initial value of the first state buffer (AdaGrad's initial accumulator).</summary>
    protected virtual float InitialState => 0f;

    /// <summary>True for full-batch gradient descent: Fit then uses the whole training set as one batch.</summary>
    public virtual bool FullBatch => false;

    public abstract string Name { get; }

    /// <summary>The name, with the learning-rate scale when a reduction lowered it (e.g. "SGD(lr=0.1) x0.0078125").</summary>
    public override string ToString()
    {
        var c = System.Globalization.CultureInfo.InvariantCulture;
        string s = _scale == 1f ? Name : $"{Name} x{_scale.ToString(c)}";
        if (_clipValue is float v) s += $", clipvalue={v.ToString(c)}";
        if (_clipNorm is float t) s += $", clipnorm={t.ToString(c)}";
        if (_globalClipNorm is float n) s += $", global_clipnorm={n.ToString(c)}";
        return s;
    }

    /// <summary>The per-parameter state buffers (momentum, squared-gradient averages ...) once built; empty for plain SGD.</summary>
    internal IReadOnlyList<DeviceBuffer<float>> Slots =>
        _state1 is null ? [] : _state2 is null ? [_state1] : [_state1, _state2];

    /// <summary>Allocates (and zeroes) the state for the graph's parameters.</summary>
    public virtual void Build(ComputationGraph graph)
    {
        _state1?.Dispose(); _state2?.Dispose(); _normSquared?.Dispose();
        // the squared gradient norm of global_clipnorm in cell 0, and one cell per parameter tensor for clipnorm
        var parameters = graph.Parameters;
        _normSquared = graph.Backend.Allocate<float>(Math.Max(1, parameters.Count));
        _normCells = [.. Enumerable.Range(0, parameters.Count).Select(i => _normSquared.Slice(i, 1))];
        _count = graph.ParameterCount;
        if (StateBuffers is < 0 or > 2)
            throw new NotSupportedException($"{GetType().Name} asks for {StateBuffers} state buffers; an optimizer has 0, 1 or 2.");
        _state1 = StateBuffers >= 1 ? graph.Backend.Allocate<float>(Math.Max(_count, 1)) : null;
        _state2 = StateBuffers >= 2 ? graph.Backend.Allocate<float>(Math.Max(_count, 1)) : null;
        if (_state1 is not null && InitialState != 0f) graph.Backend.Fill(_state1, InitialState);
        _slots = _state1 is null ? [] : _state2 is null ? [_state1] : [_state1, _state2];
    }

    /// <summary>The hyperparameters of step <paramref name="iteration"/> (0-based) in epoch <paramref name="epoch"/> (0-based).</summary>
    public virtual OptimizerStep StepParameters(long iteration, int epoch) => new()
    {
        Kind = Kind,
        LearningRate = LearningRate(iteration, epoch),
        BiasCorrection1 = 1f,
        BiasCorrection2 = 1f,
    };

    /// <summary>
    /// Writes the learning rate and bias corrections of step <paramref name="iteration"/> in epoch <paramref name="epoch"/>
    /// into <paramref name="values"/> (the host array: they reach the device with the step's upload); returns whether they
    /// changed.
    /// </summary>
    internal bool WriteStepValues(StepValues values, long iteration, int epoch)
    {
        ArgumentNullException.ThrowIfNull(values);
        // a training step writes them before its upload; the update that follows finds them written
        if (_written == (values, iteration, epoch, _scale)) return false;
        _written = (values, iteration, epoch, _scale);
        if (!UsesFusedUpdate) // a user-written rule: the rate is there for its Update (StepLearningRate)
            return values.SetOptimizerValues(LearningRate(iteration, epoch), 1f, 1f);
        var h = StepParameters(iteration, epoch);
        _constants = h;
        _constants.LearningRate = 0f; // read from the step values, not from the launch's arguments
        _constants.BiasCorrection1 = 0f;
        _constants.BiasCorrection2 = 0f;
        return values.SetOptimizerValues(h.LearningRate, h.BiasCorrection1, h.BiasCorrection2);
    }

    /// <summary>Whether <see cref="Update"/> is the built-in fused one (not overridden by a user-written rule).</summary>
    private bool UsesFusedUpdate => _fused ??= GetType().GetMethod(nameof(Update), BindingFlags.Instance | BindingFlags.NonPublic, null,
        [typeof(IBackend), typeof(DeviceBuffer<float>), typeof(DeviceBuffer<float>), typeof(IReadOnlyList<DeviceBuffer<float>>), typeof(int), typeof(long), typeof(int)],
        null)?.DeclaringType == typeof(Optimizer);

    private bool? _fused;

    /// <summary>Applies one update to every parameter (one launch).</summary>
    /// <remarks>The step's learning rate and bias corrections go through the graph's <see cref="StepValues"/>: Fit has
    /// written and uploaded them with the step's other values already; called on its own, Step uploads them when they are new.</remarks>
    public void Step(ComputationGraph graph, long iteration, int epoch = 0)
    {
        if (_count != graph.ParameterCount || (StateBuffers >= 1 && _state1 is null))
            throw new InvalidOperationException("The optimizer was not built for this graph; compile the model with it first.");
        var backend = graph.Backend;
        _values = graph.StepValues;
        WriteStepValues(_values, iteration, epoch);
        if (_values.OptimizerValuesPending) _values.Upload();
        if (_clipValue is float limit) backend.ClipByValue(graph.GradientBuffer, _count, limit);
        if (_clipNorm is float tensorNorm)
        {
            backend.Fill(_normSquared!, 0f);
            var parameters = graph.Parameters;
            if (parameters.Count != _normCells.Length)
                throw new InvalidOperationException("The optimizer was not built for this graph; compile the model with it first.");
            for (int i = 0; i < parameters.Count; i++)
            {
                var p = parameters[i];
                backend.L1L2Penalty(p.Grad, p.Count, 0f, 1f, _normCells[i]);
                backend.ScaleToMaxNorm(p.Grad, p.Count, _normCells[i], tensorNorm);
            }
        }
        if (_globalClipNorm is float maxNorm)
        {
            backend.Fill(_normSquared!, 0f);
            backend.L1L2Penalty(graph.GradientBuffer, _count, 0f, 1f, _normSquared!); // sum of g^2, on the device
            backend.ScaleToMaxNorm(graph.GradientBuffer, _count, _normSquared!, maxNorm);
        }
        Update(backend, graph.ParameterBuffer, graph.GradientBuffer, _slots, _count, iteration, epoch);
    }

    protected static float Check(float value, string name, float min, float maxExclusive, string hint) =>
        float.IsFinite(value) && value >= min && value < maxExclusive ? value
        : throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [{min}, {maxExclusive}); received {name}={value}. {hint}");
}

/// <summary>
/// Stochastic gradient descent as Keras' SGD: plain (w -= lr g), with momentum (v = m v - lr g; w += v),
/// or Nesterov momentum (w += m v - lr g after the same v update).
/// </summary>
public sealed class Sgd : Optimizer
{
    public Sgd(float learningRate = 0.01f, float momentum = 0f, bool nesterov = false)
        : this(new ConstantLearningRate(learningRate), momentum, nesterov) { }

    public Sgd(LearningRateSchedule schedule, float momentum = 0f, bool nesterov = false) : base(schedule)
    {
        Momentum = Check(momentum, "momentum", 0f, 1f, "Typical values are 0.9 or 0.99; 0 disables momentum.");
        if (nesterov && momentum == 0f)
            throw new ArgumentException("Nesterov momentum needs momentum > 0, e.g. new Sgd(0.01f, momentum: 0.9f, nesterov: true).", nameof(nesterov));
        Nesterov = nesterov;
    }

    public float Momentum { get; }
    public bool Nesterov { get; }

    public override OptimizerKind Kind => Momentum == 0 ? OptimizerKind.Sgd : Nesterov ? OptimizerKind.Nesterov : OptimizerKind.Momentum;

    protected override int StateBuffers => Momentum == 0 ? 0 : 1;

    public override string Name => Momentum == 0 ? $"SGD(lr={Schedule})" : $"SGD(lr={Schedule}, momentum={Momentum}{(Nesterov ? ", nesterov" : "")})";

    /// <summary>Keras' <c>get_config</c> (besides the learning rate, saved with every optimizer): momentum and nesterov.</summary>
    public override JsonObject GetConfig() => new() { ["momentum"] = Momentum, ["nesterov"] = Nesterov };

    internal static Sgd FromConfig(JsonObject c, LearningRateSchedule schedule) =>
        new(schedule, c["momentum"]!.GetValue<float>(), c["nesterov"]!.GetValue<bool>());

    public override OptimizerStep StepParameters(long iteration, int epoch)
    {
        var s = base.StepParameters(iteration, epoch);
        s.Beta1 = Momentum;
        return s;
    }
}

/// <summary>
/// Full-batch gradient descent: the SGD rule with the whole training set as one batch (one step per
/// epoch), the lecture's "GD" as opposed to mini-batch SGD.
/// </summary>
public sealed class GradientDescent(float learningRate = 0.1f) : Optimizer(new ConstantLearningRate(learningRate))
{
    public override OptimizerKind Kind => OptimizerKind.Sgd;
    public override bool FullBatch => true;
    public override string Name => $"GD(lr={Schedule}, full batch)";

    internal static GradientDescent FromConfig(JsonObject c, LearningRateSchedule schedule) => new(OptimizerConfigs.ConstantRate(schedule, "GD"));
}

/// <summary>AdaGrad: a += g^2; w -= lr g / (sqrt(a) + eps). Keras defaults: lr 0.001, initial accumulator 0.1, eps 1e-7.</summary>
public sealed class AdaGrad : Optimizer
{
    public AdaGrad(float learningRate = 0.001f, float initialAccumulator = 0.1f, float epsilon = 1e-7f)
        : base(new ConstantLearningRate(learningRate))
    {
        InitialAccumulator = Check(initialAccumulator, "initial_accumulator_value", 0f, float.MaxValue, "Keras uses 0.1.");
        Epsilon = Check(epsilon, "epsilon", 0f, 1f, "Keras uses 1e-7.");
    }

    public float InitialAccumulator { get; }
    public float Epsilon { get; }
    public override OptimizerKind Kind => OptimizerKind.AdaGrad;
    protected override int StateBuffers => 1;
    protected override float InitialState => InitialAccumulator;
    public override string Name => $"AdaGrad(lr={Schedule})";

    /// <summary>Keras' <c>get_config</c>: the initial accumulator and epsilon.</summary>
    public override JsonObject GetConfig() => new() { ["initial_accumulator"] = InitialAccumulator, ["epsilon"] = Epsilon };

    internal static AdaGrad FromConfig(JsonObject c, LearningRateSchedule schedule) =>
        new(OptimizerConfigs.ConstantRate(schedule, "AdaGrad"), c["initial_accumulator"]!.GetValue<float>(), c["epsilon"]!.GetValue<float>());

    public override OptimizerStep StepParameters(long iteration, int epoch)
    {
        var s = base.StepParameters(iteration, epoch);
        s.Epsilon = Epsilon;
        return s;
    }
}

/// <summary>RMSprop: a = rho a + (1 - rho) g^2; w -= lr g / (sqrt(a) + eps). Keras defaults: lr 0.001, rho 0.9, eps 1e-7.</summary>
public sealed class RmsProp : Optimizer
{
    public RmsProp(float learningRate = 0.001f, float rho = 0.9f, float epsilon = 1e-7f) : this(new ConstantLearningRate(learningRate), rho, epsilon) { }

    public RmsProp(LearningRateSchedule schedule, float rho = 0.9f, float epsilon = 1e-7f) : base(schedule)
    {
        Rho = Check(rho, "rho", 0f, 1f, "Keras uses 0.9.");
        Epsilon = Check(epsilon, "epsilon", 0f, 1f, "Keras uses 1e-7.");
    }

    public float Rho { get; }
    public float Epsilon { get; }
    public override OptimizerKind Kind => OptimizerKind.RmsProp;
    protected override int StateBuffers => 1;
    public override string Name => $"RMSprop(lr={Schedule}, rho={Rho})";

    /// <summary>Keras' <c>get_config</c>: rho and epsilon.</summary>
    public override JsonObject GetConfig() => new() { ["rho"] = Rho, ["epsilon"] = Epsilon };

    internal static RmsProp FromConfig(JsonObject c, LearningRateSchedule schedule) =>
        new(schedule, c["rho"]!.GetValue<float>(), c["epsilon"]!.GetValue<float>());

    public override OptimizerStep StepParameters(long iteration, int epoch)
    {
        var s = base.StepParameters(iteration, epoch);
        s.Beta2 = Rho;
        s.Epsilon = Epsilon;
        return s;
    }
}

/// <summary>
/// Adam (Kingma and Ba 2015): m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
/// w -= lr m^ / (sqrt(v^) + eps) with bias-corrected m^ = m / (1 - b1^t), v^ = v / (1 - b2^t).
/// Keras defaults: lr 0.001, b1 0.9, b2 0.999, eps 1e-7. <see cref="AdamW"/> adds decoupled weight decay.
/// </summary>
public class Adam : Optimizer
{
    public Adam(float learningRate = 0.001f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f)
        : this(new ConstantLearningRate(learningRate), beta1, beta2, epsilon) { }

    public Adam(LearningRateSchedule schedule, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f) : base(schedule)
    {
        Beta1 = Check(beta1, "beta_1", 0f, 1f, "Keras uses 0.9.");
        Beta2 = Check(beta2, "beta_2", 0f, 1f, "Keras uses 0.999.");
        Epsilon = Check(epsilon, "epsilon", 0f, 1f, "Keras uses 1e-7.");
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }
    public override OptimizerKind Kind => OptimizerKind.Adam;
    protected override int StateBuffers => 2;
    public override string Name => $"Adam(lr={Schedule})";

    /// <summary>Keras' <c>get_config</c>: beta1, beta2 and epsilon.</summary>
    public override JsonObject GetConfig() => new() { ["beta1"] = Beta1, ["beta2"] = Beta2, ["epsilon"] = Epsilon };

    internal static Adam FromConfig(JsonObject c, LearningRateSchedule schedule) =>
        new(schedule, c["beta1"]!.GetValue<float>(), c["beta2"]!.GetValue<float>(), c["epsilon"]!.GetValue<float>());

    public override OptimizerStep StepParameters(long iteration, int epoch)
    {
        var s = base.StepParameters(iteration, epoch);
        long t = iteration + 1;
        s.Beta1 = Beta1;
        s.Beta2 = Beta2;
        s.Epsilon = Epsilon;
        s.BiasCorrection1 = (float)(1 / (1 - Math.Pow(Beta1, t)));
        s.BiasCorrection2 = (float)(1 / (1 - Math.Pow(Beta2, t)));
        return s;
    }
}

/// <summary>
/// AdamW (Loshchilov and Hutter 2019): w -= lr wd w, then the Adam step; the decay is decoupled from the
/// adaptive gradient scaling, unlike an L2 penalty. Keras default weight decay: 0.004.
/// </summary>
public sealed class AdamW : Adam
{
    public AdamW(float learningRate = 0.001f, float weightDecay = 0.004f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f)
        : base(learningRate, beta1, beta2, epsilon) =>
        WeightDecay = Check(weightDecay, "weight_decay", 0f, 1f, "Keras uses 0.004.");

    public float WeightDecay { get; }
    public override OptimizerKind Kind => OptimizerKind.AdamW;
    public override string Name => $"AdamW(lr={Schedule}, weight_decay={WeightDecay})";

    /// <summary>Keras' <c>get_config</c>: the weight decay, beta1, beta2 and epsilon.</summary>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["weight_decay"] = WeightDecay;
        return config;
    }

    internal static new AdamW FromConfig(JsonObject c, LearningRateSchedule schedule) =>
        new(OptimizerConfigs.ConstantRate(schedule, "AdamW"), c["weight_decay"]!.GetValue<float>(),
            c["beta1"]!.GetValue<float>(), c["beta2"]!.GetValue<float>(), c["epsilon"]!.GetValue<float>());

    public override OptimizerStep StepParameters(long iteration, int epoch)
    {
        var s = base.StepParameters(iteration, epoch);
        s.WeightDecay = WeightDecay;
        return s;
    }
}

/// <summary>
/// Adamax (Kingma and Ba 2015, section 7.1): Adam with the infinity norm, m = b1 m + (1 - b1) g; u = max(b2 u, |g|);
/// w -= lr m / ((1 - b1^t)(u + eps)). Keras defaults: lr 0.001, b1 0.9, b2 0.999, eps 1e-7.
/// </summary>
public sealed class Adamax : Adam
{
    public Adamax(float learningRate = 0.001f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f)
        : base(learningRate, beta1, beta2, epsilon) { }

    public Adamax(LearningRateSchedule schedule, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f)
        : base(schedule, beta1, beta2, epsilon) { }

    /// <summary>The infinity-norm rule; the settings, the two moments and the first bias correction are Adam's (the second
    /// correction is computed too and left unused: u needs none).</summary>
    public override OptimizerKind Kind => OptimizerKind.Adamax;
    public override string Name => $"Adamax(lr={Schedule})";

    internal static new Adamax FromConfig(JsonObject c, LearningRateSchedule schedule) =>
        new(schedule, c["beta1"]!.GetValue<float>(), c["beta2"]!.GetValue<float>(), c["epsilon"]!.GetValue<float>());
}

using GpuNet.Backends;

namespace GpuNet.Initializers;

/// <summary>Fills a parameter with its initial values on the device, deterministically from (seed, stream).</summary>
public abstract class Initializer
{
    /// <summary>Fills <paramref name="value"/> (fanIn x fanOut for a kernel, 1 x fanOut for a bias).</summary>
    public abstract void Initialize(IBackend backend, DeviceBuffer<float> value, int fanIn, int fanOut, ulong seed, uint stream);

    /// <summary>True when every element gets the same value: a kernel initialized so never breaks symmetry.</summary>
    public virtual bool IsSymmetric => false;

    /// <summary>The Keras name, e.g. "glorot_uniform".</summary>
    public abstract override string ToString();

    /// <summary>Looks an initializer up by its Keras name (glorot_uniform, he_normal, orthogonal, lsuv ...).</summary>
    public static Initializer Parse(string name) => name.Trim().ToLowerInvariant().Replace('-', '_') switch
    {
        "zeros" or "zero" => new Zeros(),
        "ones" or "one" => new Ones(),
        "random_normal" or "normal" => new RandomNormal(),
        "random_uniform" or "uniform" => new RandomUniform(),
        "glorot_uniform" or "xavier_uniform" or "xavier" or "glorot" => new GlorotUniform(),
        "glorot_normal" or "xavier_normal" => new GlorotNormal(),
        "he_uniform" or "kaiming_uniform" => new HeUniform(),
        "he_normal" or "kaiming_normal" or "he" => new HeNormal(),
        "lecun_uniform" => new LeCunUniform(),
        "lecun_normal" or "lecun" => new LeCunNormal(),
        "orthogonal" => new Orthogonal(),
        "lsuv" => new Lsuv(),
        _ => throw new ArgumentException(
            $"Unknown initializer '{name}'. Expected one of: zeros, ones, random_normal, random_uniform, glorot_uniform, glorot_normal, " +
            "he_uniform, he_normal, lecun_uniform, lecun_normal, orthogonal, lsuv.", nameof(name)),
    };

    public static implicit operator Initializer(string name) => Parse(name);
}

/// <summary>All zeros: the Keras default for biases. For weights every unit then computes the same
/// function and receives the same gradient, so symmetry is never broken.</summary>
public sealed class Zeros : Initializer
{
    public override bool IsSymmetric => true;
    public override void Initialize(IBackend backend, DeviceBuffer<float> value, int fanIn, int fanOut, ulong seed, uint stream) =>
        backend.Fill(value, 0f);
    public override string ToString() => "zeros";
}

/// <summary>All ones (a symmetric initialization, see <see cref="Zeros"/>).</summary>
public sealed class Ones : Initializer
{
    public override bool IsSymmetric => true;
    public override void Initialize(IBackend backend, DeviceBuffer<float> value, int fanIn, int fanOut, ulong seed, uint stream) =>
        backend.Fill(value, 1f);
    public override string ToString() => "ones";
}

/// <summary>Every element = <see cref="Value"/>. As a kernel initializer it never breaks symmetry: the model warns.</summary>
public sealed class Constant(float value) : Initializer
{
    public float Value { get; } = float.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A constant initializer needs a finite value.");
    public override bool IsSymmetric => true;
    public override void Initialize(IBackend backend, DeviceBuffer<float> v, int fanIn, int fanOut, ulong seed, uint stream) =>
        backend.Fill(v, Value);
    public override string ToString() => $"constant({Value})";
}

/// <summary>N(mean, stddev^2); Keras' default stddev is 0.05.</summary>
public sealed class RandomNormal(float mean = 0f, float stddev = 0.05f) : Initializer
{
    public float Mean { get; } = mean;
    public float Stddev { get; } = stddev > 0 && float.IsFinite(stddev) ? stddev : throw new ArgumentOutOfRangeException(nameof(stddev), stddev, $"stddev must be positive; received stddev={stddev}.");
    public override void Initialize(IBackend backend, DeviceBuffer<float> value, int fanIn, int fanOut, ulong seed, uint stream) =>
        backend.RandomNormal(value, Mean, Stddev, seed, stream);
    public override string ToString() => $"random_normal({Mean}, {Stddev})";
}

/// <summary>U(min, max); Keras' default range is [-0.05, 0.05].</summary>
public sealed class RandomUniform(float min = -0.05f, float max = 0.05f) : Initializer
{
    public float Min { get; } = min;
    public float Max { get; } = max > min ? max : throw new ArgumentOutOfRangeException(nameof(max), max, $"max must exceed min; received min={min}, max={max}.");
    public override void Initialize(IBackend backend, DeviceBuffer<float> value, int fanIn, int fanOut, ulong seed, uint stream) =>
        backend.RandomUniform(value, Min, Max, seed, stream);
    public override string ToString() => $"random_uniform({Min}, {Max})";
}

/// <summary>
/// Variance scaling, the family behind Glorot, He and LeCun: Var(w) = scale / n, with n = fanIn, fanOut or
/// their mean; uniform on [-sqrt(3 Var), sqrt(3 Var)] or normal with that variance (plain normal, as PyTorch's
/// kaiming_normal_; Keras truncates at 2 sigma).
/// </summary>
public abstract class VarianceScaling(float scale, VarianceScaling.FanMode mode, bool uniform) : Initializer
{
    public enum FanMode { FanIn, FanOut, FanAvg }

    public float Scale { get; } = scale;
    public FanMode Mode { get; } = mode;
    public bool Uniform { get; } = uniform;

    /// <summary>The target variance of the weights for a layer of the given fans.</summary>
    public float Variance(int fanIn, int fanOut) => Scale / Mode switch
    {
        FanMode.FanIn => fanIn,
        FanMode.FanOut => fanOut,
        _ => (fanIn + fanOut) / 2f,
    };

    public override void Initialize(IBackend backend, DeviceBuffer<float> value, int fanIn, int fanOut, ulong seed, uint stream)
    {
        float variance = Variance(fanIn, fanOut);
        if (Uniform)
        {
            float limit = MathF.Sqrt(3f * variance); // U(-a, a) has variance a^2 / 3
            backend.RandomUniform(value, -limit, limit, seed, stream);
        }
        else backend.RandomNormal(value, 0f, MathF.Sqrt(variance), seed, stream);
    }
}

/// <summary>Glorot (Xavier) uniform, the Keras default for kernels: U(-a, a), a = sqrt(6 / (fanIn + fanOut)), Var = 2 / (fanIn + fanOut).</summary>
public sealed class GlorotUniform() : VarianceScaling(1f, FanMode.FanAvg, uniform: true)
{
    public override string ToString() => "glorot_uniform";
}

/// <summary>Glorot (Xavier) normal: N(0, 2 / (fanIn + fanOut)).</summary>
public sealed class GlorotNormal() : VarianceScaling(1f, FanMode.FanAvg, uniform: false)
{
    public override string ToString() => "glorot_normal";
}

/// <summary>He (MSRA) uniform, for ReLU: U(-a, a), a = sqrt(6 / fanIn), Var = 2 / fanIn.</summary>
public sealed class HeUniform() : VarianceScaling(2f, FanMode.FanIn, uniform: true)
{
    public override string ToString() => "he_uniform";
}

/// <summary>He (MSRA) normal, for ReLU: N(0, 2 / fanIn).</summary>
public sealed class HeNormal() : VarianceScaling(2f, FanMode.FanIn, uniform: false)
{
    public override string ToString() => "he_normal";
}

/// <summary>LeCun uniform (for SELU / tanh): U(-a, a), a = sqrt(3 / fanIn), Var = 1 / fanIn.</summary>
public sealed class LeCunUniform() : VarianceScaling(1f, FanMode.FanIn, uniform: true)
{
    public override string ToString() => "lecun_uniform";
}

/// <summary>LeCun normal: N(0, 1 / fanIn).</summary>
public sealed class LeCunNormal() : VarianceScaling(1f, FanMode.FanIn, uniform: false)
{
    public override string ToString() => "lecun_normal";
}

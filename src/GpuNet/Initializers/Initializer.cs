using GpuNet.Backends;

namespace GpuNet.Initializers;

/// <summary>Fills a parameter with its initial values on the device.</summary>
public abstract class Initializer
{
    /// <summary>Fills <paramref name="value"/> (fanIn x fanOut for a kernel) deterministically from (seed, stream).</summary>
    public abstract void Initialize(IBackend backend, DeviceBuffer<float> value, int fanIn, int fanOut, ulong seed, uint stream);

    /// <summary>The name in summaries.</summary>
    public abstract override string ToString();
}

/// <summary>All zeros: the Keras default for biases. For weights, every unit then computes the same
/// function and receives the same gradient, so symmetry is never broken.</summary>
public sealed class Zeros : Initializer
{
    public override void Initialize(IBackend backend, DeviceBuffer<float> value, int fanIn, int fanOut, ulong seed, uint stream) =>
        backend.Fill(value, 0f);

    public override string ToString() => "zeros";
}

/// <summary>
/// Glorot (Xavier) uniform, the Keras default for kernels: U(-limit, limit) with
/// limit = sqrt(6 / (fanIn + fanOut)), which keeps the variance of activations and gradients
/// roughly equal across layers (Var = 2 / (fanIn + fanOut)).
/// </summary>
public sealed class GlorotUniform : Initializer
{
    public override void Initialize(IBackend backend, DeviceBuffer<float> value, int fanIn, int fanOut, ulong seed, uint stream)
    {
        float limit = MathF.Sqrt(6f / (fanIn + fanOut));
        backend.RandomUniform(value, -limit, limit, seed, stream);
    }

    public override string ToString() => "glorot_uniform";
}

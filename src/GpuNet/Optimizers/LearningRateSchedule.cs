namespace GpuNet.Optimizers;

/// <summary>The learning rate of each step, as a function of the iteration (0-based, counted over all epochs) and the epoch (0-based).</summary>
public abstract class LearningRateSchedule
{
    public abstract float Rate(long iteration, int epoch);

    public static implicit operator LearningRateSchedule(float rate) => new ConstantLearningRate(rate);

    protected static float CheckRate(float rate) =>
        float.IsFinite(rate) && rate > 0 ? rate
        : throw new ArgumentOutOfRangeException("learning_rate", rate,
            $"The learning rate must be a positive finite number; received learning_rate={rate}. The lecture uses 0.01 for SGD, 0.001 for Adam.");
}

/// <summary>A fixed learning rate.</summary>
public sealed class ConstantLearningRate(float rate) : LearningRateSchedule
{
    public float Value { get; } = CheckRate(rate);
    public override float Rate(long iteration, int epoch) => Value;
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Step decay: lr = initial * factor^floor(epoch / epochsPerDrop), e.g. halve every 10 epochs.</summary>
public sealed class StepDecay : LearningRateSchedule
{
    public StepDecay(float initial, float factor = 0.5f, int epochsPerDrop = 10)
    {
        Initial = CheckRate(initial);
        Factor = factor > 0 && factor <= 1 ? factor : throw new ArgumentOutOfRangeException(nameof(factor), factor, $"The drop factor must be in (0, 1]; received factor={factor}. 0.5 halves the rate.");
        EpochsPerDrop = epochsPerDrop >= 1 ? epochsPerDrop : throw new ArgumentOutOfRangeException(nameof(epochsPerDrop), epochsPerDrop, $"epochsPerDrop must be a positive integer; received {epochsPerDrop}.");
    }

    public float Initial { get; }
    public float Factor { get; }
    public int EpochsPerDrop { get; }
    public override float Rate(long iteration, int epoch) => Initial * MathF.Pow(Factor, epoch / EpochsPerDrop);
    public override string ToString() => $"step_decay({Initial}, x{Factor} every {EpochsPerDrop} epochs)";
}

/// <summary>Exponential decay as Keras: lr = initial * rate^(iteration / decaySteps), or ^floor(...) with staircase.</summary>
public sealed class ExponentialDecay : LearningRateSchedule
{
    public ExponentialDecay(float initial, long decaySteps, float decayRate, bool staircase = false)
    {
        Initial = CheckRate(initial);
        DecaySteps = decaySteps >= 1 ? decaySteps : throw new ArgumentOutOfRangeException(nameof(decaySteps), decaySteps, $"decay_steps must be positive; received {decaySteps}.");
        DecayRate = decayRate > 0 && decayRate <= 1 ? decayRate : throw new ArgumentOutOfRangeException(nameof(decayRate), decayRate, $"decay_rate must be in (0, 1]; received {decayRate}. 0.96 is common.");
        Staircase = staircase;
    }

    public float Initial { get; }
    public long DecaySteps { get; }
    public float DecayRate { get; }
    public bool Staircase { get; }

    public override float Rate(long iteration, int epoch)
    {
        double p = (double)iteration / DecaySteps;
        if (Staircase) p = Math.Floor(p);
        return (float)(Initial * Math.Pow(DecayRate, p));
    }

    public override string ToString() => $"exponential_decay({Initial}, x{DecayRate} per {DecaySteps} steps)";
}

/// <summary>Cosine decay as Keras: lr = initial * ((1 - alpha) * (1 + cos(pi * min(t, T) / T)) / 2 + alpha).</summary>
public sealed class CosineDecay : LearningRateSchedule
{
    public CosineDecay(float initial, long decaySteps, float alpha = 0f)
    {
        Initial = CheckRate(initial);
        DecaySteps = decaySteps >= 1 ? decaySteps : throw new ArgumentOutOfRangeException(nameof(decaySteps), decaySteps, $"decay_steps must be positive; received {decaySteps}.");
        Alpha = alpha >= 0 && alpha <= 1 ? alpha : throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"alpha (the final fraction of the rate) must be in [0, 1]; received {alpha}.");
    }

    public float Initial { get; }
    public long DecaySteps { get; }
    public float Alpha { get; }

    public override float Rate(long iteration, int epoch)
    {
        double t = Math.Min(iteration, DecaySteps) / (double)DecaySteps;
        return (float)(Initial * ((1 - Alpha) * 0.5 * (1 + Math.Cos(Math.PI * t)) + Alpha));
    }

    public override string ToString() => $"cosine_decay({Initial}, {DecaySteps} steps)";
}

/// <summary>
/// The lecture's per-iteration decay (Keras' legacy SGD <c>decay</c> argument): lr = initial / (1 + decay * iteration).
/// </summary>
public sealed class InverseTimeDecay : LearningRateSchedule
{
    public InverseTimeDecay(float initial, float decay)
    {
        Initial = CheckRate(initial);
        Decay = float.IsFinite(decay) && decay >= 0 ? decay : throw new ArgumentOutOfRangeException(nameof(decay), decay, $"decay must be >= 0; received decay={decay}. 1e-6 is a typical value.");
    }

    public float Initial { get; }
    public float Decay { get; }
    public override float Rate(long iteration, int epoch) => Initial / (1f + Decay * iteration);
    public override string ToString() => $"inverse_time_decay({Initial}, decay={Decay})";
}

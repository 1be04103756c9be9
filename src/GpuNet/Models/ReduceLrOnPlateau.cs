using GpuNet.Optimizers;

namespace GpuNet.Models;

/// <summary>
/// Keras' ReduceLROnPlateau: when the monitored loss (val_loss when there is validation data, else loss) has
/// not improved by more than <see cref="MinDelta"/> for <see cref="Patience"/> epochs, multiply the learning
/// rate by <see cref="Factor"/>, never below <see cref="MinLearningRate"/>, then wait <see cref="Cooldown"/>
/// epochs before counting again.
/// </summary>
/// <remarks>
/// The reduction is kept in <see cref="Optimizer.LearningRateScale"/>, a factor on the optimizer's schedule,
/// so it also works with a decaying schedule (Keras allows it only with a constant rate) and is saved with
/// the model. Each <see cref="Sequential.Fit"/> starts counting afresh but keeps the rate reached.
/// </remarks>
public sealed class ReduceLrOnPlateau : Callback
{
    /// <param name="factor">What the rate is multiplied by, in (0, 1); Keras' default 0.1.</param>
    /// <param name="patience">Epochs without improvement before a reduction; Keras' default 10.</param>
    /// <param name="minDelta">An epoch improves when its loss is below the best by more than this; Keras' default 1e-4.</param>
    /// <param name="cooldown">Epochs after a reduction before epochs without improvement count again.</param>
    /// <param name="minLearningRate">The rate is never reduced below this.</param>
    public ReduceLrOnPlateau(double factor = 0.1, int patience = 10, double minDelta = 1e-4, int cooldown = 0, double minLearningRate = 0)
    {
        Factor = factor > 0 && factor < 1 ? factor
            : throw new ArgumentOutOfRangeException(nameof(factor), factor, $"factor must be in (0, 1); received factor={factor}. 0.1 divides the rate by 10, 0.5 halves it.");
        Patience = patience >= 1 ? patience
            : throw new ArgumentOutOfRangeException(nameof(patience), patience, $"patience must be a positive number of epochs; received patience={patience}.");
        MinDelta = minDelta >= 0 ? minDelta
            : throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, $"min_delta must be >= 0; received min_delta={minDelta}.");
        Cooldown = cooldown >= 0 ? cooldown
            : throw new ArgumentOutOfRangeException(nameof(cooldown), cooldown, $"cooldown must be >= 0 epochs; received cooldown={cooldown}.");
        MinLearningRate = minLearningRate >= 0 && double.IsFinite(minLearningRate) ? minLearningRate
            : throw new ArgumentOutOfRangeException(nameof(minLearningRate), minLearningRate, $"min_lr must be a finite number >= 0; received min_lr={minLearningRate}.");
    }

    public double Factor { get; }
    public int Patience { get; }
    public double MinDelta { get; }
    /// <summary>Epochs after a reduction before waiting starts again, counted as Keras does: the cooldown's last epoch already counts towards <see cref="Patience"/>.</summary>
    public int Cooldown { get; }
    public double MinLearningRate { get; }

    private readonly List<(int Epoch, float LearningRate)> _reductions = [];
    private double _best;
    private int _wait, _cooldownLeft;

    /// <summary>The reductions of the latest Fit: the epoch (1-based) after which the rate was reduced, and the new rate.</summary>
    public IReadOnlyList<(int Epoch, float LearningRate)> Reductions => _reductions;

    /// <summary>Forgets the previous Fit's reductions and best loss.</summary>
    public override void OnTrainBegin() => Reset();

    /// <summary>Counts the epoch and reduces the model's learning rate when the patience has run out.</summary>
    public override void OnEpochEnd(EpochResult epoch)
    {
        var optimizer = Model.Optimizer!;
        // the schedule's rate for the next step (step Iterations, epoch Epoch counted from 0) is what the reduction scales
        OnEpochEnd(optimizer, epoch, optimizer.Schedule.Rate(Model.Iterations, epoch.Epoch));
    }

    internal void Reset()
    {
        _reductions.Clear();
        _best = double.PositiveInfinity;
        _wait = _cooldownLeft = 0;
    }

    /// <summary>
    /// After epoch <paramref name="result"/>: counts it, and reduces <paramref name="optimizer"/>'s rate when the
    /// patience has run out. <paramref name="baseRate"/> is the schedule's rate for the next step. Returns the new
    /// rate when it reduced, else null.
    /// </summary>
    internal float? OnEpochEnd(Optimizer optimizer, EpochResult result, float baseRate)
    {
        double monitored = result.ValidationLoss ?? result.Loss;
        if (_cooldownLeft > 0)
        {
            _cooldownLeft--;
            _wait = 0;
        }
        if (monitored < _best - MinDelta)
        {
            _best = monitored;
            _wait = 0;
            return null;
        }
        if (_cooldownLeft > 0 || ++_wait < Patience) return null;
        float current = baseRate * optimizer.LearningRateScale;
        float floor = (float)MinLearningRate; // compared in float, as the rate is: 0.001 rounds up to 0.0010000000475
        if (!(current > floor)) return null; // already at the floor
        float reduced = Math.Max(current * (float)Factor, floor);
        if (!(reduced < current)) return null; // within a float step of the floor
        optimizer.LearningRateScale = reduced / baseRate;
        _reductions.Add((result.Epoch, reduced));
        _wait = 0;
        _cooldownLeft = Cooldown;
        return reduced;
    }
}

namespace GpuNet.Models;

/// <summary>Metrics of one epoch. Loss and accuracy are means over the epoch's batches, as Keras reports them.</summary>
public sealed record EpochResult(int Epoch, int Epochs, double Loss, double Accuracy, double? ValidationLoss,
    double? ValidationAccuracy, TimeSpan Elapsed, int Steps, int Samples)
{
    /// <summary>Training throughput of the epoch (validation included in the time).</summary>
    public double SamplesPerSecond => Samples / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>A Keras-style line: "Epoch 3/30 - 0.41s - loss: 0.3120 - accuracy: 0.9102 - val_loss: ...".</summary>
    public override string ToString()
    {
        var s = $"Epoch {Epoch}/{Epochs} - {Elapsed.TotalSeconds:F2}s - loss: {Loss:F4} - accuracy: {Accuracy:F4}";
        if (ValidationLoss is double vl) s += $" - val_loss: {vl:F4}";
        if (ValidationAccuracy is double va) s += $" - val_accuracy: {va:F4}";
        return s;
    }
}

/// <summary>Loss and accuracy of a model on a dataset.</summary>
public sealed record EvaluationResult(double Loss, double Accuracy, int Samples)
{
    public override string ToString() => $"loss: {Loss:F4} - accuracy: {Accuracy:F4} ({Samples} samples)";
}

/// <summary>What <see cref="Sequential.Fit"/> returns: one entry per epoch.</summary>
public sealed class History
{
    private readonly List<EpochResult> _epochs = [];

    public IReadOnlyList<EpochResult> Epochs => _epochs;

    internal void Add(EpochResult e) => _epochs.Add(e);
}

/// <summary>Options of <see cref="Sequential.Fit"/>, with Keras' names and defaults where they exist.</summary>
public sealed record FitOptions
{
    /// <summary>Passes over the training data.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Samples per gradient step (the last batch of an epoch may be smaller).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Fraction of the training data held out for validation (shuffled first with <see cref="Seed"/>); 0 for none.</summary>
    public double ValidationSplit { get; init; }

    /// <summary>An explicit validation set (used instead of <see cref="ValidationSplit"/>).</summary>
    public Data.Dataset? ValidationData { get; init; }

    /// <summary>Shuffle the training samples every epoch.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seed of the validation split and the per-epoch shuffles.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Called after each epoch (e.g. to print its line).</summary>
    public Action<EpochResult>? OnEpochEnd { get; init; }

    internal void Validate()
    {
        if (Epochs < 1)
            throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, $"epochs must be a positive integer. Received: epochs={Epochs}.");
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"batch_size must be a positive integer. Received: batch_size={BatchSize}.");
        if (!(ValidationSplit >= 0 && ValidationSplit < 1))
            throw new ArgumentOutOfRangeException(nameof(ValidationSplit), ValidationSplit,
                $"validation_split must be in [0, 1). Received: validation_split={ValidationSplit}. Use 0.2 to hold out 20%.");
    }
}

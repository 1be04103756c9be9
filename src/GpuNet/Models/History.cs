namespace GpuNet.Models;

/// <summary>Metrics of one epoch. Loss and accuracy are means over the epoch's batches, as Keras reports them.</summary>
public sealed record EpochResult(int Epoch, int Epochs, double Loss, double Accuracy, double? ValidationLoss,
    double? ValidationAccuracy, TimeSpan Elapsed, int Steps, int Samples)
{
    /// <summary>The learning rate of the epoch's last step (after the schedule and any reduction on a plateau).</summary>
    public float LearningRate { get; init; } = float.NaN;

    /// <summary>Training throughput of the epoch (validation included in the time).</summary>
    public double SamplesPerSecond => Samples / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>A Keras-style line: "Epoch 3/30 - 0.41s - loss: 0.3120 - accuracy: 0.9102 - val_loss: ...".</summary>
    public override string ToString()
    {
        var s = $"Epoch {Epoch}/{Epochs} - {Elapsed.TotalSeconds:F2}s - loss: {Loss:F4}";
        if (!double.IsNaN(Accuracy)) s += $" - accuracy: {Accuracy:F4}";
        if (ValidationLoss is double vl) s += $" - val_loss: {vl:F4}";
        if (ValidationAccuracy is double va && !double.IsNaN(va)) s += $" - val_accuracy: {va:F4}";
        return s;
    }
}

/// <summary>Progress after one training batch (<see cref="FitOptions.OnBatchEnd"/>), as Keras' progress bar shows it.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Batch">The batch within the epoch, from 1 to <paramref name="Batches"/>.</param>
/// <param name="Loss">The mean loss over the epoch's batches so far.</param>
/// <param name="Accuracy">The accuracy over the epoch's samples so far (NaN for regression).</param>
public readonly record struct BatchProgress(int Epoch, int Epochs, int Batch, int Batches, double Loss, double Accuracy);

/// <summary>Loss and accuracy of a model on a dataset.</summary>
public sealed record EvaluationResult(double Loss, double Accuracy, int Samples)
{
    public override string ToString() =>
        double.IsNaN(Accuracy) ? $"loss: {Loss:F4} ({Samples} samples)" : $"loss: {Loss:F4} - accuracy: {Accuracy:F4} ({Samples} samples)";
}

/// <summary>What <see cref="Sequential.Fit"/> returns: one entry per epoch.</summary>
public sealed partial class History
{
    private readonly List<EpochResult> _epochs = [];

    public IReadOnlyList<EpochResult> Epochs => _epochs;

    internal void Add(EpochResult e) => _epochs.Add(e);

    internal void Clear() => _epochs.Clear();
}

/// <summary>Options of <see cref="Sequential.Fit"/>, with Keras' names and defaults where they exist.</summary>
public sealed record FitOptions
{
    /// <summary>Passes over the training data.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>
    /// The epochs already done (Keras' initial_epoch): training runs epochs InitialEpoch + 1 .. <see cref="Epochs"/>, with
    /// the shuffle order, epoch-based schedules and epoch numbers of an uninterrupted run. With a model loaded from a save
    /// after epoch InitialEpoch (its step count, optimizer slots and dropout stream restored) and the same options,
    /// the result equals the uninterrupted run's.
    /// </summary>
    public int InitialEpoch { get; init; }

    /// <summary>
    /// Training stops with <see cref="TrainingDivergedException"/> when an epoch's mean loss exceeds this many times the
    /// untrained model's loss on the first batch (or 1, whichever is larger); NaN or infinite losses and weights always stop it.
    /// </summary>
    public double ExplodingLossFactor { get; init; } = 1e4;

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

    /// <summary>Random image augmentation applied to each training batch on the device (never to validation data).</summary>
    public ImageAugmentation? Augmentation { get; init; }

    /// <summary>Stops training when the monitored loss stops improving.</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>Lowers the learning rate when the monitored loss stops improving.</summary>
    public ReduceLrOnPlateau? ReduceLrOnPlateau { get; init; }

    /// <summary>Saves the model during training (the best epoch so far, or every epoch), as Keras' ModelCheckpoint.</summary>
    public ModelCheckpoint? Checkpoint { get; init; }

    /// <summary>Called after each epoch (e.g. to print its line).</summary>
    public Action<EpochResult>? OnEpochEnd { get; init; }

    /// <summary>
    /// Called after every training batch with the epoch's running loss and accuracy (Keras' <c>on_train_batch_end</c>), e.g. to
    /// draw a progress bar. Reading them waits for the device after each batch, which slows training on a GPU; null (the
    /// default) reads them once per epoch.
    /// </summary>
    public Action<BatchProgress>? OnBatchEnd { get; init; }

    /// <summary>
    /// Keras' callbacks: each <see cref="Callback"/>'s hooks run in list order, after those of a <see cref="Models.ReduceLrOnPlateau"/>,
    /// a <see cref="ModelCheckpoint"/> and <see cref="OnEpochEnd"/> and before an <see cref="Models.EarlyStopping"/> (which may
    /// restore older weights), whether those are given in their own properties or in this list.
    /// </summary>
    public IReadOnlyList<Callback> Callbacks { get; init; } = [];

    /// <summary>
    /// Stops training when cancelled: checked before every batch, so Fit ends within one batch with an
    /// <see cref="OperationCanceledException"/>; the model keeps the weights of the batches it finished.
    /// </summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// What Fit prints (Keras' <c>verbose</c>): by default (<see cref="Verbosity.Auto"/>) a progress bar per epoch on an
    /// interactive console and nothing when the output is redirected; <see cref="Verbosity.Silent"/>,
    /// <see cref="Verbosity.ProgressBar"/> or <see cref="Verbosity.EpochLines"/> to choose.
    /// </summary>
    public Verbosity Verbose { get; init; } = Verbosity.Auto;

    /// <summary>Where Fit prints (null: <see cref="Console.Out"/>). A bar is drawn only on the console; other writers get epoch lines.</summary>
    public TextWriter? Output { get; init; }

    /// <summary>
    /// The least time between two <see cref="OnBatchEnd"/> calls (the epoch's last batch is always reported): the progress
    /// bar reads the running figures, a device synchronization, at most every 100 ms. Zero: every batch.
    /// </summary>
    internal TimeSpan BatchEndInterval { get; init; }

    /// <summary>Called when <see cref="ReduceLrOnPlateau"/> lowers the rate after an epoch (1-based), with the new rate.</summary>
    public Action<int, float>? OnLearningRateReduced { get; init; }

    internal void Validate()
    {
        if (Callbacks is null || Callbacks.Any(c => c is null))
            throw new ArgumentException("FitOptions.Callbacks must be a list of callbacks without null entries (an empty list for none).", nameof(Callbacks));
        if (Epochs < 1)
            throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, $"epochs must be a positive integer. Received: epochs={Epochs}.");
        if (InitialEpoch < 0 || InitialEpoch >= Epochs)
            throw new ArgumentOutOfRangeException(nameof(InitialEpoch), InitialEpoch,
                $"initial_epoch must be in [0, epochs); received initial_epoch={InitialEpoch}, epochs={Epochs}. Epochs is the last epoch's number: " +
                $"to train 2 more epochs after epoch {InitialEpoch}, set Epochs = {InitialEpoch + 2}.");
        if (!(ExplodingLossFactor > 1))
            throw new ArgumentOutOfRangeException(nameof(ExplodingLossFactor), ExplodingLossFactor,
                $"The exploding-loss factor must be a number > 1; received {ExplodingLossFactor}. Use double.PositiveInfinity to check only for NaN and infinity.");
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"batch_size must be a positive integer. Received: batch_size={BatchSize}.");
        if (!(ValidationSplit >= 0 && ValidationSplit < 1))
            throw new ArgumentOutOfRangeException(nameof(ValidationSplit), ValidationSplit,
                $"validation_split must be in [0, 1). Received: validation_split={ValidationSplit}. Use 0.2 to hold out 20%.");
    }
}

/// <summary>
/// Per-batch augmentation of images stored as rows of Height x Width pixels: random shift, rotation,
/// horizontal flip, brightness, Gaussian noise and cutout (see <see cref="Backends.AugmentationSettings"/>),
/// run on the device in training only and reproducible from the fit seed.
/// </summary>
public sealed record ImageAugmentation(int Height, int Width, Backends.AugmentationSettings Settings)
{
    internal void Validate(int features)
    {
        if (Height < 1 || Width < 1 || Height * Width != features)
            throw new ArgumentException($"Augmentation expects images of {Height} x {Width} = {Height * Width} pixels per sample, but the data has {features} features.");
        var s = Settings;
        if (s.MaxShift < 0 || s.MaxRotationDegrees < 0 || s.MaxBrightness < 0 || s.NoiseStddev < 0 || s.CutoutSize < 0
            || !(s.FlipProbability >= 0 && s.FlipProbability <= 1))
            throw new ArgumentOutOfRangeException(nameof(Settings),
                $"Augmentation settings must be non-negative and the flip probability in [0, 1]; received shift={s.MaxShift}, rotation={s.MaxRotationDegrees}, " +
                $"flip={s.FlipProbability}, brightness={s.MaxBrightness}, noise={s.NoiseStddev}, cutout={s.CutoutSize}.");
    }
}

/// <summary>
/// Early stopping, as Keras' callback: stop when the monitored loss (val_loss when there is validation
/// data, else loss) has not improved by at least <see cref="MinDelta"/> for <see cref="Patience"/> epochs.
/// </summary>
/// <remarks>
/// With <see cref="RestoreBestWeights"/> the model ends with the weights (and batch-norm statistics) of the
/// best epoch, kept in a device-side copy taken whenever an epoch improves. Unlike Keras, which restores
/// only when training stops early, they are restored whenever the last epoch is not the best one.
/// </remarks>
public sealed class EarlyStopping : Callback
{
    /// <param name="restoreBestWeights">End with the best epoch's weights instead of the last epoch's.</param>
    public EarlyStopping(int patience = 3, double minDelta = 0, bool restoreBestWeights = false)
    {
        RestoreBestWeights = restoreBestWeights;
        Patience = patience >= 1 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), patience, $"patience must be a positive integer; received patience={patience}.");
        MinDelta = minDelta >= 0 ? minDelta : throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, $"min_delta must be >= 0; received {minDelta}.");
    }

    public int Patience { get; }
    public double MinDelta { get; }

    /// <summary>The epoch (1-based) with the best monitored loss so far.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>Whether the best epoch's weights are restored at the end.</summary>
    public bool RestoreBestWeights { get; }

    /// <summary>The epoch whose weights were restored (0 when none were: the last epoch was the best, or restoring is off).</summary>
    public int RestoredEpoch { get; internal set; }

    /// <summary>The epoch training stopped after, or 0 if it ran to the end.</summary>
    public int StoppedEpoch { get; private set; }

    private readonly History _seen = new();
    private Sequential.WeightBackup? _best;

    /// <summary>Forgets the previous Fit's epochs, so one object can serve several Fit calls; with
    /// <see cref="RestoreBestWeights"/>, prepares the device copy of the best weights.</summary>
    public override void OnTrainBegin()
    {
        BestEpoch = StoppedEpoch = RestoredEpoch = 0;
        _seen.Clear();
        _best?.Dispose();
        _best = RestoreBestWeights ? new Sequential.WeightBackup(Model.Graph!) : null;
    }

    /// <summary>Keeps the best weights when this epoch is the best, and stops training when the patience has run out.</summary>
    public override void OnEpochEnd(EpochResult epoch)
    {
        _seen.Add(epoch);
        bool stop = ShouldStop(_seen);
        if (_best is not null && BestEpoch == epoch.Epoch) _best.Save();
        if (stop) Model.StopTraining = true;
    }

    /// <summary>Restores the best epoch's weights when the last epoch was not the best (with <see cref="RestoreBestWeights"/>).</summary>
    public override void OnTrainEnd(History history)
    {
        if (_best is not null && history.Epochs.Count > 0 && BestEpoch != history.Epochs[^1].Epoch)
        {
            _best.Restore();
            RestoredEpoch = BestEpoch;
        }
    }

    internal override void AfterFit()
    {
        _best?.Dispose();
        _best = null;
    }

    private bool ShouldStop(History history)
    {
        var epochs = history.Epochs;
        double Monitored(EpochResult e) => e.ValidationLoss ?? e.Loss;
        int best = 0;
        for (int i = 1; i < epochs.Count; i++)
            if (Monitored(epochs[i]) < Monitored(epochs[best]) - MinDelta) best = i;
        BestEpoch = epochs[best].Epoch; // epoch numbers, which start after FitOptions.InitialEpoch
        if (epochs.Count - 1 - best >= Patience)
        {
            StoppedEpoch = epochs[^1].Epoch;
            return true;
        }
        return false;
    }
}

/// <summary>
/// Keras' ModelCheckpoint: after an epoch, <see cref="Sequential.Save"/> the model to <see cref="Path"/> when the
/// monitored loss (val_loss when there is validation data, else loss) is the best so far, or after every epoch
/// when <see cref="SaveBestOnly"/> is false. Each save replaces the file atomically, so an interrupted run
/// leaves the last good checkpoint, and records its epoch in the metadata (<see cref="EpochKey"/>): load it and Fit
/// with <see cref="FitOptions.InitialEpoch"/> set to that epoch to continue the run.
/// </summary>
public sealed class ModelCheckpoint : Callback
{
    /// <param name="path">The model file; its folder must exist.</param>
    /// <param name="metadata">Extra string metadata stored with every save.</param>
    /// <exception cref="ArgumentException">The path is empty or its folder does not exist.</exception>
    public ModelCheckpoint(string path, bool saveBestOnly = true, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException("A checkpoint needs a file path, e.g. \"best.safetensors\".", nameof(path));
        string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        if (!Directory.Exists(folder))
            throw new ArgumentException($"Checkpoint path '{path}': {AtomicFile.MissingFolder(folder)}", nameof(path));
        AtomicFile.RemoveStale(path); // what an earlier run, killed while saving here, left behind
        Path = path;
        SaveBestOnly = saveBestOnly;
        Metadata = metadata;
    }

    /// <summary>The metadata key under which each save records its epoch (1-based): where a resumed run starts.</summary>
    public const string EpochKey = "epoch";

    public string Path { get; }
    public bool SaveBestOnly { get; }
    public IReadOnlyDictionary<string, string>? Metadata { get; }

    /// <summary>The metadata key under which each save records its monitored loss (val_loss, or loss without validation).</summary>
    public const string MonitoredKey = "monitored";

    /// <summary>
    /// The monitored loss an epoch must beat before the first save (with <see cref="SaveBestOnly"/>): for a resumed run,
    /// the best of the epochs before it (a saved checkpoint's <see cref="MonitoredKey"/>), so that the checkpoint holds the
    /// best epoch of the whole run. Infinity (the default) saves the first epoch.
    /// </summary>
    public double InitialBest { get; init; } = double.PositiveInfinity;

    /// <summary>The epoch (1-based) last saved in the latest Fit, 0 if none.</summary>
    public int SavedEpoch { get; private set; }

    private double _best;

    /// <summary>Forgets the previous Fit's best.</summary>
    public override void OnTrainBegin()
    {
        SavedEpoch = 0;
        _best = InitialBest;
    }

    /// <summary>Saves the model after <paramref name="epoch"/> if it qualifies.</summary>
    public override void OnEpochEnd(EpochResult epoch) => SaveIfDue(Model, epoch);

    /// <summary>Saves after <paramref name="epoch"/> if it qualifies; true if it saved.</summary>
    internal bool SaveIfDue(Sequential model, EpochResult epoch)
    {
        double monitored = epoch.ValidationLoss ?? epoch.Loss;
        if (SaveBestOnly && !(monitored < _best)) return false;
        _best = Math.Min(_best, monitored);
        var metadata = new Dictionary<string, string>(Metadata ?? new Dictionary<string, string>())
        {
            [EpochKey] = epoch.Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [MonitoredKey] = monitored.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        };
        model.Save(Path, metadata);
        SavedEpoch = epoch.Epoch;
        return true;
    }
}

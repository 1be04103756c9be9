namespace GpuNet.Models;

/// <summary>
/// Keras' Callback: hooks into <see cref="Sequential.Fit"/>. Pass instances in <see cref="FitOptions.Callbacks"/>; Fit calls
/// each hook on every callback, in list order. <see cref="EarlyStopping"/>, <see cref="ModelCheckpoint"/> and
/// <see cref="ReduceLrOnPlateau"/> are callbacks too (given in their own <see cref="FitOptions"/> properties or in the list).
/// </summary>
/// <example><code>
/// sealed class StopAtAccuracy(double target) : Callback
/// {
///     public override void OnEpochEnd(EpochResult epoch)
///     {
///         if (epoch.Accuracy >= target) Model.StopTraining = true; // Keras' self.model.stop_training = True
///     }
/// }
/// model.Fit(train, new FitOptions { Epochs = 30, Callbacks = [new StopAtAccuracy(0.99)] });
/// </code></example>
public abstract class Callback
{
    /// <summary>The model being trained: set before <see cref="OnTrainBegin"/>, for the length of the Fit.</summary>
    protected Sequential Model { get; private set; } = null!;

    internal void Attach(Sequential model) => Model = model;

    /// <summary>Before the first epoch.</summary>
    public virtual void OnTrainBegin() { }

    /// <summary>Before epoch <paramref name="epoch"/> (1-based).</summary>
    public virtual void OnEpochBegin(int epoch) { }

    /// <summary>
    /// After a batch, with the epoch's running loss and accuracy. Reading them waits for the device, so Fit calls this only
    /// on callbacks that override it, at most every 100 ms and after each epoch's last batch (every batch when
    /// <see cref="FitOptions.OnBatchEnd"/> is set).
    /// </summary>
    public virtual void OnBatchEnd(BatchProgress progress) { }

    /// <summary>After epoch <paramref name="epoch"/>, with its training and validation figures.</summary>
    public virtual void OnEpochEnd(EpochResult epoch) { }

    /// <summary>After the last epoch (or the one a callback stopped at), with every epoch of this Fit.</summary>
    public virtual void OnTrainEnd(History history) { }

    /// <summary>After Fit, whether it ended or failed: frees what the callback holds on the device.</summary>
    internal virtual void AfterFit() { }

    /// <summary>Whether this callback overrides <see cref="OnBatchEnd"/> (the running figures cost a device wait).</summary>
    internal bool WantsBatchEnd => _wantsBatchEnd ??=
        GetType().GetMethod(nameof(OnBatchEnd), [typeof(BatchProgress)])!.DeclaringType != typeof(Callback);

    private bool? _wantsBatchEnd;
}

/// <summary>Keras' LambdaCallback: hooks given as delegates.</summary>
public sealed class LambdaCallback : Callback
{
    public Action? TrainBegin { get; init; }
    public Action<int>? EpochBegin { get; init; }
    public Action<EpochResult>? EpochEnd { get; init; }
    public Action<History>? TrainEnd { get; init; }

    public override void OnTrainBegin() => TrainBegin?.Invoke();
    public override void OnEpochBegin(int epoch) => EpochBegin?.Invoke(epoch);
    public override void OnEpochEnd(EpochResult epoch) => EpochEnd?.Invoke(epoch);
    public override void OnTrainEnd(History history) => TrainEnd?.Invoke(history);
}

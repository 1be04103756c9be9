using GpuNet.Backends;
using GpuNet.Data;

namespace GpuNet.Models;

public sealed partial class Sequential
{
    /// <summary>
    /// Divergence detection for <see cref="Fit"/>, as Keras' TerminateOnNaN and more: after each epoch the mean loss
    /// must be finite and at most <see cref="FitOptions.ExplodingLossFactor"/> times the untrained model's loss (at
    /// least 1), and every parameter finite. The reference loss is one inference-mode forward pass on the first batch
    /// before training; the parameter check is one device reduction (sum of |w|) per epoch: no work inside a step.
    /// </summary>
    private sealed class DivergenceCheck : IDisposable
    {
        private readonly Sequential _model;
        private readonly DeviceBuffer<float> _sum;
        private readonly double _factor;
        private readonly string _advice;

        /// <param name="inputScale">The largest |feature| of the training data: unscaled inputs, not the rate, are then the likely cause.</param>
        public DivergenceCheck(Sequential model, DeviceData data, int batch, double factor, float inputScale)
        {
            _model = model;
            _factor = factor;
            _advice = inputScale > 10
                ? $"The inputs reach {inputScale:G4}: scale them to about [-1, 1] first (a Normalization layer; --scaler standard or minmax in gpunet), or lower the learning rate a lot."
                : "Lower the learning rate (e.g. divide it by 10), or clip the gradients (Optimizer.GlobalClipNorm; --global-clip-norm 1 in gpunet).";
            var backend = model.Backend!;
            var loss = model._lossNode!;
            _sum = backend.Allocate<float>(1);
            int rows = Math.Min(batch, data.Count);
            loss.ResetMetrics();
            model.LoadBatch(data, 0, rows);
            model._graph!.Forward(rows, training: false);
            Span<float> host = stackalloc float[1];
            backend.Download(loss.LossSum, host);
            InitialLoss = host[0] / loss.LossDivisor(rows);
            if (!double.IsFinite(InitialLoss))
                throw new TrainingDivergedException(0, InitialLoss,
                    $"Before training, the model's loss on the first {rows} samples is {InitialLoss}: its weights are out of range " +
                    "(a damaged model, or an initializer with a huge scale). Start from fresh weights (a new model, or another --init).");
        }

        /// <summary>The untrained model's mean loss on the first batch.</summary>
        public double InitialLoss { get; }

        /// <summary>Throws <see cref="TrainingDivergedException"/> when epoch <paramref name="epoch"/> diverged.</summary>
        public void AfterEpoch(int epoch, double trainLoss)
        {
            try
            {
                Check(epoch, trainLoss);
            }
            catch (TrainingDivergedException e)
            {
                _model._divergence = e; // Evaluate and Predict refuse the useless weights from now on
                throw;
            }
        }

        private void Check(int epoch, double trainLoss)
        {
            string Advice = _advice;
            if (!double.IsFinite(trainLoss))
                throw new TrainingDivergedException(epoch, trainLoss,
                    $"Training diverged in epoch {epoch}: the mean loss is {trainLoss} (the data holds only finite numbers). {Advice}");
            double limit = _factor * Math.Max(InitialLoss, 1);
            if (trainLoss > limit)
                throw new TrainingDivergedException(epoch, trainLoss,
                    $"Training diverged in epoch {epoch}: the mean loss {trainLoss:G4} is more than {_factor:G} times the untrained model's " +
                    $"{InitialLoss:G4} (the limit is {limit:G4}; FitOptions.ExplodingLossFactor). {Advice}");
            var backend = _model.Backend!;
            var graph = _model._graph!;
            backend.Fill(_sum, 0f);
            backend.L1L2Penalty(graph.ParameterBuffer, graph.ParameterCount, 1f, 0f, _sum); // NaN or infinite if any weight is
            Span<float> host = stackalloc float[1];
            backend.Download(_sum, host);
            if (!float.IsFinite(host[0]))
                throw new TrainingDivergedException(epoch, trainLoss,
                    $"Training diverged in epoch {epoch}: the weights hold NaN or infinite values after the epoch's last update " +
                    $"(the mean loss was {trainLoss:G4}). {Advice}");
        }

        public void Dispose() => _sum.Dispose();
    }

    /// <summary>
    /// Throws <see cref="ModelTooLargeException"/> before anything is allocated when the graph for batches of
    /// <paramref name="batchCapacity"/> rows cannot exist: one buffer over the largest array .NET and the backends
    /// index with an int, or, at least, the parameters with their gradients and one value and gradient per unit
    /// and row over the device's memory.
    /// </summary>
    private void CheckFits(Graph.Shape inputShape, int batchCapacity)
    {
        const string Fix = "Use a smaller batch size (FitOptions.BatchSize; --batch-size in gpunet) or fewer, narrower layers (--layers).";
        const string Narrower = "Use narrower layers (--layers in gpunet) or fewer input features.";
        long parameters = 0, unitsPerRow = inputShape.Size;
        var shape = inputShape;
        foreach (var layer in _layers)
        {
            long p = layer.ParameterCount(shape);
            if (p > Array.MaxLength)
                throw new ModelTooLargeException(
                    $"Layer '{layer.Name}' would have {p:N0} parameters ({shape.Size:N0} inputs), more than the {Array.MaxLength:N0} one buffer can hold. {Narrower}");
            parameters += p;
            shape = layer.OutputShape(shape);
            int width = shape.Size;
            if ((long)batchCapacity * width > Array.MaxLength)
                throw new ModelTooLargeException(
                    $"Batches of {batchCapacity:N0} rows through layer '{layer.Name}' ({width:N0} units) make {(long)batchCapacity * width:N0} values, " +
                    $"more than the {Array.MaxLength:N0} one buffer can hold. {Fix}");
            unitsPerRow += 2L * width; // each output's value and gradient
        }
        if (parameters > Array.MaxLength)
            throw new ModelTooLargeException($"The model would have {parameters:N0} parameters, more than the {Array.MaxLength:N0} one buffer can hold. {Narrower}");
        double weights = 4.0 * 2 * parameters, activations = 4.0 * batchCapacity * unitsPerRow;
        long available = Backend!.MemoryBytes;
        if (weights + activations > available)
            throw new ModelTooLargeException(
                $"The model needs at least {Bytes(weights + activations)}: {parameters:N0} parameters with their gradients ({Bytes(weights)}) and " +
                $"the layers' values and gradients for batches of {batchCapacity:N0} rows ({Bytes(activations)}), but {Backend.Name} has {Bytes(available)}. {Fix}");
    }

    private static string Bytes(double bytes) => bytes >= 1e9 ? $"{bytes / 1e9:N1} GB" : $"{bytes / 1e6:N1} MB";

    /// <summary>Set when a Fit diverged: the weights are then NaN, infinite or far off.</summary>
    private TrainingDivergedException? _divergence;

    /// <summary>Evaluate and Predict refuse a model whose training diverged.</summary>
    private void ThrowIfDiverged()
    {
        if (_divergence is { } e)
            throw new InvalidOperationException(
                $"The model's training diverged in epoch {e.Epoch} (mean loss {e.Loss:G4}); its weights are useless for evaluating or predicting. " +
                "Train a fresh model with a lower learning rate, or load a checkpoint saved before the divergence.");
    }

    /// <summary>
    /// A dataset a model can learn from or be measured on: at least one sample, every feature and target a finite
    /// number. NaN or infinity in the data would otherwise surface as a diverged loss, blamed on the learning rate.
    /// </summary>
    private static void CheckValues(Dataset data)
    {
        if (data.Count == 0)
            throw new ArgumentException($"Dataset '{data.Name}' has no samples; a model needs at least one to train on or be measured on.", nameof(data));
        CheckFinite(data.Name, "feature", data.Features, data.FeatureCount);
        if (data.Targets is { } targets) CheckFinite(data.Name, "target", targets, data.TargetCount);
    }

    private static void CheckFinite(string name, string what, float[] values, int perSample)
    {
        int first = -1, count = 0;
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
            {
                if (first < 0) first = i;
                count++;
            }
        if (first >= 0)
            throw new ArgumentException(
                $"Dataset '{name}': {what} {first % perSample} of sample {first / perSample} is {values[first]} ({count:N0} non-finite {what} values in all). " +
                "A model needs finite numbers: drop those samples or replace the values (e.g. by the column's median) before training.", nameof(values));
    }

    /// <summary>
    /// Throws when a tensor holds NaN or infinity: such a model (a diverged run) predicts nothing useful, and saving it
    /// over a good file would lose that file.
    /// </summary>
    /// <param name="source">What the tensors are, for the message (a file path, or "the model").</param>
    internal static void CheckFiniteTensors(IEnumerable<NamedTensor> tensors, string source, Func<string, Exception> error)
    {
        foreach (var t in tensors)
        {
            int bad = Array.FindIndex(t.Data, v => !float.IsFinite(v));
            if (bad >= 0)
                throw error($"{source}: tensor '{t.Name}' holds {t.Data[bad]} at index {bad} ({t.Data.Count(v => !float.IsFinite(v)):N0} non-finite values)");
        }
    }
}

/// <summary>
/// Thrown when training diverges: the mean loss of an epoch is NaN or infinite or has exploded far above the untrained
/// model's, or the weights hold NaN or infinity. The model's weights are then useless; nothing is saved.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    public TrainingDivergedException(int epoch, double loss) : this(epoch, loss,
        $"Training diverged in epoch {epoch}: the mean loss is {loss}. Lower the learning rate (e.g. divide it by 10) or clip the gradients.")
    {
    }

    public TrainingDivergedException(int epoch, double loss, string message) : base(message)
    {
        Epoch = epoch;
        Loss = loss;
    }

    /// <summary>The epoch (1-based) after which divergence was found; 0 before training.</summary>
    public int Epoch { get; }

    /// <summary>That epoch's mean training loss.</summary>
    public double Loss { get; }
}

/// <summary>
/// Thrown before allocating when a model, or a batch through it, cannot fit: the message gives the sizes and what to
/// change (the batch size, the layer widths).
/// </summary>
public sealed class ModelTooLargeException(string message) : ArgumentException(message);

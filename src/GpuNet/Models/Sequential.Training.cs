using System.Diagnostics;
using GpuNet.Backends;
using GpuNet.Data;

namespace GpuNet.Models;

public sealed partial class Sequential
{
    /// <summary>A dataset uploaded to the device once: features, labels and an index to gather batches by.</summary>
    private sealed class DeviceData : IDisposable
    {
        public DeviceData(IBackend backend, Dataset data)
        {
            Count = data.Count;
            Features = backend.Allocate<float>(data.Features.Length);
            Labels = backend.Allocate<int>(data.Count);
            Index = backend.Allocate<int>(data.Count);
            backend.Upload<float>(data.Features, Features);
            backend.Upload<int>(data.Labels, Labels);
            backend.Upload<int>(Enumerable.Range(0, data.Count).ToArray(), Index);
        }

        public int Count { get; }
        public DeviceBuffer<float> Features { get; }
        public DeviceBuffer<int> Labels { get; }

        /// <summary>The order batches are gathered in (identity, or the epoch's shuffle).</summary>
        public DeviceBuffer<int> Index { get; }

        public void Dispose()
        {
            Features.Dispose();
            Labels.Dispose();
            Index.Dispose();
        }
    }

    /// <summary>Trains the model on <paramref name="train"/>.</summary>
    /// <returns>Per-epoch loss and accuracy (and validation figures when a validation set is given).</returns>
    public History Fit(Dataset train, FitOptions options)
    {
        options.Validate();
        var (fitData, validation) = options.ValidationSplit > 0 && options.ValidationData is null
            ? train.Split(options.ValidationSplit, options.Seed)
            : (train, options.ValidationData);
        CheckClasses(fitData);
        var graph = EnsureBuilt(fitData.FeatureCount, options.BatchSize);
        int batch = Math.Min(options.BatchSize, graph.BatchCapacity);
        var backend = Backend!;
        var loss = _lossNode!;
        var input = _input!;

        using var trainOnDevice = new DeviceData(backend, fitData);
        using var validationOnDevice = validation is null ? null : new DeviceData(backend, validation);
        var order = Enumerable.Range(0, fitData.Count).ToArray();
        var rng = new Random(options.Seed);
        var history = new History();
        long iteration = 0;
        Span<float> lossHost = stackalloc float[1];
        Span<int> correctHost = stackalloc int[1];

        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            if (options.Shuffle)
            {
                rng.Shuffle(order);
                backend.Upload<int>(order, trainOnDevice.Index); // once per epoch, not per step
            }
            loss.ResetMetrics();
            int steps = 0;
            for (int offset = 0; offset < fitData.Count; offset += batch)
            {
                int rows = Math.Min(batch, fitData.Count - offset);
                backend.GatherRows(trainOnDevice.Features, trainOnDevice.Index, offset, rows, fitData.FeatureCount, input.Value);
                backend.Gather(trainOnDevice.Labels, trainOnDevice.Index, offset, rows, loss.Labels);
                graph.Forward(rows, training: true);
                graph.Backward();
                Optimizer!.Step(graph, iteration++);
                steps++;
            }
            // The epoch's only host synchronization: read the accumulated loss and correct count.
            backend.Download(loss.LossSum, lossHost);
            backend.Download(loss.Correct, correctHost);
            double trainLoss = lossHost[0] / fitData.Count, trainAccuracy = (double)correctHost[0] / fitData.Count;
            if (!double.IsFinite(trainLoss))
                throw new TrainingDivergedException(epoch, trainLoss);

            EvaluationResult? val = validationOnDevice is null ? null : EvaluateOnDevice(validationOnDevice, batch);
            clock.Stop();
            var result = new EpochResult(epoch, options.Epochs, trainLoss, trainAccuracy, val?.Loss, val?.Accuracy,
                clock.Elapsed, steps, fitData.Count);
            history.Add(result);
            options.OnEpochEnd?.Invoke(result);
        }
        return history;
    }

    /// <summary>Mean loss and accuracy on <paramref name="data"/> (inference mode).</summary>
    public EvaluationResult Evaluate(Dataset data, int batchSize = 256)
    {
        CheckClasses(data);
        var graph = EnsureBuilt(data.FeatureCount, batchSize);
        using var onDevice = new DeviceData(Backend!, data);
        return EvaluateOnDevice(onDevice, graph.BatchCapacity);
    }

    private EvaluationResult EvaluateOnDevice(DeviceData data, int batch)
    {
        var backend = Backend!;
        var graph = _graph!;
        var loss = _lossNode!;
        batch = Math.Min(batch, graph.BatchCapacity);
        loss.ResetMetrics();
        for (int offset = 0; offset < data.Count; offset += batch)
        {
            int rows = Math.Min(batch, data.Count - offset);
            backend.GatherRows(data.Features, data.Index, offset, rows, InputSize, _input!.Value);
            backend.Gather(data.Labels, data.Index, offset, rows, loss.Labels);
            graph.Forward(rows, training: false);
        }
        Span<float> lossHost = stackalloc float[1];
        Span<int> correctHost = stackalloc int[1];
        backend.Download(loss.LossSum, lossHost);
        backend.Download(loss.Correct, correctHost);
        return new EvaluationResult(lossHost[0] / data.Count, (double)correctHost[0] / data.Count, data.Count);
    }

    /// <summary>
    /// The model's outputs for <paramref name="features"/> (rows x InputSize, row-major): class
    /// probabilities (or logits for a from-logits loss), rows x classes.
    /// </summary>
    public float[] Predict(float[] features, int batchSize = 256)
    {
        int inputSize = InputSize > 0 ? InputSize : throw new InvalidOperationException("Fit or Evaluate the model before Predict (its input width is not known yet).");
        if (features.Length % inputSize != 0)
            throw new ArgumentException($"Predict got {features.Length} values, not a whole number of rows of {inputSize} features.", nameof(features));
        int rows = features.Length / inputSize;
        var graph = EnsureBuilt(inputSize, batchSize);
        var backend = Backend!;
        int classes = _prediction!.Cols;
        var output = new float[rows * classes];
        using var x = backend.Allocate<float>(features.Length);
        using var index = backend.Allocate<int>(rows);
        backend.Upload<float>(features, x);
        backend.Upload<int>(Enumerable.Range(0, rows).ToArray(), index);
        for (int offset = 0; offset < rows; offset += graph.BatchCapacity)
        {
            int n = Math.Min(graph.BatchCapacity, rows - offset);
            backend.GatherRows(x, index, offset, n, inputSize, _input!.Value);
            graph.Forward(n, training: false);
            backend.Download(_prediction.Value.Slice(0, n * classes), output.AsSpan(offset * classes, n * classes));
        }
        return output;
    }

    private void CheckClasses(Dataset data)
    {
        int outputs = _layers[^1].OutputSize(data.FeatureCount);
        if (data.ClassCount > outputs)
            throw new ArgumentException(
                $"Dataset '{data.Name}' has {data.ClassCount} classes but the last layer '{_layers[^1].Name}' has {outputs} units. " +
                $"Give the last layer at least {data.ClassCount} units.", nameof(data));
    }
}

/// <summary>Thrown when the training loss becomes NaN or infinite.</summary>
public sealed class TrainingDivergedException(int epoch, double loss) : Exception(
    $"Training diverged in epoch {epoch}: the mean loss is {loss}. Lower the learning rate (e.g. divide it by 10) or check the data for NaNs or unscaled values.")
{
    public int Epoch { get; } = epoch;
}

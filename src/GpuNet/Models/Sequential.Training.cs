using System.Diagnostics;
using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Graph;
using GpuNet.Layers;

namespace GpuNet.Models;

public sealed partial class Sequential
{
    /// <summary>A dataset uploaded to the device once: features, labels, dense targets when the loss needs them, and an index to gather batches by.</summary>
    private sealed class DeviceData : IDisposable
    {
        public DeviceData(IBackend backend, Dataset data, LossNode loss)
        {
            Count = data.Count;
            IsMultiLabel = data.IsMultiLabel;
            Features = backend.Allocate<float>(data.Features.Length);
            Labels = backend.Allocate<int>(data.Count);
            Index = backend.Allocate<int>(data.Count);
            backend.Upload<float>(data.Features, Features);
            backend.Upload<int>(data.Labels, Labels);
            backend.Upload<int>(Enumerable.Range(0, data.Count).ToArray(), Index);
            if (loss.TargetKind == TargetKind.Dense)
            {
                TargetCols = loss.Input.Cols;
                Targets = backend.Allocate<float>(data.Count * TargetCols);
                backend.Upload<float>(DenseTargets(data, TargetCols), Targets);
            }
        }

        public int Count { get; }

        /// <summary>Several labels per sample: the loss counts accuracy per label (<see cref="LossNode.MultiLabel"/>).</summary>
        public bool IsMultiLabel { get; }

        public DeviceBuffer<float> Features { get; }
        public DeviceBuffer<int> Labels { get; }
        public DeviceBuffer<float>? Targets { get; }
        public int TargetCols { get; }

        /// <summary>The order batches are gathered in (identity, or the epoch's shuffle).</summary>
        public DeviceBuffer<int> Index { get; }

        /// <summary>Regression targets as given; class labels as one-hot rows, or as 0/1 for a single output.</summary>
        private static float[] DenseTargets(Dataset data, int cols)
        {
            if (data.Targets is not null)
            {
                if (data.TargetCount != cols)
                    throw new ArgumentException($"Dataset '{data.Name}' has {data.TargetCount} targets per sample but the model outputs {cols}.");
                return data.Targets;
            }
            if (cols == 1)
            {
                if (data.ClassCount > 2)
                    throw new ArgumentException($"Dataset '{data.Name}' has {data.ClassCount} classes but the model has a single output; use one output per class with softmax.");
                return [.. data.Labels.Select(l => (float)l)];
            }
            return Data.Tabular.Encoding.ToCategorical(data.Labels, cols);
        }

        public void Dispose()
        {
            Features.Dispose();
            Labels.Dispose();
            Index.Dispose();
            Targets?.Dispose();
        }
    }

    /// <summary>Trains the model on <paramref name="train"/>.</summary>
    /// <remarks>As Keras' fit, it shows a progress bar per epoch on an interactive console (<see cref="FitOptions.Verbose"/>);
    /// with the output redirected, or <see cref="Verbosity.Silent"/>, it prints nothing.</remarks>
    /// <returns>Per-epoch loss and accuracy (and validation figures when a validation set is given).</returns>
    public History Fit(Dataset train, FitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var output = options.Output ?? Console.Out;
        return FitProgress.Run(FitProgress.Resolve(options.Verbose, output), output, options, o => FitSilently(train, o));
    }

    private History FitSilently(Dataset train, FitOptions options)
    {
        using var trainer = new Trainer(this, train, options);
        return trainer.Run();
    }

    // true between an epoch's first step and the read of its figures: the loss node's accumulators hold the epoch's sums
    private bool _epochRunning;

    /// <summary>Set by a callback to end Fit after the current epoch (Keras' <c>model.stop_training</c>); Fit clears it when it starts.</summary>
    public bool StopTraining { get; set; }

    /// <summary>A device-side copy of every parameter and state (restoring the best epoch's weights), or of some buffers (a frozen layer's).</summary>
    internal sealed class WeightBackup : IDisposable
    {
        private readonly IBackend _backend;
        // (live, copy) pairs: the parameters (one buffer for the whole model) and every state buffer
        private readonly (DeviceBuffer<float> Live, DeviceBuffer<float> Copy)[] _pairs;

        public WeightBackup(ComputationGraph graph) : this(graph.Backend, graph.States.Select(s => s.Buffer).Prepend(graph.ParameterBuffer))
        {
        }

        /// <summary>A backup of the given buffers (whole buffers or slices: a frozen layer's parameters).</summary>
        public WeightBackup(IBackend backend, IEnumerable<DeviceBuffer<float>> live)
        {
            _backend = backend;
            _pairs = [.. live.Where(b => b.Length > 0).Select(b => (b, _backend.Allocate<float>(b.Length)))];
        }

        public void Save()
        {
            foreach (var (live, copy) in _pairs) _backend.Copy(live, copy);
        }

        public void Restore()
        {
            foreach (var (live, copy) in _pairs) _backend.Copy(copy, live);
        }

        public void Dispose()
        {
            foreach (var (_, copy) in _pairs) copy.Dispose();
        }
    }

    /// <summary>
    /// One training step on the samples <paramref name="batchIndices"/> of <paramref name="data"/>: the step's values (its
    /// row indices, its counter for dropout and augmentation, the optimizer's learning rate and bias corrections) go to the
    /// device in one upload from the graph's preallocated host array, then forward, backward and the update run as device
    /// work whose launches read those values on the device: the same launches with the same arguments every step. A smaller
    /// last batch is padded to the batch capacity with repeats of its own samples, which the row weights drop from every sum
    /// (<see cref="ComputationGraph.PadsPartialBatches"/>), so it too launches the same operations as every other step.
    /// </summary>
    private void TrainStep(DeviceData data, ReadOnlySpan<int> batchIndices, long iteration, int epoch,
        ImageAugmentation? augmentation = null, DeviceBuffer<float>? staging = null, ulong seed = 0)
    {
        var graph = _graph!;
        var values = graph.StepValues;
        int rows = batchIndices.Length;
        var indices = values.BatchIndices;
        batchIndices.CopyTo(indices);
        int loaded = rows;
        if (graph.PadsPartialBatches)
        {
            // padding rows repeat the batch's own samples: real data, so every value they produce is finite
            for (int i = rows; i < graph.BatchCapacity; i++) indices[i] = batchIndices[i % rows];
            values.ActiveRows = rows;
            loaded = graph.BatchCapacity;
        }
        values.Step = (ulong)iteration;
        Optimizer!.WriteStepValues(values, iteration, epoch);
        values.Upload();
        LoadBatch(data, values.Buffer, StepValues.BatchIndexOffset, loaded, augmentation, staging, seed);
        graph.Forward(rows, training: true);
        graph.Backward();
        UpdateWeights(iteration, epoch);
    }

    /// <summary>
    /// Gathers rows [offset, offset + rows) of the data's index into the input tensor and the loss's labels and targets:
    /// device work only.
    /// </summary>
    private void LoadBatch(DeviceData data, int offset, int rows) => LoadBatch(data, data.Index, offset, rows);

    /// <summary>
    /// Gathers the samples index[indexOffset + i], i &lt; rows, into the input tensor (through the augmenter when one is
    /// given; its step is the graph's step counter, read on the device) and the loss's labels and targets: device work only.
    /// </summary>
    private void LoadBatch(DeviceData data, DeviceBuffer<int> index, int indexOffset, int rows,
        ImageAugmentation? augmentation = null, DeviceBuffer<float>? staging = null, ulong seed = 0)
    {
        var backend = Backend!;
        var loss = _lossNode!;
        if (augmentation is null)
            backend.GatherRows(data.Features, index, indexOffset, rows, InputSize, _input!.Value);
        else
        {
            backend.GatherRows(data.Features, index, indexOffset, rows, InputSize, staging!);
            backend.AugmentImages(staging!, _input!.Value, rows, augmentation.Height, augmentation.Width, augmentation.Settings, seed,
                _graph!.StepValues.Buffer, StepValues.StepIndex);
        }
        backend.Gather(data.Labels, index, indexOffset, rows, loss.Labels);
        if (loss.Targets is not null)
            backend.GatherRows(data.Targets!, index, indexOffset, rows, data.TargetCols, loss.Targets);
    }

    /// <summary>Mean loss and accuracy on <paramref name="data"/> (inference mode).</summary>
    public EvaluationResult Evaluate(Dataset data, int batchSize = 256)
    {
        ThrowIfDiverged();
        if (_epochRunning)
            throw new InvalidOperationException(
                "Evaluate was called inside a running epoch (from a callback's OnBatchEnd): it would reset the epoch's running loss and " +
                "accuracy, which the epoch's result is read from. Evaluate in OnEpochEnd instead, or pass the data as FitOptions.ValidationData.");
        CheckOutputs(data);
        CheckValues(data);
        var graph = EnsureBuilt(data.FeatureCount, Math.Min(batchSize, data.Count));
        using var onDevice = new DeviceData(Backend!, data, _lossNode!);
        return EvaluateOnDevice(onDevice, graph.BatchCapacity, !data.ReportsAccuracy);
    }

    private EvaluationResult EvaluateOnDevice(DeviceData data, int batch, bool noAccuracy)
    {
        var backend = Backend!;
        var graph = _graph!;
        var loss = _lossNode!;
        batch = Math.Min(batch, graph.BatchCapacity);
        loss.ResetMetrics();
        loss.MultiLabel = data.IsMultiLabel;
        for (int offset = 0; offset < data.Count; offset += batch)
        {
            int rows = Math.Min(batch, data.Count - offset);
            LoadBatch(data, offset, rows);
            graph.Forward(rows, training: false);
        }
        Span<float> lossHost = stackalloc float[1];
        Span<int> correctHost = stackalloc int[1];
        backend.Download(loss.LossSum, lossHost);
        backend.Download(loss.Correct, correctHost);
        double accuracy = loss.CountsAccuracy && !noAccuracy ? (double)correctHost[0] / loss.AccuracyDivisor(data.Count) : double.NaN;
        return new EvaluationResult(lossHost[0] / loss.LossDivisor(data.Count), accuracy, data.Count);
    }

    /// <summary>
    /// The model's outputs for <paramref name="features"/> (rows x InputSize, row-major): class
    /// probabilities (or logits for a from-logits loss), rows x outputs.
    /// </summary>
    public float[] Predict(float[] features, int batchSize = 256)
    {
        ThrowIfDiverged();
        int inputSize = InputSize > 0 ? InputSize : throw new InvalidOperationException("Fit or Evaluate the model before Predict (its input width is not known yet).");
        if (features.Length % inputSize != 0)
            throw new ArgumentException($"Predict got {features.Length} values, not a whole number of rows of {inputSize} features.", nameof(features));
        int rows = features.Length / inputSize;
        var graph = EnsureBuilt(inputSize, Math.Clamp(batchSize, 1, Math.Max(rows, 1)));
        var backend = Backend!;
        int outputs = _prediction!.Cols;
        var output = new float[rows * outputs];
        using var x = backend.Allocate<float>(features.Length);
        using var index = backend.Allocate<int>(rows);
        backend.Upload<float>(features, x);
        backend.Upload<int>(Enumerable.Range(0, rows).ToArray(), index);
        for (int offset = 0; offset < rows; offset += graph.BatchCapacity)
        {
            int n = Math.Min(graph.BatchCapacity, rows - offset);
            backend.GatherRows(x, index, offset, n, inputSize, _input!.Value);
            graph.Forward(n, training: false);
            backend.Download(_prediction.Value.Slice(0, n * outputs), output.AsSpan(offset * outputs, n * outputs));
        }
        return output;
    }

    /// <summary>
    /// The class of each row of <paramref name="features"/> with its probability: the argmax of <see cref="Predict"/>
    /// (softmaxed or sigmoided first for a from-logits loss), or p &gt; 0.5 for a single sigmoid output.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model is not compiled, or is a regression model (mean squared error).</exception>
    public ClassPredictions PredictClasses(float[] features, int batchSize = 256)
    {
        if (Loss is null) throw new InvalidOperationException("Compile and fit the model before PredictClasses.");
        if (Loss is Losses.MeanSquaredError)
            throw new InvalidOperationException("PredictClasses is for classifiers; this model is trained with mean_squared_error (regression): use Predict for its values.");
        return new Ensemble([this]).PredictClasses(features, batchSize);
    }

    /// <summary>
    /// LSUV (Mishkin and Matas 2016) on a batch of <paramref name="data"/>: for each Dense layer whose kernel
    /// initializer is <see cref="Initializers.Lsuv"/>, in order, rescale W by 1/sqrt(Var(x W + b)) until the
    /// variance is within the tolerance of 1. Returns each such layer's final variance.
    /// </summary>
    public IReadOnlyList<(string Layer, float Variance, int Iterations)> InitializeLsuv(Dataset data, int batchSize = 256)
    {
        CheckOutputs(data);
        var graph = EnsureBuilt(data.FeatureCount, batchSize);
        using var onDevice = new DeviceData(Backend!, data, _lossNode!);
        return RunLsuv(onDevice, graph.BatchCapacity);
    }

    private List<(string, float, int)> RunLsuv(DeviceData data, int batch)
    {
        _lsuvPending = false;
        _lsuvDone = true;
        var backend = Backend!;
        var graph = _graph!;
        int rows = Math.Min(batch, Math.Min(data.Count, graph.BatchCapacity));
        backend.GatherRows(data.Features, data.Index, 0, rows, InputSize, _input!.Value);
        var results = new List<(string, float, int)>();
        foreach (var dense in AllLayers.OfType<Dense>())
        {
            if (dense.KernelInitializer is not Initializers.Lsuv lsuv || dense.Node is null) continue;
            var output = dense.Node.Output;
            var host = new float[rows * output.Cols];
            float variance = 0;
            int iterations = 0;
            for (; iterations < lsuv.MaxIterations; iterations++)
            {
                graph.Forward(rows, training: false);
                backend.Download(output.Value.Slice(0, host.Length), host);
                double mean = host.Average(v => (double)v);
                variance = (float)host.Average(v => (v - mean) * (v - mean));
                if (Math.Abs(variance - 1) < lsuv.Tolerance || variance <= 0) break;
                backend.Scale(dense.Node.Weights.Value, dense.Node.Weights.Count, 1f / MathF.Sqrt(variance));
            }
            results.Add((dense.Name, variance, iterations));
        }
        return results;
    }

    private void CheckOutputs(Dataset data)
    {
        int outputs = FlatOutputShape(InputShapeFor(data.FeatureCount, data.SampleShape, data.Name)).Size;
        if (data.IsRegression)
        {
            if (data.TargetCount != outputs)
                throw new ArgumentException($"Dataset '{data.Name}' has {data.TargetCount} targets per sample but the last layer '{_layers[^1].Name}' has {outputs} units.", nameof(data));
            if (Loss is Losses.SparseCategoricalCrossentropy or Losses.CategoricalCrossentropy or Losses.BinaryCrossentropy) // a user-written loss may be a regression loss
                throw new ArgumentException($"Dataset '{data.Name}' is a regression set; train it with mean_squared_error, not {Loss.Name}.", nameof(data));
            return;
        }
        if (data.HasClassTargets)
        {
            if (data.TargetCount != outputs)
                throw new ArgumentException($"Dataset '{data.Name}' has target rows of {data.TargetCount} classes but the last layer '{_layers[^1].Name}' has {outputs} units; give it {data.TargetCount}.", nameof(data));
            if (Loss is Losses.SparseCategoricalCrossentropy)
                throw new ArgumentException($"Dataset '{data.Name}' gives its classes as target rows (one-hot, soft or multi-label); train it with categorical_crossentropy " +
                                            "(binary_crossentropy with sigmoid outputs for multi-label), not sparse_categorical_crossentropy, which takes class indices.", nameof(data));
            return;
        }
        if (outputs == 1 ? data.ClassCount > 2 : data.ClassCount > outputs)
            throw new ArgumentException(
                $"Dataset '{data.Name}' has {data.ClassCount} classes but the last layer '{_layers[^1].Name}' has {outputs} units. " +
                $"Give the last layer at least {data.ClassCount} units.", nameof(data));
    }
}

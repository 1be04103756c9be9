using System.Diagnostics;
using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Graph;

namespace GpuNet.Models;

public sealed partial class Sequential
{
    /// <summary>
    /// One Fit: the data on the device, the epoch order, the callbacks, and the epoch loop. The model builds the graph and
    /// runs a step (<see cref="TrainStep"/>); the trainer decides which steps run, reads the epoch's figures once, and tells
    /// the callbacks (Keras' fit loop with its CallbackList).
    /// </summary>
    private sealed class Trainer : IDisposable
    {
        private readonly Sequential _model;
        private readonly FitOptions _options;
        private readonly Dataset _data;
        private readonly Dataset? _validation;
        private readonly int _batch;
        private readonly LossNode _loss;
        private readonly IBackend _backend;
        private readonly DeviceData _train;
        private readonly DeviceData? _validationOnDevice;
        private readonly DeviceBuffer<float>? _staging;
        private readonly DivergenceCheck _divergence;
        private readonly int[] _order;
        private readonly Random _rng;
        private readonly List<Callback> _callbacks;
        private readonly bool _batchEnd;
        private readonly TimeSpan _batchEndInterval;
        private readonly History _history = new();
        private long _iteration;

        public Trainer(Sequential model, Dataset train, FitOptions options)
        {
            _model = model;
            _options = options;
            options.Validate();
            (_data, _validation) = options.ValidationSplit > 0 && options.ValidationData is null
                ? train.Split(options.ValidationSplit, options.Seed)
                : (train, options.ValidationData);
            model.CheckOutputs(_data);
            CheckValues(_data);
            if (_validation is not null)
            {
                model.CheckOutputs(_validation);
                model.InputShapeFor(_validation.FeatureCount, _validation.SampleShape, _validation.Name);
                CheckValues(_validation);
            }
            var optimizer = model.Optimizer ?? throw new InvalidOperationException("Compile the model (optimizer, loss, device) before Fit.");
            // a batch larger than the data is the data (as in Keras): no graph is built for rows that never come
            int requestedBatch = optimizer.FullBatch ? _data.Count : Math.Min(options.BatchSize, _data.Count);
            var graph = model.EnsureBuilt(_data.FeatureCount, requestedBatch, exactCapacity: true);
            _batch = Math.Min(requestedBatch, graph.BatchCapacity);
            _backend = model.Backend!;
            _loss = model._lossNode!;
            options.Augmentation?.Validate(_data.FeatureCount);
            try
            {
                _train = new DeviceData(_backend, _data, _loss);
                _validationOnDevice = _validation is null ? null : new DeviceData(_backend, _validation, _loss);
                _staging = options.Augmentation is null ? null : _backend.Allocate<float>(graph.BatchCapacity * _data.FeatureCount);
                if (model._lsuvPending) model.RunLsuv(_train, _batch);
                _divergence = new DivergenceCheck(model, _train, _batch, options.ExplodingLossFactor,
                    System.Numerics.Tensors.TensorPrimitives.MaxMagnitude<float>(_data.Features));
            }
            catch
            {
                Dispose();
                throw;
            }
            _order = Enumerable.Range(0, _data.Count).ToArray();
            _rng = new Random(options.Seed);
            // a resumed run replays the shuffles of the epochs already done, so epoch k sees the order it would have seen
            if (options.Shuffle)
                for (int done = 0; done < options.InitialEpoch; done++) _rng.Shuffle(_order);
            // the built-in callbacks in the order their effects need, wherever they were given: a reduced rate before the
            // checkpoint that saves it, the checkpoint before early stopping may restore older weights; the user's in list order
            var all = new List<Callback>();
            if (options.ReduceLrOnPlateau is { } reduce) all.Add(reduce);
            if (options.Checkpoint is { } checkpoint) all.Add(checkpoint);
            all.AddRange(options.Callbacks);
            if (options.EarlyStopping is { } stopping) all.Add(stopping);
            all = [.. all.Distinct()];
            static int Role(Callback c) => c switch { ReduceLrOnPlateau => 0, ModelCheckpoint => 1, EarlyStopping => 3, _ => 2 };
            _callbacks = [.. all.Where(c => Role(c) < 2).OrderBy(Role)];
            if (options.OnEpochEnd is not null || options.OnLearningRateReduced is not null)
                _callbacks.Add(new OptionHooks(options, all.OfType<ReduceLrOnPlateau>().FirstOrDefault()));
            _callbacks.AddRange(all.Where(c => Role(c) >= 2).OrderBy(Role)); // a stable sort: the user's keep their order
            _batchEnd = options.OnBatchEnd is not null || _callbacks.Any(c => c.WantsBatchEnd);
            // a callback's OnBatchEnd alone reads the device at most every 100 ms; FitOptions.OnBatchEnd sets its own pace
            _batchEndInterval = options.OnBatchEnd is not null ? options.BatchEndInterval : TimeSpan.FromMilliseconds(100);
        }

        public History Run()
        {
            _iteration = _model.Iterations;
            _model.StopTraining = false;
            _model.CaptureFrozenWeights();
            try
            {
                foreach (var callback in _callbacks) callback.Attach(_model);
                foreach (var callback in _callbacks) callback.OnTrainBegin();
                for (int epoch = _options.InitialEpoch + 1; epoch <= _options.Epochs && !_model.StopTraining; epoch++)
                {
                    foreach (var callback in _callbacks) callback.OnEpochBegin(epoch);
                    var result = RunEpoch(epoch);
                    _history.Add(result);
                    foreach (var callback in _callbacks) callback.OnEpochEnd(result);
                }
                // early stopping first: every other OnTrainEnd sees the weights Fit returns with
                foreach (var callback in _callbacks.OfType<EarlyStopping>()) callback.OnTrainEnd(_history);
                foreach (var callback in _callbacks.Where(c => c is not EarlyStopping)) callback.OnTrainEnd(_history);
                return _history;
            }
            finally
            {
                foreach (var callback in _callbacks) callback.AfterFit();
            }
        }

        /// <summary>One pass over the (shuffled) data, then the validation pass; the only host reads are the epoch's loss and
        /// correct count (and the running figures when a callback asks for them).</summary>
        private EpochResult RunEpoch(int epoch)
        {
            var clock = Stopwatch.StartNew();
            if (_options.Shuffle)
            {
                _rng.Shuffle(_order);
                _backend.Upload<int>(_order, _train.Index); // once per epoch, not per step
            }
            _loss.ResetMetrics();
            _loss.MultiLabel = _train.IsMultiLabel; // validation may have switched it
            int steps = 0, batches = (_data.Count + _batch - 1) / _batch;
            long lastBatchEnd = Stopwatch.GetTimestamp();
            _model._epochRunning = true;
            try
            {
                for (int offset = 0; offset < _data.Count; offset += _batch)
                {
                    _options.CancellationToken.ThrowIfCancellationRequested();
                    int rows = Math.Min(_batch, _data.Count - offset);
                    _model.TrainStep(_train, _order.AsSpan(offset, rows), _iteration++, epoch - 1, _options.Augmentation, _staging, (ulong)_options.Seed);
                    _model.Iterations = _iteration;
                    steps++;
                    if (_batchEnd && (steps == batches || _batchEndInterval == TimeSpan.Zero || Stopwatch.GetElapsedTime(lastBatchEnd) >= _batchEndInterval))
                    {
                        lastBatchEnd = Stopwatch.GetTimestamp();
                        var (loss, accuracy) = ReadFigures(offset + rows); // a host synchronization, only when asked for
                        var progress = new BatchProgress(epoch, _options.Epochs, steps, batches, loss, accuracy);
                        _options.OnBatchEnd?.Invoke(progress);
                        foreach (var callback in _callbacks) if (callback.WantsBatchEnd) callback.OnBatchEnd(progress);
                    }
                }
            }
            finally
            {
                _model._epochRunning = false;
            }
            // The epoch's only host synchronization: read the accumulated loss and correct count.
            var (trainLoss, trainAccuracy) = ReadFigures(_data.Count);
            if (!_data.ReportsAccuracy) trainAccuracy = double.NaN;
            _divergence.AfterEpoch(epoch, trainLoss);
            EvaluationResult? validation = _validationOnDevice is null ? null : _model.EvaluateOnDevice(_validationOnDevice, _batch, !_validation!.ReportsAccuracy);
            clock.Stop();
            return new EpochResult(epoch, _options.Epochs, trainLoss, trainAccuracy, validation?.Loss, validation?.Accuracy,
                clock.Elapsed, steps, _data.Count) { LearningRate = _model.Optimizer!.LearningRate(_iteration - 1, epoch - 1) };
        }

        /// <summary>The epoch's running loss and accuracy over its first <paramref name="seen"/> samples, read from the device.</summary>
        private (double Loss, double Accuracy) ReadFigures(int seen)
        {
            Span<float> lossHost = stackalloc float[1];
            Span<int> correctHost = stackalloc int[1];
            _backend.Download(_loss.LossSum, lossHost);
            _backend.Download(_loss.Correct, correctHost);
            double accuracy = _loss.CountsAccuracy && !_data.IsRegression ? (double)correctHost[0] / _loss.AccuracyDivisor(seen) : double.NaN;
            return (lossHost[0] / _loss.LossDivisor(seen), accuracy);
        }

        public void Dispose()
        {
            _divergence?.Dispose();
            _staging?.Dispose();
            _validationOnDevice?.Dispose();
            _train?.Dispose();
        }
    }

    /// <summary>FitOptions' delegates as a callback: OnEpochEnd, then OnLearningRateReduced when the rate was reduced after that epoch.</summary>
    private sealed class OptionHooks(FitOptions options, ReduceLrOnPlateau? reduce) : Callback
    {
        public override void OnEpochEnd(EpochResult epoch)
        {
            options.OnEpochEnd?.Invoke(epoch);
            if (reduce is { Reductions: [.., var last] } && last.Epoch == epoch.Epoch)
                options.OnLearningRateReduced?.Invoke(epoch.Epoch, last.LearningRate);
        }
    }
}

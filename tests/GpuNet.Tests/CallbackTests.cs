using GpuNet.Backends;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Keras-style callbacks in Fit: the hooks, their order, stopping from a callback, and the built-in ones in the list.</summary>
public class CallbackTests
{
    private sealed class Recorder : Callback
    {
        public List<string> Events { get; } = [];
        public int Batches { get; private set; }
        public Sequential? Seen { get; private set; }
        public override void OnTrainBegin() { Events.Add("train begin"); Seen = Model; }
        public override void OnEpochBegin(int epoch) => Events.Add($"epoch {epoch} begin");
        public override void OnBatchEnd(BatchProgress progress) => Batches++;
        public override void OnEpochEnd(EpochResult epoch) => Events.Add($"epoch {epoch.Epoch} end");
        public override void OnTrainEnd(History history) => Events.Add($"train end after {history.Epochs.Count}");
    }

    private sealed class StopAfter(int epochs) : Callback
    {
        public override void OnEpochEnd(EpochResult epoch)
        {
            if (epoch.Epoch >= epochs) Model.StopTraining = true; // Keras' self.model.stop_training = True
        }
    }

    private static Sequential Model(IBackend backend)
    {
        var model = new Sequential(new Dense(8, "relu"), new Dense(3, "softmax"));
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), backend, seed: 2);
        return model;
    }

    [Fact]
    public void EveryHookRunsInOrderWithTheModel()
    {
        using var backend = new CpuBackend();
        using var model = Model(backend);
        var recorder = new Recorder();
        model.Fit(TestData.Blobs(90, 1), new FitOptions { Epochs = 2, BatchSize = 30, Callbacks = [recorder] });
        Assert.Equal(["train begin", "epoch 1 begin", "epoch 1 end", "epoch 2 begin", "epoch 2 end", "train end after 2"], recorder.Events);
        Assert.Same(model, recorder.Seen);
        Assert.InRange(recorder.Batches, 2, 6); // at most every 100 ms, and always after each epoch's last batch
    }

    [Fact]
    public void ACallbackStopsTrainingAfterTheCurrentEpoch()
    {
        using var backend = new CpuBackend();
        using var model = Model(backend);
        var history = model.Fit(TestData.Blobs(90, 1), new FitOptions { Epochs = 10, BatchSize = 30, Callbacks = [new StopAfter(3)] });
        Assert.Equal(3, history.Epochs.Count);
        Assert.Equal(9, model.Iterations);
        // the flag is cleared when the next Fit starts
        history = model.Fit(TestData.Blobs(90, 1), new FitOptions { Epochs = 2, BatchSize = 30 });
        Assert.Equal(2, history.Epochs.Count);
    }

    [Fact]
    public void EarlyStoppingInTheListWorksAsTheOption()
    {
        IReadOnlyList<EpochResult> Run(bool inList)
        {
            using var backend = new CpuBackend();
            using var model = Model(backend);
            var stopping = new EarlyStopping(patience: 1, restoreBestWeights: true);
            var options = new FitOptions { Epochs = 30, BatchSize = 30, ValidationSplit = 0.3, Seed = 4 };
            options = inList ? options with { Callbacks = [stopping] } : options with { EarlyStopping = stopping };
            var history = model.Fit(TestData.Blobs(90, 3), options);
            Assert.Equal(history.Epochs.Count, stopping.StoppedEpoch == 0 ? 30 : stopping.StoppedEpoch);
            return history.Epochs;
        }
        Assert.Equal(Run(inList: false).Select(e => e.Loss), Run(inList: true).Select(e => e.Loss));
    }

    [Fact]
    public void ALambdaCallbackGetsTheEpochs()
    {
        using var backend = new CpuBackend();
        using var model = Model(backend);
        var losses = new List<double>();
        int begun = 0;
        var history = model.Fit(TestData.Blobs(90, 1), new FitOptions
        {
            Epochs = 3, BatchSize = 30,
            Callbacks = [new LambdaCallback { TrainBegin = () => begun++, EpochEnd = e => losses.Add(e.Loss) }],
        });
        Assert.Equal(1, begun);
        Assert.Equal(history.Epochs.Select(e => e.Loss), losses);
    }

    private sealed class EvaluatesMidEpoch(GpuNet.Data.Dataset data) : Callback
    {
        public override void OnBatchEnd(BatchProgress progress) => Model.Evaluate(data);
    }

    [Fact]
    public void EvaluateInsideARunningEpochIsRefusedWithWhatToDoInstead()
    {
        using var backend = new CpuBackend();
        using var model = Model(backend);
        var data = TestData.Blobs(90, 1);
        var ex = Assert.Throws<InvalidOperationException>(() =>
            model.Fit(data, new FitOptions { Epochs = 1, BatchSize = 30, Callbacks = [new EvaluatesMidEpoch(data)] }));
        Assert.Contains("Evaluate in OnEpochEnd instead", ex.Message);
        Assert.Equal(3, model.Evaluate(data).Samples / 30); // after Fit, Evaluate works again
    }

    [Fact]
    public void OnTrainEndSeesTheWeightsEarlyStoppingRestored()
    {
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(8, "relu", name: "hidden"), new Dense(3, "softmax", name: "out"));
        model.Compile(new Adam(0.05f), new SparseCategoricalCrossentropy(), backend, seed: 2);
        float[]? atTrainEnd = null;
        // no later epoch improves by 100: epoch 1 stays the best, training stops after epoch 2 and restores epoch 1
        var stopping = new EarlyStopping(patience: 1, minDelta: 100, restoreBestWeights: true);
        // the user's callback is listed first, early stopping after it: the restore still comes before every OnTrainEnd
        model.Fit(TestData.Blobs(90, 3), new FitOptions
        {
            Epochs = 40, BatchSize = 30, ValidationSplit = 0.3, Seed = 4,
            Callbacks = [new LambdaCallback { TrainEnd = _ => atTrainEnd = model.GetWeights("hidden")[0].Data }, stopping],
        });
        Assert.Equal(1, stopping.RestoredEpoch);
        Assert.Equal(model.GetWeights("hidden")[0].Data, atTrainEnd);
    }

    [Fact]
    public void AReduceLrOnPlateauInTheListStillReportsItsReductions()
    {
        using var backend = new CpuBackend();
        using var model = Model(backend);
        var reductions = new List<(int, float)>();
        var reduce = new ReduceLrOnPlateau(factor: 0.5, patience: 1, minDelta: 10); // nothing improves by 10: reduce every epoch
        model.Fit(TestData.Blobs(90, 1), new FitOptions
        {
            Epochs = 3, BatchSize = 30, Callbacks = [reduce], OnLearningRateReduced = (e, r) => reductions.Add((e, r)),
        });
        Assert.Equal(reduce.Reductions, reductions);
        Assert.NotEmpty(reductions);
    }

    private sealed class MyAdam(float learningRate) : Adam(learningRate);

    [Fact]
    public void AnUnregisteredSubclassOfABuiltInOptimizerSavesAsThatBuiltIn()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("gpunet-subclass-").FullName, "m.safetensors");
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(3, "softmax"));
        model.Compile(new MyAdam(0.01f), new SparseCategoricalCrossentropy(), backend);
        model.Fit(TestData.Blobs(90, 1), new FitOptions { Epochs = 1, BatchSize = 30 });
        model.Save(path);
        using var loaded = Sequential.Load(path, backend);
        Assert.IsType<Adam>(loaded.Optimizer);
    }
}

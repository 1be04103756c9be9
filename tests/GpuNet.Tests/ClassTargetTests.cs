using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// Classes given as target rows (<see cref="Dataset.WithTargets"/>): one-hot and soft rows with categorical
/// cross-entropy, multi-label rows with sigmoid outputs and binary cross-entropy.
/// </summary>
public class ClassTargetTests
{
    private static Sequential Train(Dataset data, Activation output, Loss loss, int epochs = 20)
    {
        var model = new Sequential(new Dense(16, "relu"), new Dense(data.ClassCount, output));
        model.Compile(new Sgd(0.1f), loss, new CpuBackend(), seed: 3);
        model.Fit(data, new FitOptions { Epochs = epochs, BatchSize = 32, Seed = 5 });
        return model;
    }

    private static float[] OneHot(int[] labels, int classes, float on = 1f)
    {
        float off = (1 - on) / (classes - 1);
        var t = new float[labels.Length * classes];
        for (int r = 0; r < labels.Length; r++)
            for (int c = 0; c < classes; c++) t[r * classes + c] = c == labels[r] ? on : off;
        return t;
    }

    [Fact]
    public void OneHotRowsTrainExactlyAsClassIndices()
    {
        // categorical cross-entropy one-hots integer labels itself: given the same rows, training is the same bit for bit
        var blobs = TestData.Blobs(300, 1);
        var rows = Dataset.WithTargets("blobs-onehot", blobs.Features, OneHot(blobs.Labels, 3), 6, 3);
        Assert.Equal(blobs.Labels, rows.Labels); // argmax of each row
        Assert.True(rows.ReportsAccuracy);
        using var fromIndices = Train(blobs, "softmax", new CategoricalCrossentropy());
        using var fromRows = Train(rows, "softmax", new CategoricalCrossentropy());
        Assert.Equal(fromIndices.Predict(blobs.Features), fromRows.Predict(blobs.Features));
        var result = fromRows.Evaluate(rows);
        Assert.Equal(fromIndices.Evaluate(blobs), result);
        Assert.InRange(result.Accuracy, 0.8, 1.0); // three separated blobs: 90%+ measured
    }

    [Fact]
    public void SoftTargetsGiveTheSmoothedLoss()
    {
        // label smoothing 0.1 over 3 classes: rows (0.9, 0.05, 0.05). Cross-entropy -sum t ln p is smallest at p = t,
        // where it is the targets' entropy -(0.9 ln 0.9 + 2 * 0.05 ln 0.05) = 0.3944, and a model can only approach it
        var blobs = TestData.Blobs(300, 2);
        var soft = Dataset.WithTargets("blobs-soft", blobs.Features, OneHot(blobs.Labels, 3, on: 0.9f), 6, 3);
        Assert.False(soft.IsMultiLabel);
        using var backend = new CpuBackend();
        var loss = new CategoricalCrossentropy();
        float atTarget = loss.Compute(backend, soft.Targets![..9], soft.Targets[..9], 3, 3);
        double entropy = -(0.9 * Math.Log(0.9) + 2 * 0.05 * Math.Log(0.05)); // 0.3944: the least it can be
        Assert.Equal(entropy, atTarget, 1e-4);
        using var model = Train(soft, "softmax", loss);
        var result = model.Evaluate(soft);
        Assert.InRange(result.Accuracy, 0.8, 1.0);
        Assert.True(result.Loss > entropy, $"loss {result.Loss} below the targets' own entropy {entropy}");
    }

    [Fact]
    public void MultiLabelRowsTrainSigmoidOutputsWithBinaryCrossentropy()
    {
        // label k of a sample is on when its feature k is positive: three independent yes/no answers per row
        var rng = new Random(4);
        int n = 400;
        var x = new float[n * 3];
        var t = new float[n * 3];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(rng.NextDouble() * 2 - 1);
            t[i] = x[i] > 0 ? 1f : 0f;
        }
        var data = Dataset.WithTargets("multi-label", x, t, 3, 3);
        Assert.True(data.IsMultiLabel);
        Assert.True(data.ReportsAccuracy);
        using var model = Train(data, "sigmoid", new BinaryCrossentropy(), epochs: 60);
        var result = model.Evaluate(data);
        var p = model.Predict(x);
        int right = Enumerable.Range(0, t.Length).Count(i => (p[i] > 0.5f) == (t[i] == 1f));
        Assert.InRange(right / (double)t.Length, 0.9, 1.0); // each label on its own (Keras' binary accuracy): 97%+ measured
        // Evaluate counts the same on the device: every (sample, label) pair, not the argmax of a row
        Assert.Equal(right / (double)t.Length, result.Accuracy, 12);
    }

    [Fact]
    public void TargetRowsAreChecked()
    {
        var e = Assert.Throws<ArgumentException>(() => Dataset.WithTargets("bad", [0, 0], [0.5f, 1.5f], 1, 2));
        Assert.Contains("target 1.5 of sample 0, class 1 is outside [0, 1]", e.Message);
        var blobs = TestData.Blobs(30, 1);
        var rows = Dataset.WithTargets("rows", blobs.Features, OneHot(blobs.Labels, 3), 6, 3);
        using var model = new Sequential(new Dense(3, "softmax"));
        model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), new CpuBackend());
        e = Assert.Throws<ArgumentException>(() => model.Fit(rows, new FitOptions()));
        Assert.Contains("train it with categorical_crossentropy", e.Message);
        using var narrow = new Sequential(new Dense(2, "softmax"));
        narrow.Compile(new Sgd(0.1f), new CategoricalCrossentropy(), new CpuBackend());
        e = Assert.Throws<ArgumentException>(() => narrow.Fit(rows, new FitOptions()));
        Assert.Contains("target rows of 3 classes but the last layer", e.Message);
    }
}

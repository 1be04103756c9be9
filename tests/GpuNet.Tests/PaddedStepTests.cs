using GpuNet.Backends;
using GpuNet.Graph;
using GpuNet.Kernels;
using GpuNet.Kernels.Tests;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// A padded training step (a batch of A rows run at the graph's capacity C, the last C - A rows weighted out by the step's
/// row weights) computes what the same step at A rows computes: the loss sum, the correct count, every parameter gradient,
/// the input gradient of the real rows, and batch normalization's moving statistics. Each graph is built twice from the same
/// nodes and weights; in the second an <see cref="OpaqueNode"/> (a node that does not declare it handles padding) makes the
/// graph run the smaller batch at its own row count, as every step did before. On the CPU backend, on the ILGPU kernels
/// (ILGPU's CPU accelerator) and on <see cref="ThinBackend"/>, where every weighted operation is its composed default.
/// </summary>
public class PaddedStepTests
{
    private const int Capacity = 16, Cols = 6;
    private const float Atol = 1e-5f, Rtol = 1e-4f;

    /// <summary>An identity node that does not declare it handles padding rows: its graph runs a small batch at its own rows.</summary>
    private sealed class OpaqueNode : Node
    {
        public OpaqueNode(ComputationGraph graph, Tensor input)
        {
            Input = input;
            Output = graph.CreateTensorLike("opaque", input);
        }

        public Tensor Input { get; }

        public override void Forward(StepContext ctx) => ctx.Backend.Copy(Input.Value, Output.Value);

        public override void Backward(StepContext ctx)
        {
            if (ctx.HasGradient(Output) && Input.Grad is not null) ctx.Backend.Copy(Output.Grad!, Input.Grad);
        }
    }

    private sealed record Run(float Loss, int Correct, float[] Gradients, float[] InputGradient, float[][] States, float[] Prediction, bool Padded);

    /// <summary>Builds <paramref name="build"/> on x (Capacity x Cols), runs one training step of <paramref name="rows"/> rows.</summary>
    public static TheoryData<string> Backends => ["cpu", "ilgpu", "thin"];

    private static IBackend Create(string backend) => backend switch
    {
        "cpu" => new CpuBackend(),
        "ilgpu" => IlgpuBackend.CreateCpu(),
        _ => new ThinBackend(),
    };

    private static Run Step(string backendName, Func<ComputationGraph, Tensor, (LossNode Loss, RegularizationNode? Regularization)> build, int rows,
        bool opaque, bool multiLabel = false)
    {
        using var backend = Create(backendName);
        using var g = new ComputationGraph(backend, Capacity);
        var x = g.CreateTensor("x", Cols, requiresGrad: true);
        var input = opaque ? g.Add(new OpaqueNode(g, x)).Output : x;
        var (loss, regularization) = build(g, input);
        g.Add(loss);
        regularization?.AttachLoss(loss.LossSum);
        g.Seal();
        loss.MultiLabel = multiLabel;
        var rng = new Random(5);
        float[] Rand(int n, float lo, float hi) => [.. Enumerable.Range(0, n).Select(_ => lo + (float)rng.NextDouble() * (hi - lo))];
        backend.Upload<float>(Rand(g.ParameterCount, -0.8f, 0.8f), g.ParameterBuffer);
        // the real rows, then finite junk in the padding rows (different junk would change nothing)
        backend.Upload<float>(Rand(Capacity * Cols, -1.5f, 1.5f), x.Value);
        int outCols = loss.Input.Cols;
        var labels = Enumerable.Range(0, Capacity).Select(r => (r * 7 + 3) % Math.Max(outCols, 2)).ToArray();
        backend.Upload<int>(labels, loss.Labels);
        if (loss.Targets is not null)
        {
            float[] t = loss is MeanSquaredErrorLoss or GraphLossNode ? Rand(Capacity * outCols, -1f, 1f)
                : outCols == 1 || multiLabel ? [.. Enumerable.Range(0, Capacity * outCols).Select(i => (float)((i * 5 + 1) % 3 == 0 ? 1 : 0))]
                : GpuNet.Data.Tabular.Encoding.ToCategorical(labels, outCols);
            backend.Upload<float>(t, loss.Targets);
        }
        loss.ResetMetrics();
        g.Forward(rows, training: true);
        g.Backward();
        var lossSum = new float[1];
        backend.Download(loss.LossSum, lossSum);
        var correct = new int[1];
        backend.Download(loss.Correct, correct);
        var grads = new float[g.ParameterCount];
        backend.Download(g.GradientBuffer, grads);
        var dx = new float[rows * Cols];
        backend.Download(x.Grad!.Slice(0, rows * Cols), dx);
        var states = g.States.Select(s => { var v = new float[s.Buffer.Length]; backend.Download(s.Buffer, v); return v; }).ToArray();
        var prediction = new float[rows * outCols];
        backend.Download(loss.Prediction.Value.Slice(0, prediction.Length), prediction);
        return new Run(lossSum[0], correct[0], grads, dx, states, prediction, g.PadsPartialBatches);
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= Atol + Rtol * MathF.Abs(expected[i]),
                $"{what}[{i}]: padded {actual[i]} vs at its own rows {expected[i]}");
    }

    private static void AssertSameStep(string backend, Func<ComputationGraph, Tensor, (LossNode, RegularizationNode?)> build, string what,
        bool multiLabel = false)
    {
        foreach (int rows in new[] { 1, 5, 13, Capacity })
        {
            var padded = Step(backend, build, rows, opaque: false, multiLabel);
            var own = Step(backend, build, rows, opaque: true, multiLabel);
            Assert.True(padded.Padded, $"{what}: the graph of built-in nodes pads");
            Assert.False(own.Padded, $"{what}: a node that does not handle padding turns it off");
            string at = $"{what}, {rows} rows, {backend}";
            AssertClose([own.Loss], [padded.Loss], $"{at}: loss sum");
            Assert.Equal(own.Correct, padded.Correct);
            AssertClose(own.Gradients, padded.Gradients, $"{at}: parameter gradient");
            AssertClose(own.InputGradient, padded.InputGradient, $"{at}: input gradient");
            for (int s = 0; s < own.States.Length; s++) AssertClose(own.States[s], padded.States[s], $"{at}: state {s}");
            AssertClose(own.Prediction, padded.Prediction, $"{at}: prediction");
        }
    }

    private static Tensor Dense(ComputationGraph g, Tensor x, int units, string name) => g.Add(new AffineNode(g, name, x, units)).Output;

    private static Tensor Hidden(ComputationGraph g, Tensor x, bool batchNorm = true, bool dropout = true)
    {
        var h = Dense(g, x, 8, "d1");
        if (batchNorm) h = g.Add(new BatchNormNode(g, "bn", h, 0.9f, 1e-3f)).Output;
        h = g.Add(new ActivationNode(g, "relu", h, ActivationKind.Relu)).Output;
        if (dropout) h = g.Add(new DropoutNode(g, "drop", h, 0.3f, seed: 9, purpose: 1)).Output;
        return h;
    }

    [Theory, MemberData(nameof(Backends))]
    public void SparseSoftmaxCrossEntropyWithBatchNormDropoutAndRegularization(string backend)
    {
        AssertSameStep(backend, (g, x) =>
        {
            var regularization = g.Add(new RegularizationNode(g));
            var h = Hidden(g, x);
            var logits = g.Add(new AffineNode(g, "d2", h, 4));
            regularization.Add(logits.Weights, 1e-3f, 1e-2f);
            return (new SoftmaxCrossEntropyLoss(g, logits.Output), regularization);
        }, "sparse softmax cross-entropy");
    }

    [Theory, MemberData(nameof(Backends))]
    public void BatchNormalizationOfTheLastAxis(string backend) =>
        AssertSameStep(backend, (g, x) =>
        {
            // samples of (2, 4): the padding rows' 2 rows each weighted out of the statistics
            var rows = g.Reshape(Dense(g, x, 8, "d1"), 2, 4);
            var bn = g.Add(new BatchNormNode(g, "bn", rows, 0.9f, 1e-3f)).Output;
            var h = g.Add(new ActivationNode(g, "relu", g.Flatten(bn), ActivationKind.Relu)).Output;
            return (new SoftmaxCrossEntropyLoss(g, Dense(g, h, 4, "d2")), null);
        }, "batch normalization of the last axis");

    [Theory, MemberData(nameof(Backends))]
    public void DenseSoftmaxCrossEntropy(string backend) =>
        AssertSameStep(backend, (g, x) => (new SoftmaxCrossEntropyDenseLoss(g, Dense(g, Hidden(g, x), 5, "d2")), null), "dense softmax cross-entropy");

    [Theory, MemberData(nameof(Backends))]
    public void SigmoidCrossEntropyOneOutputAndMultiLabel(string backend)
    {
        AssertSameStep(backend, (g, x) => (new SigmoidCrossEntropyLoss(g, Dense(g, Hidden(g, x), 1, "d2")), null), "binary sigmoid cross-entropy");
        AssertSameStep(backend, (g, x) => (new SigmoidCrossEntropyLoss(g, Dense(g, Hidden(g, x), 3, "d2")), null), "multi-label sigmoid cross-entropy",
            multiLabel: true);
    }

    [Theory, MemberData(nameof(Backends))]
    public void CrossEntropiesFromProbabilities(string backend)
    {
        AssertSameStep(backend, (g, x) =>
        {
            var p = g.Add(new SoftmaxNode(g, "softmax", Dense(g, Hidden(g, x), 4, "d2"))).Output;
            return (new ProbabilityCrossEntropyLoss(g, p, ProbabilityLossKind.Categorical), null);
        }, "categorical cross-entropy of probabilities");
        AssertSameStep(backend, (g, x) =>
        {
            var p = g.Add(new ActivationNode(g, "sigmoid", Dense(g, Hidden(g, x), 2, "d2"), ActivationKind.Sigmoid)).Output;
            return (new ProbabilityCrossEntropyLoss(g, p, ProbabilityLossKind.Binary), null);
        }, "binary cross-entropy of probabilities", multiLabel: true);
    }

    [Theory, MemberData(nameof(Backends))]
    public void MeanSquaredError(string backend) =>
        AssertSameStep(backend, (g, x) => (new MeanSquaredErrorLoss(g, Dense(g, Hidden(g, x), 3, "d2")) { CountsAccuracy = false }, null), "MSE");

    [Theory, MemberData(nameof(Backends))]
    public void LossesWrittenAsGraphOperations(string backend)
    {
        // per-element losses (batch x K), averaged by the loss node
        AssertSameStep(backend, (g, x) =>
        {
            var y = Dense(g, Hidden(g, x), 3, "d2");
            var t = g.CreateTensor("y_true", 3, requiresGrad: false);
            var d = g.Subtract(y, t);
            return (new GraphLossNode(g, y, t, g.Multiply(d, d)), null);
        }, "a per-element graph loss");
        // a 1 x 1 mean computed in the graph, through a mean over the rows and a sum over the columns
        AssertSameStep(backend, (g, x) =>
        {
            var y = Dense(g, Hidden(g, x), 3, "d2");
            var t = g.CreateTensor("y_true", 3, requiresGrad: false);
            var d = g.Subtract(y, t);
            var perColumn = g.Mean(g.Multiply(d, d), axis: 0);
            return (new GraphLossNode(g, y, t, g.Sum(perColumn)), null);
        }, "a graph loss reduced over the rows");
        // the same through a mean and a sum over every element
        AssertSameStep(backend, (g, x) =>
        {
            var y = Dense(g, Hidden(g, x, batchNorm: false), 3, "d2");
            var t = g.CreateTensor("y_true", 3, requiresGrad: false);
            var d = g.Subtract(y, t);
            var mean = g.Mean(g.Multiply(d, d));
            var sum = g.Sum(g.Multiply(d, d));
            return (new GraphLossNode(g, y, t, g.Add(mean, g.Multiply(sum, g.Constant(1e-3f)))), null);
        }, "a graph loss reduced over every element");
    }
}

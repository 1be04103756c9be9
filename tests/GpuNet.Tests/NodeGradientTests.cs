using GpuNet.Backends;
using GpuNet.Graph;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// Finite-difference checks of the backward rules of every loss and layer node, through small graphs on
/// the CPU backend: x (rows x 6) -> [node under test] -> ... -> loss. Both the parameter gradients and the
/// input gradient are compared. The loss is evaluated in training mode (batch statistics, the same dropout
/// mask) because that is the function whose gradient training uses.
/// </summary>
/// <remarks>Step and tolerances as in <see cref="GradientCheckTests"/>: h = 1e-2 in float32, atol 1e-3 + rtol 1e-3.</remarks>
public class NodeGradientTests
{
    private const float H = 1e-2f, Atol = 1e-3f, Rtol = 1e-3f;
    private const int Rows = 4, Cols = 6;

    private static void Check(Func<ComputationGraph, Tensor, LossNode> build, string what, int seed = 3)
    {
        using var backend = new CpuBackend();
        using var g = new ComputationGraph(backend, Rows);
        var x = g.CreateTensor("x", Cols, requiresGrad: true);
        var loss = build(g, x);
        g.Add(loss);
        g.Seal();
        var rng = new Random(seed);
        float[] Rand(int n, float lo, float hi) => Enumerable.Range(0, n).Select(_ => lo + (float)rng.NextDouble() * (hi - lo)).ToArray();
        if (g.ParameterCount > 0) backend.Upload<float>(Rand(g.ParameterCount, -1f, 1f), g.ParameterBuffer);
        backend.Upload<float>(Rand(Rows * Cols, -1.5f, 1.5f), x.Value);
        int outCols = loss.Input.Cols;
        var labels = Enumerable.Range(0, Rows).Select(r => r % Math.Max(outCols, 2)).ToArray();
        backend.Upload<int>(labels, loss.Labels);
        if (loss.Targets is not null)
        {
            float[] t = loss is MeanSquaredErrorLoss ? Rand(Rows * outCols, -1f, 1f)
                : outCols == 1 ? labels.Select(l => (float)l).ToArray()
                : GpuNet.Data.Tabular.Encoding.ToCategorical(labels, outCols);
            backend.Upload<float>(t, loss.Targets);
        }
        var dropouts = g.Nodes.OfType<DropoutNode>().ToArray();

        float LossValue()
        {
            foreach (var d in dropouts) d.Step = 0; // the same mask every evaluation
            loss.ResetMetrics();
            g.Forward(Rows, training: true);
            var sum = new float[1];
            backend.Download(loss.LossSum, sum);
            return (float)(sum[0] / loss.LossDivisor(Rows));
        }

        LossValue();
        g.Backward();
        var analyticParams = new float[g.ParameterCount];
        if (g.ParameterCount > 0) backend.Download(g.GradientBuffer, analyticParams);
        var analyticInput = new float[Rows * Cols];
        backend.Download(x.Grad!, analyticInput);

        void Probe(DeviceBuffer<float> buffer, float[] analytic, string name)
        {
            var values = new float[buffer.Length];
            backend.Download(buffer, values);
            for (int i = 0; i < values.Length; i++)
            {
                float keep = values[i];
                values[i] = keep + H; backend.Upload<float>(values, buffer); float up = LossValue();
                values[i] = keep - H; backend.Upload<float>(values, buffer); float down = LossValue();
                values[i] = keep; backend.Upload<float>(values, buffer);
                float numeric = (up - down) / (2 * H);
                float tol = Atol + Rtol * MathF.Abs(numeric);
                Assert.True(MathF.Abs(numeric - analytic[i]) <= tol,
                    $"{what}: d loss / d {name}[{i}]: analytic {analytic[i]} vs finite difference {numeric} (tol {tol:G3})");
            }
        }
        if (g.ParameterCount > 0) Probe(g.ParameterBuffer, analyticParams, "parameter");
        Probe(x.Value, analyticInput, "x");
    }

    private static Tensor Affine(ComputationGraph g, Tensor x, int units, string name = "d") =>
        g.Add(new AffineNode(g, name, x, units)).Output;

    [Fact]
    public void MeanSquaredError() => Check((g, x) => new MeanSquaredErrorLoss(g, Affine(g, x, 3)), "mse");

    [Fact]
    public void SigmoidBinaryCrossEntropyOneOutput() => Check((g, x) => new SigmoidCrossEntropyLoss(g, Affine(g, x, 1)), "sigmoid bce");

    [Fact]
    public void SigmoidBinaryCrossEntropyMultiLabel() => Check((g, x) => new SigmoidCrossEntropyLoss(g, Affine(g, x, 3)), "sigmoid bce x3");

    [Fact]
    public void SoftmaxCategoricalCrossEntropyDense() => Check((g, x) => new SoftmaxCrossEntropyDenseLoss(g, Affine(g, x, 4)), "softmax cce");

    [Fact]
    public void CrossEntropyFromSoftmaxNodeProbabilities() =>
        // softmax as a separate node (not fused): checks SoftmaxBackward and the probability loss together
        Check((g, x) => new ProbabilityCrossEntropyLoss(g, g.Add(new SoftmaxNode(g, "sm", Affine(g, x, 4))).Output, ProbabilityLossKind.Categorical), "softmax node + cce");

    [Fact]
    public void BinaryCrossEntropyFromSigmoidNodeProbabilities() =>
        Check((g, x) => new ProbabilityCrossEntropyLoss(g,
            g.Add(new ActivationNode(g, "s", Affine(g, x, 2), ActivationKind.Sigmoid)).Output, ProbabilityLossKind.Binary), "sigmoid node + bce");

    [Fact]
    public void MeanSquaredErrorThroughSoftmax() =>
        Check((g, x) => new MeanSquaredErrorLoss(g, g.Add(new SoftmaxNode(g, "sm", Affine(g, x, 3))).Output), "softmax + mse");

    [Fact]
    public void Dropout() =>
        Check((g, x) => new SoftmaxCrossEntropyLoss(g, Affine(g, g.Add(new DropoutNode(g, "drop", Affine(g, x, 5, "d0"), 0.4f, 7, 1)).Output, 3)), "dropout");

    [Fact]
    public void BatchNormalization() =>
        Check((g, x) =>
        {
            var bn = g.Add(new BatchNormNode(g, "bn", Affine(g, x, 5, "d0"), 0.9f, 1e-3f));
            return new SoftmaxCrossEntropyLoss(g, Affine(g, g.Add(new ActivationNode(g, "t", bn.Output, ActivationKind.Tanh)).Output, 3));
        }, "batchnorm");

    [Fact]
    public void BatchNormalizationOfTheLastAxis() =>
        Check((g, x) =>
        {
            // samples of (2, 4): each of the 4 features normalized over the batch and the 2 rows of a sample
            var rows = g.Reshape(Affine(g, x, 8, "d0"), 2, 4);
            var bn = g.Add(new BatchNormNode(g, "bn", rows, 0.9f, 1e-3f));
            var flat = g.Flatten(g.Add(new ActivationNode(g, "t", bn.Output, ActivationKind.Tanh)).Output);
            return new SoftmaxCrossEntropyLoss(g, Affine(g, flat, 3));
        }, "batchnorm of the last axis");

    [Fact]
    public void Maxout() =>
        Check((g, x) => new SoftmaxCrossEntropyLoss(g, Affine(g, g.Add(new MaxoutNode(g, "mo", Affine(g, x, 8, "d0"), 2)).Output, 3)), "maxout");

    [Fact]
    public void ColumnAffine() =>
        Check((g, x) =>
        {
            var norm = g.Add(new ColumnAffineNode(g, "norm", x));
            g.Backend.Upload<float>([0.5f, 2f, -1f, 1.5f, 0.25f, 3f], norm.ScaleBuffer);
            return new SoftmaxCrossEntropyLoss(g, Affine(g, norm.Output, 3));
        }, "normalization");

    [Fact]
    public void L1L2Regularization() =>
        Check((g, x) =>
        {
            var reg = g.Add(new RegularizationNode(g));
            var dense = g.Add(new AffineNode(g, "d", x, 3));
            reg.Add(dense.Weights, 0.05f, 0.1f);
            var loss = new SoftmaxCrossEntropyLoss(g, dense.Output);
            reg.AttachLoss(loss.LossSum);
            return loss;
        }, "l1l2", seed: 8); // a seed whose weights all lie farther than h from the |w| kink at 0

    [Fact]
    public void SliceColumns() =>
        // two overlapping blocks of x and a column (5) no block takes: its gradient is 0, not the last step's
        Check((g, x) =>
        {
            var first = g.Add(new SliceColumnsNode(g, "s1", x, 0, 3)).Output;
            var second = g.Add(new SliceColumnsNode(g, "s2", x, 2, 3)).Output;
            return new SoftmaxCrossEntropyLoss(g, Affine(g, g.Concatenate(first, second), 3));
        }, "slice columns");

    [Fact]
    public void AffineSharingItsParametersAddsBothGradients() =>
        // the Siamese pattern on the graph: one kernel and bias applied to two column blocks of x
        Check((g, x) =>
        {
            var first = g.Add(new AffineNode(g, "d", g.SliceColumns(x, 0, 3), 4));
            var second = g.Add(new AffineNode(g, "d[1]", g.SliceColumns(x, 3, 3), first.Weights, first.Bias));
            var joined = g.Concatenate(g.Add(new ActivationNode(g, "t", first.Output, ActivationKind.Tanh)).Output, second.Output);
            return new SoftmaxCrossEntropyLoss(g, Affine(g, joined, 3, "out"));
        }, "shared affine");

    [Fact]
    public void SliceColumnsAndASharedAffineRejectWhatDoesNotFit()
    {
        using var backend = new CpuBackend();
        using var g = new ComputationGraph(backend, 2);
        var x = g.CreateTensor("x", 7);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => g.SliceColumns(x, 5, 3));
        Assert.Contains("Cannot take 3 columns from column 5 of 'x', whose rows have 7 values", e.Message);
        var dense = g.Add(new AffineNode(g, "d", x, 3));
        var other = Assert.Throws<ArgumentException>(() => new AffineNode(g, "d[1]", g.SliceColumns(x, 0, 4), dense.Weights, dense.Bias));
        Assert.Contains("shares kernel 'd/kernel' [7 x 3], which maps 7 features", other.Message);
    }

    [Fact]
    public void MaxoutRejectsPiecesThatDoNotDivideTheWidth()
    {
        using var backend = new CpuBackend();
        using var g = new ComputationGraph(backend, 2);
        var x = g.CreateTensor("x", 7);
        var e = Assert.Throws<ArgumentException>(() => new MaxoutNode(g, "m", x, 2));
        Assert.Contains("pieces=2", e.Message);
    }
}

using GpuNet.Backends;
using GpuNet.Graph;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// Finite-difference checks of every backward rule of the graph (Affine, each activation, fused
/// softmax cross-entropy), through the real nodes on the CPU backend.
/// </summary>
/// <remarks>
/// Central differences dL/dp ~ (L(p + h) - L(p - h)) / 2h in float32: truncation error O(h^2), rounding
/// error ~ eps_float * |L| / h. With h = 1e-2 and |L| ~ 1 both are ~1e-4, so atol 1e-3 + rtol 1e-3 leaves
/// a margin of about 10x while catching a wrong rule (a missing factor or transposition changes the gradient by O(1))
/// and most near-misses (a wrong constant of a few percent).
/// </remarks>
public class GradientCheckTests
{
    private const float H = 1e-2f, Atol = 1e-3f, Rtol = 1e-3f;

    private sealed class Net : IDisposable
    {
        public required ComputationGraph Graph;
        public required Tensor Input;
        public required SoftmaxCrossEntropyLoss Loss;
        public int Rows;
        public void Dispose() { Loss.Dispose(); Graph.Dispose(); }

        /// <summary>Mean loss of a forward pass (no gradient).</summary>
        public float LossValue()
        {
            Loss.ResetMetrics();
            Graph.Forward(Rows, training: false);
            var sum = new float[1];
            Graph.Backend.Download(Loss.LossSum, sum);
            return sum[0] / Rows;
        }
    }

    /// <summary>x (rows x 5, with gradient) -> Affine(4) -> activation -> Affine(3) -> softmax CE.</summary>
    private static Net Build(IBackend backend, ActivationKind kind, float alpha, int rows = 3, int seed = 7)
    {
        var g = new ComputationGraph(backend, rows);
        var x = g.CreateTensor("x", 5, requiresGrad: true);
        var a1 = g.Add(new AffineNode(g, "d1", x, 4));
        var act = g.Add(new ActivationNode(g, "act", a1.Output, kind, alpha));
        var a2 = g.Add(new AffineNode(g, "d2", act.Output, 3));
        var loss = g.Add(new SoftmaxCrossEntropyLoss(g, a2.Output));
        g.Seal();
        var rng = new Random(seed);
        float[] Rand(int n, float scale) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
        backend.Upload<float>(Rand(g.ParameterCount, 1f), g.ParameterBuffer);
        backend.Upload<float>(Rand(rows * 5, 1.5f), x.Value);
        backend.Upload<int>(Enumerable.Range(0, rows).Select(r => r % 3).ToArray(), loss.Labels);
        return new Net { Graph = g, Input = x, Loss = loss, Rows = rows };
    }

    public static TheoryData<ActivationKind, float> Activations() => new()
    {
        { ActivationKind.Linear, 0f }, { ActivationKind.Sigmoid, 0f }, { ActivationKind.Tanh, 0f },
        { ActivationKind.Relu, 0f }, { ActivationKind.LeakyRelu, 0.1f }, { ActivationKind.Elu, 1f },
        { ActivationKind.Swish, 0f }, { ActivationKind.Softplus, 0f }, { ActivationKind.Gelu, 0f }, { ActivationKind.Selu, 0f },
    };

    [Theory]
    [MemberData(nameof(Activations))]
    public void ParameterGradientsMatchFiniteDifferences(ActivationKind kind, float alpha)
    {
        using var backend = new CpuBackend();
        using var net = Build(backend, kind, alpha);
        net.Loss.ResetMetrics();
        net.Graph.Forward(net.Rows, training: true);
        net.Graph.Backward();
        var analytic = new float[net.Graph.ParameterCount];
        backend.Download(net.Graph.GradientBuffer, analytic);
        var p = new float[net.Graph.ParameterCount];
        backend.Download(net.Graph.ParameterBuffer, p);

        for (int i = 0; i < p.Length; i++)
        {
            float keep = p[i];
            p[i] = keep + H; backend.Upload<float>(p, net.Graph.ParameterBuffer); float up = net.LossValue();
            p[i] = keep - H; backend.Upload<float>(p, net.Graph.ParameterBuffer); float down = net.LossValue();
            p[i] = keep; backend.Upload<float>(p, net.Graph.ParameterBuffer);
            float numeric = (up - down) / (2 * H);
            AssertClose(numeric, analytic[i], $"{kind}: d loss / d parameter[{i}] ({ParameterName(net.Graph, i)})");
        }
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void InputGradientsMatchFiniteDifferences(ActivationKind kind, float alpha)
    {
        using var backend = new CpuBackend();
        using var net = Build(backend, kind, alpha, rows: 2, seed: 11);
        net.Loss.ResetMetrics();
        net.Graph.Forward(net.Rows, training: true);
        net.Graph.Backward();
        int n = net.Rows * net.Input.Cols;
        var analytic = new float[n];
        backend.Download(net.Input.Grad!.Slice(0, n), analytic);
        var x = new float[n];
        backend.Download(net.Input.Value.Slice(0, n), x);
        for (int i = 0; i < n; i++)
        {
            float keep = x[i];
            x[i] = keep + H; backend.Upload<float>(x, net.Input.Value.Slice(0, n)); float up = net.LossValue();
            x[i] = keep - H; backend.Upload<float>(x, net.Input.Value.Slice(0, n)); float down = net.LossValue();
            x[i] = keep; backend.Upload<float>(x, net.Input.Value.Slice(0, n));
            AssertClose((up - down) / (2 * H), analytic[i], $"{kind}: d loss / d x[{i}]");
        }
    }

    [Fact]
    public void PartialBatchUsesTheMeanOverItsOwnRows()
    {
        // The graph is built for 3 rows; a 2-row step must give the gradient of the 2-row mean,
        // i.e. the same as a graph built for exactly 2 rows with the same data.
        using var backend = new CpuBackend();
        using var big = Build(backend, ActivationKind.Tanh, 0f, rows: 3, seed: 5);
        using var small = Build(backend, ActivationKind.Tanh, 0f, rows: 2, seed: 5);
        var xs = new float[10];
        backend.Download(small.Input.Value, xs);
        backend.Upload<float>(xs, big.Input.Value.Slice(0, 10));
        backend.Copy(small.Graph.ParameterBuffer, big.Graph.ParameterBuffer);
        big.Graph.Forward(2, training: true); big.Graph.Backward();
        small.Graph.Forward(2, training: true); small.Graph.Backward();
        var g1 = new float[big.Graph.ParameterCount]; var g2 = new float[small.Graph.ParameterCount];
        backend.Download(big.Graph.GradientBuffer, g1);
        backend.Download(small.Graph.GradientBuffer, g2);
        for (int i = 0; i < g1.Length; i++) AssertClose(g2[i], g1[i], $"gradient[{i}]");
    }

    [Fact]
    public void FiniteDifferenceWithTooSmallStepIsUnreliable()
    {
        // Documents the trap the step size above avoids: with h = 1e-5 in float32, L(p+h) - L(p-h)
        // cancels to a few ulps of L, so the estimate is mostly rounding noise.
        using var backend = new CpuBackend();
        using var net = Build(backend, ActivationKind.Tanh, 0f);
        net.Graph.Forward(net.Rows, training: true);
        net.Graph.Backward();
        var analytic = new float[net.Graph.ParameterCount];
        backend.Download(net.Graph.GradientBuffer, analytic);
        var p = new float[net.Graph.ParameterCount];
        backend.Download(net.Graph.ParameterBuffer, p);
        const float tiny = 1e-5f;
        int bad = 0;
        for (int i = 0; i < p.Length; i++)
        {
            float keep = p[i];
            p[i] = keep + tiny; backend.Upload<float>(p, net.Graph.ParameterBuffer); float up = net.LossValue();
            p[i] = keep - tiny; backend.Upload<float>(p, net.Graph.ParameterBuffer); float down = net.LossValue();
            p[i] = keep; backend.Upload<float>(p, net.Graph.ParameterBuffer);
            float numeric = (up - down) / (2 * tiny);
            if (MathF.Abs(numeric - analytic[i]) > Atol + Rtol * MathF.Abs(analytic[i])) bad++;
        }
        Assert.True(bad > 0, "expected float32 cancellation to spoil some estimates at h = 1e-5");
    }

    [Fact]
    public void StepActivationRefusesBackwardWithAnExplanation()
    {
        using var backend = new CpuBackend();
        using var net = Build(backend, ActivationKind.Step, 0f);
        net.Graph.Forward(net.Rows, training: true);
        var e = Assert.Throws<NotSupportedException>(() => net.Graph.Backward());
        Assert.Contains("derivative is 0", e.Message);
    }

    private static string ParameterName(ComputationGraph g, int index) =>
        g.Parameters.First(p => index >= p.Offset && index < p.Offset + p.Count).Name;

    private static void AssertClose(float expected, float actual, string what)
    {
        float tol = Atol + Rtol * MathF.Abs(expected);
        Assert.True(MathF.Abs(expected - actual) <= tol,
            $"{what}: analytic {actual} vs finite difference {expected} (|diff| {MathF.Abs(expected - actual):G3} > tol {tol:G3})");
    }
}

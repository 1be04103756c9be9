using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Graph;
using GpuNet.Kernels;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>The two backends every autograd test runs on: the CPU backend and ILGPU's CPU accelerator (compiled once per class).</summary>
public sealed class AutogradBackends : IDisposable
{
    private readonly Lazy<IlgpuBackend> _ilgpu = new(IlgpuBackend.CreateCpu);

    public CpuBackend Cpu { get; } = new();

    public IBackend Get(string name) => name switch
    {
        "cpu" => Cpu,
        "ilgpu-cpu" => _ilgpu.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "cpu or ilgpu-cpu"),
    };

    public void Dispose()
    {
        Cpu.Dispose();
        if (_ilgpu.IsValueCreated) _ilgpu.Value.Dispose();
    }
}

/// <summary>
/// The autograd of <see cref="ComputationGraph"/> (ComputationGraph.Autograd.cs): the lecture's two backprop
/// examples, a finite-difference check of every op on awkward shapes, and an MLP written with the ops that
/// gets the same gradients as Sequential's Dense layers.
/// </summary>
/// <remarks>
/// Finite differences: central, dL/dp ~ (L(p + h) - L(p - h)) / 2h with h = 1e-3 in float32. Truncation error is
/// O(h^2 f''') ~ 1e-6; rounding error is ~ a few ulps of |L| / 2h, and L is a weighted sum of about 15 terms of
/// size ~1 (|L| ~ 3, ulp 2.4e-7): ~1e-6 / 2e-3 = 5e-4 at worst. atol 1e-3 + rtol 1e-2 leaves that margin and still catches
/// a wrong rule (a missing factor, sign or transposition changes a gradient by O(1)).
/// </remarks>
public class AutogradTests(AutogradBackends backends) : IClassFixture<AutogradBackends>
{
    private const float H = 1e-3f, Atol = 1e-3f, Rtol = 1e-2f;

    public static TheoryData<string> Backends() => ["cpu", "ilgpu-cpu"];

    [Theory]
    [MemberData(nameof(Backends))]
    public void TheLecturesAddMultiplyExampleGivesItsGradients(string device)
    {
        // f(x, y, z) = (x + y) z at x = -2, y = 5, z = -4:  q = x + y = 3, f = q z = -12;
        // df/dz = q = 3, df/dq = z = -4, and dq/dx = dq/dy = 1, so df/dx = df/dy = -4.
        using var g = new ComputationGraph(backends.Get(device), 1);
        var x = g.Variable("x", -2f);
        var y = g.Variable("y", 5f);
        var z = g.Variable("z", -4f);
        var f = g.Multiply(g.Add(x, y), z);
        g.Seal();
        g.Forward();
        g.Backward(f);

        // small integers and their products are exact in float32
        Assert.Equal(-12f, g.Read(f)[0]);
        Assert.Equal(-4f, g.ReadGradient(x)[0]);
        Assert.Equal(-4f, g.ReadGradient(y)[0]);
        Assert.Equal(3f, g.ReadGradient(z)[0]);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void TheLecturesSigmoidNeuronGivesItsGradients(string device)
    {
        // f(w, x) = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) at w = (2, -3, -3), x = (-1, -2):
        // the dot product is -2 + 6 - 3 = 1, f = sigmoid(1) = 0.7310586, df/d(dot) = f (1 - f) = 0.1966119;
        // d(dot)/dw = (x0, x1, 1), d(dot)/dx = (w0, w1), so dw = (-0.1966, -0.3932, 0.1966), dx = (0.3932, -0.5898).
        using var g = new ComputationGraph(backends.Get(device), 1);
        var w0 = g.Variable("w0", 2f);
        var x0 = g.Variable("x0", -1f);
        var w1 = g.Variable("w1", -3f);
        var x1 = g.Variable("x1", -2f);
        var w2 = g.Variable("w2", -3f);
        var dot = g.Add(g.Add(g.Multiply(w0, x0), g.Multiply(w1, x1)), w2);
        var f = g.Divide(g.Constant(1f), g.Add(g.Constant(1f), g.Exp(g.Negate(dot))));
        g.Seal();
        g.Forward();
        g.Backward(f);

        double s = 1 / (1 + Math.Exp(-1.0)), ds = s * (1 - s);
        // float32 exp and division: a few ulps of 0.73 and 0.2
        const double tol = 1e-6;
        Assert.Equal(s, g.Read(f)[0], tol);
        Assert.Equal(-1 * ds, g.ReadGradient(w0)[0], tol);
        Assert.Equal(-2 * ds, g.ReadGradient(w1)[0], tol);
        Assert.Equal(1 * ds, g.ReadGradient(w2)[0], tol);
        Assert.Equal(2 * ds, g.ReadGradient(x0)[0], tol);
        Assert.Equal(-3 * ds, g.ReadGradient(x1)[0], tol);
        // the lecture's rounded numbers
        Assert.Equal(0.73, Math.Round(g.Read(f)[0], 2));
        Assert.Equal([-0.20, -0.39, 0.20], new[] { w0, w1, w2 }.Select(t => Math.Round(g.ReadGradient(t)[0], 2)));
        Assert.Equal([0.39, -0.59], new[] { x0, x1 }.Select(t => Math.Round(g.ReadGradient(t)[0], 2)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void TheSigmoidNeuronAsAVectorWithTheSigmoidOpGivesTheSameGradients(string device)
    {
        // the same neuron with w = [w0 w1] (2 x 1), x = [x0 x1] (1 x 2), a bias w2, and the fused sigmoid (backward s (1 - s))
        using var g = new ComputationGraph(backends.Get(device), 1);
        var w = g.Variable("w", 2, 1, [2f, -3f]);
        var x = g.Variable("x", 1, 2, [-1f, -2f]);
        var b = g.Variable("b", -3f);
        var f = g.Sigmoid(g.Add(g.MatMul(x, w), b));
        g.Seal();
        g.Forward();
        g.Backward(f);

        double s = 1 / (1 + Math.Exp(-1.0)), ds = s * (1 - s);
        Assert.Equal(s, g.Read(f)[0], 1e-6);
        AssertClose([-1 * ds, -2 * ds], g.ReadGradient(w), 1e-6, 0, "dw");
        AssertClose([1 * ds], g.ReadGradient(b), 1e-6, 0, "db");
        AssertClose([2 * ds, -3 * ds], g.ReadGradient(x), 1e-6, 0, "dx");
    }

    // ---- finite-difference checks of every op ---------------------------------------------

    /// <summary>An op under test: builds its output from the leaves the check creates.</summary>
    private sealed record OpCase(string Name, Func<ComputationGraph, Leaves, Tensor> Build, bool Positive = false, bool AwayFromZero = false);

    /// <summary>
    /// The leaves a case can use, created on first use (so only those are perturbed): fixed 3 x 5 matrices M and N,
    /// a 1 x 5 row vector R, a 1 x 1 scalar S, a fixed 1 x 7 row P, fixed 5 x 2 and 7 x 3 matrices K and K7 (for MatMul),
    /// and a batch input X of 5 columns, run with 3 rows in a graph built for 4 (a partial batch); all with gradients.
    /// </summary>
    private sealed class Leaves(ComputationGraph g, Func<int, float[]> values)
    {
        private Tensor? _m, _n, _r, _s, _p, _k, _k7, _x;
        public Tensor M => _m ??= g.Variable("M", 3, 5, values(15));
        public Tensor N => _n ??= g.Variable("N", 3, 5, values(15));
        public Tensor R => _r ??= g.Variable("R", 1, 5, values(5));
        public Tensor S => _s ??= g.Variable("S", 1, 1, values(1));
        public Tensor P => _p ??= g.Variable("P", 1, 7, values(7));
        public Tensor K => _k ??= g.Variable("K", 5, 2, values(10));
        public Tensor K7 => _k7 ??= g.Variable("K7", 7, 3, values(21));
        public Tensor X => _x ??= g.CreateTensor("X", 5, requiresGrad: true);
        public Tensor? UsedX => _x;
    }

    private const int Capacity = 4, BatchRows = 3;

    private static readonly OpCase[] Cases =
    [
        new("add", (g, l) => g.Add(l.M, l.N)),
        new("add row vector over a batch", (g, l) => g.Add(l.X, l.R)),
        new("add scalar", (g, l) => g.Add(l.S, l.P)),
        new("subtract", (g, l) => g.Subtract(l.M, l.N)),
        new("subtract from a scalar", (g, l) => g.Subtract(l.S, l.P)),
        new("subtract a row vector", (g, l) => g.Subtract(l.R, l.X)),
        new("multiply", (g, l) => g.Multiply(l.M, l.N)),
        new("multiply by itself", (g, l) => g.Multiply(l.P, l.P)),
        new("multiply row vector over a batch", (g, l) => g.Multiply(l.R, l.X)),
        new("multiply scalar", (g, l) => g.Multiply(l.M, l.S)),
        new("divide", (g, l) => g.Divide(l.M, l.N), Positive: true),
        new("divide a scalar by a row", (g, l) => g.Divide(l.S, l.P), Positive: true),
        new("divide a batch by a row vector", (g, l) => g.Divide(l.X, l.R), Positive: true),
        new("negate", (g, l) => g.Negate(l.X)),
        new("exp", (g, l) => g.Exp(l.P)),
        new("exp batch", (g, l) => g.Exp(l.X)),
        new("log", (g, l) => g.Log(l.M), Positive: true),
        new("log batch", (g, l) => g.Log(l.X), Positive: true),
        new("matmul batch", (g, l) => g.MatMul(l.X, l.K)),
        new("matmul row", (g, l) => g.MatMul(l.P, l.K7)),
        new("sum", (g, l) => g.Sum(l.M)),
        new("sum batch", (g, l) => g.Sum(l.X)),
        new("sum rows", (g, l) => g.Sum(l.X, axis: 0)),
        new("sum columns", (g, l) => g.Sum(l.X, axis: 1)),
        new("sum columns fixed", (g, l) => g.Sum(l.M, axis: 1)),
        new("mean", (g, l) => g.Mean(l.P)),
        new("mean batch", (g, l) => g.Mean(l.X)),
        new("mean rows", (g, l) => g.Mean(l.X, axis: 0)),
        new("mean columns", (g, l) => g.Mean(l.M, axis: 1)),
        new("sigmoid", (g, l) => g.Sigmoid(l.X)),
        new("tanh", (g, l) => g.Tanh(l.M)),
        // relu's kink at 0: inputs kept at least 0.1 from it, far more than h
        new("relu", (g, l) => g.Relu(l.X), AwayFromZero: true),
        new("softmax", (g, l) => g.Softmax(l.X)),
        new("softmax fixed", (g, l) => g.Softmax(l.P)),
        new("concatenate fixed", (g, l) => g.Concatenate(l.M, l.N)),
        new("concatenate batch", (g, l) => g.Concatenate(g.MatMul(l.X, l.K), l.X)),
        new("slice columns batch", (g, l) => g.SliceColumns(l.X, 1, 3)),
        // two blocks of one fixed tensor, its column 2 in neither
        new("slice columns fixed", (g, l) => g.Concatenate(g.SliceColumns(l.M, 3, 2), g.SliceColumns(l.M, 0, 2))),
        new("chain", (g, l) => g.Log(g.Add(g.Constant(1f), g.Exp(g.Multiply(g.MatMul(l.X, l.K), l.S))))),
    ];

    public static TheoryData<string, string> OpCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var device in new[] { "cpu", "ilgpu-cpu" })
            foreach (var c in Cases) data.Add(device, c.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(OpCases))]
    public void EveryOpMatchesFiniteDifferences(string device, string op)
    {
        var testCase = Cases.Single(c => c.Name == op);
        var rng = new Random(op.Sum(c => c)); // not op.GetHashCode(): string hashes vary between runs
        float[] Values(int n) => [.. Enumerable.Range(0, n).Select(_ =>
        {
            float v = (float)(rng.NextDouble() * 2 - 1);
            if (testCase.Positive) return 0.5f + Math.Abs(v); // [0.5, 1.5]: log and division stay smooth
            if (testCase.AwayFromZero) return v < 0 ? v - 0.1f : v + 0.1f;
            return 1.5f * v;
        })];

        using var g = new ComputationGraph(backends.Get(device), Capacity);
        var leaves = new Leaves(g, Values);
        var y = testCase.Build(g, leaves);
        float[] x = Values(BatchRows * 5);
        // L = sum(y * weights) with random weights: every output element reaches L with its own factor
        var weights = y.FollowsBatch ? g.CreateTensor("weights", y.Cols, requiresGrad: false) : g.Constant("weights", y.MaxRows, y.Cols, Values(y.MaxRows * y.Cols));
        var loss = g.Sum(g.Multiply(y, weights));
        g.Seal();
        if (leaves.UsedX is { } xs) g.Write(xs, x);
        if (y.FollowsBatch) g.Write(weights, Values(BatchRows * y.Cols));

        g.Forward(BatchRows, training: false);
        g.Backward(loss);
        var inputs = new List<(Tensor Tensor, float[] Values)>();
        foreach (var v in g.Variables) inputs.Add((v, g.Read(v)));
        if (leaves.UsedX is { } input) inputs.Add((input, x));
        foreach (var (tensor, values) in inputs)
        {
            var analytic = g.ReadGradient(tensor);
            // ILGPU's CPU accelerator simulates GPU threads (a launch costs ~1 ms): check up to 6 elements spread over the
            // tensor there, first and last included, and every element on the CPU backend
            int stride = device == "cpu" ? 1 : Math.Max(1, (values.Length - 1 + 4) / 5);
            var checkedAnalytic = new List<float>();
            var checkedNumeric = new List<double>();
            for (int i = 0; i < values.Length; i += i == values.Length - 1 ? 1 : Math.Min(stride, values.Length - 1 - i))
            {
                float keep = values[i], up = keep + H, down = keep - H;
                values[i] = up;
                float plus = LossAt(g, tensor, values, loss);
                values[i] = down;
                float minus = LossAt(g, tensor, values, loss);
                values[i] = keep;
                // divide by the step actually taken: keep +- h rounds to float32
                checkedNumeric.Add(((double)plus - minus) / ((double)up - down));
                checkedAnalytic.Add(analytic[i]);
            }
            g.Write(tensor, values);
            AssertClose([.. checkedNumeric], [.. checkedAnalytic], Atol, Rtol, $"{op}: d loss / d {tensor.Name} (elements checked)");
        }
    }

    private static float LossAt(ComputationGraph g, Tensor tensor, float[] values, Tensor loss)
    {
        g.Write(tensor, values);
        g.Forward(BatchRows, training: false);
        return g.Read(loss)[0];
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void VariablesTheOutputDoesNotUseGetAZeroGradient(string device)
    {
        using var g = new ComputationGraph(backends.Get(device), 1);
        var x = g.Variable("x", 3f);
        var unused = g.Variable("unused", 2f);
        var f = g.Multiply(x, x);
        g.Seal();
        g.Forward();
        g.Backward(f);
        g.Backward(f); // a second pass overwrites (no accumulation across passes)
        Assert.Equal(6f, g.ReadGradient(x)[0]); // d(x^2)/dx = 2x
        Assert.Equal(0f, g.ReadGradient(unused)[0]);
    }

    [Fact]
    public void ShapesThatDoNotBroadcastAreRefusedWithBothShapes()
    {
        using var g = new ComputationGraph(backends.Cpu, 4);
        var a = g.Variable("a", 2, 3, new float[6]);
        var b = g.Variable("b", 2, 2, new float[4]);
        var e = Assert.Throws<ArgumentException>(() => g.Add(a, b));
        Assert.Contains("'a' (2 x 3)", e.Message);
        Assert.Contains("'b' (2 x 2)", e.Message);
        var x = g.CreateTensor("x", 3);
        Assert.Throws<ArgumentException>(() => g.MatMul(a, x)); // B must have a fixed shape
        Assert.Throws<ArgumentException>(() => g.Backward(g.Constant(1f)));
    }

    // ---- an MLP written with the ops --------------------------------------------------------

    [Theory]
    [MemberData(nameof(Backends))]
    public void AnMlpWrittenWithTheOpsHasTheGradientsOfSequentialsDenseLayers(string device)
    {
        // 4 -> Dense(5, tanh) -> Dense(3) with mean squared error, 7 rows of 11 in the graph (a partial batch)
        const int rows = 7, inputs = 4, hidden = 5, outputs = 3;
        var backend = backends.Get(device);
        var rng = new Random(5);
        float[] Values(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1))];
        float[] x = Values(rows * inputs), t = Values(rows * outputs);

        using var model = new Sequential(new Dense(hidden, "tanh"), new Dense(outputs));
        model.Compile(new Sgd(0.1f), new MeanSquaredError(), backend);
        model.Evaluate(Dataset.ForRegression("mlp", x, t, inputs, outputs), batchSize: 11); // builds the graph
        var graph = model.Graph!;
        var input = graph.Nodes.OfType<AffineNode>().First().Input;
        var lossNode = graph.Nodes.OfType<LossNode>().Single();
        backend.Upload<float>(x, input.Value.Slice(0, x.Length));
        backend.Upload<float>(t, lossNode.Targets!.Slice(0, t.Length));
        lossNode.ResetMetrics();
        graph.Forward(rows, training: true);
        graph.Backward();
        var sum = new float[1];
        backend.Download(lossNode.LossSum, sum);
        var weights = graph.Parameters.Select(p => Download(backend, p.Value)).ToArray(); // kernel, bias, kernel, bias
        var expected = graph.Parameters.Select(p => Download(backend, p.Grad)).ToArray();

        using var g = new ComputationGraph(backend, 11);
        var xs = g.CreateTensor("x", inputs, requiresGrad: false);
        var ts = g.CreateTensor("t", outputs, requiresGrad: false);
        var w1 = g.Variable("w1", inputs, hidden, weights[0]);
        var b1 = g.Variable("b1", 1, hidden, weights[1]);
        var w2 = g.Variable("w2", hidden, outputs, weights[2]);
        var b2 = g.Variable("b2", 1, outputs, weights[3]);
        var h = g.Tanh(g.Add(g.MatMul(xs, w1), b1));
        var y = g.Add(g.MatMul(h, w2), b2);
        var d = g.Subtract(y, ts);
        var loss = g.Mean(g.Multiply(d, d));
        g.Seal();
        g.Write(xs, x);
        g.Write(ts, t);
        g.Forward(rows, training: true);
        g.Backward(loss);

        // the same float32 operations up to summation order: agreement to a few ulps of the gradients' size
        Assert.Equal(sum[0] / (rows * outputs), g.Read(loss)[0], 1e-5);
        Tensor[] variables = [w1, b1, w2, b2];
        for (int i = 0; i < variables.Length; i++)
            AssertClose([.. expected[i].Select(v => (double)v)], g.ReadGradient(variables[i]), 1e-5, 1e-4, graph.Parameters[i].Name);
    }

    [Fact]
    public void ATwoLayerNetTrainedWithTheOpsLowersItsLoss()
    {
        // XOR-like targets y = x0 x1 on 16 points, 2 -> 8 tanh -> 1, plain gradient descent on the ops' gradients
        var backend = backends.Cpu;
        var rng = new Random(11);
        float[] Values(int n, float scale) => [.. Enumerable.Range(0, n).Select(_ => scale * (float)(rng.NextDouble() * 2 - 1))];
        float[] x = Values(32, 1f);
        float[] t = [.. Enumerable.Range(0, 16).Select(r => x[2 * r] * x[2 * r + 1])];
        using var g = new ComputationGraph(backend, 16);
        var xs = g.CreateTensor("x", 2, requiresGrad: false);
        var ts = g.CreateTensor("t", 1, requiresGrad: false);
        var w1 = g.Variable("w1", 2, 8, Values(16, 1f));
        var b1 = g.Variable("b1", 1, 8, new float[8]);
        var w2 = g.Variable("w2", 8, 1, Values(8, 0.5f));
        var b2 = g.Variable("b2", 0f);
        var y = g.Add(g.MatMul(g.Tanh(g.Add(g.MatMul(xs, w1), b1)), w2), b2);
        var d = g.Subtract(y, ts);
        var loss = g.Mean(g.Multiply(d, d));
        g.Seal();
        g.Write(xs, x);
        g.Write(ts, t);

        float first = 0, last = 0;
        for (int step = 0; step < 200; step++)
        {
            g.Forward(16, training: true);
            g.Backward(loss);
            foreach (var v in g.Variables) backend.SgdUpdate(v.Value, v.Grad!, v.Value.Length, 0.3f);
            if (step == 0) first = g.Read(loss)[0];
        }
        g.Forward(16, training: false);
        last = g.Read(loss)[0];
        Assert.True(last < 0.5f * first, $"loss {first} -> {last}");
    }

    [Fact]
    public void AnAutogradStepAllocatesNothing()
    {
        var backend = backends.Cpu;
        using var g = new ComputationGraph(backend, 8);
        var xs = g.CreateTensor("x", 3, requiresGrad: false);
        var w = g.Variable("w", 3, 2, [0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f]);
        var b = g.Variable("b", 1, 2, [0.1f, 0.2f]);
        var loss = g.Mean(g.Log(g.Add(g.Constant(1f), g.Exp(g.Divide(g.Add(g.MatMul(xs, w), b), g.Constant(2f))))));
        g.Seal();
        g.Write(xs, new float[24]);
        Tensor[] variables = [w, b]; // not g.Variables: an interface's enumerator is boxed
        void Step()
        {
            g.Forward(8, training: true);
            g.Backward(loss);
            foreach (var v in variables) backend.SgdUpdate(v.Value, v.Grad!, v.Value.Length, 0.1f);
        }
        for (int i = 0; i < 50; i++) Step();
        var windows = new long[3];
        for (int k = 0; k < windows.Length; k++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) Step();
            windows[k] = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        // as AllocationTests: the runtime may allocate once in a while (tiered JIT); a step's allocation shows in every window
        Assert.True(windows.Min() == 0, $"bytes allocated in three windows of 20 steps: {string.Join(", ", windows)}");
    }

    private static float[] Download(IBackend backend, DeviceBuffer<float> buffer)
    {
        var data = new float[buffer.Length];
        backend.Download(buffer, data);
        return data;
    }

    /// <summary>|actual - expected| &lt;= atol + rtol |expected| element-wise; the message names the worst index.</summary>
    private static void AssertClose(double[] expected, float[] actual, double atol, double rtol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            Assert.True(err <= atol + rtol * Math.Abs(expected[i]),
                $"{what}[{i}]: got {actual[i]:G9}, expected {expected[i]:G9} (error {err:G3} > {atol} + {rtol} x |expected|)");
        }
    }
}

using GpuNet.Backends;
using Xunit;

namespace GpuNet.Kernels.Tests;

public abstract partial class BackendContractTests
{
    /// <summary>The alpha each activation is tested with: non-default, so a kernel ignoring it fails.</summary>
    private static float AlphaFor(ActivationKind kind) => kind switch
    {
        ActivationKind.LeakyRelu => 0.1f,
        ActivationKind.Elu => 1.3f,
        _ => 0.7f, // ignored by the others
    };

    public static TheoryData<ActivationKind> AllActivations => new(Enum.GetValues<ActivationKind>());

    public static TheoryData<ActivationKind, bool> DifferentiableActivations
    {
        get
        {
            var data = new TheoryData<ActivationKind, bool>();
            foreach (var kind in Enum.GetValues<ActivationKind>())
                if (kind != ActivationKind.Step)
                {
                    data.Add(kind, false);
                    data.Add(kind, true);
                }
            return data;
        }
    }

    /// <summary>31 points in [-4, 4], none within 0.1 of the kinks at 0.</summary>
    private static float[] ActivationInputs()
    {
        var x = Check.Uniform(31, seed: 21, low: -4f, high: 4f);
        for (int i = 0; i < x.Length; i++)
            if (MathF.Abs(x[i]) < 0.1f) x[i] = x[i] < 0 ? -0.1f - x[i] : 0.1f + x[i];
        x[0] = 0.25f; // and a few hand-picked ones
        x[1] = -0.25f;
        return x;
    }

    [Theory]
    [MemberData(nameof(AllActivations), MemberType = typeof(BackendContractTests))]
    public void ActivationMatchesReference(ActivationKind kind)
    {
        var x = ActivationInputs();
        float alpha = AlphaFor(kind);
        var expected = Array.ConvertAll(x, v => Reference.Activation(kind, alpha, v));
        var dy = Put(new float[x.Length], 2);
        Backend.Activation(kind, alpha, Put(x, 1), dy, x.Length);
        // a few float operations and one exp/tanh (~2 ulp); GELU's erf approximation adds 1.5e-7 * |x|
        Check.Close(expected, Get(dy), 1e-6, 2e-6, $"{kind} forward");
    }

    [Fact]
    public void ActivationMayRunInPlace()
    {
        var x = ActivationInputs();
        var buffer = Put(x);
        Backend.Activation(ActivationKind.Tanh, 0f, buffer, buffer, x.Length);
        Check.Close(Array.ConvertAll(x, v => Math.Tanh(v)), Get(buffer), 1e-6, 2e-6, "tanh in place");
    }

    [Theory]
    [MemberData(nameof(DifferentiableActivations), MemberType = typeof(BackendContractTests))]
    public void ActivationBackwardMatchesFiniteDifferences(ActivationKind kind, bool accumulate)
    {
        var x = ActivationInputs();
        int n = x.Length;
        float alpha = AlphaFor(kind);
        var gradOutput = Check.Uniform(n, seed: 22);
        var initial = Check.Uniform(n, seed: 23);

        var dx = Put(x, 1);
        var dy = Alloc<float>(n);
        Backend.Activation(kind, alpha, dx, dy, n);
        var gradInput = Put(initial, 2);
        Backend.ActivationBackward(kind, alpha, dx, dy, Put(gradOutput, 3), gradInput, n, accumulate);
        var actual = Get(gradInput);

        // 1) Against f' from a double-precision central difference of the reference f (error ~1e-10).
        var expected = new double[n];
        for (int i = 0; i < n; i++)
            expected[i] = (accumulate ? initial[i] : 0) + gradOutput[i] * Reference.ActivationDerivative(kind, alpha, x[i]);
        // sigmoid and tanh differentiate through y = f(x) in float: y's rounding enters y (1 - y)
        Check.Close(expected, actual, 2e-6, 1e-5, $"{kind} backward vs reference derivative");

        // 2) Against a central difference of this backend's own float forward, f(x +- h) with h = 1e-2:
        // truncation h^2 |f'''| / 6 <= ~3e-5 here, cancellation ~2 * 1.2e-7 * |f| / (2h) <= ~5e-5 for |f| <= 4.
        // (With h = 1e-5 the cancellation term alone would reach 5e-2: the float32 gradcheck trap.)
        const float h = 1e-2f;
        var plus = Array.ConvertAll(x, v => v + h);
        var minus = Array.ConvertAll(x, v => v - h);
        var fPlus = Alloc<float>(n);
        var fMinus = Alloc<float>(n);
        Backend.Activation(kind, alpha, Put(plus), fPlus, n);
        Backend.Activation(kind, alpha, Put(minus), fMinus, n);
        var yp = Get(fPlus);
        var ym = Get(fMinus);
        var numeric = new double[n];
        for (int i = 0; i < n; i++)
            numeric[i] = (accumulate ? initial[i] : 0) + gradOutput[i] * ((double)yp[i] - ym[i]) / ((double)plus[i] - minus[i]);
        Check.Close(numeric, actual, 2e-4, 1e-3, $"{kind} backward vs finite difference of the forward");
    }

    [Fact]
    public void StepBackwardThrowsNotSupported()
    {
        var buffer = Alloc<float>(3);
        var ex = Assert.Throws<NotSupportedException>(() =>
            Backend.ActivationBackward(ActivationKind.Step, 0f, buffer, buffer, buffer, buffer, 3, accumulate: false));
        Assert.Contains("step", ex.Message, StringComparison.OrdinalIgnoreCase);
    }
}

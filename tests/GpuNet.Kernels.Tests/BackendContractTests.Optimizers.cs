using GpuNet.Backends;
using Xunit;

namespace GpuNet.Kernels.Tests;

public abstract partial class BackendContractTests
{
    public static TheoryData<OptimizerKind, int, int> OptimizerCases
    {
        get
        {
            var data = new TheoryData<OptimizerKind, int, int>();
            foreach (var kind in Enum.GetValues<OptimizerKind>())
            {
                data.Add(kind, 1, 0);
                data.Add(kind, 37, 2);
            }
            return data;
        }
    }

    /// <summary>The hyperparameters of step t (1-based) for <paramref name="kind"/>, as an optimizer computes them on the host.</summary>
    private static OptimizerStep StepFor(OptimizerKind kind, int t)
    {
        const float beta1 = 0.9f, beta2 = 0.99f;
        bool adam = kind is OptimizerKind.Adam or OptimizerKind.AdamW or OptimizerKind.Adamax;
        return new OptimizerStep
        {
            Kind = kind,
            LearningRate = 0.1f / t, // a schedule: the rate changes between steps
            Beta1 = beta1,
            Beta2 = kind == OptimizerKind.RmsProp ? 0.9f : beta2,
            Epsilon = 1e-7f,
            WeightDecay = 0.004f,
            BiasCorrection1 = adam ? 1f / (1f - MathF.Pow(beta1, t)) : 1f,
            BiasCorrection2 = adam ? 1f / (1f - MathF.Pow(beta2, t)) : 1f,
        };
    }

    /// <summary>The index of the learning rate in <see cref="OptimizerValues"/>'s buffer.</summary>
    private const int ValueIndex = 2;

    /// <summary>
    /// Step values (a guarded slice) with the step's learning rate and bias corrections at <see cref="ValueIndex"/>,
    /// after two ints and before one that the update must not read.
    /// </summary>
    private DeviceBuffer<int> OptimizerValues(in OptimizerStep step) => Put(ValueInts(step), 1);

    private static int[] ValueInts(in OptimizerStep step) =>
        [int.MinValue, -1, StepValueMath.FromFloat(step.LearningRate), StepValueMath.FromFloat(step.BiasCorrection1),
         StepValueMath.FromFloat(step.BiasCorrection2), -1];

    /// <summary><paramref name="step"/>'s constants: the per-step fields NaN, which the update must not read.</summary>
    private static OptimizerStep Constants(OptimizerStep step) =>
        step with { LearningRate = float.NaN, BiasCorrection1 = float.NaN, BiasCorrection2 = float.NaN };

    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void OptimizerUpdateMatchesOptimizerMathOverThreeSteps(OptimizerKind kind, int count, int offset)
    {
        bool needs1 = kind != OptimizerKind.Sgd, needs2 = OptimizerMath.UsesState2(kind);
        var w = Check.Uniform(count, seed: 91, low: -2f, high: 2f);
        var s1 = new float[count];
        var s2 = new float[count];
        if (kind == OptimizerKind.AdaGrad) Array.Fill(s1, 0.1f); // Keras' initial accumulator
        var parameters = Put(w, offset);
        var state1 = needs1 ? Put(s1, offset + 1) : null;
        var state2 = needs2 ? Put(s2, offset + 2) : null;
        var gradients = Alloc<float>(count);
        var values = OptimizerValues(StepFor(kind, 1));
        var constants = Constants(StepFor(kind, 1)); // the same launch every step: only the uploaded values change

        for (int t = 1; t <= 3; t++)
        {
            var g = Check.Uniform(count, seed: 91 + t);
            if (count > 2) g[2] = 0f; // a zero gradient: momentum keeps moving, Adam's second moment decays
            var step = StepFor(kind, t);
            Assert.Equal(constants, Constants(step));
            Backend.Upload<float>(g, gradients);
            Backend.Upload<int>(ValueInts(step), values);
            Backend.OptimizerUpdate(constants, values, ValueIndex, parameters, gradients, state1, state2, count);
            for (int i = 0; i < count; i++) w[i] = OptimizerMath.Update(step, w[i], g[i], ref s1[i], ref s2[i]);
        }

        // the same float operations in the same order; a GPU may fuse a multiply-add or round a square
        // root differently: a few ulp after three steps
        Check.Close(w, Get(parameters), 1e-7, 2e-6, $"{kind} parameters");
        if (state1 is not null) Check.Close(s1, Get(state1), 1e-7, 2e-6, $"{kind} state 1");
        if (state2 is not null) Check.Close(s2, Get(state2), 1e-9, 2e-6, $"{kind} state 2");
    }

    [Fact]
    public void OptimizerUpdateFirstAdamStepMovesEachWeightByAboutTheLearningRate()
    {
        // t = 1: m = (1 - b1) g, v = (1 - b2) g^2, so m c1 / sqrt(v c2) = g / |g| and w -= lr sign(g) (eps aside)
        var parameters = Put([1f, 1f, 1f]);
        var step = StepFor(OptimizerKind.Adam, 1);
        Backend.OptimizerUpdate(Constants(step), OptimizerValues(step), ValueIndex, parameters, Put([3f, -0.01f, 0.1f]), Alloc<float>(3), Alloc<float>(3), 3);
        Check.Close([0.9, 1.1, 0.9], Get(parameters), 1e-5, 0, "Adam's first step");
    }

    [Fact]
    public void OptimizerUpdateReadsTheStepValuesWhenItRuns()
    {
        // two launches with the same arguments: the learning rate uploaded in between is the one applied
        var parameters = Put([1f, 2f]);
        var gradients = Put([1f, -1f]);
        var step = StepFor(OptimizerKind.Sgd, 1);
        var values = OptimizerValues(step with { LearningRate = 0.5f });
        Backend.OptimizerUpdate(Constants(step), values, ValueIndex, parameters, gradients, null, null, 2);
        Backend.Upload<int>(ValueInts(step with { LearningRate = 0.25f }), values);
        Backend.OptimizerUpdate(Constants(step), values, ValueIndex, parameters, gradients, null, null, 2);
        Assert.Equal([0.25f, 2.75f], Get(parameters)); // 1 - 0.5 - 0.25, 2 + 0.5 + 0.25: exact
        Assert.Equal(ValueInts(step with { LearningRate = 0.25f }), Get(values)); // read, not written
    }

    [Fact]
    public void OptimizerUpdateRefusesStepValuesTooShortForItsIndex()
    {
        var parameters = Alloc<float>(2);
        var gradients = Alloc<float>(2);
        var step = Constants(StepFor(OptimizerKind.Sgd, 1));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Backend.OptimizerUpdate(step, Alloc<int>(4), 2, parameters, gradients, null, null, 2));
        Assert.Equal("stepValues", ex.ParamName);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => Backend.OptimizerUpdate(step, Alloc<int>(4), -1, parameters, gradients, null, null, 2));
        Assert.Equal("stepValues", ex.ParamName);
    }

    [Fact]
    public void OptimizerUpdateNeedsTheStateItsRuleUses()
    {
        var parameters = Alloc<float>(4);
        var gradients = Alloc<float>(4);
        var values = OptimizerValues(StepFor(OptimizerKind.Sgd, 1));
        Backend.OptimizerUpdate(StepFor(OptimizerKind.Sgd, 1), values, ValueIndex, parameters, gradients, null, null, 4); // Sgd has no state
        var ex = Assert.Throws<ArgumentNullException>(() =>
            Backend.OptimizerUpdate(StepFor(OptimizerKind.Momentum, 1), values, ValueIndex, parameters, gradients, null, null, 4));
        Assert.Equal("state1", ex.ParamName);
        ex = Assert.Throws<ArgumentNullException>(() =>
            Backend.OptimizerUpdate(StepFor(OptimizerKind.Adam, 1), values, ValueIndex, parameters, gradients, Alloc<float>(4), null, 4));
        Assert.Equal("state2", ex.ParamName);
        var shortState = Assert.Throws<ArgumentException>(() =>
            Backend.OptimizerUpdate(StepFor(OptimizerKind.RmsProp, 1), values, ValueIndex, parameters, gradients, Alloc<float>(3), null, 4));
        Assert.Equal("state1", shortState.ParamName);
    }
}

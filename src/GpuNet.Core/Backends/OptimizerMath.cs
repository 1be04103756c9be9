using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GpuNet.Backends;

/// <summary>
/// The hyperparameters of one <see cref="OptimizerStep"/> as <typeparamref name="T"/> values (every lane of a
/// vector): made once per call, so a SIMD loop does not broadcast them per element.
/// </summary>
/// <remarks>1 - beta is rounded to float once here, exactly as the rules' (1f - beta) term.</remarks>
public struct OptimizerCoefficients<T> where T : struct
{
    public T LearningRate, Beta1, Beta2, OneMinusBeta1, OneMinusBeta2, Epsilon, BiasCorrection1, BiasCorrection2;
    /// <summary>AdamW's lr * weight decay.</summary>
    public T Decay;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static OptimizerCoefficients<T> From<TMath>(in OptimizerStep h) where TMath : struct, IFloatMath<T>
    {
        var m = default(TMath);
        return new OptimizerCoefficients<T>
        {
            LearningRate = m.Constant(h.LearningRate),
            Beta1 = m.Constant(h.Beta1),
            Beta2 = m.Constant(h.Beta2),
            OneMinusBeta1 = m.Constant(1f - h.Beta1),
            OneMinusBeta2 = m.Constant(1f - h.Beta2),
            Epsilon = m.Constant(h.Epsilon),
            BiasCorrection1 = m.Constant(h.BiasCorrection1),
            BiasCorrection2 = m.Constant(h.BiasCorrection2),
            Decay = m.Constant(h.LearningRate * h.WeightDecay),
        };
    }
}

/// <summary>
/// The optimizer rules of <see cref="OptimizerKind"/>, written once (<see cref="Rule{T, TMath}"/>) and used
/// by the CPU backend's SIMD loop and scalar tail and by the ILGPU kernel, so every backend applies the same
/// float operations in the same order.
/// </summary>
public static class OptimizerMath
{
    /// <summary>Whether <paramref name="kind"/> keeps a first state per parameter (velocity, accumulator or first moment).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool UsesState1(OptimizerKind kind) => kind != OptimizerKind.Sgd;

    /// <summary>Whether <paramref name="kind"/> keeps a second state per parameter (Adam's second moment).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool UsesState2(OptimizerKind kind) => kind is OptimizerKind.Adam or OptimizerKind.AdamW or OptimizerKind.Adamax;

    /// <summary>
    /// The host's checks of an update, the same on every backend: a known rule (else
    /// <see cref="ArgumentOutOfRangeException"/>) and the states it uses present (else <see cref="ArgumentNullException"/>).
    /// </summary>
    public static void RequireStates(in OptimizerStep step, DeviceBuffer<float>? state1, DeviceBuffer<float>? state2, int count)
    {
        if (!Enum.IsDefined(step.Kind)) throw new ArgumentOutOfRangeException(nameof(step), step.Kind, "Unknown optimizer.");
        if (UsesState1(step.Kind) && state1 is null)
            throw new ArgumentNullException(nameof(state1), $"{step.Kind} needs a state buffer of {count} elements.");
        if (UsesState2(step.Kind) && state2 is null)
            throw new ArgumentNullException(nameof(state2), $"{step.Kind} needs a second state buffer of {count} elements.");
    }

    /// <summary>Ints an update reads from the step values: the learning rate and the two bias corrections, in that order.</summary>
    public const int StepValueCount = 3;

    /// <summary>
    /// <paramref name="constants"/> with this step's learning rate and bias corrections, read as float bits from
    /// the step values (<see cref="IBackend.OptimizerUpdate"/>'s stepValues[index], [index + 1], [index + 2]): the
    /// hyperparameters a backend's update applies. Kernel-safe.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static OptimizerStep WithStepValues(OptimizerStep constants, int learningRate, int biasCorrection1, int biasCorrection2)
    {
        constants.LearningRate = StepValueMath.ToFloat(learningRate);
        constants.BiasCorrection1 = StepValueMath.ToFloat(biasCorrection1);
        constants.BiasCorrection2 = StepValueMath.ToFloat(biasCorrection2);
        return constants;
    }

    /// <summary>
    /// One parameter (or one vector of them) through the rule of <paramref name="kind"/> (see
    /// <see cref="OptimizerKind"/> for the math): returns the new w, updates the states the rule uses
    /// and leaves the others untouched. Kernel-safe: no allocation, no exception, no managed call; an
    /// unknown kind is rejected on the host and would be treated as Adam here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Rule<T, TMath>(OptimizerKind kind, in OptimizerCoefficients<T> c, T w, T g, ref T s1, ref T s2)
        where T : struct where TMath : struct, IFloatMath<T>
    {
        var m = default(TMath);
        switch (kind)
        {
            case OptimizerKind.Sgd: // w - lr g
                return m.Subtract(w, m.Multiply(c.LearningRate, g));
            case OptimizerKind.Momentum: // s1 = b1 s1 - lr g; w + s1
                s1 = m.Subtract(m.Multiply(c.Beta1, s1), m.Multiply(c.LearningRate, g));
                return m.Add(w, s1);
            case OptimizerKind.Nesterov: // s1 = b1 s1 - lr g; w + b1 s1 - lr g
                s1 = m.Subtract(m.Multiply(c.Beta1, s1), m.Multiply(c.LearningRate, g));
                return m.Subtract(m.Add(w, m.Multiply(c.Beta1, s1)), m.Multiply(c.LearningRate, g));
            case OptimizerKind.AdaGrad: // s1 += g^2; w - lr g / (sqrt(s1) + eps)
                s1 = m.Add(s1, m.Multiply(g, g));
                return m.Subtract(w, m.Divide(m.Multiply(c.LearningRate, g), m.Add(m.Sqrt(s1), c.Epsilon)));
            case OptimizerKind.RmsProp: // s1 = rho s1 + (1 - rho) g^2; w - lr g / (sqrt(s1) + eps)
                s1 = m.Add(m.Multiply(c.Beta2, s1), m.Multiply(m.Multiply(c.OneMinusBeta2, g), g));
                return m.Subtract(w, m.Divide(m.Multiply(c.LearningRate, g), m.Add(m.Sqrt(s1), c.Epsilon)));
            case OptimizerKind.Adamax: // s1 = b1 s1 + (1 - b1) g; s2 = max(b2 s2, |g|); w - lr (s1 c1) / (s2 + eps)
                s1 = m.Add(m.Multiply(c.Beta1, s1), m.Multiply(c.OneMinusBeta1, g));
                s2 = m.Max(m.Multiply(c.Beta2, s2), m.Abs(g));
                return m.Subtract(w, m.Divide(m.Multiply(c.LearningRate, m.Multiply(s1, c.BiasCorrection1)), m.Add(s2, c.Epsilon)));
            default: // Adam, AdamW
                if (kind == OptimizerKind.AdamW) w = m.Subtract(w, m.Multiply(c.Decay, w)); // decoupled weight decay
                s1 = m.Add(m.Multiply(c.Beta1, s1), m.Multiply(c.OneMinusBeta1, g));
                s2 = m.Add(m.Multiply(c.Beta2, s2), m.Multiply(m.Multiply(c.OneMinusBeta2, g), g));
                // w - lr (s1 c1) / (sqrt(s2 c2) + eps)
                return m.Subtract(w, m.Divide(m.Multiply(c.LearningRate, m.Multiply(s1, c.BiasCorrection1)),
                    m.Add(m.Sqrt(m.Multiply(s2, c.BiasCorrection2)), c.Epsilon)));
        }
    }

    /// <summary>Returns the updated parameter; updates the state in place (the scalar reference of every backend).</summary>
    public static float Update(in OptimizerStep h, float w, float g, ref float s1, ref float s2)
    {
        if (!Enum.IsDefined(h.Kind)) throw new ArgumentOutOfRangeException(nameof(h), h.Kind, "Unknown optimizer.");
        var c = OptimizerCoefficients<float>.From<ScalarMath>(h);
        return Rule<float, ScalarMath>(h.Kind, c, w, g, ref s1, ref s2);
    }

    /// <summary>
    /// Applies <see cref="Rule{T, TMath}"/> to every element: SIMD (<see cref="VectorMath"/>) over the bulk and
    /// scalar over the tail, bit for bit alike; s1/s2 may be empty when the rule does not use them.
    /// </summary>
    public static void UpdateSpan(in OptimizerStep h, Span<float> w, ReadOnlySpan<float> g, Span<float> s1, Span<float> s2)
    {
        switch (h.Kind)
        {
            case OptimizerKind.Sgd: UpdateSpan<SgdKind>(h, w, g, s1, s2); break;
            case OptimizerKind.Momentum: UpdateSpan<MomentumKind>(h, w, g, s1, s2); break;
            case OptimizerKind.Nesterov: UpdateSpan<NesterovKind>(h, w, g, s1, s2); break;
            case OptimizerKind.AdaGrad: UpdateSpan<AdaGradKind>(h, w, g, s1, s2); break;
            case OptimizerKind.RmsProp: UpdateSpan<RmsPropKind>(h, w, g, s1, s2); break;
            case OptimizerKind.Adam: UpdateSpan<AdamKind>(h, w, g, s1, s2); break;
            case OptimizerKind.AdamW: UpdateSpan<AdamWKind>(h, w, g, s1, s2); break;
            case OptimizerKind.Adamax: UpdateSpan<AdamaxKind>(h, w, g, s1, s2); break;
            default: throw new ArgumentOutOfRangeException(nameof(h), h.Kind, "Unknown optimizer.");
        }
    }

    /// <summary>
    /// The loop of one rule. The JIT compiles it per <typeparamref name="TKind"/> with the kind a constant, so
    /// the rule's switch and the state checks fold away and each rule gets the loop main's hand-written
    /// per-rule loops had (a switch inside the loop cost the light rules up to a quarter of their time).
    /// </summary>
    /// <remarks>
    /// Never inlined, and compiled optimized at once: in a training step, profile-guided inlining pulled this
    /// loop into the worker pool's part runner, whose inlining budget then ran out before <see cref="Rule{T, TMath}"/>,
    /// leaving a call (and VectorMath calls) per vector: steps at batch 16-64 were 15-30% slower than with
    /// main's hand-written loops. As a root of its own, the loop inlines the rule and compiles to those loops' code.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void UpdateSpan<TKind>(in OptimizerStep h, Span<float> w, ReadOnlySpan<float> g, Span<float> s1, Span<float> s2)
        where TKind : struct, IOptimizerKind
    {
        var kind = default(TKind).Kind;
        bool uses1 = UsesState1(kind), uses2 = UsesState2(kind);
        if (g.Length < w.Length || uses1 && s1.Length < w.Length || uses2 && s2.Length < w.Length)
            throw new ArgumentException("The gradients and the states the rule uses need as many elements as the parameters.");
        // an unused state reads and writes a dummy (never stored back)
        Vector<float> unusedVector = default;
        float unused = 0f;
        ref float rw = ref MemoryMarshal.GetReference(w);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float r1 = ref uses1 ? ref MemoryMarshal.GetReference(s1) : ref unused;
        ref float r2 = ref uses2 ? ref MemoryMarshal.GetReference(s2) : ref unused;
        var cv = OptimizerCoefficients<Vector<float>>.From<VectorMath>(h);
        int i = 0, n = w.Length, width = Vector<float>.Count;
        for (; i <= n - width; i += width)
        {
            nuint at = (nuint)i;
            var v1 = uses1 ? Vector.LoadUnsafe(ref r1, at) : unusedVector;
            var v2 = uses2 ? Vector.LoadUnsafe(ref r2, at) : unusedVector;
            Rule<Vector<float>, VectorMath>(kind, cv, Vector.LoadUnsafe(ref rw, at), Vector.LoadUnsafe(ref rg, at), ref v1, ref v2)
                .StoreUnsafe(ref rw, at);
            if (uses1) v1.StoreUnsafe(ref r1, at);
            if (uses2) v2.StoreUnsafe(ref r2, at);
        }
        var c = OptimizerCoefficients<float>.From<ScalarMath>(h);
        for (; i < n; i++)
            w[i] = Rule<float, ScalarMath>(kind, c, w[i], g[i], ref uses1 ? ref s1[i] : ref unused, ref uses2 ? ref s2[i] : ref unused);
    }

    /// <summary>An <see cref="OptimizerKind"/> as a type, so a generic loop is compiled per rule.</summary>
    private interface IOptimizerKind
    {
        OptimizerKind Kind { get; }
    }

    private readonly struct SgdKind : IOptimizerKind { public OptimizerKind Kind => OptimizerKind.Sgd; }
    private readonly struct MomentumKind : IOptimizerKind { public OptimizerKind Kind => OptimizerKind.Momentum; }
    private readonly struct NesterovKind : IOptimizerKind { public OptimizerKind Kind => OptimizerKind.Nesterov; }
    private readonly struct AdaGradKind : IOptimizerKind { public OptimizerKind Kind => OptimizerKind.AdaGrad; }
    private readonly struct RmsPropKind : IOptimizerKind { public OptimizerKind Kind => OptimizerKind.RmsProp; }
    private readonly struct AdamKind : IOptimizerKind { public OptimizerKind Kind => OptimizerKind.Adam; }
    private readonly struct AdamWKind : IOptimizerKind { public OptimizerKind Kind => OptimizerKind.AdamW; }
    private readonly struct AdamaxKind : IOptimizerKind { public OptimizerKind Kind => OptimizerKind.Adamax; }
}

using System.Numerics;
using GpuNet.Backends;
using Xunit;

namespace GpuNet.Kernels.Tests;

/// <summary>
/// The formulas written once in Core (<see cref="OptimizerMath.Rule{T, TMath}"/> over <see cref="VectorMath"/>
/// and <see cref="ScalarMath"/>): the CPU backend's SIMD bulk and its scalar tail, which is also the kernels'
/// code, agree bit for bit, so a parameter's update does not depend on where in the buffer it falls.
/// </summary>
public sealed class SharedFormulaTests
{
    public static TheoryData<OptimizerKind> Optimizers => new(Enum.GetValues<OptimizerKind>());

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void OptimizerSimdLoopMatchesTheScalarRuleBitForBit(OptimizerKind kind)
    {
        int n = 4 * Vector<float>.Count + 3; // a SIMD bulk and a scalar tail
        var w = Check.Uniform(n, seed: 7, low: -2f, high: 2f);
        var s1 = new float[n];
        var s2 = new float[n];
        var (w0, s10, s20) = ((float[])w.Clone(), (float[])s1.Clone(), (float[])s2.Clone());
        for (int t = 1; t <= 3; t++)
        {
            var g = Check.Uniform(n, seed: 7 + t);
            g[1] = 0f;
            var step = new OptimizerStep
            {
                Kind = kind, LearningRate = 0.05f / t, Beta1 = 0.9f, Beta2 = 0.99f, Epsilon = 1e-7f, WeightDecay = 0.01f,
                BiasCorrection1 = 1f / (1f - MathF.Pow(0.9f, t)), BiasCorrection2 = 1f / (1f - MathF.Pow(0.99f, t)),
            };
            OptimizerMath.UpdateSpan(step, w, g, s1, s2);
            for (int i = 0; i < n; i++) w0[i] = OptimizerMath.Update(step, w0[i], g[i], ref s10[i], ref s20[i]);
        }
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(w0[i]), BitConverter.SingleToInt32Bits(w[i]));
            Assert.Equal(BitConverter.SingleToInt32Bits(s10[i]), BitConverter.SingleToInt32Bits(s1[i]));
            Assert.Equal(BitConverter.SingleToInt32Bits(s20[i]), BitConverter.SingleToInt32Bits(s2[i]));
        }
    }

    [Fact]
    public void UnknownKindsAreRefusedOnTheHost()
    {
        var step = new OptimizerStep { Kind = (OptimizerKind)99 };
        float s1 = 0, s2 = 0;
        Assert.Throws<ArgumentOutOfRangeException>(() => OptimizerMath.Update(step, 1f, 1f, ref s1, ref s2));
        Assert.Throws<ArgumentOutOfRangeException>(() => ActivationMath.RequireKnown((ActivationKind)99));
        Assert.Throws<ArgumentOutOfRangeException>(() => UnaryMath.RequireKnown((UnaryOp)99));
    }
}

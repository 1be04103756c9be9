namespace GpuNet.Backends;

public sealed partial class CpuBackend
{
    public void OptimizerUpdate(OptimizerStep step, DeviceBuffer<float> parameters, DeviceBuffer<float> gradients,
        DeviceBuffer<float>? state1, DeviceBuffer<float>? state2, int count)
    {
        Require(parameters, count, nameof(parameters)); Require(gradients, count, nameof(gradients));
        bool needs1 = step.Kind != OptimizerKind.Sgd, needs2 = step.Kind is OptimizerKind.Adam or OptimizerKind.AdamW;
        if (needs1 && state1 is null) throw new ArgumentNullException(nameof(state1), $"{step.Kind} needs a state buffer of {count} elements.");
        if (needs2 && state2 is null) throw new ArgumentNullException(nameof(state2), $"{step.Kind} needs a second state buffer of {count} elements.");
        if (needs1) Require(state1!, count, nameof(state1));
        if (needs2) Require(state2!, count, nameof(state2));
        var cp = Cpu(parameters, nameof(parameters)); var cg = Cpu(gradients, nameof(gradients));
        var c1 = needs1 ? Cpu(state1!, nameof(state1)) : null; var c2 = needs2 ? Cpu(state2!, nameof(state2)) : null;
        ForChunks(count, (start, len) =>
        {
            var w = cp.Array.AsSpan(cp.Offset + start, len);
            var g = cg.Array.AsSpan(cg.Offset + start, len);
            var s1 = c1 is null ? default : c1.Array.AsSpan(c1.Offset + start, len);
            var s2 = c2 is null ? default : c2.Array.AsSpan(c2.Offset + start, len);
            for (int i = 0; i < len; i++)
                w[i] = OptimizerMath.Update(step, w[i], g[i], ref c1 is null ? ref Unused : ref s1[i], ref c2 is null ? ref Unused : ref s2[i]);
        });
    }

    [ThreadStatic] private static float Unused;
}

/// <summary>The scalar optimizer rules of <see cref="OptimizerKind"/> (the CPU path and the kernels' reference).</summary>
public static class OptimizerMath
{
    /// <summary>Returns the updated parameter; updates the state in place.</summary>
    public static float Update(in OptimizerStep h, float w, float g, ref float s1, ref float s2)
    {
        switch (h.Kind)
        {
            case OptimizerKind.Sgd:
                return w - h.LearningRate * g;
            case OptimizerKind.Momentum:
                s1 = h.Beta1 * s1 - h.LearningRate * g;
                return w + s1;
            case OptimizerKind.Nesterov:
                s1 = h.Beta1 * s1 - h.LearningRate * g;
                return w + h.Beta1 * s1 - h.LearningRate * g;
            case OptimizerKind.AdaGrad:
                s1 += g * g;
                return w - h.LearningRate * g / (MathF.Sqrt(s1) + h.Epsilon);
            case OptimizerKind.RmsProp:
                s1 = h.Beta2 * s1 + (1f - h.Beta2) * g * g;
                return w - h.LearningRate * g / (MathF.Sqrt(s1) + h.Epsilon);
            case OptimizerKind.Adam:
            case OptimizerKind.AdamW:
                if (h.Kind == OptimizerKind.AdamW) w -= h.LearningRate * h.WeightDecay * w;
                s1 = h.Beta1 * s1 + (1f - h.Beta1) * g;
                s2 = h.Beta2 * s2 + (1f - h.Beta2) * g * g;
                return w - h.LearningRate * (s1 * h.BiasCorrection1) / (MathF.Sqrt(s2 * h.BiasCorrection2) + h.Epsilon);
            default:
                throw new ArgumentOutOfRangeException(nameof(h), h.Kind, "Unknown optimizer.");
        }
    }
}

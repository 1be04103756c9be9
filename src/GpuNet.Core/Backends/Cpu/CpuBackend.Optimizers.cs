using System.Numerics;
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
        // Memory-bound: one thread streams ~10 GB/s, so only very large models are split across threads.
        var body = new OptimizerBody(step, cp, cg, c1, c2);
        // Split from 64K parameters when a worker is awake anyway (a step's threaded GEMMs keep it polling), and
        // from 2M even if one must be woken. Measured on 2 cores, lecture model (109,386 parameters): batch 16
        // steps 116k -> 145k samples/s with the split; at batch 1, where nothing else wakes the worker, waking it
        // for the update doubled the step time.
        if (count < OptimizerParallelThreshold) body.Run(0, count);
        else RunParallel(count, Environment.ProcessorCount, body, wakeSleepers: count >= OptimizerWakeThreshold);
    }

    private readonly record struct OptimizerBody(OptimizerStep Step, Cpu.CpuBuffer<float> P, Cpu.CpuBuffer<float> G,
        Cpu.CpuBuffer<float>? S1, Cpu.CpuBuffer<float>? S2) : IRangeBody
    {
        public void Run(int start, int length) => UpdateRange(Step, P, G, S1, S2, start, length);
    }

    private const int OptimizerParallelThreshold = 1 << 16;
    private const int OptimizerWakeThreshold = 1 << 21;

    private static void UpdateRange(in OptimizerStep h, Cpu.CpuBuffer<float> cp, Cpu.CpuBuffer<float> cg,
        Cpu.CpuBuffer<float>? c1, Cpu.CpuBuffer<float>? c2, int start, int len)
    {
        var w = cp.Array.AsSpan(cp.Offset + start, len);
        var g = cg.Array.AsSpan(cg.Offset + start, len);
        var s1 = c1 is null ? default : c1.Array.AsSpan(c1.Offset + start, len);
        var s2 = c2 is null ? default : c2.Array.AsSpan(c2.Offset + start, len);
        OptimizerMath.UpdateSpan(h, w, g, s1, s2);
    }
}

/// <summary>The scalar optimizer rules of <see cref="OptimizerKind"/> (the CPU path and the kernels' reference).</summary>
public static class OptimizerMath
{
    /// <summary>
    /// Applies <see cref="Update"/> to every element, SIMD (Vector&lt;float&gt;) over the bulk and scalar over the tail;
    /// s1/s2 may be empty when the rule does not use them. The vector arithmetic is the scalar rule's, term by term.
    /// </summary>
    public static void UpdateSpan(in OptimizerStep h, Span<float> w, ReadOnlySpan<float> g, Span<float> s1, Span<float> s2)
    {
        int i = 0, width = Vector<float>.Count;
        var lr = new Vector<float>(h.LearningRate);
        var b1 = new Vector<float>(h.Beta1);
        var b2 = new Vector<float>(h.Beta2);
        var eps = new Vector<float>(h.Epsilon);
        var one = Vector<float>.One;
        switch (h.Kind)
        {
            case OptimizerKind.Sgd:
                for (; i <= w.Length - width; i += width)
                    (new Vector<float>(w[i..]) - lr * new Vector<float>(g[i..])).CopyTo(w[i..]);
                break;
            case OptimizerKind.Momentum:
                for (; i <= w.Length - width; i += width)
                {
                    var v = b1 * new Vector<float>(s1[i..]) - lr * new Vector<float>(g[i..]);
                    v.CopyTo(s1[i..]);
                    (new Vector<float>(w[i..]) + v).CopyTo(w[i..]);
                }
                break;
            case OptimizerKind.Nesterov:
                for (; i <= w.Length - width; i += width)
                {
                    var gv = new Vector<float>(g[i..]);
                    var v = b1 * new Vector<float>(s1[i..]) - lr * gv;
                    v.CopyTo(s1[i..]);
                    (new Vector<float>(w[i..]) + b1 * v - lr * gv).CopyTo(w[i..]);
                }
                break;
            case OptimizerKind.AdaGrad:
                for (; i <= w.Length - width; i += width)
                {
                    var gv = new Vector<float>(g[i..]);
                    var a = new Vector<float>(s1[i..]) + gv * gv;
                    a.CopyTo(s1[i..]);
                    (new Vector<float>(w[i..]) - lr * gv / (Vector.SquareRoot(a) + eps)).CopyTo(w[i..]);
                }
                break;
            case OptimizerKind.RmsProp:
                for (; i <= w.Length - width; i += width)
                {
                    var gv = new Vector<float>(g[i..]);
                    var a = b2 * new Vector<float>(s1[i..]) + (one - b2) * gv * gv;
                    a.CopyTo(s1[i..]);
                    (new Vector<float>(w[i..]) - lr * gv / (Vector.SquareRoot(a) + eps)).CopyTo(w[i..]);
                }
                break;
            case OptimizerKind.Adam:
            case OptimizerKind.AdamW:
                var c1 = new Vector<float>(h.BiasCorrection1);
                var c2 = new Vector<float>(h.BiasCorrection2);
                var decay = new Vector<float>(h.Kind == OptimizerKind.AdamW ? h.LearningRate * h.WeightDecay : 0f);
                for (; i <= w.Length - width; i += width)
                {
                    var gv = new Vector<float>(g[i..]);
                    var wv = new Vector<float>(w[i..]);
                    wv -= decay * wv;
                    var m = b1 * new Vector<float>(s1[i..]) + (one - b1) * gv;
                    var v = b2 * new Vector<float>(s2[i..]) + (one - b2) * gv * gv;
                    m.CopyTo(s1[i..]);
                    v.CopyTo(s2[i..]);
                    (wv - lr * (m * c1) / (Vector.SquareRoot(v * c2) + eps)).CopyTo(w[i..]);
                }
                break;
        }
        float unused1 = 0, unused2 = 0;
        bool usesS1 = h.Kind != OptimizerKind.Sgd, usesS2 = h.Kind is OptimizerKind.Adam or OptimizerKind.AdamW;
        for (; i < w.Length; i++)
            w[i] = Update(h, w[i], g[i], ref usesS1 ? ref s1[i] : ref unused1, ref usesS2 ? ref s2[i] : ref unused2);
    }

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

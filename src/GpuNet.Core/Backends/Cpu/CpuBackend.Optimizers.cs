namespace GpuNet.Backends;

public sealed partial class CpuBackend
{
    public void OptimizerUpdate(OptimizerStep constants, DeviceBuffer<int> stepValues, int valueIndex, DeviceBuffer<float> parameters,
        DeviceBuffer<float> gradients, DeviceBuffer<float>? state1, DeviceBuffer<float>? state2, int count)
    {
        StepValueMath.Require(stepValues, valueIndex, OptimizerMath.StepValueCount, nameof(stepValues));
        // this step's learning rate and bias corrections, from the step values' host memory
        var values = Cpu(stepValues, nameof(stepValues)).Span.Slice(valueIndex, OptimizerMath.StepValueCount);
        Update(OptimizerMath.WithStepValues(constants, values[0], values[1], values[2]), parameters, gradients, state1, state2, count);
    }

    /// <summary>The update with every hyperparameter of <paramref name="step"/> (<see cref="SgdUpdate(DeviceBuffer{float}, DeviceBuffer{float}, int, float)"/>'s learning rate by value).</summary>
    private void Update(in OptimizerStep step, DeviceBuffer<float> parameters, DeviceBuffer<float> gradients,
        DeviceBuffer<float>? state1, DeviceBuffer<float>? state2, int count)
    {
        Require(parameters, count, nameof(parameters)); Require(gradients, count, nameof(gradients));
        OptimizerMath.RequireStates(step, state1, state2, count);
        bool needs1 = OptimizerMath.UsesState1(step.Kind), needs2 = OptimizerMath.UsesState2(step.Kind);
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

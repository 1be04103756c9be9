using GpuNet.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Kernels;

// The fused optimizer update (OptimizerKernels.cs) and image augmentation (AugmentKernels.cs) of IBackend.Layers.cs.
public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// One launch of <see cref="OptimizerKernels.OptimizerUpdateKernel"/> over all <paramref name="count"/>
    /// parameters, whatever the rule; <paramref name="step"/> travels by value as a kernel argument, the learning rate
    /// and bias corrections are read from <paramref name="stepValues"/> by every thread.
    /// </remarks>
    public void OptimizerUpdate(OptimizerStep step, DeviceBuffer<int> stepValues, int valueIndex, DeviceBuffer<float> parameters,
        DeviceBuffer<float> gradients, DeviceBuffer<float>? state1, DeviceBuffer<float>? state2, int count)
    {
        StepValueMath.Require(stepValues, valueIndex, OptimizerMath.StepValueCount, nameof(stepValues));
        Update(step, View(stepValues, nameof(stepValues)), valueIndex, parameters, gradients, state1, state2, count);
    }

    /// <summary>The update with the per-step values at valueIndex of <paramref name="vs"/>, or, for a negative valueIndex,
    /// those of <paramref name="step"/> itself (<see cref="SgdUpdate(DeviceBuffer{float}, DeviceBuffer{float}, int, float)"/>'s learning rate by value).</summary>
    private void Update(OptimizerStep step, IntView vs, int valueIndex, DeviceBuffer<float> parameters,
        DeviceBuffer<float> gradients, DeviceBuffer<float>? state1, DeviceBuffer<float>? state2, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(parameters, count, nameof(parameters)); Require(gradients, count, nameof(gradients));
        OptimizerMath.RequireStates(step, state1, state2, count);
        bool needs1 = OptimizerMath.UsesState1(step.Kind), needs2 = OptimizerMath.UsesState2(step.Kind);
        var vw = View(parameters, nameof(parameters)); var vg = View(gradients, nameof(gradients));
        // a state the rule does not use is never read: it may be absent (or too short)
        var (v1, _) = needs1 ? Optional(state1, count, nameof(state1)) : (_dummy.View, 0);
        var (v2, _) = needs2 ? Optional(state2, count, nameof(state2)) : (_dummy.View, 0);
        if (count > 0) _optimizerUpdate(_stream, count, step, vs, valueIndex, vw, vg, v1, v2);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One thread per output pixel (<see cref="AugmentKernels.AugmentImagesKernel"/>). Throws
    /// <see cref="ArgumentException"/> when destination overlaps source at all: every thread reads a
    /// neighbourhood of the source that other threads may already have overwritten.
    /// </remarks>
    public void AugmentImages(DeviceBuffer<float> source, DeviceBuffer<float> destination, int rows, int height, int width,
        AugmentationSettings settings, ulong seed, DeviceBuffer<int> stepValues, int stepIndex)
    {
        if (rows < 0 || height < 0 || width < 0)
            throw new ArgumentOutOfRangeException(nameof(rows), $"AugmentImages dimensions must be non-negative; got rows={rows}, height={height}, width={width}.");
        long n = (long)rows * height * width;
        Require(source, n, nameof(source)); Require(destination, n, nameof(destination));
        StepValueMath.Require(stepValues, stepIndex, 2, nameof(stepValues));
        var vs = View(source, nameof(source)); var vd = View(destination, nameof(destination));
        var vv = View(stepValues, nameof(stepValues));
        if (n == 0) return;
        if (Overlap(vs.SubView(0, n), vd.SubView(0, n)))
            throw new ArgumentException("AugmentImages cannot work in place: pass a destination buffer that does not overlap the source.", nameof(destination));
        _augmentImages(_stream, (int)n, vs, vd, height, width, settings, seed, vv, stepIndex);
    }

    /// <summary>Whether two views share any byte of device memory (compared by address: no device access).</summary>
    private static bool Overlap(FloatView a, FloatView b)
    {
        long startA = a.BaseView.LoadEffectiveAddressAsPtr().ToInt64(), startB = b.BaseView.LoadEffectiveAddressAsPtr().ToInt64();
        return startA < startB + b.LengthInBytes && startB < startA + a.LengthInBytes;
    }
}

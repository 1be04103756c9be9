using GpuNet.Backends;
using ILGPU;

namespace GpuNet.Kernels;

/// <summary>The parameter update kernel (IBackend.SgdUpdate is its Sgd rule).</summary>
public static class OptimizerKernels
{
    /// <summary>
    /// One fused optimizer step for every parameter: the rule of <see cref="OptimizerKind"/> chosen by
    /// constants.Kind, with the hyperparameters (learning rate, bias corrections) computed on the host and read from the
    /// step values, so the launch's arguments are the same every step.
    /// </summary>
    /// <param name="index">Element i; launch with extent count (all parameters of the model: one launch per step).</param>
    /// <param name="constants">The rule and its constant hyperparameters, passed by value.</param>
    /// <param name="stepValues">The step values: this step's learning rate and bias corrections as float bits at valueIndex,
    /// valueIndex + 1 and valueIndex + 2 (<see cref="OptimizerMath.WithStepValues"/>).</param>
    /// <param name="valueIndex">Where the learning rate is; negative when constants carries it (SgdUpdate).</param>
    /// <param name="parameters">w, updated in place.</param>
    /// <param name="gradients">g.</param>
    /// <param name="state1">s1 (velocity, accumulator or first moment), updated; a dummy for Sgd, never read then.</param>
    /// <param name="state2">s2 (second moment) for Adam and AdamW; a dummy otherwise, never read then.</param>
    /// <remarks>
    /// The rule is <see cref="OptimizerMath.Rule{T, TMath}"/> over <see cref="ScalarMath"/>, the very method the
    /// CPU backend runs, so both backends round the same way up to the square root. The kind is uniform across
    /// the launch: the switch is one predictable branch. An unknown kind is rejected on the host; a state the
    /// rule does not use is neither read nor written.
    /// </remarks>
    public static void OptimizerUpdateKernel(Index1D index, OptimizerStep constants, IntView stepValues, int valueIndex,
        FloatView parameters, FloatView gradients, FloatView state1, FloatView state2)
    {
        // a negative index: the learning rate came by value (IBackend.SgdUpdate)
        var step = valueIndex < 0 ? constants
            : OptimizerMath.WithStepValues(constants, stepValues[valueIndex], stepValues[valueIndex + 1], stepValues[valueIndex + 2]);
        var kind = step.Kind;
        bool uses1 = OptimizerMath.UsesState1(kind), uses2 = OptimizerMath.UsesState2(kind);
        float s1 = uses1 ? state1[index] : 0f, s2 = uses2 ? state2[index] : 0f;
        var c = OptimizerCoefficients<float>.From<ScalarMath>(step);
        parameters[index] = OptimizerMath.Rule<float, ScalarMath>(kind, c, parameters[index], gradients[index], ref s1, ref s2);
        if (uses1) state1[index] = s1;
        if (uses2) state2[index] = s2;
    }
}

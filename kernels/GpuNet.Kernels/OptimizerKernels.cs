using GpuNet.Backends;
using ILGPU;
using ILGPU.Algorithms;

namespace GpuNet.Kernels;

/// <summary>Parameter update kernels.</summary>
public static class OptimizerKernels
{
    /// <summary>Plain SGD: parameters[i] -= learningRate * gradients[i].</summary>
    /// <param name="index">Element index; launch with extent count.</param>
    /// <param name="parameters">At least count parameters, updated in place.</param>
    /// <param name="gradients">At least count gradients.</param>
    /// <param name="learningRate">Step size.</param>
    public static void SgdUpdateKernel(Index1D index, FloatView parameters, FloatView gradients, float learningRate) =>
        parameters[index] -= learningRate * gradients[index];

    /// <summary>
    /// One fused optimizer step for every parameter: the rule of <see cref="OptimizerKind"/> chosen by
    /// step.Kind, with the hyperparameters (learning rate, bias corrections) computed on the host.
    /// </summary>
    /// <param name="index">Element i; launch with extent count (all parameters of the model: one launch per step).</param>
    /// <param name="step">The step's hyperparameters, passed by value.</param>
    /// <param name="parameters">w, updated in place.</param>
    /// <param name="gradients">g.</param>
    /// <param name="state1">s1 (velocity, accumulator or first moment), updated; a dummy for Sgd, never read then.</param>
    /// <param name="state2">s2 (second moment) for Adam and AdamW; a dummy otherwise, never read then.</param>
    /// <remarks>
    /// The arithmetic is <see cref="OptimizerMath.Update"/>'s, operation for operation, so both
    /// backends round the same way up to the square root. The kind is uniform across the launch: the
    /// switch is one predictable branch. An unknown kind is rejected on the host.
    /// </remarks>
    public static void OptimizerUpdateKernel(Index1D index, OptimizerStep step, FloatView parameters, FloatView gradients,
        FloatView state1, FloatView state2)
    {
        float w = parameters[index], g = gradients[index];
        float lr = step.LearningRate;
        switch (step.Kind)
        {
            case OptimizerKind.Sgd:
                w -= lr * g;
                break;
            case OptimizerKind.Momentum:
            {
                float v = step.Beta1 * state1[index] - lr * g;
                state1[index] = v;
                w += v;
                break;
            }
            case OptimizerKind.Nesterov:
            {
                float v = step.Beta1 * state1[index] - lr * g;
                state1[index] = v;
                w = w + step.Beta1 * v - lr * g;
                break;
            }
            case OptimizerKind.AdaGrad:
            {
                float a = state1[index] + g * g;
                state1[index] = a;
                w -= lr * g / (XMath.Sqrt(a) + step.Epsilon);
                break;
            }
            case OptimizerKind.RmsProp:
            {
                float a = step.Beta2 * state1[index] + (1f - step.Beta2) * g * g;
                state1[index] = a;
                w -= lr * g / (XMath.Sqrt(a) + step.Epsilon);
                break;
            }
            default: // Adam, AdamW
            {
                if (step.Kind == OptimizerKind.AdamW) w -= lr * step.WeightDecay * w; // decoupled weight decay
                float m = step.Beta1 * state1[index] + (1f - step.Beta1) * g;
                float v = step.Beta2 * state2[index] + (1f - step.Beta2) * g * g;
                state1[index] = m;
                state2[index] = v;
                w -= lr * (m * step.BiasCorrection1) / (XMath.Sqrt(v * step.BiasCorrection2) + step.Epsilon);
                break;
            }
        }
        parameters[index] = w;
    }
}

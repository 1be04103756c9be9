using ILGPU;

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
}

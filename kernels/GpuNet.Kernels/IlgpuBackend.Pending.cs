using GpuNet.Backends;

namespace GpuNet.Kernels;

// Operations of IBackend.Layers.cs not yet written as ILGPU kernels: they throw until their kernels land.
public sealed partial class IlgpuBackend
{
    public void SoftmaxCrossEntropyDense(DeviceBuffer<float> logits, DeviceBuffer<float> targets, int rows, int cols, DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum) =>
        throw new NotSupportedException("SoftmaxCrossEntropyDense has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void SigmoidCrossEntropy(DeviceBuffer<float> logits, DeviceBuffer<float> targets, int count, DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum) =>
        throw new NotSupportedException("SigmoidCrossEntropy has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void CrossEntropyFromProbabilities(DeviceBuffer<float> probabilities, DeviceBuffer<float> targets, int count, float epsilon, DeviceBuffer<float>? gradProbabilities, float gradScale, DeviceBuffer<float> lossSum) =>
        throw new NotSupportedException("CrossEntropyFromProbabilities has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void BinaryCrossEntropyFromProbabilities(DeviceBuffer<float> probabilities, DeviceBuffer<float> targets, int count, float epsilon, DeviceBuffer<float>? gradProbabilities, float gradScale, DeviceBuffer<float> lossSum) =>
        throw new NotSupportedException("BinaryCrossEntropyFromProbabilities has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void MeanSquaredError(DeviceBuffer<float> predictions, DeviceBuffer<float> targets, int count, DeviceBuffer<float>? gradPredictions, float gradScale, DeviceBuffer<float> lossSum) =>
        throw new NotSupportedException("MeanSquaredError has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void CountCorrectBinary(DeviceBuffer<float> scores, DeviceBuffer<int> labels, int rows, float threshold, DeviceBuffer<int> correct) =>
        throw new NotSupportedException("CountCorrectBinary has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void SoftmaxBackward(DeviceBuffer<float> y, DeviceBuffer<float> gradOutput, DeviceBuffer<float> gradInput, int rows, int cols, bool accumulate) =>
        throw new NotSupportedException("SoftmaxBackward has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void Multiply(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> result, int count, bool accumulate) =>
        throw new NotSupportedException("Multiply has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void Scale(DeviceBuffer<float> buffer, int count, float factor) =>
        throw new NotSupportedException("Scale has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void ColumnAffine(DeviceBuffer<float> x, DeviceBuffer<float> scale, DeviceBuffer<float>? shift, DeviceBuffer<float> y, int rows, int cols, bool accumulate) =>
        throw new NotSupportedException("ColumnAffine has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void Dropout(DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> mask, int count, float rate, ulong seed, ulong step, uint purpose) =>
        throw new NotSupportedException("Dropout has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void L1L2Penalty(DeviceBuffer<float> parameters, int count, float l1, float l2, DeviceBuffer<float> lossSum) =>
        throw new NotSupportedException("L1L2Penalty has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void L1L2Gradient(DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, float l1, float l2) =>
        throw new NotSupportedException("L1L2Gradient has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void BatchNormTraining(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> gamma, DeviceBuffer<float> beta, DeviceBuffer<float> y, DeviceBuffer<float> savedMean, DeviceBuffer<float> savedInvStd, DeviceBuffer<float> runningMean, DeviceBuffer<float> runningVariance, float momentum, float epsilon) =>
        throw new NotSupportedException("BatchNormTraining has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void BatchNormInference(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> gamma, DeviceBuffer<float> beta, DeviceBuffer<float> runningMean, DeviceBuffer<float> runningVariance, float epsilon, DeviceBuffer<float> y) =>
        throw new NotSupportedException("BatchNormInference has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void BatchNormBackward(DeviceBuffer<float> x, DeviceBuffer<float> gradOutput, int rows, int cols, DeviceBuffer<float> gamma, DeviceBuffer<float> savedMean, DeviceBuffer<float> savedInvStd, DeviceBuffer<float>? gradInput, DeviceBuffer<float> gradGamma, DeviceBuffer<float> gradBeta, bool accumulateInput, bool accumulateParameters) =>
        throw new NotSupportedException("BatchNormBackward has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void Maxout(DeviceBuffer<float> x, int rows, int units, int pieces, DeviceBuffer<float> y, DeviceBuffer<int> argMax) =>
        throw new NotSupportedException("Maxout has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void MaxoutBackward(DeviceBuffer<float> gradOutput, DeviceBuffer<int> argMax, int rows, int units, int pieces, DeviceBuffer<float> gradInput, bool accumulate) =>
        throw new NotSupportedException("MaxoutBackward has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void OptimizerUpdate(OptimizerStep step, DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, DeviceBuffer<float>? state1, DeviceBuffer<float>? state2, int count) =>
        throw new NotSupportedException("OptimizerUpdate has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

    public void AugmentImages(DeviceBuffer<float> source, DeviceBuffer<float> destination, int rows, int height, int width, AugmentationSettings settings, ulong seed, ulong step) =>
        throw new NotSupportedException("AugmentImages has no ILGPU kernel yet; use the CPU backend (--device cpu) for it.");

}

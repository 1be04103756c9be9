using GpuNet.Backends;

namespace GpuNet.Graph;

/// <summary>
/// Mean sparse categorical cross-entropy of softmax(logits) against integer labels, fused:
/// L = (1/B) sum_r -log softmax(x_r)[y_r].
/// </summary>
/// <remarks>
/// Backward: dL/dx = (softmax(x) - onehot(y)) / B, written by the same kernel as the forward pass.
/// The loss sum and (optionally) the count of correct predictions accumulate on the device in
/// <see cref="LossSum"/> and <see cref="Correct"/>: read them once per epoch, not per step.
/// </remarks>
public sealed class SoftmaxCrossEntropyLoss : Node, IDisposable
{
    public SoftmaxCrossEntropyLoss(ComputationGraph graph, Tensor logits)
    {
        Logits = logits;
        var backend = graph.Backend;
        Labels = backend.Allocate<int>(graph.BatchCapacity);
        LossSum = backend.Allocate<float>(1);
        Correct = backend.Allocate<int>(1);
        Output = graph.CreateTensor("softmax/output", logits.Cols, requiresGrad: false);
    }

    public Tensor Logits { get; }

    /// <summary>The batch's labels (BatchCapacity ints); fill before <see cref="ComputationGraph.Forward"/>.</summary>
    public DeviceBuffer<int> Labels { get; }

    /// <summary>Sum over all rows seen since the last reset of -log p[label].</summary>
    public DeviceBuffer<float> LossSum { get; }

    /// <summary>Number of rows since the last reset whose argmax equals the label.</summary>
    public DeviceBuffer<int> Correct { get; }

    public override void Forward(StepContext ctx)
    {
        int b = ctx.Rows, c = Logits.Cols;
        // In training the gradient is written here, in the same pass; backward only marks it as present.
        var grad = ctx.Training ? Logits.Grad : null;
        ctx.Backend.SoftmaxCrossEntropy(Logits.Value, Labels, b, c, Output.Value, grad, 1f / b, LossSum);
        ctx.Backend.CountCorrect(Output.Value, Labels, b, c, Correct);
    }

    public override void Backward(StepContext ctx)
    {
        if (Logits.Grad is null) return;
        if (ctx.Accumulate(Logits))
            throw new InvalidOperationException("The fused softmax cross-entropy must be the only consumer of its logits.");
    }

    /// <summary>Zeroes the loss and correct-count accumulators (device-side, no sync).</summary>
    public void ResetMetrics()
    {
        Logits.Value.Backend.Fill(LossSum, 0f);
        Logits.Value.Backend.Fill(Correct, 0);
    }

    public void Dispose()
    {
        Labels.Dispose();
        LossSum.Dispose();
        Correct.Dispose();
    }
}

using GpuNet.Backends;

namespace GpuNet.Graph;

/// <summary>How a loss compares predictions with the truth.</summary>
public enum TargetKind
{
    /// <summary>Integer class labels (sparse categorical cross-entropy).</summary>
    Labels,
    /// <summary>A float target per output (one-hot rows, 0/1 values, or regression values).</summary>
    Dense,
}

/// <summary>
/// The last node of a training graph: compares its input with the batch's targets, accumulates the
/// summed loss and the count of correct predictions on the device, and writes the input gradient of
/// the batch-mean loss. Read <see cref="LossSum"/> and <see cref="Correct"/> once per epoch.
/// </summary>
public abstract class LossNode : Node, IDisposable
{
    /// <summary>Its sums over the batch rows are weighted by the step's row weights, so padding rows add nothing.</summary>
    public override bool HandlesPaddedRows => true;

    protected LossNode(ComputationGraph graph, Tensor input, TargetKind targetKind)
    {
        Input = input;
        TargetKind = targetKind;
        var backend = graph.Backend;
        Labels = backend.Allocate<int>(graph.BatchCapacity);
        Targets = targetKind == TargetKind.Dense ? backend.Allocate<float>(graph.BatchCapacity * input.Cols) : null;
        LossSum = backend.Allocate<float>(1);
        Correct = backend.Allocate<int>(1);
    }

    /// <summary>A loss with dense targets that live in a graph tensor (<paramref name="targets"/>, batch x input width),
    /// which the loss's own operations read (<see cref="GraphLossNode"/>); the graph owns its buffer.</summary>
    protected LossNode(ComputationGraph graph, Tensor input, Tensor targets)
    {
        if (!targets.FollowsBatch || targets.Cols != input.Cols)
            throw new ArgumentException($"The targets '{targets.Name}' must be a batch x {input.Cols} tensor like '{input.Name}'.", nameof(targets));
        Input = input;
        TargetKind = TargetKind.Dense;
        Labels = graph.Backend.Allocate<int>(graph.BatchCapacity);
        Targets = targets.Value;
        _ownsTargets = false;
        LossSum = graph.Backend.Allocate<float>(1);
        Correct = graph.Backend.Allocate<int>(1);
    }

    private readonly bool _ownsTargets = true;

    public Tensor Input { get; }

    public TargetKind TargetKind { get; }

    /// <summary>The batch's class labels (always present: accuracy is counted from them).</summary>
    public DeviceBuffer<int> Labels { get; }

    /// <summary>The batch's dense targets, rows x Input.Cols (null for <see cref="TargetKind.Labels"/>).</summary>
    public DeviceBuffer<float>? Targets { get; }

    /// <summary>Summed loss since the last reset (divide by <see cref="LossDivisor"/> for the mean).</summary>
    public DeviceBuffer<float> LossSum { get; }

    /// <summary>Correct predictions since the last reset.</summary>
    public DeviceBuffer<int> Correct { get; }

    /// <summary>False when accuracy means nothing (regression with MSE).</summary>
    public bool CountsAccuracy { get; init; } = true;

    /// <summary>What the model outputs at inference (probabilities, or the input itself).</summary>
    public abstract Tensor Prediction { get; }

    /// <summary>Elements per sample the loss is averaged over (1 for cross-entropy summed over classes, the output width for MSE and BCE).</summary>
    public virtual int ElementsPerSample => 1;

    /// <summary>The divisor that turns <see cref="LossSum"/> over <paramref name="samples"/> samples into the mean loss.</summary>
    public double LossDivisor(int samples) => (double)samples * ElementsPerSample;

    /// <summary>The gradient scale for a batch of <paramref name="rows"/>: 1 / (rows * elements per sample).</summary>
    protected float GradScale(int rows) => 1f / (rows * ElementsPerSample);

    /// <summary>
    /// The gradient scale of this step: 1 / (rows x elements per sample), or on a padded step 1 / elements per sample, the
    /// 1 / rows coming from the row weights on the device (so the argument is the same every step).
    /// </summary>
    protected float GradScale(StepContext ctx) => ctx.RowWeights is null ? GradScale(ctx.Rows) : GradScale(1);

    /// <summary>Zeroes the loss and correct-count accumulators (device-side, no sync).</summary>
    public void ResetMetrics()
    {
        Input.Value.Backend.Fill(LossSum, 0f);
        Input.Value.Backend.Fill(Correct, 0);
    }

    /// <summary>
    /// Whether the data has several labels per sample (multi-label targets): accuracy then counts every (sample, output)
    /// pair on its own against the dense targets, p &gt; 0.5 against t &gt; 0.5 (Keras' binary accuracy), and
    /// <see cref="Correct"/> runs to samples x outputs. Set between steps, for the data the next steps see.
    /// </summary>
    public bool MultiLabel { get; set; }

    /// <summary>What <see cref="Correct"/> is counted out of for <paramref name="samples"/> samples.</summary>
    public long AccuracyDivisor(int samples) => MultiLabel ? (long)samples * Input.Cols : samples;

    /// <summary>Counts correct predictions on probabilities: argmax for several outputs, a 0.5 threshold for one, each
    /// output against its target for <see cref="MultiLabel"/> data.</summary>
    protected void CountCorrect(StepContext ctx, Tensor scores)
    {
        if (!CountsAccuracy) return;
        var weights = ctx.RowWeights;
        if (MultiLabel && Targets is not null)
            ctx.Backend.CountCorrectMultiLabel(scores.Value, Targets, ctx.Rows * scores.Cols, 0.5f, Correct, weights, scores.Cols);
        else if (scores.Cols == 1) ctx.Backend.CountCorrectBinary(scores.Value, Labels, ctx.Rows, 0.5f, Correct, weights);
        else ctx.Backend.CountCorrect(scores.Value, Labels, ctx.Rows, scores.Cols, Correct, weights);
    }

    public override void Backward(StepContext ctx)
    {
        // Fused losses write their gradient in Forward (same kernel); here it is only marked as present.
        if (Input.Grad is not null && ctx.Accumulate(Input))
            throw new InvalidOperationException($"The loss must be the only consumer of '{Input.Name}'.");
    }

    public void Dispose()
    {
        Labels.Dispose();
        if (_ownsTargets) Targets?.Dispose();
        LossSum.Dispose();
        Correct.Dispose();
    }
}

/// <summary>
/// Fused softmax + sparse categorical cross-entropy on logits with integer labels:
/// L = (1/B) sum_r -log softmax(x_r)[y_r], dL/dx = (softmax(x) - onehot(y)) / B.
/// </summary>
public sealed class SoftmaxCrossEntropyLoss : LossNode
{
    public SoftmaxCrossEntropyLoss(ComputationGraph graph, Tensor logits) : base(graph, logits, TargetKind.Labels) =>
        Output = graph.CreateTensor("softmax/output", logits.Cols, requiresGrad: false);

    public override Tensor Prediction => Output;

    public override void Forward(StepContext ctx)
    {
        int b = ctx.Rows;
        ctx.Backend.SoftmaxCrossEntropy(Input.Value, Labels, b, Input.Cols, Output.Value, ctx.Training ? Input.Grad : null, GradScale(ctx), LossSum,
            ctx.RowWeights);
        CountCorrect(ctx, Output);
    }
}

/// <summary>
/// Fused softmax + categorical cross-entropy with one-hot (or soft) targets:
/// L = (1/B) sum_r -sum_c t[r,c] log softmax(x_r)[c], dL/dx = (p - t) / B for targets summing to 1.
/// </summary>
public sealed class SoftmaxCrossEntropyDenseLoss : LossNode
{
    public SoftmaxCrossEntropyDenseLoss(ComputationGraph graph, Tensor logits) : base(graph, logits, TargetKind.Dense) =>
        Output = graph.CreateTensor("softmax/output", logits.Cols, requiresGrad: false);

    public override Tensor Prediction => Output;

    public override void Forward(StepContext ctx)
    {
        int b = ctx.Rows;
        ctx.Backend.SoftmaxCrossEntropyDense(Input.Value, Targets!, b, Input.Cols, Output.Value, ctx.Training ? Input.Grad : null, GradScale(ctx),
            LossSum, ctx.RowWeights);
        CountCorrect(ctx, Output);
    }
}

/// <summary>
/// Fused sigmoid + binary cross-entropy on logits, averaged over every output:
/// L = mean -(t log s(x) + (1 - t) log(1 - s(x))) computed as max(x,0) - x t + log(1 + e^-|x|);
/// dL/dx = (s(x) - t) / (B C).
/// </summary>
public sealed class SigmoidCrossEntropyLoss : LossNode
{
    public SigmoidCrossEntropyLoss(ComputationGraph graph, Tensor logits) : base(graph, logits, TargetKind.Dense) =>
        Output = graph.CreateTensor("sigmoid/output", logits.Cols, requiresGrad: false);

    public override Tensor Prediction => Output;

    public override int ElementsPerSample => Input.Cols;

    public override void Forward(StepContext ctx)
    {
        int b = ctx.Rows;
        ctx.Backend.SigmoidCrossEntropy(Input.Value, Targets!, b * Input.Cols, Output.Value, ctx.Training ? Input.Grad : null, GradScale(ctx),
            LossSum, ctx.RowWeights, Input.Cols);
        CountCorrect(ctx, Output);
    }
}

/// <summary>Which cross-entropy <see cref="ProbabilityCrossEntropyLoss"/> computes.</summary>
public enum ProbabilityLossKind
{
    /// <summary>-sum_c t_c log p_c per sample (categorical and sparse categorical).</summary>
    Categorical,
    /// <summary>-(t log p + (1 - t) log(1 - p)) per output, averaged over outputs.</summary>
    Binary,
}

/// <summary>
/// Cross-entropy of probabilities produced by any layer (not fused), with p clipped to [eps, 1 - eps] as Keras does.
/// </summary>
public sealed class ProbabilityCrossEntropyLoss : LossNode
{
    public ProbabilityCrossEntropyLoss(ComputationGraph graph, Tensor probabilities, ProbabilityLossKind kind, float epsilon = 1e-7f)
        : base(graph, probabilities, TargetKind.Dense)
    {
        Kind = kind;
        Epsilon = epsilon;
        Output = probabilities;
    }

    public ProbabilityLossKind Kind { get; }
    public float Epsilon { get; }

    public override Tensor Prediction => Input;

    public override int ElementsPerSample => Kind == ProbabilityLossKind.Binary ? Input.Cols : 1;

    public override void Forward(StepContext ctx)
    {
        int b = ctx.Rows, n = b * Input.Cols;
        var grad = ctx.Training ? Input.Grad : null;
        if (Kind == ProbabilityLossKind.Binary)
            ctx.Backend.BinaryCrossEntropyFromProbabilities(Input.Value, Targets!, n, Epsilon, grad, GradScale(ctx), LossSum, ctx.RowWeights, Input.Cols);
        else
            ctx.Backend.CrossEntropyFromProbabilities(Input.Value, Targets!, n, Epsilon, grad, GradScale(ctx), LossSum, ctx.RowWeights, Input.Cols);
        CountCorrect(ctx, Input);
    }
}

/// <summary>Mean squared error over every output: L = mean (p - t)^2, dL/dp = 2 (p - t) / (B C).</summary>
public sealed class MeanSquaredErrorLoss : LossNode
{
    public MeanSquaredErrorLoss(ComputationGraph graph, Tensor predictions) : base(graph, predictions, TargetKind.Dense) =>
        Output = predictions;

    public override Tensor Prediction => Input;

    public override int ElementsPerSample => Input.Cols;

    public override void Forward(StepContext ctx)
    {
        int b = ctx.Rows;
        ctx.Backend.MeanSquaredError(Input.Value, Targets!, b * Input.Cols, ctx.Training ? Input.Grad : null, GradScale(ctx), LossSum,
            ctx.RowWeights, Input.Cols);
        CountCorrect(ctx, Input);
    }
}

/// <summary>
/// A loss written as graph operations (a user-written <c>Loss</c>): <see cref="Loss"/> is a tensor computed from the
/// targets tensor and the model's output by nodes added before this one. It is either batch x K (per-sample or
/// per-element losses, averaged over all of them) or a fixed 1 x 1 tensor (the batch's mean loss already).
/// </summary>
/// <remarks>
/// Forward adds the batch's summed loss to <see cref="LossNode.LossSum"/> (one GEMM with a vector of ones; a 1 x 1
/// mean is multiplied by the rows) and counts correct predictions; backward seeds d(mean loss)/d(loss tensor) =
/// 1 / (rows K), or 1 for a 1 x 1 mean, and the autograd rules of the loss's nodes carry it to the output's gradient.
/// No allocation per step.
/// </remarks>
public sealed class GraphLossNode : LossNode
{
    private readonly DeviceBuffer<float> _ones, _weighted;

    /// <param name="graph">The model's graph.</param>
    /// <param name="predictions">The model's output (y_pred).</param>
    /// <param name="targets">The y_true tensor the loss's operations read: batch x the output's width, without a gradient.</param>
    /// <param name="loss">The loss tensor computed from them: batch x K, or 1 x 1.</param>
    /// <exception cref="ArgumentException"><paramref name="loss"/> has another shape, or does not depend on <paramref name="predictions"/>.</exception>
    public GraphLossNode(ComputationGraph graph, Tensor predictions, Tensor targets, Tensor loss) : base(graph, predictions, targets)
    {
        if (!loss.FollowsBatch && (loss.MaxRows != 1 || loss.Cols != 1))
            throw new ArgumentException(
                $"A loss must compute a batch x K tensor (one loss per sample or per output) or a 1 x 1 mean; '{loss.Name}' is {BroadcastNode.Describe(loss)}.", nameof(loss));
        if (!loss.RequiresGrad)
            throw new ArgumentException($"The loss '{loss.Name}' does not depend on the predictions (y_pred), so it has no gradient to train with.", nameof(loss));
        Loss = loss;
        Output = predictions;
        _ones = graph.CreateBuffer(loss.MaxRows * loss.Cols, 1f);
        _weighted = graph.CreateBuffer(loss.FollowsBatch ? loss.MaxRows * loss.Cols : 1);
    }

    /// <summary>The loss tensor the node averages and differentiates.</summary>
    public Tensor Loss { get; }

    public override Tensor Prediction => Input;

    public override int ElementsPerSample => Loss.FollowsBatch ? Loss.Cols : 1;

    public override void Forward(StepContext ctx)
    {
        var backend = ctx.Backend;
        if (Loss.FollowsBatch)
        {
            var losses = Loss.Value;
            if (ctx.LossWeights is { } weights)
            {
                // a padded step: the real rows' losses only (padding rows exactly 0, whatever they hold)
                backend.Zip(new ElementOps.Weighted(), Loss.Value, weights, _weighted, ctx.Rows, Loss.Cols, Broadcast.Columns, false);
                losses = _weighted;
            }
            backend.Gemm(false, false, 1, 1, Loss.ActiveCount(ctx), 1f, losses, _ones, 1f, LossSum); // LossSum += sum of the losses
        }
        else if (ctx.ActiveRowCount is { } count)
            backend.Gemm(false, false, 1, 1, 1, 1f, Loss.Value, count, 1f, LossSum); // LossSum += mean x the real rows (on the device)
        else
            backend.Gemm(false, false, 1, 1, 1, ctx.Rows, Loss.Value, _ones, 1f, LossSum); // LossSum += rows x mean
        CountCorrect(ctx, Input);
    }

    public override void Backward(StepContext ctx)
    {
        if (Loss.FollowsBatch && ctx.GradientWeights is { } weights)
            // d(mean)/d(loss[r, c]) = 1 / (A K) for a real row, 0 for padding: the gradient weights (1 / A) times 1 / K
            ctx.Backend.Gemm(false, false, ctx.Rows, Loss.Cols, 1, 1f / Loss.Cols, weights, _ones, 0f, Loss.Grad!);
        else
            ctx.Backend.Fill(Loss.Grad!, Loss.FollowsBatch ? GradScale(ctx.Rows) : 1f);
        ctx.Accumulate(Loss);
    }
}

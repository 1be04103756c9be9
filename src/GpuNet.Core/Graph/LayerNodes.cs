using GpuNet.Backends;

namespace GpuNet.Graph;

/// <summary>
/// Inverted dropout: in training each element is kept with probability 1 - rate and scaled by
/// 1 / (1 - rate) (so the expected value is unchanged), else zeroed; in inference Y = X.
/// </summary>
/// <remarks>Backward: dX = dY * mask (the same mask, stored in forward). The mask comes from Philox
/// keyed by (seed, step, layer), so a run is reproducible and CPU and GPU drop the same units. The step is read on
/// the device from the graph's <see cref="StepValues"/>, so the launch is the same every step.</remarks>
public sealed class DropoutNode : Node
{
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

    private readonly DeviceBuffer<float> _mask;
    private readonly uint _purpose;
    private readonly StepValues _values;
    private bool _maskValid;

    public DropoutNode(ComputationGraph graph, string name, Tensor input, float rate, ulong seed, uint purpose)
    {
        if (!(rate >= 0 && rate < 1))
            throw new ArgumentOutOfRangeException(nameof(rate), rate, $"Dropout rate must be in [0, 1); received rate={rate}. Typical values are 0.2 to 0.5.");
        Input = input;
        Rate = rate;
        Seed = seed;
        _purpose = purpose;
        _values = graph.StepValues;
        Output = graph.CreateTensorLike($"{name}/output", input); // the input's shape: dropout is element-wise
        _mask = graph.CreateTensor($"{name}/mask", input.Cols, requiresGrad: false).Value;
    }

    public Tensor Input { get; }
    public float Rate { get; }
    public ulong Seed { get; }

    /// <summary>The graph's training step counter (<see cref="StepValues.Step"/>, shared by every dropout node), so every
    /// step draws a new mask. Set it back to redraw the mask of an earlier step (e.g. to check gradients).</summary>
    public ulong Step
    {
        get => _values.Step;
        set => _values.Step = value;
    }

    public override void Forward(StepContext ctx)
    {
        int n = ctx.Rows * Input.Cols;
        _maskValid = ctx.Training && Rate > 0;
        if (_maskValid) ctx.Backend.Dropout(Input.Value, Output.Value, _mask, n, Rate, Seed, _purpose, _values.Buffer, StepValues.StepIndex);
        else ctx.Backend.Activation(ActivationKind.Linear, 0f, Input.Value, Output.Value, n); // identity: a copy of n elements
    }

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output) || Input.Grad is null) return;
        int n = ctx.Rows * Input.Cols;
        bool acc = ctx.Accumulate(Input);
        if (_maskValid) ctx.Backend.Multiply(Output.Grad!, _mask, Input.Grad, n, acc);
        else ctx.Backend.ActivationBackward(ActivationKind.Linear, 0f, Input.Value, Output.Value, Output.Grad!, Input.Grad, n, acc);
    }
}

/// <summary>
/// Batch normalization over the batch rows, per feature of the sample's last axis (Keras' axis=-1: a (steps, features)
/// sample is normalized per feature over the batch and the steps): in training y = gamma (x - mean_B) / sqrt(var_B + eps) + beta
/// with the batch's statistics, and moving averages updated as m = momentum m + (1 - momentum) stat;
/// in inference the moving averages are used instead.
/// </summary>
public sealed class BatchNormNode : Node
{
    /// <summary>Its sums over the batch rows are weighted by the step's row weights, so padding rows add nothing.</summary>
    public override bool HandlesPaddedRows => true;

    private readonly DeviceBuffer<float> _savedMean, _savedInvStd;

    // for a sample of several rows of features: the step's row weights repeated for each of a sample's rows (the loss row,
    // then the gradient row divided by the rows per sample: the statistics average A x RowsPerSample rows), and ones to repeat with
    private readonly DeviceBuffer<float>? _rowWeights, _lossWeights, _gradientWeights, _ones;

    public BatchNormNode(ComputationGraph graph, string name, Tensor input, float momentum, float epsilon)
    {
        if (!(momentum >= 0 && momentum < 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"BatchNormalization momentum must be in [0, 1); received momentum={momentum}. Keras uses 0.99.");
        if (!(epsilon > 0))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"BatchNormalization epsilon must be positive; received epsilon={epsilon}. Keras uses 0.001.");
        Input = input;
        Momentum = momentum;
        Epsilon = epsilon;
        int features = Features = input.Shape.Last;
        RowsPerSample = input.Cols / features;
        Gamma = graph.CreateParameter($"{name}/gamma", 1, features);
        Beta = graph.CreateParameter($"{name}/beta", 1, features);
        RunningMean = graph.CreateState($"{name}/moving_mean", features);
        RunningVariance = graph.CreateState($"{name}/moving_variance", features);
        _savedMean = graph.CreateState($"{name}/batch_mean", features);
        _savedInvStd = graph.CreateState($"{name}/batch_inv_std", features);
        _inferenceScale = graph.CreateBuffer(features);
        Output = graph.CreateTensorLike($"{name}/output", input);
        if (RowsPerSample > 1 && input.FollowsBatch)
        {
            int rows = graph.BatchCapacity * RowsPerSample;
            _rowWeights = graph.CreateBuffer(2 * rows);
            _lossWeights = _rowWeights.Slice(0, rows);
            _gradientWeights = _rowWeights.Slice(rows, rows);
            _ones = graph.CreateBuffer(RowsPerSample, 1f);
        }
    }

    /// <summary>Features normalized: the size of the sample's last axis.</summary>
    public int Features { get; }

    /// <summary>Rows of <see cref="Features"/> per sample (1 for a flat sample, 28 for a 28 x 28 image): each is one more row of the statistics.</summary>
    public int RowsPerSample { get; }

    // The row weights for RowsPerSample rows per sample (null when not padded): each sample's weights repeated.
    private DeviceBuffer<float>? RowWeights(StepContext ctx)
    {
        if (ctx.RowWeights is null || _rowWeights is null) return ctx.RowWeights;
        ctx.Backend.Gemm(false, false, ctx.Rows, RowsPerSample, 1, 1f, ctx.LossWeights!, _ones!, 0f, _lossWeights!);
        ctx.Backend.Gemm(false, false, ctx.Rows, RowsPerSample, 1, 1f / RowsPerSample, ctx.GradientWeights!, _ones!, 0f, _gradientWeights!);
        return _rowWeights;
    }

    private readonly DeviceBuffer<float> _inferenceScale;

    /// <summary>
    /// Whether training steps normalize with the moving statistics instead of the batch's and leave them unchanged (Keras
    /// runs a frozen BatchNormalization in inference mode). The training forward then equals the inference forward, and
    /// backward passes dx = dy gamma / sqrt(moving_variance + epsilon), the derivative of that fixed affine map. Set it
    /// between steps with <see cref="SetInferenceMode"/>, which reads gamma and the moving variance once.
    /// </summary>
    public bool InferenceMode { get; private set; }

    /// <summary>Switches <see cref="InferenceMode"/>; turning it on takes gamma and the moving variance as they are now (one download).</summary>
    public void SetInferenceMode(IBackend backend, bool on)
    {
        InferenceMode = on;
        if (!on) return;
        var gamma = new float[Features];
        var variance = new float[Features];
        backend.Download(Gamma.Value, gamma);
        backend.Download(RunningVariance, variance);
        for (int c = 0; c < gamma.Length; c++) gamma[c] /= MathF.Sqrt(variance[c] + Epsilon);
        backend.Upload<float>(gamma, _inferenceScale);
        // backward no longer writes these: zero them, so no stale gradient reaches a global norm or an optimizer's state
        backend.Fill(Gamma.Grad, 0f);
        backend.Fill(Beta.Grad, 0f);
    }

    public Tensor Input { get; }
    public float Momentum { get; }
    public float Epsilon { get; }
    public Parameter Gamma { get; }
    public Parameter Beta { get; }
    public DeviceBuffer<float> RunningMean { get; }
    public DeviceBuffer<float> RunningVariance { get; }

    public override IEnumerable<Parameter> Parameters => [Gamma, Beta];

    public override void Forward(StepContext ctx)
    {
        int rows = Input.ActiveRows(ctx) * RowsPerSample;
        if (ctx.Training && !InferenceMode)
            ctx.Backend.BatchNormTraining(Input.Value, rows, Features, Gamma.Value, Beta.Value, Output.Value,
                _savedMean, _savedInvStd, RunningMean, RunningVariance, Momentum, Epsilon, RowWeights(ctx));
        else
            ctx.Backend.BatchNormInference(Input.Value, rows, Features, Gamma.Value, Beta.Value,
                RunningMean, RunningVariance, Epsilon, Output.Value);
    }

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output)) return;
        if (InferenceMode)
        {
            // y = x scale + shift with fixed scale and shift: gamma and beta are frozen, so only dx
            if (Input.Grad is not null)
                ctx.Backend.ColumnAffine(Output.Grad!, _inferenceScale, null, Input.Grad, Input.ActiveRows(ctx) * RowsPerSample, Features,
                    ctx.Accumulate(Input));
            return;
        }
        bool accParams = ctx.Accumulate(Gamma);
        ctx.Accumulate(Beta);
        // the row weights the forward pass repeated for this step (a padded step), or the step's own
        var weights = ctx.RowWeights is null || _rowWeights is null ? ctx.RowWeights : _rowWeights;
        ctx.Backend.BatchNormBackward(Input.Value, Output.Grad!, Input.ActiveRows(ctx) * RowsPerSample, Features, Gamma.Value, _savedMean,
            _savedInvStd, Input.Grad, Gamma.Grad, Beta.Grad, Input.Grad is not null && ctx.Accumulate(Input), accParams, weights);
    }
}

/// <summary>A fixed per-feature affine map y = x scale + shift (the Normalization layer after Adapt); no parameters train.</summary>
public sealed class ColumnAffineNode : Node
{
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

    public ColumnAffineNode(ComputationGraph graph, string name, Tensor input)
    {
        Input = input;
        ScaleBuffer = graph.CreateState($"{name}/scale", input.Cols, initialValue: 1f);
        ShiftBuffer = graph.CreateState($"{name}/shift", input.Cols);
        Output = graph.CreateTensor($"{name}/output", input.Cols);
    }

    public Tensor Input { get; }
    public DeviceBuffer<float> ScaleBuffer { get; }
    public DeviceBuffer<float> ShiftBuffer { get; }

    public override void Forward(StepContext ctx) =>
        ctx.Backend.ColumnAffine(Input.Value, ScaleBuffer, ShiftBuffer, Output.Value, ctx.Rows, Input.Cols, accumulate: false);

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output) || Input.Grad is null) return;
        // dx = dy * scale (the shift has no effect on the gradient)
        ctx.Backend.ColumnAffine(Output.Grad!, ScaleBuffer, null, Input.Grad, ctx.Rows, Input.Cols, ctx.Accumulate(Input));
    }
}

/// <summary>
/// Maxout (Goodfellow et al. 2013): the input holds units x pieces linear pieces per row,
/// y[r, u] = max_k x[r, u pieces + k]. Backward routes dy to the winning piece only.
/// </summary>
public sealed class MaxoutNode : Node
{
    /// <summary>Row by row: padding rows change nothing for the real ones.</summary>
    public override bool HandlesPaddedRows => true;

    private readonly DeviceBuffer<int> _argMax;

    public MaxoutNode(ComputationGraph graph, string name, Tensor input, int pieces)
    {
        if (pieces < 2 || input.Cols % pieces != 0)
            throw new ArgumentException($"Maxout needs at least 2 pieces dividing its input width {input.Cols}; received pieces={pieces}.", nameof(pieces));
        Input = input;
        Pieces = pieces;
        Output = graph.CreateTensor($"{name}/output", input.Cols / pieces);
        _argMax = graph.CreateIntBuffer(graph.BatchCapacity * Output.Cols);
    }

    public Tensor Input { get; }
    public int Pieces { get; }

    public override void Forward(StepContext ctx) =>
        ctx.Backend.Maxout(Input.Value, ctx.Rows, Output.Cols, Pieces, Output.Value, _argMax);

    public override void Backward(StepContext ctx)
    {
        if (!ctx.HasGradient(Output) || Input.Grad is null) return;
        ctx.Backend.MaxoutBackward(Output.Grad!, _argMax, ctx.Rows, Output.Cols, Pieces, Input.Grad, ctx.Accumulate(Input));
    }
}

/// <summary>
/// Adds L1/L2 penalties of weight matrices to the loss (Keras' kernel_regularizer):
/// penalty = l1 sum |w| + l2 sum w^2, gradient l1 sign(w) + 2 l2 w.
/// </summary>
/// <remarks>
/// Placed first in the graph, so its backward runs last, adding to gradients the layers already wrote.
/// The penalty enters the loss sum once per sample (scaled by the batch rows) so the reported mean loss
/// is mean(data loss) + penalty, as Keras reports it.
/// </remarks>
public sealed class RegularizationNode : Node
{
    /// <summary>Its sums over the batch rows are weighted by the step's row weights, so padding rows add nothing.</summary>
    public override bool HandlesPaddedRows => true;

    private readonly List<(Parameter Parameter, float L1, float L2)> _terms = [];
    private readonly DeviceBuffer<float> _penalty;
    private DeviceBuffer<float>? _lossSum;

    public RegularizationNode(ComputationGraph graph)
    {
        Output = graph.CreateTensor("regularization", 1, requiresGrad: false);
        _penalty = graph.CreateBuffer(1);
    }

    public IReadOnlyList<(Parameter Parameter, float L1, float L2)> Terms => _terms;

    public void Add(Parameter parameter, float l1, float l2)
    {
        if (!(l1 >= 0 && float.IsFinite(l1)) || !(l2 >= 0 && float.IsFinite(l2)))
            throw new ArgumentOutOfRangeException(nameof(l1), $"Regularization factors must be finite and >= 0; received l1={l1}, l2={l2}. Typical values are 1e-4 to 1e-2.");
        if (l1 > 0 || l2 > 0) _terms.Add((parameter, l1, l2));
    }

    /// <summary>The loss accumulator the penalties are added to.</summary>
    public void AttachLoss(DeviceBuffer<float> lossSum) => _lossSum = lossSum;

    public override void Forward(StepContext ctx)
    {
        if (_lossSum is null || _terms.Count == 0) return;
        if (ctx.ActiveRowCount is { } count)
        {
            // a padded step: the penalty times the real rows, read on the device (the same launches every step)
            ctx.Backend.Fill(_penalty, 0f);
            foreach (var (p, l1, l2) in _terms) ctx.Backend.L1L2Penalty(p.Value, p.Count, l1, l2, _penalty);
            ctx.Backend.Gemm(false, false, 1, 1, 1, 1f, _penalty, count, 1f, _lossSum);
            return;
        }
        foreach (var (p, l1, l2) in _terms)
            ctx.Backend.L1L2Penalty(p.Value, p.Count, l1 * ctx.Rows, l2 * ctx.Rows, _lossSum);
    }

    public override void Backward(StepContext ctx)
    {
        foreach (var (p, l1, l2) in _terms)
        {
            if (!ctx.Accumulate(p)) ctx.Backend.Fill(p.Grad, 0f); // no data gradient reached it this step
            ctx.Backend.L1L2Gradient(p.Value, p.Grad, p.Count, l1, l2);
        }
    }
}

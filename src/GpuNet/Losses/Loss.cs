using System.Text.Json.Nodes;
using GpuNet.Backends;
using GpuNet.Graph;
using GpuNet.Layers;

namespace GpuNet.Losses;

/// <summary>
/// A training loss, as in Keras. The model asks <see cref="FusesWith"/> whether the loss takes over the
/// last layer's activation (softmax or sigmoid fused with cross-entropy, for speed and stability) and
/// then builds the graph node with <see cref="CreateNode"/>.
/// </summary>
/// <remarks>
/// To write your own loss (Keras' subclassed <c>Loss</c>), derive from this class and override <see cref="Name"/> and
/// <see cref="Call"/>: the loss of the targets and predictions written with the graph's differentiable operations.
/// Autograd differentiates it, Fit trains with it, <see cref="Compute"/> evaluates it; register it with
/// <see cref="CustomObjects.RegisterLoss"/> for saved models to load. The built-in losses are fused kernels instead.
/// </remarks>
public abstract partial class Loss
{
    /// <summary>Keras' name, e.g. "binary_crossentropy".</summary>
    public abstract string Name { get; }

    /// <summary>True when the loss applies <paramref name="lastActivation"/> itself (the layer then outputs logits).
    /// False for a loss written with <see cref="Call"/>.</summary>
    public virtual bool FusesWith(Activation lastActivation) => false;

    /// <summary>Builds the loss node on the model's output (logits when fused). By default, a <see cref="GraphLossNode"/>
    /// on the nodes <see cref="Call"/> adds for a y_true tensor of the output's width and the output.</summary>
    public virtual LossNode CreateNode(ComputationGraph graph, Tensor output, Activation lastActivation)
    {
        var yTrue = graph.CreateTensor("y_true", output.Cols, requiresGrad: false);
        var loss = Call(graph, yTrue, output) ?? throw new InvalidOperationException($"Loss '{Name}': Call returned null; return the loss tensor.");
        return new GraphLossNode(graph, output, yTrue, loss);
    }

    /// <summary>
    /// The loss of <paramref name="yPred"/> (batch x outputs: the model's output) against <paramref name="yTrue"/> (the
    /// same shape: regression targets, one-hot rows for class labels, or 0/1 for a single output), written with the
    /// graph's differentiable operations (Keras' <c>call(y_true, y_pred)</c>). Return either a batch x K tensor (a loss per
    /// sample, or per output: the training loss is the mean of all of them) or a 1 x 1 tensor (the batch's mean, e.g. from
    /// <see cref="ComputationGraph.Mean"/>).
    /// </summary>
    /// <remarks>It runs once, when the model's graph is built; its nodes then run every step without allocating.</remarks>
    /// <exception cref="NotSupportedException">Not overridden (a built-in loss's own node is used instead).</exception>
    protected virtual Tensor Call(ComputationGraph graph, Tensor yTrue, Tensor yPred) =>
        throw new NotSupportedException($"Loss type {GetType().Name} must override Call(graph, yTrue, yPred) (or CreateNode) to compute the loss.");

    /// <summary>The loss's settings for a saved model (Keras' <c>get_config</c>), given back to the factory registered with
    /// <see cref="CustomObjects.RegisterLoss"/>. Empty by default.</summary>
    public virtual JsonObject GetConfig() => [];

    /// <summary>
    /// True when the model's last layer outputs logits and the loss applies softmax or sigmoid itself
    /// (<c>fromLogits: true</c>); Predict then returns logits.
    /// </summary>
    public virtual bool FromLogits => false;

    /// <summary>Throws when the loss and the last activation cannot work together.</summary>
    public virtual void Validate(Activation lastActivation, string lastLayerName) { }

    /// <summary>
    /// The mean loss of predictions <paramref name="yPred"/> (probabilities, or values for MSE) against
    /// <paramref name="yTrue"/> (rows x cols), computed by the backend's kernels: for checking numbers by hand.
    /// </summary>
    /// <remarks>The default runs <see cref="Call"/> on a graph of <paramref name="rows"/> rows and returns the mean of its result.</remarks>
    public virtual float Compute(IBackend backend, float[] yTrue, float[] yPred, int rows, int cols)
    {
        if (yTrue.Length != rows * cols || yPred.Length != rows * cols)
            throw new ArgumentException($"y_true ({yTrue.Length} values) and y_pred ({yPred.Length}) must both be {rows} x {cols}.", nameof(yPred));
        using var graph = new ComputationGraph(backend, rows);
        var t = graph.CreateTensor("y_true", cols, requiresGrad: false);
        var p = graph.CreateTensor("y_pred", cols);
        var loss = Call(graph, t, p);
        graph.Seal();
        graph.Write(t, yTrue);
        graph.Write(p, yPred);
        graph.Forward(rows, training: false);
        var values = graph.Read(loss);
        return (float)values.Average(v => (double)v);
    }

    public override string ToString() => FromLogits ? $"{Name}(from_logits=True)" : Name;

    /// <summary>Runs one loss kernel on host arrays and returns lossSum / divisor.</summary>
    protected static float Evaluate(IBackend backend, float[] yTrue, float[] yPred, double divisor,
        Action<DeviceBuffer<float>, DeviceBuffer<float>, DeviceBuffer<float>> kernel)
    {
        if (yTrue.Length != yPred.Length)
            throw new ArgumentException($"y_true has {yTrue.Length} values but y_pred has {yPred.Length}; they must have the same shape.", nameof(yPred));
        using var t = backend.Allocate<float>(yTrue.Length);
        using var p = backend.Allocate<float>(yPred.Length);
        using var sum = backend.Allocate<float>(1);
        backend.Upload<float>(yTrue, t);
        backend.Upload<float>(yPred, p);
        kernel(t, p, sum);
        var host = new float[1];
        backend.Download(sum, host);
        return (float)(host[0] / divisor);
    }
}

/// <summary>
/// Sparse categorical cross-entropy: labels are class indices, L = -(1/B) sum_r log p[r, y_r].
/// </summary>
/// <remarks>
/// With <see cref="FromLogits"/> false (the Keras default) and a softmax output, GpuNet fuses softmax and
/// the loss into one max-subtracted kernel whose gradient is (p - onehot)/B: faster and stabler than
/// differentiating log(softmax). Other outputs are taken as probabilities and clipped to [1e-7, 1 - 1e-7].
/// With <see cref="FromLogits"/> true the last layer must be linear and the loss applies the softmax.
/// </remarks>
public sealed class SparseCategoricalCrossentropy(bool fromLogits = false) : Loss
{
    public override bool FromLogits { get; } = fromLogits;

    public override string Name => "sparse_categorical_crossentropy";

    public override bool FusesWith(Activation last) => FromLogits || last.IsSoftmax;

    public override void Validate(Activation last, string layer)
    {
        CategoricalCrossentropy.CheckLogits(FromLogits, last, layer);
        if (!FromLogits && !last.IsSoftmax && last.Kind != ActivationKind.Sigmoid)
            throw new ArgumentException(
                $"sparse_categorical_crossentropy expects probabilities, but the last layer '{layer}' ends in '{last.Name}'. " +
                "Give the last layer activation \"softmax\", or use new SparseCategoricalCrossentropy(fromLogits: true).", "loss");
    }

    public override LossNode CreateNode(ComputationGraph graph, Tensor output, Activation last) =>
        FusesWith(last) ? new SoftmaxCrossEntropyLoss(graph, output) : new ProbabilityCrossEntropyLoss(graph, output, ProbabilityLossKind.Categorical);

    /// <summary>Mean loss for integer labels (passed as floats: 0, 1, 2 ...) and rows of probabilities.</summary>
    public override float Compute(IBackend backend, float[] yTrue, float[] yPred, int rows, int cols)
    {
        var labels = yTrue.Select(v => (int)v).ToArray();
        if (labels.Length != rows) throw new ArgumentException($"Expected {rows} integer labels, got {labels.Length}.", nameof(yTrue));
        var oneHot = Data.Tabular.Encoding.ToCategorical(labels, cols);
        return new CategoricalCrossentropy().Compute(backend, oneHot, yPred, rows, cols);
    }
}

/// <summary>
/// Categorical cross-entropy with one-hot targets: L = -(1/B) sum_r sum_c t[r,c] log p[r,c].
/// Fused with a softmax output (or logits) exactly like <see cref="SparseCategoricalCrossentropy"/>.
/// </summary>
public sealed class CategoricalCrossentropy(bool fromLogits = false) : Loss
{
    public override bool FromLogits { get; } = fromLogits;

    public override string Name => "categorical_crossentropy";

    public override bool FusesWith(Activation last) => FromLogits || last.IsSoftmax;

    public override void Validate(Activation last, string layer) => CheckLogits(FromLogits, last, layer);

    internal static void CheckLogits(bool fromLogits, Activation last, string layer)
    {
        if (fromLogits && (last.Kind != ActivationKind.Linear || last.IsSoftmax || last.IsCustom))
            throw new ArgumentException(
                $"The loss was created with fromLogits: true, but the last layer '{layer}' applies '{last.Name}'. " +
                "Use a linear last layer (no activation) with fromLogits: true, or fromLogits: false with a softmax output.");
    }

    public override LossNode CreateNode(ComputationGraph graph, Tensor output, Activation last) =>
        FusesWith(last) ? new SoftmaxCrossEntropyDenseLoss(graph, output) : new ProbabilityCrossEntropyLoss(graph, output, ProbabilityLossKind.Categorical);

    public override float Compute(IBackend backend, float[] yTrue, float[] yPred, int rows, int cols) =>
        Evaluate(backend, yTrue, yPred, rows, (t, p, sum) => backend.CrossEntropyFromProbabilities(p, t, rows * cols, 1e-7f, null, 1f, sum));
}

/// <summary>
/// Binary cross-entropy, averaged over outputs and samples: L = -mean(t log p + (1 - t) log(1 - p)).
/// A sigmoid output (or logits) is fused: computed as max(x,0) - x t + log(1 + e^-|x|), which never
/// takes the log of 0; other outputs are clipped to [1e-7, 1 - 1e-7] as Keras does.
/// </summary>
public sealed class BinaryCrossentropy(bool fromLogits = false) : Loss
{
    public override bool FromLogits { get; } = fromLogits;

    public override string Name => "binary_crossentropy";

    public override bool FusesWith(Activation last) => FromLogits || last.Kind == ActivationKind.Sigmoid;

    public override void Validate(Activation last, string layer)
    {
        if (FromLogits && (last.Kind != ActivationKind.Linear || last.IsSoftmax || last.IsCustom))
            throw new ArgumentException(
                $"binary_crossentropy was created with fromLogits: true, but the last layer '{layer}' applies '{last.Name}'. " +
                "Use a linear last layer with fromLogits: true, or a sigmoid output with fromLogits: false.");
    }

    public override LossNode CreateNode(ComputationGraph graph, Tensor output, Activation last) =>
        FusesWith(last) ? new SigmoidCrossEntropyLoss(graph, output) : new ProbabilityCrossEntropyLoss(graph, output, ProbabilityLossKind.Binary);

    public override float Compute(IBackend backend, float[] yTrue, float[] yPred, int rows, int cols) =>
        Evaluate(backend, yTrue, yPred, (double)rows * cols, (t, p, sum) => backend.BinaryCrossEntropyFromProbabilities(p, t, rows * cols, 1e-7f, null, 1f, sum));
}

/// <summary>Mean squared error: L = mean over samples and outputs of (p - t)^2.</summary>
public sealed class MeanSquaredError : Loss
{
    public override string Name => "mean_squared_error";

    public override bool FusesWith(Activation last) => false;

    public override LossNode CreateNode(ComputationGraph graph, Tensor output, Activation last) => new MeanSquaredErrorLoss(graph, output);

    public override float Compute(IBackend backend, float[] yTrue, float[] yPred, int rows, int cols) =>
        Evaluate(backend, yTrue, yPred, (double)rows * cols, (t, p, sum) => backend.MeanSquaredError(p, t, rows * cols, null, 1f, sum));
}

public abstract partial class Loss
{
    /// <summary>Looks a loss up by its Keras name: mse / mean_squared_error, binary_crossentropy (bce), categorical_crossentropy (cce), sparse_categorical_crossentropy (scce).</summary>
    public static Loss Parse(string name) => name.Trim().ToLowerInvariant().Replace('-', '_') switch
    {
        "mse" or "mean_squared_error" => new MeanSquaredError(),
        "bce" or "binary_crossentropy" => new BinaryCrossentropy(),
        "cce" or "categorical_crossentropy" => new CategoricalCrossentropy(),
        "scce" or "sparse_categorical_crossentropy" => new SparseCategoricalCrossentropy(),
        _ => throw new ArgumentException($"Unknown loss '{name}'. Expected mse, binary_crossentropy, categorical_crossentropy or sparse_categorical_crossentropy.", nameof(name)),
    };
}

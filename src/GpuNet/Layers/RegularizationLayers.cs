using System.Text.Json.Nodes;
using GpuNet.Graph;

namespace GpuNet.Layers;

/// <summary>
/// Dropout (Srivastava et al. 2014), inverted as in Keras: in training each input is zeroed with
/// probability <see cref="Rate"/> and the rest scaled by 1 / (1 - rate); in inference it passes through.
/// </summary>
public sealed class Dropout : Layer
{
    /// <param name="rate">Fraction of inputs to drop, in [0, 1).</param>
    public Dropout(float rate, string? name = null) : base(name)
    {
        if (!(rate >= 0 && rate < 1))
            throw new ArgumentOutOfRangeException(nameof(rate), rate, $"Dropout rate must be in [0, 1); received rate={rate}. Typical values are 0.2 to 0.5.");
        Rate = rate;
    }

    public float Rate { get; }
    public override string TypeName => "Dropout";

    /// <summary>Keras' <c>get_config</c>: the rate.</summary>
    public override JsonObject GetConfig() => new() { ["rate"] = Rate };

    internal static Dropout FromConfig(JsonObject c, string name, LayerLoading loading) => new(c["rate"]!.GetValue<float>(), name);
    public override int OutputSize(int inputSize) => inputSize;

    /// <summary>The input's shape: dropout is element-wise.</summary>
    public override Shape OutputShape(Shape inputShape) => inputShape;
    public override long ParameterCount(int inputSize) => 0;

    internal override Tensor Build(ComputationGraph graph, Tensor input, BuildContext context) =>
        graph.Add(new DropoutNode(graph, NodeName, input, Rate, context.Seed, context.NextPurpose())).Output; // a mask of its own per application
}

/// <summary>
/// Batch normalization (Ioffe and Szegedy 2015) over the batch, per feature, with learnable gamma (init 1)
/// and beta (init 0); moving averages (momentum 0.99, as Keras) replace the batch statistics in inference.
/// The features are the last axis of the sample, as Keras' default axis=-1: a (steps, features) sequence or an
/// (height, width) image is normalized per feature over the batch and every other axis.
/// </summary>
public sealed class BatchNormalization(float momentum = 0.99f, float epsilon = 1e-3f, string? name = null) : Layer(name)
{
    public float Momentum { get; } = momentum;
    public float Epsilon { get; } = epsilon;

    /// <summary>Keras' <c>get_config</c>: momentum and epsilon (gamma, beta and the moving statistics are weights).</summary>
    public override JsonObject GetConfig() => new() { ["momentum"] = Momentum, ["epsilon"] = Epsilon };

    internal static BatchNormalization FromConfig(JsonObject c, string name, LayerLoading loading) =>
        new(c["momentum"]!.GetValue<float>(), c["epsilon"]!.GetValue<float>(), name);

    /// <summary>The node once built (moving averages for inspection).</summary>
    public BatchNormNode? Node { get; private set; }

    public override string TypeName => "BatchNormalization";
    public override int OutputSize(int inputSize) => inputSize;

    /// <summary>The input's shape: the statistics are per feature of its last axis.</summary>
    public override Shape OutputShape(Shape inputShape) => inputShape;
    public override long ParameterCount(int inputSize) => 2L * inputSize;

    /// <summary>Gamma and beta: one of each per feature of the last axis.</summary>
    public override long ParameterCount(Shape inputShape) => 2L * inputShape.Last;

    /// <summary>The moving mean and variance.</summary>
    public override int StatisticCount(int inputSize) => 2 * inputSize;

    /// <summary>The moving mean and variance: one of each per feature of the last axis.</summary>
    public override int StatisticCount(Shape inputShape) => 2 * inputShape.Last;

    internal override IEnumerable<LayerWeight> BuiltWeights => Node is null ? [] :
    [
        LayerWeight.Of(Node.Gamma), LayerWeight.Of(Node.Beta),
        LayerWeight.Statistic($"{Name}/moving_mean", Node.RunningMean), LayerWeight.Statistic($"{Name}/moving_variance", Node.RunningVariance),
    ];

    /// <summary>Never shared: its moving statistics follow one input.</summary>
    internal override string? SharingRefusal(Shape first, Shape later) =>
        "its moving mean and variance follow the batches of one input, so it cannot be shared";

    internal override Tensor Build(ComputationGraph graph, Tensor input, BuildContext context)
    {
        var node = graph.Add(new BatchNormNode(graph, Name, input, Momentum, Epsilon));
        Node = node;
        context.Initialize(node.Gamma, new Initializers.Ones(), node.Features, node.Features);
        context.Initialize(node.Beta, new Initializers.Zeros(), node.Features, node.Features);
        context.AfterSeal.Add(() => graph.Backend.Fill(node.RunningVariance, 1f));
        return node.Output;
    }
}

/// <summary>
/// Feature-wise standardization with statistics learned by <see cref="Adapt(Data.Dataset, bool)"/>, as Keras' Normalization
/// layer: y = (x - mean) / max(sqrt(var), eps). Nothing in it trains.
/// </summary>
public sealed class Normalization(string? name = null) : Layer(name)
{
    private float[]? _mean, _variance;
    private ColumnAffineNode? _node;

    public IReadOnlyList<float>? Mean => _mean;
    public IReadOnlyList<float>? Variance => _variance;

    public override string TypeName => "Normalization";
    public override int OutputSize(int inputSize) => inputSize;

    /// <summary>The input's shape, which must be flat: statistics are per feature of a row (add a Flatten before an image or a sequence).</summary>
    public override Shape OutputShape(Shape inputShape) => RequireFlat(inputShape);
    public override long ParameterCount(int inputSize) => 0;

    /// <summary>The scale 1 / max(std, eps) and shift -mean scale the layer applies (Keras counts its mean and variance).</summary>
    public override int StatisticCount(int inputSize) => 2 * inputSize;

    internal override IEnumerable<LayerWeight> BuiltWeights => _node is null ? [] :
        [LayerWeight.Statistic($"{Name}/scale", _node.ScaleBuffer), LayerWeight.Statistic($"{Name}/shift", _node.ShiftBuffer)];

    /// <summary>Learns each feature's mean and (population) variance from <paramref name="data"/> (rows x <paramref name="features"/>, row-major): use the training split only.</summary>
    /// <param name="data">The training rows, row-major.</param>
    /// <param name="features">Values per row.</param>
    /// <param name="perFeature">False: one mean and variance over all values, shared by every feature (Keras'
    /// <c>Normalization(axis=None)</c>), as images are usually standardized: a per-pixel variance is near zero at
    /// the border of MNIST, and dividing by it turns a stray test pixel into a value of about 1e4.</param>
    public Normalization Adapt(ReadOnlySpan<float> data, int features, bool perFeature = true)
    {
        if (features < 1 || data.Length == 0 || data.Length % features != 0)
            throw new ArgumentException($"Adapt expects a non-empty rows x {features} matrix; got {data.Length} values.", nameof(data));
        if (!perFeature)
        {
            double total = 0, squares = 0;
            foreach (float v in data) total += v;
            double average = total / data.Length;
            foreach (float v in data) squares += (v - average) * (v - average);
            _mean = Enumerable.Repeat((float)average, features).ToArray();
            _variance = Enumerable.Repeat((float)(squares / data.Length), features).ToArray();
            return this;
        }
        int rows = data.Length / features;
        var mean = new double[features];
        var sq = new double[features];
        for (int i = 0; i < data.Length; i++) mean[i % features] += data[i];
        for (int c = 0; c < features; c++) mean[c] /= rows;
        for (int i = 0; i < data.Length; i++) { double d = data[i] - mean[i % features]; sq[i % features] += d * d; }
        _mean = [.. mean.Select(m => (float)m)];
        _variance = [.. sq.Select(s => (float)(s / rows))];
        return this;
    }

    /// <summary>Sets saved statistics (a loaded model); the same checks as <see cref="Adapt(ReadOnlySpan{float}, int, bool)"/> made.</summary>
    /// <summary>Nothing: the adapted mean and variance are saved beside the weights (under the model's adapt prefix).</summary>
    public override JsonObject GetConfig() => [];

    internal static Normalization FromConfig(JsonObject c, string name, LayerLoading loading)
    {
        if (loading.Tensor($"{LayerLoading.AdaptPrefix}{name}/mean") is not { } mean || loading.Tensor($"{LayerLoading.AdaptPrefix}{name}/variance") is not { } variance)
            throw new InvalidDataException($"Normalization layer '{name}' has no saved statistics.");
        return new Normalization(name).SetStatistics(mean.Data, variance.Data);
    }

    internal Normalization SetStatistics(float[] mean, float[] variance)
    {
        if (mean.Length == 0 || mean.Length != variance.Length || variance.Any(v => !(v >= 0)))
            throw new InvalidDataException($"Normalization layer '{Name}': saved mean ({mean.Length}) and variance ({variance.Length}) must be non-empty, of equal length, with variances >= 0.");
        _mean = mean;
        _variance = variance;
        return this;
    }

    /// <summary>Adapts to a dataset's features (see <see cref="Adapt(ReadOnlySpan{float}, int, bool)"/>).</summary>
    public Normalization Adapt(Data.Dataset data, bool perFeature = true) => Adapt(data.Features, data.FeatureCount, perFeature);

    /// <summary>Never shared: its statistics were adapted to one input.</summary>
    internal override string? SharingRefusal(Shape first, Shape later) =>
        "its mean and variance were adapted to one input, so it cannot be shared";

    internal override Tensor Build(ComputationGraph graph, Tensor input, BuildContext context)
    {
        if (_mean is null || _variance is null)
            throw new InvalidOperationException($"Normalization layer '{Name}' has no statistics: call Adapt(trainingData) before training.");
        if (_mean.Length != input.Cols)
            throw new ArgumentException($"Normalization layer '{Name}' was adapted to {_mean.Length} features but receives {input.Cols}.");
        var node = graph.Add(new ColumnAffineNode(graph, Name, input));
        _node = node;
        var scale = _variance.Select(v => 1f / MathF.Max(MathF.Sqrt(v), 1e-7f)).ToArray();
        var shift = _mean.Select((m, i) => -m * scale[i]).ToArray();
        context.AfterSeal.Add(() =>
        {
            graph.Backend.Upload<float>(scale, node.ScaleBuffer);
            graph.Backend.Upload<float>(shift, node.ShiftBuffer);
        });
        return node.Output;
    }
}

/// <summary>
/// Maxout (Goodfellow et al. 2013): <see cref="Units"/> outputs, each the maximum of <see cref="Pieces"/>
/// linear functions of the input: y_u = max_k (x W_k + b_k)_u. A learned, piecewise-linear activation.
/// </summary>
public sealed class Maxout : Layer
{
    public Maxout(int units, int pieces = 2, string? name = null) : base(name)
    {
        if (units < 1) throw new ArgumentOutOfRangeException(nameof(units), units, $"Maxout expects a positive number of units. Received: units={units}.");
        if (pieces < 2) throw new ArgumentOutOfRangeException(nameof(pieces), pieces, $"Maxout needs at least 2 pieces per unit. Received: pieces={pieces}.");
        Units = units;
        Pieces = pieces;
    }

    public int Units { get; }
    public int Pieces { get; }
    private AffineNode? _affine;

    /// <summary>Keras' <c>get_config</c>: units and pieces.</summary>
    public override JsonObject GetConfig() => new() { ["units"] = Units, ["pieces"] = Pieces };

    internal static Maxout FromConfig(JsonObject c, string name, LayerLoading loading) =>
        new(c["units"]!.GetValue<int>(), c["pieces"]!.GetValue<int>(), name);

    public override string TypeName => "Maxout";
    public override int OutputSize(int inputSize) => Units;
    public override long ParameterCount(int inputSize) => (inputSize + 1L) * Units * Pieces;

    /// <summary>(Units), from a flat input only: the pieces are taken per row (add a Flatten before an image or a sequence).</summary>
    public override Shape OutputShape(Shape inputShape) => new(OutputSize(RequireFlat(inputShape).Size));

    internal override IEnumerable<LayerWeight> BuiltWeights => _affine is null ? [] : [LayerWeight.Of(_affine.Weights), LayerWeight.Of(_affine.Bias!)];

    /// <summary>A Maxout layer is shared over flat inputs of the width its kernel maps.</summary>
    internal override string? SharingRefusal(Shape first, Shape later) => first.Size == later.Size ? null
        : $"its kernel maps {first.Size} features (its first input {first.WithBatch()}), but it is also applied to {later.WithBatch()}";

    internal override Tensor Build(ComputationGraph graph, Tensor input, BuildContext context)
    {
        if (IsSharedApplication)
        {
            var again = graph.Add(new AffineNode(graph, NodeName + "/linear", input, _affine!.Weights, _affine.Bias));
            return graph.Add(new MaxoutNode(graph, NodeName, again.Output, Pieces)).Output;
        }
        var affine = graph.Add(new AffineNode(graph, Name + "/linear", input, Units * Pieces));
        _affine = affine;
        context.Initialize(affine.Weights, new Initializers.GlorotUniform(), input.Cols, Units);
        context.Initialize(affine.Bias!, new Initializers.Zeros(), input.Cols, Units);
        return graph.Add(new MaxoutNode(graph, Name, affine.Output, Pieces)).Output;
    }
}

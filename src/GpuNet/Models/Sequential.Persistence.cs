using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GpuNet.Backends;
using GpuNet.Graph;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Optimizers;

namespace GpuNet.Models;

public sealed partial class Sequential
{
    /// <summary>The <c>format</c> metadata value of a saved model.</summary>
    public const string FileFormat = "gpunet.sequential";

    /// <summary>
    /// The newest saved-model layout this build writes and reads. Version 2 adds the optimizer's
    /// learning_rate_scale (a reduction on a plateau) and gradient clipping; a model without them is still written as version 1, which
    /// older builds read, and a version-2 file makes them stop with a message rather than drop the reduction.
    /// </summary>
    public const int FileVersion = 2;

    private const string SlotPrefix = "optimizer/slot";
    private const string AdaptPrefix = LayerLoading.AdaptPrefix;

    /// <summary>Host copies of weights, states and optimizer slots, applied when the graph is next built.</summary>
    private Dictionary<string, NamedTensor>? _pendingState;

    /// <summary>Optimizer steps taken so far (continues across Fit calls, reset by Compile; saved with the model).</summary>
    public long Iterations { get; private set; }

    /// <summary>
    /// Saves the whole model to one safetensors file (<c>.safetensors</c> is the usual extension): every
    /// weight by its name (<c>dense_1/kernel</c> as In x Units, <c>dense_1/bias</c>), batch-norm moving
    /// statistics, normalization statistics, the optimizer's slots and step count, and in the metadata the
    /// architecture, loss and optimizer as JSON. <see cref="Load(string, IBackend)"/> restores it to continue training or predict.
    /// </summary>
    /// <remarks>
    /// The file is written atomically (a temporary file, then a rename): an existing file is replaced whole
    /// or not at all. In Python, <c>safetensors.torch.load_file(path)</c> reads the weights
    /// (a Keras-layout kernel is the transpose of <c>torch.nn.Linear.weight</c>).
    /// </remarks>
    /// <param name="metadata">Extra string metadata to store (e.g. what data the model was trained on).</param>
    /// <exception cref="InvalidOperationException">The model is not compiled, or has no weights yet (it was never fitted, evaluated or loaded).</exception>
    /// <exception cref="IOException">The folder does not exist or the file cannot be written (an existing file is left as it was).</exception>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (Optimizer is null || Loss is null)
            throw new InvalidOperationException("Compile the model before saving it: the file records its optimizer and loss.");
        if (_divergence is { } diverged)
            throw new InvalidOperationException(
                $"Cannot save the model to '{path}': its training diverged in epoch {diverged.Epoch} (mean loss {diverged.Loss:G4}). Nothing was written" +
                (File.Exists(path) ? "; the existing file is left as it was" : "") + ". Train again with a lower learning rate, or keep an earlier checkpoint.");
        var state = CaptureState(includeOptimizer: true)
            ?? throw new InvalidOperationException("The model has no weights yet: Fit (or Evaluate) it before saving.");
        // a diverged model is never written, least of all over a good file
        CheckFiniteTensors(state.Values, $"Cannot save the model to '{path}'", m => new InvalidOperationException(
            m + ": its training diverged. Nothing was written" + (File.Exists(path) ? "; the existing file is left as it was" : "") +
            ". Train again with a lower learning rate, or keep an earlier checkpoint."));
        int inputSize = InputSize;
        var inputShape = _builtShape ?? DeclaredInputShape ?? new Shape(inputSize);
        var tensors = new List<NamedTensor>(state.Values);
        foreach (var norm in AllLayers.OfType<Normalization>())
            if (norm.Mean is { } mean && norm.Variance is { } variance)
            {
                tensors.Add(new NamedTensor($"{AdaptPrefix}{norm.Name}/mean", [mean.Count], [.. mean]));
                tensors.Add(new NamedTensor($"{AdaptPrefix}{norm.Name}/variance", [variance.Count], [.. variance]));
            }

        var config = new JsonObject
        {
            ["input_size"] = inputSize,
            ["input_shape"] = ShapeConfig(inputShape), // older readers take input_size, a flat row of the same values
            ["seed"] = Seed.ToString(CultureInfo.InvariantCulture),
            ["iterations"] = Iterations,
            ["loss"] = LossConfig(Loss),
            ["optimizer"] = OptimizerConfig(Optimizer),
            ["layers"] = new JsonArray([.. _layers.Select(LayerConfigs.ToConfig)]),
        };
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        if (metadata is not null)
            foreach (var (k, v) in metadata) meta[k] = v;
        meta["format"] = FileFormat;
        // version 1 unless the file holds what older builds would silently drop (a reduced rate, gradient clipping)
        bool needs2 = Optimizer.LearningRateScale != 1f || Optimizer.ClipValue is not null || Optimizer.ClipNorm is not null || Optimizer.GlobalClipNorm is not null;
        meta["version"] = (needs2 ? 2 : 1).ToString(CultureInfo.InvariantCulture);
        meta["config"] = config.ToJsonString();
        SafeTensorsFile.Write(path, tensors, meta);
    }

    /// <summary>
    /// Loads a model written by <see cref="Save"/> and compiles it on <paramref name="backend"/> with the saved
    /// optimizer (its slots and step count too) and loss, as Keras' <c>load_model</c>. The model is built on
    /// <paramref name="backend"/> at once (for batches of 256; Fit with larger batches rebuilds it), so a file that
    /// does not match its own architecture fails here. Predict and Evaluate give what the saved model gave;
    /// Fit continues the step count, so Adam's bias correction, per-step schedules and dropout masks go on
    /// where they stopped (epoch-based schedules such as <see cref="StepDecay"/> count epochs from each Fit call, as Keras does).
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a GpuNet model, or is damaged; the message says what is wrong.</exception>
    public static Sequential Load(string path, IBackend backend) => Load(path, backend, out _);

    /// <summary><see cref="Load(string, IBackend)"/>, also returning the file's string metadata.</summary>
    public static Sequential Load(string path, IBackend backend, out IReadOnlyDictionary<string, string> metadata)
    {
        var (tensors, meta) = SafeTensorsFile.Read(path);
        metadata = meta;
        if (!meta.TryGetValue("format", out var format) || format != FileFormat || !meta.TryGetValue("config", out var configText))
            throw new InvalidDataException(
                $"'{path}' is a safetensors file but not a GpuNet model (no '{FileFormat}' format and config metadata). Save models with Sequential.Save.");
        if (!meta.TryGetValue("version", out var version) || version is not ("1" or "2"))
            throw new InvalidDataException($"'{path}' is a GpuNet model of layout version {version ?? "?"}; this GpuNet reads versions 1 to {FileVersion}. Use the GpuNet version that saved it.");
        CheckFiniteTensors(tensors, $"'{path}'", m => new InvalidDataException(
            m + ": the model diverged in training, so it cannot evaluate, predict or train on. Use an earlier checkpoint, or train again with a lower learning rate."));

        try
        {
            var config = JsonNode.Parse(configText)!.AsObject();
            var byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
            var loading = new LayerLoading(byName);
            var layers = config["layers"]!.AsArray().Select(l => loading.Load(l!.AsObject())).ToArray();
            var model = new Sequential(layers);
            model.Compile(OptimizerFromConfig(config["optimizer"]!.AsObject()), LossFromConfig(config["loss"]!.AsObject()), backend,
                ulong.Parse(config["seed"]!.GetValue<string>(), CultureInfo.InvariantCulture));
            int inputSize = config["input_size"]!.GetValue<int>();
            long iterations = config["iterations"]!.GetValue<long>();
            if (inputSize < 1 || iterations < 0)
                throw new InvalidDataException($"'{path}': input_size {inputSize} and iterations {iterations} must be positive and non-negative.");
            var inputShape = config["input_shape"] is JsonArray dims ? ShapeFromConfig(dims) : new Shape(inputSize);
            if (inputShape.Size != inputSize)
                throw new InvalidDataException($"'{path}': input_shape {inputShape} does not have input_size {inputSize} values.");
            model._builtShape = inputShape;
            model.Iterations = iterations;
            model._lsuvDone = true;
            model._pendingState = byName.Where(kv => !kv.Key.StartsWith(AdaptPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            try
            {
                model.EnsureBuilt(inputSize, 256);
            }
            catch
            {
                model.Dispose();
                throw;
            }
            return model;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or KeyNotFoundException
                                       or FormatException or ArgumentException or OverflowException)
        {
            throw new InvalidDataException($"'{path}': the model config is damaged or from an incompatible version ({e.Message}).", e);
        }
        catch (InvalidDataException e) when (!e.Message.Contains(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"'{path}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Host copies of every parameter (named as in the graph, shaped Rows x Cols), every graph state
    /// (batch-norm statistics, normalization scale and shift) and, when asked, the optimizer's slots;
    /// row vectors (biases, gamma, beta) are shaped [Cols];
    /// the pending state when the graph is not built; null when there are no weights at all.
    /// </summary>
    private Dictionary<string, NamedTensor>? CaptureState(bool includeOptimizer)
    {
        if (_graph is null) return _pendingState;
        var backend = Backend!;
        var state = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (var p in _graph.Parameters)
        {
            var data = new float[p.Count];
            backend.Download(p.Value, data);
            Add(new NamedTensor(p.Name, p.Rows == 1 ? [p.Cols] : [p.Rows, p.Cols], data)); // biases and gammas 1-D, as in Keras and PyTorch
        }
        foreach (var (name, buffer) in _graph.States)
        {
            var data = new float[buffer.Length];
            backend.Download(buffer, data);
            Add(new NamedTensor(name, [data.Length], data));
        }
        if (includeOptimizer)
        {
            var slots = Optimizer!.Slots;
            for (int i = 0; i < slots.Count; i++)
            {
                var data = new float[_graph.ParameterCount];
                backend.Download(slots[i].Slice(0, data.Length), data);
                Add(new NamedTensor($"{SlotPrefix}{i + 1}", [data.Length], data));
            }
        }
        return state;

        void Add(NamedTensor t)
        {
            if (!state.TryAdd(t.Name, t))
                throw new InvalidOperationException($"Two tensors of the model are named '{t.Name}': give its layers distinct names.");
        }
    }

    /// <summary>Uploads <paramref name="state"/> into the freshly built graph; every parameter must be there with its shape.</summary>
    private void RestoreState(Dictionary<string, NamedTensor> state)
    {
        var backend = Backend!;
        var graph = _graph!;
        foreach (var p in graph.Parameters)
        {
            if (!state.TryGetValue(p.Name, out var t))
                throw new InvalidDataException($"The saved model has no weights for '{p.Name}' [{p.Rows} x {p.Cols}]; the file does not match this architecture.");
            if (t.Data.Length != p.Count)
                throw new InvalidDataException(
                    $"Saved weights '{p.Name}' have shape [{string.Join(", ", t.Shape)}] but the model needs [{p.Rows} x {p.Cols}] (was it saved for another input width?).");
            backend.Upload<float>(t.Data, p.Value);
        }
        foreach (var (name, buffer) in graph.States)
        {
            if (!state.TryGetValue(name, out var t) || t.Data.Length != buffer.Length)
                throw new InvalidDataException(
                    $"The saved model has no {buffer.Length}-value state '{name}' (batch-norm or normalization statistics); the file does not match this architecture.");
            backend.Upload<float>(t.Data, buffer);
        }
        // Slots travel with their optimizer: a re-compiled model starts a fresh one and keeps none.
        if (!state.Keys.Any(k => k.StartsWith(SlotPrefix, StringComparison.Ordinal))) return;
        var slots = Optimizer!.Slots;
        for (int i = 0; i < slots.Count; i++)
        {
            if (!state.TryGetValue($"{SlotPrefix}{i + 1}", out var t) || t.Data.Length != graph.ParameterCount)
                throw new InvalidDataException($"The saved model has no {graph.ParameterCount}-value optimizer slot {i + 1} for {Optimizer.Name}.");
            backend.Upload<float>(t.Data, slots[i].Slice(0, t.Data.Length));
        }
    }

    private static JsonArray ShapeConfig(Shape shape) => new([.. shape.Select(d => (JsonNode)d)]);

    private static Shape ShapeFromConfig(JsonArray dims) => new([.. dims.Select(d => d!.GetValue<int>())]);

    private static JsonObject LossConfig(Loss loss) => LossConfigs.ToConfig(loss);

    private static Loss LossFromConfig(JsonObject c) => LossConfigs.FromConfig(c);

    private static JsonObject OptimizerConfig(Optimizer o)
    {
        var config = OptimizerRuleConfig(o);
        if (o.LearningRateScale != 1f) config["learning_rate_scale"] = o.LearningRateScale; // a reduction on a plateau
        if (o.ClipValue is float v) config["clipvalue"] = v;
        if (o.ClipNorm is float t) config["clipnorm"] = t;
        if (o.GlobalClipNorm is float n) config["global_clipnorm"] = n;
        return config;
    }

    private static JsonObject OptimizerRuleConfig(Optimizer o) => OptimizerConfigs.ToConfig(o, ScheduleConfig(o.Schedule));

    private static Optimizer OptimizerFromConfig(JsonObject c)
    {
        var optimizer = OptimizerRuleFromConfig(c);
        if (c["learning_rate_scale"] is JsonNode scale)
            optimizer.LearningRateScale = scale.GetValue<float>() is var v && float.IsFinite(v) && v > 0 ? v
                : throw new InvalidDataException($"The optimizer's learning_rate_scale must be a positive number; the file has {v}.");
        try
        {
            optimizer.ClipValue = c["clipvalue"]?.GetValue<float>();
            optimizer.ClipNorm = c["clipnorm"]?.GetValue<float>();
            optimizer.GlobalClipNorm = c["global_clipnorm"]?.GetValue<float>();
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or InvalidOperationException)
        {
            throw new InvalidDataException($"The optimizer's gradient clipping is damaged: {e.Message}", e);
        }
        return optimizer;
    }

    private static Optimizer OptimizerRuleFromConfig(JsonObject c) => OptimizerConfigs.FromConfig(c, ScheduleFromConfig(c["learning_rate"]!));

    private static JsonNode ScheduleConfig(LearningRateSchedule s) => s switch
    {
        ConstantLearningRate c => JsonValue.Create(c.Value),
        StepDecay d => new JsonObject { ["class"] = "StepDecay", ["initial"] = d.Initial, ["factor"] = d.Factor, ["epochs_per_drop"] = d.EpochsPerDrop },
        ExponentialDecay e => new JsonObject
        {
            ["class"] = "ExponentialDecay", ["initial"] = e.Initial, ["decay_steps"] = e.DecaySteps, ["decay_rate"] = e.DecayRate, ["staircase"] = e.Staircase,
        },
        CosineDecay c => new JsonObject { ["class"] = "CosineDecay", ["initial"] = c.Initial, ["decay_steps"] = c.DecaySteps, ["alpha"] = c.Alpha },
        InverseTimeDecay i => new JsonObject { ["class"] = "InverseTimeDecay", ["initial"] = i.Initial, ["decay"] = i.Decay },
        _ => throw new NotSupportedException($"Learning-rate schedule {s.GetType().Name} cannot be saved."),
    };

    private static LearningRateSchedule ScheduleFromConfig(JsonNode n)
    {
        if (n is JsonValue v) return new ConstantLearningRate(v.GetValue<float>());
        var c = n.AsObject();
        float F(string key) => c[key]!.GetValue<float>();
        long L(string key) => c[key]!.GetValue<long>();
        return c["class"]!.GetValue<string>() switch
        {
            "StepDecay" => new StepDecay(F("initial"), F("factor"), c["epochs_per_drop"]!.GetValue<int>()),
            "ExponentialDecay" => new ExponentialDecay(F("initial"), L("decay_steps"), F("decay_rate"), c["staircase"]!.GetValue<bool>()),
            "CosineDecay" => new CosineDecay(F("initial"), L("decay_steps"), F("alpha")),
            "InverseTimeDecay" => new InverseTimeDecay(F("initial"), F("decay")),
            var other => throw new InvalidDataException($"Unknown learning-rate schedule '{other}'."),
        };
    }
}

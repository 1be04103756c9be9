using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Optimizers;

namespace GpuNet;

/// <summary>
/// The registry of user-written layers, activations, losses and optimizers, so that saved models that use them
/// load (Keras' <c>register_keras_serializable</c> and <c>custom_objects</c>). A model saves a custom object's
/// registered name (its class name when it is not registered) and its <c>GetConfig()</c>;
/// <see cref="Models.Sequential.Load(string, Backends.IBackend)"/> looks the name up here and calls the factory with
/// that config. Register before loading; registering a name again replaces its factory. Thread-safe.
/// </summary>
public static class CustomObjects
{
    private static readonly string[] BuiltInLayers = [.. LayerConfigs.BuiltInClasses];
    private static readonly string[] BuiltInOptimizers = [.. OptimizerConfigs.BuiltInClasses];

    private static readonly ConcurrentDictionary<string, Func<JsonObject, string, Layer>> Layers = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<Type, string> LayerNames = new();
    private static readonly ConcurrentDictionary<string, Activation> Activations = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Func<JsonObject, Loss>> Losses = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Func<JsonObject, LearningRateSchedule, Optimizer>> Optimizers = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<Type, string> OptimizerNames = new();

    /// <summary>
    /// Registers a user-written layer class under <paramref name="name"/> (Keras' <c>from_config</c>):
    /// <paramref name="fromConfig"/> gets the layer's saved <see cref="Layer.GetConfig"/> and its name, and returns the
    /// layer, with that name (its weights are saved under it).
    /// </summary>
    /// <example><code>CustomObjects.RegisterLayer("Residual", (config, name) =&gt; new Residual(config["units"]!.GetValue&lt;int&gt;(), name));</code></example>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or a built-in layer's class.</exception>
    public static void RegisterLayer<TLayer>(string name, Func<JsonObject, string, TLayer> fromConfig) where TLayer : Layer
    {
        ArgumentNullException.ThrowIfNull(fromConfig);
        CheckName(name, BuiltInLayers, "layer");
        Layers[name] = fromConfig;
        LayerNames[typeof(TLayer)] = name;
    }

    /// <summary>Registers a <see cref="Activation.Custom"/> activation by its name: <see cref="Activation.Parse"/> (and so a
    /// string such as <c>"quick_gelu"</c> given to a layer) finds it, and models saved with it load.</summary>
    /// <exception cref="ArgumentException"><paramref name="activation"/> is not a custom activation.</exception>
    public static void RegisterActivation(Activation activation)
    {
        ArgumentNullException.ThrowIfNull(activation);
        if (!activation.IsCustom)
            throw new ArgumentException($"'{activation.Name}' is built in; register activations made with Activation.Custom.", nameof(activation));
        Activations[activation.Name] = activation;
    }

    /// <summary>
    /// Registers a user-written loss by its <see cref="Loss.Name"/>: <paramref name="fromConfig"/> gets the loss's saved
    /// <see cref="Loss.GetConfig"/> and returns the loss.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or a built-in loss's name.</exception>
    public static void RegisterLoss(string name, Func<JsonObject, Loss> fromConfig)
    {
        ArgumentNullException.ThrowIfNull(fromConfig);
        CheckName(name, [.. LossConfigs.BuiltInNames], "loss");
        Losses[name] = fromConfig;
    }

    /// <summary>
    /// Registers a user-written optimizer class under <paramref name="name"/>: <paramref name="fromConfig"/> gets its saved
    /// <see cref="Optimizer.GetConfig"/> and learning-rate schedule, and returns the optimizer. Its slots, learning-rate
    /// scale and clipping are restored by the model.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or a built-in optimizer's class.</exception>
    public static void RegisterOptimizer<TOptimizer>(string name, Func<JsonObject, LearningRateSchedule, TOptimizer> fromConfig) where TOptimizer : Optimizer
    {
        ArgumentNullException.ThrowIfNull(fromConfig);
        CheckName(name, BuiltInOptimizers, "optimizer");
        Optimizers[name] = fromConfig;
        OptimizerNames[typeof(TOptimizer)] = name;
    }

    internal static Activation? FindActivation(string name) => Activations.GetValueOrDefault(name);

    /// <summary>The name a user-written layer is saved under: its registered name, else its class name.</summary>
    internal static string LayerClass(Layer layer) => LayerNames.GetValueOrDefault(layer.GetType()) ?? layer.GetType().Name;

    internal static bool IsRegistered(Optimizer optimizer) => OptimizerNames.ContainsKey(optimizer.GetType());

    internal static string OptimizerClass(Optimizer optimizer) => OptimizerNames.GetValueOrDefault(optimizer.GetType()) ?? optimizer.GetType().Name;

    internal static Layer CreateLayer(string className, JsonObject config, string name)
    {
        if (!Layers.TryGetValue(className, out var factory))
            throw new InvalidDataException(
                $"Layer '{name}' is of the custom class '{className}', which is not registered. Register it before loading: " +
                $"CustomObjects.RegisterLayer(\"{className}\", (config, name) => new {className}(..., name)).");
        var layer = factory(config, name) ?? throw new InvalidDataException($"The factory registered for layer class '{className}' returned null.");
        if (layer.Name != name)
            throw new InvalidDataException(
                $"The factory registered for layer class '{className}' named the layer '{layer.Name}', but the saved layer is '{name}': pass the name it is given to the layer's constructor.");
        return layer;
    }

    internal static Loss? CreateLoss(string name, JsonObject config) => Losses.TryGetValue(name, out var factory) ? factory(config) : null;

    internal static Optimizer CreateOptimizer(string className, JsonObject config, LearningRateSchedule schedule) =>
        Optimizers.TryGetValue(className, out var factory) ? factory(config, schedule)
        : throw new InvalidDataException(
            $"The model's optimizer is of the custom class '{className}', which is not registered. Register it before loading: " +
            $"CustomObjects.RegisterOptimizer(\"{className}\", (config, schedule) => new {className}(schedule, ...)).");

    private static void CheckName(string name, string[] builtIn, string what)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException($"A custom {what} needs a name to be registered under.", nameof(name));
        if (builtIn.Contains(name, StringComparer.OrdinalIgnoreCase))
            throw new ArgumentException($"'{name}' is a built-in {what}'s name; register the custom {what} under another one.", nameof(name));
    }
}

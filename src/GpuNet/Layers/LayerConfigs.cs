using System.Text.Json.Nodes;
using GpuNet.Graph;
using GpuNet.Models;

namespace GpuNet.Layers;

/// <summary>What a layer's factory may need besides its config: the saved tensors (Normalization's statistics) and a way
/// to load nested layers (a functional block's).</summary>
internal sealed class LayerLoading(IReadOnlyDictionary<string, NamedTensor> tensors)
{
    /// <summary>Where non-weight tensors of a layer are saved: no layer name starts so (Sequential rejects names with "__").</summary>
    public const string AdaptPrefix = "__adapt__/";

    public NamedTensor? Tensor(string key) => tensors.GetValueOrDefault(key);

    public Layer Load(JsonObject config) => LayerConfigs.FromConfig(config, this);
}

/// <summary>
/// How layers are saved and rebuilt: a registry of per-class configs, not one switch over every class. Each built-in
/// layer writes its settings in its own <see cref="Layer.GetConfig"/> and rebuilds itself in a static <c>FromConfig</c>,
/// registered here with its saved class name; user-written layers go through <see cref="CustomObjects"/>.
/// </summary>
/// <remarks>
/// A built-in layer's entry is {"class", "name", its config's fields...} (the layout every earlier version wrote);
/// a custom layer's is {"class": registered name, "name", "config": {...}}. Either may add "trainable": false and
/// "input_shape".
/// </remarks>
internal static class LayerConfigs
{
    private delegate Layer Factory(JsonObject config, string name, LayerLoading loading);

    private static readonly (string Class, Type Type, Factory FromConfig)[] BuiltIns =
    [
        ("Dense", typeof(Dense), Dense.FromConfig),
        ("Activation", typeof(ActivationLayer), ActivationLayer.FromConfig),
        ("Dropout", typeof(Dropout), Dropout.FromConfig),
        ("BatchNormalization", typeof(BatchNormalization), BatchNormalization.FromConfig),
        ("Normalization", typeof(Normalization), Normalization.FromConfig),
        ("Rescaling", typeof(Rescaling), Rescaling.FromConfig),
        ("Maxout", typeof(Maxout), Maxout.FromConfig),
        ("Flatten", typeof(Flatten), Flatten.FromConfig),
        ("Reshape", typeof(Reshape), Reshape.FromConfig),
        ("Functional", typeof(FunctionalBlock), FunctionalBlock.FromConfig),
    ];

    /// <summary>The class names of the built-in layers (a custom layer may not take one).</summary>
    public static IEnumerable<string> BuiltInClasses => BuiltIns.Select(b => b.Class);

    /// <summary>The saved entry of <paramref name="layer"/>.</summary>
    public static JsonObject ToConfig(Layer layer)
    {
        JsonObject entry;
        if (Array.FindIndex(BuiltIns, b => b.Type == layer.GetType()) is var i and >= 0)
        {
            entry = new JsonObject { ["class"] = BuiltIns[i].Class, ["name"] = layer.Name };
            foreach (var (key, value) in layer.GetConfig()) entry[key] = value?.DeepClone();
        }
        else entry = new JsonObject { ["class"] = CustomObjects.LayerClass(layer), ["name"] = layer.Name, ["config"] = layer.GetConfig() };
        if (!layer.Trainable) entry["trainable"] = false; // written only when frozen: older readers ignore it
        if (layer.InputShape is { } shape) entry["input_shape"] = new JsonArray([.. shape.Select(d => (JsonNode)d)]); // only when declared
        return entry;
    }

    /// <summary>The layer of a saved entry.</summary>
    /// <exception cref="InvalidDataException">A custom class that is not registered, or a damaged entry.</exception>
    public static Layer FromConfig(JsonObject entry, LayerLoading loading)
    {
        string name = entry["name"]!.GetValue<string>();
        string className = entry["class"]!.GetValue<string>();
        var layer = Array.Find(BuiltIns, b => b.Class == className) is { FromConfig: { } factory }
            ? factory(entry, name, loading)
            : CustomObjects.CreateLayer(className, entry["config"] is JsonObject config ? (JsonObject)config.DeepClone() : [], name);
        layer.Trainable = entry["trainable"]?.GetValue<bool>() ?? true;
        if (entry["input_shape"] is JsonArray dims) layer.RestoreInputShape(new Shape([.. dims.Select(d => d!.GetValue<int>())]));
        return layer;
    }
}

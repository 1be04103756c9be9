using System.Text.Json.Nodes;

namespace GpuNet.Losses;

/// <summary>
/// How losses are saved and rebuilt: a registry of per-class entries by Keras name. A built-in loss is saved as
/// {"name", "from_logits"}; a user-written one adds its <see cref="Loss.GetConfig"/> as "config" and is rebuilt by the
/// factory registered with <see cref="CustomObjects.RegisterLoss"/>.
/// </summary>
internal static class LossConfigs
{
    private static readonly (string[] Names, Type Type, Func<bool, Loss> FromLogits)[] BuiltIns =
    [
        (["sparse_categorical_crossentropy"], typeof(SparseCategoricalCrossentropy), logits => new SparseCategoricalCrossentropy(logits)),
        (["categorical_crossentropy"], typeof(CategoricalCrossentropy), logits => new CategoricalCrossentropy(logits)),
        (["binary_crossentropy"], typeof(BinaryCrossentropy), logits => new BinaryCrossentropy(logits)),
        (["mse", "mean_squared_error"], typeof(MeanSquaredError), _ => new MeanSquaredError()),
    ];

    /// <summary>The names of the built-in losses (a custom loss may not take one).</summary>
    public static IEnumerable<string> BuiltInNames => BuiltIns.SelectMany(b => b.Names);

    public static JsonObject ToConfig(Loss loss)
    {
        var entry = new JsonObject { ["name"] = loss.Name, ["from_logits"] = loss.FromLogits };
        if (!BuiltIns.Any(b => b.Type == loss.GetType())) entry["config"] = loss.GetConfig(); // a user-written loss's settings
        return entry;
    }

    /// <exception cref="InvalidDataException">A loss that is neither built in nor registered.</exception>
    public static Loss FromConfig(JsonObject entry)
    {
        string name = entry["name"]!.GetValue<string>();
        if (Array.Find(BuiltIns, b => b.Names.Contains(name)) is { FromLogits: { } factory })
            return factory(entry["from_logits"]!.GetValue<bool>());
        return CustomObjects.CreateLoss(name, entry["config"] is JsonObject config ? (JsonObject)config.DeepClone() : [])
            ?? throw new InvalidDataException(
                $"The model was trained with the loss '{name}', which is neither built in nor registered. Register it before loading: " +
                $"CustomObjects.RegisterLoss(\"{name}\", config => new MyLoss(...)).");
    }
}

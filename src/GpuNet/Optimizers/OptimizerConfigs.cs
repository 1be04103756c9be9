using System.Text.Json.Nodes;

namespace GpuNet.Optimizers;

/// <summary>
/// How optimizers are saved and rebuilt: a registry of per-class configs. Each built-in optimizer writes its settings
/// in its own <see cref="Optimizer.GetConfig"/> and rebuilds itself in a static <c>FromConfig</c>, registered here with
/// its saved class name; user-written optimizers go through <see cref="CustomObjects"/>.
/// </summary>
/// <remarks>A built-in optimizer's entry is {"class", "learning_rate", its config's fields...} (the layout every earlier
/// version wrote); a custom one's is {"class": registered name, "learning_rate", "config": {...}}.</remarks>
internal static class OptimizerConfigs
{
    private delegate Optimizer Factory(JsonObject config, LearningRateSchedule schedule);

    private static readonly (string Class, Type Type, Factory FromConfig)[] BuiltIns =
    [
        ("GD", typeof(GradientDescent), GradientDescent.FromConfig),
        ("SGD", typeof(Sgd), Sgd.FromConfig),
        ("AdaGrad", typeof(AdaGrad), AdaGrad.FromConfig),
        ("RMSprop", typeof(RmsProp), RmsProp.FromConfig),
        ("Adam", typeof(Adam), Adam.FromConfig),
        ("AdamW", typeof(AdamW), AdamW.FromConfig),
        ("Adamax", typeof(Adamax), Adamax.FromConfig),
    ];

    /// <summary>The class names of the built-in optimizers (a custom optimizer may not take one).</summary>
    public static IEnumerable<string> BuiltInClasses => BuiltIns.Select(b => b.Class);

    /// <summary>The saved entry of <paramref name="optimizer"/>'s rule (its clipping and scale are added by the model).</summary>
    public static JsonObject ToConfig(Optimizer optimizer, JsonNode learningRate)
    {
        // a built-in class, or an unregistered subclass of one (saved as that built-in, as every earlier version did)
        int i = Array.FindIndex(BuiltIns, b => b.Type == optimizer.GetType());
        if (i < 0 && !CustomObjects.IsRegistered(optimizer))
            for (var type = optimizer.GetType().BaseType; i < 0 && type is not null; type = type.BaseType)
                i = Array.FindIndex(BuiltIns, b => b.Type == type);
        if (i >= 0)
        {
            var entry = new JsonObject { ["class"] = BuiltIns[i].Class, ["learning_rate"] = learningRate };
            foreach (var (key, value) in optimizer.GetConfig()) entry[key] = value?.DeepClone();
            return entry;
        }
        return new JsonObject { ["class"] = CustomObjects.OptimizerClass(optimizer), ["learning_rate"] = learningRate, ["config"] = optimizer.GetConfig() };
    }

    /// <summary>The optimizer of a saved entry, with its schedule already read.</summary>
    public static Optimizer FromConfig(JsonObject entry, LearningRateSchedule schedule)
    {
        string className = entry["class"]!.GetValue<string>();
        return Array.Find(BuiltIns, b => b.Class == className) is { FromConfig: { } factory }
            ? factory(entry, schedule)
            : CustomObjects.CreateOptimizer(className, entry["config"] is JsonObject config ? (JsonObject)config.DeepClone() : [], schedule);
    }

    /// <summary>The rate of an optimizer that takes a constant one only.</summary>
    internal static float ConstantRate(LearningRateSchedule schedule, string className) =>
        schedule is ConstantLearningRate k ? k.Value : throw new InvalidDataException($"Optimizer {className} takes a constant learning rate.");
}

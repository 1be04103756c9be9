using GpuNet.Backends;
using GpuNet.Graph;

namespace GpuNet.Layers;

/// <summary>
/// An activation function, by object (<c>Activation.LeakyRelu(0.1f)</c>) or by Keras name
/// (<c>"relu"</c>, converted implicitly). Softmax is row-wise; all others are element-wise
/// (formulas on <see cref="ActivationKind"/>). <see cref="Custom"/> makes one from graph operations.
/// </summary>
public sealed class Activation
{
    private readonly Func<ComputationGraph, Tensor, Tensor>? _function;

    private Activation(string name, ActivationKind kind, float alpha, bool isSoftmax = false, Func<ComputationGraph, Tensor, Tensor>? function = null)
    {
        Name = name;
        Kind = kind;
        Alpha = alpha;
        IsSoftmax = isSoftmax;
        _function = function;
    }

    /// <summary>True for an activation made by <see cref="Custom"/> (its <see cref="Kind"/> is then Linear and means nothing).</summary>
    public bool IsCustom => _function is not null;

    /// <summary>
    /// A user-written activation: <paramref name="function"/> computes f(x) with the graph's differentiable operations
    /// (e.g. <c>(g, x) =&gt; g.Multiply(x, g.Sigmoid(g.Multiply(x, g.Constant(1.702f))))</c>), and autograd gives its
    /// derivative. It is used wherever a built-in one is (<c>new Dense(64, myActivation)</c>, an ActivationLayer); the
    /// function runs once, when the model's graph is built. Register it with <see cref="CustomObjects.RegisterActivation"/>
    /// so that its name parses (<c>new Dense(64, "quick_gelu")</c>) and saved models that use it load.
    /// </summary>
    /// <remarks>It is composed of several element-wise nodes, so it costs more launches than a built-in (fused) one,
    /// and a loss never fuses it.</remarks>
    /// <param name="name">Its name in summaries and saved models; not a built-in activation's name.</param>
    /// <param name="function">f(graph, x): returns a tensor of x's shape.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or a built-in activation's name.</exception>
    public static Activation Custom(string name, Func<ComputationGraph, Tensor, Tensor> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("A custom activation needs a name, e.g. \"quick_gelu\".", nameof(name));
        if (IsBuiltIn(name))
            throw new ArgumentException($"'{name}' is a built-in activation's name; give the custom activation another one.", nameof(name));
        return new(name, ActivationKind.Linear, 0f, function: function);
    }

    /// <summary>
    /// Adds f(<paramref name="x"/>) to <paramref name="graph"/> with differentiable operations and returns it (x itself for
    /// linear): a user-written layer's way to apply an activation in its Call.
    /// </summary>
    /// <exception cref="InvalidOperationException">A custom activation's function returned a tensor of another shape.</exception>
    public Tensor Apply(ComputationGraph graph, Tensor x)
    {
        if (_function is not null)
        {
            var y = _function(graph, x);
            if (y is null || y.FollowsBatch != x.FollowsBatch || y.Cols != x.Cols || y.MaxRows != x.MaxRows)
                throw new InvalidOperationException($"Activation '{Name}' must return a tensor of its input's shape ({x}); it returned {y?.ToString() ?? "null"}.");
            return y;
        }
        if (IsSoftmax) return graph.Softmax(x);
        return Kind == ActivationKind.Linear ? x : graph.Activation(x, Kind, Alpha);
    }

    private static bool IsBuiltIn(string name)
    {
        try
        {
            ParseBuiltIn(name);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The Keras name ("relu", "leaky_relu", "softmax" ...).</summary>
    public string Name { get; }

    /// <summary>The element-wise kind (Linear for softmax, which is handled row-wise).</summary>
    public ActivationKind Kind { get; }

    /// <summary>The slope or scale parameter of Leaky ReLU and ELU.</summary>
    public float Alpha { get; }

    /// <summary>True for the row-wise softmax.</summary>
    public bool IsSoftmax { get; }

    public static Activation Linear { get; } = new("linear", ActivationKind.Linear, 0f);
    public static Activation Step { get; } = new("step", ActivationKind.Step, 0f);
    public static Activation Sigmoid { get; } = new("sigmoid", ActivationKind.Sigmoid, 0f);
    public static Activation Tanh { get; } = new("tanh", ActivationKind.Tanh, 0f);
    public static Activation Relu { get; } = new("relu", ActivationKind.Relu, 0f);
    public static Activation Swish { get; } = new("swish", ActivationKind.Swish, 0f);
    public static Activation Softplus { get; } = new("softplus", ActivationKind.Softplus, 0f);
    public static Activation Gelu { get; } = new("gelu", ActivationKind.Gelu, 0f);

    /// <summary>SELU: 1.0507 (x if x &gt; 0 else 1.6733 (e^x - 1)), self-normalizing (use it with lecun_normal weights).</summary>
    public static Activation Selu { get; } = new("selu", ActivationKind.Selu, 0f);
    public static Activation Softmax { get; } = new("softmax", ActivationKind.Linear, 0f, isSoftmax: true);

    /// <summary>Leaky ReLU: x if x &gt; 0 else alpha x (Keras' default alpha is 0.3, PyTorch's 0.01; GpuNet uses 0.01).</summary>
    public static Activation LeakyRelu(float alpha = 0.01f)
    {
        if (!float.IsFinite(alpha) || alpha < 0 || alpha >= 1)
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"Leaky ReLU's alpha must be in [0, 1); received alpha={alpha}. The lecture uses 0.01 and 0.1.");
        return new("leaky_relu", ActivationKind.LeakyRelu, alpha);
    }

    /// <summary>ELU: x if x &gt; 0 else alpha (e^x - 1).</summary>
    public static Activation Elu(float alpha = 1f)
    {
        if (!float.IsFinite(alpha) || alpha <= 0)
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"ELU's alpha must be positive; received alpha={alpha}. The usual value is 1.0.");
        return new("elu", ActivationKind.Elu, alpha);
    }

    /// <summary>The activation of a saved layer's config: its "activation" name and "alpha" (the slope of leaky_relu, the scale of elu).</summary>
    internal static Activation FromConfig(System.Text.Json.Nodes.JsonObject config)
    {
        string name = config["activation"]!.GetValue<string>();
        float alpha = config["alpha"]!.GetValue<float>();
        return name switch
        {
            "leaky_relu" => LeakyRelu(alpha),
            "elu" => Elu(alpha),
            _ => Parse(name),
        };
    }

    /// <summary>Looks an activation up by its Keras name (case-insensitive; "silu" = "swish", "none" = "linear"), or a
    /// custom one registered with <see cref="CustomObjects.RegisterActivation"/> by its exact name.</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static Activation Parse(string name) =>
        CustomObjects.FindActivation(name) ?? ParseBuiltIn(name);

    private static Activation ParseBuiltIn(string name) => name.Trim().ToLowerInvariant().Replace('-', '_') switch
    {
        "linear" or "none" or "identity" => Linear,
        "step" or "heaviside" => Step,
        "sigmoid" or "logistic" => Sigmoid,
        "tanh" => Tanh,
        "relu" => Relu,
        "leaky_relu" or "leakyrelu" => LeakyRelu(),
        "elu" => Elu(),
        "swish" or "silu" => Swish,
        "softplus" => Softplus,
        "gelu" => Gelu,
        "selu" => Selu,
        "softmax" => Softmax,
        _ => throw new ArgumentException(
            $"Unknown activation '{name}'. Expected one of: linear, step, sigmoid, tanh, relu, leaky_relu, elu, swish (silu), softplus, gelu, selu, softmax.", nameof(name)),
    };

    public static implicit operator Activation(string name) => Parse(name);

    public override string ToString() => Kind is ActivationKind.LeakyRelu or ActivationKind.Elu ? $"{Name}({Alpha})" : Name;
}

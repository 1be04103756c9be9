using GpuNet.Backends;

namespace GpuNet.Layers;

/// <summary>
/// An activation function, by object (<c>Activation.LeakyRelu(0.1f)</c>) or by Keras name
/// (<c>"relu"</c>, converted implicitly). Softmax is row-wise; all others are element-wise
/// (formulas on <see cref="ActivationKind"/>).
/// </summary>
public sealed class Activation
{
    private Activation(string name, ActivationKind kind, float alpha, bool isSoftmax = false)
    {
        Name = name;
        Kind = kind;
        Alpha = alpha;
        IsSoftmax = isSoftmax;
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

    /// <summary>Looks an activation up by its Keras name (case-insensitive; "silu" = "swish", "none" = "linear").</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static Activation Parse(string name) => name.Trim().ToLowerInvariant().Replace('-', '_') switch
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
        "softmax" => Softmax,
        _ => throw new ArgumentException(
            $"Unknown activation '{name}'. Expected one of: linear, step, sigmoid, tanh, relu, leaky_relu, elu, swish (silu), softplus, gelu, softmax.", nameof(name)),
    };

    public static implicit operator Activation(string name) => Parse(name);

    public override string ToString() => Kind is ActivationKind.LeakyRelu or ActivationKind.Elu ? $"{Name}({Alpha})" : Name;
}

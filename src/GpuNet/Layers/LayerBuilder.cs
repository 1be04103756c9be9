using GpuNet.Graph;
using GpuNet.Initializers;

namespace GpuNet.Layers;

/// <summary>
/// What a user-written layer's <c>Build</c> gets (Keras' <c>build(input_shape)</c> with <c>add_weight</c>): the input
/// width and shape, and <see cref="AddWeight"/> to create trainable weights.
/// </summary>
public sealed class LayerBuilder
{
    private readonly Layer _layer;
    private readonly ComputationGraph _graph;
    private readonly BuildContext? _context; // null when ParameterCount only counts
    private readonly List<Parameter> _weights;

    internal LayerBuilder(Layer layer, ComputationGraph graph, BuildContext? context, Shape inputShape, List<Parameter> weights)
    {
        _layer = layer;
        _graph = graph;
        _context = context;
        InputShape = inputShape;
        _weights = weights;
    }

    /// <summary>Values per input sample (the previous layer's output width): <see cref="InputShape"/>.Size.</summary>
    public int InputSize => InputShape.Size;

    /// <summary>The shape of one input sample, batch not included ((features) for a flat row; (28, 28) after a Reshape to images).</summary>
    public Shape InputShape { get; }

    /// <summary>
    /// Creates a trainable <paramref name="rows"/> x <paramref name="cols"/> weight, saved as <c>layer_name/name</c>, and
    /// returns it as a fixed-shape tensor for the graph's operations in <c>Call</c> (a 1 x C weight broadcasts over the
    /// batch's rows in Add and Multiply, as a bias). It lives in the model's single parameter buffer, so every
    /// optimizer updates it, frozen layers keep it, and GetWeights / SetWeights, Save and Load see it.
    /// </summary>
    /// <param name="name">The weight's name within the layer (e.g. "kernel", "bias"): letters, digits, '_' and '-'.</param>
    /// <param name="initializer">Its initial values, drawn from the model's seed; Keras' default, glorot_uniform, when null.
    /// A matrix's fan-in is <paramref name="rows"/> and fan-out <paramref name="cols"/> (a Dense kernel's); a 1 x C vector's both C.</param>
    /// <param name="regularizer">An L1/L2 penalty on the weight added to the loss, or null.</param>
    /// <exception cref="ArgumentException">The name is empty, has other characters, or is used twice in the layer.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="cols"/> is not positive.</exception>
    public Tensor AddWeight(string name, int rows, int cols, Initializer? initializer = null, Regularizer? regularizer = null)
    {
        if (string.IsNullOrEmpty(name) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            throw new ArgumentException($"Layer '{_layer.Name}': weight name '{name}' must be non-empty letters, digits, '_' or '-' (e.g. \"kernel\").", nameof(name));
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        string fullName = $"{_layer.Name}/{name}";
        if (_weights.Any(w => w.Name == fullName))
            throw new ArgumentException($"Layer '{_layer.Name}' already has a weight named '{name}'; give each weight its own name.", nameof(name));
        var parameter = _graph.CreateParameter(fullName, rows, cols);
        _weights.Add(parameter);
        if (_context is not null)
        {
            var init = initializer ?? new GlorotUniform();
            if (rows == 1) _context.Initialize(parameter, init, cols, cols);
            else _context.Initialize(parameter, init, rows, cols);
            if (regularizer is not null) _context.Regularization.Add(parameter, regularizer.L1, regularizer.L2);
        }
        return _graph.ParameterTensor(parameter);
    }
}

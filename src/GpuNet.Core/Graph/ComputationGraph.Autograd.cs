using GpuNet.Backends;

namespace GpuNet.Graph;

/// <summary>
/// The autograd builder: differentiable operations that append a node to the graph and return its output,
/// so a formula is written as calls (<c>g.Multiply(g.Add(x, y), z)</c>) and <see cref="Backward(Tensor)"/>
/// gives the gradient of a scalar with respect to every <see cref="Variable(string, int, int, ReadOnlySpan{float})"/> and every input with a gradient.
/// </summary>
/// <remarks>
/// <para>Shapes: a tensor is either batch x C (<see cref="CreateTensor(string, int, bool)"/>: the rows are the step's batch) or a fixed
/// R x C (<see cref="Variable(string, int, int, ReadOnlySpan{float})"/>, <see cref="Constant(string, int, int, ReadOnlySpan{float})"/>, the results of reductions). Build the graph, <see cref="Seal"/>
/// it, then run <see cref="Forward()"/> (or <see cref="Forward(int, bool)"/> with the batch rows) and
/// <see cref="Backward(Tensor)"/>; each node's backward rule is written with backend operations, so it runs on
/// every <see cref="IBackend"/>, and a built graph runs its steps without allocating.</para>
/// <para>Broadcasting (Add, Subtract, Multiply, Divide): the operands have the same shape, or one of them is a
/// fixed 1 x C row vector, repeated over the other's rows (its C equal to the other's), or a fixed 1 x 1 scalar,
/// repeated over every element. The result has the other operand's shape; the broadcast operand's gradient is
/// the sum of the result's gradient over the repeated elements (<see cref="BroadcastNode"/>). Any other pair of
/// shapes throws <see cref="ArgumentException"/>.</para>
/// </remarks>
public sealed partial class ComputationGraph
{
    private readonly List<Tensor> _variables = [];

    /// <summary>The tensors created by <see cref="Variable(string, int, int, ReadOnlySpan{float})"/>, in creation order.</summary>
    public IReadOnlyList<Tensor> Variables => _variables;

    // ---- leaves ------------------------------------------------------------------------

    /// <summary>A fixed <paramref name="rows"/> x <paramref name="cols"/> tensor with a gradient, holding <paramref name="values"/> (row-major).</summary>
    /// <remarks>After <see cref="Backward(Tensor)"/> its <see cref="Tensor.Grad"/> holds d(output)/d(variable), zero where the output does not depend on it.</remarks>
    public Tensor Variable(string name, int rows, int cols, ReadOnlySpan<float> values)
    {
        var t = CreateFixedTensor(name, rows, cols, requiresGrad: true);
        Write(t, values, nameof(values));
        _variables.Add(t);
        return t;
    }

    /// <summary>A 1 x 1 variable holding <paramref name="value"/>.</summary>
    public Tensor Variable(string name, float value) => Variable(name, 1, 1, [value]);

    /// <summary>A fixed <paramref name="rows"/> x <paramref name="cols"/> tensor without a gradient, holding <paramref name="values"/> (row-major).</summary>
    public Tensor Constant(string name, int rows, int cols, ReadOnlySpan<float> values)
    {
        var t = CreateFixedTensor(name, rows, cols, requiresGrad: false);
        Write(t, values, nameof(values));
        return t;
    }

    /// <summary>A 1 x 1 constant holding <paramref name="value"/> (broadcast over any shape it meets).</summary>
    public Tensor Constant(float value) => Constant($"constant{_nodes.Count}", 1, 1, [value]);

    // ---- element-wise binary ops ----------------------------------------------------------

    /// <summary>a + b, broadcasting a row vector or a scalar (see the class remarks). d/da = 1, d/db = 1.</summary>
    public Tensor Add(Tensor a, Tensor b)
    {
        var (x, y) = Broadcast(a, b, "add");
        return Add(new AddNode(this, $"add{_nodes.Count}", x, y)).Output;
    }

    /// <summary>a - b, broadcasting a row vector or a scalar. d/da = 1, d/db = -1.</summary>
    public Tensor Subtract(Tensor a, Tensor b)
    {
        var (x, y) = Broadcast(a, b, "subtract");
        return Add(new AddNode(this, $"subtract{_nodes.Count}", x, y, subtract: true)).Output;
    }

    /// <summary>
    /// [a, b] side by side: each row of a followed by the same row of b (Keras' Concatenate on the feature axis); both
    /// follow the batch or have the same fixed rows. d/da and d/db are the output gradient's column blocks.
    /// </summary>
    public Tensor Concatenate(Tensor a, Tensor b) => Add(new ConcatNode(this, $"concatenate{_nodes.Count}", a, b)).Output;

    /// <summary>a * b element-wise (not the matrix product: see <see cref="MatMul"/>), broadcasting a row vector or a scalar. d/da = b, d/db = a.</summary>
    public Tensor Multiply(Tensor a, Tensor b)
    {
        var (x, y) = Broadcast(a, b, "multiply");
        return Add(new MultiplyNode(this, $"multiply{_nodes.Count}", x, y)).Output;
    }

    /// <summary>a / b element-wise, broadcasting a row vector or a scalar. d/da = 1/b, d/db = -a/b^2.</summary>
    public Tensor Divide(Tensor a, Tensor b)
    {
        var (x, y) = Broadcast(a, b, "divide");
        return Add(new DivideNode(this, $"divide{_nodes.Count}", x, y)).Output;
    }

    /// <summary>-x, as x * (-1).</summary>
    public Tensor Negate(Tensor x) => Multiply(x, Constant(-1f));

    // ---- element-wise unary ops -----------------------------------------------------------

    /// <summary>e^x element-wise. d/dx = e^x.</summary>
    public Tensor Exp(Tensor x) => Add(new ExpNode(this, $"exp{_nodes.Count}", x)).Output;

    /// <summary>ln x element-wise (-inf at 0, NaN below). d/dx = 1/x.</summary>
    public Tensor Log(Tensor x) => Add(new LogNode(this, $"log{_nodes.Count}", x)).Output;

    /// <summary>f(x) element-wise for an <see cref="ActivationKind"/> (formulas and derivatives there; Step has no gradient).</summary>
    public Tensor Activation(Tensor x, ActivationKind kind, float alpha = 0f) =>
        Add(new ActivationNode(this, $"{kind.ToString().ToLowerInvariant()}{_nodes.Count}", x, kind, alpha)).Output;

    /// <summary>1 / (1 + e^-x). d/dx = s(1 - s).</summary>
    public Tensor Sigmoid(Tensor x) => Activation(x, ActivationKind.Sigmoid);

    /// <summary>tanh x. d/dx = 1 - tanh^2 x.</summary>
    public Tensor Tanh(Tensor x) => Activation(x, ActivationKind.Tanh);

    /// <summary>max(0, x). d/dx = 1 if x &gt; 0 else 0.</summary>
    public Tensor Relu(Tensor x) => Activation(x, ActivationKind.Relu);

    /// <summary>Row-wise softmax of an R x C tensor (max-subtracted). dX = Y (dY - sum_c dY Y).</summary>
    public Tensor Softmax(Tensor x) => Add(new SoftmaxNode(this, $"softmax{_nodes.Count}", x)).Output;

    // ---- matrix product and reductions ----------------------------------------------------

    /// <summary>The matrix product a b: a is R x K (batch or fixed), b a fixed K x N; the result is R x N. dA = dY b^T, dB = a^T dY.</summary>
    public Tensor MatMul(Tensor a, Tensor b) => Add(new MatMulNode(this, $"matmul{_nodes.Count}", a, b)).Output;

    /// <summary>
    /// The sum of every element (null <paramref name="axis"/>: 1 x 1), over the rows (axis 0: 1 x C) or over the
    /// columns (axis 1: R x 1). The gradient repeats dY over the summed elements.
    /// </summary>
    public Tensor Sum(Tensor x, int? axis = null) => Add(new SumNode(this, $"sum{_nodes.Count}", x, axis, mean: false)).Output;

    /// <summary>
    /// The mean of every element, over the rows (axis 0) or the columns (axis 1): <see cref="Sum"/> divided by the
    /// number of elements summed, counting the step's rows for a batch tensor. The gradient is dY / that count.
    /// </summary>
    public Tensor Mean(Tensor x, int? axis = null) => Add(new SumNode(this, $"mean{_nodes.Count}", x, axis, mean: true)).Output;

    // ---- running ----------------------------------------------------------------------------

    /// <summary>Runs every node forward over all <see cref="BatchCapacity"/> rows, in inference mode.</summary>
    public void Forward() => Forward(BatchCapacity, training: false);

    /// <summary>
    /// Reverse-mode differentiation from <paramref name="output"/>: seeds d(output)/d(output) = 1 and runs every
    /// node's backward rule in reverse order (after a <see cref="Forward(int, bool)"/>). For a 1 x 1 output, each
    /// tensor's <see cref="Tensor.Grad"/> then holds d(output)/d(tensor); for a larger one, the gradient of the sum
    /// of its elements. Variables the output does not depend on get a zero gradient.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="output"/> has no gradient buffer (it depends on no variable).</exception>
    public void Backward(Tensor output)
    {
        if (output.Grad is null)
            throw new ArgumentException(
                $"'{output.Name}' has no gradient: it depends on no variable or input with a gradient. " +
                "Differentiate a tensor computed from a Variable (or a CreateTensor input with requiresGrad).", nameof(output));
        ThrowIfNotSealed();
        Context.ResetGradients();
        Backend.Fill(output.Grad, 1f);
        Context.Accumulate(output);
        for (int i = _nodes.Count - 1; i >= 0; i--) _nodes[i].Backward(Context);
        foreach (var v in _variables)
            if (!Context.HasGradient(v)) Backend.Fill(v.Grad!, 0f);
        ZeroUnreachedParameterTensors();
    }

    /// <summary>The values of <paramref name="tensor"/> in use (the last step's rows for a batch tensor), row-major; waits for the device.</summary>
    public float[] Read(Tensor tensor) => Download(tensor.Value, tensor);

    /// <summary>The gradient of <paramref name="tensor"/> from the last <see cref="Backward(Tensor)"/>, row-major; waits for the device.</summary>
    public float[] ReadGradient(Tensor tensor) =>
        Download(tensor.Grad ?? throw new ArgumentException($"'{tensor.Name}' has no gradient buffer.", nameof(tensor)), tensor);

    /// <summary>Uploads <paramref name="values"/> (whole rows, row-major) into the first rows of <paramref name="tensor"/>.</summary>
    public void Write(Tensor tensor, ReadOnlySpan<float> values) => Write(tensor, values, nameof(values));

    private void Write(Tensor tensor, ReadOnlySpan<float> values, string paramName)
    {
        int rows = values.Length / tensor.Cols;
        if (values.Length % tensor.Cols != 0 || rows < 1 || rows > tensor.MaxRows || (!tensor.FollowsBatch && rows != tensor.MaxRows))
            throw new ArgumentException(
                $"'{tensor.Name}' is {BroadcastNode.Describe(tensor)}: {values.Length} values are not " +
                (tensor.FollowsBatch ? $"1..{tensor.MaxRows} whole rows of {tensor.Cols}." : $"{tensor.MaxRows * tensor.Cols}."), paramName);
        Backend.Upload(values, tensor.Value.Slice(0, values.Length));
    }

    private float[] Download(DeviceBuffer<float> buffer, Tensor tensor)
    {
        int rows = tensor.FollowsBatch && Context.SampleRows > 0 ? Context.SampleRows : tensor.MaxRows;
        var result = new float[rows * tensor.Cols];
        Backend.Download(buffer.Slice(0, result.Length), result);
        return result;
    }

    // Same shape, or b (or a) a fixed row vector or scalar that a BroadcastNode repeats to the other's shape.
    private (Tensor A, Tensor B) Broadcast(Tensor a, Tensor b, string op)
    {
        if (SameShape(a, b)) return (a, b);
        if (Repeats(b, a)) return (a, Add(new BroadcastNode(this, $"broadcast{_nodes.Count}", b, a)).Output);
        if (Repeats(a, b)) return (Add(new BroadcastNode(this, $"broadcast{_nodes.Count}", a, b)).Output, b);
        throw new ArgumentException(
            $"Cannot {op} '{a.Name}' ({BroadcastNode.Describe(a)}) and '{b.Name}' ({BroadcastNode.Describe(b)}): the shapes must match, " +
            "or one must be a 1 x C row vector with the other's C columns, or a 1 x 1 scalar.", nameof(b));
    }

    private static bool SameShape(Tensor a, Tensor b) =>
        a.FollowsBatch == b.FollowsBatch && a.Cols == b.Cols && (a.FollowsBatch || a.MaxRows == b.MaxRows);

    private static bool Repeats(Tensor small, Tensor big) =>
        !small.FollowsBatch && small.MaxRows == 1 && (small.Cols == 1 || small.Cols == big.Cols);
}

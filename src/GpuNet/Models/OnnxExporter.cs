using System.Runtime.InteropServices;
using Google.Protobuf;
using GpuNet.Backends;
using GpuNet.Graph;
using Onnx;

namespace GpuNet.Models;

/// <summary>
/// Turns a built model's graph into an ONNX model (opset 13) in inference form: the walk visits the graph's
/// nodes in order and writes each as standard ONNX operators, with the weights and states read from the device.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Dense: Gemm(x, kernel [In x Units], bias [Units]); without a bias, Gemm(x, kernel). On samples of more than one
/// dimension (the last axis mapped), MatMul(x, kernel) then Add(bias), which broadcast over the leading axes.</item>
/// <item>Flatten: Flatten(axis 1); Reshape: Reshape to [-1, d1, ..., dk] (the batch inferred).</item>
/// <item>Activations: Relu, Sigmoid, Tanh, LeakyRelu(alpha), Elu(alpha), Softplus, Softmax(last axis: 1 for flat rows); swish as x Sigmoid(x);
/// gelu as 0.5 x (1 + Erf(x / sqrt 2)) (GpuNet's erf approximation differs from the exact one by less than 1.5e-7);
/// step as Cast(Greater(x, 0)).</item>
/// <item>Dropout: Identity (inference passes inputs through).</item>
/// <item>Batch normalization: BatchNormalization with the moving mean and variance (a sample of several rows of features reshaped to rows of the batch around it).</item>
/// <item>Normalization: Mul(x, scale) then Add(shift), the adapted 1 / max(std, eps) and -mean scale.</item>
/// <item>Maxout: Reshape to [batch, units, pieces], then ReduceMax over the pieces.</item>
/// <item>A functional model's merges: Add, Concat (axis 1). Its several inputs stay one ONNX input, their values side by
/// side as <see cref="Sequential.Predict"/> takes them; each input is a Slice of its columns (axis 1). A shared layer's
/// applications read the same initializers.</item>
/// <item>The loss adds the softmax or sigmoid it fuses (unless the model outputs logits), so the file computes
/// what <see cref="Sequential.Predict"/> returns.</item>
/// </list>
/// The batch dimension is symbolic (<c>batch</c>): the file runs any number of rows.
/// </remarks>
internal sealed class OnnxExporter
{
    /// <summary>The operator set written; every operator above has had its current form since opset 13.</summary>
    public const int Opset = 13;

    /// <summary>The IR version that goes with opset 13 (ONNX 1.8).</summary>
    public const int IrVersion = 7;

    public const string InputName = "input";
    public const string OutputName = "output";

    private readonly ComputationGraph _source;
    private readonly GraphProto _graph = new() { Name = "sequential" };
    private readonly Dictionary<Tensor, string> _names = [];
    private readonly HashSet<string> _initializers = new(StringComparer.Ordinal);
    private readonly Tensor _prediction;

    private OnnxExporter(ComputationGraph graph, Tensor prediction)
    {
        _source = graph;
        _prediction = prediction;
    }

    /// <summary>The ONNX model of <paramref name="graph"/> from <paramref name="input"/> to <paramref name="prediction"/>.</summary>
    public static ModelProto Export(ComputationGraph graph, Tensor input, Tensor prediction, IReadOnlyDictionary<string, string> metadata, string docString)
    {
        var exporter = new OnnxExporter(graph, prediction);
        exporter._names[input] = InputName;
        exporter._graph.Input.Add(Value(InputName, input.Shape));
        foreach (var node in graph.Nodes) exporter.Add(node);
        if (!exporter._names.TryGetValue(prediction, out var last))
            throw new NotSupportedException($"The model's output '{prediction.Name}' is not computed by any node GpuNet can export.");
        if (last != OutputName) exporter.Node("Identity", "output", [last], OutputName); // the output is the input itself
        exporter._graph.Output.Add(Value(OutputName, prediction.Shape));

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "GpuNet",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString(3) ?? "",
            DocString = docString,
            Graph = exporter._graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    private void Add(Node node)
    {
        switch (node)
        {
            case RegularizationNode:
                break; // training only: a penalty on the loss
            case AffineNode a when a.Input.Shape.Rank == 1:
                Node("Gemm", Base(a.Output), a.Bias is null ? [In(a.Input), Weights(a.Weights)] : [In(a.Input), Weights(a.Weights), Weights(a.Bias, vector: true)], Out(a.Output));
                break;
            case AffineNode a:
            {
                // Gemm takes matrices only; MatMul maps the last axis of (batch, ..., In) and broadcasts the rest
                string name = Base(a.Output);
                if (a.Bias is null) Node("MatMul", name, [In(a.Input), Weights(a.Weights)], Out(a.Output));
                else
                {
                    Node("MatMul", name + "/matmul", [In(a.Input), Weights(a.Weights)], name + "/matmul");
                    Node("Add", name, [name + "/matmul", Weights(a.Bias, vector: true)], Out(a.Output));
                }
                break;
            }
            case ReshapeNode r when r.Flattens:
                Node("Flatten", Base(r.Output), [In(r.Input)], Out(r.Output), Int("axis", 1));
                break;
            case ReshapeNode r:
            {
                string name = Base(r.Output);
                Node("Reshape", name, [In(r.Input), Int64s(name + "/shape", [-1, .. r.Output.Shape.Select(d => (long)d)])], Out(r.Output));
                break;
            }
            case ActivationNode a:
                AddActivation(a.Kind, a.Alpha, In(a.Input), a.Output);
                break;
            case SoftmaxNode s:
                Node("Softmax", Base(s.Output), [In(s.Input)], Out(s.Output), Int("axis", s.Input.Shape.Rank)); // the last axis
                break;
            case DropoutNode d:
                Node("Identity", Base(d.Output), [In(d.Input)], Out(d.Output));
                break;
            case BatchNormNode b when b.RowsPerSample == 1:
                Node("BatchNormalization", Base(b.Output),
                    [In(b.Input), Weights(b.Gamma, vector: true), Weights(b.Beta, vector: true), State(b.RunningMean), State(b.RunningVariance)],
                    Out(b.Output), Float("epsilon", b.Epsilon));
                break;
            case BatchNormNode b:
            {
                // ONNX normalizes axis 1: the sample's rows of features become rows of the batch, and back
                string name = Base(b.Output);
                Node("Reshape", name + "/rows", [In(b.Input), Int64s(name + "/rows_shape", [-1, b.Features])], name + "/rows");
                Node("BatchNormalization", name,
                    [name + "/rows", Weights(b.Gamma, vector: true), Weights(b.Beta, vector: true), State(b.RunningMean), State(b.RunningVariance)],
                    name + "/normalized", Float("epsilon", b.Epsilon));
                Node("Reshape", name + "/samples", [name + "/normalized", Int64s(name + "/shape", [-1, .. b.Output.Shape.Select(d => (long)d)])],
                    Out(b.Output));
                break;
            }
            case ColumnAffineNode c:
            {
                string name = Base(c.Output);
                Node("Mul", name + "/scale", [In(c.Input), State(c.ScaleBuffer)], name + "/scaled");
                Node("Add", name + "/shift", [name + "/scaled", State(c.ShiftBuffer)], Out(c.Output));
                break;
            }
            case MaxoutNode m:
            {
                string name = Base(m.Output);
                string shape = Int64s(name + "/shape", [-1, m.Output.Cols, m.Pieces]);
                Node("Reshape", name + "/pieces", [In(m.Input), shape], name + "/pieces");
                Node("ReduceMax", name, [name + "/pieces"], Out(m.Output), Ints("axes", [2]), Int("keepdims", 0));
                break;
            }
            // a functional model's merges; both operands follow the batch there, as in the file
            case AddNode a when a.A.FollowsBatch && a.B.FollowsBatch:
                Node(a.Subtract ? "Sub" : "Add", Base(a.Output), [In(a.A), In(a.B)], Out(a.Output));
                break;
            case ConcatNode c when c.A.FollowsBatch:
                Node("Concat", Base(c.Output), [In(c.A), In(c.B)], Out(c.Output), Int("axis", 1));
                break;
            case SliceColumnsNode s when s.Input.FollowsBatch:
            {
                // one of a functional model's inputs: its block of the one input's columns
                string name = Base(s.Output);
                Node("Slice", name, [In(s.Input), Int64s(name + "/starts", [s.Offset]), Int64s(name + "/ends", [s.Offset + s.Count]), Int64s(name + "/axes", [1])],
                    Out(s.Output));
                break;
            }
            case SoftmaxCrossEntropyLoss or SoftmaxCrossEntropyDenseLoss when ReferenceEquals(((LossNode)node).Prediction, _prediction):
            {
                var loss = (LossNode)node;
                Node("Softmax", "softmax", [In(loss.Input)], Out(loss.Prediction), Int("axis", 1));
                break;
            }
            case SigmoidCrossEntropyLoss s when ReferenceEquals(s.Prediction, _prediction):
                Node("Sigmoid", "sigmoid", [In(s.Input)], Out(s.Prediction));
                break;
            case LossNode:
                break; // the prediction is the loss's input (probabilities, values, or logits)
            default:
                throw new NotSupportedException($"Graph node {node.GetType().Name} ('{node.Output.Name}') has no ONNX form yet; models with it cannot be exported.");
        }
    }

    private void AddActivation(ActivationKind kind, float alpha, string x, Tensor output)
    {
        string name = Base(output);
        switch (kind)
        {
            case ActivationKind.Linear: Node("Identity", name, [x], Out(output)); break;
            case ActivationKind.Sigmoid: Node("Sigmoid", name, [x], Out(output)); break;
            case ActivationKind.Tanh: Node("Tanh", name, [x], Out(output)); break;
            case ActivationKind.Relu: Node("Relu", name, [x], Out(output)); break;
            case ActivationKind.Softplus: Node("Softplus", name, [x], Out(output)); break;
            case ActivationKind.LeakyRelu: Node("LeakyRelu", name, [x], Out(output), Float("alpha", alpha)); break;
            case ActivationKind.Elu: Node("Elu", name, [x], Out(output), Float("alpha", alpha)); break;
            case ActivationKind.Selu: Node("Selu", name, [x], Out(output), Float("alpha", ActivationMath.SeluAlpha), Float("gamma", ActivationMath.SeluScale)); break;
            case ActivationKind.Step:
                // 1 if x > 0 else 0 (0 at x = 0, as GpuNet's step)
                Node("Greater", name + "/positive", [x, Scalar("const/zero", 0f)], name + "/positive");
                Node("Cast", name, [name + "/positive"], Out(output), Int("to", (int)TensorProto.Types.DataType.Float));
                break;
            case ActivationKind.Swish:
                // x s(x)
                Node("Sigmoid", name + "/sigmoid", [x], name + "/sigmoid");
                Node("Mul", name, [x, name + "/sigmoid"], Out(output));
                break;
            case ActivationKind.Gelu:
                // x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); Gelu is an operator only from opset 20
                Node("Mul", name + "/scaled", [x, Scalar("const/inv_sqrt2", 0.70710678118654752f)], name + "/scaled");
                Node("Erf", name + "/erf", [name + "/scaled"], name + "/erf");
                Node("Add", name + "/one_plus_erf", [name + "/erf", Scalar("const/one", 1f)], name + "/one_plus_erf");
                Node("Mul", name + "/x_times", [x, name + "/one_plus_erf"], name + "/x_times");
                Node("Mul", name, [name + "/x_times", Scalar("const/half", 0.5f)], Out(output));
                break;
            default:
                throw new NotSupportedException($"Activation {kind} has no ONNX form yet; models with it cannot be exported.");
        }
    }

    /// <summary>The ONNX name of a tensor already written.</summary>
    private string In(Tensor t) => _names.TryGetValue(t, out var name) ? name
        : throw new InvalidOperationException($"Graph tensor '{t.Name}' is used before the node that computes it; the graph is not in topological order.");

    /// <summary>Names the output of the node being written: "output" for the model's prediction.</summary>
    private string Out(Tensor t) => _names[t] = ReferenceEquals(t, _prediction) ? OutputName : t.Name;

    /// <summary>A node's name: its output's name without "/output".</summary>
    private static string Base(Tensor t) => t.Name.EndsWith("/output", StringComparison.Ordinal) ? t.Name[..^"/output".Length] : t.Name;

    private void Node(string op, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
    }

    /// <summary>A parameter as an initializer under its graph name: a matrix [Rows, Cols], or a vector [Cols] for a bias, gamma or beta.</summary>
    private string Weights(Parameter p, bool vector = false) =>
        Initializer(p.Name, vector ? [p.Cols] : [p.Rows, p.Cols], Download(p.Value));

    /// <summary>A graph state (moving statistics, normalization scale and shift) as a vector initializer under its state name.</summary>
    private string State(DeviceBuffer<float> buffer)
    {
        foreach (var (name, state) in _source.States)
            if (ReferenceEquals(state, buffer)) return Initializer(name, [buffer.Length], Download(buffer));
        throw new InvalidOperationException("A node refers to a state buffer the graph does not list.");
    }

    private string Scalar(string name, float value) => Initializer(name, [], [value]);

    private string Initializer(string name, long[] dims, float[] values)
    {
        if (!_initializers.Add(name)) return name; // shared constants are written once
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        // raw_data is little-endian, as .NET's floats on every platform GpuNet runs on
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        _graph.Initializer.Add(tensor);
        return name;
    }

    private string Int64s(string name, long[] values)
    {
        _initializers.Add(name);
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        _graph.Initializer.Add(tensor);
        return name;
    }

    private float[] Download(DeviceBuffer<float> buffer)
    {
        var host = new float[buffer.Length];
        _source.Backend.Download(buffer, host);
        return host;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static AttributeProto Ints(string name, long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>A float tensor [batch, d1, ..., dk] with a symbolic batch dimension.</summary>
    private static ValueInfoProto Value(string name, Shape sample)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (int d in sample) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}

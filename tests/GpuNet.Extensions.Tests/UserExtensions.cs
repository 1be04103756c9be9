using System.Text.Json.Nodes;
using GpuNet.Backends;
using GpuNet.Graph;
using GpuNet.Initializers;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Optimizers;

namespace GpuNet.Extensions.Tests;

// What a user of the library writes: each extension uses the public API only (this assembly sees no internals).

/// <summary>A fully connected layer written by a user: y = activation(x W + b), with Dense's initialization.</summary>
public sealed class MyDense(int units, Activation? activation = null, string? name = null) : Layer(name)
{
    private Tensor _kernel = null!, _bias = null!;

    public int Units { get; } = units;

    public Activation Activation { get; } = activation ?? Activation.Linear;

    public override int OutputSize(int inputSize) => Units;

    protected override void Build(LayerBuilder builder)
    {
        _kernel = builder.AddWeight("kernel", builder.InputSize, Units, new GlorotUniform());
        _bias = builder.AddWeight("bias", 1, Units, new Zeros());
    }

    protected override Tensor Call(ComputationGraph g, Tensor x) => Activation.Apply(g, g.Add(g.MatMul(x, _kernel), _bias));

    public override JsonObject GetConfig() => new() { ["units"] = Units, ["activation"] = Activation.Name };

    /// <summary>Registers the class for Sequential.Load (Keras' from_config).</summary>
    public static void Register() => CustomObjects.RegisterLayer("MyDense", (config, name) =>
        new MyDense(config["units"]!.GetValue<int>(), Activation.Parse(config["activation"]!.GetValue<string>()), name));
}

/// <summary>A residual block: y = x + relu(x W + b), W square (the input width in and out).</summary>
public sealed class Residual(string? name = null) : Layer(name)
{
    private Tensor _kernel = null!, _bias = null!;

    public override int OutputSize(int inputSize) => inputSize;

    protected override void Build(LayerBuilder builder)
    {
        _kernel = builder.AddWeight("kernel", builder.InputSize, builder.InputSize, new HeNormal());
        _bias = builder.AddWeight("bias", 1, builder.InputSize, new Zeros());
    }

    protected override Tensor Call(ComputationGraph g, Tensor x) => g.Add(x, g.Relu(g.Add(g.MatMul(x, _kernel), _bias)));
}

/// <summary>A layer whose class is never registered: loading a model with it fails with a message naming it.</summary>
public sealed class NeverRegistered(string? name = null) : Layer(name)
{
    private Tensor _scale = null!;

    public override int OutputSize(int inputSize) => inputSize;

    protected override void Build(LayerBuilder builder) => _scale = builder.AddWeight("scale", 1, builder.InputSize, new Ones());

    protected override Tensor Call(ComputationGraph g, Tensor x) => g.Multiply(x, _scale);
}

/// <summary>The user's activations.</summary>
public static class MyActivations
{
    /// <summary>"Quick GELU": x sigmoid(1.702 x), GELU's sigmoid approximation, as graph operations.</summary>
    public static Activation QuickGelu { get; } =
        Activation.Custom("quick_gelu", (g, x) => g.Multiply(x, g.Sigmoid(g.Multiply(x, g.Constant(1.702f)))));

    public static double QuickGeluOf(double x) => x / (1 + Math.Exp(-1.702 * x));
}

/// <summary>
/// The Huber loss written by a user with graph operations: per element e = p - t, 0.5 e^2 where |e| &lt;= delta,
/// delta (|e| - 0.5 delta) beyond; as |e| = relu(e) + relu(-e) and min(|e|, delta) = |e| - relu(|e| - delta):
/// 0.5 min(|e|, delta)^2 + delta relu(|e| - delta).
/// </summary>
public sealed class Huber(float delta = 1f) : Loss
{
    public float Delta { get; } = delta;

    public override string Name => "huber";

    protected override Tensor Call(ComputationGraph g, Tensor yTrue, Tensor yPred)
    {
        var e = g.Subtract(yPred, yTrue);
        var abs = g.Add(g.Relu(e), g.Relu(g.Negate(e)));
        var over = g.Relu(g.Subtract(abs, g.Constant(Delta)));
        var inside = g.Subtract(abs, over);
        return g.Add(g.Multiply(g.Constant(0.5f), g.Multiply(inside, inside)), g.Multiply(g.Constant(Delta), over)); // batch x outputs
    }

    public override JsonObject GetConfig() => new() { ["delta"] = Delta };

    public static void Register() => CustomObjects.RegisterLoss("huber", config => new Huber(config["delta"]!.GetValue<float>()));
}

/// <summary>Categorical cross-entropy written by a user: -sum_c t_c log p_c per sample (a batch x 1 tensor), on probabilities.</summary>
public sealed class MyCrossEntropy : Loss
{
    public override string Name => "my_crossentropy";

    protected override Tensor Call(ComputationGraph g, Tensor yTrue, Tensor yPred) =>
        g.Negate(g.Sum(g.Multiply(yTrue, g.Log(yPred)), axis: 1));
}

/// <summary>A mean squared error with a weight per output, returned as the batch's 1 x 1 mean.</summary>
public sealed class WeightedMse(params float[] weights) : Loss
{
    public override string Name => "weighted_mse";

    protected override Tensor Call(ComputationGraph g, Tensor yTrue, Tensor yPred)
    {
        var e = g.Subtract(yPred, yTrue);
        var w = g.Constant("output_weights", 1, weights.Length, weights); // a 1 x C row, broadcast over the batch
        return g.Mean(g.Multiply(w, g.Multiply(e, e)));
    }
}

/// <summary>
/// PyTorch's SGD momentum (heavy ball) written by a user with backend element-wise operations:
/// v = m v + g; w -= lr v. With a constant rate it takes the same steps as Keras' SGD momentum (v = m v - lr g; w += v).
/// The rate is read on the device (<see cref="Optimizer.StepLearningRate"/>), so its launches are the same every step.
/// </summary>
public sealed class HeavyBall(LearningRateSchedule schedule, float momentum) : Optimizer(schedule)
{
    public HeavyBall(float learningRate, float momentum) : this(new ConstantLearningRate(learningRate), momentum)
    {
    }

    public float Momentum { get; } = momentum;

    public override string Name => $"HeavyBall(lr={Schedule}, momentum={Momentum})";

    protected override int StateBuffers => 1;

    protected override void Update(IBackend backend, DeviceBuffer<float> parameters, DeviceBuffer<float> gradients,
        IReadOnlyList<DeviceBuffer<float>> slots, int count, long iteration, int epoch)
    {
        var velocity = slots[0];
        backend.Scale(velocity, count, Momentum); // v = m v
        backend.SgdUpdate(velocity, gradients, count, -1f); // v += g
        var (values, index) = StepLearningRate;
        backend.SgdUpdate(parameters, velocity, count, values, index); // w -= lr v, the step's rate read on the device
    }

    public override JsonObject GetConfig() => new() { ["momentum"] = Momentum };

    public static void Register() => CustomObjects.RegisterOptimizer("HeavyBall", (config, schedule) =>
        new HeavyBall(((ConstantLearningRate)schedule).Value, config["momentum"]!.GetValue<float>()));
}

/// <summary>A loss whose name is never registered.</summary>
public sealed class NeverRegisteredLoss : Loss
{
    public override string Name => "never_registered_loss";

    protected override Tensor Call(ComputationGraph g, Tensor yTrue, Tensor yPred) => g.Mean(g.Multiply(g.Subtract(yPred, yTrue), g.Subtract(yPred, yTrue)));
}

/// <summary>An optimizer whose class is never registered: plain SGD by hand.</summary>
public sealed class NeverRegisteredSgd(float learningRate) : Optimizer(new ConstantLearningRate(learningRate))
{
    public override string Name => "never_registered_sgd";

    protected override void Update(IBackend backend, DeviceBuffer<float> parameters, DeviceBuffer<float> gradients,
        IReadOnlyList<DeviceBuffer<float>> slots, int count, long iteration, int epoch) =>
        backend.SgdUpdate(parameters, gradients, count, LearningRate(iteration, epoch));
}

using GpuNet.Graph;

namespace GpuNet.Optimizers;

/// <summary>Updates every parameter of a graph from its gradient, with one launch over the flat parameter buffer.</summary>
public abstract class Optimizer
{
    /// <summary>Allocates any state (momentum, moments) for the graph's parameters.</summary>
    public virtual void Build(ComputationGraph graph) { }

    /// <summary>Applies one update; <paramref name="iteration"/> counts steps from 0.</summary>
    public abstract void Step(ComputationGraph graph, long iteration);

    public abstract string Name { get; }

    protected static float ValidateLearningRate(float learningRate) =>
        float.IsFinite(learningRate) && learningRate > 0 ? learningRate
        : throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate,
            $"The learning rate must be a positive finite number; received learning_rate={learningRate}. The lecture uses 0.01 for SGD.");
}

/// <summary>Stochastic gradient descent: w = w - lr * dL/dw.</summary>
public sealed class Sgd(float learningRate = 0.01f) : Optimizer
{
    public float LearningRate { get; } = ValidateLearningRate(learningRate);

    public override string Name => $"SGD(lr={LearningRate})";

    public override void Step(ComputationGraph graph, long iteration) =>
        graph.Backend.SgdUpdate(graph.ParameterBuffer, graph.GradientBuffer, graph.ParameterCount, LearningRate);
}

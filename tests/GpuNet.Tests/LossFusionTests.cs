using GpuNet.Backends;
using GpuNet.Graph;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// The rewrite pass that fuses the output activation into the loss: layers build their whole computation, and the
/// pass takes the softmax or sigmoid node out when the loss applies it itself.
/// </summary>
public class LossFusionTests
{
    private static readonly float[] Features = [0.5f, -1f, 2f, 0.1f, 0.3f, -0.7f];

    private static Sequential Built(Loss loss, params Layer[] layers)
    {
        var model = new Sequential(layers);
        model.Compile(new Sgd(0.1f), loss, new CpuBackend());
        int classes = layers[^1] is Dense { Units: 1 } or ActivationLayer ? 2 : 5;
        model.Evaluate(new GpuNet.Data.Dataset("two", Features, [1, 0], 3, classes)); // builds the graph for 3 features
        return model;
    }

    [Fact]
    public void SoftmaxWithCrossEntropyLeavesNoSoftmaxNodeAndTheLossReadsTheLogits()
    {
        using var model = Built(new SparseCategoricalCrossentropy(), new Dense(4, "relu"), new Dense(5, "softmax"));
        var graph = model.Graph!;
        Assert.DoesNotContain(graph.Nodes, n => n is SoftmaxNode);
        var loss = Assert.IsType<SoftmaxCrossEntropyLoss>(graph.Nodes[^1]);
        var affine = Assert.IsType<AffineNode>(graph.Nodes[^2]);
        Assert.Same(affine.Output, loss.Input);
    }

    [Fact]
    public void SigmoidWithBinaryCrossEntropyIsFusedToo()
    {
        using var model = Built(new BinaryCrossentropy(), new Dense(4, "tanh"), new ActivationLayer("linear"), new Dense(1), new ActivationLayer("sigmoid"));
        Assert.DoesNotContain(model.Graph!.Nodes, n => n is ActivationNode { Kind: ActivationKind.Sigmoid });
        Assert.IsType<SigmoidCrossEntropyLoss>(model.Graph!.Nodes[^1]);
    }

    [Fact]
    public void ALossThatDoesNotApplyTheActivationKeepsItsNode()
    {
        using var model = Built(new MeanSquaredError(), new Dense(5, "softmax"));
        var softmax = Assert.IsType<SoftmaxNode>(model.Graph!.Nodes[^2]);
        Assert.Same(softmax.Output, model.LossNode!.Input);
    }

    [Fact]
    public void AFusedAndAnUnfusedModelComputeTheSameLoss()
    {
        // the same weights; the probability cross-entropy on the softmax output against the fused loss on the logits
        var x = Features;
        var data = new GpuNet.Data.Dataset("two", x, [1, 3], 3, 5);
        using var fused = Built(new SparseCategoricalCrossentropy(), new Dense(5, "softmax", name: "out"));
        using var unfused = Built(new SparseCategoricalCrossentropy(), new Dense(5, name: "out"), new ActivationLayer("softmax", name: "probs"));
        Assert.IsType<SoftmaxCrossEntropyLoss>(unfused.Graph!.Nodes[^1]); // an Activation layer's softmax is taken out as well
        unfused.SetWeights("out", [.. fused.GetWeights("out").Select(w => w.Data)]);
        Assert.Equal(fused.Evaluate(data).Loss, unfused.Evaluate(data).Loss, 1e-6);
        Assert.Equal(fused.Predict(x, 2), unfused.Predict(x, 2));
    }

    [Fact]
    public void OnlyTheLastNodeOfAnUnsealedGraphCanBeRemoved()
    {
        using var backend = new CpuBackend();
        using var graph = new ComputationGraph(backend, 2);
        var input = graph.CreateTensor("x", 3, requiresGrad: false);
        var first = graph.Add(new ActivationNode(graph, "a", input, ActivationKind.Tanh));
        var second = graph.Add(new SoftmaxNode(graph, "s", first.Output));
        Assert.Null(graph.FinalProducer(first.Output));
        Assert.Throws<InvalidOperationException>(() => graph.RemoveFinalNode(first));
        Assert.Same(second, graph.FinalProducer(second.Output));
        graph.RemoveFinalNode(second);
        Assert.Equal([first], graph.Nodes);
        graph.Seal();
        Assert.Throws<InvalidOperationException>(() => graph.RemoveFinalNode(first));
    }
}

using GpuNet.Graph;
using GpuNet.Layers;

namespace GpuNet.Losses;

/// <summary>
/// The graph-rewrite pass that fuses the output activation into the loss. Layers always build their whole
/// computation, final activation included; then, when the loss applies that activation itself (softmax or
/// sigmoid with cross-entropy: one pass for the probabilities, the loss and a gradient of p - y that never
/// divides by p) and the activation's node is the graph's last, the pass removes that node and builds the
/// fused loss on the logits. Otherwise the loss reads the activation's output, as computed.
/// </summary>
internal static class LossFusion
{
    /// <summary>Adds the loss node on <paramref name="output"/>, the model's output, whose last activation is <paramref name="last"/>.</summary>
    public static LossNode AddLoss(ComputationGraph graph, Tensor output, Loss loss, Activation last)
    {
        if (loss.FromLogits) return graph.Add(loss.CreateNode(graph, output, last)); // the output is already logits
        if (!loss.FusesWith(last)) return graph.Add(loss.CreateNode(graph, output, Activation.Linear));
        Tensor? logits = graph.FinalProducer(output) switch
        {
            SoftmaxNode s when last.IsSoftmax => s.Input,
            ActivationNode a when !last.IsCustom && !last.IsSoftmax && a.Kind == last.Kind => a.Input,
            _ => null, // applied somewhere the pass cannot take it out (inside a custom layer): the loss reads probabilities
        };
        if (logits is null) return graph.Add(loss.CreateNode(graph, output, Activation.Linear));
        graph.RemoveFinalNode(graph.FinalProducer(output)!);
        return graph.Add(loss.CreateNode(graph, logits, last));
    }
}

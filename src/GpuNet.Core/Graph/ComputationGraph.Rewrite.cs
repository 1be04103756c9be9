namespace GpuNet.Graph;

// Rewriting a graph before it is sealed: the pass that fuses the output activation into the loss.
public sealed partial class ComputationGraph
{
    /// <summary>The node that computed <paramref name="output"/> when it is the last node added (so nothing reads its output yet), else null.</summary>
    public Node? FinalProducer(Tensor output) =>
        _nodes.Count > 0 && ReferenceEquals(_nodes[^1].Output, output) ? _nodes[^1] : null;

    /// <summary>
    /// Takes out the last node (see <see cref="FinalProducer"/>) and frees its output's buffers: how a loss that applies the
    /// output activation itself, fused with its gradient (softmax or sigmoid with cross-entropy), replaces that activation's node.
    /// </summary>
    /// <exception cref="InvalidOperationException">The graph is sealed, or <paramref name="node"/> is not its last node.</exception>
    public void RemoveFinalNode(Node node)
    {
        ThrowIfSealed();
        if (_nodes.Count == 0 || !ReferenceEquals(_nodes[^1], node))
            throw new InvalidOperationException("Only the last node added can be removed: a later node may read its output.");
        if (node.Parameters.Any())
            throw new InvalidOperationException("A node with parameters cannot be removed: its weights are part of the model.");
        _nodes.RemoveAt(_nodes.Count - 1);
        Release(node.Output.Value);
        if (node.Output.Grad is { } grad) Release(grad);
    }

    private void Release(Backends.DeviceBuffer<float> buffer)
    {
        if (_owned.Remove(buffer)) buffer.Dispose();
    }
}

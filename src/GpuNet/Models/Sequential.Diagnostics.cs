using GpuNet.Data;
using GpuNet.Graph;

namespace GpuNet.Models;

/// <summary>The L2 norm of one parameter's gradient (<see cref="Sequential.GradientNorms"/>).</summary>
/// <param name="Parameter">The parameter's name, e.g. <c>dense_1/kernel</c>.</param>
/// <param name="Norm">sqrt(sum of squared gradient entries) of the mean loss over the batch.</param>
/// <param name="RootMeanSquare">Norm / sqrt(entries): comparable between layers of different sizes.</param>
public sealed record GradientNorm(string Parameter, double Norm, double RootMeanSquare);

public sealed partial class Sequential
{
    /// <summary>
    /// The gradient of the loss on the first <paramref name="batchSize"/> samples of <paramref name="data"/>
    /// with respect to every parameter, reduced to its L2 norm, input layer first: the lecture's vanishing-gradient
    /// measurement (with sigmoid hidden layers the first layers' gradients are orders of magnitude smaller than
    /// the last ones'; with ReLU and He initialization they stay comparable).
    /// </summary>
    /// <remarks>
    /// One forward and backward pass in training mode and no update: the weights do not change, and the
    /// batch-norm moving statistics and dropout stream a training step would advance are put back as they were.
    /// A model with an LSUV initializer still waiting to run gets it first (on this batch, as Fit would), so the
    /// gradients are those of the weights training starts from.
    /// </remarks>
    public IReadOnlyList<GradientNorm> GradientNorms(Dataset data, int batchSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        CheckOutputs(data);
        var graph = EnsureBuilt(data.FeatureCount, batchSize);
        var backend = Backend!;
        ulong step = graph.StepValues.Step;
        using var onDevice = new DeviceData(backend, data, _lossNode!);
        int rows = Math.Min(Math.Min(batchSize, graph.BatchCapacity), data.Count);
        if (_lsuvPending) RunLsuv(onDevice, rows);
        var states = graph.States.Select(s => (s.Buffer, Saved: Download(s.Buffer))).ToList();
        LoadBatch(onDevice, 0, rows);
        graph.Forward(rows, training: true);
        graph.Backward();

        var norms = new List<GradientNorm>(graph.Parameters.Count);
        foreach (var p in graph.Parameters)
        {
            double sum = 0;
            foreach (float g in Download(p.Grad)) sum += (double)g * g;
            norms.Add(new GradientNorm(p.Name, Math.Sqrt(sum), Math.Sqrt(sum / Math.Max(1, p.Count))));
        }
        foreach (var (buffer, saved) in states) backend.Upload<float>(saved, buffer);
        graph.StepValues.Step = step;
        return norms;

        float[] Download(Backends.DeviceBuffer<float> buffer)
        {
            var host = new float[buffer.Length];
            backend.Download(buffer, host);
            return host;
        }
    }
}

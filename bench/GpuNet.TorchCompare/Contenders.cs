using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace GpuNet.TorchCompare;

/// <summary>One side of the comparison, built for one model and batch size: bare training steps over data in memory.</summary>
internal interface IContender : IDisposable
{
    /// <summary>Runs one training step (next batch, forward, loss, backward, SGD update) to completion.</summary>
    void Step();
}

/// <summary>The MLPs compared: 784 inputs, ReLU hidden layers, 10 classes.</summary>
/// <param name="Name">lecture or wide.</param>
/// <param name="Hidden">Hidden layer widths.</param>
internal sealed record MlpShape(string Name, int[] Hidden)
{
    public const int Features = 784;
    public const int Classes = 10;

    public static readonly MlpShape Lecture = new("lecture", [128, 64]);
    public static readonly MlpShape Wide = new("wide", [2048, 2048]);

    public static MlpShape Parse(string name) => name switch
    {
        "lecture" => Lecture,
        "wide" => Wide,
        _ => throw new ArgumentException($"Unknown model '{name}'. Expected lecture or wide."),
    };

    /// <summary>Every layer's width, input to output.</summary>
    public int[] Layers => [Features, .. Hidden, Classes];

    public string Description => string.Join("-", Layers);

    /// <summary>
    /// Floating-point operations of the matrix products in one training step of <paramref name="batch"/> rows:
    /// per dense layer (in x out) forward 2·B·in·out, weight gradient 2·B·in·out, and input gradient 2·B·in·out
    /// for every layer but the first (nobody needs the gradient of the data). Bias, activation, loss and
    /// update are O(B·out) or O(in·out) and left out (under 1% of the total past batch 4).
    /// </summary>
    public double FlopsPerStep(int batch)
    {
        var layers = Layers;
        double flops = 0;
        for (int i = 0; i + 1 < layers.Length; i++)
            flops += (i == 0 ? 4.0 : 6.0) * batch * layers[i] * layers[i + 1];
        return flops;
    }

    /// <summary>
    /// Bytes one training step must move if every tensor crosses memory once per use (float32), a model of the traffic,
    /// not a measurement: per dense layer (in x out, weights W and bias b), W and b are read forward, W again for the
    /// input gradient (not in the first layer), their gradients written, then the SGD update reads W, b and their gradients
    /// and writes W and b: 6 passes over the parameters (5 in the first layer). The activations: forward reads the input
    /// (B x in) and writes the output (B x out, kept for backward); backward reads the output gradient, reads the input
    /// again for the weight gradient and writes the input gradient (not in the first layer). Where the working set fits in
    /// the caches (2.5 MB L2 per core, 48 MB L3 on the benchmark machine), DRAM sees less than this.
    /// </summary>
    public double BytesPerStep(int batch)
    {
        var layers = Layers;
        double floats = 0;
        for (int i = 0; i + 1 < layers.Length; i++)
        {
            double parameters = (double)layers[i] * layers[i + 1] + layers[i + 1];
            floats += (i == 0 ? 5 : 6) * parameters;
            floats += (double)batch * ((i == 0 ? 2 : 3) * layers[i] + 2 * layers[i + 1]);
        }
        return 4 * floats;
    }
}

/// <summary>GpuNet's CPU backend through the same runner `gpunet bench` times.</summary>
internal sealed class GpuNetContender : IContender
{
    private readonly Sequential _model;
    private readonly TrainingStepRunner _runner;

    public GpuNetContender(IBackend backend, MlpShape shape, Dataset data, int batch, int seed)
    {
        _model = new Sequential([.. shape.Hidden.Select(w => (Layer)new Dense(w, "relu")), new Dense(MlpShape.Classes, "softmax")]);
        _model.Compile(new Sgd(0.01f), new SparseCategoricalCrossentropy(), backend, seed: (ulong)seed);
        _runner = _model.PrepareTrainingSteps(data, batch);
    }

    public void Step()
    {
        _runner.Step();
        _runner.Synchronize();
    }

    public void Dispose()
    {
        _runner.Dispose();
        _model.Dispose();
    }
}

/// <summary>
/// libtorch through TorchSharp, written as a PyTorch user would: nn.Sequential of Linear and ReLU,
/// CrossEntropyLoss on the logits (log-softmax inside, the same function as GpuNet's softmax + sparse
/// categorical cross-entropy), optim.SGD, zero_grad / backward / step, batches as views of one tensor.
/// </summary>
internal sealed class TorchContender : IContender
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly optim.Optimizer _optimizer;
    private readonly nn.Module<Tensor, Tensor, Tensor> _loss = nn.CrossEntropyLoss();
    private readonly Tensor _x, _y;
    private readonly int _batch;
    private readonly long _batches;
    private long _iteration;

    /// <param name="x">All rows, (N, 784) float32.</param>
    /// <param name="y">All labels, (N) int64.</param>
    public TorchContender(MlpShape shape, Tensor x, Tensor y, int batch, int seed)
    {
        torch.manual_seed(seed);
        var modules = new List<nn.Module<Tensor, Tensor>>();
        var layers = shape.Layers;
        for (int i = 0; i + 1 < layers.Length; i++)
        {
            modules.Add(nn.Linear(layers[i], layers[i + 1]));
            if (i + 2 < layers.Length) modules.Add(nn.ReLU());
        }
        _model = nn.Sequential(modules);
        _optimizer = optim.SGD(_model.parameters(), 0.01);
        _x = x;
        _y = y;
        _batch = batch;
        _batches = Math.Max(1, x.shape[0] / batch);
    }

    public void Step()
    {
        using var scope = torch.NewDisposeScope(); // frees the step's tensors now, not at the next GC
        long offset = _iteration++ % _batches * _batch;
        var xb = _x.narrow(0, offset, _batch);
        var yb = _y.narrow(0, offset, _batch);
        _optimizer.zero_grad();
        var loss = _loss.forward(_model.forward(xb), yb);
        loss.backward();
        _optimizer.step();
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
    }
}

using BenchmarkDotNet.Attributes;
using GpuNet.Backends;

namespace GpuNet.Bench;

/// <summary>
/// Each activation forward and backward, per backend, on a batch of
/// activations (Rows x Cols). GPU work is synchronized inside the measured region; kernels are compiled in
/// the global setup. ILGPU's CPU accelerator runs only the smallest shape (it simulates GPU threads).
/// </summary>
public class ActivationBenchmarks
{
    private IBackend? _backend;
    private DeviceBuffer<float>? _x, _y, _dy, _dx, _loss;
    private DeviceBuffer<int>? _labels;

    [ParamsSource(nameof(Devices))]
    public string Device { get; set; } = "cpu";

    [Params(64, 1024)]
    public int Rows { get; set; } = 64;

    [Params(128, 2048)]
    public int Cols { get; set; } = 128;

    [ParamsAllValues]
    public ActivationKind Kind { get; set; }

    public static IEnumerable<string> Devices => [.. BenchDevices.Available, "ilgpu-cpu"];

    [GlobalSetup]
    public void Setup()
    {
        if (Device == "ilgpu-cpu" && (Rows > 64 || Cols > 128))
            throw new NotSupportedException("ILGPU's CPU accelerator is benchmarked on the 64 x 128 shape only.");
        _backend = BenchDevices.Create(Device);
        int n = Rows * Cols;
        _x = _backend.Allocate<float>(n); _y = _backend.Allocate<float>(n);
        _dy = _backend.Allocate<float>(n); _dx = _backend.Allocate<float>(n);
        _loss = _backend.Allocate<float>(1);
        _labels = _backend.Allocate<int>(Rows);
        _backend.RandomNormal(_x, 0f, 1f, 1, 0);
        _backend.RandomNormal(_dy, 0f, 1f, 1, 1);
        _backend.Upload<int>(Enumerable.Range(0, Rows).Select(r => r % Cols).ToArray(), _labels);
        Forward(); // compile and warm up
        if (Kind != ActivationKind.Step) Backward();
    }

    [Benchmark]
    public void Forward()
    {
        _backend!.Activation(Kind, 0.1f, _x!, _y!, Rows * Cols);
        _backend.Synchronize();
    }

    [Benchmark]
    public void Backward()
    {
        if (Kind == ActivationKind.Step) return; // forward only by design
        _backend!.ActivationBackward(Kind, 0.1f, _x!, _y!, _dy!, _dx!, Rows * Cols, accumulate: false);
        _backend.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var b in new IDisposable?[] { _x, _y, _dy, _dx, _loss, _labels }) b?.Dispose();
        _backend?.Dispose();
    }
}

/// <summary>The fused, max-subtracted softmax + cross-entropy (loss and gradient) per backend on logits of Rows x Classes.</summary>
public class SoftmaxCrossEntropyBenchmarks
{
    private IBackend? _backend;
    private DeviceBuffer<float>? _logits, _probabilities, _grad, _loss;
    private DeviceBuffer<int>? _labels;

    [ParamsSource(nameof(Devices))]
    public string Device { get; set; } = "cpu";

    [Params(64, 1024, 8192)]
    public int Rows { get; set; } = 64;

    [Params(10, 1000)]
    public int Classes { get; set; } = 10;

    public static IEnumerable<string> Devices => [.. BenchDevices.Available, "ilgpu-cpu"];

    [GlobalSetup]
    public void Setup()
    {
        if (Device == "ilgpu-cpu" && (Rows > 64 || Classes > 10))
            throw new NotSupportedException("ILGPU's CPU accelerator is benchmarked on 64 x 10 only.");
        _backend = BenchDevices.Create(Device);
        int n = Rows * Classes;
        _logits = _backend.Allocate<float>(n); _probabilities = _backend.Allocate<float>(n); _grad = _backend.Allocate<float>(n);
        _loss = _backend.Allocate<float>(1);
        _labels = _backend.Allocate<int>(Rows);
        _backend.RandomNormal(_logits, 0f, 3f, 1, 0);
        _backend.Upload<int>(Enumerable.Range(0, Rows).Select(r => r % Classes).ToArray(), _labels);
        Fused();
    }

    [Benchmark]
    public void Fused()
    {
        _backend!.SoftmaxCrossEntropy(_logits!, _labels!, Rows, Classes, _probabilities, _grad, 1f / Rows, _loss!);
        _backend.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var b in new IDisposable?[] { _logits, _probabilities, _grad, _loss, _labels }) b?.Dispose();
        _backend?.Dispose();
    }
}

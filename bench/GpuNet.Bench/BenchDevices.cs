using GpuNet.Backends;
using GpuNet.Kernels;

namespace GpuNet.Bench;

/// <summary>The backends a suite runs on: the CPU backend always, CUDA when ILGPU finds a GPU.</summary>
public static class BenchDevices
{
    /// <summary>"cpu", plus "cuda" when present. ILGPU's CPU accelerator is offered only by suites with tiny sizes.</summary>
    public static IEnumerable<string> Available => IlgpuBackend.IsCudaAvailable() ? ["cpu", "cuda"] : ["cpu"];

    public static IBackend Create(string device) => device switch
    {
        "cpu" => new CpuBackend(),
        "cuda" => IlgpuBackend.CreateCuda(),
        "ilgpu-cpu" => IlgpuBackend.CreateCpu(),
        _ => throw new ArgumentException($"Unknown device '{device}'. Expected cpu, cuda or ilgpu-cpu."),
    };
}

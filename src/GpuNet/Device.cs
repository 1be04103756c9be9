using GpuNet.Backends;
using GpuNet.Kernels;

namespace GpuNet;

/// <summary>Which device to train on.</summary>
public enum DeviceChoice
{
    /// <summary>CUDA when a GPU is present, else the fast CPU backend.</summary>
    Auto,
    Cuda,
    Cpu,
    /// <summary>The ILGPU kernels on ILGPU's CPU accelerator: slow, for checking kernels without a GPU.</summary>
    IlgpuCpu,
}

/// <summary>Creates backends.</summary>
public static class Device
{
    /// <summary>Creates the backend for <paramref name="choice"/>.</summary>
    /// <exception cref="InvalidOperationException">CUDA was asked for and no CUDA device exists.</exception>
    public static IBackend Create(DeviceChoice choice = DeviceChoice.Auto) => choice switch
    {
        DeviceChoice.Auto => IlgpuBackend.IsCudaAvailable() ? IlgpuBackend.CreateCuda() : new CpuBackend(),
        DeviceChoice.Cuda => IlgpuBackend.IsCudaAvailable() ? IlgpuBackend.CreateCuda()
            : throw new InvalidOperationException("No CUDA device was found. Use --device cpu, or check the NVIDIA driver with nvidia-smi."),
        DeviceChoice.Cpu => new CpuBackend(),
        DeviceChoice.IlgpuCpu => IlgpuBackend.CreateCpu(),
        _ => throw new ArgumentOutOfRangeException(nameof(choice), choice, "Expected auto, cuda, cpu or ilgpu-cpu."),
    };

    /// <summary>Every accelerator ILGPU finds, one line each, plus the CPU backend.</summary>
    public static IReadOnlyList<string> List() => [.. IlgpuBackend.ListDevices(), new CpuBackend().Name + " (GpuNet CpuBackend)"];
}

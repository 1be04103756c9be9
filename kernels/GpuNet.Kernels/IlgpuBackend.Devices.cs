using GpuNet.Backends;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace GpuNet.Kernels;

public sealed partial class IlgpuBackend
{
    private const string CpuAcceleratorName = "ILGPU CPU accelerator";

    private static readonly Lazy<bool> s_cudaAvailable = new(() =>
    {
        try
        {
            using var context = Context.Create(builder => builder.Cuda());
            return context.GetCudaDevices().Count > 0;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return false; // no driver, no libcuda, or a driver ILGPU cannot talk to
        }
    });

    /// <summary>Whether ILGPU finds at least one usable CUDA device (cached after the first call).</summary>
    public static bool IsCudaAvailable() => s_cudaAvailable.Value;

    /// <summary>Creates a backend on the CUDA device <paramref name="deviceIndex"/>.</summary>
    /// <exception cref="InvalidOperationException">No CUDA device is available.</exception>
    /// <exception cref="ArgumentOutOfRangeException">There is no device with that index.</exception>
    public static IlgpuBackend CreateCuda(int deviceIndex = 0)
    {
        Context? context = null;
        try
        {
            context = Context.Create(builder => GemmTf32Kernels.RegisterIntrinsics(builder.Cuda().EnableAlgorithms())); // + the TF32 mma/cvt PTX
            var devices = context.GetCudaDevices();
            if (devices.Count == 0)
                throw new InvalidOperationException(
                    "No CUDA device found: ILGPU sees no NVIDIA GPU (no GPU, no NVIDIA driver, or the driver library could not be loaded). " +
                    "Use IlgpuBackend.CreateCpu() or CpuBackend instead, or run 'gpunet devices' to see what is available.");
            if ((uint)deviceIndex >= (uint)devices.Count)
                throw new ArgumentOutOfRangeException(nameof(deviceIndex), deviceIndex,
                    $"There are {devices.Count} CUDA device(s), numbered 0 to {devices.Count - 1}.");
            var device = devices[deviceIndex];
            var accelerator = device.CreateAccelerator(context);
            try
            {
                return new IlgpuBackend(context, accelerator, DeviceKind.Cuda, CudaName(device));
            }
            catch
            {
                accelerator.Dispose();
                throw;
            }
        }
        catch
        {
            context?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates a backend on ILGPU's CPU accelerator, configured like an NVIDIA GPU (warp size 32, groups
    /// of up to 256 threads) so the explicitly grouped kernels run unchanged. Slow: for tests.
    /// </summary>
    public static IlgpuBackend CreateCpu()
    {
        // 32 threads per warp x 8 warps: the 256-thread groups of the GEMM and row kernels, and no more
        // (every simulated thread is an OS thread woken on each launch, so more would only slow tests).
        var device = new CPUDevice(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: 8, numMultiprocessors: 1);
        var context = Context.Create(builder => builder.CPU(device).EnableAlgorithms());
        try
        {
            var accelerator = context.GetCPUDevice(0).CreateAccelerator(context);
            try
            {
                return new IlgpuBackend(context, accelerator, DeviceKind.IlgpuCpu, CpuAcceleratorName);
            }
            catch
            {
                accelerator.Dispose();
                throw;
            }
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Every device ILGPU finds (CUDA, OpenCL, its CPU accelerator), one human-readable line each.</summary>
    public static IReadOnlyList<string> ListDevices()
    {
        var lines = new List<string>();
        try
        {
            using var context = Context.Create(builder => builder.AllAccelerators());
            foreach (var device in context.Devices)
                lines.Add(Describe(device));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            lines.Add($"(ILGPU device discovery failed: {ex.GetType().Name}: {ex.Message})");
        }
        return lines;
    }

    private static string Describe(Device device) => device switch
    {
        CudaDevice cuda => $"{CudaName(cuda)}, {Gibibytes(cuda.MemorySize)}",
        // CreateCpu configures its own device (warp 32, groups of 256) rather than ILGPU's default one
        CPUDevice => $"{CpuAcceleratorName} (GPU threads simulated on the CPU: slow, for tests)",
        _ => $"{device.Name} ({device.AcceleratorType}, {Gibibytes(device.MemorySize)})",
    };

    private static string CudaName(CudaDevice device)
    {
        string sm = device.Architecture is { } arch ? $"SM {arch.Major}.{arch.Minor}" : "unknown SM";
        return $"{device.Name} (CUDA, {sm})";
    }

    private static string Gibibytes(long bytes) => $"{bytes / (1024.0 * 1024 * 1024):F1} GiB";
}

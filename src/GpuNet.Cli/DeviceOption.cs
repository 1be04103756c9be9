using System.CommandLine;

namespace GpuNet.Cli;

/// <summary>The <c>--device</c> option that train, evaluate and predict share, and its mapping to <see cref="DeviceChoice"/>.</summary>
internal static class DeviceOption
{
    public static Option<string> Create()
    {
        var option = new Option<string>("--device") { Description = "auto (CUDA if present, else CPU), cuda, cpu or ilgpu-cpu.", DefaultValueFactory = _ => "auto" };
        option.AcceptOnlyFromAmong("auto", "cuda", "cpu", "ilgpu-cpu");
        return option;
    }

    public static DeviceChoice Parse(string value) => value switch
    {
        "cuda" => DeviceChoice.Cuda,
        "cpu" => DeviceChoice.Cpu,
        "ilgpu-cpu" => DeviceChoice.IlgpuCpu,
        _ => DeviceChoice.Auto,
    };
}

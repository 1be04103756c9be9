using System.CommandLine;

namespace GpuNet.Cli;

internal static class DevicesCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("devices", "List the devices GpuNet can train on (what ILGPU finds, and the CPU backend).");
        command.SetAction(_ => Program.Guard(error, () =>
        {
            foreach (var line in Device.List()) output.WriteLine(line);
            output.WriteLine($"auto selects: {(Kernels.IlgpuBackend.IsCudaAvailable() ? "cuda" : "cpu")}");
            return 0;
        }));
        return command;
    }
}

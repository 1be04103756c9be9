namespace GpuNet.Backends;

public sealed partial class CpuBackend
{
    public void AugmentImages(DeviceBuffer<float> source, DeviceBuffer<float> destination, int rows, int height, int width,
        AugmentationSettings settings, ulong seed, DeviceBuffer<int> stepValues, int stepIndex)
    {
        long n = (long)rows * height * width;
        Require(source, n, nameof(source)); Require(destination, n, nameof(destination));
        StepValueMath.Require(stepValues, stepIndex, 2, nameof(stepValues));
        var values = Cpu(stepValues, nameof(stepValues)).Span;
        ulong step = StepValueMath.Counter(values[stepIndex], values[stepIndex + 1]);
        if (ReferenceEquals(source, destination) || Cpu(source, nameof(source)).Array == Cpu(destination, nameof(destination)).Array
            && Cpu(source, nameof(source)).Offset == Cpu(destination, nameof(destination)).Offset)
            throw new ArgumentException("AugmentImages cannot work in place: pass a separate destination buffer.", nameof(destination));
        ForRows(rows, height * width, new AugmentBody(Cpu(source, nameof(source)), Cpu(destination, nameof(destination)),
            height, width, settings, seed, step));
    }

    private readonly record struct AugmentBody(Cpu.CpuBuffer<float> Source, Cpu.CpuBuffer<float> Destination, int Height, int Width,
        AugmentationSettings Settings, ulong Seed, ulong Step) : IRangeBody
    {
        public void Run(int start, int length)
        {
            int pixels = Height * Width;
            for (int r = start; r < start + length; r++)
                AugmentMath.Image(Settings, Source.Array.AsSpan(Source.Offset + r * pixels, pixels),
                    Destination.Array.AsSpan(Destination.Offset + r * pixels, pixels), r, Height, Width, Seed, Step);
        }
    }
}

using GpuNet.Backends;
using ILGPU;

namespace GpuNet.Kernels;

/// <summary>
/// Random per-sample image augmentation (shift, rotation, flip, brightness, noise, cutout), one thread
/// per output pixel.
/// </summary>
/// <remarks>
/// <para>The math is <see cref="AugmentMath"/>'s, the very methods the CPU backend runs, reading the source
/// through <see cref="ViewImagePixels"/>. Every thread recomputes its sample's parameters from two Philox
/// blocks rather than reading them from a buffer: 20 rounds of integer multiplies cost less than a second
/// launch and a scratch buffer. CPU and ILGPU images agree to float rounding (sin/cos/log may differ by an
/// ulp between the CPU's MathF and a GPU's math library); the random decisions (flip, cutout position) use
/// only exact integer and float-to-int arithmetic and agree exactly.</para>
/// <para>Images are R x (height x width), row-major, one image per row of the batch.</para>
/// </remarks>
public static class AugmentKernels
{
    /// <summary>destination[pixel] = the augmented value of source at that pixel (see <see cref="AugmentMath.Pixel{TImage}"/>).</summary>
    /// <param name="index">Flat pixel (r * height + y) * width + x; launch with extent R * height * width.</param>
    /// <param name="source">R images, not aliased by destination.</param>
    /// <param name="destination">R augmented images.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="settings">The augmentation settings (a zero field disables its step).</param>
    /// <param name="seed">The model's seed.</param>
    /// <param name="stepValues">The step values: the training step (each step draws new transforms) is the counter at
    /// stepIndex (low word) and stepIndex + 1.</param>
    /// <param name="stepIndex">Where the step counter is.</param>
    public static void AugmentImagesKernel(Index1D index, FloatView source, FloatView destination, int height, int width,
        AugmentationSettings settings, ulong seed, IntView stepValues, int stepIndex)
    {
        ulong step = StepValueMath.Counter(stepValues[stepIndex], stepValues[stepIndex + 1]);
        int pixels = height * width;
        int sample = index / pixels, within = index - sample * pixels;
        int y = within / width, x = within - y * width;
        var p = AugmentMath.SampleParameters(settings, sample, height, width, seed, step);
        destination[index] = AugmentMath.Pixel(settings, p, new ViewImagePixels(source, sample * pixels), sample, y, x, height, width, seed, step);
    }

    /// <summary>The kernel's <see cref="IImagePixels"/>: the image of a batch starting at element start of a device view.</summary>
    private readonly struct ViewImagePixels : IImagePixels
    {
        private readonly FloatView _view;
        private readonly int _start;

        public ViewImagePixels(FloatView view, int start)
        {
            _view = view;
            _start = start;
        }

        public float Read(int index) => _view[_start + index];
    }
}

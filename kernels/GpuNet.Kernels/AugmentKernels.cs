using GpuNet.Backends;
using ILGPU;
using ILGPU.Algorithms;

namespace GpuNet.Kernels;

/// <summary>
/// Random per-sample image augmentation (shift, rotation, flip, brightness, noise, cutout), one thread
/// per output pixel.
/// </summary>
/// <remarks>
/// <para>This is <see cref="AugmentMath"/> rewritten for a kernel (its Pixel reads a ReadOnlySpan and it
/// calls MathF): the same Philox words, the same float operations in the same order, with
/// <see cref="XMath"/> for sin, cos, log, sqrt and floor. Every thread recomputes its sample's
/// parameters from two Philox blocks rather than reading them from a buffer: 20 rounds of integer
/// multiplies cost less than a second launch and a scratch buffer. CPU and ILGPU images agree to float
/// rounding (sin/cos/log may differ by an ulp between the CPU's MathF and a GPU's XMath); the random
/// decisions (flip, cutout position) use only exact integer and float-to-int arithmetic and agree exactly.</para>
/// <para>Images are R x (height x width), row-major, one image per row of the batch.</para>
/// </remarks>
public static class AugmentKernels
{
    // Folded by the C# compiler into float constants, as in AugmentMath's MathF.PI / 180f and 2f * MathF.PI.
    private const float DegreesToRadians = MathF.PI / 180f;
    private const float TwoPi = 2f * MathF.PI;

    /// <summary>destination[pixel] = the augmented value of source at that pixel (see <see cref="AugmentMath.Pixel"/>).</summary>
    /// <param name="index">Flat pixel (r * height + y) * width + x; launch with extent R * height * width.</param>
    /// <param name="source">R images, not aliased by destination.</param>
    /// <param name="destination">R augmented images.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="settings">The augmentation settings (a zero field disables its step).</param>
    /// <param name="seed">The model's seed.</param>
    /// <param name="step">The training step: each step draws new transforms.</param>
    public static void AugmentImagesKernel(Index1D index, FloatView source, FloatView destination, int height, int width,
        AugmentationSettings settings, ulong seed, ulong step)
    {
        int pixels = height * width;
        int sample = index / pixels, within = index - sample * pixels;
        int y = within / width, x = within - y * width;
        var p = SampleParameters(settings, sample, height, width, seed, step);
        destination[index] = Pixel(settings, p, source, sample * pixels, sample, y, x, height, width, seed, step);
    }

    /// <summary><see cref="AugmentMath.SampleParameters"/>: the sample's transform from Philox blocks 2 sample and 2 sample + 1.</summary>
    private static AugmentParameters SampleParameters(AugmentationSettings s, int sample, int height, int width, ulong seed, ulong step)
    {
        var a = Philox.ForStep(2 * sample, step, AugmentMath.SamplePurpose, seed);
        var b = Philox.ForStep(2 * sample + 1, step, AugmentMath.SamplePurpose, seed);
        float angle = (2f * Philox.ToUnitFloat(a.Z) - 1f) * s.MaxRotationDegrees * DegreesToRadians;
        return new AugmentParameters
        {
            ShiftX = (2f * Philox.ToUnitFloat(a.X) - 1f) * s.MaxShift,
            ShiftY = (2f * Philox.ToUnitFloat(a.Y) - 1f) * s.MaxShift,
            Cos = XMath.Cos(angle),
            Sin = XMath.Sin(angle),
            Flip = Philox.ToUnitFloat(a.W) < s.FlipProbability,
            Brightness = (2f * Philox.ToUnitFloat(b.X) - 1f) * s.MaxBrightness,
            CutoutY = (int)(Philox.ToUnitFloat(b.Y) * height) - s.CutoutSize / 2,
            CutoutX = (int)(Philox.ToUnitFloat(b.Z) * width) - s.CutoutSize / 2,
        };
    }

    /// <summary><see cref="AugmentMath.Pixel"/>: cutout, flip, inverse rotation and shift, bilinear sample, brightness, noise.</summary>
    private static float Pixel(AugmentationSettings s, AugmentParameters p, FloatView source, int imageStart, int sample,
        int y, int x, int height, int width, ulong seed, ulong step)
    {
        if (s.CutoutSize > 0 && y >= p.CutoutY && y < p.CutoutY + s.CutoutSize && x >= p.CutoutX && x < p.CutoutX + s.CutoutSize)
            return 0f;
        float cy = 0.5f * (height - 1), cx = 0.5f * (width - 1);
        float ox = (p.Flip ? width - 1 - x : x) - cx - p.ShiftX;
        float oy = y - cy - p.ShiftY;
        // rotating the output by +angle means reading the source at the point rotated by -angle
        float sx = p.Cos * ox + p.Sin * oy + cx;
        float sy = -p.Sin * ox + p.Cos * oy + cy;
        float v = Bilinear(source, imageStart, sy, sx, height, width) + p.Brightness;
        if (s.NoiseStddev > 0)
        {
            var n = Philox.ForStep((sample * height + y) * width + x, step, AugmentMath.NoisePurpose, seed);
            float u1 = Philox.ToUnitFloatNonZero(n.X), u2 = Philox.ToUnitFloat(n.Y);
            v += s.NoiseStddev * XMath.Sqrt(-2f * XMath.Log(u1)) * XMath.Cos(TwoPi * u2);
        }
        return v;
    }

    private static float Bilinear(FloatView image, int start, float y, float x, int height, int width)
    {
        int y0 = (int)XMath.Floor(y), x0 = (int)XMath.Floor(x);
        float fy = y - y0, fx = x - x0;
        return (1 - fy) * ((1 - fx) * At(image, start, y0, x0, height, width) + fx * At(image, start, y0, x0 + 1, height, width))
             + fy * ((1 - fx) * At(image, start, y0 + 1, x0, height, width) + fx * At(image, start, y0 + 1, x0 + 1, height, width));
    }

    /// <summary>The pixel (y, x) of the image starting at start, or 0 outside the image.</summary>
    private static float At(FloatView image, int start, int y, int x, int height, int width) =>
        (uint)y < (uint)height && (uint)x < (uint)width ? image[start + y * width + x] : 0f;
}

using System.Runtime.CompilerServices;

namespace GpuNet.Backends;

/// <summary>Per-sample random transform of <see cref="IBackend.AugmentImages"/>.</summary>
public struct AugmentParameters
{
    public float ShiftX, ShiftY, Cos, Sin, Brightness;
    public bool Flip;
    public int CutoutY, CutoutX;
}

/// <summary>Read access to the pixels of one image: a span on the CPU, a device view in a kernel.</summary>
public interface IImagePixels
{
    /// <summary>The pixel at flat index y * width + x.</summary>
    float Read(int index);
}

/// <summary>The CPU's <see cref="IImagePixels"/>: one image of a batch, as a span.</summary>
public readonly ref struct SpanImagePixels(ReadOnlySpan<float> pixels) : IImagePixels
{
    private readonly ReadOnlySpan<float> _pixels = pixels;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Read(int index) => _pixels[index];
}

/// <summary>
/// The augmentation math, written once for the CPU backend and the ILGPU kernel: each sample draws its
/// transform from Philox (sample index, step), each pixel its noise from (pixel index, step), so the
/// same seed and step give the same images on every backend.
/// </summary>
/// <remarks>
/// Kernel-safe: integer and float arithmetic, <see cref="Philox"/> and MathF (which ILGPU maps to its
/// intrinsics); the image is read through <see cref="IImagePixels"/>, a struct type argument the JIT and
/// ILGPU both specialize. sin, cos and log may differ by an ulp between the CPU and a GPU; the random
/// decisions (flip, cutout position) use only exact arithmetic and agree exactly.
/// </remarks>
public static class AugmentMath
{
    /// <summary>Philox "purpose" words separating the per-sample and the per-pixel draws.</summary>
    public const uint SamplePurpose = 0xA0617E01u, NoisePurpose = 0xA0617E02u;

    public static AugmentParameters SampleParameters(in AugmentationSettings s, int sample, int height, int width, ulong seed, ulong step)
    {
        var a = Philox.ForStep(2 * sample, step, SamplePurpose, seed);
        var b = Philox.ForStep(2 * sample + 1, step, SamplePurpose, seed);
        float angle = (2f * Philox.ToUnitFloat(a.Z) - 1f) * s.MaxRotationDegrees * (MathF.PI / 180f);
        return new AugmentParameters
        {
            ShiftX = (2f * Philox.ToUnitFloat(a.X) - 1f) * s.MaxShift,
            ShiftY = (2f * Philox.ToUnitFloat(a.Y) - 1f) * s.MaxShift,
            Cos = MathF.Cos(angle),
            Sin = MathF.Sin(angle),
            Flip = Philox.ToUnitFloat(a.W) < s.FlipProbability,
            Brightness = (2f * Philox.ToUnitFloat(b.X) - 1f) * s.MaxBrightness,
            // the cutout square's centre is anywhere in the image; the square may be clipped at the border
            CutoutY = (int)(Philox.ToUnitFloat(b.Y) * height) - s.CutoutSize / 2,
            CutoutX = (int)(Philox.ToUnitFloat(b.Z) * width) - s.CutoutSize / 2,
        };
    }

    /// <summary>
    /// Output pixel (y, x): flip, then the inverse rotation about the centre and shift locate the source
    /// point, sampled bilinearly (0 outside the image); then brightness, noise and cutout.
    /// </summary>
    public static float Pixel<TImage>(in AugmentationSettings s, in AugmentParameters p, TImage image, int sample,
        int y, int x, int height, int width, ulong seed, ulong step) where TImage : IImagePixels, allows ref struct
    {
        if (s.CutoutSize > 0 && y >= p.CutoutY && y < p.CutoutY + s.CutoutSize && x >= p.CutoutX && x < p.CutoutX + s.CutoutSize)
            return 0f;
        float cy = 0.5f * (height - 1), cx = 0.5f * (width - 1);
        float ox = (p.Flip ? width - 1 - x : x) - cx - p.ShiftX;
        float oy = y - cy - p.ShiftY;
        // rotating the output by +angle means reading the source at the point rotated by -angle
        float sx = p.Cos * ox + p.Sin * oy + cx;
        float sy = -p.Sin * ox + p.Cos * oy + cy;
        float v = Bilinear(image, sy, sx, height, width) + p.Brightness;
        if (s.NoiseStddev > 0)
        {
            v = RandomMath.Normal(Philox.ForStep((sample * height + y) * width + x, step, NoisePurpose, seed), v, s.NoiseStddev);
        }
        return v;
    }

    /// <summary>Sample <paramref name="sample"/>'s whole augmented image on the host: every pixel of <paramref name="destination"/>
    /// from <paramref name="source"/> (both height x width). The CPU backend's loop and the composed default's.</summary>
    public static void Image(in AugmentationSettings s, ReadOnlySpan<float> source, Span<float> destination, int sample,
        int height, int width, ulong seed, ulong step)
    {
        var p = SampleParameters(s, sample, height, width, seed, step);
        var image = new SpanImagePixels(source);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                destination[y * width + x] = Pixel(s, p, image, sample, y, x, height, width, seed, step);
    }

    /// <inheritdoc cref="Pixel{TImage}"/>
    public static float Pixel(in AugmentationSettings s, in AugmentParameters p, ReadOnlySpan<float> image, int sample,
        int y, int x, int height, int width, ulong seed, ulong step) =>
        Pixel(s, p, new SpanImagePixels(image), sample, y, x, height, width, seed, step);

    private static float Bilinear<TImage>(TImage image, float y, float x, int height, int width) where TImage : IImagePixels, allows ref struct
    {
        int y0 = (int)MathF.Floor(y), x0 = (int)MathF.Floor(x);
        float fy = y - y0, fx = x - x0;
        return (1 - fy) * ((1 - fx) * At(image, y0, x0, height, width) + fx * At(image, y0, x0 + 1, height, width))
             + fy * ((1 - fx) * At(image, y0 + 1, x0, height, width) + fx * At(image, y0 + 1, x0 + 1, height, width));
    }

    private static float At<TImage>(TImage image, int y, int x, int height, int width) where TImage : IImagePixels, allows ref struct =>
        (uint)y < (uint)height && (uint)x < (uint)width ? image.Read(y * width + x) : 0f;
}

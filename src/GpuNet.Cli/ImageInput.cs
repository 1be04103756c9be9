using SkiaSharp;

namespace GpuNet.Cli;

/// <summary>
/// Image files as the input rows of an image model (<c>gpunet predict</c> with an MNIST or Fashion-MNIST model):
/// decoded by SkiaSharp, turned to grey in [0, 1] over its paper (a transparent background), padded to a square,
/// resized to the model's side x side and,
/// when the background is light (a dark digit drawn on white), inverted, since MNIST has light strokes on black.
/// </summary>
internal static class ImageInput
{
    /// <summary>The largest image read (a 12,000 x 8,000 photo): larger ones are refused before decoding.</summary>
    public const long MaxPixels = 96_000_000;

    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    /// <summary>Whether <paramref name="path"/> names an image file (by its extension) or a folder.</summary>
    public static bool IsImageInput(string path) =>
        Directory.Exists(path) || Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>The image file, or the images of the folder in name order.</summary>
    /// <exception cref="FileNotFoundException">No such file, or a folder without images.</exception>
    public static IReadOnlyList<string> Files(string path)
    {
        if (Directory.Exists(path))
        {
            var files = Directory.EnumerateFiles(path).Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal).ToList();
            return files.Count > 0 ? files
                : throw new FileNotFoundException($"The folder '{path}' holds no images ({string.Join(", ", Extensions)}).");
        }
        return File.Exists(path) ? [path] : throw new FileNotFoundException($"Image file '{path}' does not exist.", path);
    }

    /// <summary>The image as side x side values in [0, 1], row-major; <paramref name="inverted"/> says whether it was inverted.</summary>
    /// <remarks>
    /// A JPEG's EXIF orientation is applied: a photo stored sideways is read as it is seen.
    /// Resized by area averaging (each output pixel is the mean of the source area it covers, fractions weighted):
    /// a 3x enlarged MNIST digit comes back as the original, where bilinear filtering with mipmaps blurred it.
    /// </remarks>
    /// <exception cref="InvalidDataException">The file is not an image SkiaSharp can decode.</exception>
    public static float[] Load(string path, int side, out bool inverted)
    {
        using var codec = SKCodec.Create(path);
        // a damaged or hostile header may declare any size: refuse before decoding allocates it
        if (codec is not null && (long)codec.Info.Width * codec.Info.Height > MaxPixels)
            throw new InvalidDataException(
                $"'{path}' declares {codec.Info.Width:N0} x {codec.Info.Height:N0} pixels, more than the {MaxPixels:N0} GpuNet reads: it is damaged, or resize it first.");
        using var decoded = (codec is null ? null : SKBitmap.Decode(codec))
            ?? throw new InvalidDataException($"'{path}' is not an image GpuNet can read (PNG, JPEG, BMP, GIF or WebP).");
        using var upright = Upright(decoded, codec!.EncodedOrigin);
        int w = upright.Width, h = upright.Height;
        var lum = new float[w * h];
        var alpha = new float[w * h];
        double opaqueLum = 0, opaque = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                var c = upright.GetPixel(x, y);
                int i = y * w + x;
                alpha[i] = c.Alpha / 255f;
                lum[i] = (0.299f * c.Red + 0.587f * c.Green + 0.114f * c.Blue) / 255f;
                opaqueLum += lum[i] * alpha[i];
                opaque += alpha[i];
            }
        // A transparent background is the paper: white under dark strokes, black under light ones (a drawing
        // exported with transparency keeps its strokes either way).
        float paper = opaque > 0 && opaqueLum / opaque > 0.5 ? 0f : 1f;
        var grey = new float[w * h];
        for (int i = 0; i < grey.Length; i++) grey[i] = lum[i] * alpha[i] + paper * (1 - alpha[i]);
        var (square, n) = PadToSquare(grey, w, h);
        var pixels = AreaResize(square, n, n, side);
        double border = 0;
        for (int i = 0; i < side; i++)
            border += pixels[i] + pixels[(side - 1) * side + i] + (i > 0 && i < side - 1 ? pixels[i * side] + pixels[i * side + side - 1] : 0);
        inverted = border / (4 * side - 4) > 0.5;
        if (inverted)
            for (int i = 0; i < pixels.Length; i++) pixels[i] = 1 - pixels[i];
        return pixels;
    }

    /// <summary>
    /// The image turned as its EXIF orientation says (a phone photo stored sideways), so that it is read as seen;
    /// a copy when nothing is to be turned.
    /// </summary>
    internal static SKBitmap Upright(SKBitmap bitmap, SKEncodedOrigin origin)
    {
        if (origin == SKEncodedOrigin.TopLeft) return bitmap.Copy();
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int w = bitmap.Width, h = bitmap.Height;
        var result = new SKBitmap(swap ? h : w, swap ? w : h, bitmap.ColorType, bitmap.AlphaType);
        using var canvas = new SKCanvas(result);
        // the EXIF matrix that maps the stored image to the displayed one (Skia's own SkEncodedOriginToMatrix)
        var m = origin switch
        {
            SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
            SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),
            SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),
            _ => SKMatrix.Identity,
        };
        canvas.SetMatrix(m);
        canvas.DrawBitmap(bitmap, 0, 0);
        return result;
    }

    /// <summary>
    /// A w x h image centred in an n x n square (n = max(w, h)), the margins filled with the mean of the image's
    /// border, so that a tall or wide picture is not stretched.
    /// </summary>
    internal static (float[] Square, int Side) PadToSquare(float[] pixels, int w, int h)
    {
        if (w == h) return (pixels, w);
        int n = Math.Max(w, h);
        double border = 0;
        int count = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (x == 0 || y == 0 || x == w - 1 || y == h - 1) { border += pixels[y * w + x]; count++; }
        var square = new float[n * n];
        Array.Fill(square, (float)(border / count));
        int left = (n - w) / 2, top = (n - h) / 2;
        for (int y = 0; y < h; y++) pixels.AsSpan(y * w, w).CopyTo(square.AsSpan((top + y) * n + left, w));
        return (square, n);
    }

    /// <summary>w x h values resampled to side x side by the exact area each output pixel covers.</summary>
    internal static float[] AreaResize(float[] source, int w, int h, int side)
    {
        var result = new float[side * side];
        double sx = (double)w / side, sy = (double)h / side;
        for (int oy = 0; oy < side; oy++)
        {
            double y0 = oy * sy, y1 = y0 + sy;
            for (int ox = 0; ox < side; ox++)
            {
                double x0 = ox * sx, x1 = x0 + sx, sum = 0;
                for (int y = (int)y0; y < Math.Min(h, (int)Math.Ceiling(y1)); y++)
                {
                    double wy = Math.Min(y + 1, y1) - Math.Max(y, y0);
                    for (int x = (int)x0; x < Math.Min(w, (int)Math.Ceiling(x1)); x++)
                        sum += wy * (Math.Min(x + 1, x1) - Math.Max(x, x0)) * source[y * w + x];
                }
                result[oy * side + ox] = (float)(sum / (sx * sy));
            }
        }
        return result;
    }
}

using GpuNet.Backends;
using GpuNet.Cli;
using GpuNet.Data;
using GpuNet.Models;
using SkiaSharp;
using Xunit;

namespace GpuNet.Tests;

/// <summary><c>gpunet predict</c> with an image model: image files read as MNIST-like inputs.</summary>
public sealed class ImagePredictTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-images-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Writes 28 x 28 pixels in [0, 1] as a PNG, scaled up by <paramref name="scale"/>, optionally dark on white.</summary>
    private static void WritePng(string path, ReadOnlySpan<float> pixels, int scale, bool darkOnWhite)
    {
        using var bitmap = new SKBitmap(28 * scale, 28 * scale, SKColorType.Rgba8888, SKAlphaType.Premul);
        for (int y = 0; y < 28 * scale; y++)
            for (int x = 0; x < 28 * scale; x++)
            {
                float v = pixels[y / scale * 28 + x / scale];
                byte b = (byte)Math.Round((darkOnWhite ? 1 - v : v) * 255);
                bitmap.SetPixel(x, y, new SKColor(b, b, b));
            }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    [Fact]
    public void AreaResizeAveragesTheCoveredAreaAndUndoesAnEnlargement()
    {
        float[] four = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]; // 4 x 4
        Assert.Equal([2.5f, 4.5f, 10.5f, 12.5f], ImageInput.AreaResize(four, 4, 4, 2)); // 2 x 2 block means
        Assert.Equal([7.5f], ImageInput.AreaResize(four, 4, 4, 1));
        var third = ImageInput.AreaResize(four, 4, 4, 3); // 4/3 source pixels per output pixel: fractions weighted
        Assert.Equal((0 * 1 + 1 * (1 / 3f) + 4 * (1 / 3f) + 5 * (1 / 9f)) / (16 / 9f), third[0], 1e-5f);
        float[] two = [0, 1, 2, 3];
        Assert.Equal([0f, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3], ImageInput.AreaResize(two, 2, 2, 4)); // enlarged: replicated
    }

    [Fact]
    public void TransparentBackgroundsAndTallImagesAreReadAsDrawn()
    {
        // light strokes on a transparent background: the paper is black, so the stroke survives (over white it vanished)
        string light = Path.Combine(_folder, "light.png");
        using (var bitmap = new SKBitmap(28, 28, SKColorType.Rgba8888, SKAlphaType.Unpremul))
        {
            bitmap.Erase(SKColors.Transparent);
            for (int y = 4; y < 24; y++) bitmap.SetPixel(14, y, SKColors.White);
            File.WriteAllBytes(light, bitmap.Encode(SKEncodedImageFormat.Png, 100).ToArray());
        }
        var pixels = ImageInput.Load(light, 28, out bool inverted);
        Assert.False(inverted);
        Assert.Equal(1f, pixels[10 * 28 + 14], 1e-6f);
        Assert.Equal(0f, pixels[10 * 28 + 3], 1e-6f);

        // a 2 x 4 image is centred in a 4 x 4 square with its border's mean, not stretched
        var (square, side) = ImageInput.PadToSquare([1, 1, 1, 0, 1, 0, 1, 1], 2, 4);
        Assert.Equal(4, side);
        Assert.Equal(0.75f, square[0], 1e-6f);     // the margin: the border's mean, 6 ones of 8
        Assert.Equal([1f, 1f, 1f, 0f, 1f, 0f, 1f, 1f], new[] { square[1], square[2], square[5], square[6], square[9], square[10], square[13], square[14] });
    }

    [Fact]
    public void AJpegStoredSidewaysIsReadAsItIsSeen()
    {
        // stored 40 wide x 20 high, white in its left quarter; EXIF orientation 6 says "turn 90 degrees clockwise to show"
        using var stored = new SKBitmap(40, 20, SKColorType.Rgba8888, SKAlphaType.Premul);
        stored.Erase(SKColors.Black);
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 10; x++) stored.SetPixel(x, y, SKColors.White);
        var jpeg = stored.Encode(SKEncodedImageFormat.Jpeg, 95).ToArray();
        // an APP1 Exif segment right after the start-of-image marker: big-endian TIFF, one IFD entry 0x0112 = 6
        byte[] app1 =
        [
            0xFF, 0xE1, 0x00, 0x22, (byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0,
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08,
            0x00, 0x01, 0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00,
        ];
        string path = Path.Combine(_folder, "sideways.jpg");
        File.WriteAllBytes(path, [.. jpeg[..2], .. app1, .. jpeg[2..]]);

        using (var codec = SKCodec.Create(path)) Assert.Equal(SKEncodedOrigin.RightTop, codec.EncodedOrigin);
        // shown 20 wide x 40 high with the white band along the top; padded to 40 x 40 and read at 4 x 4
        var pixels = ImageInput.Load(path, 4, out _);
        Assert.True(pixels[1] > 0.3f && pixels[2] > 0.3f, $"the top row should hold the white band: {string.Join(", ", pixels)}");
        Assert.True(pixels[13] < 0.1f && pixels[14] < 0.1f, $"the bottom row should be dark: {string.Join(", ", pixels)}");

        // the eight orientations map a stored pixel where EXIF says
        using var probe = new SKBitmap(3, 2, SKColorType.Rgba8888, SKAlphaType.Premul);
        probe.Erase(SKColors.Black);
        probe.SetPixel(0, 0, SKColors.White); // the stored top-left corner
        foreach (var (origin, x, y) in new[] { (SKEncodedOrigin.TopLeft, 0, 0), (SKEncodedOrigin.TopRight, 2, 0), (SKEncodedOrigin.BottomRight, 2, 1),
                     (SKEncodedOrigin.BottomLeft, 0, 1), (SKEncodedOrigin.LeftTop, 0, 0), (SKEncodedOrigin.RightTop, 1, 0),
                     (SKEncodedOrigin.RightBottom, 1, 2), (SKEncodedOrigin.LeftBottom, 0, 2) })
        {
            using var shown = ImageInput.Upright(probe, origin);
            Assert.Equal(SKColors.White, shown.GetPixel(x, y));
        }
    }

    [Fact]
    public void ImagesAreReadAsTheModelsInputsAndClassified()
    {
        string model = Path.Combine(_folder, "mnist.safetensors");
        var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "5", "--save", model);
        Assert.True(code == 0, error);
        var test = Datasets.Mnist10k().Test;
        const int count = 8;
        string exact = Directory.CreateDirectory(Path.Combine(_folder, "exact")).FullName;
        string drawn = Directory.CreateDirectory(Path.Combine(_folder, "drawn")).FullName;
        for (int i = 0; i < count; i++)
        {
            var pixels = test.Features.AsSpan(i * 784, 784);
            WritePng(Path.Combine(exact, $"digit{i}.png"), pixels, scale: 1, darkOnWhite: false); // as MNIST stores it
            WritePng(Path.Combine(drawn, $"digit{i}.png"), pixels, scale: 3, darkOnWhite: true);  // 84 x 84, black on white
        }

        using var backend = new CpuBackend();
        using var loaded = Sequential.Load(model, backend);
        var expected = loaded.PredictClasses(test.Features.AsSpan(0, count * 784).ToArray()).Classes;

        string csv = Path.Combine(_folder, "exact.csv");
        (code, output, error) = TestData.RunCli("predict", "--model", model, "--input", exact, "--output", csv, "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.Contains("8 images read as 28 x 28 grey, light on dark", output);
        Assert.DoesNotContain("inverted", output);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("file,predicted_class,probability,p_0,p_1,p_2,p_3,p_4,p_5,p_6,p_7,p_8,p_9", lines[0]);
        // a PNG holds MNIST's bytes exactly: the same inputs, so the same classes as the model's own
        Assert.Equal(expected.Select(c => c.ToString()), lines.Skip(1).Select(l => l.Split(',')[1]));

        (code, output, error) = TestData.RunCli("predict", "--model", model, "--input", drawn, "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.Contains("(8 with a light background inverted)", output);
        // area averaging undoes a whole-number enlargement exactly, and inverting undoes black on white
        int agree = Enumerable.Range(0, count).Count(i => output.Contains($"digit{i}.png: {expected[i]} (p="));
        Assert.True(agree == count, $"only {agree} of {count} enlarged black-on-white digits got the class of the original:\n{output}");

        // --show limits the printed lines; an unreadable file in a folder is skipped, not fatal
        File.WriteAllText(Path.Combine(drawn, "._digit0.png"), "resource fork, not a picture");
        (code, output, error) = TestData.RunCli("predict", "--model", model, "--input", drawn, "--device", "cpu", "--show", "2");
        Assert.True(code == 0, error);
        Assert.Contains("skipped: '", output);
        Assert.Contains("... 6 more images", output);

        // a folder that does not exist, and an image given to a CSV model
        (code, _, error) = TestData.RunCli("predict", "--model", model, "--input", Path.Combine(_folder, "nothing-here"), "--device", "cpu");
        Assert.NotEqual(0, code);
        Assert.Contains("nothing-here' does not exist", error);

        // not an image
        string fake = Path.Combine(_folder, "fake.png");
        File.WriteAllText(fake, "not a picture");
        (code, _, error) = TestData.RunCli("predict", "--model", model, "--input", fake, "--device", "cpu");
        Assert.NotEqual(0, code);
        Assert.Contains("is not an image GpuNet can read", error);
    }
}

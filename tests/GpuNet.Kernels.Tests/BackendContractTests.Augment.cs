using GpuNet.Backends;
using Xunit;

namespace GpuNet.Kernels.Tests;

public abstract partial class BackendContractTests
{
    private static readonly AugmentationSettings EverySetting = new()
    {
        MaxShift = 1.5f,
        MaxRotationDegrees = 25f,
        FlipProbability = 0.5f,
        MaxBrightness = 0.2f,
        NoiseStddev = 0.1f,
        CutoutSize = 2,
    };

    /// <summary>The augmented batch as <see cref="AugmentMath"/> (the CPU backend's scalar code) computes it.</summary>
    private static float[] AugmentReference(float[] images, int rows, int height, int width, AugmentationSettings settings, ulong seed, ulong step)
    {
        var result = new float[images.Length];
        for (int r = 0; r < rows; r++)
        {
            var p = AugmentMath.SampleParameters(settings, r, height, width, seed, step);
            var image = images.AsSpan(r * height * width, height * width);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    result[(r * height + y) * width + x] = AugmentMath.Pixel(settings, p, image, r, y, x, height, width, seed, step);
        }
        return result;
    }

    [Fact]
    public void AugmentImagesMatchesAugmentMath()
    {
        const int rows = 2, height = 7, width = 5;
        const ulong seed = 12345;
        var images = Check.Uniform(rows * height * width, seed: 101, low: 0f, high: 1f);
        var source = Put(images, 1);
        bool flipped = false, unflipped = false;
        foreach (ulong step in new ulong[] { 1, 2, 1UL << 32 | 1 }) // the high half of the step too
        {
            var destination = Put(new float[images.Length], 2);
            Backend.AugmentImages(source, destination, rows, height, width, EverySetting, seed, StepCounter(step), 1);
            // sin, cos, log and sqrt may differ by an ulp between MathF and a GPU's math library; bilinear
            // sampling is continuous in the source point, so that moves a pixel by ~1e-6 of its range
            Check.Close(AugmentReference(images, rows, height, width, EverySetting, seed, step), Get(destination), 1e-4, 0,
                $"augmented images at step {step}");
            for (int r = 0; r < rows; r++)
            {
                bool flip = AugmentMath.SampleParameters(EverySetting, r, height, width, seed, step).Flip;
                flipped |= flip;
                unflipped |= !flip;
            }
        }
        Assert.True(flipped && unflipped, "the seed should exercise both a flipped and an unflipped sample; pick another");
    }

    [Theory]
    [InlineData(2, 7, 5)]
    [InlineData(1, 1, 1)]
    public void AugmentImagesWithIdentitySettingsCopiesTheSource(int rows, int height, int width)
    {
        // no shift, angle 0 (cos 1, sin 0), no flip: every source point is a pixel centre, sampled with
        // bilinear weights exactly 1 and 0, so the copy is exact
        var images = Check.Uniform(rows * height * width, seed: 102, low: 0f, high: 1f);
        var destination = Put(new float[images.Length], 1);
        Backend.AugmentImages(Put(images, 2), destination, rows, height, width, default, seed: 7, StepCounter(3), 1);
        Assert.Equal(images, Get(destination));
    }

    [Fact]
    public void AugmentImagesWithCertainFlipMirrorsEveryRow()
    {
        // flip only: output (y, x) reads source (y, width - 1 - x), exactly
        const int rows = 2, height = 3, width = 4;
        var images = Check.Uniform(rows * height * width, seed: 103, low: 0f, high: 1f);
        var destination = Alloc<float>(images.Length);
        Backend.AugmentImages(Put(images), destination, rows, height, width, new AugmentationSettings { FlipProbability = 1f }, 1, StepCounter(1), 1);
        var expected = new float[images.Length];
        for (int r = 0; r < rows * height; r++)
            for (int x = 0; x < width; x++)
                expected[r * width + x] = images[r * width + width - 1 - x];
        Assert.Equal(expected, Get(destination));
    }

    [Fact]
    public void AugmentImagesRefusesToWorkInPlace()
    {
        var buffer = Alloc<float>(2 * 9);
        var ex = Assert.Throws<ArgumentException>(() => Backend.AugmentImages(buffer, buffer, 2, 3, 3, EverySetting, 1, StepCounter(1), 1));
        Assert.Equal("destination", ex.ParamName);
    }
}

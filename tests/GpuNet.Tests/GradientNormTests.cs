using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>The lecture's vanishing gradients, measured with <see cref="Sequential.GradientNorms"/>.</summary>
public class GradientNormTests
{
    private static IReadOnlyList<GradientNorm> Norms(string activation, string init, out Sequential model)
    {
        var layers = Enumerable.Range(0, 8).Select(i => (Layer)new Dense(32, activation, kernelInitializer: init, name: $"h{i}"))
            .Append(new Dense(10, "softmax", name: "out")).ToArray();
        model = new Sequential(layers);
        return Norms(model);
    }

    private static IReadOnlyList<GradientNorm> Norms(Sequential model)
    {
        var backend = new CpuBackend();
        model.Compile(new Sgd(0.01f), new SparseCategoricalCrossentropy(), backend, seed: 3);
        return model.GradientNorms(Datasets.Mnist10k().Train.Range(0, 256));
    }

    private static double Kernel(IReadOnlyList<GradientNorm> norms, string layer) => norms.Single(n => n.Parameter == $"{layer}/kernel").RootMeanSquare;

    [Fact]
    public void SigmoidLayersGradientsVanishTowardsTheInputWhileReluWithHeInitKeepsThem()
    {
        var sigmoid = Norms("sigmoid", "glorot_uniform", out var m1);
        var relu = Norms("relu", "he_normal", out var m2);
        using (m1) using (m2)
        {
            double sigmoidRatio = Kernel(sigmoid, "h0") / Kernel(sigmoid, "h7");
            double reluRatio = Kernel(relu, "h0") / Kernel(relu, "h7");
            Assert.True(sigmoidRatio < 1e-3, $"sigmoid: first/last = {sigmoidRatio:E2}");
            Assert.True(reluRatio > 0.1, $"relu + he_normal: first/last = {reluRatio:E2}");
        }
    }

    [Fact]
    public void NormsMatchTheGradientAndLeaveTheModelAsItWas()
    {
        using var model = new Sequential(new Dense(16, "relu", name: "a"), new BatchNormalization(name: "bn"), new Dropout(0.3f, name: "d"),
            new Dense(10, "softmax", name: "b"));
        var norms = Norms(model);
        Assert.Equal(["a/kernel", "a/bias", "bn/gamma", "bn/beta", "b/kernel", "b/bias"], norms.Select(n => n.Parameter));
        Assert.All(norms, n => Assert.True(n.Norm > 0 && double.IsFinite(n.Norm), $"{n.Parameter}: {n.Norm}"));
        var kernel = model.Graph!.Parameters[0];
        Assert.Equal(norms[0].Norm / Math.Sqrt(kernel.Count), norms[0].RootMeanSquare, 1e-12);

        // No side effects: the same call gives the same norms (same dropout mask, same batch-norm statistics).
        var again = model.GradientNorms(Datasets.Mnist10k().Train.Range(0, 256));
        Assert.Equal(norms.Select(n => n.Norm), again.Select(n => n.Norm));
    }

    [Fact]
    public void TheCliPrintsEachLayersGradientBeforeTraining()
    {
        var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", "--layers", "16,16,16", "--activation", "sigmoid", "--gradient-norms");
        Assert.True(code == 0, error);
        Assert.Contains("Gradient RMS of each kernel on one batch of 64, input side first (first / last = ", output);
        Assert.Contains("dense_3 ", output); // three hidden kernels and the output's
    }
}

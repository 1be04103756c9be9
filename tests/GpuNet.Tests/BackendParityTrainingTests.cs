using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Kernels;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// Whole training runs on the CPU backend and on the ILGPU kernels (ILGPU's CPU accelerator here, CUDA when
/// present) agree: the same seed gives the same Philox weights, shuffles, dropout masks and augmentations, so
/// the only differences are float summation orders.
/// </summary>
public class BackendParityTrainingTests(BackendParityTrainingTests.Ilgpu shared) : IClassFixture<BackendParityTrainingTests.Ilgpu>
{
    /// <summary>One ILGPU backend for the class: compiling every kernel takes seconds on ILGPU's CPU accelerator.</summary>
    public sealed class Ilgpu : IDisposable
    {
        public IlgpuBackend Backend { get; } = IlgpuBackend.IsCudaAvailable() ? IlgpuBackend.CreateCuda() : IlgpuBackend.CreateCpu();

        public void Dispose() => Backend.Dispose();
    }

    private static Dataset Blobs(int rows, int seed) => TestData.Blobs(rows, seed);

    private static IReadOnlyList<EpochResult> Train(IBackend backend, Loss loss, Layer last)
    {
        using var model = new Sequential(new Dense(8, useBias: false, kernelInitializer: "he_normal", kernelRegularizer: Regularizer.ElasticNet(1e-3f, 1e-3f)),
            new BatchNormalization(), new ActivationLayer("swish"), new Dropout(0.2f), new Dense(5, "tanh"), last);
        model.Compile(new Adam(0.01f), loss, backend, seed: 11);
        return model.Fit(Blobs(90, 1), new FitOptions { Epochs = 2, BatchSize = 32, ValidationSplit = 0.2, Seed = 5 }).Epochs;
    }

    public static TheoryData<string> Losses() => ["sparse", "categorical", "mse"];

    [Theory]
    [MemberData(nameof(Losses))]
    public void IlgpuKernelsTrainLikeTheCpuBackend(string lossName)
    {
        Loss Loss() => lossName switch { "sparse" => new SparseCategoricalCrossentropy(), "categorical" => new CategoricalCrossentropy(), _ => new MeanSquaredError() };
        Layer Last() => new Dense(3, "softmax");
        using var cpu = new CpuBackend();
        var ilgpu = shared.Backend;
        var a = Train(cpu, Loss(), Last());
        var b = Train(ilgpu, Loss(), Last());
        for (int e = 0; e < a.Count; e++)
        {
            // float sums in another order: agreement to ~1e-5 relative per op; 1e-3 after two epochs of Adam
            Assert.Equal(a[e].Loss, b[e].Loss, 1e-3 * Math.Max(1, Math.Abs(a[e].Loss)));
            Assert.Equal(a[e].ValidationLoss!.Value, b[e].ValidationLoss!.Value, 1e-3 * Math.Max(1, Math.Abs(a[e].ValidationLoss!.Value)));
            Assert.Equal(a[e].Accuracy, b[e].Accuracy, 0.02);
        }
    }

    [Fact]
    public void BinaryOutputTrainsTheSameOnBothBackends()
    {
        using var cpu = new CpuBackend();
        var ilgpu = shared.Backend;
        static IReadOnlyList<EpochResult> Run(IBackend backend)
        {
            var data = Blobs(90, 2);
            var binary = new Dataset("blobs01", data.Features, data.Labels.Select(l => l == 0 ? 1 : 0).ToArray(), 6, 2);
            using var model = new Sequential(new Dense(4, "elu"), new Dense(1, "sigmoid"));
            model.Compile(new Sgd(0.1f, momentum: 0.9f, nesterov: true), new BinaryCrossentropy(), backend, seed: 3);
            return model.Fit(binary, new FitOptions { Epochs = 3, BatchSize = 30, Seed = 1 }).Epochs;
        }
        var a = Run(cpu);
        var b = Run(ilgpu);
        for (int e = 0; e < a.Count; e++) Assert.Equal(a[e].Loss, b[e].Loss, 1e-4);
    }

    [Fact]
    public void DivergenceIsCaughtTheSameOnBothBackends()
    {
        // the weight check is a device reduction (L1L2Penalty with l1 = 1); Adam at 1e4 explodes the loss in epoch 1
        using var cpu = new CpuBackend();
        foreach (IBackend backend in new IBackend[] { cpu, shared.Backend })
        {
            using var model = new Sequential(new Dense(8, "relu"), new Dense(3, "softmax"));
            model.Compile(new Adam(1e4f), new SparseCategoricalCrossentropy(), backend);
            var e = Assert.Throws<TrainingDivergedException>(() => model.Fit(Blobs(64, 2), new FitOptions { Epochs = 5, BatchSize = 16 }));
            Assert.Equal(1, e.Epoch);
            Assert.Throws<InvalidOperationException>(() => model.Predict(Blobs(4, 3).Features));
        }
    }
}

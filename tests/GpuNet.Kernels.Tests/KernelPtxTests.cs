using System.Reflection;
using GpuNet.Backends;
using GpuNet.Kernels;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Xunit;

namespace GpuNet.Kernels.Tests;

/// <summary>
/// Every kernel GpuNet launches compiles to PTX for the H100 (SM 9.0), offline: ILGPU's PTX backend has
/// restrictions the CPU accelerator does not (no managed calls, intrinsics it must know), and a kernel that
/// fails here would fail the first CUDA run when it is loaded. The GEMM kernels have their own PTX tests.
/// </summary>
public sealed class KernelPtxTests
{
    private static readonly Type[] KernelClasses =
    [
        typeof(ElementwiseKernels), typeof(ActivationKernels), typeof(SoftmaxKernels), typeof(ReductionKernels), typeof(DataKernels),
        typeof(OptimizerKernels), typeof(RandomKernels), typeof(LossKernels), typeof(LayerKernels), typeof(AugmentKernels), typeof(GemmKernels),
        typeof(OperatorKernels),
    ];

    private static readonly Type[] IndexTypes = [typeof(Index1D), typeof(Index2D), typeof(Index3D), typeof(LongIndex1D), typeof(LongIndex2D), typeof(LongIndex3D)];

    public static TheoryData<string> Kernels()
    {
        var data = new TheoryData<string>();
        foreach (var type in KernelClasses)
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.Name.EndsWith("Kernel", StringComparison.Ordinal)))
            {
                if (!method.IsGenericMethodDefinition) { data.Add($"{type.Name}.{method.Name}"); continue; }
                // an operator kernel compiles once per operator struct: every shipped operator must compile
                foreach (var op in OperatorsFor(method))
                    data.Add($"{type.Name}.{method.Name}.{op.Name}");
            }
        return data;
    }

    /// <summary>The shipped operator structs that satisfy the generic kernel's constraint (IUnaryOperator, ...).</summary>
    private static IEnumerable<Type> OperatorsFor(MethodInfo method)
    {
        var constraint = method.GetGenericArguments()[0].GetGenericParameterConstraints().Single(c => c.IsInterface);
        return typeof(ElementOps).GetNestedTypes().Where(t => t.IsValueType && constraint.IsAssignableFrom(t));
    }

    [Fact]
    public void EveryKernelClassIsCovered()
    {
        // a new *Kernels class must be added to KernelClasses (or to the GEMM PTX tests)
        var covered = KernelClasses.Concat([typeof(GemmRegisterTiledKernels), typeof(GemmTf32GeneratedKernels), typeof(GemmTf32Kernels)]).ToHashSet();
        var all = typeof(IlgpuBackend).Assembly.GetTypes().Where(t => t.IsClass && t.IsAbstract && t.IsSealed && t.Name.EndsWith("Kernels", StringComparison.Ordinal));
        Assert.Empty(all.Where(t => !covered.Contains(t)).Select(t => t.Name));
        Assert.True(Kernels().Count >= 38, $"only {Kernels().Count} kernels found");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CompilesToPtxForSm90(string name)
    {
        var parts = name.Split('.');
        var method = KernelClasses.Single(t => t.Name == parts[0]).GetMethod(parts[1], BindingFlags.Public | BindingFlags.Static)!;
        if (method.IsGenericMethodDefinition) method = method.MakeGenericMethod(OperatorsFor(method).Single(t => t.Name == parts[2]));
        // As CreateCuda's context: algorithms enabled, the TF32 intrinsics registered. The CPU device only hosts the compiler.
        using var context = Context.Create(builder => GemmTf32Kernels.RegisterIntrinsics(builder.CPU(new CPUDevice(32, 8, 1)).EnableAlgorithms()));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90),
            CudaArchitecture.SM_90, CudaInstructionSet.ISA_78, nvvmAPI: null);
        // Kernels taking an index first are launched auto-grouped; the others are explicitly grouped.
        var entry = IndexTypes.Contains(method.GetParameters()[0].ParameterType)
            ? EntryPointDescription.FromImplicitlyGroupedKernel(method)
            : EntryPointDescription.FromExplicitlyGroupedKernel(method);
        string ptx = ((PTXCompiledKernel)backend.Compile(entry, default)).PTXAssembly;

        Assert.Contains(".entry", ptx);
        Assert.False(ptx.Contains("call.uni", StringComparison.Ordinal) && ptx.Contains("vprintf", StringComparison.Ordinal),
            $"{name}: the PTX prints from the device (a debug assertion reached the kernel).");
        string? folder = Environment.GetEnvironmentVariable(RegisterTiledGemmPtxTests.PtxFolderVariable);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, name + ".ptx"), ptx);
        }
    }
}

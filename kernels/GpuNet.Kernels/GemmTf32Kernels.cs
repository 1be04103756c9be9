using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.PTX;
using ILGPU.IR;
using ILGPU.IR.Intrinsics;
using ILGPU.IR.Values;

namespace GpuNet.Kernels;

/// <summary>The four accumulators one lane holds for an m16n8 tile of C (see <see cref="GemmTf32Kernels.Mma"/>).</summary>
public struct MmaAccumulator
{
    /// <summary>C[g, 2t]: row g = lane / 4, column 2t with t = lane % 4.</summary>
    public float C0;

    /// <summary>C[g, 2t + 1].</summary>
    public float C1;

    /// <summary>C[g + 8, 2t].</summary>
    public float C2;

    /// <summary>C[g + 8, 2t + 1].</summary>
    public float C3;
}

/// <summary>
/// The TF32 tensor-core GEMM (opt-in, like PyTorch's <c>allow_tf32</c>): the two device intrinsics it is built
/// from (<see cref="Mma"/> and <see cref="RoundToTf32"/>), their PTX code generators, and the launch geometry.
/// The kernels themselves are generated (<c>GemmTf32.Generated.cs</c>, <see cref="GemmTf32GeneratedKernels"/>).
/// </summary>
/// <remarks>
/// <para><b>How the PTX gets in.</b> <c>CudaAsm.Emit</c>/<c>EmitRef</c> pass their results through addresses:
/// ILGPU 1.5.3 gives every such argument a 4-byte <c>.local</c> depot, and ptxas keeps them (a 64-byte stack
/// frame and STL/LDL around every mma in a small test kernel). So both instructions are <em>custom ILGPU
/// intrinsics</em> instead: methods marked <see cref="IntrinsicImplementationAttribute"/>, for which
/// <see cref="RegisterIntrinsics"/> registers PTX code generators (<see cref="GenerateMma"/>,
/// <see cref="GenerateRoundToTf32"/>) that write the instruction with plain registers (the four results of
/// the mma are one <see cref="MmaAccumulator"/>, i.e. four registers). The context that compiles the kernels
/// for CUDA must have them registered (<see cref="IlgpuBackend.CreateCuda"/> does).</para>
/// <para><b>On ILGPU's CPU accelerator</b> a kernel runs as .NET code, so these methods run their C# bodies:
/// <see cref="Mma"/> emulates one <c>mma.sync</c> from the same per-lane fragment registers with warp
/// shuffles (the warp must have 32 lanes, as <see cref="IlgpuBackend.CreateCpu"/> configures it), and
/// <see cref="RoundToTf32"/> rounds like <c>cvt.rna.tf32.f32</c>. So the fragment loading, the mma
/// bookkeeping and the stores are all exercised without a GPU; only the two instructions themselves are not.
/// (<c>CudaAsm.IsSupported</c> would also separate the paths, but the inline PTX behind it is what costs the
/// local memory; and ILGPU 1.5.3 specializes it to a constant after its last constant folding, so both branches
/// reach the PTX.)</para>
/// </remarks>
public static class GemmTf32Kernels
{
    /// <summary>Threads per group of every TF32 kernel: 8 warps, 2 along M x 4 along N.</summary>
    public const int GroupSize = 256;

    /// <summary>Depth of the K slab staged in shared memory per iteration (two k8 mma steps).</summary>
    public const int TileK = 16;

    /// <summary>The PTX instruction of <see cref="Mma"/>.</summary>
    public const string MmaInstruction = "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32";

    /// <summary>The PTX instruction of <see cref="RoundToTf32"/>.</summary>
    public const string RoundInstruction = "cvt.rna.tf32.f32";

    /// <summary>Groups for an M x N result with <paramref name="tile"/> x <paramref name="tile"/> tiles (64 or 128).</summary>
    public static int GroupCount(int m, int n, int tile) => ((m + tile - 1) / tile) * ((n + tile - 1) / tile);

    /// <summary>
    /// Registers the PTX code generators of <see cref="Mma"/> and <see cref="RoundToTf32"/> with a context
    /// under construction. Without them a CUDA context cannot compile the TF32 kernels.
    /// </summary>
    public static Context.Builder RegisterIntrinsics(Context.Builder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var manager = builder.GetIntrinsicManager();
        manager.RegisterMethod(typeof(GemmTf32Kernels).GetMethod(nameof(Mma))!,
            new PTXIntrinsic(typeof(GemmTf32Kernels), nameof(GenerateMma), IntrinsicImplementationMode.GenerateCode));
        manager.RegisterMethod(typeof(GemmTf32Kernels).GetMethod(nameof(RoundToTf32))!,
            new PTXIntrinsic(typeof(GemmTf32Kernels), nameof(GenerateRoundToTf32), IntrinsicImplementationMode.GenerateCode));
        return builder;
    }

    /// <summary>
    /// One warp-wide <c>mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32</c>: D = A B + C for a 16 x 8 tile
    /// of C, A 16 x 8 and B 8 x 8 in TF32, accumulated in fp32. Every lane of the warp must call it together.
    /// </summary>
    /// <remarks>
    /// Fragments, with g = lane / 4 and t = lane % 4: a0 = A[g, t], a1 = A[g + 8, t], a2 = A[g, t + 4],
    /// a3 = A[g + 8, t + 4]; b0 = B[t, g], b1 = B[t + 4, g] (B indexed [k, n]); c0, c1 = C[g, 2t], C[g, 2t + 1];
    /// c2, c3 the same at row g + 8. The a and b values are the bits of TF32 numbers (<see cref="RoundToTf32"/>).
    /// On CUDA this is the tensor-core instruction; this body is the emulation for ILGPU's CPU accelerator.
    /// </remarks>
    [IntrinsicImplementation]
    public static MmaAccumulator Mma(float c0, float c1, float c2, float c3,
        uint a0, uint a1, uint a2, uint a3, uint b0, uint b1)
    {
        // Emulation, lane by lane, in four warp shuffles (each one is a warp-wide rendezvous on the CPU
        // accelerator, the cost that matters there). Rounds 1 and 2 gather the fragments of this lane's quad
        // (lanes 4g .. 4g + 3, holding k = 0..3 and, in a2, a3 and b1, k + 4): rows g and g + 8 of A, and column
        // n = g of B.
        int lane = Warp.LaneIdx;
        int g = lane >> 2, t = lane & 3;
        var mine = new LaneFragments { A0 = a0, A1 = a1, A2 = a2, A3 = a3, B0 = b0, B1 = b1 };
        var other = Warp.Shuffle(mine, lane ^ 1);
        var pair = (lane & 1) == 0 ? new FragmentPair { Even = mine, Odd = other } : new FragmentPair { Even = other, Odd = mine };
        var otherPair = Warp.Shuffle(pair, lane ^ 2);
        var (low, high) = (lane & 2) == 0 ? (pair, otherPair) : (otherPair, pair);
        LaneFragments q0 = low.Even, q1 = low.Odd, q2 = high.Even, q3 = high.Odd; // quad member kk holds k = kk (and kk + 4)

        // Rounds 3 and 4: this lane needs columns 2t and 2t + 1 of B, gathered by quads 2t and 2t + 1 above.
        var column = new BColumn { K0 = q0.B0, K1 = q1.B0, K2 = q2.B0, K3 = q3.B0, K4 = q0.B1, K5 = q1.B1, K6 = q2.B1, K7 = q3.B1 };
        var otherColumn = Warp.Shuffle(column, lane ^ 4);
        var columns = (g & 1) == 0 ? new BColumnPair { Even = column, Odd = otherColumn } : new BColumnPair { Even = otherColumn, Odd = column };
        columns = Warp.Shuffle(columns, 8 * t); // quad 2t: columns 2t and 2t + 1
        BColumn n0 = columns.Even, n1 = columns.Odd;

        // Sum over k in order; TF32 products are exact in fp32 (11-bit significands), so only the additions round.
        return new MmaAccumulator
        {
            C0 = c0 + Dot(q0.A0, q1.A0, q2.A0, q3.A0, q0.A2, q1.A2, q2.A2, q3.A2, n0),
            C1 = c1 + Dot(q0.A0, q1.A0, q2.A0, q3.A0, q0.A2, q1.A2, q2.A2, q3.A2, n1),
            C2 = c2 + Dot(q0.A1, q1.A1, q2.A1, q3.A1, q0.A3, q1.A3, q2.A3, q3.A3, n0),
            C3 = c3 + Dot(q0.A1, q1.A1, q2.A1, q3.A1, q0.A3, q1.A3, q2.A3, q3.A3, n1),
        };
    }

    /// <summary>The six fragment registers one lane passes to <see cref="Mma"/> (for the emulation's shuffles).</summary>
    private struct LaneFragments
    {
        public uint A0, A1, A2, A3, B0, B1;
    }

    /// <summary>The fragments of two neighbouring lanes, 2i and 2i + 1.</summary>
    private struct FragmentPair
    {
        public LaneFragments Even, Odd;
    }

    /// <summary>One column of the 8 x 8 B operand, k = 0..7 (for the emulation's shuffles).</summary>
    private struct BColumn
    {
        public uint K0, K1, K2, K3, K4, K5, K6, K7;
    }

    /// <summary>Columns 2i and 2i + 1 of B.</summary>
    private struct BColumnPair
    {
        public BColumn Even, Odd;
    }

    /// <summary>sum_k A[row, k] B[k, column] in k order, from TF32 bits.</summary>
    private static float Dot(uint x0, uint x1, uint x2, uint x3, uint x4, uint x5, uint x6, uint x7, BColumn y)
    {
        float sum = Tf32Value(x0) * Tf32Value(y.K0);
        sum += Tf32Value(x1) * Tf32Value(y.K1);
        sum += Tf32Value(x2) * Tf32Value(y.K2);
        sum += Tf32Value(x3) * Tf32Value(y.K3);
        sum += Tf32Value(x4) * Tf32Value(y.K4);
        sum += Tf32Value(x5) * Tf32Value(y.K5);
        sum += Tf32Value(x6) * Tf32Value(y.K6);
        sum += Tf32Value(x7) * Tf32Value(y.K7);
        return sum;
    }

    /// <summary>
    /// <c>cvt.rna.tf32.f32</c>: <paramref name="x"/> rounded to TF32 (10 explicit mantissa bits), to nearest
    /// with ties away from zero, returned as the bits of a float whose low 13 bits are 0.
    /// </summary>
    /// <remarks>On CUDA this is the PTX instruction; this body is the software version (CPU accelerator and tests).</remarks>
    [IntrinsicImplementation]
    public static uint RoundToTf32(float x) => RoundToTf32Bits(x);

    /// <summary>
    /// The software rounding of <see cref="RoundToTf32"/>: add half a TF32 unit in the last place to the
    /// magnitude bits (so ties round away from zero, and a carry moves into the exponent), then clear the low
    /// 13 bits. Infinities stay; NaN becomes the canonical quiet NaN (0x7FC00000, a TF32 value); finite values
    /// within half a TF32 ulp of overflow become infinity.
    /// </summary>
    public static uint RoundToTf32Bits(float x)
    {
        uint bits = Interop.FloatAsInt(x);
        if ((bits & 0x7F800000u) == 0x7F800000u)
            return (bits & 0x007FFFFFu) == 0 ? bits : 0x7FC00000u;
        return (bits + 0x1000u) & 0xFFFFE000u;
    }

    /// <summary>The float a TF32 operand register stands for: the tensor cores read only its upper 19 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tf32Value(uint bits) => Interop.IntAsFloat(bits & 0xFFFFE000u);

    /// <summary>PTX for a call of <see cref="Mma"/>: one mma.sync writing the four registers of the result.</summary>
    /// <param name="backend">The PTX backend (unused).</param>
    /// <param name="codeGenerator">The code generator of the kernel being compiled.</param>
    /// <param name="value">The <see cref="MethodCall"/> of <see cref="Mma"/>.</param>
    public static void GenerateMma(PTXBackend backend, PTXCodeGenerator codeGenerator, Value value)
    {
        var call = (MethodCall)value;
        var temporaries = new List<RegisterAllocator<PTXRegisterKind>.HardwareRegister>();
        var c = new RegisterAllocator<PTXRegisterKind>.PrimitiveRegister[4];
        var a = new RegisterAllocator<PTXRegisterKind>.PrimitiveRegister[4];
        var b = new RegisterAllocator<PTXRegisterKind>.PrimitiveRegister[2];
        for (int i = 0; i < 4; i++) c[i] = InRegister(codeGenerator, call[i], temporaries);
        for (int i = 0; i < 4; i++) a[i] = InRegister(codeGenerator, call[4 + i], temporaries);
        for (int i = 0; i < 2; i++) b[i] = InRegister(codeGenerator, call[8 + i], temporaries);

        var result = (RegisterAllocator<PTXRegisterKind>.CompoundRegister)codeGenerator.Allocate(value);
        var d = new RegisterAllocator<PTXRegisterKind>.PrimitiveRegister[4];
        for (int i = 0; i < 4; i++) d[i] = (RegisterAllocator<PTXRegisterKind>.PrimitiveRegister)result.Children[i];

        using (var command = codeGenerator.BeginCommand(MmaInstruction))
        {
            command.AppendVectorArgument(d);
            command.AppendVectorArgument(a);
            command.AppendVectorArgument(b);
            command.AppendVectorArgument(c);
        }
        foreach (var temporary in temporaries) codeGenerator.FreeRegister(temporary);
    }

    /// <summary>PTX for a call of <see cref="RoundToTf32"/>: one cvt.rna.tf32.f32 into a .b32 register.</summary>
    /// <param name="backend">The PTX backend (unused).</param>
    /// <param name="codeGenerator">The code generator of the kernel being compiled.</param>
    /// <param name="value">The <see cref="MethodCall"/> of <see cref="RoundToTf32"/>.</param>
    public static void GenerateRoundToTf32(PTXBackend backend, PTXCodeGenerator codeGenerator, Value value)
    {
        var call = (MethodCall)value;
        var temporaries = new List<RegisterAllocator<PTXRegisterKind>.HardwareRegister>();
        var source = InRegister(codeGenerator, call[0], temporaries);
        var target = codeGenerator.AllocateHardware(value);
        using (var command = codeGenerator.BeginCommand(RoundInstruction))
        {
            command.AppendArgument(target);
            command.AppendArgument(source);
        }
        foreach (var temporary in temporaries) codeGenerator.FreeRegister(temporary);
    }

    /// <summary>The register holding <paramref name="value"/>; a constant is first moved into a temporary (mma takes registers only).</summary>
    private static RegisterAllocator<PTXRegisterKind>.PrimitiveRegister InRegister(PTXCodeGenerator codeGenerator, Value value,
        List<RegisterAllocator<PTXRegisterKind>.HardwareRegister> temporaries)
    {
        var register = codeGenerator.LoadPrimitive(value);
        if (register is not RegisterAllocator<PTXRegisterKind>.ConstantRegister constant)
            return register;
        var temporary = constant.BasicValueType == BasicValueType.Float32
            ? codeGenerator.AllocateRegister(BasicValueType.Float32, PTXRegisterKind.Float32)
            : codeGenerator.AllocateRegister(BasicValueType.Int32, PTXRegisterKind.Int32);
        using (var command = codeGenerator.BeginCommand("mov.b32"))
        {
            command.AppendArgument(temporary);
            command.AppendArgument(constant);
        }
        temporaries.Add(temporary);
        return temporary;
    }
}

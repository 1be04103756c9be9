// ILGPU's dense one-dimensional view, the only buffer shape the kernels use.
global using FloatView = ILGPU.Runtime.ArrayView1D<float, ILGPU.Stride1D.Dense>;
global using IntView = ILGPU.Runtime.ArrayView1D<int, ILGPU.Stride1D.Dense>;

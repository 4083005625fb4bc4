package dev.verity.zk;

/**
 * One operation of a quantized network's architecture (weights live in {@link QuantizedModel}).
 * Every layer reads earlier tensors by index (0 is the network input, layer i produces tensor
 * i + 1) and produces one tensor; all arithmetic is exact integer arithmetic, which is what a proof
 * attests.
 */
public sealed interface Layer {

  /** Indices of the tensors this layer reads. */
  int[] inputs();

  /**
   * Fully connected: y[o] = sum_j W[o][j] * x[j] + b[o], reading the input flattened in
   * channel-major order (as ONNX Flatten does). Weights are row-major {@code outputs x inputSize}.
   */
  record Dense(int input, int outputs) implements Layer {
    @Override
    public int[] inputs() {
      return new int[] {input};
    }
  }

  /**
   * 2-D convolution with square kernels, zero padding and a stride: y[co][oy][ox] = b[co] + sum
   * over ci, ky, kx of W[co][ci][ky][kx] * x[ci][oy*stride + ky - padding][ox*stride + kx -
   * padding], reading zero outside the input. Weights are ordered {@code [co][ci][ky][kx]}.
   */
  record Conv2d(int input, int outChannels, int kernel, int stride, int padding) implements Layer {
    @Override
    public int[] inputs() {
      return new int[] {input};
    }
  }

  /**
   * Rescaling with an optional ReLU: z = floor(x / 2^shift) (shift 0..24), output relu(z) or z. z
   * must be an int16; inference fails otherwise.
   */
  record Requant(int input, int shift, boolean relu) implements Layer {
    @Override
    public int[] inputs() {
      return new int[] {input};
    }
  }

  /** 2x2 max pooling with stride 2; height and width must be even. */
  record MaxPool(int input) implements Layer {
    @Override
    public int[] inputs() {
      return new int[] {input};
    }
  }

  /**
   * 2x2 sum pooling with stride 2 (height and width even); followed by a {@link Requant} with
   * shift 2 it is average pooling with floor rounding.
   */
  record SumPool(int input) implements Layer {
    @Override
    public int[] inputs() {
      return new int[] {input};
    }
  }

  /** Element-wise sum of two tensors of the same shape (residual connections). */
  record Add(int left, int right) implements Layer {
    @Override
    public int[] inputs() {
      return new int[] {left, right};
    }
  }
}

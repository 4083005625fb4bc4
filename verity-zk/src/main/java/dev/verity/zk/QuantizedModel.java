package dev.verity.zk;

import dev.verity.core.Cid;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A quantized neural network with integer weights and exact integer semantics, named by the CID of
 * the model it was derived from. This is the object proofs are about: {@link #run} defines the
 * output a proof attests.
 *
 * <p>Quantization: weights are int16 values (int8 models are a special case), biases are integers
 * at the accumulator's scale, activations are int16 ({@link Architecture#ACTIVATION_BITS}). A
 * layer's real-valued scale is the product of its input and weight scales; a {@link
 * Layer.Requant} divides by a power of two (floor) to return to the activation scale. Inputs must
 * lie in [-2^15, 2^15). Inference fails with {@link ArithmeticException} when a
 * rescaled value leaves that range (choose larger shifts).
 *
 * <p>Instances are immutable and validated: the {@link Architecture} is well formed, weights are in
 * range, and no accumulator can exceed 2^60 in absolute value whatever the input, so arithmetic
 * modulo p in a proof never wraps around.
 */
public final class QuantizedModel {
  /** Largest accumulator magnitude any layer may reach. */
  public static final long MAX_ACCUMULATOR = 1L << 60;

  private final Cid cid;
  private final Architecture architecture;
  private final int[][] weights;
  private final long[][] biases;

  private QuantizedModel(Cid cid, Architecture architecture, int[][] weights, long[][] biases) {
    this.cid = cid;
    this.architecture = architecture;
    this.weights = weights;
    this.biases = biases;
    checkParameters();
  }

  /** Starts a model whose input has the given shape. */
  public static Builder builder(Cid cid, Shape input) {
    return new Builder(cid, input);
  }

  public Cid cid() {
    return cid;
  }

  public Architecture architecture() {
    return architecture;
  }

  /** Weights of dense or convolution layer i (a copy), in the order {@link Layer} documents. */
  public int[] weights(int layer) {
    return parametersOf(layer, weights).clone();
  }

  /** Biases of dense or convolution layer i (a copy). */
  public long[] bias(int layer) {
    return parametersOf(layer, biases).clone();
  }

  private static <T> T parametersOf(int layer, T[] all) {
    if (layer < 0 || layer >= all.length || all[layer] == null) {
      throw new IllegalArgumentException("layer " + layer + " is not a dense or convolution layer");
    }
    return all[layer];
  }

  int[] weightsView(int layer) {
    return weights[layer];
  }

  long[] biasView(int layer) {
    return biases[layer];
  }

  /** Number of weights and biases. */
  public long parameterCount() {
    long n = 0;
    for (int i = 0; i < weights.length; i++) {
      if (weights[i] != null) {
        n += weights[i].length + biases[i].length;
      }
    }
    return n;
  }

  /** Number of multiply-accumulate operations of one inference. */
  public long multiplyAccumulates() {
    long macs = 0;
    for (int i = 0; i < weights.length; i++) {
      if (weights[i] != null) {
        macs += (long) weights[i].length * (architecture.layers().get(i) instanceof Layer.Conv2d
            ? architecture.shape(i + 1).height() * architecture.shape(i + 1).width() : 1);
      }
    }
    return macs;
  }

  /**
   * Runs the network on an input (channel-major, {@code architecture().inputShape().size()}
   * values) and returns the output tensor, channel-major.
   */
  public long[] run(long[] input) {
    return Trace.of(this, input).logicalOutput();
  }

  private void checkParameters() {
    List<Layer> layers = architecture.layers();
    long[] bound = new long[architecture.tensorCount()];
    bound[0] = 1L << (Architecture.ACTIVATION_BITS - 1);
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      long b =
          switch (l) {
            case Layer.Dense d -> {
              int n = architecture.shape(d.input()).size();
              yield linearBound(i, "dense", Math.multiplyExact(d.outputs(), n), d.outputs(), n, bound[d.input()]);
            }
            case Layer.Conv2d c -> {
              int per = architecture.shape(c.input()).channels() * c.kernel() * c.kernel();
              yield linearBound(i, "conv2d", Math.multiplyExact(c.outChannels(), per), c.outChannels(), per, bound[c.input()]);
            }
            case Layer.Requant r -> {
              requireNoParameters(i);
              yield 1L << (Architecture.ACTIVATION_BITS - 1);
            }
            case Layer.MaxPool m -> {
              requireNoParameters(i);
              yield bound[m.input()];
            }
            case Layer.SumPool p -> {
              requireNoParameters(i);
              yield 4 * bound[p.input()];
            }
            case Layer.Add a -> {
              requireNoParameters(i);
              yield bound[a.left()] + bound[a.right()];
            }
          };
      if (b > MAX_ACCUMULATOR || b < 0) {
        throw new IllegalArgumentException(
            "layer " + i + " can reach values beyond 2^60; use smaller weights or rescale earlier");
      }
      bound[i + 1] = b;
    }
  }

  private void requireNoParameters(int i) {
    if (weights[i] != null || biases[i] != null) {
      throw new IllegalArgumentException("layer " + i + " takes no weights");
    }
  }

  private long linearBound(int i, String what, int count, int rows, int perRow, long inputBound) {
    int[] w = weights[i];
    long[] b = biases[i];
    if (w == null || w.length != count) {
      throw new IllegalArgumentException(
          what + " layer " + i + " needs " + count + " weights, got " + (w == null ? 0 : w.length));
    }
    if (b == null || b.length != rows) {
      throw new IllegalArgumentException(
          what + " layer " + i + " needs " + rows + " biases, got " + (b == null ? 0 : b.length));
    }
    long worst = 0;
    for (int o = 0; o < rows; o++) {
      long sum = 0;
      for (int j = 0; j < perRow; j++) {
        int x = w[o * perRow + j];
        if (x < Short.MIN_VALUE || x > Short.MAX_VALUE) {
          throw new IllegalArgumentException(what + " layer " + i + " weight " + x + " is outside the int16 range");
        }
        sum += Math.abs(x);
      }
      if (Math.abs(b[o]) > MAX_ACCUMULATOR) {
        throw new IllegalArgumentException(what + " layer " + i + " bias " + b[o] + " is out of range");
      }
      long term = sum != 0 && inputBound > Long.MAX_VALUE / 4 / sum ? Long.MAX_VALUE / 2 : sum * inputBound;
      worst = Math.max(worst, term + Math.abs(b[o]));
    }
    return worst;
  }

  /** Collects layers and their weights; {@link #build} validates everything. */
  public static final class Builder {
    private final Cid cid;
    private final Shape input;
    private final List<Layer> layers = new ArrayList<>();
    private final List<int[]> weights = new ArrayList<>();
    private final List<long[]> biases = new ArrayList<>();

    private Builder(Cid cid, Shape input) {
      this.cid = Objects.requireNonNull(cid, "a model needs the CID it was derived from");
      this.input = Objects.requireNonNull(input);
    }

    /** The index of the most recently produced tensor. */
    public int last() {
      return layers.size();
    }

    /** The shape of a tensor produced so far (checks the layers up to it). */
    public Shape shapeOf(int tensor) {
      return Architecture.deriveShapes(input, layers.subList(0, tensor)).get(tensor);
    }

    private int push(Layer l, int[] w, long[] b) {
      layers.add(l);
      weights.add(w == null ? null : w.clone());
      biases.add(b == null ? null : b.clone());
      return last();
    }

    public int dense(int input, int outputs, int[] weights, long[] bias) {
      return push(new Layer.Dense(input, outputs), Objects.requireNonNull(weights), Objects.requireNonNull(bias));
    }

    public int conv2d(int input, int outChannels, int kernel, int stride, int padding, int[] weights, long[] bias) {
      return push(new Layer.Conv2d(input, outChannels, kernel, stride, padding),
          Objects.requireNonNull(weights), Objects.requireNonNull(bias));
    }

    public int requant(int input, int shift, boolean relu) {
      return push(new Layer.Requant(input, shift, relu), null, null);
    }

    public int maxPool(int input) {
      return push(new Layer.MaxPool(input), null, null);
    }

    public int sumPool(int input) {
      return push(new Layer.SumPool(input), null, null);
    }

    /** Average pooling with floor rounding: a sum pooling followed by a shift of 2. */
    public int avgPool(int input) {
      return requant(sumPool(input), 2, false);
    }

    public int add(int left, int right) {
      return push(new Layer.Add(left, right), null, null);
    }

    public QuantizedModel build() {
      Architecture a = new Architecture(input, layers);
      return new QuantizedModel(cid, a, weights.toArray(new int[0][]), biases.toArray(new long[0][]));
    }
  }
}

package dev.verity.bench;

import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxModel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A fully connected network with random float32 weights, for measuring a model whose run time is
 * dominated by real arithmetic rather than by overhead: {@code x[N, w0] -Gemm-Relu- ... -Gemm-
 * y[N, wLast]}, a ReLU after every layer but the last. Weights are drawn uniformly from
 * +-sqrt(6 / fan-in) with a fixed seed, so the same widths and seed always give the same ONNX bytes
 * and thus the same model CID.
 *
 * @param widths the layer widths, input first; at least two
 * @param seed the seed of the weights
 */
public record RandomMlp(List<Integer> widths, long seed) {
  public static final String INPUT = "x";
  public static final String OUTPUT = "y";

  public RandomMlp {
    widths = List.copyOf(widths);
    if (widths.size() < 2 || widths.stream().anyMatch(w -> w < 1)) {
      throw new IllegalArgumentException("an MLP needs at least two positive layer widths, got " + widths);
    }
  }

  /** Weights and biases of every layer. */
  public long parameterCount() {
    long n = 0;
    for (int i = 1; i < widths.size(); i++) {
      n += (long) widths.get(i - 1) * widths.get(i) + widths.get(i);
    }
    return n;
  }

  /** The widths as "1024-1024-10". */
  public String shapeText() {
    return String.join("-", widths.stream().map(String::valueOf).toList());
  }

  public OnnxModel build() {
    SplittableRandom random = new SplittableRandom(seed);
    OnnxModel.Builder b = OnnxModel.builder()
        .producer("verity-bench", "1")
        .input(INPUT, ElementType.FLOAT, Dim.symbolic("N"), Dim.of(widths.get(0)))
        .output(OUTPUT, ElementType.FLOAT, Dim.symbolic("N"), Dim.of(widths.get(widths.size() - 1)));
    String previous = INPUT;
    for (int layer = 1; layer < widths.size(); layer++) {
      int in = widths.get(layer - 1);
      int out = widths.get(layer);
      double bound = Math.sqrt(6.0 / in);
      float[] w = new float[in * out];
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
      }
      float[] bias = new float[out];
      for (int i = 0; i < out; i++) {
        bias[i] = (float) ((random.nextDouble() * 2 - 1) * 0.01);
      }
      String weight = "fc" + layer + ".weight";
      String biasName = "fc" + layer + ".bias";
      b.initializer(weight, new long[] {in, out}, w).initializer(biasName, new long[] {out}, bias);
      boolean last = layer == widths.size() - 1;
      String gemm = last ? OUTPUT : "fc" + layer;
      b.node("Gemm", List.of(previous, weight, biasName), List.of(gemm));
      if (!last) {
        b.node("Relu", List.of(gemm), List.of("relu" + layer));
        previous = "relu" + layer;
      }
    }
    return b.build();
  }

  /** One input row of uniform values in [-1, 1) from {@code seed}. */
  public float[] sampleInput(long inputSeed) {
    SplittableRandom random = new SplittableRandom(inputSeed);
    float[] x = new float[widths.get(0)];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextDouble() * 2 - 1);
    }
    return x;
  }

  static List<Integer> widths(int... w) {
    List<Integer> out = new ArrayList<>();
    for (int v : w) {
      out.add(v);
    }
    return out;
  }
}

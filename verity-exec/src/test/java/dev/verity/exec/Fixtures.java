package dev.verity.exec;

import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxReader;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.List;
import java.util.Random;

/** Models and inputs shared by the tests and the benchmark. */
final class Fixtures {
  private Fixtures() {}

  static OnnxModel onnx(ExampleModel m) {
    return OnnxReader.read(m.onnx());
  }

  /** All of a built-in model's held-out samples as one batch. */
  static NamedTensors samplesBatch(ExampleModel m) {
    List<ExampleModel.Sample> samples = m.samples();
    long[] rowShape = samples.get(0).shape();
    int width = samples.get(0).values().length;
    float[] flat = new float[samples.size() * width];
    for (int i = 0; i < samples.size(); i++) {
      System.arraycopy(samples.get(i).values(), 0, flat, i * width, width);
    }
    long[] shape = rowShape.clone();
    shape[0] = samples.size();
    return NamedTensors.of(m.inputName(), Tensor.ofFloats(shape, flat));
  }

  static NamedTensors sample(ExampleModel m, int i) {
    ExampleModel.Sample s = m.samples().get(i);
    return NamedTensors.of(m.inputName(), Tensor.ofFloats(s.shape(), s.values()));
  }

  private static final java.util.Map<String, List<ExampleModel.Sample>> HELD_OUT =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Held-out example {@code i} of a built-in model (hundreds available), as a batch of one. */
  static NamedTensors heldOut(ExampleModel m, int i) {
    ExampleModel.Sample s = HELD_OUT.computeIfAbsent(m.name(), BuiltinModels::heldOut).get(i);
    return NamedTensors.of(m.inputName(), Tensor.ofFloats(s.shape(), s.values()));
  }

  static List<ExampleModel> builtins() {
    return BuiltinModels.all();
  }

  /**
   * A multilayer perceptron with random weights: {@code in -> hidden -> hidden -> out}, Gemm +
   * Relu layers and a Softmax. With in = hidden = 1024 and out = 10 it holds over 2M parameters.
   */
  static OnnxModel mlp(int in, int hidden, int out, long seed) {
    Random r = new Random(seed);
    OnnxModel.Builder b = OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(in))
        .output("p", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(out));
    int[] widths = {in, hidden, hidden, out};
    String prev = "x";
    for (int l = 0; l < 3; l++) {
      float[] w = new float[widths[l + 1] * widths[l]];
      float scale = (float) Math.sqrt(2.0 / widths[l]);
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) r.nextGaussian() * scale;
      }
      float[] bias = new float[widths[l + 1]];
      for (int i = 0; i < bias.length; i++) {
        bias[i] = (float) r.nextGaussian() * 0.1f;
      }
      b.initializer("w" + l, new long[] {widths[l + 1], widths[l]}, w);
      b.initializer("b" + l, new long[] {widths[l + 1]}, bias);
      String z = "z" + l;
      b.node("Gemm", List.of(prev, "w" + l, "b" + l), List.of(z),
          dev.verity.onnx.OnnxAttribute.ofInt("transB", 1));
      prev = l < 2 ? "h" + l : "logits";
      b.node(l < 2 ? "Relu" : "Tanh", List.of(z), List.of(prev));
    }
    b.node("Softmax", List.of(prev), List.of("p"), dev.verity.onnx.OnnxAttribute.ofInt("axis", 1));
    return b.build();
  }

  static NamedTensors randomRows(int rows, int width, long seed) {
    Random r = new Random(seed);
    float[] f = new float[rows * width];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) r.nextGaussian();
    }
    return NamedTensors.of("x", Tensor.ofFloats(new long[] {rows, width}, f));
  }

  /** A convolutional network exercising several operators, large enough to be split on threads. */
  static OnnxModel convNet(long seed) {
    Random r = new Random(seed);
    OnnxModel.Builder b = OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(3), Dim.of(24), Dim.of(24))
        .output("p", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(10));
    b.initializer("w1", new long[] {16, 3, 3, 3}, gauss(r, 16 * 27, 0.3f));
    b.initializer("b1", new long[] {16}, gauss(r, 16, 0.1f));
    b.initializer("s", new long[] {16}, gauss(r, 16, 1f));
    b.initializer("bb", new long[] {16}, gauss(r, 16, 0.1f));
    b.initializer("m", new long[] {16}, gauss(r, 16, 0.1f));
    float[] var = gauss(r, 16, 0.1f);
    for (int i = 0; i < var.length; i++) {
      var[i] = 1f + Math.abs(var[i]);
    }
    b.initializer("v", new long[] {16}, var);
    b.initializer("w2", new long[] {32, 16, 3, 3}, gauss(r, 32 * 16 * 9, 0.1f));
    b.initializer("fw", new long[] {32, 10}, gauss(r, 320, 0.2f));
    b.initializer("fb", new long[] {10}, gauss(r, 10, 0.1f));
    b.initializer("shape", new long[] {2}, new long[] {0, -1});
    b.node("Conv", List.of("x", "w1", "b1"), List.of("c1"),
        dev.verity.onnx.OnnxAttribute.ofInts("pads", 1, 1, 1, 1));
    b.node("BatchNormalization", List.of("c1", "s", "bb", "m", "v"), List.of("n1"));
    b.node("LeakyRelu", List.of("n1"), List.of("a1"));
    b.node("MaxPool", List.of("a1"), List.of("p1"),
        dev.verity.onnx.OnnxAttribute.ofInts("kernel_shape", 2, 2),
        dev.verity.onnx.OnnxAttribute.ofInts("strides", 2, 2));
    b.node("Conv", List.of("p1", "w2"), List.of("c2"),
        dev.verity.onnx.OnnxAttribute.ofInts("strides", 2, 2));
    b.node("Sigmoid", List.of("c2"), List.of("a2"));
    b.node("GlobalAveragePool", List.of("a2"), List.of("g"));
    b.node("Reshape", List.of("g", "shape"), List.of("flat"));
    b.node("MatMul", List.of("flat", "fw"), List.of("mm"));
    b.node("Add", List.of("mm", "fb"), List.of("logits"));
    b.node("Softmax", List.of("logits"), List.of("p"));
    return b.build();
  }

  static float[] gauss(Random r, int n, float scale) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) r.nextGaussian() * scale;
    }
    return f;
  }

  static NamedTensors images(int n, long seed) {
    Random r = new Random(seed);
    return NamedTensors.of("x", Tensor.ofFloats(new long[] {n, 3, 24, 24}, gauss(r, n * 3 * 576, 1f)));
  }
}

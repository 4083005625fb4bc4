package dev.verity.exec;

import static dev.verity.onnx.OnnxAttribute.ofFloat;
import static dev.verity.onnx.OnnxAttribute.ofInt;
import static dev.verity.onnx.OnnxAttribute.ofInts;
import static dev.verity.onnx.OnnxAttribute.ofString;

import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxAttribute;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxValueInfo;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Each operator of the canonical set agrees with ONNX Runtime within the documented tolerance. */
class OperatorsMatchOnnxRuntimeTest {
  private final Random random = new Random(20261122);

  /** A one-or-few-node graph with random float inputs, run by both engines. */
  private final class Case {
    final OnnxModel.Builder b = OnnxModel.builder();
    final Map<String, Tensor> feed = new TreeMap<>();
    String last;
    int nodes;

    Case opset(long v) {
      b.opset("", v);
      return this;
    }

    Case input(String name, long... shape) {
      Dim[] dims = new Dim[shape.length];
      for (int i = 0; i < shape.length; i++) {
        dims[i] = Dim.of(shape[i]);
      }
      b.input(name, ElementType.FLOAT, dims);
      feed.put(name, Tensor.ofFloats(shape, randoms((int) Tensor.elementCount(shape))));
      return this;
    }

    Case weight(String name, long... shape) {
      b.initializer(name, shape, randoms((int) Tensor.elementCount(shape)));
      return this;
    }

    Case weight(String name, long[] shape, float[] values) {
      b.initializer(name, shape, values);
      return this;
    }

    Case ints(String name, long... values) {
      b.initializer(name, new long[] {values.length}, values);
      return this;
    }

    Case node(String op, List<String> in, OnnxAttribute... attrs) {
      last = "v" + (++nodes) + "_" + op;
      b.node(op, in, List.of(last), attrs);
      return this;
    }

    Case chainWith(String op, OnnxAttribute... attrs) {
      return node(op, List.of(last), attrs);
    }

    Case chainGemm(String w, String bias) {
      return node("Gemm", List.of(last, w, bias));
    }

    void check(String what) throws Exception {
      b.output(OnnxValueInfo.unknownRank(last, ElementType.FLOAT));
      OnnxModel model = b.build();
      NamedTensors in = NamedTensors.of(feed);
      NamedTensors ort = Ort.runOnce(model, in);
      try (CanonicalExecutor ex = CanonicalExecutor.create(model)) {
        Tolerance.assertClose(ort, ex.run(in), what);
      }
    }
  }

  private float[] randoms(int n) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) (random.nextGaussian());
    }
    return f;
  }

  private Case c() {
    return new Case();
  }

  @Test
  void gemmMatchesWithTranspositionsScalingAndBias() throws Exception {
    c().input("a", 3, 5).weight("b", 5, 4).weight("c", 4).node("Gemm", List.of("a", "b", "c"))
        .check("Gemm");
    c().input("a", 5, 3).weight("b", 4, 5).weight("c", 3, 1)
        .node("Gemm", List.of("a", "b", "c"), ofInt("transA", 1), ofInt("transB", 1),
            ofFloat("alpha", 0.5f), ofFloat("beta", -2f))
        .check("Gemm transposed");
    c().input("a", 1, 70).weight("b", 70, 33).node("Gemm", List.of("a", "b")).check("Gemm no C");
  }

  @Test
  void matMulMatchesInTwoBatchedAndVectorForms() throws Exception {
    c().input("a", 4, 6).weight("b", 6, 3).node("MatMul", List.of("a", "b")).check("MatMul");
    c().input("a", 2, 3, 4, 6).weight("b", 6, 5).node("MatMul", List.of("a", "b"))
        .check("MatMul batched");
    c().input("a", 2, 1, 4, 6).input("b", 3, 6, 2).node("MatMul", List.of("a", "b"))
        .check("MatMul broadcast batch");
    c().input("a", 6).input("b", 6, 3).node("MatMul", List.of("a", "b")).check("MatMul vector");
  }

  @Test
  void convMatchesWithPaddingStridesDilationsAndGroups() throws Exception {
    c().input("x", 2, 3, 9, 8).weight("w", 4, 3, 3, 3).weight("bias", 4)
        .node("Conv", List.of("x", "w", "bias"), ofInts("pads", 1, 1, 1, 1)).check("Conv");
    c().input("x", 1, 4, 11, 10).weight("w", 6, 2, 3, 2)
        .node("Conv", List.of("x", "w"), ofInts("strides", 2, 3), ofInts("dilations", 2, 1),
            ofInts("pads", 0, 2, 1, 1), ofInt("group", 2))
        .check("Conv strided dilated grouped");
    c().input("x", 1, 2, 7, 7).weight("w", 3, 2, 4, 4).weight("bias", 3)
        .node("Conv", List.of("x", "w", "bias"), ofString("auto_pad", "SAME_UPPER"),
            ofInts("strides", 2, 2))
        .check("Conv SAME_UPPER");
  }

  @Test
  void activationsMatch() throws Exception {
    c().input("x", 3, 17).node("Relu", List.of("x")).check("Relu");
    c().input("x", 3, 17).node("LeakyRelu", List.of("x"), ofFloat("alpha", 0.2f))
        .check("LeakyRelu");
    c().input("x", 3, 17).node("Sigmoid", List.of("x")).check("Sigmoid");
    c().input("x", 3, 17).node("Tanh", List.of("x")).check("Tanh");
    c().input("x", 3, 17).weight("lo", new long[0], new float[] {-0.5f})
        .weight("hi", new long[0], new float[] {0.7f})
        .node("Clip", List.of("x", "lo", "hi")).check("Clip");
    c().input("x", 3, 17).weight("hi", new long[0], new float[] {0.1f})
        .node("Clip", List.of("x", "", "hi")).check("Clip max only");
  }

  @Test
  void softmaxMatchesOnEveryAxisAndBothOpsetRules() throws Exception {
    c().input("x", 2, 3, 5).node("Softmax", List.of("x")).check("Softmax last axis");
    c().input("x", 2, 3, 5).node("Softmax", List.of("x"), ofInt("axis", 1)).check("Softmax axis 1");
    c().opset(11).input("x", 2, 3, 5).node("Softmax", List.of("x"), ofInt("axis", 1))
        .check("Softmax opset 11 (flattened)");
  }

  @Test
  void arithmeticMatchesWithBroadcasting() throws Exception {
    for (String op : List.of("Add", "Sub", "Mul", "Div")) {
      c().input("a", 2, 3, 4).input("b", 2, 3, 4).node(op, List.of("a", "b")).check(op);
      c().input("a", 2, 3, 4).weight("b", 3, 1).node(op, List.of("a", "b")).check(op + " bcast");
      c().input("a", 1, 4).input("b", 3, 1).node(op, List.of("a", "b")).check(op + " outer");
      c().input("a", 2, 5).weight("b", 1).node(op, List.of("a", "b")).check(op + " scalar");
    }
  }

  @Test
  void shapeOperatorsMatch() throws Exception {
    c().input("x", 2, 3, 4).ints("s", 0, -1, 2).node("Reshape", List.of("x", "s"))
        .check("Reshape");
    c().input("x", 2, 3, 4, 5).node("Flatten", List.of("x"), ofInt("axis", 2)).check("Flatten");
    c().input("x", 2, 3, 4).node("Transpose", List.of("x"), ofInts("perm", 1, 2, 0))
        .check("Transpose");
    c().input("x", 2, 3, 4).node("Transpose", List.of("x")).check("Transpose reversed");
    c().input("a", 2, 3, 4).input("b", 2, 1, 4).weight("w", 2, 2, 4)
        .node("Concat", List.of("a", "b", "w"), ofInt("axis", 1)).check("Concat");
    c().input("x", 3, 5, 2).ints("i", 4, -1, 0, 0)
        .node("Gather", List.of("x", "i"), ofInt("axis", 1)).check("Gather");
    c().input("x", 3, 5).ints("ax", 0, -1).node("Unsqueeze", List.of("x", "ax"))
        .check("Unsqueeze");
    c().input("x", 3, 1, 5, 1).ints("ax", 1).node("Squeeze", List.of("x", "ax")).check("Squeeze");
    c().input("x", 3, 1, 5, 1).node("Squeeze", List.of("x")).check("Squeeze all");
  }

  @Test
  void poolingMatches() throws Exception {
    c().input("x", 2, 3, 8, 8).node("MaxPool", List.of("x"), ofInts("kernel_shape", 2, 2),
        ofInts("strides", 2, 2)).check("MaxPool");
    c().input("x", 1, 2, 7, 9).node("MaxPool", List.of("x"), ofInts("kernel_shape", 3, 2),
        ofInts("strides", 2, 2), ofInts("pads", 1, 0, 1, 1), ofInt("ceil_mode", 1))
        .check("MaxPool padded ceil");
    c().input("x", 1, 2, 7, 9).node("AveragePool", List.of("x"), ofInts("kernel_shape", 3, 3),
        ofInts("strides", 2, 2), ofInts("pads", 1, 1, 1, 1)).check("AveragePool");
    c().input("x", 1, 2, 7, 9).node("AveragePool", List.of("x"), ofInts("kernel_shape", 3, 3),
        ofInts("pads", 1, 1, 1, 1), ofInt("count_include_pad", 1))
        .check("AveragePool count_include_pad");
    c().input("x", 2, 3, 5, 6).node("GlobalAveragePool", List.of("x")).check("GlobalAveragePool");
  }

  @Test
  void batchNormalizationMatches() throws Exception {
    float[] var = new float[3];
    for (int i = 0; i < 3; i++) {
      var[i] = 0.5f + i;
    }
    c().input("x", 2, 3, 4, 5).weight("s", 3).weight("b", 3).weight("m", 3)
        .weight("v", new long[] {3}, var)
        .node("BatchNormalization", List.of("x", "s", "b", "m", "v"), ofFloat("epsilon", 1e-3f))
        .check("BatchNormalization");
  }

  @Test
  void aSmallNetworkOfManyOperatorsMatches() throws Exception {
    c().input("x", 2, 3, 8, 8).weight("w", 4, 3, 3, 3).weight("cb", 4)
        .node("Conv", List.of("x", "w", "cb"), ofInts("pads", 1, 1, 1, 1)).chainWith("Relu")
        .chainWith("MaxPool", ofInts("kernel_shape", 2, 2), ofInts("strides", 2, 2))
        .chainWith("Flatten").weight("fw", 64, 10).weight("fb", 10)
        .chainGemm("fw", "fb").chainWith("Tanh").chainWith("Softmax")
        .check("network");
  }
}

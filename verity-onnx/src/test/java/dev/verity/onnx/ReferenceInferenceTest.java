package dev.verity.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtException;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The float64 reference evaluator computes what ONNX Runtime computes, operator by operator. */
class ReferenceInferenceTest {
  private static void assertAgreesWithOnnxRuntime(OnnxModel model, float[] input, long... shape) throws OrtException {
    float[] ort = OnnxRuntimeCompatibilityTest.run(model, input, shape);
    double[] ref = ReferenceInference.of(model).output(input).data();
    assertEquals(ort.length, ref.length, "element count");
    for (int i = 0; i < ort.length; i++) {
      assertEquals(ort[i], ref[i], 1e-4 * Math.max(1, Math.abs(ref[i])), "element " + i);
    }
  }

  /** x[N,C,8,8] -Mul-Sub-Conv(pad 1)-Relu-MaxPool-Conv(stride 2)-AveragePool-Flatten-Gemm-Softmax. */
  static OnnxModel cnn(SplittableRandom rnd) {
    return OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(2), Dim.of(8), Dim.of(8))
        .output("p", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(3))
        .initializer("scale", new long[] {1, 2, 1, 1}, new float[] {0.5f, 0.25f})
        .initializer("shift", new long[] {1}, new float[] {0.1f})
        .initializer("w1", new long[] {4, 2, 3, 3}, OnnxRuntimeCompatibilityTest.random(rnd, 72))
        .initializer("b1", new long[] {4}, OnnxRuntimeCompatibilityTest.random(rnd, 4))
        .initializer("w2", new long[] {4, 4, 2, 2}, OnnxRuntimeCompatibilityTest.random(rnd, 64))
        .initializer("w3", new long[] {3, 4}, OnnxRuntimeCompatibilityTest.random(rnd, 12))
        .initializer("b3", new long[] {3}, OnnxRuntimeCompatibilityTest.random(rnd, 3))
        .node("Mul", List.of("x", "scale"), List.of("scaled"))
        .node("Sub", List.of("scaled", "shift"), List.of("centered"))
        .node("Conv", List.of("centered", "w1", "b1"), List.of("c1"), OnnxAttribute.ofInts("pads", 1, 1, 1, 1))
        .node("Relu", List.of("c1"), List.of("r1"))
        .node("MaxPool", List.of("r1"), List.of("p1"), OnnxAttribute.ofInts("kernel_shape", 2, 2),
            OnnxAttribute.ofInts("strides", 2, 2))
        .node("Conv", List.of("p1", "w2"), List.of("c2"), OnnxAttribute.ofInts("strides", 2, 2))
        .node("AveragePool", List.of("c2"), List.of("a2"), OnnxAttribute.ofInts("kernel_shape", 2, 2),
            OnnxAttribute.ofInts("strides", 2, 2))
        .node("Flatten", List.of("a2"), List.of("flat"))
        .node("Gemm", List.of("flat", "w3", "b3"), List.of("logits"), OnnxAttribute.ofInt("transB", 1),
            OnnxAttribute.ofFloat("alpha", 0.5f), OnnxAttribute.ofFloat("beta", 2f))
        .node("Softmax", List.of("logits"), List.of("p"), OnnxAttribute.ofInt("axis", 1))
        .build();
  }

  @Test
  void convolutionalModelAgreesWithOnnxRuntime() throws OrtException {
    SplittableRandom rnd = new SplittableRandom(3);
    OnnxModel model = cnn(rnd);
    for (int i = 0; i < 3; i++) {
      assertAgreesWithOnnxRuntime(model, OnnxRuntimeCompatibilityTest.random(rnd, 128), 1, 2, 8, 8);
    }
  }

  @Test
  void matMulAddReshapeAndDivAgreeWithOnnxRuntime() throws OrtException {
    SplittableRandom rnd = new SplittableRandom(4);
    OnnxModel model = OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(2), Dim.of(3))
        .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(4))
        .initializer("shape", new long[] {2}, new long[] {0, -1})
        .initializer("d", new long[] {6}, new float[] {1, 2, 4, 8, 0.5f, 3})
        .initializer("w", new long[] {6, 4}, OnnxRuntimeCompatibilityTest.random(rnd, 24))
        .initializer("b", new long[] {1, 4}, OnnxRuntimeCompatibilityTest.random(rnd, 4))
        .node("Reshape", List.of("x", "shape"), List.of("flat"))
        .node("Div", List.of("flat", "d"), List.of("z"))
        .node("MatMul", List.of("z", "w"), List.of("m"))
        .node("Add", List.of("m", "b"), List.of("y"))
        .build();
    assertAgreesWithOnnxRuntime(model, OnnxRuntimeCompatibilityTest.random(rnd, 6), 1, 2, 3);
  }

  @Test
  void refusesOperatorsItCannotRunNamingThem() {
    OnnxModel model = OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(3))
        .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(3))
        .node("Sigmoid", List.of("x"), List.of("y"))
        .build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReferenceInference.of(model));
    assertTrue(e.getMessage().contains("'Sigmoid'"), e.getMessage());
  }

  @Test
  void refusesInputsOfTheWrongSize() {
    OnnxModel model = cnn(new SplittableRandom(5));
    assertThrows(IllegalArgumentException.class, () -> ReferenceInference.of(model).run(new float[127]));
  }
}

package dev.verity.zk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.onnx.ActivationRanges;
import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxAttribute;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxNode;
import dev.verity.onnx.OnnxWriter;
import dev.verity.onnx.ReferenceInference;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** ONNX import: every supported operator, folding, and clear refusals. */
class OnnxCompilerTest {
  static float[] gaussian(SplittableRandom rnd, int n, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (rnd.nextGaussian() * scale);
    }
    return v;
  }

  /**
   * x[N,2,10,10] -Sub(per channel)-Div(per channel)-Conv 4@3x3 (no bias)-Add(bias)-Relu-MaxPool
   * -Conv 4@3x3 pad 1-Add(residual)-Relu-AveragePool-Reshape-MatMul-Add(bias)-Relu-Gemm(transB)-y.
   */
  static OnnxModel everything(SplittableRandom rnd, UnaryOperator<OnnxModel.Builder> extra) {
    OnnxModel.Builder b = OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(2), Dim.of(10), Dim.of(10))
        .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(3))
        .initializer("mean", new long[] {1, 2, 1, 1}, new float[] {3f, -1f})
        .initializer("std", new long[] {2, 1, 1}, new float[] {4f, 0.5f})
        .initializer("w1", new long[] {4, 2, 3, 3}, gaussian(rnd, 72, 0.4))
        .initializer("b1", new long[] {1, 4, 1, 1}, gaussian(rnd, 4, 0.1))
        .initializer("w2", new long[] {4, 4, 3, 3}, gaussian(rnd, 144, 0.3))
        .initializer("b2", new long[] {4}, gaussian(rnd, 4, 0.1))
        .initializer("shape", new long[] {2}, new long[] {1, -1})
        .initializer("w3", new long[] {16, 5}, gaussian(rnd, 80, 0.5))
        .initializer("b3", new long[] {5}, gaussian(rnd, 5, 0.1))
        .initializer("w4", new long[] {3, 5}, gaussian(rnd, 15, 0.5))
        .node("Sub", List.of("x", "mean"), List.of("centered"))
        .node("Div", List.of("centered", "std"), List.of("z"))
        .node("Conv", List.of("z", "w1"), List.of("c1"))
        .node("Add", List.of("c1", "b1"), List.of("c1b"))
        .node("Relu", List.of("c1b"), List.of("r1"))
        .node("MaxPool", List.of("r1"), List.of("p1"), OnnxAttribute.ofInts("kernel_shape", 2, 2),
            OnnxAttribute.ofInts("strides", 2, 2))
        .node("Conv", List.of("p1", "w2", "b2"), List.of("c2"), OnnxAttribute.ofInts("pads", 1, 1, 1, 1),
            OnnxAttribute.ofInts("kernel_shape", 3, 3))
        .node("Add", List.of("c2", "p1"), List.of("res"))
        .node("Relu", List.of("res"), List.of("r2"))
        .node("AveragePool", List.of("r2"), List.of("a2"), OnnxAttribute.ofInts("kernel_shape", 2, 2),
            OnnxAttribute.ofInts("strides", 2, 2))
        .node("Reshape", List.of("a2", "shape"), List.of("flat"))
        .node("MatMul", List.of("flat", "w3"), List.of("m3"))
        .node("Add", List.of("m3", "b3"), List.of("m3b"))
        .node("Relu", List.of("m3b"), List.of("r3"))
        .node("Gemm", List.of("r3", "w4"), List.of("y"), OnnxAttribute.ofInt("transB", 1));
    return extra.apply(b).build();
  }

  static List<float[]> examples(SplittableRandom rnd, int n) {
    List<float[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] x = gaussian(rnd, 200, 2);
      for (int j = 0; j < 100; j++) {
        x[j] += 3;
      }
      out.add(x);
    }
    return out;
  }

  @Test
  void compilesEverySupportedOperatorAndStaysCloseToTheFloatModel() {
    SplittableRandom rnd = new SplittableRandom(11);
    OnnxModel model = everything(rnd, b -> b);
    ActivationRanges ranges = ActivationRanges.measure(model, examples(rnd, 40));
    byte[] file = OnnxWriter.write(ranges.embedIn(model));
    CompiledModel c = OnnxCompiler.compile(Cid.raw(file), file);
    assertEquals(List.of("Conv2d", "Requant", "MaxPool", "Conv2d", "Requant", "Add", "Requant", "SumPool", "Requant",
            "Dense", "Requant", "Dense"),
        c.quantized().architecture().layers().stream().map(l -> l.getClass().getSimpleName()).toList());
    assertArrayEquals(new long[] {1, 3}, c.outputDims());
    ReferenceInference ref = ReferenceInference.of(model);
    double worst = 0;
    double scale = 0;
    for (float[] x : examples(rnd, 20)) {
      double[] expected = ref.output(x).data();
      float[] actual = c.decodeOutput(c.run(c.encodeInput(x)));
      for (int i = 0; i < expected.length; i++) {
        worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        scale = Math.max(scale, Math.abs(expected[i]));
      }
    }
    assertTrue(worst <= 0.01 * scale, "quantized outputs differ by " + worst + " on outputs of magnitude " + scale);
  }

  @Test
  void proofsOfACompiledModelVerify() throws Exception {
    SplittableRandom rnd = new SplittableRandom(12);
    OnnxModel model = everything(rnd, b -> b);
    byte[] file = OnnxWriter.write(ActivationRanges.measure(model, examples(rnd, 30)).embedIn(model));
    ModelProver prover = ModelProver.of(OnnxCompiler.compile(Cid.raw(file), file));
    NamedTensors in = NamedTensors.of("x", Tensor.ofFloats(new long[] {1, 2, 10, 10}, examples(rnd, 1).get(0)));
    ModelProver.Proved p = prover.prove(in, Blinding.random());
    ZkInference.verify(p.evidence().statement(prover.verifyingKey()), p.evidence().proof());
    assertEquals(prover.model().outputs(p.evidence().output()), p.outputs());
  }

  @Test
  void compilationIsDeterministic() {
    OnnxModel model = everything(new SplittableRandom(13), b -> b);
    byte[] file = OnnxWriter.write(ActivationRanges.measure(model, examples(new SplittableRandom(14), 10)).embedIn(model));
    assertEquals(VerifyingKey.of(OnnxCompiler.compile(Cid.raw(file), file).quantized()),
        VerifyingKey.of(OnnxCompiler.compile(Cid.raw(file), file.clone()).quantized()));
  }

  private static UnsupportedModelException refused(OnnxModel model) {
    return assertThrows(UnsupportedModelException.class,
        () -> OnnxCompiler.compile(Cid.raw(new byte[] {1}), model, ActivationRanges.fromJson(
            "{\"v\":1,\"examples\":1,\"ranges\":{\"x\":[1]}}")));
  }

  private static OnnxModel single(String op, List<String> inputs, OnnxAttribute... attrs) {
    return OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(1), Dim.of(8), Dim.of(8))
        .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.unknown())
        .initializer("w", new long[] {2, 1, 3, 3}, new float[18])
        .initializer("k", new long[] {1}, new float[] {2})
        .node(OnnxNode.of("n0", op, inputs, List.of("y"), attrs))
        .build();
  }

  @Test
  void refusesUnsupportedOperatorsNamingThem() {
    UnsupportedModelException e = refused(single("Sigmoid", List.of("x")));
    assertEquals("Sigmoid", e.operator().orElseThrow());
    assertTrue(e.getMessage().contains("operator 'Sigmoid' (node 'n0') is not supported"), e.getMessage());
    assertTrue(e.getMessage().contains("Gemm"), "lists what is supported: " + e.getMessage());
    assertEquals("LeakyRelu", refused(single("LeakyRelu", List.of("x"))).operator().orElseThrow());
    OnnxModel custom = OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(3))
        .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(3))
        .opset("", 13).opset("com.example", 1)
        .node(new OnnxNode("n0", "Magic", "com.example", List.of("x"), List.of("y"), List.of()))
        .build();
    assertTrue(refused(custom).getMessage().contains("com.example:Magic"));
  }

  @Test
  void refusesAttributesTheCircuitCannotExpress() {
    assertTrue(refused(single("Conv", List.of("x", "w"), OnnxAttribute.ofInts("dilations", 2, 2))).getMessage()
        .contains("dilations"));
    assertTrue(refused(single("Conv", List.of("x", "w"), OnnxAttribute.ofInt("group", 2))).getMessage().contains("group"));
    assertTrue(refused(single("MaxPool", List.of("x"), OnnxAttribute.ofInts("kernel_shape", 3, 3),
        OnnxAttribute.ofInts("strides", 3, 3))).getMessage().contains("2x2"));
    assertTrue(refused(single("Softmax", List.of("x"))).getMessage().contains("Softmax"));
  }

  @Test
  void refusesConstantArithmeticInsideTheNetworkAndOffsetsIntoPaddedConvolutions() {
    OnnxModel.Builder mid = OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(4))
        .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(4))
        .initializer("w", new long[] {4, 4}, new float[16])
        .initializer("k", new long[] {1}, new float[] {2})
        .node("MatMul", List.of("x", "w"), List.of("m"))
        .node("Relu", List.of("m"), List.of("r"))
        .node("Mul", List.of("r", "k"), List.of("y"));
    UnsupportedModelException e = refused(mid.build());
    assertEquals("Mul", e.operator().orElseThrow());
    OnnxModel padded = OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(1), Dim.of(8), Dim.of(8))
        .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(2), Dim.of(8), Dim.of(8))
        .initializer("w", new long[] {2, 1, 3, 3}, new float[18])
        .initializer("k", new long[] {1}, new float[] {2})
        .node("Sub", List.of("x", "k"), List.of("z"))
        .node("Conv", List.of("z", "w"), List.of("y"), OnnxAttribute.ofInts("pads", 1, 1, 1, 1))
        .build();
    assertTrue(refused(padded).getMessage().contains("padded convolution"));
  }

  @Test
  void refusesAModelWithoutCalibrationRangesSayingHowToAddThem() {
    OnnxModel model = everything(new SplittableRandom(16), b -> b);
    byte[] file = OnnxWriter.write(model);
    UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
        () -> OnnxCompiler.compile(Cid.raw(file), file));
    assertTrue(e.getMessage().contains("calibration") && e.getMessage().contains("ActivationRanges.measure"), e.getMessage());
  }

  @Test
  void refusesBytesThatAreNotTheNamedModel() {
    byte[] file = OnnxWriter.write(everything(new SplittableRandom(17), b -> b));
    assertThrows(IllegalArgumentException.class, () -> OnnxCompiler.compile(Cid.raw(new byte[] {9}), file));
  }

  @Test
  void encodesInputsPerChannelAndClampsToInt16() {
    SplittableRandom rnd = new SplittableRandom(18);
    OnnxModel model = everything(rnd, b -> b);
    byte[] file = OnnxWriter.write(ActivationRanges.measure(model, examples(rnd, 10)).embedIn(model));
    CompiledModel c = OnnxCompiler.compile(Cid.raw(file), file);
    int[] e = c.inputExponents();
    assertEquals(2, e.length);
    float[] x = new float[200];
    x[0] = 1.5f;
    x[100] = 1e9f;
    long[] q = c.encodeInput(x);
    assertEquals(Math.rint(Math.scalb(1.5, e[0])), q[0]);
    assertEquals((1 << 15) - 1, q[100]);
    x[5] = Float.NaN;
    assertThrows(IllegalArgumentException.class, () -> c.encodeInput(x));
    assertThrows(IllegalArgumentException.class, () -> c.encodeInput(new float[199]));
  }
}

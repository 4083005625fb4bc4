package dev.verity.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Models built with {@link OnnxModel#builder()} and written by {@link OnnxWriter} load in ONNX
 * Runtime and compute what a plain Java reference computes.
 */
class OnnxRuntimeCompatibilityTest {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  private static final float TOLERANCE = 1e-5f;

  /** Runs a one-input, one-output model in ONNX Runtime and returns the flat output. */
  static float[] run(OnnxModel model, float[] input, long... shape) throws OrtException {
    byte[] bytes = OnnxWriter.write(model);
    String in = model.realInputs().get(0).name();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = ENV.createSession(bytes, options);
        ai.onnxruntime.OnnxTensor x =
            ai.onnxruntime.OnnxTensor.createTensor(ENV, FloatBuffer.wrap(input), shape);
        OrtSession.Result result = session.run(Map.of(in, x))) {
      FloatBuffer out = ((ai.onnxruntime.OnnxTensor) result.get(0)).getFloatBuffer();
      float[] flat = new float[out.remaining()];
      out.get(flat);
      return flat;
    }
  }

  static float[] random(SplittableRandom rnd, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    return v;
  }

  private static void assertClose(float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length, "element count");
    for (int i = 0; i < expected.length; i++) {
      float tol = TOLERANCE * Math.max(1f, Math.abs(expected[i]));
      assertEquals(expected[i], actual[i], tol, "element " + i);
    }
  }

  @Test
  void gemmComputesAlphaXWTransposedPlusBetaBias() throws OrtException {
    SplittableRandom rnd = new SplittableRandom(1);
    float[] x = random(rnd, 2 * 3);
    float[] w = random(rnd, 4 * 3);
    float[] b = random(rnd, 4);
    OnnxModel model =
        OnnxModel.builder()
            .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(3))
            .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(4))
            .initializer("w", new long[] {4, 3}, w)
            .initializer("b", new long[] {4}, b)
            .node("Gemm", List.of("x", "w", "b"), List.of("y"),
                OnnxAttribute.ofInt("transB", 1), OnnxAttribute.ofFloat("alpha", 0.5f),
                OnnxAttribute.ofFloat("beta", 2f))
            .build();
    float[] expected = new float[2 * 4];
    for (int n = 0; n < 2; n++) {
      for (int o = 0; o < 4; o++) {
        double s = 0;
        for (int i = 0; i < 3; i++) {
          s += x[n * 3 + i] * w[o * 3 + i];
        }
        expected[n * 4 + o] = (float) (0.5 * s + 2 * b[o]);
      }
    }
    assertClose(expected, run(model, x, 2, 3));
  }

  @Test
  void addThenReluClampsNegativeSums() throws OrtException {
    float[] x = {-3, -1, 0, 1, 2, 5};
    float[] bias = {1, 1, 1, -2, -2, -2};
    OnnxModel model =
        OnnxModel.builder()
            .input("x", ElementType.FLOAT, Dim.of(2), Dim.of(3))
            .output("y", ElementType.FLOAT, Dim.of(2), Dim.of(3))
            .initializer("bias", new long[] {2, 3}, bias)
            .node("Add", List.of("x", "bias"), List.of("s"))
            .node("Relu", List.of("s"), List.of("y"))
            .build();
    assertArrayEquals(new float[] {0, 0, 1, 0, 0, 3}, run(model, x, 2, 3));
  }

  @Test
  void convWithPaddingMatchesDirectConvolution() throws OrtException {
    SplittableRandom rnd = new SplittableRandom(2);
    int c = 2;
    int k = 3;
    int h = 5;
    float[] x = random(rnd, c * h * h);
    float[] w = random(rnd, k * c * 3 * 3);
    float[] b = random(rnd, k);
    OnnxModel model =
        OnnxModel.builder()
            .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(c), Dim.of(h), Dim.of(h))
            .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(k), Dim.of(h), Dim.of(h))
            .initializer("w", new long[] {k, c, 3, 3}, w)
            .initializer("b", new long[] {k}, b)
            .node("Conv", List.of("x", "w", "b"), List.of("y"),
                OnnxAttribute.ofInts("kernel_shape", 3, 3),
                OnnxAttribute.ofInts("pads", 1, 1, 1, 1))
            .build();
    float[] expected = new float[k * h * h];
    for (int o = 0; o < k; o++) {
      for (int i = 0; i < h; i++) {
        for (int j = 0; j < h; j++) {
          double s = b[o];
          for (int ci = 0; ci < c; ci++) {
            for (int di = 0; di < 3; di++) {
              for (int dj = 0; dj < 3; dj++) {
                int yi = i + di - 1;
                int xj = j + dj - 1;
                if (yi >= 0 && yi < h && xj >= 0 && xj < h) {
                  s += x[(ci * h + yi) * h + xj] * w[((o * c + ci) * 3 + di) * 3 + dj];
                }
              }
            }
          }
          expected[(o * h + i) * h + j] = (float) s;
        }
      }
    }
    assertClose(expected, run(model, x, 1, c, h, h));
  }

  @Test
  void maxPoolTakesTheLargestOfEachWindow() throws OrtException {
    float[] x = new float[2 * 4 * 4];
    for (int i = 0; i < x.length; i++) {
      x[i] = (i * 37) % 23;
    }
    OnnxModel model =
        OnnxModel.builder()
            .input("x", ElementType.FLOAT, Dim.of(1), Dim.of(2), Dim.of(4), Dim.of(4))
            .output("y", ElementType.FLOAT, Dim.of(1), Dim.of(2), Dim.of(2), Dim.of(2))
            .node("MaxPool", List.of("x"), List.of("y"),
                OnnxAttribute.ofInts("kernel_shape", 2, 2), OnnxAttribute.ofInts("strides", 2, 2))
            .build();
    float[] expected = new float[2 * 2 * 2];
    for (int c = 0; c < 2; c++) {
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
          float m = Float.NEGATIVE_INFINITY;
          for (int di = 0; di < 2; di++) {
            for (int dj = 0; dj < 2; dj++) {
              m = Math.max(m, x[(c * 4 + 2 * i + di) * 4 + 2 * j + dj]);
            }
          }
          expected[(c * 2 + i) * 2 + j] = m;
        }
      }
    }
    assertArrayEquals(expected, run(model, x, 1, 2, 4, 4));
  }

  @Test
  void softmaxNormalizesEachRow() throws OrtException {
    SplittableRandom rnd = new SplittableRandom(3);
    float[] x = random(rnd, 3 * 5);
    OnnxModel model =
        OnnxModel.builder()
            .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(5))
            .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(5))
            .node("Softmax", List.of("x"), List.of("y"), OnnxAttribute.ofInt("axis", 1))
            .build();
    float[] expected = new float[x.length];
    for (int r = 0; r < 3; r++) {
      double sum = 0;
      for (int i = 0; i < 5; i++) {
        sum += Math.exp(x[r * 5 + i]);
      }
      for (int i = 0; i < 5; i++) {
        expected[r * 5 + i] = (float) (Math.exp(x[r * 5 + i]) / sum);
      }
    }
    assertClose(expected, run(model, x, 3, 5));
  }

  @Test
  void reshapeAndFlattenKeepTheDataAndChangeTheShape() throws OrtException {
    float[] x = new float[2 * 3 * 2 * 2];
    for (int i = 0; i < x.length; i++) {
      x[i] = i;
    }
    OnnxModel model =
        OnnxModel.builder()
            .input("x", ElementType.FLOAT, Dim.of(2), Dim.of(3), Dim.of(2), Dim.of(2))
            .output("y", ElementType.FLOAT, Dim.of(12), Dim.of(2))
            .initializer("shape", new long[] {3}, new long[] {4, 3, 2})
            .node("Reshape", List.of("x", "shape"), List.of("r"))
            .node("Flatten", List.of("r"), List.of("f"), OnnxAttribute.ofInt("axis", 2))
            .node("Relu", List.of("f"), List.of("y"))
            .build();
    byte[] bytes = OnnxWriter.write(model);
    try (OrtSession session = ENV.createSession(bytes, new OrtSession.SessionOptions())) {
      TensorInfo out = (TensorInfo) session.getOutputInfo().get("y").getInfo();
      assertArrayEquals(new long[] {12, 2}, out.getShape());
    }
    assertArrayEquals(x, run(model, x, 2, 3, 2, 2));
  }

  @Test
  void runtimeSeesTheSymbolicBatchDimension() throws OrtException {
    byte[] bytes = OnnxWriter.write(OnnxRoundTripTest.smallClassifier());
    try (OrtSession session = ENV.createSession(bytes, new OrtSession.SessionOptions())) {
      NodeInfo in = session.getInputInfo().get("features");
      TensorInfo info = (TensorInfo) in.getInfo();
      assertArrayEquals(new long[] {-1, 3}, info.getShape());
      assertEquals("N", info.getDimensionNames()[0]);
    }
  }

  @Test
  void millionParameterPerceptronRunsAndIsCountedWithoutLoadingWeights() throws Exception {
    int in = 1024;
    int hidden = 1024;
    int out = 10;
    SplittableRandom rnd = new SplittableRandom(4);
    float[] w1 = random(rnd, hidden * in);
    float[] b1 = random(rnd, hidden);
    float[] w2 = random(rnd, out * hidden);
    float[] b2 = random(rnd, out);
    OnnxModel model =
        OnnxModel.builder()
            .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(in))
            .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(out))
            .initializer("w1", new long[] {hidden, in}, w1)
            .initializer("b1", new long[] {hidden}, b1)
            .initializer("w2", new long[] {out, hidden}, w2)
            .initializer("b2", new long[] {out}, b2)
            .node("Gemm", List.of("x", "w1", "b1"), List.of("h"), OnnxAttribute.ofInt("transB", 1))
            .node("Relu", List.of("h"), List.of("a"))
            .node("Gemm", List.of("a", "w2", "b2"), List.of("y"), OnnxAttribute.ofInt("transB", 1))
            .build();
    long params = (long) hidden * in + hidden + (long) out * hidden + out;
    assertEquals(1_059_850, params);

    float[] x = random(rnd, in);
    double[] a = new double[hidden];
    for (int h = 0; h < hidden; h++) {
      double s = b1[h];
      for (int i = 0; i < in; i++) {
        s += (double) x[i] * w1[h * in + i];
      }
      a[h] = Math.max(0, s);
    }
    float[] expected = new float[out];
    for (int o = 0; o < out; o++) {
      double s = b2[o];
      for (int h = 0; h < hidden; h++) {
        s += a[h] * w2[o * hidden + h];
      }
      expected[o] = (float) s;
    }
    float[] actual = run(model, x, 1, in);
    for (int o = 0; o < out; o++) {
      assertEquals(expected[o], actual[o], 1e-3 * Math.max(1, Math.abs(expected[o])));
    }

    java.nio.file.Path file = java.nio.file.Files.createTempFile("mlp", ".onnx");
    try {
      java.nio.file.Files.write(file, OnnxWriter.write(model));
      OnnxModelInfo info = OnnxReader.readInfo(file);
      assertEquals(params, info.parameterCount());
      assertEquals(java.util.Set.of("Gemm", "Relu"), info.opTypes());
    } finally {
      java.nio.file.Files.delete(file);
    }
  }
}

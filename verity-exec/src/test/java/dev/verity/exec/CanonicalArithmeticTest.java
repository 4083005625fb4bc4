package dev.verity.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.verity.onnx.OnnxAttribute;
import dev.verity.onnx.OnnxNode;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fast kernels compute exactly the arithmetic docs/EXECUTOR.md defines, bit for bit, checked
 * against plain loops written straight from the definition, for awkward sizes and every thread
 * split.
 */
class CanonicalArithmeticTest {
  private final Random random = new Random(7);

  private float[] randoms(int n) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) random.nextGaussian() * (random.nextInt(4) == 0 ? 1e4f : 1f);
    }
    return f;
  }

  @Test
  void gemmIsOneLeftToRightFusedChainPerOutput() {
    for (int[] size : new int[][] {{1, 1, 1}, {7, 13, 5}, {9, 64, 33}, {4, 3, 70}, {13, 130, 17}, {37, 300, 41}, {2, 400, 300}}) {
      int m = size[0];
      int k = size[1];
      int n = size[2];
      float[] a = randoms(m * k);
      float[] b = randoms(n * k);
      float[] c = randoms(n);
      OnnxNode node = OnnxNode.of("g", "Gemm", List.of("a", "b", "c"), List.of("y"),
          OnnxAttribute.ofInt("transB", 1), OnnxAttribute.ofFloat("alpha", 0.75f));
      Value[] in = {Value.ofFloats(new int[] {m, k}, a), Value.ofFloats(new int[] {n, k}, b),
          Value.ofFloats(new int[] {n}, c)};
      for (int threads : new int[] {1, 2, 3, 4}) {
        float[] y;
        try (Workers w = new Workers(threads)) {
          y = Operators.apply(node, in, 13, w, Operators.TransposeCache::compute).f;
        }
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < n; j++) {
            float acc = 0f;
            for (int q = 0; q < k; q++) {
              acc = Math.fma(a[i * k + q], b[j * k + q], acc);
            }
            float expected = 0.75f * acc + 1f * c[j];
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(y[i * n + j]),
                "Gemm " + m + "x" + k + "x" + n + " on " + threads + " threads at " + i + "," + j);
          }
        }
      }
    }
  }

  @Test
  void convIsOneFusedChainOverChannelRowColumnWithPaddingAsZero() {
    int batch = 2;
    int c = 4;
    int h = 9;
    int wd = 7;
    int m = 6;
    int group = 2;
    int cg = c / group;
    int kh = 3;
    int kw = 2;
    float[] x = randoms(batch * c * h * wd);
    float[] w = randoms(m * cg * kh * kw);
    float[] bias = randoms(m);
    OnnxNode node = OnnxNode.of("c", "Conv", List.of("x", "w", "b"), List.of("y"),
        OnnxAttribute.ofInt("group", group), OnnxAttribute.ofInts("pads", 1, 2, 0, 1),
        OnnxAttribute.ofInts("strides", 2, 1), OnnxAttribute.ofInts("dilations", 1, 2));
    Value[] in = {Value.ofFloats(new int[] {batch, c, h, wd}, x),
        Value.ofFloats(new int[] {m, cg, kh, kw}, w), Value.ofFloats(new int[] {m}, bias)};
    int oh = (h + 1 + 0 - ((kh - 1) + 1)) / 2 + 1;
    int ow = (wd + 2 + 1 - ((kw - 1) * 2 + 1)) + 1;
    for (int threads : new int[] {1, 3}) {
      Value y;
      try (Workers workers = new Workers(threads)) {
        y = Operators.apply(node, in, 13, workers, Operators.TransposeCache::compute);
      }
      assertEquals(List.of(batch, m, oh, ow), List.of(y.shape[0], y.shape[1], y.shape[2],
          y.shape[3]));
      for (int n = 0; n < batch; n++) {
        for (int oc = 0; oc < m; oc++) {
          int g = oc / (m / group);
          for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
              float acc = 0f;
              for (int ic = 0; ic < cg; ic++) {
                for (int ky = 0; ky < kh; ky++) {
                  for (int kx = 0; kx < kw; kx++) {
                    int iy = oy * 2 - 1 + ky;
                    int ix = ox - 2 + kx * 2;
                    float v = iy < 0 || iy >= h || ix < 0 || ix >= wd ? 0f
                        : x[((n * c + g * cg + ic) * h + iy) * wd + ix];
                    acc = Math.fma(v, w[((oc * cg + ic) * kh + ky) * kw + kx], acc);
                  }
                }
              }
              float expected = acc + bias[oc];
              float actual = y.f[((n * m + oc) * oh + oy) * ow + ox];
              assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual),
                  "Conv at " + n + "," + oc + "," + oy + "," + ox + " on " + threads + " threads");
            }
          }
        }
      }
    }
  }
}

package dev.verity.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;

/**
 * The documented agreement between the canonical executor and ONNX Runtime (docs/EXECUTOR.md):
 * same shapes, and every element within {@code ABS + REL * |ort|}.
 */
final class Tolerance {
  static final double ABS = 1e-5;
  static final double REL = 1e-4;

  private Tolerance() {}

  static void assertClose(NamedTensors ort, NamedTensors canonical, String what) {
    assertEquals(ort.names(), canonical.names(), what + ": output names");
    for (String name : ort.names()) {
      Tensor o = ort.get(name);
      Tensor c = canonical.get(name);
      assertArrayEquals(o.shape(), c.shape(), what + ": shape of " + name);
      float[] a = o.toFloats();
      float[] b = c.toFloats();
      for (int i = 0; i < a.length; i++) {
        if (!(Math.abs(a[i] - b[i]) <= ABS + REL * Math.abs(a[i]))) {
          fail(what + ": " + name + "[" + i + "] is " + b[i] + ", ONNX Runtime gives " + a[i]);
        }
      }
    }
  }

  static int argmax(float[] p, int from, int len) {
    int best = 0;
    for (int i = 1; i < len; i++) {
      if (p[from + i] > p[from + best]) {
        best = i;
      }
    }
    return best;
  }
}

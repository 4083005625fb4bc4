package dev.verity.zk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.verity.core.VerificationException;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The integer semantics proofs attest, checked on hand-computed examples. */
class QuantizedModelTest {
  private static final dev.verity.core.Cid CID = TestModels.cid("hand");

  @Test
  void denseAndRescalingFloorTowardsMinusInfinity() {
    var b = QuantizedModel.builder(CID, Shape.vector(2));
    int d = b.dense(0, 3, new int[] {1, 2, -3, 1, 0, 0}, new long[] {0, 1, -5});
    b.requant(d, 2, false);
    QuantizedModel m = b.build();
    // y = (1*5 + 2*6, -3*5 + 6 + 1, -5) = (17, -8, -5); floor(y / 4) = (4, -2, -2)
    assertArrayEquals(new long[] {4, -2, -2}, m.run(new long[] {5, 6}));
  }

  @Test
  void reluZeroesNegativeValues() {
    var b = QuantizedModel.builder(CID, Shape.vector(2));
    b.requant(b.dense(0, 2, new int[] {1, 0, 0, -1}, new long[] {0, 0}), 0, true);
    assertArrayEquals(new long[] {3, 0}, b.build().run(new long[] {3, 4}));
  }

  @Test
  void convolutionWithPaddingAndStride() {
    // 1x3x3 input, one 2x2 kernel of ones, padding 1, stride 2: outputs sum the 2x2 windows at
    // rows/columns -1..0 and 1..2
    var b = QuantizedModel.builder(CID, new Shape(1, 3, 3));
    b.conv2d(0, 1, 2, 2, 1, new int[] {1, 1, 1, 1}, new long[] {10});
    QuantizedModel m = b.build();
    long[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    // windows: (0,0): x00 = 1; (0,1): x01 + x02 = 5; (1,0): x10 + x20 = 11; (1,1): 5+6+8+9 = 28
    assertArrayEquals(new long[] {11, 15, 21, 38}, m.run(x));
  }

  @Test
  void poolingAndResidualAdd() {
    var b = QuantizedModel.builder(CID, new Shape(1, 4, 8));
    int mx = b.maxPool(0);
    int avg = b.avgPool(0);
    b.add(mx, avg);
    // x[y][x] = 8 y + x, except x[0][0] = -7: a window holds v, v+1, v+8, v+9 (v = 16 oy + 2 ox), so
    // max + floor(sum / 4) = (v + 9) + (v + 4); the first window is -7, 1, 8, 9: 9 + floor(11 / 4)
    long[] x = new long[32];
    for (int i = 0; i < 32; i++) {
      x[i] = i;
    }
    x[0] = -7;
    assertArrayEquals(new long[] {11, 17, 21, 25, 45, 49, 53, 57}, b.build().run(x));
  }

  @Test
  void rejectsActivationsOutsideInt16() {
    var b = QuantizedModel.builder(CID, Shape.vector(1));
    b.requant(b.dense(0, 1, new int[] {1000}, new long[] {0}), 0, false);
    QuantizedModel m = b.build();
    assertThrows(ArithmeticException.class, () -> m.run(new long[] {100}));
    assertThrows(IllegalArgumentException.class, () -> m.run(new long[] {1 << 15}));
    assertThrows(IllegalArgumentException.class, () -> m.run(new long[] {1, 2}));
  }

  @Test
  void rejectsInvalidParameters() {
    assertThrows(IllegalArgumentException.class, () -> {
      var b = QuantizedModel.builder(CID, Shape.vector(2));
      b.dense(0, 1, new int[] {1}, new long[] {0});
      b.build();
    });
    assertThrows(IllegalArgumentException.class, () -> {
      var b = QuantizedModel.builder(CID, Shape.vector(1));
      b.dense(0, 1, new int[] {40000}, new long[] {0});
      b.build();
    });
    assertThrows(IllegalArgumentException.class, () -> {
      // accumulators could exceed 2^60
      var b = QuantizedModel.builder(CID, Shape.vector(1));
      int t = 0;
      for (int i = 0; i < 4; i++) {
        t = b.dense(t, 1, new int[] {32767}, new long[] {0});
      }
      b.build();
    });
  }

  @Test
  void inputCommitmentOpensOnlyToItsInputAndBlinding() throws Exception {
    QuantizedModel m = TestModels.mlp(41, 5, 2, 2);
    long[] x = TestModels.input(new Random(1), 5, 8);
    Blinding r = Blinding.random();
    InputCommitment c = InputCommitment.of(m.architecture(), x, r);
    c.verifyOpening(m.architecture(), x, Blinding.of(r.toBytes()));
    long[] y = x.clone();
    y[2] += 1;
    assertThrows(VerificationException.class, () -> c.verifyOpening(m.architecture(), y, r));
    assertThrows(VerificationException.class, () -> c.verifyOpening(m.architecture(), x, Blinding.random()));
  }
}

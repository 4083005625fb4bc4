package dev.verity.zk.field;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class NttTest {
  @Property(tries = 30)
  void matchesNaiveEvaluation(@ForAll @IntRange(min = 0, max = 9) int logN, @ForAll long seed) {
    int n = 1 << logN;
    Random rnd = new Random(seed);
    long[] coeffs = new long[n];
    for (int i = 0; i < n; i++) {
      coeffs[i] = Goldilocks.fromUnsigned(rnd.nextLong());
    }
    long w = Goldilocks.rootOfUnity(logN);
    long[] expected = new long[n];
    long x = 1;
    for (int i = 0; i < n; i++) {
      long acc = 0;
      for (int j = n - 1; j >= 0; j--) {
        acc = Goldilocks.add(Goldilocks.mul(acc, x), coeffs[j]);
      }
      expected[i] = acc;
      x = Goldilocks.mul(x, w);
    }
    long[] a = coeffs.clone();
    Ntt.forward(a);
    assertArrayEquals(expected, a);
  }

  @Property(tries = 10)
  void rejectsSizesThatAreNotPowersOfTwo(@ForAll @IntRange(min = 3, max = 1000) int n) {
    if (Integer.bitCount(n) != 1) {
      assertThrows(IllegalArgumentException.class, () -> Ntt.forward(new long[n]));
    }
  }
}

package dev.verity.zk.field;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class GoldilocksTest {
  private static final BigInteger P = new BigInteger("18446744069414584321");

  private static BigInteger big(long x) {
    return new BigInteger(Long.toUnsignedString(x));
  }

  @Provide
  Arbitrary<Long> elements() {
    // edge values near 0, p and 2^32 plus uniform values
    Arbitrary<Long> edges =
        Arbitraries.of(0L, 1L, 2L, Goldilocks.P - 1, Goldilocks.P - 2, 0xFFFF_FFFFL, 0x1_0000_0000L,
            Goldilocks.P >>> 1, 0xFFFF_FFFF_0000_0000L);
    Arbitrary<Long> uniform = Arbitraries.longs().map(Goldilocks::fromUnsigned);
    return Arbitraries.oneOf(edges, uniform);
  }

  @Property(tries = 2000)
  void arithmeticMatchesBigIntegerReference(@ForAll("elements") long a, @ForAll("elements") long b) {
    assertEquals(big(a).add(big(b)).mod(P), big(Goldilocks.add(a, b)));
    assertEquals(big(a).subtract(big(b)).mod(P), big(Goldilocks.sub(a, b)));
    assertEquals(big(a).multiply(big(b)).mod(P), big(Goldilocks.mul(a, b)));
    assertEquals(big(a).negate().mod(P), big(Goldilocks.neg(a)));
  }

  @Property(tries = 500)
  void reducesEveryOneHundredTwentyEightBitValue(@ForAll long hi, @ForAll long lo) {
    BigInteger x = big(hi).shiftLeft(64).add(big(lo));
    assertEquals(x.mod(P), big(Goldilocks.reduce128(hi, lo)));
  }

  @Property(tries = 300)
  void inverseIsInverse(@ForAll("elements") long a) {
    if (a == 0) {
      assertThrows(ArithmeticException.class, () -> Goldilocks.inverse(0));
      return;
    }
    assertEquals(1, Goldilocks.mul(a, Goldilocks.inverse(a)));
  }

  @Property
  void signedIntegersRoundTrip(@ForAll long v) {
    if (v > Long.MIN_VALUE / 2 && v < Long.MAX_VALUE / 2) {
      assertEquals(v, Goldilocks.toSigned(Goldilocks.fromLong(v)));
    }
    assertEquals(BigInteger.valueOf(v).mod(P), big(Goldilocks.fromLong(v)));
  }

  @Test
  void sevenIsNotASquareSoTheExtensionIsAField() {
    assertEquals(Goldilocks.P - 1, Goldilocks.pow(Ext.W, (Goldilocks.P - 1) >>> 1));
  }

  @Test
  void rootsOfUnityHaveExactOrder() {
    for (int k : new int[] {1, 5, 17, 32}) {
      long w = Goldilocks.rootOfUnity(k);
      long x = w;
      for (int i = 1; i < k; i++) {
        x = Goldilocks.mul(x, x);
      }
      // x = w^(2^(k-1)) must be -1
      assertEquals(Goldilocks.P - 1, x);
    }
    assertEquals(1, Goldilocks.rootOfUnity(0));
    assertNotEquals(1, Goldilocks.rootOfUnity(1));
    assertThrows(IllegalArgumentException.class, () -> Goldilocks.rootOfUnity(33));
  }
}

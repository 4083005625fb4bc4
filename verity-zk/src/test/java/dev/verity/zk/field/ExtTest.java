package dev.verity.zk.field;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class ExtTest {
  @Provide
  Arbitrary<Ext> exts() {
    Arbitrary<Long> f = Arbitraries.longs().map(Goldilocks::fromUnsigned);
    return Combinators.combine(f, f).as(Ext::new);
  }

  @Property(tries = 500)
  void formsACommutativeRing(@ForAll("exts") Ext a, @ForAll("exts") Ext b, @ForAll("exts") Ext c) {
    assertEquals(a.mul(b), b.mul(a));
    assertEquals(a.mul(b).mul(c), a.mul(b.mul(c)));
    assertEquals(a.mul(b.add(c)), a.mul(b).add(a.mul(c)));
    assertEquals(a, a.add(b).sub(b));
    assertEquals(Ext.ZERO, a.add(a.neg()));
  }

  @Property(tries = 300)
  void everyNonZeroElementIsInvertible(@ForAll("exts") Ext a) {
    if (a.isZero()) {
      assertThrows(ArithmeticException.class, a::inverse);
    } else {
      assertEquals(Ext.ONE, a.mul(a.inverse()));
    }
  }

  @Test
  void theAdjoinedElementSquaresToSeven() {
    Ext u = new Ext(0, 1);
    assertEquals(Ext.of(7), u.square());
  }

  @Test
  void frobeniusHasOrderTwoSoTheFieldHasSizePSquared() {
    // x^(p^2) = x for every x in F_{p^2}, and x^p != x for x outside F_p
    Ext x = new Ext(123456789, 987654321);
    Ext xp = x.pow(Goldilocks.P);
    assertEquals(x, xp.pow(Goldilocks.P));
    assertEquals(false, x.equals(xp));
  }

  @Test
  void rejectsNonCanonicalCoordinates() {
    assertThrows(IllegalArgumentException.class, () -> new Ext(Goldilocks.P, 0));
  }
}

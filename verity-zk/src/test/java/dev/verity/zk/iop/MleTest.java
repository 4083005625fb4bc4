package dev.verity.zk.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.verity.zk.field.Ext;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class MleTest {
  @Property(tries = 40)
  void agreesWithTheVectorOnTheHypercube(@ForAll @IntRange(min = 0, max = 6) int n, @ForAll long seed) {
    Random rnd = new Random(seed);
    long[] v = Fields.baseVector(rnd, 1 << n);
    int i = rnd.nextInt(1 << n);
    Ext[] bits = new Ext[n];
    for (int j = 0; j < n; j++) {
      bits[j] = Ext.of((i >>> j) & 1);
    }
    assertEquals(Ext.of(v[i]), Mle.evaluate(v, bits));
  }

  @Property(tries = 40)
  void evaluationIsTheInnerProductWithTheEqTable(
      @ForAll @IntRange(min = 0, max = 7) int n, @ForAll long seed) {
    Random rnd = new Random(seed);
    int len = 1 + rnd.nextInt(1 << n);
    long[] v = Fields.baseVector(rnd, len);
    Ext[] r = Fields.point(rnd, n);
    long[] eq = Mle.eqTable(r);
    Ext expected = Ext.ZERO;
    for (int i = 0; i < len; i++) {
      expected = expected.add(Fields.at(eq, i).mul(v[i]));
    }
    assertEquals(expected, Mle.evaluate(v, r));
    assertEquals(expected, Mle.evaluateExt(Mle.lift(v, 1 << n), r));
    // eq(r, .) sums to one and matches the closed form at a random boolean index
    Ext total = Ext.ZERO;
    for (int i = 0; i < (1 << n); i++) {
      total = total.add(Fields.at(eq, i));
    }
    assertEquals(Ext.ONE, total);
    int b = rnd.nextInt(1 << n);
    assertEquals(Fields.at(eq, b), Mle.eqAt(r, b));
  }

  @Property(tries = 20)
  void eqOfTwoPointsIsSymmetricAndMatchesTables(@ForAll @IntRange(min = 0, max = 5) int n, @ForAll long seed) {
    Random rnd = new Random(seed);
    Ext[] a = Fields.point(rnd, n);
    Ext[] b = Fields.point(rnd, n);
    assertEquals(Mle.eq(a, b), Mle.eq(b, a));
    // eq(a, b) = sum_x eq(a, x) eq(b, x)
    long[] ea = Mle.eqTable(a);
    long[] eb = Mle.eqTable(b);
    Ext s = Ext.ZERO;
    for (int i = 0; i < (1 << n); i++) {
      s = s.add(Fields.at(ea, i).mul(Fields.at(eb, i)));
    }
    assertEquals(s, Mle.eq(a, b));
  }
}

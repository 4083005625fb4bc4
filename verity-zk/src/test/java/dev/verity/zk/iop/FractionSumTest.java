package dev.verity.zk.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.verity.core.VerificationException;
import dev.verity.zk.field.Ext;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class FractionSumTest {
  /** Fractions a_i / b_i followed by their negations, which sum to zero. */
  private static long[][] cancelling(Random rnd, int n) {
    int half = 1 << (n - 1);
    long[] p = new long[2 << n];
    long[] q = new long[2 << n];
    for (int i = 0; i < half; i++) {
      Ext a = Fields.ext(rnd);
      Ext b = Fields.ext(rnd);
      // place the pair at shuffled positions i and i + half
      set(p, i, a);
      set(q, i, b);
      set(p, i + half, a.neg());
      set(q, i + half, b);
    }
    return new long[][] {p, q};
  }

  private static void set(long[] v, int i, Ext e) {
    v[2 * i] = e.c0();
    v[2 * i + 1] = e.c1();
  }

  @Property(tries = 20)
  void cancellingFractionsProveAndReduceToTheLeaves(@ForAll @IntRange(min = 1, max = 12) int n, @ForAll long seed)
      throws Exception {
    long[][] pq = cancelling(new Random(seed), n);
    ProverChannel pc = new ProverChannel(new Transcript("fs"));
    FractionSum.LeafClaim proverClaim = FractionSum.prove(pc, pq[0], pq[1], n);
    VerifierChannel vc = new VerifierChannel(new Transcript("fs"), pc.toBytes(), 0);
    FractionSum.LeafClaim claim = FractionSum.verify(vc, n);
    vc.finish();
    assertEquals(Mle.evaluateExt(pq[0], claim.point()), claim.p());
    assertEquals(Mle.evaluateExt(pq[1], claim.point()), claim.q());
    assertEquals(proverClaim.p(), claim.p());
  }

  @Property(tries = 20)
  void nonCancellingFractionsAreRejectedOrLeaveAFalseLeafClaim(
      @ForAll @IntRange(min = 1, max = 10) int n, @ForAll long seed) {
    Random rnd = new Random(seed);
    long[][] pq = cancelling(rnd, n);
    int i = rnd.nextInt(1 << n);
    pq[0][2 * i] = dev.verity.zk.field.Goldilocks.add(pq[0][2 * i], 1);
    ProverChannel pc = new ProverChannel(new Transcript("fs"));
    FractionSum.prove(pc, pq[0], pq[1], n);
    VerifierChannel vc = new VerifierChannel(new Transcript("fs"), pc.toBytes(), 0);
    assertThrows(VerificationException.class, () -> FractionSum.verify(vc, n));
  }

  @Property(tries = 20)
  void aCheatingLeafClaimDoesNotMatchTheLeaves(@ForAll @IntRange(min = 2, max = 10) int n, @ForAll long seed)
      throws Exception {
    // an honest proof for some leaves, checked against different leaves, fails the final check
    Random rnd = new Random(seed);
    long[][] pq = cancelling(rnd, n);
    ProverChannel pc = new ProverChannel(new Transcript("fs"));
    FractionSum.prove(pc, pq[0], pq[1], n);
    VerifierChannel vc = new VerifierChannel(new Transcript("fs"), pc.toBytes(), 0);
    FractionSum.LeafClaim claim = FractionSum.verify(vc, n);
    long[] other = pq[1].clone();
    other[0] = dev.verity.zk.field.Goldilocks.add(other[0], 1);
    org.junit.jupiter.api.Assertions.assertNotEquals(Mle.evaluateExt(other, claim.point()), claim.q());
  }
}

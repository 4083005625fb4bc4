package dev.verity.zk.pcs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.VerificationException;
import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;
import dev.verity.zk.iop.Mle;
import dev.verity.zk.iop.ProverChannel;
import dev.verity.zk.iop.Transcript;
import dev.verity.zk.iop.VerifierChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class TensorCommitmentTest {
  private static long[] randomVector(Random rnd, int n) {
    long[] v = new long[n];
    for (int i = 0; i < n; i++) {
      v[i] = Goldilocks.fromUnsigned(rnd.nextLong());
    }
    return v;
  }

  private static Ext[] randomPoint(Random rnd, int n) {
    Ext[] p = new Ext[n];
    for (int i = 0; i < n; i++) {
      p[i] = new Ext(Goldilocks.fromUnsigned(rnd.nextLong()), Goldilocks.fromUnsigned(rnd.nextLong()));
    }
    return p;
  }

  /** True claims on random aligned slices of the vector. */
  private static List<LinearClaim> claims(Random rnd, long[] v, int vars, int count) {
    List<LinearClaim> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int len = rnd.nextInt(vars + 1);
      int slices = 1 << (vars - len);
      int offset = rnd.nextInt(slices) << len;
      Ext[] point = randomPoint(rnd, len);
      long[] slice = new long[1 << len];
      for (int j = 0; j < slice.length; j++) {
        slice[j] = offset + j < v.length ? v[offset + j] : 0;
      }
      out.add(LinearClaim.eval(offset, point, Mle.evaluate(slice, point)));
    }
    return out;
  }

  private static byte[] prove(TensorCommitment.Committed c, List<LinearClaim> claims) {
    ProverChannel pc = new ProverChannel(new Transcript("pcs-test"));
    TensorCommitment.open(pc, c, claims);
    return pc.toBytes();
  }

  private static void verify(TensorCommitment.Params p, byte[] root, List<LinearClaim> claims, byte[] proof)
      throws VerificationException {
    VerifierChannel vc = new VerifierChannel(new Transcript("pcs-test"), proof, 0);
    TensorCommitment.verify(vc, p, root, claims);
    vc.finish();
  }

  @Property(tries = 12)
  void honestOpeningsVerify(
      @ForAll @IntRange(min = 0, max = 12) int vars, @ForAll boolean hiding, @ForAll long seed)
      throws Exception {
    Random rnd = new Random(seed);
    int len = 1 + rnd.nextInt(1 << vars);
    long[] v = randomVector(rnd, len);
    TensorCommitment.Committed c = TensorCommitment.commit(v, vars, hiding, new Prg(new byte[] {1}, "t"));
    List<LinearClaim> cl = claims(rnd, v, vars, 1 + rnd.nextInt(4));
    verify(c.params(), c.root(), cl, prove(c, cl));
  }

  @Property(tries = 10)
  void falseClaimIsRejected(@ForAll @IntRange(min = 0, max = 10) int vars, @ForAll boolean hiding, @ForAll long seed) {
    Random rnd = new Random(seed);
    long[] v = randomVector(rnd, 1 << vars);
    TensorCommitment.Committed c = TensorCommitment.commit(v, vars, hiding, new Prg(new byte[] {2}, "t"));
    List<LinearClaim> cl = claims(rnd, v, vars, 2);
    byte[] proof = prove(c, cl);
    List<LinearClaim> wrong = new ArrayList<>(cl);
    LinearClaim first = wrong.get(0);
    wrong.set(0, new LinearClaim(first.parts(), first.value().add(Ext.ONE)));
    assertThrows(VerificationException.class, () -> verify(c.params(), c.root(), wrong, proof));
  }

  @Test
  void everySingleByteChangeOfTheProofIsRejected() {
    Random rnd = new Random(7);
    long[] v = randomVector(rnd, 200);
    TensorCommitment.Committed c = TensorCommitment.commit(v, 8, true, new Prg(new byte[] {3}, "t"));
    List<LinearClaim> cl = claims(rnd, v, 8, 3);
    byte[] proof = prove(c, cl);
    for (int i = 0; i < proof.length; i += 1 + proof.length / 400) {
      byte[] bad = proof.clone();
      bad[i] ^= (byte) (1 << (i % 8));
      assertThrows(VerificationException.class, () -> verify(c.params(), c.root(), cl, bad), "byte " + i);
    }
  }

  @Test
  void openingAgainstAnotherRootIsRejected() {
    Random rnd = new Random(8);
    long[] v = randomVector(rnd, 64);
    TensorCommitment.Committed c = TensorCommitment.commit(v, 6, false, null);
    long[] v2 = v.clone();
    v2[5] = Goldilocks.add(v2[5], 1);
    TensorCommitment.Committed c2 = TensorCommitment.commit(v2, 6, false, null);
    List<LinearClaim> cl = claims(rnd, v, 6, 1);
    byte[] proof = prove(c, cl);
    assertThrows(VerificationException.class, () -> verify(c.params(), c2.root(), cl, proof));
  }

  @Property(tries = 10)
  void innerProductAndCombinedClaimsVerify(@ForAll boolean hiding, @ForAll long seed) throws Exception {
    Random rnd = new Random(seed);
    int vars = 9;
    long[] v = randomVector(rnd, 400);
    TensorCommitment.Committed c = TensorCommitment.commit(v, vars, hiding, new Prg(new byte[] {4}, "t"));
    // 3 * MLE(v[0..256))(p) + sum_j c_j v[384 + j] for 16 explicit coefficients
    Ext[] p = randomPoint(rnd, 8);
    long[] slice = java.util.Arrays.copyOf(v, 256);
    long[] co = new long[32];
    Ext dot = Ext.ZERO;
    for (int j = 0; j < 16; j++) {
      Ext cj = randomPoint(rnd, 1)[0];
      co[2 * j] = cj.c0();
      co[2 * j + 1] = cj.c1();
      dot = dot.add(cj.mul(v[384 + j]));
    }
    Ext value = Mle.evaluate(slice, p).mul(3).add(dot);
    List<LinearClaim> cl = List.of(new LinearClaim(
        List.of(new LinearClaim.Eval(0, p, Ext.of(3)), new LinearClaim.Dot(384, 4, co)), value));
    byte[] proof = prove(c, cl);
    verify(c.params(), c.root(), cl, proof);
    List<LinearClaim> wrong = List.of(new LinearClaim(cl.get(0).parts(), value.add(Ext.ONE)));
    assertThrows(VerificationException.class, () -> verify(c.params(), c.root(), wrong, proof));
  }

  @Test
  void plainCommitmentsAreDeterministicAndHidingOnesAreRandomised() {
    long[] v = randomVector(new Random(9), 100);
    assertArrayEquals(
        TensorCommitment.commit(v, 7, false, null).root(), TensorCommitment.commit(v, 7, false, null).root());
    assertFalse(
        java.util.Arrays.equals(
            TensorCommitment.commit(v, 7, true, Prg.fresh("a")).root(),
            TensorCommitment.commit(v, 7, true, Prg.fresh("a")).root()));
  }

  @Test
  void parametersReachTheSecurityLevel() {
    for (int vars : new int[] {0, 4, 10, 16, 20}) {
      for (boolean hiding : new boolean[] {false, true}) {
        TensorCommitment.Params p = TensorCommitment.Params.choose(vars, 1 << vars, hiding);
        double rate = (double) p.messageLength() / p.codeLength();
        double bits = -p.queries() * Math.log(1 - (1 - rate) / 2) / Math.log(2);
        assertTrue(bits >= TensorCommitment.SECURITY_BITS, "security " + bits + " for " + p);
        assertTrue(!hiding || p.randomCoeffs() >= p.queries(), "hiding needs a random coefficient per query");
        assertEquals(vars + (hiding ? 1 : 0), p.totalVars());
      }
    }
  }
}

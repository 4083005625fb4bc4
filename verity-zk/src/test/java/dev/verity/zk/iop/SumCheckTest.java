package dev.verity.zk.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.verity.core.VerificationException;
import dev.verity.zk.field.Ext;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SumCheckTest {
  private static Ext innerProduct(long[] f, long[] g) {
    Ext s = Ext.ZERO;
    for (int i = 0; i < f.length / 2; i++) {
      s = s.add(Fields.at(f, i).mul(Fields.at(g, i)));
    }
    return s;
  }

  @Property(tries = 30)
  void honestProductProofReducesToTheTablesAtTheReturnedPoint(
      @ForAll @IntRange(min = 0, max = 13) int n, @ForAll long seed) throws Exception {
    Random rnd = new Random(seed);
    long[] f = Fields.extVector(rnd, 1 << n);
    long[] g = Fields.extVector(rnd, 1 << n);
    Ext claim = innerProduct(f, g);
    long[] f0 = f.clone();
    long[] g0 = g.clone();
    ProverChannel pc = new ProverChannel(new Transcript("test"));
    Ext[] point = SumCheck.proveProduct(pc, f, g, n);
    VerifierChannel vc = new VerifierChannel(new Transcript("test"), pc.toBytes(), 0);
    SumCheck.Reduction red = SumCheck.verify(vc, claim, n, 2);
    vc.finish();
    assertEquals(java.util.Arrays.asList(point), java.util.Arrays.asList(red.point()));
    Ext fr = Mle.evaluateExt(f0, point);
    Ext gr = Mle.evaluateExt(g0, point);
    assertEquals(fr, Fields.at(f, 0));
    assertEquals(gr, Fields.at(g, 0));
    assertEquals(fr.mul(gr), red.value());
  }

  @Property(tries = 30)
  void falseClaimIsCaughtByTheFinalCheck(@ForAll @IntRange(min = 1, max = 8) int n, @ForAll long seed)
      throws Exception {
    Random rnd = new Random(seed);
    long[] f = Fields.extVector(rnd, 1 << n);
    long[] g = Fields.extVector(rnd, 1 << n);
    long[] f0 = f.clone();
    long[] g0 = g.clone();
    Ext wrong = innerProduct(f, g).add(Ext.ONE);
    ProverChannel pc = new ProverChannel(new Transcript("test"));
    Ext[] point = SumCheck.proveProduct(pc, f, g, n);
    VerifierChannel vc = new VerifierChannel(new Transcript("test"), pc.toBytes(), 0);
    SumCheck.Reduction red = SumCheck.verify(vc, wrong, n, 2);
    assertNotEquals(Mle.evaluateExt(f0, point).mul(Mle.evaluateExt(g0, point)), red.value());
  }

  @Test
  void truncatedOrPaddedProofIsRejected() throws Exception {
    Random rnd = new Random(1);
    long[] f = Fields.extVector(rnd, 16);
    long[] g = Fields.extVector(rnd, 16);
    ProverChannel pc = new ProverChannel(new Transcript("t"));
    SumCheck.proveProduct(pc, f, g, 4);
    byte[] bytes = pc.toBytes();
    byte[] shortProof = java.util.Arrays.copyOf(bytes, bytes.length - 1);
    assertThrows(
        VerificationException.class,
        () -> SumCheck.verify(new VerifierChannel(new Transcript("t"), shortProof, 0), Ext.ZERO, 4, 2));
    byte[] longProof = java.util.Arrays.copyOf(bytes, bytes.length + 8);
    VerifierChannel vc = new VerifierChannel(new Transcript("t"), longProof, 0);
    SumCheck.verify(vc, Ext.ZERO, 4, 2);
    assertThrows(VerificationException.class, vc::finish);
  }

  @Test
  void nonCanonicalElementIsRejected() {
    byte[] bytes = new byte[32];
    java.util.Arrays.fill(bytes, (byte) 0xff);
    assertThrows(
        VerificationException.class,
        () -> SumCheck.verify(new VerifierChannel(new Transcript("t"), bytes, 0), Ext.ZERO, 1, 2));
  }

  @Test
  void interpolationRecoversAPolynomial() {
    // p(x) = 3x^3 + 2x + 5
    Ext[] vals = new Ext[4];
    for (int i = 0; i < 4; i++) {
      vals[i] = Ext.ofLong(3L * i * i * i + 2L * i + 5);
    }
    Ext r = new Ext(12345, 678);
    Ext expected = r.mul(r).mul(r).mul(3).add(r.mul(2)).add(Ext.of(5));
    assertEquals(expected, SumCheck.interpolate(vals, r));
  }
}

package dev.verity.zk.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.verity.zk.field.Ext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ZkSumCheckTest {
  /** A random instance: terms over prefixes, masked and plain factors, and the true sum. */
  private static final class Instance {
    final int n;
    final int degree;
    final List<ZkSumCheck.Term> terms = new ArrayList<>();
    final List<long[][]> originals = new ArrayList<>(); // per term: factor tables before folding
    final List<long[][]> masks = new ArrayList<>(); // per term: mask coefficients or null
    Ext sum = Ext.ZERO;

    Instance(Random rnd, int n) {
      this.n = n;
      int d = 1;
      int count = 1 + rnd.nextInt(3);
      for (int k = 0; k < count; k++) {
        int vars = rnd.nextInt(n + 1);
        int nf = 1 + rnd.nextInt(3);
        List<ZkSumCheck.Factor> fs = new ArrayList<>();
        long[][] orig = new long[nf][];
        long[][] ms = new long[nf][];
        for (int f = 0; f < nf; f++) {
          long[] table = Fields.extVector(rnd, 1 << vars);
          orig[f] = table.clone();
          long[] mask = rnd.nextBoolean() ? Fields.extVector(rnd, Masking.coefficients(vars)) : null;
          ms[f] = mask;
          fs.add(new ZkSumCheck.Factor(table, mask == null ? null : p -> Masking.maskAt(mask, p)));
        }
        Ext c = Fields.ext(rnd);
        ZkSumCheck.Term term = new ZkSumCheck.Term(c, vars, fs);
        d = Math.max(d, term.degree());
        terms.add(term);
        originals.add(orig);
        masks.add(ms);
        // the term's own hypercube sum
        Ext s = Ext.ZERO;
        for (int i = 0; i < (1 << vars); i++) {
          Ext prod = Ext.ONE;
          for (long[] t : orig) {
            prod = prod.mul(Fields.at(t, i));
          }
          s = s.add(prod);
        }
        sum = sum.add(c.mul(s));
      }
      degree = d;
    }

    Ext valueAt(Ext[] rho) {
      Ext total = Ext.ZERO;
      for (int k = 0; k < terms.size(); k++) {
        ZkSumCheck.Term term = terms.get(k);
        Ext[] local = Arrays.copyOf(rho, term.vars());
        Ext[] fv = new Ext[term.factors().size()];
        for (int f = 0; f < fv.length; f++) {
          Ext v = Mle.evaluateExt(originals.get(k)[f], local);
          long[] m = masks.get(k)[f];
          fv[f] = m == null ? v : v.add(Masking.maskAt(m, local));
        }
        total = total.add(ZkSumCheck.termValue(term.coefficient(), n, term.vars(), fv));
      }
      return total;
    }
  }

  private static ZkSumCheck.Mask randomMask(Random rnd, int n, int d) {
    Ext[] a = new Ext[ZkSumCheck.Mask.size(n, d)];
    for (int i = 0; i < a.length; i++) {
      a[i] = Fields.ext(rnd);
    }
    return new ZkSumCheck.Mask(a, n, d);
  }

  @Property(tries = 40)
  void honestProofReducesToTheMaskedTermsAtThePoint(@ForAll @IntRange(min = 0, max = 9) int n, @ForAll long seed)
      throws Exception {
    Random rnd = new Random(seed);
    Instance in = new Instance(rnd, n);
    ZkSumCheck.Mask g = randomMask(rnd, n, in.degree);
    ProverChannel pc = new ProverChannel(new Transcript("zk"));
    Ext[] point = ZkSumCheck.prove(pc, n, in.degree, in.terms, g);
    VerifierChannel vc = new VerifierChannel(new Transcript("zk"), pc.toBytes(), 0);
    ZkSumCheck.Reduction red = ZkSumCheck.verify(vc, in.sum, n, in.degree);
    vc.finish();
    assertEquals(Arrays.asList(point), Arrays.asList(red.point()));
    assertEquals(in.valueAt(point).add(red.mu().mul(g.at(point))), red.value());
  }

  @Property(tries = 30)
  void falseClaimFailsTheFinalCheck(@ForAll @IntRange(min = 1, max = 8) int n, @ForAll long seed) throws Exception {
    Random rnd = new Random(seed);
    Instance in = new Instance(rnd, n);
    ZkSumCheck.Mask g = randomMask(rnd, n, in.degree);
    ProverChannel pc = new ProverChannel(new Transcript("zk"));
    Ext[] point = ZkSumCheck.prove(pc, n, in.degree, in.terms, g);
    VerifierChannel vc = new VerifierChannel(new Transcript("zk"), pc.toBytes(), 0);
    ZkSumCheck.Reduction red = ZkSumCheck.verify(vc, in.sum.add(Ext.ONE), n, in.degree);
    assertNotEquals(in.valueAt(point).add(red.mu().mul(g.at(point))), red.value());
  }

  @Test
  void masksVanishOnTheHypercubeAndDifferElsewhere() {
    Random rnd = new Random(5);
    long[] c = Fields.extVector(rnd, Masking.coefficients(6));
    for (int b = 0; b < 64; b++) {
      Ext[] p = new Ext[6];
      for (int j = 0; j < 6; j++) {
        p[j] = Ext.of((b >>> j) & 1);
      }
      assertEquals(Ext.ZERO, Masking.maskAt(c, p));
    }
    // boolean in the first four variables is enough
    Ext[] p = Fields.point(rnd, 6);
    p[0] = Ext.ZERO;
    p[1] = Ext.ONE;
    p[2] = Ext.ONE;
    p[3] = Ext.ZERO;
    assertEquals(Ext.ZERO, Masking.maskAt(c, p));
    assertNotEquals(Ext.ZERO, Masking.maskAt(c, Fields.point(rnd, 6)));
  }

  @Test
  void maskSumAndEvaluationAgreeWithBruteForce() {
    Random rnd = new Random(6);
    int n = 5;
    ZkSumCheck.Mask g = randomMask(rnd, n, 3);
    Ext s = Ext.ZERO;
    for (int b = 0; b < 32; b++) {
      Ext[] p = new Ext[n];
      for (int j = 0; j < n; j++) {
        p[j] = Ext.of((b >>> j) & 1);
      }
      s = s.add(g.at(p));
    }
    assertEquals(s, g.sum());
    Ext[] r = Fields.point(rnd, n);
    Ext[] w = ZkSumCheck.Mask.weights(r, 3);
    Ext viaWeights = Ext.ZERO;
    for (int i = 0; i < w.length; i++) {
      viaWeights = viaWeights.add(w[i].mul(g.coefficients()[i]));
    }
    assertEquals(g.at(r), viaWeights);
  }
}

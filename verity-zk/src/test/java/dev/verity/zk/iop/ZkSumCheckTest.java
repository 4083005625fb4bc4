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

  /** Rank over F_{p^2} of the rows, by Gaussian elimination. */
  private static int rank(Ext[][] rows) {
    Ext[][] m = new Ext[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      m[i] = rows[i].clone();
    }
    int rank = 0;
    for (int col = 0; col < m[0].length && rank < m.length; col++) {
      int pivot = -1;
      for (int r = rank; r < m.length; r++) {
        if (!m[r][col].isZero()) {
          pivot = r;
          break;
        }
      }
      if (pivot < 0) {
        continue;
      }
      Ext[] tmp = m[pivot];
      m[pivot] = m[rank];
      m[rank] = tmp;
      Ext inv = m[rank][col].inverse();
      for (int r = rank + 1; r < m.length; r++) {
        Ext f = m[r][col].mul(inv);
        for (int k = col; k < m[r].length; k++) {
          m[r][k] = m[r][k].sub(f.mul(m[rank][k]));
        }
      }
      rank++;
    }
    return rank;
  }

  @Test
  void masksHideAsManyEvaluationsAsTheCircuitMakes() {
    // the values of a masked column at e random points are independent and uniform when the
    // functionals phi(p_1..p_e) are linearly independent, which holds up to the capacity
    Random rnd = new Random(7);
    for (int k = 1; k <= 9; k++) {
      int capacity = Masking.capacity(k);
      Ext[][] rows = new Ext[capacity][];
      for (int e = 0; e < capacity; e++) {
        rows[e] = Masking.phi(Fields.point(rnd, k));
      }
      assertEquals(capacity, rank(rows), "k = " + k);
    }
    // the four window points of a pooling share all but two (boolean) coordinates: their masks are
    // dependent (v00 + v11 = v01 + v10), which is why window reads carry fresh masks
    Ext[] base = Fields.point(rnd, 5);
    Ext[][] window = new Ext[4][];
    for (int j = 0; j < 4; j++) {
      Ext[] p = base.clone();
      p[0] = Ext.of(j & 1);
      p[2] = Ext.of(j >> 1);
      window[j] = Masking.phi(p);
    }
    assertEquals(3, rank(window));
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

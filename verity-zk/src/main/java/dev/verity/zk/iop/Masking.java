package dev.verity.zk.iop;

import dev.verity.zk.field.Ext;

/**
 * Random masks that hide evaluations of multilinear polynomials (after Libra, Xie et al. 2019).
 * A committed vector with multilinear extension P~ in k variables is used in proofs as
 *
 * <pre>P^(x) = P~(x) + sum_{i < m} x_i (1 - x_i) (c_{i,k} + sum_{l < k, l != i} c_{i,l} x_l),</pre>
 *
 * m = min(k, 4), with uniformly random extension-field coefficients c committed next to the vector.
 * P^ equals P~ on the boolean hypercube, so every sum over the hypercube is unchanged, but its
 * values at random points are uniformly random and independent as long as a column is evaluated
 * at no more than {@link #capacity} = m k generic points. The mask vanishes at every point whose first m
 * coordinates are boolean; a sum-check binding variables from the top therefore only sees masks
 * in its last m rounds.
 */
public final class Masking {
  /** Variables that carry mask terms. */
  public static final int MASKED_VARS = 4;

  private Masking() {}

  public static int maskedVars(int k) {
    return Math.min(k, MASKED_VARS);
  }

  /** How many evaluations at independent random points a mask keeps independent and uniform. */
  public static int capacity(int k) {
    return maskedVars(k) * k;
  }

  /** Number of extension-field mask coefficients of a k-variable polynomial (some stay unused). */
  public static int coefficients(int k) {
    return maskedVars(k) * (k + 1);
  }

  /** phi(p): the mask at p is sum_j c_j phi_j(p). Entries for l = i are zero. */
  public static Ext[] phi(Ext[] p) {
    int k = p.length;
    int m = maskedVars(k);
    Ext[] out = new Ext[m * (k + 1)];
    for (int i = 0; i < m; i++) {
      Ext z = p[i].mul(Ext.ONE.sub(p[i]));
      for (int l = 0; l < k; l++) {
        out[i * (k + 1) + l] = l == i ? Ext.ZERO : z.mul(p[l]);
      }
      out[i * (k + 1) + k] = z;
    }
    return out;
  }

  /** The mask with interleaved coefficients c at point p. */
  public static Ext maskAt(long[] c, Ext[] p) {
    return maskAt(c, 0, p);
  }

  /** The mask whose interleaved coefficients start at c[offset], at point p. */
  public static Ext maskAt(long[] c, int offset, Ext[] p) {
    Ext[] phi = phi(p);
    long s0 = 0;
    long s1 = 0;
    for (int j = 0; j < phi.length; j++) {
      long a0 = c[offset + 2 * j];
      long a1 = c[offset + 2 * j + 1];
      s0 = dev.verity.zk.field.Goldilocks.add(s0, Ext.mulC0(a0, a1, phi[j].c0(), phi[j].c1()));
      s1 = dev.verity.zk.field.Goldilocks.add(s1, Ext.mulC1(a0, a1, phi[j].c0(), phi[j].c1()));
    }
    return new Ext(s0, s1);
  }

  /** phi(p) as interleaved coefficients, for inner-product claims on committed masks. */
  public static long[] phiInterleaved(Ext[] p) {
    Ext[] phi = phi(p);
    long[] out = new long[2 * phi.length];
    for (int j = 0; j < phi.length; j++) {
      out[2 * j] = phi[j].c0();
      out[2 * j + 1] = phi[j].c1();
    }
    return out;
  }
}

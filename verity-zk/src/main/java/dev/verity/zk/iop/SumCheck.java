package dev.verity.zk.iop;

import dev.verity.core.VerificationException;
import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;

/**
 * The sum-check protocol (Lund, Fortnow, Karloff, Nisan) for sums over the boolean hypercube
 * {0,1}^n of a polynomial C(t_1(x), ..., t_m(x)) where every t_k is multilinear and C has total
 * degree d; the prover here handles products of two tables (the zero-knowledge variant for
 * general summands is {@link ZkSumCheck}). Round j sends the univariate restriction g_j as its values at 0, 2, 3, ..., d (the
 * value at 1 follows from the running claim); the verifier checks nothing per round beyond that
 * consistency and replies with a random challenge r_j; after n rounds the claim has been reduced to
 * C(t_1(r), ..., t_m(r)) at a random point r, which the caller must check by other means. A false
 * claim survives with probability at most d * n / |F| (about 2^-120 here).
 *
 * <p>Variables are bound from the most significant (variable n-1) down to variable 0, so tables
 * fold contiguous halves; points are returned in variable order.
 */
public final class SumCheck {
  private SumCheck() {}

  /** What the verifier is left with: a random point and the value the summand must take there. */
  public record Reduction(Ext[] point, Ext value) {}

  /**
   * Proves sum_x f(x) g(x) = claim (implied, not sent) for two interleaved extension tables of
   * 2^nVars elements, folded in place: afterwards element 0 of each is its value at the returned
   * point.
   */
  public static Ext[] proveProduct(ProverChannel ch, long[] f, long[] g, int nVars) {
    Ext[] point = new Ext[nVars];
    for (int round = 0; round < nVars; round++) {
      int half = 1 << (nVars - 1 - round);
      int chunks = Parallel.chunks(half);
      long[][] partial = new long[chunks][4];
      Parallel.forRange(
          half,
          (c, from, to) -> {
            long s00 = 0, s01 = 0, s20 = 0, s21 = 0;
            for (int i = from; i < to; i++) {
              long f0 = f[2 * i], f1 = f[2 * i + 1];
              long g0 = g[2 * i], g1 = g[2 * i + 1];
              long fh0 = f[2 * (i + half)], fh1 = f[2 * (i + half) + 1];
              long gh0 = g[2 * (i + half)], gh1 = g[2 * (i + half) + 1];
              s00 = Goldilocks.add(s00, Ext.mulC0(f0, f1, g0, g1));
              s01 = Goldilocks.add(s01, Ext.mulC1(f0, f1, g0, g1));
              // values at t = 2: 2 hi - lo
              long f20 = Goldilocks.sub(Goldilocks.add(fh0, fh0), f0);
              long f21 = Goldilocks.sub(Goldilocks.add(fh1, fh1), f1);
              long g20 = Goldilocks.sub(Goldilocks.add(gh0, gh0), g0);
              long g21 = Goldilocks.sub(Goldilocks.add(gh1, gh1), g1);
              s20 = Goldilocks.add(s20, Ext.mulC0(f20, f21, g20, g21));
              s21 = Goldilocks.add(s21, Ext.mulC1(f20, f21, g20, g21));
            }
            partial[c][0] = s00;
            partial[c][1] = s01;
            partial[c][2] = s20;
            partial[c][3] = s21;
          });
      long[] msg = sum(partial, 4);
      ch.sendInterleaved(msg, 0, 2);
      Ext r = ch.challenge("sumcheck");
      point[nVars - 1 - round] = r;
      Mle.fold(f, half, r);
      Mle.fold(g, half, r);
    }
    return point;
  }

  private static long[] sum(long[][] partial, int len) {
    long[] out = new long[len];
    for (long[] p : partial) {
      for (int i = 0; i < len; i++) {
        out[i] = Goldilocks.add(out[i], p[i]);
      }
    }
    return out;
  }

  /**
   * Verifies the rounds of a degree-d sum-check over nVars variables against claim, returning the
   * random point and the value the summand must take there.
   */
  public static Reduction verify(VerifierChannel ch, Ext claim, int nVars, int degree)
      throws VerificationException {
    Ext[] point = new Ext[nVars];
    Ext current = claim;
    Ext[] values = new Ext[degree + 1];
    for (int round = 0; round < nVars; round++) {
      Ext[] msg = ch.receive(degree);
      values[0] = msg[0];
      values[1] = current.sub(msg[0]);
      for (int s = 2; s <= degree; s++) {
        values[s] = msg[s - 1];
      }
      Ext r = ch.challenge("sumcheck");
      point[nVars - 1 - round] = r;
      current = interpolate(values, r);
    }
    return new Reduction(point, current);
  }

  /** The value at r of the polynomial of degree < values.length through (i, values[i]). */
  public static Ext interpolate(Ext[] values, Ext r) {
    int n = values.length;
    Ext result = Ext.ZERO;
    for (int i = 0; i < n; i++) {
      Ext num = Ext.ONE;
      long den = 1;
      for (int j = 0; j < n; j++) {
        if (j != i) {
          num = num.mul(r.sub(Ext.of(j)));
          den = Goldilocks.mul(den, Goldilocks.fromLong(i - j));
        }
      }
      result = result.add(values[i].mul(num).mul(Goldilocks.inverse(den)));
    }
    return result;
  }
}

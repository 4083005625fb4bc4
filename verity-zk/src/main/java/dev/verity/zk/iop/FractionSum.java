package dev.verity.zk.iop;

import dev.verity.core.VerificationException;
import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;

/**
 * A GKR proof that sum_i p_i / q_i = 0 over 2^n fractions (Papini and Haboeck, "Improving logarithmic
 * derivative lookups using GKR", 2023), the core of the logUp lookup argument.
 *
 * <p>The fractions are summed pairwise in a binary tree: layer l has 2^l fractions and entry i of
 * layer l is the sum of entries i and i + 2^l of layer l+1, (p, q) = (p0 q1 + p1 q0, q0 q1). The
 * prover sends the two fractions of layer 1; the verifier checks that they add up to 0 with a
 * non-zero denominator (so no leaf denominator is zero). Then, layer by layer, a claim about the
 * multilinear extensions of p_l and q_l at a point r becomes, through one degree-3 sum-check over
 * eq(r, x) (p_{l+1}(x,0) q_{l+1}(x,1) + p_{l+1}(x,1) q_{l+1}(x,0) + lambda q_{l+1}(x,0) q_{l+1}(x,1)),
 * a claim about p_{l+1} and q_{l+1} at a new point, until it reaches the leaves. No commitment is
 * needed for the inner layers; the caller checks the final leaf claim.
 */
public final class FractionSum {
  private FractionSum() {}

  /** The claim left at the leaves: p~(point) and q~(point). */
  public record LeafClaim(Ext[] point, Ext p, Ext q) {}

  /**
   * One layer's sum-check: sum_x eq(x) (p0 q1 + p1 q0 + lambda q0 q1)(x), degree 3, on five
   * interleaved tables that are folded in place. Same messages as {@link SumCheck#prove} with the
   * corresponding kernel, written out because it dominates the lookup argument's cost.
   */
  private static Ext[] layerSumCheck(
      ProverChannel ch, long[] eq, long[] p0, long[] p1, long[] q0, long[] q1, int vars, Ext lambda) {
    long l0 = lambda.c0();
    long l1 = lambda.c1();
    Ext[] point = new Ext[vars];
    for (int round = 0; round < vars; round++) {
      int half = 1 << (vars - 1 - round);
      int chunks = Parallel.chunks(half);
      long[][] partial = new long[chunks][6];
      Parallel.forRange(
          half,
          (c, from, to) -> {
            long[] acc = partial[c];
            long[] v = new long[10];
            long[] d = new long[10];
            long[][] t = {eq, p0, p1, q0, q1};
            for (int i = from; i < to; i++) {
              for (int k = 0; k < 5; k++) {
                long[] tk = t[k];
                long lo0 = tk[2 * i];
                long lo1 = tk[2 * i + 1];
                v[2 * k] = lo0;
                v[2 * k + 1] = lo1;
                d[2 * k] = Goldilocks.sub(tk[2 * (i + half)], lo0);
                d[2 * k + 1] = Goldilocks.sub(tk[2 * (i + half) + 1], lo1);
              }
              term(v, l0, l1, acc, 0);
              // t = 2 and t = 3: lo + t (hi - lo)
              for (int k = 0; k < 10; k++) {
                v[k] = Goldilocks.add(v[k], Goldilocks.add(d[k], d[k]));
              }
              term(v, l0, l1, acc, 2);
              for (int k = 0; k < 10; k++) {
                v[k] = Goldilocks.add(v[k], d[k]);
              }
              term(v, l0, l1, acc, 4);
            }
          });
      long[] msg = new long[6];
      for (long[] part : partial) {
        for (int k = 0; k < 6; k++) {
          msg[k] = Goldilocks.add(msg[k], part[k]);
        }
      }
      ch.sendInterleaved(msg, 0, 3);
      Ext r = ch.challenge("sumcheck");
      point[vars - 1 - round] = r;
      Mle.fold(eq, half, r);
      Mle.fold(p0, half, r);
      Mle.fold(p1, half, r);
      Mle.fold(q0, half, r);
      Mle.fold(q1, half, r);
    }
    return point;
  }

  /** acc[at..at+1] += eq (p0 q1 + p1 q0 + lambda q0 q1) for v = (eq, p0, p1, q0, q1). */
  private static void term(long[] v, long l0, long l1, long[] acc, int at) {
    long a0 = Ext.mulC0(v[2], v[3], v[8], v[9]);
    long a1 = Ext.mulC1(v[2], v[3], v[8], v[9]);
    long b0 = Ext.mulC0(v[4], v[5], v[6], v[7]);
    long b1 = Ext.mulC1(v[4], v[5], v[6], v[7]);
    long q0 = Ext.mulC0(v[6], v[7], v[8], v[9]);
    long q1 = Ext.mulC1(v[6], v[7], v[8], v[9]);
    long s0 = Goldilocks.add(Goldilocks.add(a0, b0), Ext.mulC0(q0, q1, l0, l1));
    long s1 = Goldilocks.add(Goldilocks.add(a1, b1), Ext.mulC1(q0, q1, l0, l1));
    acc[at] = Goldilocks.add(acc[at], Ext.mulC0(v[0], v[1], s0, s1));
    acc[at + 1] = Goldilocks.add(acc[at + 1], Ext.mulC1(v[0], v[1], s0, s1));
  }

  /**
   * Proves that the fractions p / q (interleaved extension vectors of 2^n elements, n >= 1) sum to
   * zero. The arrays are not modified.
   */
  public static LeafClaim prove(ProverChannel ch, long[] p, long[] q, int n) {
    if (n < 1 || p.length != 2 << n || q.length != 2 << n) {
      throw new IllegalArgumentException("fraction sum needs 2^n fractions with n >= 1");
    }
    // layers[l] = (p_l, q_l) with 2^l entries; layers[n] are the leaves
    long[][] ps = new long[n + 1][];
    long[][] qs = new long[n + 1][];
    ps[n] = p;
    qs[n] = q;
    for (int l = n - 1; l >= 1; l--) {
      int size = 1 << l;
      long[] pu = ps[l + 1];
      long[] qu = qs[l + 1];
      long[] pl = new long[2 * size];
      long[] ql = new long[2 * size];
      Parallel.forRange(
          size,
          (c, from, to) -> {
            for (int i = from; i < to; i++) {
              int j = i + size;
              long p00 = pu[2 * i], p01 = pu[2 * i + 1], p10 = pu[2 * j], p11 = pu[2 * j + 1];
              long q00 = qu[2 * i], q01 = qu[2 * i + 1], q10 = qu[2 * j], q11 = qu[2 * j + 1];
              pl[2 * i] = Goldilocks.add(Ext.mulC0(p00, p01, q10, q11), Ext.mulC0(p10, p11, q00, q01));
              pl[2 * i + 1] = Goldilocks.add(Ext.mulC1(p00, p01, q10, q11), Ext.mulC1(p10, p11, q00, q01));
              ql[2 * i] = Ext.mulC0(q00, q01, q10, q11);
              ql[2 * i + 1] = Ext.mulC1(q00, q01, q10, q11);
            }
          });
      ps[l] = pl;
      qs[l] = ql;
    }
    ch.label("fraction-sum");
    ch.sendInterleaved(ps[1], 0, 2);
    ch.sendInterleaved(qs[1], 0, 2);
    Ext r = ch.challenge("fraction-layer");
    Ext[] point = {r};
    for (int l = 1; l < n; l++) {
      int size = 1 << l;
      Ext lambda = ch.challenge("fraction-combine");
      long[] eq = Mle.eqTable(point);
      long[] p0 = java.util.Arrays.copyOfRange(ps[l + 1], 0, 2 * size);
      long[] p1 = java.util.Arrays.copyOfRange(ps[l + 1], 2 * size, 4 * size);
      long[] q0 = java.util.Arrays.copyOfRange(qs[l + 1], 0, 2 * size);
      long[] q1 = java.util.Arrays.copyOfRange(qs[l + 1], 2 * size, 4 * size);
      Ext[] rho = layerSumCheck(ch, eq, p0, p1, q0, q1, l, lambda);
      ch.send(new Ext(p0[0], p0[1]));
      ch.send(new Ext(p1[0], p1[1]));
      ch.send(new Ext(q0[0], q0[1]));
      ch.send(new Ext(q1[0], q1[1]));
      Ext top = ch.challenge("fraction-layer");
      point = append(rho, top);
    }
    return new LeafClaim(point, Mle.evaluateExt(p, point), Mle.evaluateExt(q, point));
  }

  private static Ext[] append(Ext[] rho, Ext top) {
    Ext[] out = java.util.Arrays.copyOf(rho, rho.length + 1);
    out[rho.length] = top;
    return out;
  }

  /**
   * Verifies that the 2^n committed-to fractions sum to zero, returning the claim about the
   * leaves that the caller must check.
   */
  public static LeafClaim verify(VerifierChannel ch, int n) throws VerificationException {
    ch.label("fraction-sum");
    Ext[] p1 = ch.receive(2);
    Ext[] q1 = ch.receive(2);
    Ext rootP = p1[0].mul(q1[1]).add(p1[1].mul(q1[0]));
    Ext rootQ = q1[0].mul(q1[1]);
    if (!rootP.isZero()) {
      throw new VerificationException("lookup fractions do not cancel: some looked-up value is not in its table");
    }
    if (rootQ.isZero()) {
      throw new VerificationException("lookup argument has a zero denominator");
    }
    Ext r = ch.challenge("fraction-layer");
    Ext[] point = {r};
    Ext claimP = p1[0].add(r.mul(p1[1].sub(p1[0])));
    Ext claimQ = q1[0].add(r.mul(q1[1].sub(q1[0])));
    for (int l = 1; l < n; l++) {
      Ext lambda = ch.challenge("fraction-combine");
      SumCheck.Reduction red = SumCheck.verify(ch, claimP.add(lambda.mul(claimQ)), l, 3);
      Ext a0 = ch.receive();
      Ext a1 = ch.receive();
      Ext b0 = ch.receive();
      Ext b1 = ch.receive();
      Ext expected =
          Mle.eq(point, red.point()).mul(a0.mul(b1).add(a1.mul(b0)).add(lambda.mul(b0).mul(b1)));
      if (!expected.equals(red.value())) {
        throw new VerificationException("lookup argument fails at layer " + l + " of its fraction tree");
      }
      Ext top = ch.challenge("fraction-layer");
      point = append(red.point(), top);
      claimP = a0.add(top.mul(a1.sub(a0)));
      claimQ = b0.add(top.mul(b1.sub(b0)));
    }
    return new LeafClaim(point, claimP, claimQ);
  }
}

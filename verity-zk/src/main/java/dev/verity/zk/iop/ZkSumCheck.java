package dev.verity.zk.iop;

import dev.verity.core.VerificationException;
import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;
import java.util.List;

/**
 * A zero-knowledge sum-check (Chiesa-Forbes-Spooner 2017, Libra 2019) over n variables for a sum
 * of products of masked multilinear polynomials, each product over a prefix of the variables.
 *
 * <p>The summand is F(x) = sum over terms T of c_T 2^-(n - k_T) prod_f f(x_0 .. x_{k_T - 1}): a term
 * over k_T &lt; n variables is repeated over the others and scaled back, so the total is sum_T c_T
 * (sum over its own hypercube), which lets one proof cover sums over domains of different sizes.
 * A factor is a multilinear table plus an optional {@link Masking} mask.
 *
 * <p>To hide F, the prover commits (elsewhere) the coefficients of a random g(x) = a_0 + sum_i
 * sum_{j=1..d} a_{i,j} x_i^j, sends G = sum over the hypercube of g, receives mu, and runs the plain
 * sum-check on F + mu g for the claim H + mu G. Each round polynomial is then masked by a fresh
 * univariate part of g. At the end the caller checks F(rho) + mu g(rho) against the reduction,
 * with g(rho) opened from the commitment and F(rho) from masked evaluations.
 */
public final class ZkSumCheck {
  private ZkSumCheck() {}

  /** The mask part of a factor at a point of its variables. */
  @FunctionalInterface
  public interface MaskFunction {
    Ext at(Ext[] point);
  }

  /** A multilinear table (interleaved, 2^vars elements, folded in place) with an optional mask. */
  public record Factor(long[] table, MaskFunction mask) {}

  /** coefficient * product of factors, all over the first {@code vars} variables. */
  public record Term(Ext coefficient, int vars, List<Factor> factors) {
    public Term {
      factors = List.copyOf(factors);
      for (Factor f : factors) {
        if (f.table().length != 2 << vars) {
          throw new IllegalArgumentException("factor table does not have 2^" + vars + " entries");
        }
      }
    }

    int degree() {
      int d = 0;
      for (Factor f : factors) {
        d += f.mask() == null ? 1 : 2;
      }
      return d;
    }
  }

  /** The masking polynomial g's coefficients: a_0, then a_{i,1..d} for each variable i. */
  public record Mask(Ext[] coefficients, int vars, int degree) {
    public Mask {
      coefficients = coefficients.clone();
      if (coefficients.length != size(vars, degree)) {
        throw new IllegalArgumentException("a mask for " + vars + " variables of degree " + degree + " has " + size(vars, degree) + " coefficients");
      }
    }

    public static int size(int vars, int degree) {
      return 1 + vars * degree;
    }

    Ext a(int i, int j) {
      return coefficients[1 + i * degree + (j - 1)];
    }

    /** g_i(t) = sum_j a_{i,j} t^j. */
    Ext part(int i, Ext t) {
      Ext acc = Ext.ZERO;
      for (int j = degree; j >= 1; j--) {
        acc = acc.add(a(i, j)).mul(t);
      }
      return acc;
    }

    /** sum over the hypercube: 2^n a_0 + 2^(n-1) sum_{i,j} a_{i,j}. */
    public Ext sum() {
      Ext s = Ext.ZERO;
      for (int i = 0; i < vars; i++) {
        s = s.add(part(i, Ext.ONE));
      }
      Ext total = coefficients[0].mul(pow2(vars));
      return vars == 0 ? total : total.add(s.mul(pow2(vars - 1)));
    }

    /** g at a point. */
    public Ext at(Ext[] point) {
      Ext acc = coefficients[0];
      for (int i = 0; i < vars; i++) {
        acc = acc.add(part(i, point[i]));
      }
      return acc;
    }

    /** The coefficients of g(point) as a linear function of the mask's coefficients. */
    public static Ext[] weights(Ext[] point, int degree) {
      Ext[] w = new Ext[size(point.length, degree)];
      w[0] = Ext.ONE;
      for (int i = 0; i < point.length; i++) {
        Ext pw = Ext.ONE;
        for (int j = 1; j <= degree; j++) {
          pw = pw.mul(point[i]);
          w[1 + i * degree + (j - 1)] = pw;
        }
      }
      return w;
    }
  }

  /** What the verifier is left with: the point, the value of F + mu g there, and mu. */
  public record Reduction(Ext[] point, Ext value, Ext mu) {}

  private static long pow2(int e) {
    return 1L << e;
  }

  /**
   * Proves sum over {0,1}^n of F = claim (implied, not sent), F given by terms, masked by g.
   * Factor tables are folded in place; afterwards element 0 of each table is its multilinear value
   * at the returned point's prefix.
   */
  public static Ext[] prove(ProverChannel ch, int n, int degree, List<Term> terms, Mask g) {
    if (g.vars() != n || g.degree() != degree) {
      throw new IllegalArgumentException("masking polynomial does not match the sum-check");
    }
    int t = terms.size();
    Ext[] scale = new Ext[t];
    Ext[] fullSum = new Ext[t];
    for (int k = 0; k < t; k++) {
      Term term = terms.get(k);
      if (term.vars() > n || term.degree() > degree) {
        throw new IllegalArgumentException("term exceeds the sum-check's variables or degree");
      }
      scale[k] = term.coefficient().mul(Goldilocks.inverse(pow2(n - term.vars()) % Goldilocks.P));
      fullSum[k] = hypercubeSum(term);
    }
    ch.send(g.sum());
    Ext mu = ch.challenge("zk-sumcheck-mask");
    Ext[] point = new Ext[n];
    Ext boundMask = Ext.ZERO; // sum of g_i(r_i) over bound variables
    for (int v = n - 1; v >= 0; v--) {
      Ext[] values = new Ext[degree + 1];
      java.util.Arrays.fill(values, Ext.ZERO);
      for (int k = 0; k < t; k++) {
        Term term = terms.get(k);
        if (v >= term.vars()) {
          Ext c = fullSum[k].mul(scale[k]).mul(pow2(v - term.vars()));
          for (int x = 0; x <= degree; x++) {
            values[x] = values[x].add(c);
          }
        } else {
          Ext[] tv = termRound(term, v, point, degree);
          for (int x = 0; x <= degree; x++) {
            values[x] = values[x].add(tv[x].mul(scale[k]));
          }
        }
      }
      // mu g: 2^v (a_0 + bound + g_v(X)) + 2^(v-1) sum over free i of g_i(1)
      Ext free = Ext.ZERO;
      for (int i = 0; i < v; i++) {
        free = free.add(g.part(i, Ext.ONE));
      }
      Ext base = g.coefficients()[0].add(boundMask).mul(pow2(v));
      if (v >= 1) {
        base = base.add(free.mul(pow2(v - 1)));
      }
      for (int x = 0; x <= degree; x++) {
        Ext gx = base.add(g.part(v, Ext.of(x)).mul(pow2(v)));
        values[x] = values[x].add(mu.mul(gx));
      }
      ch.send(values[0]);
      for (int x = 2; x <= degree; x++) {
        ch.send(values[x]);
      }
      Ext r = ch.challenge("sumcheck");
      point[v] = r;
      boundMask = boundMask.add(g.part(v, r));
      for (Term term : terms) {
        if (v < term.vars()) {
          int half = 1 << v;
          for (Factor f : term.factors()) {
            Mle.fold(f.table(), half, r);
          }
        }
      }
    }
    return point;
  }

  private static Ext hypercubeSum(Term term) {
    int size = 1 << term.vars();
    long s0 = 0;
    long s1 = 0;
    for (int i = 0; i < size; i++) {
      long p0 = 1;
      long p1 = 0;
      for (Factor f : term.factors()) {
        long[] tb = f.table();
        long n0 = Ext.mulC0(p0, p1, tb[2 * i], tb[2 * i + 1]);
        p1 = Ext.mulC1(p0, p1, tb[2 * i], tb[2 * i + 1]);
        p0 = n0;
      }
      s0 = Goldilocks.add(s0, p0);
      s1 = Goldilocks.add(s1, p1);
    }
    return new Ext(s0, s1);
  }

  /** sum over the free points of prod of factors at X = 0..degree, for the round binding v. */
  private static Ext[] termRound(Term term, int v, Ext[] point, int degree) {
    int half = 1 << v;
    int nf = term.factors().size();
    boolean masks = v < Masking.MASKED_VARS;
    int chunks = Parallel.chunks(half);
    long[][] partial = new long[chunks][2 * (degree + 1)];
    Parallel.forRange(
        half,
        (c, from, to) -> {
          long[] acc = partial[c];
          long[] vals = new long[2 * nf];
          long[] diff = new long[2 * nf];
          Ext[] p = masks ? new Ext[term.vars()] : null;
          if (masks) {
            for (int j = v + 1; j < term.vars(); j++) {
              p[j] = point[j];
            }
          }
          for (int i = from; i < to; i++) {
            for (int f = 0; f < nf; f++) {
              long[] tb = term.factors().get(f).table();
              vals[2 * f] = tb[2 * i];
              vals[2 * f + 1] = tb[2 * i + 1];
              diff[2 * f] = Goldilocks.sub(tb[2 * (i + half)], tb[2 * i]);
              diff[2 * f + 1] = Goldilocks.sub(tb[2 * (i + half) + 1], tb[2 * i + 1]);
            }
            if (masks) {
              for (int j = 0; j < v; j++) {
                p[j] = Ext.of((i >>> j) & 1);
              }
            }
            for (int x = 0; x <= degree; x++) {
              if (x > 0) {
                for (int k = 0; k < 2 * nf; k++) {
                  vals[k] = Goldilocks.add(vals[k], diff[k]);
                }
              }
              if (x == 1) {
                continue;
              }
              long p0 = 1;
              long p1 = 0;
              if (masks) {
                p[v] = Ext.of(x);
              }
              for (int f = 0; f < nf; f++) {
                long f0 = vals[2 * f];
                long f1 = vals[2 * f + 1];
                MaskFunction m = term.factors().get(f).mask();
                if (masks && m != null) {
                  Ext mv = m.at(p);
                  f0 = Goldilocks.add(f0, mv.c0());
                  f1 = Goldilocks.add(f1, mv.c1());
                }
                long n0 = Ext.mulC0(p0, p1, f0, f1);
                p1 = Ext.mulC1(p0, p1, f0, f1);
                p0 = n0;
              }
              acc[2 * x] = Goldilocks.add(acc[2 * x], p0);
              acc[2 * x + 1] = Goldilocks.add(acc[2 * x + 1], p1);
            }
          }
        });
    Ext[] out = new Ext[degree + 1];
    for (int x = 0; x <= degree; x++) {
      long s0 = 0;
      long s1 = 0;
      for (long[] part : partial) {
        s0 = Goldilocks.add(s0, part[2 * x]);
        s1 = Goldilocks.add(s1, part[2 * x + 1]);
      }
      out[x] = new Ext(s0, s1);
    }
    return out;
  }

  /**
   * Verifies the rounds for the claim, returning the point, the value F(rho) + mu g(rho) must take,
   * and mu.
   */
  public static Reduction verify(VerifierChannel ch, Ext claim, int n, int degree) throws VerificationException {
    Ext gSum = ch.receive();
    Ext mu = ch.challenge("zk-sumcheck-mask");
    Ext current = claim.add(mu.mul(gSum));
    Ext[] point = new Ext[n];
    Ext[] values = new Ext[degree + 1];
    for (int v = n - 1; v >= 0; v--) {
      Ext[] msg = ch.receive(degree);
      values[0] = msg[0];
      values[1] = current.sub(msg[0]);
      for (int x = 2; x <= degree; x++) {
        values[x] = msg[x - 1];
      }
      Ext r = ch.challenge("sumcheck");
      point[v] = r;
      current = SumCheck.interpolate(values, r);
    }
    return new Reduction(point, current, mu);
  }

  /** The value of a term at the final point, given each factor's full (masked) value there. */
  public static Ext termValue(Ext coefficient, int n, int vars, Ext... factorValues) {
    Ext v = coefficient.mul(Goldilocks.inverse(pow2(n - vars) % Goldilocks.P));
    for (Ext f : factorValues) {
      v = v.mul(f);
    }
    return v;
  }
}

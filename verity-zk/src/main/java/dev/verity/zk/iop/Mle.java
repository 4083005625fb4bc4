package dev.verity.zk.iop;

import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;

/**
 * Multilinear extensions of vectors. A vector v of length 2^n is the table of a unique multilinear
 * polynomial v~ in n variables with v~(b) = v[b] for every bit vector b, where bit j of the index
 * is variable j (variable 0 is the least significant bit). A vector shorter than 2^n is padded with
 * zeros. Extension-field vectors are interleaved {@code long[]}s (element i at 2i, 2i+1).
 */
public final class Mle {
  private Mle() {}

  /** The table of eq(point, b) = prod_j (b_j ? r_j : 1 - r_j) over all b, interleaved. */
  public static long[] eqTable(Ext[] point) {
    return eqTable(point, Ext.ONE);
  }

  /** scale * eq(point, b) for all b, interleaved. */
  public static long[] eqTable(Ext[] point, Ext scale) {
    int n = point.length;
    long[] t = new long[2 << n];
    t[0] = scale.c0();
    t[1] = scale.c1();
    int size = 1;
    for (int j = 0; j < n; j++) {
      long r0 = point[j].c0();
      long r1 = point[j].c1();
      for (int i = size - 1; i >= 0; i--) {
        long a0 = t[2 * i];
        long a1 = t[2 * i + 1];
        long h0 = Ext.mulC0(a0, a1, r0, r1);
        long h1 = Ext.mulC1(a0, a1, r0, r1);
        t[2 * (i + size)] = h0;
        t[2 * (i + size) + 1] = h1;
        t[2 * i] = Goldilocks.sub(a0, h0);
        t[2 * i + 1] = Goldilocks.sub(a1, h1);
      }
      size <<= 1;
    }
    return t;
  }

  /** eq(a, b) = prod_j (a_j b_j + (1 - a_j)(1 - b_j)) for two points of equal length. */
  public static Ext eq(Ext[] a, Ext[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("points of different dimension");
    }
    Ext acc = Ext.ONE;
    for (int j = 0; j < a.length; j++) {
      Ext ab = a[j].mul(b[j]);
      acc = acc.mul(ab.add(ab).sub(a[j]).sub(b[j]).add(Ext.ONE));
    }
    return acc;
  }

  /** eq(point, bits of index) for one boolean index. */
  public static Ext eqAt(Ext[] point, long index) {
    Ext acc = Ext.ONE;
    for (int j = 0; j < point.length; j++) {
      acc = acc.mul(((index >>> j) & 1) == 1 ? point[j] : Ext.ONE.sub(point[j]));
    }
    return acc;
  }

  /** The MLE of a base-field vector (length at most 2^n, zero padded) at a point of n coordinates. */
  public static Ext evaluate(long[] values, Ext[] point) {
    return evaluate(values, 0, values.length, point);
  }

  /** The MLE of values[from .. from+length) at point. */
  public static Ext evaluate(long[] values, int from, int length, Ext[] point) {
    int n = point.length;
    if (length > (1L << n)) {
      throw new IllegalArgumentException("vector of length " + length + " has more than 2^" + n + " entries");
    }
    if (n == 0) {
      return length == 0 ? Ext.ZERO : Ext.of(values[from]);
    }
    // fold the top variable first, turning the base vector into an extension vector of half size
    int half = 1 << (n - 1);
    Ext r = point[n - 1];
    long[] t = new long[2 * half];
    for (int i = 0; i < half; i++) {
      long lo = i < length ? values[from + i] : 0;
      long hi = i + half < length ? values[from + i + half] : 0;
      long d = Goldilocks.sub(hi, lo);
      t[2 * i] = Goldilocks.add(lo, Goldilocks.mul(d, r.c0()));
      t[2 * i + 1] = Goldilocks.mul(d, r.c1());
    }
    return foldAll(t, half, point, n - 1);
  }

  /** The MLE of an interleaved extension vector of 2^n elements at point. */
  public static Ext evaluateExt(long[] interleaved, Ext[] point) {
    int n = point.length;
    if (interleaved.length != 2L << n) {
      throw new IllegalArgumentException("vector length does not match the point's dimension");
    }
    return foldAll(interleaved.clone(), 1 << n, point, n);
  }

  private static Ext foldAll(long[] t, int size, Ext[] point, int vars) {
    for (int j = vars - 1; j >= 0; j--) {
      int half = size >> 1;
      fold(t, half, point[j]);
      size = half;
    }
    return new Ext(t[0], t[1]);
  }

  /**
   * Binds the top variable of an interleaved table of 2*half elements to r, in place: t[i] becomes
   * t[i] + r (t[i + half] - t[i]) for i below half.
   */
  public static void fold(long[] t, int half, Ext r) {
    long r0 = r.c0();
    long r1 = r.c1();
    Parallel.forRange(
        half,
        (c, from, to) -> {
          for (int i = from; i < to; i++) {
            long a0 = t[2 * i];
            long a1 = t[2 * i + 1];
            long d0 = Goldilocks.sub(t[2 * (i + half)], a0);
            long d1 = Goldilocks.sub(t[2 * (i + half) + 1], a1);
            t[2 * i] = Goldilocks.add(a0, Ext.mulC0(d0, d1, r0, r1));
            t[2 * i + 1] = Goldilocks.add(a1, Ext.mulC1(d0, d1, r0, r1));
          }
        });
  }

  /** Lifts a base vector into an interleaved extension vector of the given element count. */
  public static long[] lift(long[] values, int count) {
    long[] t = new long[2 * count];
    int n = Math.min(values.length, count);
    for (int i = 0; i < n; i++) {
      t[2 * i] = values[i];
    }
    return t;
  }
}

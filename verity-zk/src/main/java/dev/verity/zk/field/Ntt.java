package dev.verity.zk.field;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Number-theoretic transform over the Goldilocks field: evaluates a polynomial given by its
 * coefficients on the multiplicative subgroup of order n = 2^k (n up to 2^24). Used to encode rows
 * with a Reed-Solomon code. Twiddle tables are computed once per size and shared (read-only).
 */
public final class Ntt {
  /** Largest supported transform. */
  public static final int MAX_LOG_SIZE = 24;

  private static final ConcurrentHashMap<Integer, long[]> TWIDDLES = new ConcurrentHashMap<>();

  private Ntt() {}

  /**
   * Replaces {@code a[offset .. offset+n)}, the coefficients c_0..c_{n-1}, by the evaluations
   * c(w^0), c(w^1), ..., c(w^{n-1}) where w = {@link Goldilocks#rootOfUnity}(log2 n).
   */
  public static void forward(long[] a, int offset, int n) {
    int logN = log2Exact(n);
    if (n == 1) {
      return;
    }
    bitReverse(a, offset, n, logN);
    long[] tw = twiddles(logN);
    // tw holds, for each stage half-size h, the powers w_{2h}^j at tw[h + j]
    for (int half = 1; half < n; half <<= 1) {
      for (int start = 0; start < n; start += 2 * half) {
        int base = offset + start;
        for (int j = 0; j < half; j++) {
          long u = a[base + j];
          long v = Goldilocks.mul(a[base + j + half], tw[half + j]);
          a[base + j] = Goldilocks.add(u, v);
          a[base + j + half] = Goldilocks.sub(u, v);
        }
      }
    }
  }

  /** Evaluates on all of a (length a power of two). */
  public static void forward(long[] a) {
    forward(a, 0, a.length);
  }

  private static void bitReverse(long[] a, int offset, int n, int logN) {
    int shift = 32 - logN;
    for (int i = 0; i < n; i++) {
      int j = Integer.reverse(i) >>> shift;
      if (j > i) {
        long t = a[offset + i];
        a[offset + i] = a[offset + j];
        a[offset + j] = t;
      }
    }
  }

  private static long[] twiddles(int logN) {
    return TWIDDLES.computeIfAbsent(
        logN,
        k -> {
          int n = 1 << k;
          long[] tw = new long[n];
          for (int half = 1; half < n; half <<= 1) {
            long w = Goldilocks.rootOfUnity(Integer.numberOfTrailingZeros(2 * half));
            long x = 1;
            for (int j = 0; j < half; j++) {
              tw[half + j] = x;
              x = Goldilocks.mul(x, w);
            }
          }
          return tw;
        });
  }

  /** log2 of a power of two within the supported range. */
  public static int log2Exact(int n) {
    if (n <= 0 || Integer.bitCount(n) != 1 || n > (1 << MAX_LOG_SIZE)) {
      throw new IllegalArgumentException("transform size must be a power of two up to 2^" + MAX_LOG_SIZE + ", got " + n);
    }
    return Integer.numberOfTrailingZeros(n);
  }
}

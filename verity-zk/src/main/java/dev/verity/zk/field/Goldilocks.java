package dev.verity.zk.field;

/**
 * Arithmetic in the Goldilocks prime field F_p, p = 2^64 - 2^32 + 1, on plain {@code long}s.
 *
 * <p>An element is a {@code long} holding its canonical representative in [0, p), read as an
 * unsigned 64-bit integer. Every method takes canonical inputs and returns canonical outputs. The
 * shape of p makes reduction of a 128-bit product cheap: 2^64 = 2^32 - 1 and 2^96 = -1 (mod p), so
 * no division and no {@code BigInteger} is needed. The multiplicative group has order divisible by
 * 2^32, which gives the power-of-two roots of unity that {@link Ntt} uses.
 */
public final class Goldilocks {
  /** The modulus 2^64 - 2^32 + 1, as an unsigned value. */
  public static final long P = 0xFFFF_FFFF_0000_0001L;

  /** 2^64 mod p = 2^32 - 1. */
  static final long EPSILON = 0xFFFF_FFFFL;

  /** A generator of the multiplicative group of F_p. */
  public static final long GENERATOR = 7;

  /** The largest k with 2^k dividing p - 1. */
  public static final int TWO_ADICITY = 32;

  private Goldilocks() {}

  /** True when {@code x} is a canonical element, that is an unsigned value below p. */
  public static boolean isCanonical(long x) {
    return Long.compareUnsigned(x, P) < 0;
  }

  public static long add(long a, long b) {
    long s = a + b;
    if (Long.compareUnsigned(s, a) < 0) {
      // wrapped past 2^64; 2^64 = EPSILON (mod p) and the result is below p
      return s + EPSILON;
    }
    return Long.compareUnsigned(s, P) >= 0 ? s - P : s;
  }

  public static long sub(long a, long b) {
    long d = a - b;
    if (Long.compareUnsigned(a, b) < 0) {
      d -= EPSILON;
    }
    return d;
  }

  public static long neg(long a) {
    return a == 0 ? 0 : P - a;
  }

  public static long mul(long a, long b) {
    return reduce128(Math.unsignedMultiplyHigh(a, b), a * b);
  }

  public static long square(long a) {
    return mul(a, a);
  }

  /** Reduces hi * 2^64 + lo modulo p. */
  public static long reduce128(long hi, long lo) {
    long hiHi = hi >>> 32;
    long hiLo = hi & EPSILON;
    long t0 = lo - hiHi;
    if (Long.compareUnsigned(lo, hiHi) < 0) {
      t0 -= EPSILON;
    }
    long t1 = hiLo * EPSILON;
    long r = t0 + t1;
    if (Long.compareUnsigned(r, t1) < 0) {
      r += EPSILON;
    }
    return Long.compareUnsigned(r, P) >= 0 ? r - P : r;
  }

  /** The field element of a signed integer; every {@code long} has absolute value below p. */
  public static long fromLong(long v) {
    return v < 0 ? v + P : v;
  }

  /** Reduces an arbitrary unsigned 64-bit value. */
  public static long fromUnsigned(long v) {
    return Long.compareUnsigned(v, P) >= 0 ? v - P : v;
  }

  /**
   * The signed integer this element represents when read in (-p/2, p/2): the inverse of {@link
   * #fromLong} for small values.
   */
  public static long toSigned(long x) {
    return Long.compareUnsigned(x, P >>> 1) > 0 ? x - P : x;
  }

  public static long pow(long base, long exponent) {
    long result = 1;
    long b = base;
    long e = exponent;
    while (e != 0) {
      if ((e & 1) != 0) {
        result = mul(result, b);
      }
      b = mul(b, b);
      e >>>= 1;
    }
    return result;
  }

  /** The multiplicative inverse; throws {@link ArithmeticException} for zero. */
  public static long inverse(long a) {
    if (a == 0) {
      throw new ArithmeticException("zero has no inverse in F_p");
    }
    return pow(a, P - 2);
  }

  /** An element of multiplicative order exactly 2^logOrder, for 0 <= logOrder <= 32. */
  public static long rootOfUnity(int logOrder) {
    if (logOrder < 0 || logOrder > TWO_ADICITY) {
      throw new IllegalArgumentException("F_p has roots of unity of order 2^0 .. 2^32, not 2^" + logOrder);
    }
    long root = pow(GENERATOR, (P - 1) >>> TWO_ADICITY);
    for (int i = TWO_ADICITY; i > logOrder; i--) {
      root = mul(root, root);
    }
    return root;
  }
}

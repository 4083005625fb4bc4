package dev.verity.zk.field;

/**
 * An element of the quadratic extension F_{p^2} = F_p[u] / (u^2 - 7) of the Goldilocks field, of
 * size about 2^128. 7 is not a square modulo p, so u^2 - 7 is irreducible. All verifier
 * challenges live here: the soundness error of each random check is its degree over 2^128.
 *
 * <p>Instances are immutable values {@code c0 + c1 * u}. Hot loops avoid allocation and work on
 * interleaved {@code long[]} arrays (element i at indices 2i and 2i+1) with the static
 * helpers {@link #mulC0} and {@link #mulC1}.
 */
public record Ext(long c0, long c1) {
  /** The non-residue whose square root is adjoined. */
  public static final long W = 7;

  public static final Ext ZERO = new Ext(0, 0);
  public static final Ext ONE = new Ext(1, 0);

  public Ext {
    if (!Goldilocks.isCanonical(c0) || !Goldilocks.isCanonical(c1)) {
      throw new IllegalArgumentException("extension coordinates must be canonical field elements");
    }
  }

  /** The base-field element {@code a} seen in the extension. */
  public static Ext of(long a) {
    return new Ext(a, 0);
  }

  /** The element of a small signed integer. */
  public static Ext ofLong(long v) {
    return new Ext(Goldilocks.fromLong(v), 0);
  }

  public boolean isZero() {
    return c0 == 0 && c1 == 0;
  }

  public Ext add(Ext o) {
    return new Ext(Goldilocks.add(c0, o.c0), Goldilocks.add(c1, o.c1));
  }

  public Ext sub(Ext o) {
    return new Ext(Goldilocks.sub(c0, o.c0), Goldilocks.sub(c1, o.c1));
  }

  public Ext neg() {
    return new Ext(Goldilocks.neg(c0), Goldilocks.neg(c1));
  }

  public Ext mul(Ext o) {
    return new Ext(mulC0(c0, c1, o.c0, o.c1), mulC1(c0, c1, o.c0, o.c1));
  }

  /** Multiplies by a base-field element. */
  public Ext mul(long b) {
    return new Ext(Goldilocks.mul(c0, b), Goldilocks.mul(c1, b));
  }

  public Ext square() {
    return mul(this);
  }

  /** The inverse: (c0 - c1 u) / (c0^2 - 7 c1^2); throws {@link ArithmeticException} for zero. */
  public Ext inverse() {
    long norm = Goldilocks.sub(Goldilocks.square(c0), Goldilocks.mul(W, Goldilocks.square(c1)));
    long inv = Goldilocks.inverse(norm);
    return new Ext(Goldilocks.mul(c0, inv), Goldilocks.mul(Goldilocks.neg(c1), inv));
  }

  public Ext pow(long exponent) {
    Ext result = ONE;
    Ext b = this;
    long e = exponent;
    while (e != 0) {
      if ((e & 1) != 0) {
        result = result.mul(b);
      }
      b = b.square();
      e >>>= 1;
    }
    return result;
  }

  /** Real part of a product: a0 b0 + 7 a1 b1. */
  public static long mulC0(long a0, long a1, long b0, long b1) {
    return Goldilocks.add(Goldilocks.mul(a0, b0), Goldilocks.mul(W, Goldilocks.mul(a1, b1)));
  }

  /** u-part of a product: a0 b1 + a1 b0. */
  public static long mulC1(long a0, long a1, long b0, long b1) {
    return Goldilocks.add(Goldilocks.mul(a0, b1), Goldilocks.mul(a1, b0));
  }

  @Override
  public String toString() {
    return c1 == 0
        ? Long.toUnsignedString(c0)
        : Long.toUnsignedString(c0) + "+" + Long.toUnsignedString(c1) + "u";
  }
}

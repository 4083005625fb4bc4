package dev.verity.core.crypto;

import java.math.BigInteger;
import java.util.HexFormat;
import org.bouncycastle.math.ec.rfc7748.X25519Field;

/**
 * The edwards25519 group for {@link BatchVerifier}: point decoding with exactly the checks of the
 * single-signature verifier, and one multi-scalar multiplication (Straus' interleaved method over
 * width-5 non-adjacent forms) in extended twisted Edwards coordinates, on BouncyCastle's field
 * arithmetic modulo 2^255 - 19. Variable time: it handles only public data (keys, signatures,
 * messages, and the verifier's random weights, which are not secret once drawn).
 */
final class Ed25519Group {
  private Ed25519Group() {}

  /** The order of the prime-order subgroup, L = 2^252 + 27742317777372353535851937790883648493. */
  static final BigInteger L =
      BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));

  private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
  private static final int[] D = fieldConstant(
      BigInteger.valueOf(-121665).multiply(BigInteger.valueOf(121666).modInverse(P)).mod(P));
  private static final int[] D2 = fieldConstant(
      BigInteger.valueOf(-121665).multiply(BigInteger.valueOf(121666).modInverse(P)).shiftLeft(1).mod(P));

  /** Width of the non-adjacent forms: digits are odd, in (-16, 16); tables hold P, 3P, ..., 15P. */
  static final int WINDOW = 5;
  static final int TABLE_SIZE = 1 << (WINDOW - 2);
  /** Digits per scalar: scalars are below L < 2^253, so a 256-digit form always suffices. */
  static final int DIGITS = 256;

  /** The base point's table of odd multiples, built once. */
  static final Cached[] BASE_TABLE;

  static {
    int[][] b = decode(HexFormat.of().parseHex(
        "5866666666666666666666666666666666666666666666666666666666666666"));
    BASE_TABLE = oddMultiples(b[0], b[1]);
  }

  private static int[] fieldConstant(BigInteger v) {
    byte[] be = v.toByteArray();
    byte[] le = new byte[32];
    for (int i = 0; i < 32 && i < be.length; i++) {
      le[i] = be[be.length - 1 - i];
    }
    int[] z = X25519Field.create();
    X25519Field.decode(le, 0, z);
    return z;
  }

  /**
   * Decodes a point as RFC 8032 section 5.1.3 does, and as BouncyCastle's verifier does for R: the
   * 255-bit y must be below p, x must exist, and x = 0 must not come with the sign bit set.
   *
   * @return {x, y} in affine coordinates, or null if the bytes encode no point
   */
  static int[][] decode(byte[] enc) {
    return decode(enc, 0);
  }

  static int[][] decode(byte[] enc, int off) {
    if (!canonicalY(enc, off)) {
      return null;
    }
    byte[] yBytes = new byte[32];
    System.arraycopy(enc, off, yBytes, 0, 32);
    int sign = (yBytes[31] & 0x80) >>> 7;
    yBytes[31] &= 0x7f;
    int[] y = X25519Field.create();
    X25519Field.decode(yBytes, 0, y);
    int[] u = X25519Field.create();
    int[] v = X25519Field.create();
    X25519Field.sqr(y, u);
    X25519Field.mul(D, u, v);
    X25519Field.subOne(u);
    X25519Field.addOne(v);
    int[] x = X25519Field.create();
    if (!X25519Field.sqrtRatioVar(u, v, x)) {
      return null;
    }
    X25519Field.normalize(x);
    if (sign == 1 && X25519Field.isZeroVar(x)) {
      return null;
    }
    if ((x[0] & 1) != sign) {
      X25519Field.negate(x, x);
      X25519Field.normalize(x);
    }
    X25519Field.normalize(y);
    return new int[][] {x, y};
  }

  /** Whether the low 255 bits, little-endian, are below p = 2^255 - 19. */
  private static boolean canonicalY(byte[] enc, int off) {
    if ((enc[off + 31] & 0x7f) != 0x7f) {
      return true;
    }
    for (int i = 30; i >= 1; i--) {
      if ((enc[off + i] & 0xff) != 0xff) {
        return true;
      }
    }
    return (enc[off] & 0xff) < 0xed;
  }

  /** A point prepared for addition: (Y + X, Y - X, 2d·T, 2Z), limbs carried. */
  static final class Cached {
    final int[] ypx = X25519Field.create();
    final int[] ymx = X25519Field.create();
    final int[] t2d = X25519Field.create();
    final int[] z2 = X25519Field.create();
  }

  /** An accumulator in extended coordinates (X, Y, Z, T) with T = U·V kept factored. */
  static final class Accumulator {
    final int[] x = X25519Field.create();
    final int[] y = X25519Field.create();
    final int[] z = X25519Field.create();
    final int[] u = X25519Field.create();
    final int[] v = X25519Field.create();
    private final int[] c = X25519Field.create();

    void setNeutral() {
      X25519Field.zero(x);
      X25519Field.one(y);
      X25519Field.one(z);
      X25519Field.zero(u);
      X25519Field.one(v);
    }

    void setAffine(int[] ax, int[] ay) {
      X25519Field.copy(ax, 0, x, 0);
      X25519Field.copy(ay, 0, y, 0);
      X25519Field.one(z);
      X25519Field.copy(ax, 0, u, 0);
      X25519Field.copy(ay, 0, v, 0);
    }

    /** this = 2·this (formulas of Hisil, Wong, Carter and Dawson for a = -1). */
    void doubleInPlace() {
      int[] a = x;
      int[] b = y;
      int[] cc = z;
      int[] f = a;
      int[] g = b;
      int[] e = u;
      int[] h = v;
      X25519Field.add(x, y, e);
      X25519Field.sqr(x, a);
      X25519Field.sqr(y, b);
      X25519Field.sqr(z, cc);
      X25519Field.add(cc, cc, cc);
      X25519Field.apm(a, b, h, g);
      X25519Field.sqr(e, e);
      X25519Field.sub(h, e, e);
      X25519Field.add(cc, g, f);
      X25519Field.carry(f);
      X25519Field.mul(f, g, z);
      X25519Field.mul(f, e, x);
      X25519Field.mul(g, h, y);
    }

    /** this = this + q, or this - q when {@code negate}. */
    void add(Cached q, boolean negate) {
      int[] a = x;
      int[] b = y;
      int[] d = z;
      int[] e = u;
      int[] h = v;
      X25519Field.mul(u, v, c);
      X25519Field.apm(y, x, b, a);
      X25519Field.mul(a, negate ? q.ypx : q.ymx, a);
      X25519Field.mul(b, negate ? q.ymx : q.ypx, b);
      X25519Field.mul(c, q.t2d, c);
      X25519Field.mul(z, q.z2, d);
      X25519Field.apm(b, a, h, e);
      int[] f = a;
      int[] g = b;
      if (negate) {
        X25519Field.apm(d, c, f, g);
      } else {
        X25519Field.apm(d, c, g, f);
      }
      X25519Field.mul(f, g, z);
      X25519Field.mul(f, e, x);
      X25519Field.mul(g, h, y);
    }

    void toCached(Cached r) {
      X25519Field.apm(y, x, r.ypx, r.ymx);
      X25519Field.carry(r.ypx);
      X25519Field.carry(r.ymx);
      X25519Field.mul(u, v, r.t2d);
      X25519Field.mul(r.t2d, D2, r.t2d);
      X25519Field.add(z, z, r.z2);
      X25519Field.carry(r.z2);
    }

    /** Whether this is the neutral element: X = 0 and Y = Z != 0. */
    boolean isNeutral() {
      X25519Field.normalize(x);
      X25519Field.normalize(y);
      X25519Field.normalize(z);
      return X25519Field.isZeroVar(x) && !X25519Field.isZeroVar(y) && X25519Field.areEqualVar(y, z);
    }
  }

  /** P, 3P, 5P, ..., 15P for the affine point (x, y). */
  static Cached[] oddMultiples(int[] x, int[] y) {
    Cached[] table = new Cached[TABLE_SIZE];
    Accumulator acc = new Accumulator();
    acc.setAffine(x, y);
    Cached twice = new Cached();
    Accumulator d = new Accumulator();
    d.setAffine(x, y);
    d.doubleInPlace();
    d.toCached(twice);
    for (int i = 0; i < TABLE_SIZE; i++) {
      if (i > 0) {
        acc.add(twice, false);
      }
      table[i] = new Cached();
      acc.toCached(table[i]);
    }
    return table;
  }

  /**
   * The width-{@link #WINDOW} non-adjacent form of a scalar in [0, 2^253): digit i is 0 or odd with
   * |digit| < 2^(WINDOW-1), and sum of digit_i·2^i is the scalar.
   */
  static byte[] nonAdjacentForm(BigInteger k) {
    long[] w = new long[5];
    byte[] be = k.toByteArray();
    for (int i = 0; i < be.length && i < 33; i++) {
      int b = be[be.length - 1 - i] & 0xff;
      if (i < 32) {
        w[i >>> 3] |= ((long) b) << ((i & 7) * 8);
      }
    }
    byte[] naf = new byte[DIGITS];
    int width = 1 << WINDOW;
    long mask = width - 1;
    int carry = 0;
    int pos = 0;
    while (pos < DIGITS) {
      int idx = pos >>> 6;
      int bit = pos & 63;
      long buf = bit < 64 - WINDOW ? w[idx] >>> bit : (w[idx] >>> bit) | (w[idx + 1] << (64 - bit));
      long window = carry + (buf & mask);
      if ((window & 1) == 0) {
        pos += 1;
        continue;
      }
      if (window < width / 2) {
        carry = 0;
        naf[pos] = (byte) window;
      } else {
        carry = 1;
        naf[pos] = (byte) (window - width);
      }
      pos += WINDOW;
    }
    return naf;
  }

  /**
   * Whether [8]·(sum of digits_j·P_j) is the neutral element, where each term is the table of odd
   * multiples of P_j, its non-adjacent form, and whether to subtract it. Straus' method: one shared
   * run of doublings, one table lookup and addition per non-zero digit.
   */
  static boolean isNeutralTimesCofactor(Cached[][] tables, byte[][] digits, boolean[] negate, int count) {
    int top = DIGITS - 1;
    outer:
    for (; top >= 0; top--) {
      for (int j = 0; j < count; j++) {
        if (digits[j][top] != 0) {
          break outer;
        }
      }
    }
    Accumulator acc = new Accumulator();
    acc.setNeutral();
    for (int i = top; i >= 0; i--) {
      acc.doubleInPlace();
      for (int j = 0; j < count; j++) {
        int digit = digits[j][i];
        if (digit > 0) {
          acc.add(tables[j][digit >>> 1], negate[j]);
        } else if (digit < 0) {
          acc.add(tables[j][(-digit) >>> 1], !negate[j]);
        }
      }
    }
    acc.doubleInPlace();
    acc.doubleInPlace();
    acc.doubleInPlace();
    return acc.isNeutral();
  }
}

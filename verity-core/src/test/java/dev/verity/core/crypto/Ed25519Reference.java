package dev.verity.core.crypto;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * Edwards25519 arithmetic over BigInteger, straight from RFC 8032's formulas: slow and obviously
 * right, for building the crafted points and signatures the Ed25519 tests feed to the real code.
 * Points are {x, y} in affine coordinates.
 */
final class Ed25519Reference {
  static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
  static final BigInteger L =
      BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));
  static final BigInteger D = BigInteger.valueOf(-121665)
      .multiply(BigInteger.valueOf(121666).modInverse(P)).mod(P);

  private Ed25519Reference() {}

  /** The encodings of the eight small-order points: the identity, then orders 2, 4, 4, 8, 8, 8, 8. */
  static byte[][] smallOrder() {
    return Stream.of(
            "0100000000000000000000000000000000000000000000000000000000000000",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0000000000000000000000000000000000000000000000000000000000000080",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa")
        .map(HexFormat.of()::parseHex).toArray(byte[][]::new);
  }

  /** The base point B. */
  static BigInteger[] base() {
    BigInteger y = BigInteger.valueOf(4).multiply(BigInteger.valueOf(5).modInverse(P)).mod(P);
    return new BigInteger[] {xFor(y, 0), y};
  }

  /** The x with the given sign bit on the curve at {@code y}. */
  static BigInteger xFor(BigInteger y, int sign) {
    BigInteger y2 = y.multiply(y).mod(P);
    BigInteger x2 = y2.subtract(BigInteger.ONE)
        .multiply(D.multiply(y2).add(BigInteger.ONE).modInverse(P)).mod(P);
    BigInteger x = x2.modPow(P.add(BigInteger.valueOf(3)).shiftRight(3), P);
    if (!x.multiply(x).subtract(x2).mod(P).equals(BigInteger.ZERO)) {
      x = x.multiply(BigInteger.TWO.modPow(P.subtract(BigInteger.ONE).shiftRight(2), P)).mod(P);
    }
    return x.testBit(0) == (sign == 1) ? x : P.subtract(x).mod(P);
  }

  static BigInteger[] decode(byte[] e) {
    byte[] b = e.clone();
    int sign = (b[31] >> 7) & 1;
    b[31] &= 0x7f;
    BigInteger y = scalar(b, 0, 32);
    return new BigInteger[] {xFor(y, sign), y};
  }

  static byte[] encode(BigInteger[] pt) {
    byte[] out = le(pt[1]);
    if (pt[0].testBit(0)) {
      out[31] |= (byte) 0x80;
    }
    return out;
  }

  static BigInteger[] add(BigInteger[] p, BigInteger[] q) {
    BigInteger dxy = D.multiply(p[0]).multiply(q[0]).multiply(p[1]).multiply(q[1]).mod(P);
    BigInteger x = p[0].multiply(q[1]).add(p[1].multiply(q[0]))
        .multiply(BigInteger.ONE.add(dxy).modInverse(P)).mod(P);
    BigInteger y = p[1].multiply(q[1]).add(p[0].multiply(q[0]))
        .multiply(BigInteger.ONE.subtract(dxy).mod(P).modInverse(P)).mod(P);
    return new BigInteger[] {x, y};
  }

  static BigInteger[] mul(BigInteger k, BigInteger[] pt) {
    BigInteger[] acc = {BigInteger.ZERO, BigInteger.ONE};
    for (int i = k.bitLength() - 1; i >= 0; i--) {
      acc = add(acc, acc);
      if (k.testBit(i)) {
        acc = add(acc, pt);
      }
    }
    return acc;
  }

  /** The little-endian integer in 32 bytes of {@code b} from {@code offset}. */
  static BigInteger scalar(byte[] b, int offset) {
    return scalar(b, offset, 32);
  }

  static BigInteger scalar(byte[] b, int offset, int len) {
    byte[] be = new byte[len];
    for (int i = 0; i < len; i++) {
      be[len - 1 - i] = b[offset + i];
    }
    return new BigInteger(1, be);
  }

  /** {@code n} as 32 little-endian bytes. */
  static byte[] le(BigInteger n) {
    byte[] be = n.toByteArray();
    byte[] out = new byte[32];
    for (int i = 0; i < 32 && i < be.length; i++) {
      out[i] = be[be.length - 1 - i];
    }
    return out;
  }

  static byte[] sha512(byte[]... parts) throws NoSuchAlgorithmException {
    MessageDigest d = MessageDigest.getInstance("SHA-512");
    for (byte[] p : parts) {
      d.update(p);
    }
    return d.digest();
  }
}

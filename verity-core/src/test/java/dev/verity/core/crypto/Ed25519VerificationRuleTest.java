package dev.verity.core.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.VerificationException;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * The verification rule of {@link PublicKey#verify} (BouncyCastle, the cofactored equation
 * [8][S]B = [8]R + [8][k]A with S &lt; L and canonical encodings; PROTOCOL.md 2.2) against the
 * JDK's provider (the cofactorless [S]B = R + [k]A). They agree on every honest signature and every
 * alteration of one: bit flips, S + L, small-order or non-canonical R. The one difference is pinned
 * here: a signature whose R or key carries a small-order component, which only the holder of the
 * private key can make, is accepted by the cofactored rule and refused by the cofactorless one.
 * Everything the JDK accepts, Verity accepts.
 */
class Ed25519VerificationRuleTest {
  private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
  private static final BigInteger L =
      BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));
  private static final BigInteger D = BigInteger.valueOf(-121665)
      .multiply(BigInteger.valueOf(121666).modInverse(P)).mod(P);

  private static void assertSameVerdict(PublicKey key, byte[] message, byte[] sig, String what) {
    boolean jdk = verifiesWithJdk(key, message, sig);
    boolean ours;
    try {
      key.verify(message, sig);
      ours = true;
    } catch (VerificationException e) {
      ours = false;
    }
    assertEquals(jdk, ours, what + ": the JDK says " + jdk);
  }

  @Property(tries = 60)
  void bothAcceptValidSignaturesAndRejectAlteredOnes(
      @ForAll @Size(32) byte[] seed, @ForAll @Size(max = 200) byte[] message,
      @ForAll @IntRange(min = 0, max = 511) int bit) throws VerificationException {
    Signer s = Signer.fromSeed(seed);
    byte[] sig = s.sign(message);
    s.publicKey().verify(message, sig);
    assertSameVerdict(s.publicKey(), message, sig, "valid");
    byte[] flipped = sig.clone();
    flipped[bit / 8] ^= (byte) (1 << (bit % 8));
    assertSameVerdict(s.publicKey(), message, flipped, "bit " + bit + " flipped");
    byte[] other = Arrays.copyOf(message, message.length + 1);
    assertSameVerdict(s.publicKey(), other, sig, "other message");
  }

  @Test
  void bothRejectSPlusLAndSmallOrderR() {
    Signer s = Signer.fromSeed(new byte[32]);
    byte[] message = "verity".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] sig = s.sign(message);
    byte[] malleated = sig.clone();
    System.arraycopy(le(scalar(sig, 32).add(L)), 0, malleated, 32, 32);
    assertSameVerdict(s.publicKey(), message, malleated, "S + L");
    assertThrows(VerificationException.class, () -> s.publicKey().verify(message, malleated));
    for (byte[] r : smallOrderEncodings()) {
      byte[] forged = new byte[64];
      System.arraycopy(r, 0, forged, 0, 32);
      assertSameVerdict(s.publicKey(), message, forged, "small-order R, S = 0");
      byte[] withS = sig.clone();
      System.arraycopy(r, 0, withS, 0, 32);
      assertSameVerdict(s.publicKey(), message, withS, "small-order R, real S");
    }
  }

  private static boolean ours(PublicKey key, byte[] message, byte[] sig) {
    try {
      key.verify(message, sig);
      return true;
    } catch (VerificationException e) {
      return false;
    }
  }

  /**
   * A key with a torsion component (A = aB + T, T of order 8) and signatures its holder makes under
   * it: the cofactorless equation holds only when 8 divides k, the cofactored one always.
   */
  @Test
  void keysWithATorsionComponentFollowTheCofactoredEquation() throws NoSuchAlgorithmException {
    BigInteger[] t = decode(smallOrderEncodings()[4]); // a point of order 8
    BigInteger a = BigInteger.valueOf(123_456_789);
    BigInteger[] pub = add(mul(a, base()), t);
    byte[] pubBytes = encode(pub);
    PublicKey key = PublicKey.fromBytes(pubBytes);
    int accepted = 0;
    int rejected = 0;
    for (int i = 0; i < 24; i++) {
      byte[] message = {(byte) i};
      BigInteger r = BigInteger.valueOf(1_000 + i);
      byte[] rBytes = encode(mul(r, base()));
      BigInteger k = scalar(sha512(rBytes, pubBytes, message), 0, 64).mod(L);
      byte[] sig = new byte[64];
      System.arraycopy(rBytes, 0, sig, 0, 32);
      System.arraycopy(le(r.add(k.multiply(a)).mod(L)), 0, sig, 32, 32);
      boolean cofactorless = k.mod(BigInteger.valueOf(8)).signum() == 0;
      assertEquals(cofactorless, verifiesWithJdk(key, message, sig), "the JDK checks [S]B = R + [k]A");
      assertTrue(ours(key, message, sig), "Verity checks [8][S]B = [8]R + [8][k]A");
      if (cofactorless) {
        accepted++;
      } else {
        rejected++;
      }
    }
    assertTrue(rejected > 0 && accepted + rejected == 24, "some k are not multiples of 8, so the equations differ on this key");
  }

  /** R = rB + T with T of small order, S = r + ka: made by the key holder; cofactored accepts it. */
  @Test
  void anRWithASmallOrderComponentFollowsTheCofactoredEquation() throws NoSuchAlgorithmException {
    BigInteger a = BigInteger.valueOf(987_654_321);
    byte[] pubBytes = encode(mul(a, base()));
    PublicKey key = PublicKey.fromBytes(pubBytes);
    byte[][] torsion = smallOrderEncodings();
    for (int ti = 0; ti < torsion.length; ti++) {
      BigInteger[] t = decode(torsion[ti]);
      boolean identity = ti == 0;
      for (int i = 0; i < 4; i++) {
        byte[] message = {(byte) i};
        BigInteger r = BigInteger.valueOf(77 + i);
        byte[] rBytes = encode(add(mul(r, base()), t));
        BigInteger k = scalar(sha512(rBytes, pubBytes, message), 0, 64).mod(L);
        byte[] sig = new byte[64];
        System.arraycopy(rBytes, 0, sig, 0, 32);
        System.arraycopy(le(r.add(k.multiply(a)).mod(L)), 0, sig, 32, 32);
        assertEquals(identity, verifiesWithJdk(key, message, sig), "JDK, torsion point " + ti);
        assertTrue(ours(key, message, sig), "Verity, torsion point " + ti);
      }
    }
  }

  /** R = the identity: canonical, both accept (S = ka); non-canonical (y = p + 1), both refuse. */
  @Test
  void bothTreatAnIdentityRAlike() throws NoSuchAlgorithmException {
    BigInteger a = BigInteger.valueOf(55_555);
    byte[] pubBytes = encode(mul(a, base()));
    PublicKey key = PublicKey.fromBytes(pubBytes);
    for (String rHex : new String[] {"0100000000000000000000000000000000000000000000000000000000000000",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"}) {
      byte[] rBytes = java.util.HexFormat.of().parseHex(rHex);
      byte[] message = {42};
      BigInteger k = scalar(sha512(rBytes, pubBytes, message), 0, 64).mod(L);
      byte[] sig = new byte[64];
      System.arraycopy(rBytes, 0, sig, 0, 32);
      System.arraycopy(le(k.multiply(a).mod(L)), 0, sig, 32, 32);
      assertSameVerdict(key, message, sig, "identity R " + rHex.substring(0, 4));
      assertEquals(rHex.startsWith("01"), ours(key, message, sig));
    }
  }

  // ---- a little Edwards arithmetic, for building test points ----

  private static byte[][] smallOrderEncodings() {
    return java.util.stream.Stream.of(
            "0100000000000000000000000000000000000000000000000000000000000000",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0000000000000000000000000000000000000000000000000000000000000080",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85")
        .map(java.util.HexFormat.of()::parseHex).toArray(byte[][]::new);
  }

  private static BigInteger[] base() {
    BigInteger y = BigInteger.valueOf(4).multiply(BigInteger.valueOf(5).modInverse(P)).mod(P);
    return new BigInteger[] {recoverX(y, 0), y};
  }

  private static BigInteger recoverX(BigInteger y, int sign) {
    BigInteger y2 = y.multiply(y).mod(P);
    BigInteger u = y2.subtract(BigInteger.ONE).mod(P);
    BigInteger v = D.multiply(y2).add(BigInteger.ONE).mod(P);
    BigInteger x2 = u.multiply(v.modInverse(P)).mod(P);
    BigInteger x = x2.modPow(P.add(BigInteger.valueOf(3)).shiftRight(3), P);
    if (!x.multiply(x).subtract(x2).mod(P).equals(BigInteger.ZERO)) {
      x = x.multiply(BigInteger.TWO.modPow(P.subtract(BigInteger.ONE).shiftRight(2), P)).mod(P);
    }
    if (x.testBit(0) != (sign == 1)) {
      x = P.subtract(x).mod(P);
    }
    return x;
  }

  private static BigInteger[] decode(byte[] e) {
    byte[] b = e.clone();
    int sign = (b[31] >> 7) & 1;
    b[31] &= 0x7f;
    return new BigInteger[] {recoverX(scalar(b, 0), sign), scalar(b, 0)};
  }

  private static byte[] encode(BigInteger[] pt) {
    byte[] out = le(pt[1]);
    if (pt[0].testBit(0)) {
      out[31] |= (byte) 0x80;
    }
    return out;
  }

  private static BigInteger[] add(BigInteger[] p1, BigInteger[] p2) {
    BigInteger x1y2 = p1[0].multiply(p2[1]);
    BigInteger y1x2 = p1[1].multiply(p2[0]);
    BigInteger dxy = D.multiply(p1[0]).multiply(p2[0]).multiply(p1[1]).multiply(p2[1]).mod(P);
    BigInteger x = x1y2.add(y1x2).multiply(BigInteger.ONE.add(dxy).modInverse(P)).mod(P);
    BigInteger y = p1[1].multiply(p2[1]).add(p1[0].multiply(p2[0]))
        .multiply(BigInteger.ONE.subtract(dxy).mod(P).modInverse(P)).mod(P);
    return new BigInteger[] {x, y};
  }

  private static BigInteger[] mul(BigInteger k, BigInteger[] pt) {
    BigInteger[] acc = {BigInteger.ZERO, BigInteger.ONE};
    for (int i = k.bitLength() - 1; i >= 0; i--) {
      acc = add(acc, acc);
      if (k.testBit(i)) {
        acc = add(acc, pt);
      }
    }
    return acc;
  }

  private static BigInteger scalar(byte[] b, int offset) {
    return scalar(b, offset, 32);
  }

  private static BigInteger scalar(byte[] b, int offset, int len) {
    byte[] be = new byte[len];
    for (int i = 0; i < len; i++) {
      be[len - 1 - i] = b[offset + i];
    }
    return new BigInteger(1, be);
  }

  private static byte[] le(BigInteger n) {
    byte[] be = n.toByteArray();
    byte[] out = new byte[32];
    for (int i = 0; i < 32 && i < be.length; i++) {
      out[i] = be[be.length - 1 - i];
    }
    return out;
  }

  private static byte[] sha512(byte[]... parts) throws NoSuchAlgorithmException {
    MessageDigest d = MessageDigest.getInstance("SHA-512");
    for (byte[] p : parts) {
      d.update(p);
    }
    return d.digest();
  }

  /** The JDK's own Ed25519 verification (cofactorless), as an independent reference. */
  private static boolean verifiesWithJdk(PublicKey key, byte[] message, byte[] signature) {
    try {
      byte[] der = new byte[44];
      System.arraycopy(java.util.HexFormat.of().parseHex("302a300506032b6570032100"), 0, der, 0, 12);
      System.arraycopy(key.toBytes(), 0, der, 12, 32);
      java.security.Signature s = java.security.Signature.getInstance("Ed25519");
      s.initVerify(java.security.KeyFactory.getInstance("Ed25519")
          .generatePublic(new java.security.spec.X509EncodedKeySpec(der)));
      s.update(message);
      return s.verify(signature);
    } catch (java.security.GeneralSecurityException e) {
      return false;
    }
  }
}

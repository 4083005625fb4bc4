package dev.verity.core.crypto;

import static dev.verity.core.crypto.Ed25519Reference.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.VerificationException;
import java.math.BigInteger;
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
    for (byte[] r : java.util.Arrays.copyOf(smallOrder(), 6)) {
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
    BigInteger[] t = decode(java.util.Arrays.copyOf(smallOrder(), 6)[4]); // a point of order 8
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
    byte[][] torsion = java.util.Arrays.copyOf(smallOrder(), 6);
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

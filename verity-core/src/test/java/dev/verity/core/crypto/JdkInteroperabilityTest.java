package dev.verity.core.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyFactory;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.HexFormat;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;

/**
 * Verity signs and verifies with BouncyCastle's RFC 8032 code; the JDK's own Ed25519 is an
 * independent implementation. Both must agree on every key, signature and verdict.
 */
class JdkInteroperabilityTest {
  private static final byte[] X509 = HexFormat.of().parseHex("302a300506032b6570032100");
  private static final byte[] PKCS8 = HexFormat.of().parseHex("302e020100300506032b657004220420");

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Property(tries = 60)
  void jdkAndVerityProduceAndAcceptTheSameSignatures(@ForAll @Size(32) byte[] seed, @ForAll @Size(max = 300) byte[] message)
      throws Exception {
    Signer signer = Signer.fromSeed(seed);
    KeyFactory kf = KeyFactory.getInstance("Ed25519");
    var jdkPrivate = kf.generatePrivate(new PKCS8EncodedKeySpec(concat(PKCS8, seed)));
    var jdkPublic = kf.generatePublic(new X509EncodedKeySpec(concat(X509, signer.publicKey().toBytes())));

    Signature jdkSign = Signature.getInstance("Ed25519");
    jdkSign.initSign(jdkPrivate);
    jdkSign.update(message);
    byte[] jdkSignature = jdkSign.sign();
    byte[] veritySignature = signer.sign(message);
    assertArrayEquals(jdkSignature, veritySignature, "Ed25519 signatures are deterministic");

    signer.publicKey().verify(message, jdkSignature);
    Signature jdkVerify = Signature.getInstance("Ed25519");
    jdkVerify.initVerify(jdkPublic);
    jdkVerify.update(message);
    assertTrue(jdkVerify.verify(veritySignature));
  }
}

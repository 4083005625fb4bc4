package dev.verity.core.crypto;

import dev.verity.core.Base32;
import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * An Ed25519 public key (RFC 8032): 32 bytes. Verifies signatures; derives an {@link Address}.
 *
 * <p>Keys are checked on creation by the JDK's Ed25519 provider (the encoding must be a curve
 * point) and against the eight points of small order. Signatures are verified with BouncyCastle's
 * RFC 8032 implementation, on the point decoded once per key, about eight times faster than the
 * JDK's provider. The rule (PROTOCOL.md 2.2): S &lt; L, canonical encodings of R and the key, and
 * the cofactored equation [8][S]B = [8]R + [8][k]A. It accepts every signature the JDK's
 * cofactorless check accepts; beyond those, only signatures whose R or key has a small-order
 * component, which only the private key's holder can make ({@code Ed25519VerificationRuleTest}).
 */
public final class PublicKey {
  public static final int LENGTH = 32;
  /** DER prefix of an X.509 SubjectPublicKeyInfo for Ed25519 (OID 1.3.101.112). */
  private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

  private final byte[] raw;
  private final java.security.PublicKey jdkKey;
  private final Ed25519.PublicPoint point;

  private PublicKey(byte[] raw, java.security.PublicKey jdkKey) {
    this.raw = raw;
    this.jdkKey = jdkKey;
    this.point = Ed25519.validatePublicKeyPartialExport(raw, 0);
    if (point == null) {
      throw new DecodingException("not a valid Ed25519 public key (not the encoding of a curve point)");
    }
  }

  /**
   * The eight points of small order, canonically encoded. A key among them accepts forged signatures
   * (with R of small order and S = 0 every message "verifies"), so none of them is ever a key.
   */
  private static final List<byte[]> SMALL_ORDER =
      Stream.of(
              "0100000000000000000000000000000000000000000000000000000000000000",
              "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
              "0000000000000000000000000000000000000000000000000000000000000000",
              "0000000000000000000000000000000000000000000000000000000000000080",
              "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
              "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
              "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
              "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa")
          .map(HexFormat.of()::parseHex)
          .toList();

  /**
   * Creates a key from its 32 raw bytes.
   *
   * @throws DecodingException if the bytes are not the canonical encoding of a curve point (RFC 8032
   *     section 5.1.3), or encode one of the eight points of small order
   */
  public static PublicKey fromBytes(byte[] raw) {
    if (raw == null || raw.length != LENGTH) {
      throw new DecodingException(
          "an Ed25519 public key has 32 bytes, got " + (raw == null ? "none" : raw.length));
    }
    for (byte[] weak : SMALL_ORDER) {
      if (Arrays.equals(weak, raw)) {
        throw new DecodingException(
            "not a usable Ed25519 public key: it is a point of small order, under which forged"
                + " signatures verify");
      }
    }
    byte[] der = new byte[X509_PREFIX.length + LENGTH];
    System.arraycopy(X509_PREFIX, 0, der, 0, X509_PREFIX.length);
    System.arraycopy(raw, 0, der, X509_PREFIX.length, LENGTH);
    java.security.PublicKey key;
    try {
      key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
      // The key factory only stores the bytes; decoding the point happens when a verifier is
      // initialised, so do that now to reject encodings that are not on the curve.
      Signature.getInstance("Ed25519").initVerify(key);
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new DecodingException(
          "not a valid Ed25519 public key (not the encoding of a curve point): "
              + e.getMessage(),
          e);
    }
    return new PublicKey(raw.clone(), key);
  }

  /** Parses the text form written by {@link #toString()}. */
  public static PublicKey parse(String text) {
    if (text == null || !text.startsWith("ed25519:")) {
      throw new DecodingException("public key text must start with 'ed25519:'");
    }
    return fromBytes(Base32.decode(text.substring("ed25519:".length())));
  }

  static PublicKey fromJdk(java.security.PublicKey key) {
    byte[] der = key.getEncoded();
    byte[] raw = Arrays.copyOfRange(der, der.length - LENGTH, der.length);
    return new PublicKey(raw, key);
  }

  /**
   * Checks an Ed25519 signature over {@code message}. Returns normally only if it is valid.
   *
   * @throws VerificationException if the signature is malformed or does not verify
   */
  public void verify(byte[] message, byte[] signature) throws VerificationException {
    if (signature == null || signature.length != Signer.SIGNATURE_LENGTH) {
      throw new VerificationException(
          "an Ed25519 signature has 64 bytes, got "
              + (signature == null ? "none" : signature.length));
    }
    if (!Ed25519.verify(signature, 0, point, message, 0, message.length)) {
      throw new VerificationException("Ed25519 signature does not verify for key " + this);
    }
  }

  /** The same check with the JDK's Ed25519 provider; kept to compare the two verifiers in tests. */
  boolean verifiesWithJdk(byte[] message, byte[] signature) {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initVerify(jdkKey);
      s.update(message);
      return s.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  public byte[] toBytes() {
    return raw.clone();
  }

  public Address address() {
    return Address.of(this);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PublicKey p && MessageDigest.isEqual(raw, p.raw);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(raw);
  }

  /** "ed25519:" followed by the 32 raw bytes in lower-case base32. */
  @Override
  public String toString() {
    return "ed25519:" + Base32.encode(raw);
  }
}

package dev.verity.core.crypto;

import org.bouncycastle.math.ec.rfc8032.Ed25519;

import dev.verity.core.Base32;
import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** An Ed25519 public key (RFC 8032): 32 bytes. Verifies signatures; derives an {@link Address}. */
public final class PublicKey {
  public static final int LENGTH = 32;

  private final byte[] raw;
  /** The decoded point, kept so that each verification skips decompression. */
  private final Ed25519.PublicPoint point;
  /** Odd multiples of the point for {@link BatchVerifier}, built on first use. */
  private volatile Ed25519Group.Cached[] batchTable;

  private PublicKey(byte[] raw, Ed25519.PublicPoint point) {
    this.raw = raw;
    this.point = point;
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
    Ed25519.PublicPoint point = Ed25519.validatePublicKeyPartialExport(raw, 0);
    if (point == null) {
      throw new DecodingException(
          "not a valid Ed25519 public key (not the canonical encoding of a curve point)");
    }
    return new PublicKey(raw.clone(), point);
  }

  /** Parses the text form written by {@link #toString()}. */
  public static PublicKey parse(String text) {
    if (text == null || !text.startsWith("ed25519:")) {
      throw new DecodingException("public key text must start with 'ed25519:'");
    }
    return fromBytes(Base32.decode(text.substring("ed25519:".length())));
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
    // RFC 8032 section 5.1.7 verification; S must be below the group order (no malleability).
    boolean ok = Ed25519.verify(signature, 0, point, message, 0, message.length);
    if (!ok) {
      throw new VerificationException("Ed25519 signature does not verify for key " + this);
    }
  }

  /**
   * The table of odd multiples that batch verification adds from, built once per key object; null
   * only if this key's point cannot be decoded again, which a validated key never does.
   */
  Ed25519Group.Cached[] batchTable() {
    Ed25519Group.Cached[] t = batchTable;
    if (t == null) {
      int[][] p = Ed25519Group.decode(raw);
      if (p == null) {
        return null;
      }
      t = Ed25519Group.oddMultiples(p[0], p[1]);
      batchTable = t;
    }
    return t;
  }

  /** The raw bytes, not copied: callers in this package only read them. */
  byte[] rawBytes() {
    return raw;
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

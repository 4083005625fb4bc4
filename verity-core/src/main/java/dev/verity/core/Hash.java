package dev.verity.core;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A SHA-256 digest: exactly 32 bytes, immutable. The one hash function of the Verity protocol.
 */
public final class Hash implements Comparable<Hash> {
  public static final int LENGTH = 32;
  private static final HexFormat HEX = HexFormat.of();

  private final byte[] bytes;

  private Hash(byte[] bytes) {
    this.bytes = bytes;
  }

  /** Wraps an existing 32-byte digest (copied). */
  public static Hash wrap(byte[] digest) {
    if (digest == null || digest.length != LENGTH) {
      throw new DecodingException(
          "a SHA-256 digest has 32 bytes, got " + (digest == null ? "none" : digest.length));
    }
    return new Hash(digest.clone());
  }

  /** Parses 64 lower- or upper-case hex characters. */
  public static Hash fromHex(String hex) {
    if (hex == null || hex.length() != 2 * LENGTH) {
      throw new DecodingException("a SHA-256 digest is 64 hex characters");
    }
    try {
      return new Hash(HEX.parseHex(hex));
    } catch (IllegalArgumentException e) {
      throw new DecodingException("not a hex string: " + abbreviate(hex), e);
    }
  }

  public static Hash of(byte[] data) {
    return new Hash(newDigest().digest(data));
  }

  public static Hash of(byte[] data, int offset, int length) {
    MessageDigest d = newDigest();
    d.update(data, offset, length);
    return new Hash(d.digest());
  }

  /**
   * Hashes a domain tag, a zero byte, then the data, so digests of different kinds never collide.
   *
   * @throws IllegalArgumentException if {@code domain} contains U+0000: the zero byte ends the tag,
   *     so a tag containing one could be confused with another tag followed by data
   */
  public static Hash tagged(String domain, byte[] data) {
    if (domain.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a hash domain tag must not contain U+0000: " + domain);
    }
    MessageDigest d = newDigest();
    d.update(domain.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    d.update((byte) 0);
    d.update(data);
    return new Hash(d.digest());
  }

  /** Hashes a stream to its end without holding it in memory. */
  public static Hash of(InputStream in) throws IOException {
    MessageDigest d = newDigest();
    byte[] buf = new byte[64 * 1024];
    for (int n; (n = in.read(buf)) > 0; ) {
      d.update(buf, 0, n);
    }
    return new Hash(d.digest());
  }

  /** A fresh SHA-256 {@link MessageDigest}; SHA-256 is guaranteed present on every JDK. */
  public static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK provides SHA-256", e);
    }
  }

  public static Hash fromDigest(MessageDigest digest) {
    return new Hash(digest.digest());
  }

  public byte[] toBytes() {
    return bytes.clone();
  }

  /** Feeds these bytes into a digest without copying them. */
  public void updateDigest(MessageDigest digest) {
    digest.update(bytes);
  }

  public String toHex() {
    return HEX.formatHex(bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Hash h && MessageDigest.isEqual(bytes, h.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public int compareTo(Hash o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }

  @Override
  public String toString() {
    return toHex();
  }

  static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }
}

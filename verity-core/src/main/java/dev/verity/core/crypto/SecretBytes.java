package dev.verity.core.crypto;

import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Secret key material. Compares in constant time and never shows its content in {@link #toString()},
 * so it cannot leak into logs or error messages by accident.
 */
public final class SecretBytes {
  private final byte[] bytes;

  private SecretBytes(byte[] bytes) {
    this.bytes = bytes;
  }

  public static SecretBytes copyOf(byte[] bytes) {
    return new SecretBytes(bytes.clone());
  }

  public int length() {
    return bytes.length;
  }

  /** A copy of the secret; callers should clear it when done. */
  public byte[] reveal() {
    return bytes.clone();
  }

  public boolean equalsConstantTime(SecretBytes other) {
    return MessageDigest.isEqual(bytes, other.bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SecretBytes s && equalsConstantTime(s);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(new byte[] {(byte) bytes.length});
  }

  @Override
  public String toString() {
    return "SecretBytes[" + bytes.length + " bytes, redacted]";
  }
}

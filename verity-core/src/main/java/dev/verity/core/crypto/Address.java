package dev.verity.core.crypto;

import dev.verity.core.Base32;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * An account address: the first 20 bytes of SHA-256("verity/address" || 0x00 || public key), written
 * as "vt" followed by lower-case base32. Addresses name owners, operators and clients; the public key
 * that matches an address travels beside it wherever a signature must be checked.
 */
public final class Address implements Comparable<Address> {
  public static final int LENGTH = 20;
  private static final String PREFIX = "vt";

  private final byte[] bytes;

  private Address(byte[] bytes) {
    this.bytes = bytes;
  }

  public static Address of(PublicKey key) {
    byte[] h = Hash.tagged("verity/address", key.toBytes()).toBytes();
    return new Address(Arrays.copyOf(h, LENGTH));
  }

  public static Address fromBytes(byte[] b) {
    if (b == null || b.length != LENGTH) {
      throw new DecodingException("an address has 20 bytes");
    }
    return new Address(b.clone());
  }

  public static Address parse(String text) {
    if (text == null || !text.startsWith(PREFIX) || text.length() != PREFIX.length() + 32) {
      String shown =
          text == null ? "nothing" : text.length() <= 80 ? text : text.substring(0, 77) + "...";
      throw new DecodingException(
          "an address is 'vt' followed by 32 base32 characters, got: " + shown);
    }
    return new Address(Base32.decode(text.substring(PREFIX.length())));
  }

  public byte[] toBytes() {
    return bytes.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Address a && MessageDigest.isEqual(bytes, a.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public int compareTo(Address o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }

  @Override
  public String toString() {
    return PREFIX + Base32.encode(bytes);
  }
}

package dev.verity.core;

/** RFC 4648 base32, lower-case alphabet, no padding: the "b" multibase of CIDv1. */
public final class Base32 {
  private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
  private static final int[] DECODE = new int[128];

  static {
    java.util.Arrays.fill(DECODE, -1);
    for (int i = 0; i < ALPHABET.length; i++) {
      DECODE[ALPHABET[i]] = i;
    }
  }

  private Base32() {}

  public static String encode(byte[] data) {
    StringBuilder out = new StringBuilder((data.length * 8 + 4) / 5);
    int buffer = 0;
    int bits = 0;
    for (byte b : data) {
      buffer = (buffer << 8) | (b & 0xff);
      bits += 8;
      while (bits >= 5) {
        out.append(ALPHABET[(buffer >>> (bits - 5)) & 31]);
        bits -= 5;
      }
    }
    if (bits > 0) {
      out.append(ALPHABET[(buffer << (5 - bits)) & 31]);
    }
    return out.toString();
  }

  /** Decodes lower-case unpadded base32; rejects other characters and non-zero trailing bits. */
  public static byte[] decode(String text) {
    int outLen = text.length() * 5 / 8;
    byte[] out = new byte[outLen];
    int buffer = 0;
    int bits = 0;
    int pos = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      int v = c < 128 ? DECODE[c] : -1;
      if (v < 0) {
        throw new DecodingException("invalid base32 character '" + c + "' at position " + i);
      }
      buffer = (buffer << 5) | v;
      bits += 5;
      if (bits >= 8) {
        out[pos++] = (byte) (buffer >>> (bits - 8));
        bits -= 8;
      }
    }
    if (bits >= 5 || (buffer & ((1 << bits) - 1)) != 0) {
      throw new DecodingException("base32 text has a non-canonical ending");
    }
    return out;
  }
}

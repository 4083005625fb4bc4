package dev.verity.hub;

import java.io.InputStream;

/**
 * A deterministic pseudo-random stream of a given length (xorshift64*), so large blobs can be put,
 * read back and checked without holding them anywhere. Same seed, same bytes; no two chunks repeat.
 */
final class GeneratedStream extends InputStream {
  private final long length;
  private long position;
  private long state;
  private long word;
  private int wordLeft;

  GeneratedStream(long length, long seed) {
    this.length = length;
    this.state = seed * 0x9E3779B97F4A7C15L | 1;
  }

  /** The first {@code length} bytes for {@code seed}, as an array. */
  static byte[] bytes(int length, long seed) {
    byte[] out = new byte[length];
    new GeneratedStream(length, seed).read(out, 0, length);
    return out;
  }

  private long next() {
    state ^= state >>> 12;
    state ^= state << 25;
    state ^= state >>> 27;
    return state * 0x2545F4914F6CDD1DL;
  }

  @Override
  public int read() {
    if (position == length) {
      return -1;
    }
    if (wordLeft == 0) {
      word = next();
      wordLeft = 8;
    }
    int b = (int) (word & 0xff);
    word >>>= 8;
    wordLeft--;
    position++;
    return b;
  }

  @Override
  public int read(byte[] b, int off, int len) {
    if (len == 0) {
      return 0;
    }
    if (position == length) {
      return -1;
    }
    int n = (int) Math.min(len, length - position);
    int i = off;
    int end = off + n;
    while (i < end && wordLeft > 0) {
      b[i++] = (byte) read();
    }
    while (end - i >= 8) {
      long w = next();
      for (int k = 0; k < 8; k++) {
        b[i++] = (byte) w;
        w >>>= 8;
      }
      position += 8;
    }
    while (i < end) {
      b[i++] = (byte) read();
    }
    return n;
  }
}

package dev.verity.zk;

/**
 * The shape of a tensor: channels x height x width (a vector is n x 1 x 1). In proofs every
 * dimension is padded to a power of two and the tensor is stored channel-major, so index (c, y, x)
 * sits at ((c * paddedHeight) + y) * paddedWidth + x and each coordinate owns a block of variables
 * of the tensor's multilinear extension: x the lowest, then y, then c. Padding entries are zero.
 * Channels are padded further so that every tensor has at least {@link #MIN_VARS} variables, which
 * its zero-knowledge masks need.
 */
public record Shape(int channels, int height, int width) {
  /** Largest number of padded entries of one tensor. */
  public static final int MAX_PADDED_SIZE = 1 << 24;
  /** Fewest variables of a tensor's multilinear extension. */
  public static final int MIN_VARS = 3;

  public Shape {
    if (channels < 1 || height < 1 || width < 1) {
      throw new IllegalArgumentException("tensor dimensions must be positive: " + channels + "x" + height + "x" + width);
    }
    if ((long) ceilPow2(channels) * ceilPow2(height) * ceilPow2(width) > MAX_PADDED_SIZE / 8) {
      throw new IllegalArgumentException("tensor " + channels + "x" + height + "x" + width + " is too large to prove");
    }
  }

  /** A vector of n entries. */
  public static Shape vector(int n) {
    return new Shape(n, 1, 1);
  }

  public int size() {
    return channels * height * width;
  }

  public int logChannels() {
    return Math.max(log2Ceil(channels), MIN_VARS - logHeight() - logWidth());
  }

  public int logHeight() {
    return log2Ceil(height);
  }

  public int logWidth() {
    return log2Ceil(width);
  }

  public int paddedHeight() {
    return 1 << logHeight();
  }

  public int paddedWidth() {
    return 1 << logWidth();
  }

  public int paddedChannels() {
    return 1 << logChannels();
  }

  /** Number of variables of the padded tensor's multilinear extension. */
  public int vars() {
    return logChannels() + logHeight() + logWidth();
  }

  public int paddedSize() {
    return 1 << vars();
  }

  public int physicalIndex(int c, int y, int x) {
    return ((c << logHeight()) + y << logWidth()) + x;
  }

  /** The padded position of logical entry i in channel-major order (as ONNX Flatten reads it). */
  public int physicalIndexOfFlat(int i) {
    int x = i % width;
    int y = (i / width) % height;
    int c = i / (width * height);
    return physicalIndex(c, y, x);
  }

  static int log2Ceil(int n) {
    return n <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(n - 1);
  }

  static int ceilPow2(int n) {
    return 1 << log2Ceil(n);
  }

  @Override
  public String toString() {
    return channels + "x" + height + "x" + width;
  }
}

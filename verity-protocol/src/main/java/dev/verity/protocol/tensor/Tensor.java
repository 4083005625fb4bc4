package dev.verity.protocol.tensor;

import dev.verity.core.DecodingException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable dense tensor: element type, shape and data. Numeric and boolean data is held as
 * little-endian bytes (booleans as 0 or 1); strings as a list. The constructor checks that the data
 * matches the shape, so every {@code Tensor} is well formed.
 */
public final class Tensor {
  private final ElementType type;
  private final long[] shape;
  private final long elementCount;
  private final byte[] data;
  private final List<String> strings;

  private Tensor(ElementType type, long[] shape, byte[] data, List<String> strings) {
    this.type = type;
    this.shape = shape.clone();
    this.elementCount = elementCount(this.shape);
    if (type == ElementType.STRING) {
      if (strings == null || strings.size() != elementCount) {
        throw new DecodingException(
            "string tensor of shape " + Arrays.toString(shape) + " needs " + elementCount
                + " strings, got " + (strings == null ? 0 : strings.size()));
      }
      for (String v : strings) {
        requireWellFormed(v, "string tensor element");
      }
      this.strings = List.copyOf(strings);
      this.data = null;
    } else {
      if (data == null || data.length != elementCount * type.byteSize()) {
        throw new DecodingException(
            type.wireName() + " tensor of shape " + Arrays.toString(shape) + " needs "
                + elementCount * type.byteSize() + " bytes, got " + (data == null ? 0 : data.length));
      }
      if (type == ElementType.BOOL) {
        for (byte b : data) {
          if (b != 0 && b != 1) {
            throw new DecodingException("bool tensor holds a byte other than 0 or 1");
          }
        }
      }
      this.data = data;
      this.strings = null;
    }
  }

  /**
   * Returns {@code s} if it is well-formed UTF-16 (no unpaired surrogate), which is exactly what
   * UTF-8, and so the canonical encoding, can carry unchanged.
   */
  static String requireWellFormed(String s, String what) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new DecodingException(what + " holds an unpaired UTF-16 surrogate at index " + i);
      }
    }
    return s;
  }

  /** Number of elements of a shape; rejects negative axes and overflow. */
  public static long elementCount(long[] shape) {
    if (shape.length > TensorSpec.MAX_RANK) {
      throw new DecodingException("rank " + shape.length + " exceeds " + TensorSpec.MAX_RANK);
    }
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new DecodingException("negative dimension in shape " + Arrays.toString(shape));
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        throw new DecodingException("shape " + Arrays.toString(shape) + " has too many elements");
      }
    }
    if (n > Integer.MAX_VALUE) {
      throw new DecodingException("shape " + Arrays.toString(shape) + " has too many elements");
    }
    return n;
  }

  /** A tensor over little-endian bytes (copied). */
  public static Tensor ofBytes(ElementType type, long[] shape, byte[] littleEndian) {
    if (type == ElementType.STRING) {
      throw new IllegalArgumentException("string tensors hold strings, not bytes");
    }
    return new Tensor(type, shape, littleEndian.clone(), null);
  }

  /**
   * Wraps little-endian bytes without copying them, for decoders and inference engines that have
   * just filled a fresh array. The caller hands the array over: it must never read or write it
   * again, or the tensor would no longer be immutable. Anyone else uses {@link #ofBytes}.
   */
  public static Tensor adoptBytes(ElementType type, long[] shape, byte[] littleEndian) {
    return new Tensor(type, shape, littleEndian, null);
  }

  public static Tensor ofFloats(long[] shape, float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return new Tensor(ElementType.FLOAT32, shape, b.array(), null);
  }

  public static Tensor ofDoubles(long[] shape, double[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asDoubleBuffer().put(values);
    return new Tensor(ElementType.FLOAT64, shape, b.array(), null);
  }

  public static Tensor ofLongs(long[] shape, long[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(values);
    return new Tensor(ElementType.INT64, shape, b.array(), null);
  }

  public static Tensor ofInts(long[] shape, int[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(values);
    return new Tensor(ElementType.INT32, shape, b.array(), null);
  }

  public static Tensor ofBools(long[] shape, boolean[] values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) (values[i] ? 1 : 0);
    }
    return new Tensor(ElementType.BOOL, shape, b, null);
  }

  public static Tensor ofStrings(long[] shape, List<String> values) {
    return new Tensor(ElementType.STRING, shape, null, values);
  }

  public ElementType type() {
    return type;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long elementCount() {
    return elementCount;
  }

  /** Size of the data in bytes (for strings: their UTF-8 lengths added up). */
  public long byteSize() {
    if (data != null) {
      return data.length;
    }
    long n = 0;
    for (String s : strings) {
      n += s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }
    return n;
  }

  /** A read-only little-endian view of the data; not for string tensors. */
  public ByteBuffer buffer() {
    requireNumeric();
    return ByteBuffer.wrap(data).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  public byte[] bytes() {
    requireNumeric();
    return data.clone();
  }

  /** The data array itself, for this package's encoders, which only read it; not for string tensors. */
  byte[] data() {
    requireNumeric();
    return data;
  }

  public List<String> strings() {
    if (strings == null) {
      throw new IllegalStateException("not a string tensor");
    }
    return strings;
  }

  public float[] toFloats() {
    requireType(ElementType.FLOAT32);
    float[] out = new float[(int) elementCount];
    buffer().asFloatBuffer().get(out);
    return out;
  }

  public double[] toDoubles() {
    requireType(ElementType.FLOAT64);
    double[] out = new double[(int) elementCount];
    buffer().asDoubleBuffer().get(out);
    return out;
  }

  public long[] toLongs() {
    requireType(ElementType.INT64);
    long[] out = new long[(int) elementCount];
    buffer().asLongBuffer().get(out);
    return out;
  }

  public int[] toInts() {
    requireType(ElementType.INT32);
    int[] out = new int[(int) elementCount];
    buffer().asIntBuffer().get(out);
    return out;
  }

  public boolean[] toBools() {
    requireType(ElementType.BOOL);
    boolean[] out = new boolean[data.length];
    for (int i = 0; i < data.length; i++) {
      out[i] = data[i] != 0;
    }
    return out;
  }

  /** Element {@code i} (in row-major order) as a double, for numeric and boolean tensors. */
  public double getAsDouble(int i) {
    ByteBuffer b = buffer();
    return switch (type) {
      case FLOAT32 -> b.getFloat(i * 4);
      case FLOAT64 -> b.getDouble(i * 8);
      case INT8 -> b.get(i);
      case UINT8 -> b.get(i) & 0xff;
      case INT16 -> b.getShort(i * 2);
      case INT32 -> b.getInt(i * 4);
      case INT64 -> b.getLong(i * 8);
      case BOOL -> b.get(i);
      case STRING -> throw new IllegalStateException("string tensor");
    };
  }

  private void requireNumeric() {
    if (data == null) {
      throw new IllegalStateException("string tensors have no byte data");
    }
  }

  private void requireType(ElementType t) {
    if (type != t) {
      throw new IllegalStateException("tensor is " + type.wireName() + ", not " + t.wireName());
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tensor t
        && type == t.type
        && Arrays.equals(shape, t.shape)
        && Arrays.equals(data, t.data)
        && java.util.Objects.equals(strings, t.strings);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + type.hashCode();
  }

  @Override
  public String toString() {
    return "Tensor[" + type.wireName() + " " + Arrays.toString(shape) + "]";
  }
}

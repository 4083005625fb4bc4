package dev.verity.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A tensor stored inside an ONNX file: a graph initializer (weights) or a constant attribute value.
 * Immutable. Fixed-width data is held as little-endian raw bytes, the form ONNX calls {@code
 * raw_data}, whichever field the file used; {@link ElementType#STRING} tensors hold byte strings.
 *
 * <p>Two tensors are equal when name, element type, dims and data are equal.
 */
public final class OnnxTensorData {
  private final String name;
  private final ElementType elementType;
  private final long[] dims;
  private final long elementCount;
  private final byte[] raw; // null for STRING
  private final List<byte[]> strings; // null unless STRING

  private OnnxTensorData(
      String name, ElementType elementType, long[] dims, byte[] raw, List<byte[]> strings) {
    this.name = Objects.requireNonNull(name, "name");
    this.elementType = Objects.requireNonNull(elementType, "elementType");
    this.dims = dims.clone();
    this.elementCount = elementCount(this.dims);
    this.raw = raw;
    this.strings = strings;
    if (elementType == ElementType.STRING) {
      if (strings.size() != elementCount) {
        throw new IllegalArgumentException(
            "tensor '" + name + "' has " + strings.size() + " strings but its dims "
                + Arrays.toString(dims) + " need " + elementCount);
      }
    } else if (raw.length != elementType.rawByteLength(elementCount)) {
      throw new IllegalArgumentException(
          "tensor '" + name + "' has " + raw.length + " bytes of " + elementType
              + " data but its dims " + Arrays.toString(dims) + " need "
              + elementType.rawByteLength(elementCount));
    }
  }

  /** Product of dims; rejects negative dims and overflow. */
  static long elementCount(long[] dims) {
    long n = 1;
    for (long d : dims) {
      if (d < 0) {
        throw new IllegalArgumentException(
            "negative dimension " + d + " in " + Arrays.toString(dims));
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(
            "element count of " + Arrays.toString(dims) + " overflows");
      }
    }
    return n;
  }

  /** A tensor from little-endian raw bytes (copied) of any fixed-width element type. */
  public static OnnxTensorData ofRaw(String name, ElementType type, long[] dims, byte[] raw) {
    if (!type.isFixedWidth()) {
      throw new IllegalArgumentException("STRING tensors are built with ofStrings");
    }
    return new OnnxTensorData(name, type, dims, raw.clone(), null);
  }

  /** Wraps bytes the caller will never touch again (the reader's freshly decoded data). */
  static OnnxTensorData adoptRaw(String name, ElementType type, long[] dims, byte[] raw) {
    return new OnnxTensorData(name, type, dims, raw, null);
  }

  public static OnnxTensorData ofFloats(String name, long[] dims, float[] data) {
    ByteBuffer b = buffer(4L * data.length);
    b.asFloatBuffer().put(data);
    return new OnnxTensorData(name, ElementType.FLOAT, dims, b.array(), null);
  }

  public static OnnxTensorData ofDoubles(String name, long[] dims, double[] data) {
    ByteBuffer b = buffer(8L * data.length);
    b.asDoubleBuffer().put(data);
    return new OnnxTensorData(name, ElementType.DOUBLE, dims, b.array(), null);
  }

  public static OnnxTensorData ofInts(String name, long[] dims, int[] data) {
    ByteBuffer b = buffer(4L * data.length);
    b.asIntBuffer().put(data);
    return new OnnxTensorData(name, ElementType.INT32, dims, b.array(), null);
  }

  public static OnnxTensorData ofLongs(String name, long[] dims, long[] data) {
    ByteBuffer b = buffer(8L * data.length);
    b.asLongBuffer().put(data);
    return new OnnxTensorData(name, ElementType.INT64, dims, b.array(), null);
  }

  /** A STRING tensor; each element is a byte string (UTF-8 by ONNX convention), copied. */
  public static OnnxTensorData ofStrings(String name, long[] dims, List<byte[]> data) {
    List<byte[]> copy = new ArrayList<>(data.size());
    for (byte[] s : data) {
      copy.add(s.clone());
    }
    return new OnnxTensorData(name, ElementType.STRING, dims, null, List.copyOf(copy));
  }

  static OnnxTensorData adoptStrings(String name, long[] dims, List<byte[]> data) {
    return new OnnxTensorData(name, ElementType.STRING, dims, null, List.copyOf(data));
  }

  private static ByteBuffer buffer(long length) {
    if (length > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor data of " + length + " bytes is too large");
    }
    return ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The tensor's name; empty for an unnamed attribute tensor. */
  public String name() {
    return name;
  }

  public ElementType elementType() {
    return elementType;
  }

  /** The dimensions, outermost first (a copy); empty for a scalar. */
  public long[] dims() {
    return dims.clone();
  }

  public int rank() {
    return dims.length;
  }

  /** The number of elements: the product of the dims. */
  public long elementCount() {
    return elementCount;
  }

  /** The same tensor under another name. */
  public OnnxTensorData withName(String newName) {
    return new OnnxTensorData(newName, elementType, dims, raw, strings);
  }

  /**
   * The data as little-endian raw bytes (a copy).
   *
   * @throws IllegalStateException for a STRING tensor
   */
  public byte[] rawData() {
    requireFixedWidth();
    return raw.clone();
  }

  /** Length of {@link #rawData()} without copying it; 0 for STRING. */
  public int rawLength() {
    return raw == null ? 0 : raw.length;
  }

  /** The elements of a FLOAT tensor. @throws IllegalStateException for any other type */
  public float[] floats() {
    require(ElementType.FLOAT);
    float[] out = new float[(int) elementCount];
    le().asFloatBuffer().get(out);
    return out;
  }

  /** The elements of a DOUBLE tensor. @throws IllegalStateException for any other type */
  public double[] doubles() {
    require(ElementType.DOUBLE);
    double[] out = new double[(int) elementCount];
    le().asDoubleBuffer().get(out);
    return out;
  }

  /** The elements of an INT32 tensor. @throws IllegalStateException for any other type */
  public int[] ints() {
    require(ElementType.INT32);
    int[] out = new int[(int) elementCount];
    le().asIntBuffer().get(out);
    return out;
  }

  /** The elements of an INT64 tensor. @throws IllegalStateException for any other type */
  public long[] longs() {
    require(ElementType.INT64);
    long[] out = new long[(int) elementCount];
    le().asLongBuffer().get(out);
    return out;
  }

  /** The elements of a STRING tensor (copies). @throws IllegalStateException for other types */
  public List<byte[]> strings() {
    require(ElementType.STRING);
    List<byte[]> out = new ArrayList<>(strings.size());
    for (byte[] s : strings) {
      out.add(s.clone());
    }
    return out;
  }

  /** Raw data without copying, for the writer and parameter counting inside this package. */
  byte[] rawUnsafe() {
    return raw;
  }

  List<byte[]> stringsUnsafe() {
    return strings;
  }

  private ByteBuffer le() {
    return ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
  }

  private void require(ElementType t) {
    if (elementType != t) {
      throw new IllegalStateException(
          "tensor '" + name + "' holds " + elementType + " elements, not " + t);
    }
  }

  private void requireFixedWidth() {
    if (!elementType.isFixedWidth()) {
      throw new IllegalStateException(
          "tensor '" + name + "' holds strings, which have no raw form");
    }
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof OnnxTensorData t)) {
      return false;
    }
    if (!name.equals(t.name) || elementType != t.elementType || !Arrays.equals(dims, t.dims)) {
      return false;
    }
    if (raw != null) {
      return Arrays.equals(raw, t.raw);
    }
    for (int i = 0; i < strings.size(); i++) {
      if (!Arrays.equals(strings.get(i), t.strings.get(i))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    int h = Objects.hash(name, elementType) * 31 + Arrays.hashCode(dims);
    return h * 31 + (raw != null ? Arrays.hashCode(raw) : strings.size());
  }

  @Override
  public String toString() {
    return "tensor '" + name + "' " + elementType + Arrays.toString(dims);
  }
}

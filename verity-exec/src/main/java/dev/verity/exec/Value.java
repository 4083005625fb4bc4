package dev.verity.exec;

import dev.verity.core.Hash;
import dev.verity.protocol.tensor.ElementType;
import dev.verity.protocol.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A value flowing through the canonical executor: a float32 or int64 tensor with an int shape.
 * Never changed after construction (operators always write fresh arrays), so values may share
 * their arrays.
 */
final class Value {
  final int[] shape;
  final float[] f;
  final long[] l;

  private Value(int[] shape, float[] f, long[] l) {
    this.shape = shape;
    this.f = f;
    this.l = l;
  }

  static Value ofFloats(int[] shape, float[] data) {
    if (data.length != count(shape)) {
      throw new IllegalStateException("float data of " + data.length + " elements for shape "
          + Arrays.toString(shape));
    }
    return new Value(shape, data, null);
  }

  static Value ofLongs(int[] shape, long[] data) {
    if (data.length != count(shape)) {
      throw new IllegalStateException("int64 data of " + data.length + " elements for shape "
          + Arrays.toString(shape));
    }
    return new Value(shape, null, data);
  }

  boolean isFloat() {
    return f != null;
  }

  int size() {
    return f != null ? f.length : l.length;
  }

  int rank() {
    return shape.length;
  }

  /** Same data, another shape of the same element count. */
  Value reshaped(int[] newShape) {
    return f != null ? ofFloats(newShape, f) : ofLongs(newShape, l);
  }

  static int count(int[] shape) {
    long n = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new ExecutionException("negative dimension in shape " + Arrays.toString(shape));
      }
      n *= d;
      if (n > Integer.MAX_VALUE - 8) {
        throw new ExecutionException("shape " + Arrays.toString(shape) + " has too many elements");
      }
    }
    return (int) n;
  }

  static Value fromTensor(Tensor t, String what) {
    long[] s = t.shape();
    int[] shape = new int[s.length];
    for (int i = 0; i < s.length; i++) {
      shape[i] = Math.toIntExact(s[i]);
    }
    return switch (t.type()) {
      case FLOAT32 -> ofFloats(shape, t.toFloats());
      case INT64 -> ofLongs(shape, t.toLongs());
      case INT32 -> ofLongs(shape, Arrays.stream(t.toInts()).asLongStream().toArray());
      default -> throw new ExecutionException(what + " is " + t.type().wireName()
          + "; the canonical executor takes float32 and int64 tensors only");
    };
  }

  Tensor toTensor() {
    long[] s = new long[shape.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = shape[i];
    }
    return Tensor.adoptBytes(isFloat() ? ElementType.FLOAT32 : ElementType.INT64, s, littleEndian());
  }

  byte[] littleEndian() {
    ByteBuffer b = ByteBuffer.allocate(size() * (isFloat() ? 4 : 8)).order(ByteOrder.LITTLE_ENDIAN);
    if (isFloat()) {
      b.asFloatBuffer().put(f);
    } else {
      b.asLongBuffer().put(l);
    }
    return b.array();
  }

  /**
   * The commitment to this value, {@link TraceStep#tensorHash}: SHA-256 tagged {@value
   * TraceStep#TENSOR_DOMAIN} over the element type's ONNX code (one byte: 1 float32, 7 int64), the
   * rank (one byte), each dimension as 8 bytes little-endian, then the elements little-endian
   * (float32 as their IEEE 754 bit patterns, so NaN payloads and the sign of zero count).
   */
  Hash hash() {
    byte[] data = littleEndian();
    ByteBuffer b = ByteBuffer.allocate(2 + 8 * shape.length + data.length)
        .order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) (isFloat() ? 1 : 7)).put((byte) shape.length);
    for (int d : shape) {
      b.putLong(d);
    }
    b.put(data);
    return Hash.tagged(TraceStep.TENSOR_DOMAIN, b.array());
  }
}

package dev.verity.protocol.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One tensor of every element type, filled with the edge values of that type. */
final class SampleTensors {
  /** Float values that a lossy transport would be most likely to get wrong. */
  static final float[] FLOAT_EDGES = {
    Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f, 0.0f,
    Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_NORMAL,
    Math.nextDown(Float.MIN_NORMAL), 0.1f, 1.0f / 3, 16777217f, 1e-40f, -123.456f
  };

  static final double[] DOUBLE_EDGES = {
    Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, 0.0,
    Double.MIN_VALUE, -Double.MIN_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE, Double.MIN_NORMAL,
    Math.nextDown(Double.MIN_NORMAL), 0.1, 1.0 / 3, 9007199254740993.0, 4.9e-320, -2.5e-308
  };

  static final List<String> STRING_EDGES =
      List.of("", "a", "pi \u2248 3.14", "\ud83d\ude42 emoji", "quote\" back\\slash\nnewline\ttab",
          "nul\u0000char", "\u00e9t\u00e9", "x".repeat(300));

  private SampleTensors() {}

  static Tensor of(ElementType type) {
    return switch (type) {
      case FLOAT32 -> Tensor.ofFloats(new long[] {2, 8}, FLOAT_EDGES);
      case FLOAT64 -> Tensor.ofDoubles(new long[] {4, 2, 2}, DOUBLE_EDGES);
      case UINT8 -> Tensor.ofBytes(type, new long[] {5}, new byte[] {0, 1, 127, (byte) 128, (byte) 255});
      case INT8 -> Tensor.ofBytes(type, new long[] {1, 4}, new byte[] {Byte.MIN_VALUE, -1, 0, Byte.MAX_VALUE});
      case INT16 -> {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(Short.MIN_VALUE).putShort((short) -1).putShort((short) 0).putShort(Short.MAX_VALUE);
        yield Tensor.ofBytes(type, new long[] {2, 2}, b.array());
      }
      case INT32 -> Tensor.ofInts(new long[] {5}, new int[] {Integer.MIN_VALUE, -1, 0, 1, Integer.MAX_VALUE});
      case INT64 -> Tensor.ofLongs(new long[] {3}, new long[] {Long.MIN_VALUE, 0, Long.MAX_VALUE});
      case BOOL -> Tensor.ofBools(new long[] {2, 1, 2}, new boolean[] {true, false, false, true});
      case STRING -> Tensor.ofStrings(new long[] {2, 4}, STRING_EDGES);
    };
  }

  /** A scalar (rank 0) of the type. */
  static Tensor scalar(ElementType type) {
    return switch (type) {
      case STRING -> Tensor.ofStrings(new long[0], List.of("only"));
      default -> Tensor.ofBytes(type, new long[0], new byte[type.byteSize()]);
    };
  }

  /** Every type's sample, named by its type. */
  static NamedTensors all() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (ElementType t : ElementType.values()) {
      m.put(t.wireName(), of(t));
    }
    return NamedTensors.of(m);
  }

  /** Every numeric and boolean type's sample: what .npy can carry. */
  static NamedTensors allBinary() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (ElementType t : ElementType.values()) {
      if (t != ElementType.STRING) {
        m.put(t.wireName(), of(t));
      }
    }
    return NamedTensors.of(m);
  }
}

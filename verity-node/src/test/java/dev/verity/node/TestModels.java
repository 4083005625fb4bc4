package dev.verity.node;

import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxWriter;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** ONNX files the node tests write themselves: a wide model and hostile ones. */
final class TestModels {
  private TestModels() {}

  /**
   * y = x · w with x float32 [N, features] and w a fixed float32 [features, outputs] initializer.
   * With 100 000 features one input row is 400 kB, so the SDK sends it as .npz; with 3 outputs the
   * file is 1.2 MB, so it is stored as two chunks under a chunk index.
   */
  static byte[] wideMatMul(int features, int outputs) {
    float[] w = new float[features * outputs];
    int state = 12345;
    for (int i = 0; i < w.length; i++) {
      state = state * 1664525 + 1013904223;
      w[i] = ((state >>> 8) / 16777216f - 0.5f) / 256f;
    }
    OnnxModel m = OnnxModel.builder()
        .graphName("wide")
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(features))
        .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(outputs))
        .initializer("w", new long[] {features, outputs}, w)
        .node("MatMul", List.of("x", "w"), List.of("y"))
        .build();
    return OnnxWriter.write(m);
  }

  /**
   * y = Gemm(a, b) where the initializer b declares dims [1, huge] but carries 4 bytes: with huge =
   * 2^40, a model that would make a careless loader allocate 4 TiB. Written as raw protobuf, since
   * the ONNX writer refuses tensors whose data does not fit their dims.
   */
  static byte[] absurdGemm(long huge) {
    return gemmLike("Gemm", huge);
  }

  /** A well-formed file that uses an operator no runtime implements: only loading it can tell. */
  static byte[] unknownOperator() {
    return gemmLike("VerityNoSuchOperator", 1);
  }

  private static byte[] gemmLike(String opType, long huge) {
    Proto tensor = new Proto().varint(1, 1).varint(1, huge).varint(2, 1).string(8, "b")
        .bytes(9, new byte[] {0, 0, (byte) 0x80, 0x3f});
    Proto node = new Proto().string(1, "a").string(1, "b").string(2, "y").string(3, "gemm").string(4, opType);
    Proto graph = new Proto()
        .message(1, node)
        .string(2, "absurd")
        .message(5, tensor)
        .message(11, valueInfo("a", 1L, 1L))
        .message(12, valueInfo("y", 1L, "M"));
    Proto opset = new Proto().string(1, "").varint(2, 13);
    return new Proto().varint(1, 8).string(2, "verity-tests").message(7, graph).message(8, opset).toBytes();
  }

  /** A float32 ValueInfoProto; each dim a Long (dim_value) or a String (dim_param). */
  private static Proto valueInfo(String name, Object... dims) {
    Proto shape = new Proto();
    for (Object d : dims) {
      shape.message(1, d instanceof Long v ? new Proto().varint(1, v) : new Proto().string(2, (String) d));
    }
    Proto tensorType = new Proto().varint(1, 1).message(2, shape);
    return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
  }

  /** Protobuf wire format, just enough to write ONNX messages by hand. */
  static final class Proto {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Proto varint(int field, long value) {
      raw(field << 3);
      raw(value);
      return this;
    }

    Proto bytes(int field, byte[] value) {
      raw(field << 3 | 2);
      raw(value.length);
      out.writeBytes(value);
      return this;
    }

    Proto string(int field, String value) {
      return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    Proto message(int field, Proto value) {
      return bytes(field, value.toBytes());
    }

    private void raw(long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }

    byte[] toBytes() {
      return out.toByteArray();
    }
  }
}

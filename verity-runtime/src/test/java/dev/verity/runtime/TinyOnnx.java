package dev.verity.runtime;

import dev.verity.protocol.tensor.ElementType;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes small ONNX models for tests, straight in protobuf wire format (field numbers from
 * onnx.proto), so that engine tests need neither Python nor the ONNX writer of verity-onnx.
 * Dimensions given as Long are fixed, as String symbolic, as null unnamed dynamic axes.
 */
final class TinyOnnx {
  private final int opset;
  private final List<byte[]> nodes = new ArrayList<>();
  private final List<byte[]> initializers = new ArrayList<>();
  private final List<byte[]> inputs = new ArrayList<>();
  private final List<byte[]> outputs = new ArrayList<>();

  private TinyOnnx(int opset) {
    this.opset = opset;
  }

  static TinyOnnx model(int opset) {
    return new TinyOnnx(opset);
  }

  TinyOnnx input(String name, ElementType type, Object... dims) {
    inputs.add(valueInfo(name, type, dims));
    return this;
  }

  TinyOnnx output(String name, ElementType type, Object... dims) {
    outputs.add(valueInfo(name, type, dims));
    return this;
  }

  TinyOnnx node(String op, List<String> in, List<String> out, byte[]... attributes) {
    nodes.add(nodeProto(op, in, out, attributes));
    return this;
  }

  /** An initializer with raw little-endian data. */
  TinyOnnx initializer(String name, ElementType type, long[] dims, byte[] raw) {
    initializers.add(tensor(name, type, dims, raw, null));
    return this;
  }

  /** An initializer that claims its data lives in another file. */
  TinyOnnx externalInitializer(String name, ElementType type, long[] dims, String location) {
    initializers.add(tensor(name, type, dims, null, location));
    return this;
  }

  byte[] bytes() {
    Proto graph = new Proto();
    nodes.forEach(n -> graph.bytes(1, n));
    graph.string(2, "g");
    initializers.forEach(t -> graph.bytes(5, t));
    inputs.forEach(v -> graph.bytes(11, v));
    outputs.forEach(v -> graph.bytes(12, v));
    return modelWith(graph.toBytes(), opset);
  }

  static byte[] modelWith(byte[] graph, int opset) {
    Proto model = new Proto();
    model.varint(1, 8); // ir_version
    model.string(2, "verity-tests");
    model.bytes(7, graph);
    model.bytes(8, new Proto().string(1, "").varint(2, opset).toBytes());
    return model.toBytes();
  }

  static byte[] nodeProto(String op, List<String> in, List<String> out, byte[]... attributes) {
    Proto node = new Proto();
    in.forEach(s -> node.string(1, s));
    out.forEach(s -> node.string(2, s));
    node.string(4, op);
    for (byte[] a : attributes) {
      node.bytes(5, a);
    }
    return node.toBytes();
  }

  /** An attribute holding a graph (type GRAPH = 5), as used by If and Loop. */
  static byte[] graphAttribute(String name, byte[] graph) {
    return new Proto().string(1, name).bytes(6, graph).varint(20, 5).toBytes();
  }

  /** An attribute holding a tensor (type TENSOR = 4), as used by Constant. */
  static byte[] tensorAttribute(String name, byte[] tensor) {
    return new Proto().string(1, name).bytes(5, tensor).varint(20, 4).toBytes();
  }

  static byte[] tensor(String name, ElementType type, long[] dims, byte[] raw, String externalLocation) {
    Proto t = new Proto();
    for (long d : dims) {
      t.varint(1, d);
    }
    t.varint(2, type.onnxCode());
    t.string(8, name);
    if (raw != null) {
      t.bytes(9, raw);
    }
    if (externalLocation != null) {
      t.bytes(13, new Proto().string(1, "location").string(2, externalLocation).toBytes());
      t.varint(14, 1);
    }
    return t.toBytes();
  }

  static byte[] valueInfo(String name, ElementType type, Object... dims) {
    Proto shape = new Proto();
    for (Object d : dims) {
      Proto dim = new Proto();
      if (d instanceof Long size) {
        dim.varint(1, size);
      } else if (d instanceof Integer size) {
        dim.varint(1, size);
      } else if (d instanceof String symbol) {
        dim.string(2, symbol);
      }
      shape.bytes(1, dim.toBytes());
    }
    Proto tensorType = new Proto().varint(1, type.onnxCode()).bytes(2, shape.toBytes());
    Proto typeProto = new Proto().bytes(1, tensorType.toBytes());
    return new Proto().string(1, name).bytes(2, typeProto.toBytes()).toBytes();
  }

  /** Protobuf wire-format writer: varints and length-delimited fields only. */
  static final class Proto {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Proto varint(int field, long value) {
      raw((long) field << 3);
      raw(value);
      return this;
    }

    Proto bytes(int field, byte[] value) {
      raw(((long) field << 3) | 2);
      raw(value.length);
      out.writeBytes(value);
      return this;
    }

    Proto string(int field, String value) {
      return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    private void raw(long v) {
      while ((v & ~0x7fL) != 0) {
        out.write((int) ((v & 0x7f) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }

    byte[] toBytes() {
      return out.toByteArray();
    }
  }
}

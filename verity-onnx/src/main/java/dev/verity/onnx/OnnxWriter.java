package dev.verity.onnx;

import java.util.List;
import java.util.Map;

/**
 * Serializes {@link OnnxModel}s as ONNX protobuf files. Deterministic: the same model always gives
 * the same bytes. Fields are written in field-number order, as the reference protobuf
 * implementation does; tensors are written as {@code raw_data} (strings as {@code string_data});
 * repeated scalars follow onnx.proto ({@code dims}, {@code ints}, {@code floats} unpacked).
 * Empty optional strings are omitted, since absent and empty read the same.
 */
public final class OnnxWriter {
  private OnnxWriter() {}

  /**
   * @throws IllegalArgumentException if the encoding would exceed the 2 GiB protobuf limit
   */
  public static byte[] write(OnnxModel model) {
    ProtoWriter w = new ProtoWriter();
    w.int64Field(1, model.irVersion());
    w.optionalString(2, model.producerName());
    w.optionalString(3, model.producerVersion());
    w.optionalString(4, model.domain());
    if (model.modelVersion() != 0) {
      w.int64Field(5, model.modelVersion());
    }
    w.optionalString(6, model.docString());
    w.messageField(7, graph(model.graph()));
    for (Map.Entry<String, Long> e : model.opsetImports().entrySet()) {
      ProtoWriter o = new ProtoWriter();
      o.stringField(1, e.getKey());
      o.int64Field(2, e.getValue());
      w.messageField(8, o);
    }
    for (Map.Entry<String, String> e : model.metadata().entrySet()) {
      ProtoWriter m = new ProtoWriter();
      m.stringField(1, e.getKey());
      m.stringField(2, e.getValue());
      w.messageField(14, m);
    }
    return w.toByteArray();
  }

  private static ProtoWriter graph(OnnxGraph g) {
    ProtoWriter w = new ProtoWriter();
    for (OnnxNode n : g.nodes()) {
      w.messageField(1, node(n));
    }
    w.optionalString(2, g.name());
    for (OnnxTensorData t : g.initializers()) {
      w.messageField(5, tensor(t));
    }
    for (OnnxValueInfo v : g.inputs()) {
      w.messageField(11, valueInfo(v));
    }
    for (OnnxValueInfo v : g.outputs()) {
      w.messageField(12, valueInfo(v));
    }
    for (OnnxValueInfo v : g.valueInfo()) {
      w.messageField(13, valueInfo(v));
    }
    return w;
  }

  private static ProtoWriter node(OnnxNode n) {
    ProtoWriter w = new ProtoWriter();
    for (String in : n.inputs()) {
      w.stringField(1, in);
    }
    for (String out : n.outputs()) {
      w.stringField(2, out);
    }
    w.optionalString(3, n.name());
    w.stringField(4, n.opType());
    for (OnnxAttribute a : n.attributes()) {
      w.messageField(5, attribute(a));
    }
    w.optionalString(7, n.domain());
    return w;
  }

  @SuppressWarnings("unchecked")
  private static ProtoWriter attribute(OnnxAttribute a) {
    ProtoWriter w = new ProtoWriter();
    w.stringField(1, a.name());
    Object v = a.rawValue();
    switch (a.kind()) {
      case FLOAT -> w.floatField(2, (Float) v);
      case INT -> w.int64Field(3, (Long) v);
      case STRING -> w.bytesField(4, (byte[]) v);
      case TENSOR -> w.messageField(5, tensor((OnnxTensorData) v));
      case GRAPH -> w.messageField(6, graph((OnnxGraph) v));
      case FLOATS -> {
        for (float f : (float[]) v) {
          w.floatField(7, f);
        }
      }
      case INTS -> {
        for (long i : (long[]) v) {
          w.int64Field(8, i);
        }
      }
      case STRINGS -> {
        for (byte[] s : (List<byte[]>) v) {
          w.bytesField(9, s);
        }
      }
      case TENSORS -> {
        for (OnnxTensorData t : (List<OnnxTensorData>) v) {
          w.messageField(10, tensor(t));
        }
      }
      case GRAPHS -> {
        for (OnnxGraph g : (List<OnnxGraph>) v) {
          w.messageField(11, graph(g));
        }
      }
      case TYPE_PROTO -> writeAll(w, 14, v);
      case TYPE_PROTOS -> writeAll(w, 15, v);
      case SPARSE_TENSOR -> writeAll(w, 22, v);
      case SPARSE_TENSORS -> writeAll(w, 23, v);
    }
    w.int64Field(20, a.kind().code());
    return w;
  }

  @SuppressWarnings("unchecked")
  private static void writeAll(ProtoWriter w, int field, Object messages) {
    for (byte[] m : (List<byte[]>) messages) {
      w.bytesField(field, m);
    }
  }

  private static ProtoWriter tensor(OnnxTensorData t) {
    ProtoWriter w = new ProtoWriter();
    for (long d : t.dims()) {
      w.int64Field(1, d);
    }
    w.int64Field(2, t.elementType().code());
    if (t.elementType() == ElementType.STRING) {
      for (byte[] s : t.stringsUnsafe()) {
        w.bytesField(6, s);
      }
    }
    w.optionalString(8, t.name());
    if (t.elementType() != ElementType.STRING && t.elementCount() > 0) {
      w.bytesField(9, t.rawUnsafe());
    }
    return w;
  }

  private static ProtoWriter valueInfo(OnnxValueInfo v) {
    ProtoWriter tensorType = new ProtoWriter();
    tensorType.int64Field(1, v.elementType().code());
    if (v.rankKnown()) {
      ProtoWriter shape = new ProtoWriter();
      for (Dim d : v.dims()) {
        ProtoWriter dim = new ProtoWriter();
        switch (d) {
          case Dim.Fixed f -> dim.int64Field(1, f.size());
          case Dim.Symbolic s -> dim.stringField(2, s.name());
          case Dim.Unknown u -> {}
        }
        shape.messageField(1, dim);
      }
      tensorType.messageField(2, shape);
    }
    ProtoWriter type = new ProtoWriter();
    type.messageField(1, tensorType);
    ProtoWriter w = new ProtoWriter();
    w.stringField(1, v.name());
    w.messageField(2, type);
    return w;
  }
}

package dev.verity.onnx;

import java.util.List;

/** Hand-built protobuf pieces for tests that need encodings the writer never produces. */
final class Protos {
  private Protos() {}

  /** A TensorProto with a name, a data type and a 1-D shape, no data yet. */
  static ProtoWriter tensorHeader(String name, ElementType type, long length) {
    ProtoWriter t = new ProtoWriter();
    t.int64Field(1, length);
    t.int64Field(2, type.code());
    t.stringField(8, name);
    return t;
  }

  static ProtoWriter valueInfo(String name, int elemType, long... dims) {
    ProtoWriter shape = new ProtoWriter();
    for (long d : dims) {
      ProtoWriter dim = new ProtoWriter();
      dim.int64Field(1, d);
      shape.messageField(1, dim);
    }
    ProtoWriter tensor = new ProtoWriter();
    tensor.int64Field(1, elemType);
    tensor.messageField(2, shape);
    ProtoWriter type = new ProtoWriter();
    type.messageField(1, tensor);
    ProtoWriter v = new ProtoWriter();
    v.stringField(1, name);
    v.messageField(2, type);
    return v;
  }

  static ProtoWriter node(String op, List<String> in, List<String> out, ProtoWriter... attrs) {
    ProtoWriter n = new ProtoWriter();
    for (String s : in) {
      n.stringField(1, s);
    }
    for (String s : out) {
      n.stringField(2, s);
    }
    n.stringField(4, op);
    for (ProtoWriter a : attrs) {
      n.messageField(5, a);
    }
    return n;
  }

  /** A model around a graph body, with IR version 8 and standard opset 13. */
  static byte[] model(ProtoWriter graph) {
    ProtoWriter m = new ProtoWriter();
    m.int64Field(1, 8);
    m.messageField(7, graph);
    ProtoWriter opset = new ProtoWriter();
    opset.stringField(1, "");
    opset.int64Field(2, 13);
    m.messageField(8, opset);
    return m.toByteArray();
  }

  /** A valid graph x -> Identity -> y, to which tests add parts. */
  static ProtoWriter identityGraph() {
    ProtoWriter g = new ProtoWriter();
    g.messageField(1, node("Identity", List.of("x"), List.of("y")));
    g.messageField(11, valueInfo("x", 1, 2));
    g.messageField(12, valueInfo("y", 1, 2));
    return g;
  }

  static byte[] modelWithInitializer(ProtoWriter tensor) {
    ProtoWriter g = identityGraph();
    g.messageField(5, tensor);
    return model(g);
  }

  static OnnxTensorData readInitializer(ProtoWriter tensor) {
    OnnxModel m = OnnxReader.read(modelWithInitializer(tensor));
    return m.graph().initializers().get(0);
  }

  static OnnxModel readWithNodeAttribute(ProtoWriter attribute) {
    ProtoWriter g = new ProtoWriter();
    g.messageField(1, node("Softmax", List.of("x"), List.of("y"), attribute));
    g.messageField(11, valueInfo("x", 1, 2));
    g.messageField(12, valueInfo("y", 1, 2));
    return OnnxReader.read(model(g));
  }
}

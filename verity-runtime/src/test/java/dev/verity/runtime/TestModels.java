package dev.verity.runtime;

import static dev.verity.protocol.tensor.ElementType.BOOL;
import static dev.verity.protocol.tensor.ElementType.FLOAT32;
import static dev.verity.protocol.tensor.ElementType.INT64;
import static dev.verity.protocol.tensor.ElementType.STRING;

import dev.verity.protocol.tensor.ElementType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** The small models engine tests run, built with {@link TinyOnnx}. */
final class TestModels {
  private TestModels() {}

  static final SessionConfig CONFIG = SessionConfig.builder().intraOpThreads(1).interOpThreads(1).build();

  /** z = x + y, all float32 [N, 3]. */
  static byte[] add() {
    return TinyOnnx.model(13)
        .input("x", FLOAT32, "N", 3)
        .input("y", FLOAT32, "N", 3)
        .output("z", FLOAT32, "N", 3)
        .node("Add", List.of("x", "y"), List.of("z"))
        .bytes();
  }

  /** z = x + y with unnamed dynamic axes, so broadcasting conflicts surface inside the runtime. */
  static byte[] looseAdd() {
    return TinyOnnx.model(13)
        .input("x", FLOAT32, null, null)
        .input("y", FLOAT32, null, null)
        .output("z", FLOAT32, null, null)
        .node("Add", List.of("x", "y"), List.of("z"))
        .bytes();
  }

  /** same = Equal(words, constant) for string [3]; the constant is stored as UTF-8 in the model. */
  static byte[] stringEquals(List<String> constant) {
    TinyOnnx.Proto t = new TinyOnnx.Proto().varint(1, constant.size()).varint(2, STRING.onnxCode());
    constant.forEach(c -> t.string(6, c));
    byte[] graph = new TinyOnnx.Proto()
        .bytes(1, TinyOnnx.nodeProto("Equal", List.of("words", "k"), List.of("same")))
        .string(2, "g")
        .bytes(5, t.string(8, "k").toBytes())
        .bytes(11, TinyOnnx.valueInfo("words", STRING, constant.size()))
        .bytes(12, TinyOnnx.valueInfo("same", BOOL, constant.size()))
        .toBytes();
    return TinyOnnx.modelWith(graph, 19);
  }

  /** One Identity per element type: in_<type> [n] -> out_<type> [n]. */
  static byte[] identities() {
    TinyOnnx m = TinyOnnx.model(13);
    for (ElementType t : ElementType.values()) {
      m.input("in_" + t.wireName(), t, "n").output("out_" + t.wireName(), t, "n")
          .node("Identity", List.of("in_" + t.wireName()), List.of("out_" + t.wireName()));
    }
    return m.bytes();
  }

  /**
   * Mixed types: notFlag = Not(flag) (bool [B]), next = count + 1 (int64 scalar, the 1 an
   * initializer), echo = Identity(words) (string [B]).
   */
  static byte[] mixed() {
    byte[] one = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1).array();
    return TinyOnnx.model(13)
        .input("flag", BOOL, "B")
        .input("count", INT64)
        .input("words", STRING, "B")
        .output("notFlag", BOOL, "B")
        .output("next", INT64)
        .output("echo", STRING, "B")
        .initializer("one", INT64, new long[0], one)
        .node("Not", List.of("flag"), List.of("notFlag"))
        .node("Add", List.of("count", "one"), List.of("next"))
        .node("Identity", List.of("words"), List.of("echo"))
        .bytes();
  }
}

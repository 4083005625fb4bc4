package dev.verity.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxReaderRejectsTest {

  private static DecodingException rejects(byte[] bytes, String expectedInMessage) {
    DecodingException e = assertThrows(DecodingException.class, () -> OnnxReader.read(bytes));
    assertTrue(
        e.getMessage().contains(expectedInMessage),
        "message should mention '" + expectedInMessage + "': " + e.getMessage());
    DecodingException summary =
        assertThrows(DecodingException.class, () -> OnnxReader.readInfo(bytes));
    assertTrue(
        summary.getMessage().contains(expectedInMessage),
        "summary message should mention '" + expectedInMessage + "': " + summary.getMessage());
    return e;
  }

  @Test
  void rejectsEmptyInput() {
    rejects(new byte[0], "empty");
  }

  @Test
  void rejectsTextAndOtherFileFormats() {
    assertThrows(DecodingException.class,
        () -> OnnxReader.read("hello, this is not a model".getBytes(StandardCharsets.UTF_8)));
    // The start of a zip archive, as a PyTorch checkpoint begins.
    assertThrows(DecodingException.class,
        () -> OnnxReader.read(new byte[] {'P', 'K', 3, 4, 20, 0, 0, 0, 8, 0}));
    assertThrows(DecodingException.class,
        () -> OnnxReader.read("{\"model\": 1}".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void rejectsEveryTruncationOfAModel() {
    // Without metadata the opset imports come last, so every strict prefix lacks a required part.
    OnnxModel m = OnnxRoundTripTest.smallClassifier();
    byte[] full = OnnxWriter.write(new OnnxModel(m.irVersion(), m.opsetImports(), m.producerName(),
        m.producerVersion(), m.domain(), m.modelVersion(), m.docString(), m.graph(), Map.of()));
    for (int n = 0; n < full.length; n++) {
      byte[] prefix = Arrays.copyOf(full, n);
      assertThrows(DecodingException.class, () -> OnnxReader.read(prefix), "prefix " + n);
      assertThrows(DecodingException.class, () -> OnnxReader.readInfo(prefix), "prefix " + n);
    }
  }

  @Test
  void rejectsLengthsPastTheEndOfInput() {
    ProtoWriter w = new ProtoWriter();
    w.tag(7, ProtoReader.LEN);
    w.varint(1_000_000);
    w.raw(new byte[10]);
    rejects(w.toByteArray(), "claims 1000000 bytes but only 10 remain");
  }

  @Test
  void rejectsAModelWithoutGraph() {
    ProtoWriter w = new ProtoWriter();
    w.int64Field(1, 8);
    w.stringField(2, "someone");
    rejects(w.toByteArray(), "no graph");
  }

  @Test
  void rejectsAModelWithoutOpsetImports() {
    ProtoWriter m = new ProtoWriter();
    m.int64Field(1, 8);
    m.messageField(7, Protos.identityGraph());
    rejects(m.toByteArray(), "opset_import");
  }

  @Test
  void rejectsAGraphWithoutOutputs() {
    ProtoWriter g = new ProtoWriter();
    g.messageField(1, Protos.node("Identity", List.of("x"), List.of("y")));
    g.messageField(11, Protos.valueInfo("x", 1, 2));
    rejects(Protos.model(g), "no outputs");
  }

  @Test
  void rejectsTwoMainGraphs() {
    ProtoWriter m = new ProtoWriter();
    m.messageField(7, Protos.identityGraph());
    m.raw(Protos.model(Protos.identityGraph()));
    rejects(m.toByteArray(), "more than one main graph");
  }

  @Test
  void rejectsNegativeDimensions() {
    ProtoWriter g = Protos.identityGraph();
    g.messageField(13, Protos.valueInfo("z", 1, 3, -4));
    rejects(Protos.model(g), "negative dimension -4");
    ProtoWriter t = Protos.tensorHeader("w", ElementType.FLOAT, -1);
    rejects(Protos.modelWithInitializer(t), "negative dimension -1");
  }

  @Test
  void rejectsShapesWhoseElementCountOverflowsOrExceedsTheLimit() {
    ProtoWriter g = Protos.identityGraph();
    g.messageField(13, Protos.valueInfo("z", 1, 1L << 40, 1L << 40));
    rejects(Protos.model(g), "more than 2147483648 elements");

    ProtoWriter t = new ProtoWriter();
    t.int64Field(1, 1L << 62);
    t.int64Field(1, 1L << 62);
    t.int64Field(2, 1);
    t.stringField(8, "w");
    rejects(Protos.modelWithInitializer(t), "more than 2147483648 elements");

    ProtoWriter small = Protos.identityGraph();
    small.messageField(13, Protos.valueInfo("z", 1, 100, 100));
    byte[] bytes = Protos.model(small);
    OnnxReader.read(bytes);
    OnnxReader.Limits tight = new OnnxReader.Limits(1000, 16, 64, 1000);
    DecodingException e =
        assertThrows(DecodingException.class, () -> OnnxReader.read(bytes, tight));
    assertTrue(e.getMessage().contains("more than 1000 elements"), e.getMessage());
  }

  @Test
  void rejectsTensorsWhoseDataDoesNotMatchTheirShape() {
    ProtoWriter t = Protos.tensorHeader("w", ElementType.FLOAT, 4);
    t.bytesField(9, new byte[12]);
    rejects(Protos.modelWithInitializer(t), "needs 16 bytes of raw_data, but has 12");

    ProtoWriter typed = Protos.tensorHeader("w", ElementType.INT64, 3);
    typed.int64Field(7, 1);
    rejects(Protos.modelWithInitializer(typed), "needs 3 int64_data entries, but has 1");

    ProtoWriter none = Protos.tensorHeader("w", ElementType.FLOAT, 2);
    rejects(Protos.modelWithInitializer(none), "but no data");

    ProtoWriter wrongField = Protos.tensorHeader("w", ElementType.FLOAT, 1);
    wrongField.int64Field(7, 1);
    rejects(Protos.modelWithInitializer(wrongField), "does not allow");

    ProtoWriter both = Protos.tensorHeader("w", ElementType.FLOAT, 1);
    both.bytesField(9, new byte[4]);
    both.floatField(4, 1f);
    rejects(Protos.modelWithInitializer(both), "both raw_data and float_data");
  }

  @Test
  void rejectsUnknownElementTypes() {
    ProtoWriter t = Protos.tensorHeader("w", ElementType.FLOAT, 0);
    t.int64Field(2, 99);
    rejects(Protos.modelWithInitializer(t), "unknown ONNX element type code 99");
    ProtoWriter g = Protos.identityGraph();
    g.messageField(13, Protos.valueInfo("z", 77, 1));
    rejects(Protos.model(g), "unknown ONNX element type code 77");
  }

  @Test
  void rejectsWeightsStoredInExternalFiles() {
    ProtoWriter t = Protos.tensorHeader("w", ElementType.FLOAT, 1000);
    ProtoWriter entry = new ProtoWriter();
    entry.stringField(1, "location");
    entry.stringField(2, "weights.bin");
    t.messageField(13, entry);
    t.int64Field(14, 1);
    DecodingException e = rejects(Protos.modelWithInitializer(t), "external file ('weights.bin')");
    assertTrue(e.getMessage().contains("not support"), e.getMessage());
  }

  @Test
  void rejectsSparseInitializers() {
    ProtoWriter g = Protos.identityGraph();
    g.messageField(15, new ProtoWriter());
    rejects(Protos.model(g), "sparse initializers");
  }

  @Test
  void rejectsNonTensorGraphInputs() {
    ProtoWriter seq = new ProtoWriter();
    seq.messageField(4, new ProtoWriter());
    ProtoWriter v = new ProtoWriter();
    v.stringField(1, "s");
    v.messageField(2, seq);
    ProtoWriter g = Protos.identityGraph();
    g.messageField(11, v);
    rejects(Protos.model(g), "graph input 's' is a sequence");
  }

  @Test
  void rejectsSubgraphsNestedTooDeeply() {
    OnnxGraph body = new OnnxGraph("b", List.of(), List.of(), List.of(),
        List.of(OnnxValueInfo.tensor("o", ElementType.FLOAT)), List.of());
    for (int i = 0; i < 20; i++) {
      OnnxNode n = OnnxNode.of("", "If", List.of("c"), List.of("o"),
          OnnxAttribute.ofGraph("then_branch", body));
      body = new OnnxGraph("b" + i, List.of(n), List.of(), List.of(),
          List.of(OnnxValueInfo.tensor("o", ElementType.FLOAT)), List.of());
    }
    OnnxModel model =
        OnnxModel.builder()
            .input("c", ElementType.BOOL)
            .output("o", ElementType.FLOAT)
            .node("If", List.of("c"), List.of("o"), OnnxAttribute.ofGraph("then_branch", body))
            .build();
    byte[] bytes = OnnxWriter.write(model);
    rejects(bytes, "nested more than 16 levels");
    OnnxReader.Limits deep = new OnnxReader.Limits(1L << 31, 32, 64, 1_000_000);
    assertEquals(model, OnnxReader.read(bytes, deep));
  }

  @Test
  void rejectsMalformedWireFormat() {
    rejects(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
        (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01}, "varint");
    rejects(new byte[] {0x0b, 0x00}, "group");        // field 1, start-group
    rejects(new byte[] {0x0e, 0x00}, "wire type 6");  // field 1, wire type 6
    rejects(new byte[] {0x00, 0x00}, "field number 0");
    rejects(new byte[] {0x08}, "truncated");          // ir_version with no value
    rejects(new byte[] {0x3a}, "truncated");          // graph with no length
    rejects(new byte[] {0x0a, 0x01}, "wire type 2, expected 0"); // ir_version as bytes
  }

  @Test
  void rejectsNamesThatAreNotUtf8() {
    ProtoWriter n = new ProtoWriter();
    n.stringField(1, "x");
    n.stringField(2, "y");
    n.bytesField(4, new byte[] {(byte) 0xC3, 0x28});
    ProtoWriter g = Protos.identityGraph();
    g.messageField(1, n);
    rejects(Protos.model(g), "not valid UTF-8");
  }

  @Test
  void rejectsModelsWithMoreItemsThanTheLimitAllows() {
    OnnxModel.Builder b = OnnxModel.builder().input("v0", ElementType.FLOAT);
    for (int i = 0; i < 200; i++) {
      b.node("Relu", List.of("v" + i), List.of("v" + (i + 1)));
    }
    byte[] bytes = OnnxWriter.write(b.output("v200", ElementType.FLOAT).build());
    OnnxReader.Limits tight = new OnnxReader.Limits(1L << 31, 16, 64, 300);
    DecodingException e =
        assertThrows(DecodingException.class, () -> OnnxReader.read(bytes, tight));
    assertTrue(e.getMessage().contains("maxItems"), e.getMessage());
    assertEquals(201, OnnxReader.read(bytes).graph().nodes().size() + 1);
  }

  @Test
  void rejectsFilesBeyondTheProtobufSizeLimit(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("huge.onnx");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE, StandardOpenOption.SPARSE)) {
      ch.write(ByteBuffer.wrap(new byte[] {1}), (1L << 31) + 10); // sparse: no disk used
    }
    DecodingException e = assertThrows(DecodingException.class, () -> OnnxReader.readInfo(file));
    assertTrue(e.getMessage().contains("2 GiB"), e.getMessage());
  }
}

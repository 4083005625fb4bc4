package dev.verity.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxRoundTripTest {

  static OnnxModel smallClassifier() {
    return OnnxModel.builder()
        .producer("verity-test", "1")
        .metadata("task", "classification")
        .input("features", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(3))
        .output("probabilities", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(2))
        .initializer("W", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})
        .initializer("B", new long[] {2}, new float[] {0.5f, -0.5f})
        .node("Gemm", List.of("features", "W", "B"), List.of("logits"),
            OnnxAttribute.ofInt("transB", 1), OnnxAttribute.ofFloat("alpha", 1f))
        .node("Softmax", List.of("logits"), List.of("probabilities"),
            OnnxAttribute.ofInt("axis", 1))
        .build();
  }

  @Test
  void readsBackWhatTheWriterWrote() {
    OnnxModel model = smallClassifier();
    OnnxModel read = OnnxReader.read(OnnxWriter.write(model));
    assertEquals(model, read);
    assertEquals(OnnxModel.DEFAULT_IR_VERSION, read.irVersion());
    assertEquals(Map.of("", OnnxModel.DEFAULT_OPSET), read.opsetImports());
    assertEquals("verity-test", read.producerName());
    assertEquals(Map.of("task", "classification"), read.metadata());
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, read.graph().initializer("W").get().floats());
    assertEquals(List.of(Dim.symbolic("N"), Dim.of(3)), read.realInputs().get(0).dims());
    assertEquals(1, read.graph().nodes().get(0).attribute("transB").get().asInt());
    assertEquals(Set.of("Gemm", "Softmax"), read.opTypes());
    assertEquals(8, read.parameterCount());
  }

  @Test
  void sameModelAlwaysGivesSameBytes() {
    byte[] first = OnnxWriter.write(smallClassifier());
    byte[] second = OnnxWriter.write(smallClassifier());
    assertArrayEquals(first, second);
    assertArrayEquals(first, OnnxWriter.write(OnnxReader.read(first)));
  }

  @Test
  void initializersListedAsInputsAreNotRealInputs() {
    OnnxModel model =
        OnnxModel.builder()
            .input("x", ElementType.FLOAT, Dim.of(2))
            .input("w", ElementType.FLOAT, Dim.of(2))
            .initializer("w", new long[] {2}, new float[] {1, 2})
            .output("y", ElementType.FLOAT, Dim.of(2))
            .node("Add", List.of("x", "w"), List.of("y"))
            .build();
    OnnxModel read = OnnxReader.read(OnnxWriter.write(model));
    assertEquals(2, read.graph().inputs().size());
    assertEquals(List.of("x"), read.realInputs().stream().map(OnnxValueInfo::name).toList());
    assertEquals(List.of("x"), OnnxReader.readInfo(OnnxWriter.write(model)).inputs().stream()
        .map(OnnxValueInfo::name).toList());
  }

  @Test
  void summaryOfAFileMatchesTheFullRead(@TempDir Path dir) throws Exception {
    OnnxModel model = smallClassifier();
    byte[] bytes = OnnxWriter.write(model);
    Path file = dir.resolve("m.onnx");
    Files.write(file, bytes);
    OnnxModelInfo info = OnnxReader.readInfo(file);
    assertEquals(OnnxModelInfo.of(model, bytes.length), info);
    assertEquals(bytes.length, info.fileSize());
    assertEquals(8, info.parameterCount());
    assertEquals(2, info.nodeCount());
  }

  @Test
  void keepsScalarUnknownRankAndUnknownDimsApart() {
    OnnxModel model =
        OnnxModel.builder()
            .input(OnnxValueInfo.tensor("scalar", ElementType.INT64))
            .input(OnnxValueInfo.unknownRank("any", ElementType.FLOAT))
            .input("partial", ElementType.DOUBLE, Dim.unknown(), Dim.of(0), Dim.symbolic("T"))
            .output("y", ElementType.FLOAT)
            .node("Identity", List.of("any"), List.of("y"))
            .build();
    List<OnnxValueInfo> in = OnnxReader.read(OnnxWriter.write(model)).realInputs();
    assertTrue(in.get(0).rankKnown());
    assertEquals(List.of(), in.get(0).dims());
    assertFalse(in.get(1).rankKnown());
    assertEquals(List.of(Dim.unknown(), Dim.of(0), Dim.symbolic("T")), in.get(2).dims());
    assertEquals("partial: DOUBLE[?,0,T]", in.get(2).toString());
  }

  @Test
  void decodesEveryTypedDataFieldIntoLittleEndianBytes() {
    // float_data, packed
    ProtoWriter f = Protos.tensorHeader("f", ElementType.FLOAT, 3);
    ProtoWriter packed = new ProtoWriter();
    for (float v : new float[] {1.5f, -2f, 3.25f}) {
      packed.fixed32(Float.floatToRawIntBits(v));
    }
    f.messageField(4, packed);
    assertArrayEquals(new float[] {1.5f, -2f, 3.25f}, Protos.readInitializer(f).floats());

    // int32_data for INT8, unpacked, negative values sign-extended on the wire
    ProtoWriter i8 = Protos.tensorHeader("i8", ElementType.INT8, 3);
    for (int v : new int[] {-1, 127, -128}) {
      i8.int64Field(5, v);
    }
    assertArrayEquals(new byte[] {-1, 127, -128}, Protos.readInitializer(i8).rawData());

    // int32_data for FLOAT16 bit patterns
    ProtoWriter h = Protos.tensorHeader("h", ElementType.FLOAT16, 2);
    ProtoWriter hp = new ProtoWriter();
    hp.varint(0x3C00);
    hp.varint(0xC000);
    h.messageField(5, hp);
    assertArrayEquals(
        new byte[] {0x00, 0x3C, 0x00, (byte) 0xC0}, Protos.readInitializer(h).rawData());

    // int32_data for INT4: each entry holds one packed byte (two elements)
    ProtoWriter i4 = Protos.tensorHeader("i4", ElementType.INT4, 3);
    i4.int64Field(5, 0x21);
    i4.int64Field(5, 0x03);
    assertArrayEquals(new byte[] {0x21, 0x03}, Protos.readInitializer(i4).rawData());

    // int64_data, mixed packed and unpacked occurrences concatenate
    ProtoWriter l = Protos.tensorHeader("l", ElementType.INT64, 3);
    l.int64Field(7, -5);
    ProtoWriter lp = new ProtoWriter();
    lp.varint(Long.MAX_VALUE);
    lp.varint(7);
    l.messageField(7, lp);
    assertArrayEquals(new long[] {-5, Long.MAX_VALUE, 7}, Protos.readInitializer(l).longs());

    // double_data
    ProtoWriter d = Protos.tensorHeader("d", ElementType.DOUBLE, 1);
    ByteBuffer db = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(Math.PI);
    d.bytesField(10, db.array());
    assertArrayEquals(new double[] {Math.PI}, Protos.readInitializer(d).doubles());

    // uint64_data for UINT32
    ProtoWriter u = Protos.tensorHeader("u", ElementType.UINT32, 1);
    u.int64Field(11, 0xFFFF_FFFEL);
    assertArrayEquals(new byte[] {-2, -1, -1, -1}, Protos.readInitializer(u).rawData());

    // string_data
    ProtoWriter s = Protos.tensorHeader("s", ElementType.STRING, 2);
    s.bytesField(6, "ab".getBytes(StandardCharsets.UTF_8));
    s.bytesField(6, new byte[0]);
    List<byte[]> strings = Protos.readInitializer(s).strings();
    assertArrayEquals("ab".getBytes(StandardCharsets.UTF_8), strings.get(0));
    assertEquals(0, strings.get(1).length);
  }

  @Test
  void skipsUnknownFieldsOfEveryWireType() {
    byte[] plain = OnnxWriter.write(smallClassifier());
    ProtoWriter w = new ProtoWriter();
    w.int64Field(99, 12345); // varint
    w.tag(98, ProtoReader.FIXED64);
    w.fixed32(1);
    w.fixed32(2);
    w.bytesField(97, new byte[] {1, 2, 3}); // length-delimited
    w.tag(96, ProtoReader.FIXED32);
    w.fixed32(7);
    w.raw(plain);
    w.int64Field(20, 1); // training_info number, wrong type: still skipped as unknown content
    OnnxModel read = OnnxReader.read(w.toByteArray());
    assertEquals(smallClassifier(), read);
  }

  @Test
  void infersTheKindOfAnUntypedAttributeFromItsOnlyValue() {
    ProtoWriter attr = new ProtoWriter();
    attr.stringField(1, "axis");
    attr.int64Field(3, 1); // i, with no type field: IR version 1 style
    OnnxModel m = Protos.readWithNodeAttribute(attr);
    OnnxAttribute a = m.graph().nodes().get(0).attribute("axis").orElseThrow();
    assertEquals(OnnxAttribute.Kind.INT, a.kind());
    assertEquals(1, a.asInt());
  }

  @Test
  void keepsSparseTensorAndTypeProtoAttributesOpaque() {
    byte[] sparse = {0x1a, 0x01, 0x02};
    ProtoWriter attr = new ProtoWriter();
    attr.stringField(1, "value");
    attr.bytesField(22, sparse);
    attr.int64Field(20, OnnxAttribute.Kind.SPARSE_TENSOR.code());
    OnnxModel m = Protos.readWithNodeAttribute(attr);
    OnnxAttribute a = m.graph().nodes().get(0).attribute("value").orElseThrow();
    assertArrayEquals(sparse, a.opaqueMessages().get(0));
    assertEquals(m, OnnxReader.read(OnnxWriter.write(m)));
    assertThrows(IllegalStateException.class, a::asInt);
  }

  @Test
  void tensorAccessorsRefuseTheWrongElementType() {
    OnnxTensorData t = OnnxTensorData.ofLongs("shape", new long[] {2}, new long[] {3, 4});
    IllegalStateException e = assertThrows(IllegalStateException.class, t::floats);
    assertTrue(e.getMessage().contains("INT64"), e.getMessage());
    assertArrayEquals(new long[] {3, 4}, t.longs());
  }

  @Test
  void builderRejectsValuesNoNodeDefines() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> OnnxModel.builder()
                .input("x", ElementType.FLOAT, Dim.of(1))
                .output("y", ElementType.FLOAT, Dim.of(1))
                .node("Add", List.of("x", "missing"), List.of("y"))
                .build());
    assertTrue(e.getMessage().contains("'missing'"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> OnnxModel.builder()
            .input("x", ElementType.FLOAT, Dim.of(1))
            .output("z", ElementType.FLOAT, Dim.of(1))
            .node("Relu", List.of("x"), List.of("y"))
            .build());
    assertThrows(
        IllegalArgumentException.class,
        () -> OnnxModel.builder()
            .input("x", ElementType.FLOAT, Dim.of(1))
            .output("x", ElementType.FLOAT, Dim.of(1))
            .node("Relu", List.of("x"), List.of("x"))
            .build());
  }
}

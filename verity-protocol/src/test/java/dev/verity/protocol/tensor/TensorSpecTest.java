package dev.verity.protocol.tensor;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.verity.core.DecodingException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class TensorSpecTest {
  private static final TensorSpec IMAGE =
      new TensorSpec("image", ElementType.FLOAT32, List.of(Dim.dynamic("N"), Dim.fixed(3), Dim.dynamic(""), Dim.fixed(2)));

  private static Tensor floats(long... shape) {
    return Tensor.ofFloats(shape, new float[(int) Tensor.elementCount(shape)]);
  }

  @Test
  void acceptsAnySizeOnDynamicAxesAndExactSizesOnFixedOnes() {
    assertDoesNotThrow(() -> IMAGE.check(floats(1, 3, 5, 2)));
    assertDoesNotThrow(() -> IMAGE.check(floats(7, 3, 1, 2)));
    assertDoesNotThrow(() -> IMAGE.check(floats(0, 3, 0, 2)));
  }

  @Test
  void rejectsWrongTypeNamingTensorAndBothTypes() {
    Tensor ints = Tensor.ofInts(new long[] {1, 3, 1, 2}, new int[6]);
    DecodingException e = assertThrows(DecodingException.class, () -> IMAGE.check(ints));
    assertEquals("input 'image' has type int32, model expects float32", e.getMessage());
  }

  @Test
  void namesAnOutputAsAnOutput() {
    Tensor ints = Tensor.ofInts(new long[] {1, 3, 1, 2}, new int[6]);
    DecodingException e = assertThrows(DecodingException.class, () -> IMAGE.check(ints, "output"));
    assertEquals("output 'image' has type int32, model expects float32", e.getMessage());
    e = assertThrows(DecodingException.class, () -> IMAGE.check(floats(1, 4, 1, 2), "output"));
    assertEquals("output 'image' has shape [1, 4, 1, 2], model expects [N, 3, ?, 2]", e.getMessage());
  }

  @Test
  void rejectsWrongFixedAxisNamingBothShapes() {
    DecodingException e = assertThrows(DecodingException.class, () -> IMAGE.check(floats(1, 4, 1, 2)));
    assertEquals("input 'image' has shape [1, 4, 1, 2], model expects [N, 3, ?, 2]", e.getMessage());
  }

  @Test
  void rejectsWrongRank() {
    DecodingException e = assertThrows(DecodingException.class, () -> IMAGE.check(floats(1, 3, 2)));
    assertEquals("input 'image' has shape [1, 3, 2], model expects [N, 3, ?, 2]", e.getMessage());
    TensorSpec scalar = new TensorSpec("s", ElementType.FLOAT32, List.of());
    assertDoesNotThrow(() -> scalar.check(floats()));
    assertThrows(DecodingException.class, () -> scalar.check(floats(1)));
  }

  @Test
  void specsRoundTripThroughCborWithSymbolsForDynamicAxes() {
    CborValue.Map m = IMAGE.toCbor();
    assertEquals(IMAGE, TensorSpec.fromCbor(Cbor.decodeMap(Cbor.encode(m))));
    assertEquals(List.of(new CborValue.Text("N"), new CborValue.Int(3), new CborValue.Text(""), new CborValue.Int(2)),
        m.getArray("shape"));
  }

  @Test
  void rejectsMalformedSpecs() {
    assertThrows(DecodingException.class, () -> new TensorSpec("", ElementType.INT8, List.of()));
    assertThrows(DecodingException.class, () -> new TensorSpec("x".repeat(257), ElementType.INT8, List.of()));
    assertThrows(DecodingException.class,
        () -> new TensorSpec("deep", ElementType.INT8, Collections.nCopies(TensorSpec.MAX_RANK + 1, Dim.fixed(1))));
    assertThrows(DecodingException.class, () -> Dim.fixed(-1));
    assertThrows(DecodingException.class, () -> Dim.dynamic("has\u0000control"));
    assertThrows(DecodingException.class, () -> Dim.dynamic("n".repeat(129)));
    assertThrows(DecodingException.class, () -> new Dim(-2, null));
    assertThrows(DecodingException.class, () -> new Dim(3, "N"));
    CborValue.Map unknownField = CborValue.Map.builder()
        .put("name", "x").put("type", "int8").put("shape", new CborValue.Array(List.of())).put("dtype", "int8").build();
    assertThrows(DecodingException.class, () -> TensorSpec.fromCbor(unknownField));
    CborValue.Map badType = CborValue.Map.builder()
        .put("name", "x").put("type", "float16").put("shape", new CborValue.Array(List.of())).build();
    assertThrows(DecodingException.class, () -> TensorSpec.fromCbor(badType));
    CborValue.Map badDim = CborValue.Map.builder()
        .put("name", "x").put("type", "int8").put("shape", new CborValue.Array(List.of(new CborValue.Bool(true)))).build();
    assertThrows(DecodingException.class, () -> TensorSpec.fromCbor(badDim));
    CborValue.Map negativeDim = CborValue.Map.builder()
        .put("name", "x").put("type", "int8").put("shape", new CborValue.Array(List.of(new CborValue.Int(-1)))).build();
    assertThrows(DecodingException.class, () -> TensorSpec.fromCbor(negativeDim));
  }

  @Test
  void elementTypeNamesAndCodesMatchNumpyAndOnnx() {
    for (ElementType t : ElementType.values()) {
      assertEquals(t, ElementType.fromWireName(t.wireName()));
      assertEquals(t, ElementType.fromOnnxCode(t.onnxCode()));
      if (t.npyDescr() != null) {
        assertEquals(t, ElementType.fromNpyDescr(t.npyDescr()));
      }
    }
    assertEquals(ElementType.INT8, ElementType.fromNpyDescr("<i1"));
    assertEquals(ElementType.FLOAT32, ElementType.fromNpyDescr("=f4"));
    assertThrows(DecodingException.class, () -> ElementType.fromNpyDescr(">f4"));
    assertThrows(DecodingException.class, () -> ElementType.fromNpyDescr("<f2"));
    assertThrows(DecodingException.class, () -> ElementType.fromWireName("Float32"));
    assertThrows(DecodingException.class, () -> ElementType.fromOnnxCode(10));
  }
}

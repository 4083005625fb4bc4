package dev.verity.protocol.tensor;

import static dev.verity.protocol.tensor.Transports.viaCbor;
import static dev.verity.protocol.tensor.Transports.viaJson;
import static dev.verity.protocol.tensor.Transports.viaNpy;
import static dev.verity.protocol.tensor.Transports.viaNpz;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TensorTransportTest {

  @ParameterizedTest
  @EnumSource(ElementType.class)
  void everyElementTypeRoundTripsThroughCanonicalCbor(ElementType type) {
    NamedTensors t = NamedTensors.of(Map.of("t", SampleTensors.of(type), "s", SampleTensors.scalar(type)));
    NamedTensors back = viaCbor(t);
    assertEquals(t, back);
    assertArrayEquals(t.canonicalBytes(), back.canonicalBytes());
  }

  @ParameterizedTest
  @EnumSource(ElementType.class)
  void everyElementTypeRoundTripsThroughJson(ElementType type) {
    NamedTensors t = NamedTensors.of(Map.of("t", SampleTensors.of(type), "s", SampleTensors.scalar(type)));
    NamedTensors back = viaJson(t);
    assertEquals(t, back);
    assertEquals(t.cid(), back.cid());
  }

  @ParameterizedTest
  @EnumSource(value = ElementType.class, names = "STRING", mode = EnumSource.Mode.EXCLUDE)
  void everyNumericTypeRoundTripsThroughNpyAndNpz(ElementType type) {
    Tensor t = SampleTensors.of(type);
    assertEquals(t, viaNpy(t));
    assertEquals(SampleTensors.scalar(type), viaNpy(SampleTensors.scalar(type)));
    NamedTensors named = NamedTensors.of(Map.of("t", t, "s", SampleTensors.scalar(type)));
    assertEquals(named, viaNpz(named));
  }

  @Test
  void cidIsTheSameWhicheverTransportCarriedTheTensors() {
    NamedTensors binary = SampleTensors.allBinary();
    Cid cid = binary.cid();
    assertEquals(cid, viaCbor(binary).cid());
    assertEquals(cid, viaJson(binary).cid());
    assertEquals(cid, viaNpz(binary).cid());
    assertEquals(cid, viaJson(viaNpz(binary)).cid());

    NamedTensors withStrings = SampleTensors.all();
    assertEquals(withStrings.cid(), viaJson(withStrings).cid());
    assertEquals(withStrings.cid(), viaCbor(withStrings).cid());
  }

  @Test
  void emptyTensorsRoundTripThroughEveryTransport() {
    NamedTensors t = NamedTensors.of(Map.of(
        "none", Tensor.ofFloats(new long[] {0, 3}, new float[0]),
        "nothing", Tensor.ofLongs(new long[] {2, 0, 5}, new long[0])));
    assertEquals(t, viaCbor(t));
    assertEquals(t, viaJson(t));
    assertEquals(t, viaNpz(t));
    assertEquals(0, viaNpz(t).get("none").elementCount());
  }

  @Test
  void float32EdgeValuesSurviveJsonBitForBit() {
    Tensor t = SampleTensors.of(ElementType.FLOAT32);
    float[] back = viaJson(NamedTensors.of("f", t)).get("f").toFloats();
    float[] sent = SampleTensors.FLOAT_EDGES;
    assertEquals(sent.length, back.length);
    for (int i = 0; i < sent.length; i++) {
      assertEquals(Float.floatToRawIntBits(sent[i]), Float.floatToRawIntBits(back[i]),
          "element " + i + " (" + sent[i] + ") changed to " + back[i]);
    }
  }

  @Test
  void float64EdgeValuesSurviveJsonBitForBit() {
    Tensor t = SampleTensors.of(ElementType.FLOAT64);
    double[] back = viaJson(NamedTensors.of("d", t)).get("d").toDoubles();
    double[] sent = SampleTensors.DOUBLE_EDGES;
    for (int i = 0; i < sent.length; i++) {
      assertEquals(Double.doubleToRawLongBits(sent[i]), Double.doubleToRawLongBits(back[i]),
          "element " + i + " (" + sent[i] + ") changed to " + back[i]);
    }
  }

  @Test
  void jsonWritesNonFiniteFloatsAsStringsAndNegativeZeroWithItsSign() {
    Tensor t = Tensor.ofFloats(new long[] {4}, new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f});
    String json = new String(TensorJson.toBytes(NamedTensors.of("f", t)), StandardCharsets.UTF_8);
    assertEquals("{\"f\":{\"type\":\"float32\",\"shape\":[4],\"data\":[\"NaN\",\"Infinity\",\"-Infinity\",-0.0]}}", json);
  }

  @Test
  void jsonDecimalsAreRoundedCorrectlyToFloat32() {
    String json = "{\"f\":{\"type\":\"float32\",\"shape\":[4],\"data\":[0.1, 16777217, 1e-46, 3.4028235677973366e38]}}";
    float[] v = TensorJson.read(json.getBytes(StandardCharsets.UTF_8), TensorLimits.DEFAULT).get("f").toFloats();
    assertEquals(Float.floatToRawIntBits(0.1f), Float.floatToRawIntBits(v[0]));
    assertEquals(16777216f, v[1], "ties round to even");
    assertEquals(0.0f, v[2], "below half of the smallest subnormal rounds to zero");
    assertEquals(Float.MAX_VALUE, v[3]);
  }

  @Test
  void jsonCarriesOnlyTheCanonicalQuietNan() {
    // A NaN with a payload survives binary transports bit for bit, but JSON names every NaN "NaN",
    // which reads back as the canonical quiet NaN: such tensors keep their CID only in binary form.
    ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0x7fa00001);
    NamedTensors payload = NamedTensors.of("n", Tensor.ofBytes(ElementType.FLOAT32, new long[] {1}, b.array()));
    assertEquals(payload, viaNpz(payload));
    assertEquals(payload, viaCbor(payload));
    float back = viaJson(payload).get("n").toFloats()[0];
    assertEquals(0x7fc00000, Float.floatToRawIntBits(back));
    assertNotEquals(payload.cid(), viaJson(payload).cid());
  }

  @Test
  void stringTensorsCannotBeWrittenAsNpy() {
    Tensor s = SampleTensors.of(ElementType.STRING);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npy.toBytes(s));
    assertTrue(e.getMessage().contains("JSON"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Npy.toNpz(NamedTensors.of("s", s)));
  }

  @Test
  void canonicalEncodingMatchesTheProtocolDocument() {
    // {"a": {"data": h'01ff', "type": "int8", "shape": [2]}}: keys shortest first, then bytewise.
    NamedTensors t = NamedTensors.of("a", Tensor.ofBytes(ElementType.INT8, new long[] {2}, new byte[] {1, -1}));
    assertEquals("a16161a3646461746142" + "01ff" + "6474797065" + "64696e7438" + "657368617065" + "8102",
        HexFormat.of().formatHex(t.canonicalBytes()));
    assertEquals(Cid.dagCbor(t.canonicalBytes()), t.cid());
    assertEquals(Cid.Codec.DAG_CBOR, t.cid().codec());
  }

  @Test
  void tensorsAreOrderedByCanonicalKeyOrderWhateverTheInsertionOrder() {
    Tensor one = Tensor.ofInts(new long[] {1}, new int[] {1});
    NamedTensors a = NamedTensors.of(new java.util.LinkedHashMap<>(Map.of("bb", one, "a", one, "c", one)));
    assertEquals(List.of("a", "c", "bb"), List.copyOf(a.names()));
    String json = "{\"bb\":{\"type\":\"int32\",\"shape\":[1],\"data\":[1]},\"a\":{\"data\":[1],\"shape\":[1],\"type\":\"int32\"},"
        + "\"c\":{\"shape\":[1],\"type\":\"int32\",\"data\":[1]}}";
    assertEquals(a.cid(), TensorJson.read(json.getBytes(StandardCharsets.UTF_8), TensorLimits.DEFAULT).cid());
  }

  @Test
  void differentDataGivesDifferentCid() {
    NamedTensors a = NamedTensors.of("x", Tensor.ofFloats(new long[] {2}, new float[] {1, 2}));
    NamedTensors b = NamedTensors.of("x", Tensor.ofFloats(new long[] {2}, new float[] {1, 3}));
    NamedTensors c = NamedTensors.of("x", Tensor.ofFloats(new long[] {1, 2}, new float[] {1, 2}));
    NamedTensors d = NamedTensors.of("y", Tensor.ofFloats(new long[] {2}, new float[] {1, 2}));
    assertNotEquals(a.cid(), b.cid());
    assertNotEquals(a.cid(), c.cid());
    assertNotEquals(a.cid(), d.cid());
  }

  @Test
  void loneSurrogatesAreRejectedBecauseUtf8CannotCarryThem() {
    assertThrows(DecodingException.class, () -> Tensor.ofStrings(new long[] {1}, List.of("bad \ud800 text")));
    String json = "{\"s\":{\"type\":\"string\",\"shape\":[1],\"data\":[\"\\ud800\"]}}";
    assertThrows(DecodingException.class, () -> TensorJson.read(json.getBytes(StandardCharsets.UTF_8), TensorLimits.DEFAULT));
  }
}

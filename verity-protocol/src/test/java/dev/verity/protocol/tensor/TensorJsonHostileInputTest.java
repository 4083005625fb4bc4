package dev.verity.protocol.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every malformed, oversized or hostile JSON document is refused with a DecodingException. */
class TensorJsonHostileInputTest {
  private static final TensorLimits SMALL = new TensorLimits(3, 100, 1000);

  private static DecodingException rejected(String json, TensorLimits limits) {
    return assertThrows(DecodingException.class,
        () -> TensorJson.read(json.getBytes(StandardCharsets.UTF_8), limits), json);
  }

  private static DecodingException rejected(String json) {
    return rejected(json, TensorLimits.DEFAULT);
  }

  private static String tensor(String type, String shape, String data) {
    return "{\"t\":{\"type\":\"" + type + "\",\"shape\":" + shape + ",\"data\":" + data + "}}";
  }

  @Test
  void rejectsEveryTruncationOfAValidDocument() {
    byte[] full = TensorJson.toBytes(SampleTensors.all());
    for (int n = 0; n < full.length; n++) {
      byte[] prefix = Arrays.copyOf(full, n);
      assertThrows(DecodingException.class, () -> TensorJson.read(prefix, TensorLimits.DEFAULT), "prefix of " + n);
    }
  }

  @Test
  void rejectsNumbersThatOverflowToInfinity() {
    assertTrue(rejected(tensor("float32", "[1]", "[1e39]")).getMessage().contains("out of range for float32"));
    assertTrue(rejected(tensor("float64", "[1]", "[-1e400]")).getMessage().contains("out of range for float64"));
    float f = TensorJson.read(tensor("float32", "[1]", "[\"-Infinity\"]").getBytes(StandardCharsets.UTF_8),
        TensorLimits.DEFAULT).get("t").toFloats()[0];
    assertTrue(f == Float.NEGATIVE_INFINITY);
  }

  @Test
  void rejectsShapesWithMoreElementsThanTheLimitBeforeReadingData() {
    DecodingException e = rejected(tensor("float32", "[10, 11]", "[]"), SMALL);
    assertTrue(e.getMessage().contains("110 elements; the limit is 100"), e.getMessage());
  }

  @Test
  void rejectsMoreTensorsThanTheLimit() {
    String one = "{\"type\":\"int8\",\"shape\":[1],\"data\":[1]}";
    String four = "{\"a\":" + one + ",\"b\":" + one + ",\"c\":" + one + ",\"d\":" + one + "}";
    assertTrue(rejected(four, SMALL).getMessage().contains("more than 3 tensors"));
  }

  @Test
  void rejectsMoreBytesThanTheLimitAcrossTensors() {
    String t = "{\"type\":\"float64\",\"shape\":[100],\"data\":[" + "0,".repeat(99) + "0]}";
    rejected("{\"a\":" + t + ",\"b\":" + t + "}", SMALL);
  }

  @Test
  void rejectsAClaimedSizeAboveTheByteLimitBeforeAllocatingIt() {
    // 2^28 float64 elements would be 2 GiB: the reader must refuse it from the shape alone.
    TensorLimits manyElements = new TensorLimits(4, Integer.MAX_VALUE, 1 << 20);
    DecodingException e = rejected(tensor("float64", "[268435456]", "[]"), manyElements);
    assertTrue(e.getMessage().contains("bytes"), e.getMessage());
    rejected("{\"t\":{\"data\":[],\"shape\":[268435456],\"type\":\"float64\"}}", manyElements);
    rejected(tensor("string", "[268435456]", "[\"a\"]"), manyElements);
  }

  @Test
  void rejectsElementCountThatDoesNotMatchTheShape() {
    assertTrue(rejected(tensor("int32", "[3]", "[1, 2]")).getMessage().contains("2 elements; its shape needs 3"));
    assertTrue(rejected(tensor("int32", "[3]", "[1, 2, 3, 4]")).getMessage().contains("more elements"));
    rejected(tensor("string", "[2]", "[\"a\"]"));
    rejected(tensor("string", "[1]", "[\"a\", \"b\"]"));
    rejected(tensor("bool", "[]", "[]"));
    rejected("{\"t\":{\"data\":[1,2,3],\"type\":\"int8\",\"shape\":[2]}}");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "int8:[128]", "int8:[-129]", "uint8:[-1]", "uint8:[256]", "int16:[32768]", "int16:[-32769]",
      "int32:[2147483648]", "int32:[-2147483649]", "int64:[9223372036854775808]",
      "int64:[-9223372036854775809]", "int64:[123456789012345678901234567890]", "int32:[1.5]",
      "int32:[1e3]", "int8:[\"1\"]", "int8:[true]", "int8:[null]", "bool:[1]", "bool:[\"true\"]",
      "float32:[true]", "float32:[\"nan\"]", "float32:[\"1.5\"]", "float32:[null]", "string:[1]",
      "string:[null]", "int8:[[1]]", "float32:[[1.0]]", "string:[[\"a\"]]", "bool:[[true]]",
      "int8:[{}]"})
  void rejectsValuesOfTheWrongKindOrOutOfRange(String typeAndData) {
    String[] p = typeAndData.split(":", 2);
    rejected(tensor(p[0], "[1]", p[1]));
  }

  @Test
  void acceptsTheExtremesOfEveryIntegerType() {
    TensorJson.read(tensor("int8", "[2]", "[-128, 127]").getBytes(StandardCharsets.UTF_8), TensorLimits.DEFAULT);
    TensorJson.read(tensor("uint8", "[2]", "[0, 255]").getBytes(StandardCharsets.UTF_8), TensorLimits.DEFAULT);
    NamedTensors t = TensorJson.read(
        tensor("int64", "[2]", "[-9223372036854775808, 9223372036854775807]").getBytes(StandardCharsets.UTF_8),
        TensorLimits.DEFAULT);
    assertEquals(Long.MIN_VALUE, t.get("t").toLongs()[0]);
    assertEquals(Long.MAX_VALUE, t.get("t").toLongs()[1]);
  }

  @Test
  void rejectsDuplicateTensorNames() {
    String one = "{\"type\":\"int8\",\"shape\":[1],\"data\":[1]}";
    assertTrue(rejected("{\"a\":" + one + ",\"a\":" + one + "}").getMessage().contains("twice"));
  }

  @Test
  void rejectsDuplicateFieldsInsideATensor() {
    rejected("{\"t\":{\"type\":\"int8\",\"shape\":[1],\"data\":[1],\"shape\":[2]}}");
    rejected("{\"t\":{\"type\":\"int8\",\"type\":\"int16\",\"shape\":[1],\"data\":[1]}}");
    rejected("{\"t\":{\"data\":[1],\"type\":\"int8\",\"shape\":[1],\"data\":[2]}}");
  }

  @Test
  void rejectsUnknownAndMissingFields() {
    assertTrue(rejected("{\"t\":{\"type\":\"int8\",\"shape\":[1],\"data\":[1],\"dtype\":\"int8\"}}")
        .getMessage().contains("unknown field 'dtype'"));
    rejected("{\"t\":{\"type\":\"int8\",\"shape\":[1]}}");
    rejected("{\"t\":{\"shape\":[1],\"data\":[1]}}");
    rejected("{\"t\":{\"type\":\"int8\",\"data\":[1]}}");
    rejected("{\"t\":{}}");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "", " ", "null", "[]", "1", "\"t\"", "{\"t\":1}", "{\"t\":[]}", "{\"t\":null}", "{} {}", "{}x",
      "{\"t\":{\"type\":1,\"shape\":[1],\"data\":[1]}}", "{\"t\":{\"type\":\"float16\",\"shape\":[1],\"data\":[1]}}",
      "{\"t\":{\"type\":\"int8\",\"shape\":1,\"data\":[1]}}", "{\"t\":{\"type\":\"int8\",\"shape\":[1],\"data\":1}}",
      "{\"t\":{\"type\":\"int8\",\"shape\":[-1],\"data\":[]}}", "{\"t\":{\"type\":\"int8\",\"shape\":[1.0],\"data\":[1]}}",
      "{\"t\":{\"type\":\"int8\",\"shape\":[\"N\"],\"data\":[1]}}",
      "{\"t\":{\"type\":\"int8\",\"shape\":[99999999999999999999999],\"data\":[]}}",
      "{\"t\":{\"type\":\"int8\",\"shape\":[1099511627776, 1099511627776],\"data\":[]}}",
      "{\"t\":{\"type\":\"int8\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"data\":[1]}}",
      "{\"\":{\"type\":\"int8\",\"shape\":[1],\"data\":[1]}}",
      "{\"t\":{\"type\":\"int8\",\"shape\":[1],\"data\":[01]}}", "{\"t\":{\"type\":\"float32\",\"shape\":[1],\"data\":[NaN]}}",
      "{'t':{'type':'int8','shape':[1],'data':[1]}}", "{\"t\":{\"type\":\"int8\",\"shape\":[1],\"data\":[1],}}"})
  void rejectsMalformedDocuments(String json) {
    rejected(json);
  }

  @Test
  void rejectsDeepNesting() {
    rejected("[".repeat(100_000));
    rejected(tensor("int8", "[1]", "[".repeat(5000) + "1" + "]".repeat(5000)));
    rejected("{\"t\":{\"data\":" + "[".repeat(5000) + "1" + "]".repeat(5000) + ",\"type\":\"int8\",\"shape\":[1]}}");
  }

  @Test
  void rejectsOverlongStringsAndNumbers() {
    rejected(tensor("string", "[1]", "[\"" + "x".repeat((1 << 20) + 1) + "\"]"));
    rejected(tensor("float64", "[1]", "[1" + "0".repeat(5000) + "]"));
  }

  @Test
  void rejectsInvalidUtf8() {
    byte[] bad = "{\"t\":{\"type\":\"string\",\"shape\":[1],\"data\":[\"XX\"]}}".getBytes(StandardCharsets.UTF_8);
    int at = new String(bad, StandardCharsets.UTF_8).indexOf("XX");
    bad[at] = (byte) 0xc3;
    bad[at + 1] = (byte) 0x28;
    assertThrows(DecodingException.class, () -> TensorJson.read(bad, TensorLimits.DEFAULT));
  }

  @Property(tries = 300)
  void randomBytesAreRejectedWithDecodingException(@ForAll @Size(max = 200) byte[] junk) {
    assertThrows(DecodingException.class, () -> TensorJson.read(junk, TensorLimits.DEFAULT));
  }

  @Property(tries = 500)
  void mutatedDocumentsDecodeOrAreRejectedWithDecodingException(
      @ForAll @IntRange(min = 0, max = 10_000) int position, @ForAll byte value) {
    byte[] doc = TensorJson.toBytes(SampleTensors.all());
    doc[position % doc.length] = value;
    try {
      TensorJson.read(doc, TensorLimits.DEFAULT);
    } catch (DecodingException expected) {
      // a clear refusal is the other allowed outcome
    }
  }
}

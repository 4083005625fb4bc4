package dev.verity.protocol.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * JSON float elements are parsed from the parser's buffer, not through the JDK's string parsing;
 * every value must still be exactly what {@link Float#parseFloat} and {@link Double#parseDouble}
 * give for the same digits (correct rounding), including halfway cases, long significands,
 * subnormals and the edges of the range.
 */
class TensorJsonFloatParsingTest {

  static ByteBuffer parse(String type, String number) {
    String json = "{\"x\": {\"type\": \"" + type + "\", \"shape\": [1], \"data\": [" + number + "]}}";
    Tensor t = TensorJson.read(json.getBytes(StandardCharsets.UTF_8), TensorLimits.DEFAULT).get("x");
    return ByteBuffer.wrap(t.bytes()).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** For float32 too when the value is within its range (beyond it the element is refused). */
  static void assertSameAsJdk(String number) {
    if (Float.isFinite(Float.parseFloat(number))) {
      assertEquals(Float.floatToRawIntBits(Float.parseFloat(number)), parse("float32", number).getInt(0), number);
    }
    assertEquals(Double.doubleToRawLongBits(Double.parseDouble(number)), parse("float64", number).getLong(0), number);
  }

  @Provide
  Arbitrary<String> decimals() {
    Arbitrary<String> sign = Arbitraries.of("", "-");
    Arbitrary<String> digits = Arbitraries.strings().withCharRange('0', '9').ofMinLength(1).ofMaxLength(30)
        .map(d -> d.length() > 1 && d.charAt(0) == '0' ? "1" + d.substring(1) : d);
    Arbitrary<String> fraction = Arbitraries.strings().withCharRange('0', '9').ofMinLength(0).ofMaxLength(30)
        .map(f -> f.isEmpty() ? "" : "." + f);
    Arbitrary<String> exponent = Arbitraries.integers().between(-50, 40).injectNull(0.4)
        .map(e -> e == null ? "" : "e" + e);
    return Combinators.combine(sign, digits, fraction, exponent).as((a, b, c, d) -> a + b + c + d);
  }

  @Property(tries = 2000)
  void randomDecimalsParseAsTheJdkParsesThem(@ForAll("decimals") String number) {
    float single = Float.parseFloat(number);
    double wide = Double.parseDouble(number);
    if (Float.isInfinite(single) || Double.isInfinite(wide)) {
      return; // overflow is refused, checked below
    }
    assertSameAsJdk(number);
  }

  @Property(tries = 2000)
  void everyFiniteFloatRoundTripsFromItsShortestText(@ForAll int bits) {
    float f = Float.intBitsToFloat(bits);
    if (!Float.isFinite(f)) {
      return;
    }
    assertEquals(bits, parse("float32", Float.toString(f)).getInt(0));
    assertSameAsJdk(Float.toString(f));
  }

  @Property(tries = 2000)
  void everyFiniteDoubleRoundTripsFromItsShortestText(@ForAll long bits) {
    double d = Double.longBitsToDouble(bits);
    if (!Double.isFinite(d)) {
      return;
    }
    assertEquals(bits, parse("float64", Double.toString(d)).getLong(0));
  }

  @Test
  void hardCasesParseAsTheJdkParsesThem() {
    // halfway between two floats (1 + 2^-24), just either side of it, long significands, the
    // smallest subnormals and the largest finite values, and integers above 2^24 and 2^53
    for (String n : List.of("1.000000059604644775390625", "1.0000000596046447753906249999999",
        "1.0000000596046447753906250000001", "16777217", "9007199254740993", "3.4028235e38", "3.4028234664e38",
        "1.4e-45", "7e-46", "1e-46", "2.2250738585072014e-308", "4.9e-324", "2.4703282292062328e-324",
        "1.7976931348623157e308", "0.1", "-0", "-0.0", "0e1000", "123456789012345678901234567890e-20",
        "0.30000000000000004", "1." + "0".repeat(400) + "1")) {
      assertSameAsJdk(n);
    }
  }

  @Test
  void overflowingDigitsAreRefusedAndOnlyTheNamedStringsAreNonFinite() {
    for (String n : List.of("3.5e38", "1e39", "1" + "0".repeat(60))) {
      DecodingException e = assertThrows(DecodingException.class, () -> parse("float32", n));
      assertTrue(e.getMessage().contains("out of range for float32"), e.getMessage());
    }
    DecodingException e = assertThrows(DecodingException.class, () -> parse("float64", "1e309"));
    assertTrue(e.getMessage().contains("out of range for float64"), e.getMessage());
    assertTrue(Float.isNaN(parse("float32", "\"NaN\"").getFloat(0)));
    assertEquals(Float.POSITIVE_INFINITY, parse("float32", "\"Infinity\"").getFloat(0));
    assertEquals(Double.NEGATIVE_INFINITY, parse("float64", "\"-Infinity\"").getDouble(0));
    assertThrows(DecodingException.class, () -> parse("float32", "\"inf\""));
    assertThrows(DecodingException.class, () -> parse("float32", "true"));
  }
}

package dev.verity.core.cbor;

import static dev.verity.core.TestVectors.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import dev.verity.core.TestVectors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The decoder accepts only canonical encodings of the subset and says what was wrong. */
class CborStrictnessTest {

  private static DecodingException rejects(String hex) {
    byte[] bytes = hex(hex);
    return assertThrows(DecodingException.class, () -> Cbor.decode(bytes), hex);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "1800", "1817", "190000", "1900ff", "1a00000000", "1a0000ffff",
        "1b0000000000000000", "1b00000000ffffffff",
        "3800", "3817", "390000", "3900ff", "3a0000ffff", "3b00000000ffffffff",
        "5800", "5817", "590000", "5a00000000", "5b0000000000000000", // byte string lengths
        "7800", "7801" + "61", "590001" + "00", // text and bytes with padded lengths
        "9800", "9801" + "00", "990000", "b800", "b801" + "616100"
      })
  void rejectsNonMinimalIntegersAndLengths(String hex) {
    assertTrue(rejects(hex).getMessage().contains("non-minimal"), hex);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "5fff", "5f4100ff", "7fff", "7f6161ff", "9fff", "9f00ff", "bfff", "bf616100ff",
        "ff", "1f", "3f", "df",
        "1c", "1d", "1e", "3c", "5c", "7c", "9c", "bc", "dc", "fc", "fd", "fe"
      })
  void rejectsIndefiniteLengthsBreaksAndReservedInfo(String hex) {
    rejects(hex);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "f90000", "f93c00", "fa47c35000", "fb3ff199999999999a", "f97e00", // floats
        "f7", "f0", "f3", "e0", "f800", "f814", "f8ff", // undefined and other simple values
        "c000", "c100", "c249010000000000000000", "d82a4100", "d9d9f700", "da0000000100", // tags
        "dbffffffffffffffff00", "d90102f6"
      })
  void rejectsFloatsSimpleValuesUndefinedAndTags(String hex) {
    rejects(hex);
  }

  @Test
  void rejectsIntegersOutsideTheSignedSixtyFourBitRange() {
    rejects("1b8000000000000000"); // 2^63
    rejects("1bffffffffffffffff"); // 2^64 - 1
    rejects("3b8000000000000000"); // -2^63 - 1
    rejects("3bffffffffffffffff"); // -2^64
  }

  @Test
  void rejectsDuplicateAndUnsortedKeys() {
    assertTrue(rejects("a2616101616102").getMessage().contains("order"), "duplicate key");
    rejects("a2616201616102"); // "b" before "a"
    rejects("a26262620161610 2".replace(" ", "")); // "bb" before "a": shorter keys come first
    rejects("a3616101617a0261620 3".replace(" ", "")); // "z" before "b"
    rejects("a262c3a901626262 02".replace(" ", "")); // "é" (c3 a9) before "bb" (62 62)
  }

  @ParameterizedTest
  @ValueSource(strings = {"a10102", "a1200102", "a1416102", "a18002", "a1a002", "a1f602", "a1f502"})
  void rejectsMapKeysThatAreNotText(String hex) {
    assertTrue(rejects(hex).getMessage().contains("not text"), hex);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "61ff", "6180", "61c3", "62c080", "62c1bf", // stray, truncated, overlong two-byte
        "63e08080", "63eda080", "63edbfbf", // overlong three-byte, UTF-16 surrogates
        "64f0808080", "64f4908080", "64f8888080", // overlong four-byte, above U+10FFFF, 5-byte lead
        "a161ff00" // invalid UTF-8 in a map key
      })
  void rejectsInvalidUtf8(String hex) {
    assertTrue(rejects(hex).getMessage().contains("UTF-8"), hex);
  }

  @Test
  void rejectsEveryTruncationOfEveryVector() {
    int checked = 0;
    for (String line : TestVectors.lines("cbor-cborg.txt")) {
      byte[] full = hex(line.substring(0, line.indexOf(' ')));
      for (int n = 0; n < full.length; n++) {
        byte[] prefix = Arrays.copyOf(full, n);
        assertThrows(DecodingException.class, () -> Cbor.decode(prefix), line + " cut at " + n);
        checked++;
      }
    }
    assertTrue(checked > 3_000, "too few truncations checked: " + checked);
  }

  @Test
  void rejectsTrailingBytes() {
    assertTrue(rejects("0000").getMessage().contains("trailing"));
    rejects("a0a0");
    rejects("f6ff");
    rejects("8100" + "00");
  }

  private static byte[] nestedArrays(int levels) {
    byte[] b = new byte[levels + 1];
    Arrays.fill(b, 0, levels, (byte) 0x81); // array of one item
    b[levels] = 0x00; // innermost: the integer 0
    return b;
  }

  private static CborValue nestedValue(int levels) {
    CborValue v = new CborValue.Int(0);
    for (int i = 0; i < levels; i++) {
      v = i % 2 == 0 ? new CborValue.Array(List.of(v)) : CborValue.Map.builder().put("k", v).build();
    }
    return v;
  }

  @Test
  void acceptsNestingUpToMaxDepthAndNoFurther() {
    Cbor.decode(nestedArrays(Cbor.MAX_DEPTH));
    assertTrue(rejects(TestVectors.hex(nestedArrays(Cbor.MAX_DEPTH + 1))).getMessage().contains("nesting"));
    // Far deeper input is refused without exhausting the stack.
    assertThrows(DecodingException.class, () -> Cbor.decode(nestedArrays(1_000_000)));
  }

  @Test
  void encoderRefusesWhatTheDecoderWouldRefuse() {
    CborValue deepest = nestedValue(Cbor.MAX_DEPTH);
    assertEquals(deepest, Cbor.decode(Cbor.encode(deepest)));
    CborValue tooDeep = nestedValue(Cbor.MAX_DEPTH + 1);
    assertThrows(IllegalArgumentException.class, () -> Cbor.encode(tooDeep));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "5bffffffffffffffff", "5b7fffffffffffffff", "5b00000001000000" + "00", "5affffffff",
        "7bffffffffffffffff", "7b7fffffffffffffff", "7affffffff61",
        "9bffffffffffffffff", "9b7fffffffffffffff", "9affffffff00", "9a7fffffff",
        "bbffffffffffffffff", "bb7fffffffffffffff", "baffffffff6161"
      })
  void rejectsHugeDeclaredLengthsWithoutAllocatingThem(String hex) {
    // The heap is far smaller than these lengths: allocating them would fail with an
    // OutOfMemoryError instead of this DecodingException.
    rejects(hex);
  }

  @Test
  void rejectsMillionsOfDeclaredItemsBackedByFewBytes() {
    byte[] b = new byte[1 << 16];
    b[0] = (byte) 0x9a; // array of 2^31 - 1 items, 65531 bytes of them present
    b[1] = 0x7f;
    b[2] = (byte) 0xff;
    b[3] = (byte) 0xff;
    b[4] = (byte) 0xff;
    assertThrows(DecodingException.class, () -> Cbor.decode(b));
  }

  @Test
  void decodeMapInsistsOnAMapAtTheTop() {
    assertThrows(DecodingException.class, () -> Cbor.decodeMap(hex("80")));
    assertThrows(DecodingException.class, () -> Cbor.decodeMap(hex("f6")));
    assertEquals(0, Cbor.decodeMap(hex("a0")).size());
  }

  @Test
  void mapAccessorsNameTheFieldThatIsWrong() {
    CborValue.Map m =
        CborValue.Map.builder()
            .put("n", 5)
            .put("big", Long.MAX_VALUE)
            .put("t", "text")
            .put("b", new byte[] {1})
            .put("f", true)
            .putTextList("l", List.of("x", "y"))
            .put("mixed", new CborValue.Array(List.of(new CborValue.Int(1))))
            .put("m", CborValue.Map.builder().build())
            .build();
    assertEquals(5, m.getInt("n"));
    assertEquals("text", m.getText("t"));
    assertEquals(List.of("x", "y"), m.getTextList("l"));
    assertTrue(m.getBool("f"));
    assertEquals(0, m.getMap("m").size());
    List<Runnable> wrong = new ArrayList<>();
    wrong.add(() -> m.getLong("t"));
    wrong.add(() -> m.getText("n"));
    wrong.add(() -> m.getBytes("n"));
    wrong.add(() -> m.getBool("n"));
    wrong.add(() -> m.getMap("n"));
    wrong.add(() -> m.getArray("n"));
    wrong.add(() -> m.getTextList("mixed"));
    wrong.add(() -> m.getInt("big"));
    for (Runnable r : wrong) {
      assertThrows(DecodingException.class, r::run);
    }
    assertTrue(assertThrows(DecodingException.class, () -> m.get("absent")).getMessage().contains("'absent'"));
    assertTrue(
        assertThrows(DecodingException.class, () -> m.requireOnly(Set.of("n", "t")))
            .getMessage()
            .contains("unknown field"));
    m.requireOnly(m.entries().keySet());
  }

  @Test
  void valuesAreImmutable() {
    byte[] raw = {1, 2};
    CborValue.Bytes b = new CborValue.Bytes(raw);
    raw[0] = 9;
    b.value()[1] = 9;
    assertEquals(new CborValue.Bytes(new byte[] {1, 2}), b);
    CborValue.Map m = CborValue.Map.builder().put("a", 1).build();
    assertThrows(UnsupportedOperationException.class, () -> m.entries().put("b", new CborValue.Int(2)));
    List<CborValue> items = new ArrayList<>(List.of(new CborValue.Int(1)));
    CborValue.Array a = new CborValue.Array(items);
    items.add(new CborValue.Int(2));
    assertEquals(1, a.size());
  }

  @Test
  void builderRejectsDuplicateKeys() {
    CborValue.Map.Builder b = CborValue.Map.builder().put("a", 1);
    assertThrows(IllegalArgumentException.class, () -> b.put("a", 2));
  }

  /** A lone surrogate has no UTF-8 form; encoding it would silently turn it into '?'. */
  @Test
  void rejectsTextThatHasNoUtf8Form() {
    assertThrows(IllegalArgumentException.class, () -> new CborValue.Text("a\uD800"));
    assertThrows(IllegalArgumentException.class, () -> new CborValue.Text("\uDC00b"));
    assertThrows(IllegalArgumentException.class, () -> new CborValue.Text("\uDC00\uD800"));
    assertThrows(IllegalArgumentException.class, () -> CborValue.Map.builder().put("\uD800", 1));
    assertEquals("f09f9982", TestVectors.hex(Cbor.encode(new CborValue.Text("\uD83D\uDE42"))).substring(2));
  }
}

package dev.verity.core.cbor;

import static dev.verity.core.TestVectors.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import dev.verity.core.TestVectors;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The canonical encoding against RFC 8949 Appendix A and an independent encoder (cborg). */
class CborVectorsTest {

  private static void assertEncodesExactly(String hex, String diagnostic) {
    CborValue value = Diagnostic.parse(diagnostic);
    assertEquals(hex, hex(Cbor.encode(value)), diagnostic);
    assertEquals(value, Cbor.decode(hex(hex)), diagnostic);
  }

  @Test
  void encodesTheRfc8949ExamplesInOurSubsetExactly() {
    int accepted = 0;
    for (String line : TestVectors.lines("cbor-rfc8949.txt")) {
      String[] f = line.split(" ", 3);
      if (f[0].equals("accept")) {
        assertEncodesExactly(f[1], f[2]);
        accepted++;
      }
    }
    assertEquals(34, accepted);
  }

  @Test
  void rejectsTheRfc8949ExamplesOutsideOurSubset() {
    int rejected = 0;
    for (String line : TestVectors.lines("cbor-rfc8949.txt")) {
      String[] f = line.split(" ", 3);
      if (f[0].equals("reject")) {
        byte[] bytes = hex(f[1]);
        assertThrows(DecodingException.class, () -> Cbor.decode(bytes), f[2]);
        rejected++;
      }
    }
    assertEquals(48, rejected);
  }

  @Test
  void matchesAnIndependentCanonicalEncoder() {
    List<String> lines = TestVectors.lines("cbor-cborg.txt");
    assertTrue(lines.size() > 150, "cborg vectors missing");
    for (String line : lines) {
      int space = line.indexOf(' ');
      assertEncodesExactly(line.substring(0, space), line.substring(space + 1));
    }
  }

  /** The shortest-form boundaries of RFC 8949 section 4.2.1, for both signs. */
  @ParameterizedTest
  @CsvSource({
    "0, 00",
    "23, 17",
    "24, 1818",
    "255, 18ff",
    "256, 190100",
    "65535, 19ffff",
    "65536, 1a00010000",
    "4294967295, 1affffffff",
    "4294967296, 1b0000000100000000",
    "9223372036854775807, 1b7fffffffffffffff",
    "-1, 20",
    "-24, 37",
    "-25, 3818",
    "-256, 38ff",
    "-257, 390100",
    "-65536, 39ffff",
    "-65537, 3a00010000",
    "-4294967296, 3affffffff",
    "-4294967297, 3b0000000100000000",
    "-9223372036854775808, 3b7fffffffffffffff"
  })
  void encodesIntegerBoundariesInTheShortestForm(long value, String hex) {
    assertEquals(hex, hex(Cbor.encode(new CborValue.Int(value))));
    assertEquals(new CborValue.Int(value), Cbor.decode(hex(hex)));
  }

  @Test
  void encodesLengthBoundariesInTheShortestForm() {
    assertEquals("57", hex(Cbor.encode(new CborValue.Bytes(new byte[23]))).substring(0, 2));
    assertEquals("5818", hex(Cbor.encode(new CborValue.Bytes(new byte[24]))).substring(0, 4));
    assertEquals("58ff", hex(Cbor.encode(new CborValue.Bytes(new byte[255]))).substring(0, 4));
    assertEquals("590100", hex(Cbor.encode(new CborValue.Bytes(new byte[256]))).substring(0, 6));
    assertEquals("59ffff", hex(Cbor.encode(new CborValue.Bytes(new byte[65535]))).substring(0, 6));
    assertEquals("5a00010000", hex(Cbor.encode(new CborValue.Bytes(new byte[65536]))).substring(0, 10));
    assertEquals("7818", hex(Cbor.encode(new CborValue.Text("x".repeat(24)))).substring(0, 4));
    CborValue bigArray =
        new CborValue.Array(java.util.Collections.nCopies(256, CborValue.Null.INSTANCE));
    assertEquals("990100", hex(Cbor.encode(bigArray)).substring(0, 6));
    assertEquals(bigArray, Cbor.decode(Cbor.encode(bigArray)));
  }

  @Test
  void sortsMapKeysShortestFirstThenBytewise() {
    CborValue.Map m =
        CborValue.Map.builder()
            .put("bb", 1)
            .put("a", 2)
            .put("é", 3) // two UTF-8 bytes: sorts with the two-character keys
            .put("ab", 4)
            .put("z", 5)
            .build();
    // a, z, ab, bb, é (c3 a9 sorts after 62 62)
    assertEquals(
        "a5616102617a05626162046262620162c3a903", hex(Cbor.encode(m)));
    assertEquals(List.of("a", "z", "ab", "bb", "é"), List.copyOf(m.entries().keySet()));
  }
}

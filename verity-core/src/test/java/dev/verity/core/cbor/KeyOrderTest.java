package dev.verity.core.cbor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * Canonical key order is computed from the characters; it must agree with its definition (UTF-8
 * length, then UTF-8 bytes, as {@code getBytes(UTF_8)} encodes) for every pair of strings,
 * surrogate pairs and unpaired surrogates included.
 */
class KeyOrderTest {
  static int byDefinition(String a, String b) {
    byte[] x = a.getBytes(StandardCharsets.UTF_8);
    byte[] y = b.getBytes(StandardCharsets.UTF_8);
    int byLength = Integer.compare(x.length, y.length);
    return byLength != 0 ? byLength : Arrays.compareUnsigned(x, y);
  }

  @Provide
  Arbitrary<String> keys() {
    // ASCII, two- and three-byte characters, the private-use area above the surrogates, surrogate
    // pairs and lone surrogates: the places where UTF-16 order and UTF-8 order part ways
    Arbitrary<Character> chars = Arbitraries.oneOf(Arbitraries.chars().range('a', 'e'),
        Arbitraries.chars().range('\u00e0', '\u00e3'), Arbitraries.chars().range('\u0800', '\u0802'),
        Arbitraries.chars().range('\uE000', '\uE002'), Arbitraries.chars().range('\uFFFD', '\uFFFF'),
        Arbitraries.chars().range('\uD800', '\uD801'), Arbitraries.chars().range('\uDC00', '\uDC01'),
        Arbitraries.of('?'));
    return chars.list().ofMaxSize(6).map(cs -> {
      StringBuilder b = new StringBuilder();
      cs.forEach(b::append);
      return b.toString();
    });
  }

  @Property(tries = 5000)
  void agreesWithTheDefinition(@ForAll("keys") String a, @ForAll("keys") String b) {
    assertEquals(Integer.signum(byDefinition(a, b)), Integer.signum(CborValue.Map.KEY_ORDER.compare(a, b)),
        () -> "'" + a + "' vs '" + b + "'");
    assertEquals(a.getBytes(StandardCharsets.UTF_8).length, CborValue.Map.utf8Length(a));
  }

  @Test
  void knownCases() {
    for (List<String> pair : List.of(List.of("b", "aa"), List.of("z", "\u00e9"), List.of("\uFFFF", "\uD800\uDC00"),
        List.of("\uD800", "a"), List.of("\uD800", "?"), List.of("method", "path"), List.of("", "a"))) {
      String a = pair.get(0);
      String b = pair.get(1);
      assertEquals(Integer.signum(byDefinition(a, b)), Integer.signum(CborValue.Map.KEY_ORDER.compare(a, b)), a + " " + b);
      assertEquals(Integer.signum(byDefinition(b, a)), Integer.signum(CborValue.Map.KEY_ORDER.compare(b, a)), b + " " + a);
    }
  }
}

package dev.verity.core.cbor;

import static dev.verity.core.TestVectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import dev.verity.core.TestVectors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** Round trips, determinism, and the decoder's behaviour on arbitrary and mutated bytes. */
class CborPropertiesTest {

  @Provide
  Arbitrary<CborValue> values() {
    return Arbitraries.recursive(this::leaves, this::containersOf, 0, 4);
  }

  private Arbitrary<CborValue> leaves() {
    Arbitrary<Long> boundaries =
        Arbitraries.of(
            0L, 23L, 24L, 255L, 256L, 65535L, 65536L, 4294967295L, 4294967296L, Long.MAX_VALUE,
            -1L, -24L, -25L, -256L, -257L, -65536L, -65537L, -4294967296L, -4294967297L,
            Long.MIN_VALUE);
    return Arbitraries.oneOf(
        Arbitraries.oneOf(Arbitraries.longs(), boundaries).map(CborValue.Int::new),
        Arbitraries.bytes().array(byte[].class).ofMaxSize(40).map(CborValue.Bytes::new),
        texts(12).map(CborValue.Text::new),
        Arbitraries.of(true, false).map(CborValue.Bool::new),
        Arbitraries.just(CborValue.Null.INSTANCE));
  }

  /** Strings of any Unicode scalar values, weighted towards short ASCII so map keys collide. */
  private static Arbitrary<String> texts(int maxLength) {
    Arbitrary<String> unicode =
        Arbitraries.integers()
            .between(0, Character.MAX_CODE_POINT)
            .filter(cp -> cp < Character.MIN_SURROGATE || cp > Character.MAX_SURROGATE)
            .list()
            .ofMaxSize(maxLength)
            .map(
                cps -> {
                  StringBuilder sb = new StringBuilder();
                  cps.forEach(sb::appendCodePoint);
                  return sb.toString();
                });
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(3, Arbitraries.strings().withChars("abz").ofMaxLength(3)),
        net.jqwik.api.Tuple.of(1, unicode));
  }

  private Arbitrary<CborValue> containersOf(Arbitrary<CborValue> inner) {
    Arbitrary<CborValue> arrays = inner.list().ofMaxSize(5).map(CborValue.Array::new);
    Arbitrary<CborValue> maps =
        Combinators.combine(texts(6), inner)
            .as(Map::entry)
            .list()
            .ofMaxSize(5)
            .map(
                entries -> {
                  CborValue.Map.Builder b = CborValue.Map.builder();
                  List<String> seen = new ArrayList<>();
                  for (var e : entries) {
                    if (!seen.contains(e.getKey())) {
                      seen.add(e.getKey());
                      b.put(e.getKey(), e.getValue());
                    }
                  }
                  return b.build();
                });
    return Arbitraries.oneOf(inner, arrays, maps);
  }

  @Property(tries = 1000)
  void everyValueRoundTrips(@ForAll("values") CborValue value) {
    byte[] encoded = Cbor.encode(value);
    CborValue decoded = Cbor.decode(encoded);
    assertEquals(value, decoded);
    assertEquals(value.hashCode(), decoded.hashCode());
    assertArrayEquals(encoded, Cbor.encode(decoded));
  }

  /** Rebuilds a value inserting map entries in reverse order. */
  private static CborValue reversed(CborValue v) {
    return switch (v) {
      case CborValue.Array a -> new CborValue.Array(a.items().stream().map(CborPropertiesTest::reversed).toList());
      case CborValue.Map m -> {
        CborValue.Map.Builder b = CborValue.Map.builder();
        List<String> keys = new ArrayList<>(m.entries().keySet());
        for (int i = keys.size() - 1; i >= 0; i--) {
          b.put(keys.get(i), reversed(m.get(keys.get(i))));
        }
        yield b.build();
      }
      default -> v;
    };
  }

  @Property(tries = 500)
  void encodingIsDeterministicWhateverTheInsertionOrder(@ForAll("values") CborValue value) {
    byte[] once = Cbor.encode(value);
    assertArrayEquals(once, Cbor.encode(value));
    assertArrayEquals(once, Cbor.encode(reversed(value)));
  }

  /** Whatever the decoder accepts is the one canonical encoding of what it returns. */
  private static void decodesCanonicallyOrRejects(byte[] bytes) {
    CborValue decoded;
    try {
      decoded = Cbor.decode(bytes);
    } catch (DecodingException expected) {
      return;
    }
    assertArrayEquals(bytes, Cbor.encode(decoded), "accepted a non-canonical encoding");
  }

  @Property(tries = 2000)
  void arbitraryBytesFailOnlyWithDecodingException(@ForAll @Size(max = 64) byte[] bytes) {
    decodesCanonicallyOrRejects(bytes);
  }

  @Property(tries = 2000)
  void singleByteMutationsAreRejectedOrDecodeToAnotherCanonicalValue(
      @ForAll("values") CborValue value, @ForAll int position, @ForAll byte replacement) {
    byte[] encoded = Cbor.encode(value);
    int at = Math.floorMod(position, encoded.length);
    Assume.that(encoded[at] != replacement);
    byte[] mutated = encoded.clone();
    mutated[at] = replacement;
    CborValue decoded;
    try {
      decoded = Cbor.decode(mutated);
    } catch (DecodingException expected) {
      return;
    }
    assertNotEquals(value, decoded);
    assertArrayEquals(mutated, Cbor.encode(decoded));
  }

  @Property(tries = 200)
  void everyProperPrefixIsRejected(@ForAll("values") CborValue value) {
    byte[] encoded = Cbor.encode(value);
    for (int n = 0; n < encoded.length; n++) {
      byte[] prefix = Arrays.copyOf(encoded, n);
      assertThrows(DecodingException.class, () -> Cbor.decode(prefix));
    }
  }

  /** Every position of every RFC 8949 example in the subset, every replacement byte. */
  @Test
  void exhaustiveSingleByteMutationsOfTheRfcExamples() {
    List<byte[]> encodings = new ArrayList<>();
    for (String line : TestVectors.lines("cbor-rfc8949.txt")) {
      if (line.startsWith("accept ")) {
        encodings.add(hex(line.split(" ")[1]));
      }
    }
    long mutations = 0;
    for (byte[] encoded : encodings) {
      CborValue original = Cbor.decode(encoded);
      for (int at = 0; at < encoded.length; at++) {
        for (int r = 0; r < 256; r++) {
          if ((byte) r == encoded[at]) {
            continue;
          }
          byte[] mutated = encoded.clone();
          mutated[at] = (byte) r;
          try {
            CborValue decoded = Cbor.decode(mutated);
            assertNotEquals(original, decoded);
            assertArrayEquals(mutated, Cbor.encode(decoded));
          } catch (DecodingException expected) {
            // rejected: fine
          }
          mutations++;
        }
      }
    }
    assertTrue(mutations > 30_000, "too few mutations tried: " + mutations);
  }
}

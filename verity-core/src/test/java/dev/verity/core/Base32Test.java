package dev.verity.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class Base32Test {

  /** RFC 4648 section 10, lower-cased and without padding (the CIDv1 "b" multibase). */
  @ParameterizedTest
  @CsvSource({
    "'', ''",
    "f, my",
    "fo, mzxq",
    "foo, mzxw6",
    "foob, mzxw6yq",
    "fooba, mzxw6ytb",
    "foobar, mzxw6ytboi"
  })
  void matchesRfc4648Vectors(String plain, String encoded) {
    byte[] bytes = plain.getBytes(StandardCharsets.US_ASCII);
    assertEquals(encoded, Base32.encode(bytes));
    assertArrayEquals(bytes, Base32.decode(encoded));
  }

  @Test
  void encodesEveryByteValue() {
    byte[] all = new byte[256];
    for (int i = 0; i < all.length; i++) {
      all[i] = (byte) i;
    }
    assertArrayEquals(all, Base32.decode(Base32.encode(all)));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "MZXW6", // upper case is another multibase ("B"), not ours
        "mzxw6===", // padding
        "mzxw6ytboi======",
        "mzx0", // 0, 1, 8, 9 are not in the alphabet
        "mzx1",
        "mzx8",
        "mzx9",
        "mz w6",
        "mzxw6\n",
        "mzxé",
        "m", // lengths 1, 3 and 6 (mod 8) encode no whole number of bytes
        "mzx",
        "mzxw6y",
        "mzxw6ytbo",
        "mz", // "f" is "my": the 2 unused trailing bits must be zero
        "mzxr", // "fo" is "mzxq"
        "mzxw7" // "foo" is "mzxw6"
      })
  void rejectsTextThatIsNotCanonicalLowerCaseBase32(String text) {
    assertThrows(DecodingException.class, () -> Base32.decode(text));
  }

  @Property
  void roundTripsAnyBytes(@ForAll byte[] data) {
    assertArrayEquals(data, Base32.decode(Base32.encode(data)));
  }

  /** Whatever decodes must be the one encoding of its bytes, so a name has one spelling. */
  @Property
  void decodesOnlyCanonicalTextAndFailsOnlyWithDecodingException(@ForAll("base32ish") String text) {
    byte[] decoded;
    try {
      decoded = Base32.decode(text);
    } catch (DecodingException e) {
      return;
    }
    assertEquals(text, Base32.encode(decoded));
  }

  @Provide
  Arbitrary<String> base32ish() {
    return Arbitraries.strings()
        .withChars("abcdefghijklmnopqrstuvwxyz234567AZ01=")
        .ofMaxLength(24)
        .injectDuplicates(0.1);
  }
}

package dev.verity.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HashTest {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** FIPS 180-2 examples and the digest of the empty string. */
  @Test
  void matchesPublishedSha256Digests() throws IOException {
    assertEquals(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        Hash.of(new byte[0]).toHex());
    assertEquals(
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        Hash.of(utf8("abc")).toHex());
    byte[] twoBlocks = utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
    String expected = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    assertEquals(expected, Hash.of(twoBlocks).toHex());
    assertEquals(expected, Hash.of(new ByteArrayInputStream(twoBlocks)).toHex());
    byte[] padded = new byte[twoBlocks.length + 7];
    System.arraycopy(twoBlocks, 0, padded, 3, twoBlocks.length);
    assertEquals(expected, Hash.of(padded, 3, twoBlocks.length).toHex());
  }

  @Test
  void hashesStreamsLongerThanOneBuffer() throws IOException {
    byte[] data = new byte[200_000];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 31);
    }
    assertEquals(Hash.of(data), Hash.of(new ByteArrayInputStream(data)));
  }

  @Test
  void parsesHexInEitherCaseAndPrintsLowerCase() {
    String lower = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    Hash h = Hash.fromHex(lower.toUpperCase());
    assertEquals(lower, h.toHex());
    assertEquals(lower, h.toString());
    assertEquals(Hash.of(utf8("abc")), h);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a", // 63 characters
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag",
        "0xa7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        " a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
      })
  void rejectsHexThatIsNotExactly32Bytes(String hex) {
    assertThrows(DecodingException.class, () -> Hash.fromHex(hex));
  }

  @Test
  void rejectsMissingOrWrongLengthDigests() {
    assertThrows(DecodingException.class, () -> Hash.fromHex(null));
    assertThrows(DecodingException.class, () -> Hash.wrap(null));
    assertThrows(DecodingException.class, () -> Hash.wrap(new byte[31]));
    assertThrows(DecodingException.class, () -> Hash.wrap(new byte[33]));
  }

  @Test
  void neverSharesItsBytesWithCallers() {
    byte[] raw = new byte[32];
    Hash h = Hash.wrap(raw);
    raw[0] = 1;
    assertEquals(Hash.wrap(new byte[32]), h);
    h.toBytes()[1] = 1;
    assertArrayEquals(new byte[32], h.toBytes());
  }

  @Test
  void taggedHashIsDomainThenZeroByteThenData() throws Exception {
    MessageDigest d = MessageDigest.getInstance("SHA-256");
    d.update(utf8("verity/test"));
    d.update((byte) 0);
    d.update(utf8("payload"));
    assertArrayEquals(d.digest(), Hash.tagged("verity/test", utf8("payload")).toBytes());
  }

  @Test
  void taggedHashesOfDifferentDomainsNeverCoincide() {
    byte[] data = utf8("same data");
    assertNotEquals(Hash.tagged("verity/a", data), Hash.tagged("verity/b", data));
    assertNotEquals(Hash.of(data), Hash.tagged("", data));
    // Moving bytes between tag and data changes the digest: the zero byte marks the boundary.
    assertNotEquals(Hash.tagged("ab", utf8("c")), Hash.tagged("a", utf8("bc")));
  }

  @Test
  void rejectsDomainTagsContainingTheSeparator() {
    // With a zero byte allowed in the tag, ("a\0b", x) and ("a", "b\0" + x) would hash alike.
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Hash.tagged("a\0b", utf8("x")));
    assertTrue(e.getMessage().contains("U+0000"));
  }

  @Test
  void ordersByUnsignedBytes() {
    byte[] low = new byte[32];
    byte[] high = new byte[32];
    low[0] = 0x7f;
    high[0] = (byte) 0x80;
    assertTrue(Hash.wrap(low).compareTo(Hash.wrap(high)) < 0);
    assertTrue(Hash.wrap(high).compareTo(Hash.wrap(low)) > 0);
    assertEquals(0, Hash.wrap(low).compareTo(Hash.wrap(low.clone())));
  }

  @Property
  void hexRoundTripsAnyDigest(@ForAll @Size(32) byte[] digest) {
    Hash h = Hash.wrap(digest);
    assertEquals(h, Hash.fromHex(h.toHex()));
    assertEquals(h.hashCode(), Hash.fromHex(h.toHex()).hashCode());
    assertEquals(Integer.signum(Arrays.compareUnsigned(digest, new byte[32])),
        Integer.signum(h.compareTo(Hash.wrap(new byte[32]))));
  }

  @Property
  void parsingArbitraryTextFailsOnlyWithDecodingException(@ForAll String text) {
    try {
      Hash.fromHex(text);
    } catch (DecodingException expected) {
      // the only acceptable failure
    }
  }
}

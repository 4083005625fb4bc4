package dev.verity.core;

import static dev.verity.core.TestVectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.cbor.Cbor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CidTest {
  private static final String EMPTY_RAW =
      "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

  /** The input bytes a line of cid-ipfs.txt describes. */
  private static byte[] input(String description) {
    if (description.equals("empty")) {
      return new byte[0];
    }
    if (description.startsWith("utf8 ")) {
      return description.substring(5).getBytes(StandardCharsets.UTF_8);
    }
    if (description.startsWith("byte ")) {
      return hex(description.substring(5));
    }
    if (description.equals("bytes 00..ff")) {
      byte[] b = new byte[256];
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) i;
      }
      return b;
    }
    if (description.startsWith("pattern i%251 ")) {
      byte[] b = new byte[Integer.parseInt(description.substring("pattern i%251 ".length()))];
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) (i % 251);
      }
      return b;
    }
    throw new IllegalStateException("unknown input in cid-ipfs.txt: " + description);
  }

  private static List<String[]> vectors(String kind) {
    List<String[]> out = new ArrayList<>();
    for (String line : TestVectors.lines("cid-ipfs.txt")) {
      String[] f = line.split(" \\| ");
      if (f[0].equals(kind)) {
        out.add(f);
      }
    }
    assertTrue(out.size() >= 5, "too few " + kind + " vectors");
    return out;
  }

  @Test
  void rawCidsMatchTheIpfsImplementation() throws VerificationException {
    for (String[] v : vectors("raw")) {
      byte[] data = input(v[1]);
      Cid cid = Cid.raw(data);
      assertEquals(v[2], cid.toString(), v[1]);
      assertEquals(v[3], hex(cid.toBytes()), v[1]);
      assertEquals(cid, Cid.parse(v[2]));
      assertEquals(cid, Cid.fromBytes(hex(v[3])));
      assertEquals(Cid.Codec.RAW, Cid.parse(v[2]).codec());
      cid.verify(data);
    }
  }

  @Test
  void dagCborCidsMatchTheIpfsImplementation() {
    for (String[] v : vectors("dag-cbor")) {
      byte[] canonical = Cbor.encode(Cbor.decode(hex(v[1])));
      assertEquals(v[1], hex(canonical));
      Cid cid = Cid.dagCbor(canonical);
      assertEquals(v[3], cid.toString(), v[2]);
      assertEquals(Cid.Codec.DAG_CBOR, Cid.parse(v[3]).codec());
      assertEquals(cid, Cid.parse(v[3]));
    }
  }

  @Test
  void sameDigestUnderTheTwoCodecsGivesDifferentCids() {
    Cid raw = Cid.raw(new byte[0]);
    Cid dag = Cid.dagCbor(new byte[0]);
    assertEquals(raw.digest(), dag.digest());
    assertNotEquals(raw, dag);
    assertNotEquals(raw.toString(), dag.toString());
    assertTrue(raw.compareTo(dag) < 0, "raw (0x55) sorts before dag-cbor (0x71)");
  }

  @Test
  void rejectsContentThatDoesNotMatch() {
    Cid cid = Cid.parse(EMPTY_RAW);
    VerificationException e =
        assertThrows(VerificationException.class, () -> cid.verify(new byte[] {0}));
    assertTrue(e.getMessage().contains(EMPTY_RAW), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "b",
        "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n", // CIDv0 (dag-pb, base58btc)
        "BAFKREIHDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVYKU", // base32upper multibase
        "bAFKREIHDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVYKU",
        "zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA", // base58btc multibase
        "f01551220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", // base16
        "mAVUSIOOwxEKY/BwUmvv0yJlvuSQnrkHkZJuTTKSVmRt4UrhV", // base64
        "uAVUSIOOwxEKY_BwUmvv0yJlvuSQnrkHkZJuTTKSVmRt4UrhV", // base64url
        " bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku ",
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk", // truncated
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvykua", // extended
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvykv", // non-zero padding bits
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk=",
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku="
      })
  void rejectsTextThatIsNotABase32CidV1(String text) {
    assertThrows(DecodingException.class, () -> Cid.parse(text));
  }

  @Test
  void rejectsMissingAndOverlongInput() {
    assertThrows(DecodingException.class, () -> Cid.parse(null));
    assertThrows(DecodingException.class, () -> Cid.fromBytes(null));
    assertThrows(DecodingException.class, () -> Cid.parse("b" + "a".repeat(100_000)));
  }

  private static String text(byte[] binary) {
    return "b" + Base32.encode(binary);
  }

  private static byte[] validBinary() {
    return Cid.raw(new byte[0]).toBytes();
  }

  @Test
  void rejectsOtherVersionsCodecsAndHashes() {
    int[][] changes = {
      {0, 0x00}, // version 0
      {0, 0x02}, // version 2
      {1, 0x70}, // dag-pb
      {1, 0x72}, // libp2p-key
      {1, 0x00}, // identity codec
      {1, 0x56},
      {2, 0x13}, // sha2-512
      {2, 0x16}, // sha3-256
      {2, 0x00}, // identity multihash
      {3, 0x1f}, // digest length must be 32 (0x20)
      {3, 0x21},
      {3, 0x00}
    };
    for (int[] c : changes) {
      byte[] b = validBinary();
      b[c[0]] = (byte) c[1];
      assertThrows(DecodingException.class, () -> Cid.fromBytes(b), "byte " + c[0] + " = " + c[1]);
      assertThrows(DecodingException.class, () -> Cid.parse(text(b)), "byte " + c[0] + " = " + c[1]);
    }
  }

  @Test
  void rejectsMultiByteCodecVarints() {
    // dag-json is 0x0129, written as the varint a9 02: a longer prefix than Verity's CIDs have.
    byte[] b = validBinary();
    byte[] dagJson = new byte[b.length + 1];
    dagJson[0] = 1;
    dagJson[1] = (byte) 0xa9;
    dagJson[2] = 0x02;
    System.arraycopy(b, 2, dagJson, 3, b.length - 2);
    assertThrows(DecodingException.class, () -> Cid.parse(text(dagJson)));
  }

  @Test
  void rejectsBinaryOfEveryWrongLength() {
    byte[] valid = validBinary();
    for (int n = 0; n <= 80; n++) {
      if (n == Cid.BINARY_LENGTH) {
        continue;
      }
      byte[] b = java.util.Arrays.copyOf(valid, n);
      assertThrows(DecodingException.class, () -> Cid.fromBytes(b), "length " + n);
      assertThrows(DecodingException.class, () -> Cid.parse(text(b)), "length " + n);
    }
  }

  @Property
  void textAndBinaryFormsRoundTrip(@ForAll @Size(32) byte[] digest, @ForAll boolean raw) {
    Cid cid = Cid.of(raw ? Cid.Codec.RAW : Cid.Codec.DAG_CBOR, Hash.wrap(digest));
    String text = cid.toString();
    assertEquals(cid, Cid.parse(text));
    assertEquals(cid, Cid.fromBytes(cid.toBytes()));
    assertEquals(cid.hashCode(), Cid.parse(text).hashCode());
    assertEquals(text.toLowerCase(Locale.ROOT), text);
    assertEquals(59, text.length());
    assertTrue(text.startsWith(raw ? "bafkrei" : "bafyrei"), text);
  }

  @Property
  void arbitraryTextFailsOnlyWithDecodingException(@ForAll("cidLike") String text) {
    try {
      Cid cid = Cid.parse(text);
      assertEquals(text, cid.toString(), "a CID has exactly one text form");
    } catch (DecodingException expected) {
      // the only acceptable failure
    }
  }

  @Provide
  Arbitrary<String> cidLike() {
    Arbitrary<String> mutated =
        Arbitraries.integers()
            .between(0, EMPTY_RAW.length() - 1)
            .flatMap(
                i ->
                    Arbitraries.chars()
                        .map(c -> EMPTY_RAW.substring(0, i) + c + EMPTY_RAW.substring(i + 1)));
    return Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(120),
        Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyz234567").ofLength(58).map(s -> "b" + s),
        mutated);
  }

  @Property
  void arbitraryBinaryFailsOnlyWithDecodingException(
      @ForAll @Size(max = 40) byte[] bytes) {
    try {
      Cid cid = Cid.fromBytes(bytes);
      assertArrayEquals(bytes, cid.toBytes());
    } catch (DecodingException expected) {
      // the only acceptable failure
    }
  }

  @Property
  void anyChangeToTheFirstFourBytesIsRejected(
      @ForAll @IntRange(min = 0, max = 3) int index, @ForAll byte value) {
    byte[] b = validBinary();
    net.jqwik.api.Assume.that(b[index] != value);
    b[index] = value;
    boolean otherCodec = index == 1 && value == (byte) Cid.Codec.DAG_CBOR.code();
    if (otherCodec) {
      assertEquals(Cid.Codec.DAG_CBOR, Cid.fromBytes(b).codec());
    } else {
      assertThrows(DecodingException.class, () -> Cid.fromBytes(b));
    }
  }
}

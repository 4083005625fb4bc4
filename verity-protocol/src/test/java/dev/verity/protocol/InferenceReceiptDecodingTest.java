package dev.verity.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.CborValue;
import java.util.Arrays;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Receipt bytes from outside: anything but a well-formed receipt is a DecodingException. */
class InferenceReceiptDecodingTest {
  private static final InferenceReceipt RECEIPT = Fixtures.receipt(Fixtures.manifest());
  private static final byte[] ENCODING = RECEIPT.encode();

  private static byte[] nodeSigned(Map<String, CborValue> changes) {
    return Fixtures.resigned(ENCODING, InferenceReceipt.DOMAIN, changes, Fixtures.NODE);
  }

  /** Decodes, or refuses with DecodingException; a decoded receipt other than the original must not verify. */
  private static void decodesOrIsRejected(byte[] bytes) {
    InferenceReceipt r;
    try {
      r = InferenceReceipt.decode(bytes);
    } catch (DecodingException expected) {
      return;
    }
    if (!Arrays.equals(bytes, ENCODING)) {
      assertThrows(VerificationException.class, r::verifySignature);
    }
  }

  @Test
  void everyTruncationFailsToDecode() {
    for (int n = 0; n < ENCODING.length; n++) {
      byte[] prefix = Arrays.copyOf(ENCODING, n);
      assertThrows(DecodingException.class, () -> InferenceReceipt.decode(prefix), "prefix " + n);
    }
    byte[] longer = Arrays.copyOf(ENCODING, ENCODING.length + 1);
    assertThrows(DecodingException.class, () -> InferenceReceipt.decode(longer));
  }

  @Test
  void everySingleByteFlipFailsToDecodeOrToVerify() {
    for (int i = 0; i < ENCODING.length; i++) {
      for (int mask : new int[] {0x01, 0x40, 0x80}) {
        byte[] b = ENCODING.clone();
        b[i] ^= (byte) mask;
        decodesOrIsRejected(b);
      }
    }
  }

  @Property(tries = 300)
  void randomBytesFailToDecode(@ForAll @Size(max = 400) byte[] junk) {
    assertThrows(DecodingException.class, () -> InferenceReceipt.decode(junk));
  }

  @Property(tries = 300)
  void mutatedReceiptsDecodeOrAreRejected(
      @ForAll @IntRange(min = 0, max = 100_000) int position, @ForAll byte value,
      @ForAll @IntRange(min = 0, max = 2) int kind) {
    int at = position % ENCODING.length;
    byte[] b = switch (kind) {
      case 0 -> {
        byte[] c = ENCODING.clone();
        c[at] = value;
        yield c;
      }
      case 1 -> { // insert a byte
        byte[] c = new byte[ENCODING.length + 1];
        System.arraycopy(ENCODING, 0, c, 0, at);
        c[at] = value;
        System.arraycopy(ENCODING, at, c, at + 1, ENCODING.length - at);
        yield c;
      }
      default -> { // delete a byte
        byte[] c = new byte[ENCODING.length - 1];
        System.arraycopy(ENCODING, 0, c, 0, at);
        System.arraycopy(ENCODING, at + 1, c, at, ENCODING.length - at - 1);
        yield c;
      }
    };
    decodesOrIsRejected(b);
  }

  @Test
  void decodingWithKnownKeysGivesTheSameReceiptAndStillChecksItsSignature() throws Exception {
    java.util.Set<dev.verity.core.crypto.PublicKey> known =
        java.util.Set.of(Fixtures.STRANGER.publicKey(), Fixtures.NODE.publicKey());
    InferenceReceipt r = InferenceReceipt.decode(ENCODING, known);
    assertEquals(RECEIPT, r);
    assertEquals(Fixtures.NODE.publicKey(), r.node());
    r.verifySignature();

    // A receipt naming the known key but signed by another key decodes and then fails to verify.
    byte[] forged = Fixtures.resigned(ENCODING, InferenceReceipt.DOMAIN, Map.of(), Fixtures.STRANGER);
    InferenceReceipt f = InferenceReceipt.decode(forged, known);
    assertEquals(Fixtures.NODE.publicKey(), f.node());
    assertThrows(VerificationException.class, f::verifySignature);
  }

  @Test
  void aNodeKeyThatIsNotKnownIsDecodedAndCheckedAsUsual() {
    InferenceReceipt r = InferenceReceipt.decode(ENCODING, java.util.Set.of(Fixtures.STRANGER.publicKey()));
    assertEquals(Fixtures.NODE.publicKey(), r.node());
    byte[] smallOrder = new byte[32];
    smallOrder[0] = 1; // the identity point: a key under which forgeries verify
    byte[] weak = nodeSigned(Map.of("node", new CborValue.Bytes(smallOrder)));
    assertThrows(DecodingException.class,
        () -> InferenceReceipt.decode(weak, java.util.Set.of(Fixtures.NODE.publicKey())));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "has space", "tab\tinside", "caf\u00e9", "nul\u0000"})
  void rejectsRequestIdsThatAreNotPrintableAscii(String requestId) {
    assertThrows(DecodingException.class, () -> InferenceReceipt.decode(nodeSigned(Map.of("request", new CborValue.Text(requestId)))));
  }

  @Test
  void rejectsRequestIdsLongerThan128() {
    InferenceReceipt.decode(nodeSigned(Map.of("request", new CborValue.Text("r".repeat(128)))));
    assertThrows(DecodingException.class,
        () -> InferenceReceipt.decode(nodeSigned(Map.of("request", new CborValue.Text("r".repeat(129))))));
  }

  @Test
  void rejectsInconsistentTimes() {
    assertThrows(DecodingException.class, () -> InferenceReceipt.decode(nodeSigned(Map.of(
        "finished", new CborValue.Int(Fixtures.STARTED - 1)))));
    assertThrows(DecodingException.class, () -> InferenceReceipt.decode(nodeSigned(Map.of(
        "started", new CborValue.Int(-1), "finished", new CborValue.Int(0)))));
  }

  @Test
  void rejectsUnknownFieldsVersionsModesAndBadCids() {
    assertTrue(assertThrows(DecodingException.class, () -> InferenceReceipt.decode(nodeSigned(Map.of(
        "note", new CborValue.Text("x"))))).getMessage().contains("unknown field"));
    assertTrue(assertThrows(DecodingException.class, () -> InferenceReceipt.decode(nodeSigned(Map.of(
        "v", new CborValue.Int(2))))).getMessage().contains("format version"));
    assertThrows(DecodingException.class, () -> InferenceReceipt.decode(nodeSigned(Map.of(
        "mode", new CborValue.Text("fast")))));
    assertThrows(DecodingException.class, () -> InferenceReceipt.decode(nodeSigned(Map.of(
        "outputs", new CborValue.Bytes(new byte[35])))));
    assertThrows(DecodingException.class, () -> InferenceReceipt.decode(nodeSigned(Map.of(
        "provenance", CborValue.Map.builder().put("engine", "x").build()))));
    assertThrows(DecodingException.class, () -> InferenceReceipt.decode(nodeSigned(Map.of(
        "evidence", new CborValue.Array(java.util.List.of())))));
  }

  @Test
  void rejectsAReceiptWithoutASignature() {
    CborValue.Map.Builder b = CborValue.Map.builder();
    dev.verity.core.cbor.Cbor.decodeMap(ENCODING).entries().forEach((k, v) -> {
      if (!k.equals("signature")) {
        b.put(k, v);
      }
    });
    byte[] unsigned = dev.verity.core.cbor.Cbor.encode(b.build());
    assertTrue(assertThrows(DecodingException.class, () -> InferenceReceipt.decode(unsigned))
        .getMessage().contains("no signature"));
  }

  @Test
  void decodingKeepsTheExactBytes() {
    assertEquals(RECEIPT.cid(), InferenceReceipt.decode(ENCODING).cid());
  }
}

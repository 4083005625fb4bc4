package dev.verity.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The evidence of optimistic receipts: exact encoding, and hostile encodings refused. */
class OptimisticEvidenceTest {
  static byte[] encode(OptimisticEvidence e) {
    return Cbor.encode(e.toCbor());
  }

  static OptimisticEvidence decode(byte[] b) {
    return OptimisticEvidence.fromCbor(Cbor.decodeMap(b));
  }

  @Property(tries = 200)
  void roundTrips(@ForAll @Size(32) byte[] root, @ForAll @IntRange(min = 1, max = OptimisticEvidence.MAX_STEPS) int steps) {
    OptimisticEvidence e = new OptimisticEvidence(Hash.wrap(root), steps);
    assertEquals(e, decode(encode(e)));
  }

  @Property(tries = 300)
  void mutatedEvidenceDecodesToSomethingElseOrIsRejected(@ForAll @IntRange(min = 0, max = 1000) int position,
      @ForAll byte value) {
    OptimisticEvidence e = new OptimisticEvidence(Hash.of(new byte[] {1, 2, 3}), 17);
    byte[] b = encode(e);
    int at = position % b.length;
    if (b[at] == value) {
      return;
    }
    b[at] = value;
    try {
      assertTrue(!decode(b).equals(e), "a changed encoding decoded to the same evidence");
    } catch (DecodingException expected) {
      // refused: fine
    }
  }

  @Property(tries = 200)
  void randomBytesAreRejected(@ForAll @Size(max = 200) byte[] junk) {
    assertThrows(DecodingException.class, () -> decode(junk));
  }

  @Test
  void rejectsMissingExtraAndOutOfRangeFields() {
    byte[] root = new byte[32];
    assertThrows(DecodingException.class, () -> OptimisticEvidence.fromCbor(CborValue.Map.builder().put("trace", root).build()));
    assertThrows(DecodingException.class, () -> OptimisticEvidence.fromCbor(
        CborValue.Map.builder().put("trace", root).put("steps", 3).put("extra", 1).build()));
    assertThrows(DecodingException.class, () -> OptimisticEvidence.fromCbor(
        CborValue.Map.builder().put("trace", new byte[31]).put("steps", 3).build()));
    assertThrows(DecodingException.class, () -> OptimisticEvidence.fromCbor(
        CborValue.Map.builder().put("trace", root).put("steps", 0).build()));
    assertThrows(DecodingException.class, () -> OptimisticEvidence.fromCbor(
        CborValue.Map.builder().put("trace", root).put("steps", OptimisticEvidence.MAX_STEPS + 1L).build()));
    assertThrows(DecodingException.class, () -> OptimisticEvidence.fromCbor(
        CborValue.Map.builder().put("trace", root).put("steps", "3").build()));
  }
}

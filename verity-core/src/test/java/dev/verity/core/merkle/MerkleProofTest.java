package dev.verity.core.merkle;

import static dev.verity.core.TestVectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The canonical CBOR form of inclusion proofs, round trips and hostile input. */
class MerkleProofTest {

  private static MerkleTree tree(int n) {
    List<byte[]> leaves = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      leaves.add(("leaf " + i).getBytes(StandardCharsets.US_ASCII));
    }
    return MerkleTree.ofLeaves(leaves);
  }

  private static MerkleProof decode(byte[] bytes) {
    return MerkleProof.fromCbor(Cbor.decodeMap(bytes));
  }

  @Test
  void roundTripsThroughCanonicalCbor() {
    for (int n = 1; n <= 20; n++) {
      MerkleTree t = tree(n);
      for (int i = 0; i < n; i++) {
        MerkleProof p = t.prove(i);
        byte[] encoded = Cbor.encode(p.toCbor());
        assertEquals(p, decode(encoded));
        assertArrayEquals(encoded, Cbor.encode(decode(encoded).toCbor()));
      }
    }
  }

  @Test
  void hasAFixedWireForm() {
    MerkleProof p = new MerkleProof(1, 2, List.of(Hash.wrap(new byte[32])));
    // {"path": [h'00 x 32'], "size": 2, "index": 1}: keys shortest first, then bytewise.
    assertEquals(
        "a3" + "6470617468" + "81" + "5820" + "00".repeat(32) + "6473697a6502" + "65696e64657801",
        dev.verity.core.TestVectors.hex(Cbor.encode(p.toCbor())));
  }

  private static CborValue hashBytes(int length) {
    return new CborValue.Bytes(new byte[length]);
  }

  private static CborValue.Map.Builder proofFields(long index, long size, List<CborValue> path) {
    return CborValue.Map.builder().put("index", index).put("size", size).put("path", new CborValue.Array(path));
  }

  @Test
  void rejectsMalformedProofs() {
    List<CborValue> onePath = List.of(hashBytes(32));
    List<CborValue.Map> hostile =
        List.of(
            proofFields(0, 2, onePath).put("extra", 1).build(), // unknown field
            CborValue.Map.builder().put("size", 2).put("path", new CborValue.Array(onePath)).build(),
            CborValue.Map.builder().put("index", 0).put("path", new CborValue.Array(onePath)).build(),
            CborValue.Map.builder().put("index", 0).put("size", 2).build(),
            CborValue.Map.builder().put("index", "0").put("size", 2).put("path", new CborValue.Array(onePath)).build(),
            CborValue.Map.builder().put("index", 0).put("size", 2).put("path", new byte[32]).build(),
            proofFields(0, 2, List.of(new CborValue.Text("00"))).build(),
            proofFields(0, 2, List.of(hashBytes(31))).build(),
            proofFields(0, 2, List.of(hashBytes(33))).build(),
            proofFields(0, 2, List.of(hashBytes(0))).build(),
            proofFields(-1, 2, onePath).build(),
            proofFields(2, 2, onePath).build(),
            proofFields(0, 0, List.of()).build(),
            proofFields(0, Long.MIN_VALUE, List.of()).build(),
            proofFields(0, Long.MAX_VALUE, Collections.nCopies(65, hashBytes(32))).build());
    for (CborValue.Map m : hostile) {
      byte[] bytes = Cbor.encode(m);
      assertThrows(DecodingException.class, () -> decode(bytes), m.toString());
    }
    assertThrows(DecodingException.class, () -> decode(hex("80")));
    assertThrows(DecodingException.class, () -> decode(hex("a0")));
  }

  @Property
  void arbitraryBytesFailOnlyWithDecodingException(@ForAll @Size(max = 120) byte[] bytes) {
    try {
      decode(bytes);
    } catch (DecodingException expected) {
      // the only acceptable failure
    }
  }

  @Property(tries = 1000)
  void mutatedProofsFailToDecodeOrDecodeToAValidProof(
      @ForAll @IntRange(min = 1, max = 40) int size,
      @ForAll @IntRange(min = 0, max = 39) int index,
      @ForAll int position,
      @ForAll byte replacement) {
    MerkleProof proof = tree(size).prove(index % size);
    byte[] encoded = Cbor.encode(proof.toCbor());
    byte[] mutated = encoded.clone();
    mutated[Math.floorMod(position, mutated.length)] ^= (byte) (replacement | 1);
    try {
      MerkleProof decoded = decode(mutated);
      assertArrayEquals(mutated, Cbor.encode(decoded.toCbor()));
    } catch (DecodingException expected) {
      // rejected
    }
  }
}

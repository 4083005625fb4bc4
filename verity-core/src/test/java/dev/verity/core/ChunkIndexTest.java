package dev.verity.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class ChunkIndexTest {
  static final int MIB = ChunkIndex.CHUNK_SIZE;

  static List<Cid> chunks(long size) {
    List<Cid> out = new ArrayList<>();
    for (int i = 0; i < ChunkIndex.chunkCountFor(size); i++) {
      out.add(Cid.raw(new byte[] {(byte) i, (byte) (i >> 8), (byte) (i >> 16)}));
    }
    return out;
  }

  static ChunkIndex index(long size) {
    return ChunkIndex.create(size, chunks(size));
  }

  static CborValue.Map.Builder fields(long size, List<Cid> chunks) {
    return fields(1, size, MIB, chunks);
  }

  static CborValue.Map.Builder fields(long version, long size, long chunkSize, List<Cid> chunks) {
    return CborValue.Map.builder()
        .put("version", version)
        .put("size", size)
        .put("chunk_size", chunkSize)
        .put(
            "chunks",
            new CborValue.Array(
                chunks.stream().map(c -> (CborValue) new CborValue.Bytes(c.toBytes())).toList()));
  }

  @Property(tries = 200)
  void roundTripsThroughItsEncoding(@ForAll @LongRange(min = MIB + 1, max = 200L * MIB) long size) {
    ChunkIndex index = index(size);
    byte[] encoded = index.encode();
    assertEquals(index, ChunkIndex.decode(encoded));
    assertEquals(Cid.dagCbor(encoded), index.cid());
    assertEquals(ChunkIndex.encodedLengthFor(size), encoded.length);
  }

  @Test
  void computesChunkCountsAndLengthsAtBoundaries() {
    assertEquals(1, ChunkIndex.chunkCountFor(0));
    assertEquals(1, ChunkIndex.chunkCountFor(MIB));
    assertEquals(2, ChunkIndex.chunkCountFor(MIB + 1));
    assertEquals(2, ChunkIndex.chunkCountFor(2 * MIB));
    assertEquals(4, ChunkIndex.chunkCountFor(7 * MIB / 2));
    ChunkIndex index = index(7 * MIB / 2);
    assertEquals(MIB, index.chunkLength(2));
    assertEquals(MIB / 2, index.chunkLength(3));
    assertEquals(3L * MIB, index.chunkOffset(3));
    assertEquals(ChunkIndex.MAX_CHUNKS, ChunkIndex.chunkCountFor(ChunkIndex.MAX_BLOB_SIZE));
  }

  @Test
  void largestIndexFitsItsOwnLimit() {
    ChunkIndex largest = index(ChunkIndex.MAX_BLOB_SIZE);
    byte[] encoded = largest.encode();
    assertEquals(ChunkIndex.MAX_ENCODED_LENGTH, encoded.length);
    assertEquals(largest, ChunkIndex.decode(encoded));
  }

  @Test
  void rejectsEncodingLongerThanTheLargestIndex() {
    byte[] huge = new byte[ChunkIndex.MAX_ENCODED_LENGTH + 1];
    DecodingException e = assertThrows(DecodingException.class, () -> ChunkIndex.decode(huge));
    assertTrue(e.getMessage().contains("longer than the largest valid index"), e.getMessage());
  }

  @Test
  void rejectsHugeSize() {
    byte[] b = Cbor.encode(fields(ChunkIndex.MAX_BLOB_SIZE + 1, chunks(3 * MIB)).build());
    assertThrows(DecodingException.class, () -> ChunkIndex.decode(b));
    byte[] negative = Cbor.encode(fields(-5, chunks(3 * MIB)).build());
    assertThrows(DecodingException.class, () -> ChunkIndex.decode(negative));
  }

  @Test
  void rejectsSizeThatFitsInOneBlock() {
    for (long size : new long[] {0, 1, MIB}) {
      byte[] b = Cbor.encode(fields(size, chunks(2 * MIB)).build());
      DecodingException e = assertThrows(DecodingException.class, () -> ChunkIndex.decode(b));
      assertTrue(e.getMessage().contains("single raw block"), e.getMessage());
    }
  }

  @Test
  void rejectsChunkCountThatDoesNotMatchSize() {
    for (List<Cid> wrong : List.of(chunks(2 * MIB), chunks(4 * MIB), List.<Cid>of())) {
      byte[] b = Cbor.encode(fields(3 * MIB, wrong).build());
      assertThrows(DecodingException.class, () -> ChunkIndex.decode(b));
    }
  }

  @Test
  void rejectsChunkThatIsNotARawCid() {
    List<Cid> chunks = new ArrayList<>(chunks(3 * MIB));
    chunks.set(1, Cid.dagCbor(new byte[] {1}));
    byte[] b = Cbor.encode(fields(3 * MIB, chunks).build());
    DecodingException e = assertThrows(DecodingException.class, () -> ChunkIndex.decode(b));
    assertTrue(e.getMessage().contains("not a raw CID"), e.getMessage());
  }

  @Test
  void rejectsChunkEntryThatIsNoBinaryCid() {
    CborValue.Map bad =
        CborValue.Map.builder()
            .put("version", 1)
            .put("size", 2L * MIB)
            .put("chunk_size", MIB)
            .put(
                "chunks",
                new CborValue.Array(
                    List.of(new CborValue.Bytes(new byte[36]), new CborValue.Text("x"))))
            .build();
    assertThrows(DecodingException.class, () -> ChunkIndex.decode(Cbor.encode(bad)));
  }

  @Test
  void rejectsOtherVersionChunkSizeAndUnknownOrMissingFields() {
    List<Cid> c = chunks(2 * MIB);
    List<CborValue.Map> bad =
        List.of(
            fields(2, 2 * MIB, MIB, c).build(),
            fields(1, 2 * MIB, MIB / 2, c).build(),
            fields(1, 2 * MIB, 2 * MIB, c).build(),
            fields(2 * MIB, c).put("name", "extra").build(),
            CborValue.Map.builder().put("version", 1).put("size", 2L * MIB).build());
    for (CborValue.Map m : bad) {
      assertThrows(DecodingException.class, () -> ChunkIndex.decode(Cbor.encode(m)), m.toString());
    }
  }

  @Test
  void refusesToCreateInvalidIndex() {
    assertThrows(IllegalArgumentException.class, () -> ChunkIndex.create(MIB, chunks(MIB)));
    assertThrows(IllegalArgumentException.class, () -> ChunkIndex.create(3 * MIB, chunks(2 * MIB)));
    assertThrows(
        IllegalArgumentException.class,
        () -> ChunkIndex.create(2 * MIB, List.of(Cid.dagCbor(new byte[0]), Cid.raw(new byte[0]))));
  }

  @Property(tries = 300)
  void rejectsRandomBytes(@ForAll @Size(max = 400) byte[] bytes) {
    assertThrows(DecodingException.class, () -> ChunkIndex.decode(bytes));
  }

  @Property(tries = 300)
  void mutatedIndexEitherFailsOrIsAnotherCanonicalIndex(
      @ForAll("sizes") long size, @ForAll int position, @ForAll byte flip) {
    byte[] encoded = index(size).encode();
    byte[] mutated = encoded.clone();
    mutated[Math.floorMod(position, mutated.length)] ^= (byte) (flip == 0 ? 0x40 : flip);
    ChunkIndex decoded;
    try {
      decoded = ChunkIndex.decode(mutated);
    } catch (DecodingException e) {
      return;
    }
    // A flip inside a chunk digest yields a different, valid index: it must re-encode exactly.
    assertArrayEquals(mutated, decoded.encode());
    assertNotEquals(index(size), decoded);
  }

  @Property(tries = 100)
  void rejectsTruncatedIndex(@ForAll("sizes") long size, @ForAll int cut) {
    byte[] encoded = index(size).encode();
    byte[] truncated = Arrays.copyOf(encoded, Math.floorMod(cut, encoded.length));
    assertThrows(DecodingException.class, () -> ChunkIndex.decode(truncated));
  }

  @Provide
  Arbitrary<Long> sizes() {
    return Arbitraries.longs().between(MIB + 1, 6L * MIB);
  }
}

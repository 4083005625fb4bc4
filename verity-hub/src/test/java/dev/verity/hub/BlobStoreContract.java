package dev.verity.hub;

import dev.verity.core.ChunkIndex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The behaviour every {@link BlobStore} must show. Each implementation's test extends this class and
 * supplies a {@link Fixture}: a fresh empty store plus the means to damage what it keeps.
 */
abstract class BlobStoreContract {
  static final int MIB = ChunkIndex.CHUNK_SIZE;

  /** A fresh, empty store and access to its storage behind its back. */
  interface Fixture extends AutoCloseable {
    BlobStore store();

    /** Overwrites a stored block's bytes with no check, as a failing disk would. */
    void corrupt(Cid block, byte[] bytes) throws IOException;

    /** Everything the store keeps (block files, temporary files, quarantine), as names. */
    Set<String> contents() throws IOException;

    /** The blocks that have been moved aside. */
    List<Cid> quarantined() throws IOException;

    @Override
    void close() throws IOException;
  }

  abstract Fixture fixture() throws IOException;

  private Fixture fixture;
  BlobStore store;

  @BeforeEach
  void openStore() throws IOException {
    fixture = fixture();
    store = fixture.store();
  }

  @AfterEach
  void closeStore() throws IOException {
    fixture.close();
  }

  Fixture current() {
    return fixture;
  }

  static byte[] data(int length, long seed) {
    return GeneratedStream.bytes(length, seed);
  }

  static Cid rawCid(byte[] data, int from, int to) {
    return Cid.raw(Arrays.copyOfRange(data, from, to));
  }

  // ---- naming and round trips ----

  @ParameterizedTest
  @ValueSource(ints = {0, 1, MIB - 1, MIB, MIB + 1, 2 * MIB, 7 * MIB / 2})
  void roundTripsBlobsAroundChunkBoundaries(int size) throws IOException {
    byte[] bytes = data(size, size);
    Cid cid = store.put(bytes);
    assertArrayEquals(bytes, store.readAll(cid));
    assertEquals(size, store.size(cid));
    assertTrue(store.contains(cid));
    assertEquals(List.of(), store.missingBlocks(cid));
    assertEquals(ChunkIndex.chunkCountFor(size), store.chunksOf(cid).size());
    assertEquals(cid, BlobStore.cidOf(bytes));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 1000, MIB - 1, MIB})
  void namesBlobOfAtMostOneMibByItsRawCid(int size) throws IOException {
    byte[] bytes = data(size, 7);
    Cid cid = store.put(bytes);
    assertEquals(Cid.raw(bytes), cid);
    assertEquals(List.of(cid), store.chunksOf(cid));
    assertArrayEquals(bytes, store.readBlock(cid));
  }

  @ParameterizedTest
  @ValueSource(ints = {10, 2 * MIB + 5})
  void storeTellsWhetherTheBlobWasThereBefore(int size) throws IOException {
    byte[] bytes = data(size, 11);
    BlobStore.Stored first = store.store(new ByteArrayInputStream(bytes), size);
    assertFalse(first.existed());
    BlobStore.Stored again = store.store(new ByteArrayInputStream(bytes), size);
    assertEquals(first.cid(), again.cid());
    assertTrue(again.existed());
    store.delete(first.cid());
    assertFalse(store.store(new ByteArrayInputStream(bytes), size).existed(), "deleted, so new again");
    if (size > MIB) {
      // the chunks alone (left by an interrupted replication) are not the blob
      byte[] longer = Arrays.copyOf(bytes, size + 1);
      Cid other = store.put(longer);
      store.delete(first.cid());
      assertTrue(store.contains(other));
      assertFalse(store.store(new ByteArrayInputStream(bytes), size).existed());
    }
  }

  @Test
  void namesEmptyBlobAsIpfsNamesAnEmptyRawBlock() throws IOException {
    Cid cid = store.put(new byte[0]);
    assertEquals("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", cid.toString());
    assertArrayEquals(new byte[0], store.readAll(cid));
  }

  @Test
  void namesLargerBlobByCanonicalIndexOfItsOneMibChunks() throws IOException {
    byte[] bytes = data(2 * MIB + 5, 3);
    Cid c0 = rawCid(bytes, 0, MIB);
    Cid c1 = rawCid(bytes, MIB, 2 * MIB);
    Cid c2 = rawCid(bytes, 2 * MIB, bytes.length);
    // The index written out byte by byte: map(4) {"size", "chunks", "version", "chunk_size"}.
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.write(0xa4);
    expected.write(0x64);
    expected.writeBytes("size".getBytes());
    expected.writeBytes(new byte[] {0x1a, 0x00, 0x20, 0x00, 0x05});
    expected.write(0x66);
    expected.writeBytes("chunks".getBytes());
    expected.write(0x83);
    for (Cid c : List.of(c0, c1, c2)) {
      expected.writeBytes(new byte[] {0x58, 0x24, 0x01, 0x55, 0x12, 0x20});
      expected.writeBytes(c.digest().toBytes());
    }
    expected.write(0x67);
    expected.writeBytes("version".getBytes());
    expected.write(0x01);
    expected.write(0x6a);
    expected.writeBytes("chunk_size".getBytes());
    expected.writeBytes(new byte[] {0x1a, 0x00, 0x10, 0x00, 0x00});

    Cid cid = store.put(bytes);

    assertEquals(Cid.dagCbor(expected.toByteArray()), cid);
    assertArrayEquals(expected.toByteArray(), store.readBlock(cid));
    assertEquals(List.of(c0, c1, c2), store.chunksOf(cid));
    assertArrayEquals(Arrays.copyOfRange(bytes, MIB, 2 * MIB), store.readBlock(c1));
  }

  @Property(tries = 25)
  void roundTripsBlobsOfAnySize(@ForAll("sizes") int size, @ForAll long seed) throws IOException {
    try (Fixture f = fixture()) {
      byte[] bytes = data(size, seed);
      Cid cid = f.store().put(new ByteArrayInputStream(bytes), size);
      assertEquals(BlobStore.cidOf(bytes), cid);
      assertEquals(dev.verity.core.BlobCid.of(new ByteArrayInputStream(bytes)), cid, "clients name blobs the same way");
      assertEquals(size, f.store().size(cid));
      assertArrayEquals(bytes, f.store().readAll(cid));
      assertArrayEquals(bytes, readInSmallPieces(f.store().open(cid), seed));
    }
  }

  @Provide
  Arbitrary<Integer> sizes() {
    return Arbitraries.oneOf(
        Arbitraries.integers().between(0, 3 * MIB + 100),
        Arbitraries.integers().between(-3, 3).map(d -> MIB + d),
        Arbitraries.integers().between(-3, 3).map(d -> 2 * MIB + d));
  }

  /** Reads with odd buffer sizes and single-byte reads mixed, to cross chunk edges every way. */
  private static byte[] readInSmallPieces(InputStream in, long seed) throws IOException {
    try (in) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[4099 + (int) Math.floorMod(seed, 70_000L)];
      while (true) {
        int b = in.read();
        if (b < 0) {
          break;
        }
        out.write(b);
        int n = in.read(buf);
        if (n < 0) {
          break;
        }
        out.write(buf, 0, n);
      }
      return out.toByteArray();
    }
  }

  @Test
  void skipsWithinAndAcrossChunksWithoutReadingThem() throws IOException {
    byte[] bytes = data(7 * MIB / 2, 11);
    Cid cid = store.put(bytes);
    Cid chunk1 = store.chunksOf(cid).get(1);
    byte[] damaged = store.readBlock(chunk1);
    damaged[5] ^= 1;
    current().corrupt(chunk1, damaged); // never read, so never noticed
    try (InputStream in = store.open(cid)) {
      assertEquals(10, in.skip(10));
      assertEquals(bytes[10] & 0xff, in.read());
      long skipped = 0;
      long want = 2 * MIB + 100 - 11;
      while (skipped < want) {
        long n = in.skip(want - skipped);
        assertTrue(n > 0);
        skipped += n;
      }
      assertArrayEquals(
          Arrays.copyOfRange(bytes, 2 * MIB + 100, bytes.length), in.readAllBytes());
    }
    assertEquals(List.of(), current().quarantined());
  }

  @Test
  void storesSameContentOnceWhenPutTwice() throws IOException {
    byte[] bytes = data(5 * MIB / 2, 4);
    Cid first = store.put(bytes);
    Set<String> after = current().contents();
    Cid second = store.put(bytes);
    assertEquals(first, second);
    assertEquals(after, current().contents());
    assertArrayEquals(bytes, store.readAll(first));
  }

  @Test
  void storesRepeatedChunksOnce() throws IOException {
    byte[] zeros = new byte[3 * MIB];
    Cid cid = store.put(zeros);
    List<Cid> chunks = store.chunksOf(cid);
    assertEquals(List.of(Cid.raw(new byte[MIB]), Cid.raw(new byte[MIB]), Cid.raw(new byte[MIB])), chunks);
    assertEquals(2, current().contents().size());
    assertArrayEquals(zeros, store.readAll(cid));
  }

  @Test
  void putsSameContentSafelyFromManyThreadsAtOnce() throws Exception {
    byte[] shared = data(5 * MIB / 2, 21);
    Cid expected = BlobStore.cidOf(shared);
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      List<Future<Cid>> results = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        byte[] bytes = i % 3 == 2 ? data(MIB + i, i) : shared;
        results.add(pool.submit(() -> store.put(bytes)));
      }
      for (int i = 0; i < results.size(); i++) {
        Cid cid = results.get(i).get();
        if (i % 3 != 2) {
          assertEquals(expected, cid);
        }
        assertTrue(store.contains(cid));
      }
    } finally {
      pool.shutdownNow();
    }
    assertArrayEquals(shared, store.readAll(expected));
    // The shared blob's 3 chunks and index, and two chunks and an index of each of the 4 others.
    assertEquals(4 + 4 * 3, current().contents().size());
  }

  // ---- limits and failed puts ----

  @Test
  void acceptsStreamOfExactlyMaxBytes() throws IOException {
    byte[] bytes = data(2 * MIB, 5);
    assertEquals(BlobStore.cidOf(bytes), store.put(new ByteArrayInputStream(bytes), bytes.length));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 10, MIB, MIB + 1, 5 * MIB / 2})
  void refusesStreamLongerThanMaxBytesAndKeepsNothing(int limit) throws IOException {
    Cid kept = store.put(data(100, 1));
    Set<String> before = current().contents();
    BlobTooLargeException e =
        assertThrows(
            BlobTooLargeException.class,
            () -> store.put(new GeneratedStream(limit + 1L, 9), limit));
    assertEquals(limit, e.limit());
    assertEquals(before, current().contents());
    assertTrue(store.contains(kept));
  }

  @Test
  void keepsNothingWhenTheStreamFailsHalfway() throws IOException {
    InputStream failing =
        new InputStream() {
          final InputStream data = new GeneratedStream(5 * MIB / 2, 2);

          @Override
          public int read() throws IOException {
            int b = data.read();
            if (b < 0) {
              throw new IOException("connection reset");
            }
            return b;
          }

          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            int n = data.read(b, off, len);
            if (n < 0) {
              throw new IOException("connection reset");
            }
            return n;
          }
        };
    IOException e = assertThrows(IOException.class, () -> store.put(failing, Long.MAX_VALUE));
    assertEquals("connection reset", e.getMessage());
    assertEquals(Set.of(), current().contents());
  }

  // ---- corruption ----

  @Test
  void detectsFlippedByteInChunkAndServesNoBadByte() throws IOException {
    byte[] bytes = data(7 * MIB / 2, 12);
    Cid cid = store.put(bytes);
    byte[] other = data(3 * MIB, 13);
    Cid otherCid = store.put(other);
    Cid chunk1 = store.chunksOf(cid).get(1);
    byte[] damaged = store.readBlock(chunk1);
    damaged[12345] ^= 0x10;
    current().corrupt(chunk1, damaged);

    ByteArrayOutputStream served = new ByteArrayOutputStream();
    CorruptBlobException e =
        assertThrows(CorruptBlobException.class, () -> copy(store.open(cid), served));

    assertEquals(cid, e.blob());
    assertEquals(chunk1, e.block());
    assertTrue(e.getMessage().contains(chunk1.toString()), e.getMessage());
    assertArrayEquals(Arrays.copyOf(bytes, MIB), served.toByteArray());
    assertFalse(store.contains(cid));
    assertEquals(List.of(chunk1), store.missingBlocks(cid));
    assertEquals(List.of(chunk1), current().quarantined());
    assertArrayEquals(other, store.readAll(otherCid));
  }

  @Test
  void servesBlobAgainOnceBadChunkIsFetchedAgain() throws Exception {
    byte[] bytes = data(7 * MIB / 2, 14);
    Cid cid = store.put(bytes);
    Cid chunk2 = store.chunksOf(cid).get(2);
    byte[] good = store.readBlock(chunk2);
    current().corrupt(chunk2, Arrays.copyOf(good, 1000));
    assertThrows(CorruptBlobException.class, () -> store.readAll(cid));

    store.putBlock(chunk2, good);

    assertTrue(store.contains(cid));
    assertArrayEquals(bytes, store.readAll(cid));
  }

  @Test
  void detectsTruncatedChunk() throws IOException {
    byte[] bytes = data(2 * MIB + 1, 15);
    Cid cid = store.put(bytes);
    Cid chunk0 = store.chunksOf(cid).get(0);
    current().corrupt(chunk0, Arrays.copyOf(bytes, MIB - 1));
    CorruptBlobException e = assertThrows(CorruptBlobException.class, () -> store.readAll(cid));
    assertEquals(chunk0, e.block());
    assertFalse(store.contains(cid));
  }

  @Test
  void detectsChunkReplacedByAnotherValidBlock() throws IOException {
    byte[] bytes = data(3 * MIB, 16);
    Cid cid = store.put(bytes);
    List<Cid> chunks = store.chunksOf(cid);
    current().corrupt(chunks.get(1), store.readBlock(chunks.get(2)));
    CorruptBlobException e = assertThrows(CorruptBlobException.class, () -> store.readAll(cid));
    assertEquals(chunks.get(1), e.block());
    assertEquals(List.of(chunks.get(1)), store.missingBlocks(cid));
  }

  @Test
  void detectsCorruptSmallBlobBeforeServingAnyByte() throws IOException {
    byte[] bytes = data(500, 17);
    Cid cid = store.put(bytes);
    bytes[0] ^= 1;
    current().corrupt(cid, bytes);
    CorruptBlobException e = assertThrows(CorruptBlobException.class, () -> store.open(cid));
    assertEquals(cid, e.block());
    assertFalse(store.contains(cid));
    assertThrows(MissingBlockException.class, () -> store.open(cid));
  }

  @Test
  void detectsCorruptIndex() throws IOException {
    Cid cid = store.put(data(2 * MIB, 18));
    byte[] index = store.readBlock(cid);
    index[index.length - 1] ^= 1;
    current().corrupt(cid, index);
    assertThrows(CorruptBlobException.class, () -> store.size(cid));
    assertFalse(store.contains(cid));
    assertEquals(List.of(cid), store.missingBlocks(cid));
    assertEquals(List.of(cid), current().quarantined());
  }

  @Test
  void treatsStoredBlockLongerThanAnyValidBlockAsCorrupt() throws IOException {
    Cid cid = store.put(data(10, 19));
    current().corrupt(cid, new byte[MIB + 1]);
    CorruptBlobException e = assertThrows(CorruptBlobException.class, () -> store.readBlock(cid));
    assertTrue(e.getMessage().contains("longer than any valid block"), e.getMessage());
  }

  @Property(tries = 15)
  void neverServesBytesOfADamagedBlock(
      @ForAll("damage") int chunk, @ForAll int position, @ForAll byte flip) throws IOException {
    try (Fixture f = fixture()) {
      byte[] bytes = data(3 * MIB + 7, chunk);
      Cid cid = f.store().put(bytes);
      Cid victim = f.store().chunksOf(cid).get(chunk);
      byte[] block = f.store().readBlock(victim);
      block[Math.floorMod(position, block.length)] ^= (byte) (flip == 0 ? 1 : flip);
      f.corrupt(victim, block);
      ByteArrayOutputStream served = new ByteArrayOutputStream();
      assertThrows(CorruptBlobException.class, () -> copy(f.store().open(cid), served));
      assertArrayEquals(Arrays.copyOf(bytes, chunk * MIB), served.toByteArray());
    }
  }

  @Provide
  Arbitrary<Integer> damage() {
    return Arbitraries.integers().between(0, 3);
  }

  // ---- replication ----

  @Test
  void replicatesBlobBlockByBlockInAnyChunkOrder() throws Exception {
    byte[] bytes = data(7 * MIB / 2, 20);
    Cid cid = store.put(bytes);
    try (Fixture peer = fixture()) {
      BlobStore replica = peer.store();
      assertEquals(List.of(cid), replica.missingBlocks(cid));
      replica.putBlock(cid, store.readBlock(cid));
      List<Cid> missing = replica.missingBlocks(cid);
      assertEquals(store.chunksOf(cid), missing);
      assertThrows(MissingBlockException.class, () -> replica.open(cid));
      assertEquals(bytes.length, replica.size(cid));
      for (int i = missing.size() - 1; i >= 0; i--) {
        assertFalse(replica.contains(cid));
        replica.putBlock(missing.get(i), store.readBlock(missing.get(i)));
      }
      assertTrue(replica.contains(cid));
      assertArrayEquals(bytes, replica.readAll(cid));
    }
  }

  @Test
  void refusesBlockThatIsNotWhatItsCidNames() throws IOException {
    byte[] bytes = data(1000, 22);
    Cid cid = Cid.raw(bytes);
    bytes[3] ^= 4;
    assertThrows(VerificationException.class, () -> store.putBlock(cid, bytes));
    assertFalse(store.hasBlock(cid));
    assertEquals(Set.of(), current().contents());
  }

  @Test
  void refusesRawBlockLargerThanAChunk() {
    byte[] bytes = new byte[MIB + 1];
    assertThrows(VerificationException.class, () -> store.putBlock(Cid.raw(bytes), bytes));
  }

  @Test
  void refusesDagCborBlockThatIsNoChunkIndex() {
    byte[] manifest = Cbor.encode(CborValue.Map.builder().put("name", "model").build());
    VerificationException e =
        assertThrows(
            VerificationException.class,
            () -> store.putBlock(Cid.dagCbor(manifest), manifest));
    assertTrue(e.getMessage().contains("not a valid chunk index"), e.getMessage());
  }

  @Test
  void refusesHostileIndexes() {
    List<Cid> two = List.of(Cid.raw(new byte[] {1}), Cid.raw(new byte[] {2}));
    List<byte[]> hostile =
        List.of(
            index(1L << 50, two),
            index(3L * MIB, two),
            index(MIB + 1, List.of(two.get(0), Cid.dagCbor(new byte[] {1}))),
            index(MIB, List.of(two.get(0))),
            data(200, 23));
    for (byte[] bytes : hostile) {
      assertThrows(VerificationException.class, () -> store.putBlock(Cid.dagCbor(bytes), bytes));
    }
  }

  static byte[] index(long size, List<Cid> chunks) {
    return Cbor.encode(
        CborValue.Map.builder()
            .put("version", 1)
            .put("size", size)
            .put("chunk_size", MIB)
            .put(
                "chunks",
                new CborValue.Array(
                    chunks.stream().map(c -> (CborValue) new CborValue.Bytes(c.toBytes())).toList()))
            .build());
  }

  @Test
  void reportsIndexWhoseChunksHaveWrongLengthsAsCorrupt() throws Exception {
    byte[] small = data(5, 24);
    byte[] one = data(1, 25);
    byte[] lying = index(MIB + 1, List.of(Cid.raw(small), Cid.raw(one)));
    Cid cid = Cid.dagCbor(lying);
    store.putBlock(cid, lying);
    store.putBlock(Cid.raw(small), small);
    store.putBlock(Cid.raw(one), one);
    assertTrue(store.contains(cid));
    ByteArrayOutputStream served = new ByteArrayOutputStream();
    CorruptBlobException e =
        assertThrows(CorruptBlobException.class, () -> copy(store.open(cid), served));
    assertTrue(e.getMessage().contains("holds 5 bytes"), e.getMessage());
    assertEquals(0, served.size());
    assertFalse(store.contains(cid));
  }

  // ---- missing data ----

  @Test
  void reportsMissingBlobAndMissingChunkByCid() throws IOException {
    Cid absent = Cid.raw(new byte[] {42});
    MissingBlockException e = assertThrows(MissingBlockException.class, () -> store.open(absent));
    assertEquals(absent, e.block());
    assertThrows(MissingBlockException.class, () -> store.size(absent));
    assertThrows(MissingBlockException.class, () -> store.readBlock(absent));
    assertFalse(store.contains(absent));

    byte[] bytes = data(2 * MIB + 3, 26);
    Cid cid = BlobStore.cidOf(bytes);
    Cid absentIndex = cid;
    assertThrows(MissingBlockException.class, () -> store.chunksOf(absentIndex));
  }

  // ---- eviction ----

  @Test
  void deleteRemovesEveryBlockOfAnUnsharedBlob() throws IOException {
    Cid small = store.put(data(10, 27));
    Cid large = store.put(data(5 * MIB / 2, 28));
    store.delete(large);
    store.delete(small);
    assertFalse(store.contains(large));
    assertFalse(store.contains(small));
    assertEquals(Set.of(), current().contents());
    store.delete(large); // deleting again does nothing
  }

  @Test
  void deleteKeepsChunksAnotherBlobStillUses() throws IOException {
    byte[] head = data(MIB, 29);
    byte[] a = concat(head, data(MIB / 2, 30));
    byte[] b = concat(head, data(MIB / 3, 31));
    Cid cidA = store.put(a);
    Cid cidB = store.put(b);
    Cid onlyA = store.chunksOf(cidA).get(1);
    Cid smallHead = store.put(head); // a small blob that is also everyone's first chunk

    store.delete(cidA);
    store.delete(smallHead);

    assertFalse(store.hasBlock(cidA));
    assertFalse(store.hasBlock(onlyA));
    assertArrayEquals(b, store.readAll(cidB));
    assertTrue(store.contains(smallHead), "the shared chunk stays while blob B needs it");

    store.delete(cidB);
    assertEquals(Set.of(), current().contents());
  }

  private static byte[] concat(byte[] x, byte[] y) {
    byte[] out = Arrays.copyOf(x, x.length + y.length);
    System.arraycopy(y, 0, out, x.length, y.length);
    return out;
  }

  static void copy(InputStream in, ByteArrayOutputStream out) throws IOException {
    try (in) {
      byte[] buf = new byte[64 * 1024];
      for (int n; (n = in.read(buf)) >= 0; ) {
        out.write(buf, 0, n);
      }
    }
  }
}

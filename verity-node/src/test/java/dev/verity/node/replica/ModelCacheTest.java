package dev.verity.node.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.ChunkIndex;
import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.hub.BlobStore;
import dev.verity.hub.FileBlobStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCacheTest {
  private static final int MIB = ChunkIndex.CHUNK_SIZE;

  @TempDir Path tmp;
  private BlobStore blobs;
  private final List<Cid> own = new CopyOnWriteArrayList<>();
  private final List<Cid> evicted = new CopyOnWriteArrayList<>();

  @BeforeEach
  void open() throws IOException {
    blobs = FileBlobStore.open(tmp.resolve("blobs"));
  }

  @AfterEach
  void close() throws IOException {
    blobs.close();
  }

  private ModelCache cache(long budget) throws IOException {
    return ModelCache.open(tmp.resolve("replica"), blobs, budget, this::allModels, evicted::add);
  }

  private List<Cid> allModels() {
    return own;
  }

  private Cid store(byte[] bytes) throws IOException {
    return blobs.put(bytes);
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void evictsTheLeastRecentlyUsedReplicatedModelToMakeRoom() throws IOException {
    ModelCache cache = cache(5L * MIB);
    Cid a = store(bytes(2 * MIB, 1));
    Cid b = store(bytes(2 * MIB, 2));
    Cid c = store(bytes(2 * MIB, 3));
    cache.reserve(a, 2L * MIB);
    cache.reserve(b, 2L * MIB);
    cache.pin(a).close(); // a used after b: b is now the least recently used
    cache.reserve(c, 2L * MIB);
    assertEquals(List.of(a, c), cache.replicated());
    assertEquals(List.of(b), evicted);
    assertFalse(blobs.contains(b));
    assertTrue(blobs.contains(a) && blobs.contains(c));
    assertEquals(4L * MIB, cache.usedBytes());
  }

  @Test
  void neverEvictsAModelInUseAndSaysWhyThereIsNoRoom() throws IOException {
    ModelCache cache = cache(3L * MIB);
    Cid a = store(bytes(2 * MIB, 1));
    Cid b = store(bytes(2 * MIB, 2));
    cache.reserve(a, 2L * MIB);
    try (ModelCache.Pin inUse = cache.pin(a)) {
      ModelCache.CacheFullException e =
          assertThrows(ModelCache.CacheFullException.class, () -> cache.reserve(b, 2L * MIB));
      assertTrue(e.getMessage().contains("in use"), e.getMessage());
      assertTrue(blobs.contains(a));
      assertFalse(cache.isReplicated(b));
    }
    cache.reserve(b, 2L * MIB);
    assertFalse(blobs.contains(a));
    assertEquals(List.of(b), cache.replicated());
  }

  @Test
  void refusesAModelLargerThanTheWholeBudget() throws IOException {
    ModelCache cache = cache(MIB);
    Cid a = store(bytes(2 * MIB, 1));
    assertThrows(ModelCache.CacheFullException.class, () -> cache.reserve(a, 2L * MIB));
    assertTrue(blobs.contains(a), "nothing is deleted for a refused model");
  }

  @Test
  void modelsNotReplicatedAreNeverCountedNorEvicted() throws IOException {
    ModelCache cache = cache(3L * MIB);
    Cid mine = store(bytes(2 * MIB, 9));
    own.add(mine);
    Cid a = store(bytes(2 * MIB, 1));
    Cid b = store(bytes(2 * MIB, 2));
    cache.reserve(a, 2L * MIB);
    cache.reserve(b, 2L * MIB);
    assertTrue(blobs.contains(mine));
    assertFalse(cache.isReplicated(mine));
    cache.adopt(b); // published here after all: the node's own now
    assertEquals(List.of(), cache.replicated());
    assertEquals(0, cache.usedBytes());
  }

  @Test
  void evictingAModelKeepsEveryChunkAKeptModelShares() throws IOException {
    ModelCache cache = cache(5L * MIB);
    byte[] base = bytes(3 * MIB, 4);
    byte[] longer = new byte[4 * MIB];
    System.arraycopy(base, 0, longer, 0, base.length);
    System.arraycopy(bytes(MIB, 5), 0, longer, base.length, MIB);
    Cid shorter = store(base);
    Cid extended = store(longer); // shares its first three chunks with the shorter one
    cache.reserve(shorter, 3L * MIB);
    cache.reserve(extended, 4L * MIB); // evicts the shorter
    assertEquals(List.of(shorter), evicted);
    assertFalse(blobs.contains(shorter));
    assertArrayEquals(longer, blobs.readAll(extended));
  }

  @Test
  void aModelWhoseChunkIsAKeptSingleBlockModelIsNotEvicted() throws IOException {
    ModelCache cache = cache(3L * MIB);
    byte[] first = bytes(MIB, 6);
    byte[] two = new byte[2 * MIB];
    System.arraycopy(first, 0, two, 0, MIB);
    System.arraycopy(bytes(MIB, 7), 0, two, MIB, MIB);
    Cid small = store(first); // one raw block, which is also chunk 0 of the larger blob
    own.add(small);
    Cid large = store(two);
    cache.reserve(large, 2L * MIB);
    Cid other = store(bytes(2 * MIB, 8));
    assertThrows(ModelCache.CacheFullException.class, () -> cache.reserve(other, 2L * MIB));
    assertTrue(blobs.contains(small));
    assertTrue(blobs.contains(large));
  }

  @Test
  void theReplicatedListSurvivesARestartInRecencyOrder() throws IOException {
    ModelCache cache = cache(10L * MIB);
    Cid a = store(bytes(MIB + 1, 1));
    Cid b = store(bytes(MIB + 1, 2));
    cache.reserve(a, MIB + 1);
    cache.reserve(b, MIB + 1);
    ModelCache reopened = cache(10L * MIB);
    assertEquals(List.of(a, b), reopened.replicated());
    assertEquals(2L * (MIB + 1), reopened.usedBytes());
  }

  @Test
  void rejectsADamagedCacheFileNamingTheLine() throws IOException {
    Files.createDirectories(tmp.resolve("replica"));
    Files.writeString(tmp.resolve("replica/replicated"), Cid.raw(new byte[] {1}) + " 12\nnot-a-cid 5\n");
    DecodingException e = assertThrows(DecodingException.class, () -> cache(MIB));
    assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    Files.writeString(tmp.resolve("replica/replicated"), Cid.raw(new byte[] {1}) + " -3\n");
    assertThrows(DecodingException.class, () -> cache(MIB));
  }

  @Property(tries = 200)
  void anyCacheFileEitherLoadsOrIsRefusedClearly(@ForAll @Size(max = 300) List<Byte> raw) throws IOException {
    Path dir = Files.createTempDirectory("model-cache");
    try (BlobStore store = FileBlobStore.open(dir.resolve("blobs"))) {
      byte[] b = new byte[raw.size()];
      for (int i = 0; i < b.length; i++) {
        b[i] = raw.get(i);
      }
      Files.createDirectories(dir.resolve("replica"));
      Files.write(dir.resolve("replica/replicated"), b);
      try {
        ModelCache c = ModelCache.open(dir.resolve("replica"), store, MIB, List::of, blob -> {});
        assertTrue(c.usedBytes() >= 0);
      } catch (DecodingException e) {
        assertFalse(e.getMessage().isBlank());
      }
    }
  }

  @Property(tries = 50)
  void aValidCacheFileReadsBackAsWritten(@ForAll @Size(max = 20) List<@net.jqwik.api.constraints.IntRange(min = 0, max = 1 << 30) Integer> sizes)
      throws IOException {
    Path dir = Files.createTempDirectory("model-cache");
    StringBuilder sb = new StringBuilder();
    List<Cid> cids = new ArrayList<>();
    long total = 0;
    for (int i = 0; i < sizes.size(); i++) {
      Cid cid = Cid.raw(new byte[] {(byte) i, (byte) (i >> 8)});
      cids.add(cid);
      sb.append(cid).append(' ').append(sizes.get(i)).append('\n');
      total += sizes.get(i);
    }
    Files.createDirectories(dir.resolve("replica"));
    Files.write(dir.resolve("replica/replicated"), sb.toString().getBytes(StandardCharsets.US_ASCII));
    try (BlobStore store = FileBlobStore.open(dir.resolve("blobs"))) {
      ModelCache c = ModelCache.open(dir.resolve("replica"), store, MIB, List::of, blob -> {});
      assertEquals(cids, c.replicated());
      assertEquals(total, c.usedBytes());
    }
  }
}

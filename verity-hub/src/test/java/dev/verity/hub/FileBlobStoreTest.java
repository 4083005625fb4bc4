package dev.verity.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class FileBlobStoreTest extends BlobStoreContract {

  @Override
  Fixture fixture() throws IOException {
    Path root = Files.createTempDirectory("verity-blobs");
    FileBlobStore store = FileBlobStore.open(root);
    return new Fixture() {
      @Override
      public BlobStore store() {
        return store;
      }

      @Override
      public void corrupt(Cid block, byte[] bytes) throws IOException {
        Files.write(store.blockPath(block), bytes);
      }

      @Override
      public Set<String> contents() throws IOException {
        return files(root);
      }

      @Override
      public List<Cid> quarantined() throws IOException {
        List<Cid> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(store.quarantineDirectory())) {
          for (Path p : s.sorted().toList()) {
            String name = p.getFileName().toString();
            out.add(Cid.parse(name.substring(0, name.indexOf('.'))));
          }
        }
        return out;
      }

      @Override
      public void close() throws IOException {
        store.close();
        deleteTree(root);
      }
    };
  }

  /** Every regular file under the root except the lock, as relative paths. */
  static Set<String> files(Path root) throws IOException {
    Set<String> out = new TreeSet<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        String rel = root.relativize(p).toString();
        if (!rel.equals("lock")) {
          out.add(rel);
        }
      }
    }
    return out;
  }

  static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private FileBlobStore fileStore() {
    return (FileBlobStore) store;
  }

  @Test
  void laysBlocksOutByCidUnderTwoCharacterDirectories() throws IOException {
    byte[] bytes = data(3 * MIB / 2, 40);
    Cid cid = store.put(bytes);
    Set<String> expected = new TreeSet<>();
    for (Cid block : List.of(cid, store.chunksOf(cid).get(0), store.chunksOf(cid).get(1))) {
      String name = block.toString();
      expected.add("blocks/" + name.substring(name.length() - 3, name.length() - 1) + "/" + name);
    }
    assertEquals(expected, files(fileStore().root()));
    Path chunk1 = fileStore().blockPath(store.chunksOf(cid).get(1));
    assertArrayEquals(
        java.util.Arrays.copyOfRange(bytes, MIB, bytes.length), Files.readAllBytes(chunk1));
  }

  @Test
  void keepsBlobsAcrossReopen() throws IOException {
    byte[] bytes = data(5 * MIB / 2, 41);
    Cid cid = store.put(bytes);
    Path root = fileStore().root();
    store.close();
    try (FileBlobStore reopened = FileBlobStore.open(root)) {
      assertTrue(reopened.contains(cid));
      assertArrayEquals(bytes, reopened.readAll(cid));
    }
  }

  @Test
  void removesTemporaryFilesACrashLeftBehindWhenOpened() throws IOException {
    Cid cid = store.put(data(100, 42));
    Path dir = fileStore().blockPath(cid).getParent();
    Path leftover = dir.resolve("." + cid + ".123456.tmp");
    Files.write(leftover, new byte[] {1, 2, 3});
    Path root = fileStore().root();
    store.close();
    try (FileBlobStore reopened = FileBlobStore.open(root)) {
      assertFalse(Files.exists(leftover));
      assertTrue(reopened.contains(cid));
    }
  }

  @Test
  void refusesSecondOpenOfTheSameRoot() {
    IOException e =
        assertThrows(IOException.class, () -> FileBlobStore.open(fileStore().root()));
    assertTrue(e.getMessage().contains("already open"), e.getMessage());
  }

  @Test
  void movesCorruptBlockToQuarantineDirectory() throws IOException {
    byte[] bytes = data(300, 43);
    Cid cid = store.put(bytes);
    Path file = fileStore().blockPath(cid);
    bytes[7] ^= 2;
    Files.write(file, bytes);
    assertThrows(CorruptBlobException.class, () -> store.readAll(cid));
    assertFalse(Files.exists(file));
    try (Stream<Path> q = Files.list(fileStore().quarantineDirectory())) {
      List<Path> bad = q.toList();
      assertEquals(1, bad.size());
      assertArrayEquals(bytes, Files.readAllBytes(bad.get(0)));
    }
  }

  @Test
  void failsClearlyAfterClose() throws IOException {
    Cid cid = store.put(data(10, 44));
    store.close();
    assertThrows(IllegalStateException.class, () -> store.open(cid));
  }
}

package dev.verity.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves a blob far larger than the heap can be stored and read back: a separate JVM with a 48 MiB
 * heap puts and re-reads a 256 MiB blob, and this test checks its CID and content against values
 * computed here, chunk by chunk, without the store's code.
 */
class LargeBlobStreamingTest {
  static final long SIZE = 256L << 20;
  static final long SEED = 20240611L;

  @Test
  void storesAndReadsBackBlobFiveTimesLargerThanTheHeap(@TempDir Path dir) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb =
        new ProcessBuilder(
                java.toString(),
                "-Xmx48m",
                "-cp",
                System.getProperty("java.class.path"),
                LargeBlobRoundTrip.class.getName(),
                dir.resolve("store").toString(),
                Long.toString(SIZE),
                Long.toString(SEED))
            .redirectErrorStream(true);
    Process child = pb.start();
    String output;
    try (InputStream out = child.getInputStream()) {
      output = new String(out.readAllBytes(), StandardCharsets.UTF_8);
    }
    // A bound so a wedged child cannot hang the build; not a timing assertion.
    assertTrue(child.waitFor(10, TimeUnit.MINUTES), "child JVM did not exit:\n" + output);
    assertEquals(0, child.exitValue(), "child JVM failed (out of memory?):\n" + output);
    Map<String, String> reported = new HashMap<>();
    for (String line : output.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        reported.put(line.substring(0, eq), line.substring(eq + 1).strip());
      }
    }
    assertTrue(Long.parseLong(reported.get("maxHeap")) < SIZE / 4, output);

    Expected expected = expected(SIZE, SEED);
    assertEquals(expected.cid.toString(), reported.get("cid"), output);
    assertEquals(expected.sha256.toHex(), reported.get("sha256"), output);
    assertEquals(Long.toString(SIZE), reported.get("bytes"), output);
    assertEquals(Long.toString(SIZE), reported.get("size"), output);
  }

  record Expected(Cid cid, Hash sha256) {}

  /** The blob's CID and content hash, from the naming rule written out directly. */
  static Expected expected(long size, long seed) throws IOException {
    MessageDigest whole = Hash.newDigest();
    List<CborValue> chunks = new ArrayList<>();
    try (InputStream in = new GeneratedStream(size, seed)) {
      byte[] chunk = new byte[1 << 20];
      while (true) {
        int n = in.readNBytes(chunk, 0, chunk.length);
        if (n == 0) {
          break;
        }
        whole.update(chunk, 0, n);
        byte[] cid = new byte[36];
        cid[0] = 0x01; // CIDv1
        cid[1] = 0x55; // raw
        cid[2] = 0x12; // sha2-256
        cid[3] = 0x20; // 32-byte digest
        MessageDigest d = Hash.newDigest();
        d.update(chunk, 0, n);
        System.arraycopy(d.digest(), 0, cid, 4, 32);
        chunks.add(new CborValue.Bytes(cid));
      }
    }
    byte[] index =
        Cbor.encode(
            CborValue.Map.builder()
                .put("version", 1)
                .put("size", size)
                .put("chunk_size", 1 << 20)
                .put("chunks", new CborValue.Array(chunks))
                .build());
    return new Expected(Cid.dagCbor(index), Hash.fromDigest(whole));
  }

  @Test
  void independentNamingAgreesWithTheStoreOnASmallerBlob(@TempDir Path dir) throws IOException {
    long size = 5L * (1 << 20) + 17;
    try (FileBlobStore store = FileBlobStore.open(dir)) {
      Cid cid = store.put(new GeneratedStream(size, 3), size);
      assertEquals(expected(size, 3).cid(), cid);
      assertTrue(Files.isDirectory(dir.resolve("blocks")));
    }
  }
}

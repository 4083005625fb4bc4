package dev.verity.hub;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Measures {@link FileBlobStore} put and open throughput for one large blob against plain file I/O in
 * the same run. Not a test. Baselines: writing a copy of the same file with one fsync at the end,
 * and reading that copy back (both through a 1 MiB buffer). Reads hit the page cache on both sides.
 *
 * <p>Arguments: [work directory] [blob MiB, default 256] [rounds, default 5]. The work directory is
 * emptied of its own files afterwards.
 */
final class BlobStoreThroughput {
  private static final int BUFFER = 1 << 20;

  private BlobStoreThroughput() {}

  public static void main(String[] args) throws Exception {
    Path dir =
        args.length > 0
            ? Path.of(args[0])
            : Path.of(System.getProperty("java.io.tmpdir"), "verity-blob-throughput");
    int mib = args.length > 1 ? Integer.parseInt(args[1]) : 256;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    long size = (long) mib << 20;
    Files.createDirectories(dir);
    Path source = dir.resolve("source.bin");
    Path copy = dir.resolve("copy.bin");
    writeSource(source, size);

    List<Double> copyRates = new ArrayList<>();
    List<Double> nameRates = new ArrayList<>();
    List<Double> putRates = new ArrayList<>();
    List<Double> readRates = new ArrayList<>();
    List<Double> hashRates = new ArrayList<>();
    List<Double> openRates = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      Files.deleteIfExists(copy);
      copyRates.add(rate(size, () -> copyWithFsync(source, copy)));

      nameRates.add(
          rate(
              size,
              () -> {
                try (InputStream in = Files.newInputStream(source)) {
                  BlobStore.cidOf(in, size);
                }
              }));

      Path root = dir.resolve("store");
      if (Files.exists(root)) {
        FileBlobStoreTest.deleteTree(root);
      }
      try (FileBlobStore store = FileBlobStore.open(root)) {
        Cid[] cid = new Cid[1];
        putRates.add(
            rate(
                size,
                () -> {
                  try (InputStream in = Files.newInputStream(source)) {
                    cid[0] = store.put(in, size);
                  }
                }));
        readRates.add(rate(size, () -> drain(Files.newInputStream(copy), null)));
        hashRates.add(rate(size, () -> drain(Files.newInputStream(copy), Hash.newDigest())));
        openRates.add(rate(size, () -> drain(store.open(cid[0]), null)));
        if (round == 0) {
          System.out.println("blob " + cid[0] + " (" + mib + " MiB)");
        }
      }
    }
    report("baseline: file copy + fsync", copyRates);
    report("BlobStore.cidOf (naming, no writes)", nameRates);
    report("FileBlobStore.put", putRates);
    report("baseline: file read", readRates);
    report("baseline: file read + SHA-256", hashRates);
    report("FileBlobStore.open (verified)", openRates);

    Files.deleteIfExists(copy);
    Files.deleteIfExists(source);
    FileBlobStoreTest.deleteTree(dir.resolve("store"));
  }

  interface Work {
    void run() throws IOException;
  }

  private static double rate(long bytes, Work work) throws IOException {
    long start = System.nanoTime();
    work.run();
    double seconds = (System.nanoTime() - start) / 1e9;
    return bytes / (1 << 20) / seconds;
  }

  private static void report(String what, List<Double> rates) {
    List<Double> sorted = new ArrayList<>(rates);
    Collections.sort(sorted);
    System.out.printf(
        Locale.ROOT,
        "%-34s median %7.1f MiB/s  best %7.1f MiB/s  (%d rounds)%n",
        what,
        sorted.get(sorted.size() / 2),
        sorted.get(sorted.size() - 1),
        sorted.size());
  }

  private static void writeSource(Path source, long size) throws IOException {
    try (InputStream in = new GeneratedStream(size, 1);
        FileChannel out =
            FileChannel.open(
                source,
                StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
      byte[] buf = new byte[BUFFER];
      for (int n; (n = in.readNBytes(buf, 0, BUFFER)) > 0; ) {
        out.write(ByteBuffer.wrap(buf, 0, n));
      }
      out.force(true);
    }
  }

  private static void copyWithFsync(Path from, Path to) throws IOException {
    try (InputStream in = Files.newInputStream(from);
        FileChannel out =
            FileChannel.open(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      byte[] buf = new byte[BUFFER];
      for (int n; (n = in.readNBytes(buf, 0, BUFFER)) > 0; ) {
        ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
        while (b.hasRemaining()) {
          out.write(b);
        }
      }
      out.force(true);
    }
  }

  private static void drain(InputStream stream, MessageDigest digest) throws IOException {
    try (InputStream in = stream) {
      byte[] buf = new byte[BUFFER];
      for (int n; (n = in.read(buf)) >= 0; ) {
        if (digest != null) {
          digest.update(buf, 0, n);
        }
      }
    }
  }
}

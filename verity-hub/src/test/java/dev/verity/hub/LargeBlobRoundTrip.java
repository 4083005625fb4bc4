package dev.verity.hub;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * Run in a separate small-heap JVM by {@link LargeBlobStreamingTest}: puts a generated blob into a
 * {@link FileBlobStore}, streams it back, and prints the blob's CID and the SHA-256 and length of
 * the bytes read, for the parent to compare with values it computes itself.
 *
 * <p>Arguments: store directory, blob size in bytes, seed.
 */
final class LargeBlobRoundTrip {
  private LargeBlobRoundTrip() {}

  public static void main(String[] args) throws Exception {
    Path root = Path.of(args[0]);
    long size = Long.parseLong(args[1]);
    long seed = Long.parseLong(args[2]);
    try (FileBlobStore store = FileBlobStore.open(root)) {
      Cid cid = store.put(new GeneratedStream(size, seed), size);
      MessageDigest digest = Hash.newDigest();
      long read = 0;
      try (InputStream in = store.open(cid)) {
        byte[] buf = new byte[256 * 1024];
        for (int n; (n = in.read(buf)) >= 0; ) {
          digest.update(buf, 0, n);
          read += n;
        }
      }
      System.out.println("cid=" + cid);
      System.out.println("sha256=" + Hash.fromDigest(digest).toHex());
      System.out.println("bytes=" + read);
      System.out.println("size=" + store.size(cid));
      System.out.println("maxHeap=" + Runtime.getRuntime().maxMemory());
    }
  }
}

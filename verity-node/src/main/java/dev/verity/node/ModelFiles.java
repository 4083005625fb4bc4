package dev.verity.node;

import dev.verity.core.BlobCid;
import dev.verity.core.Cid;
import dev.verity.core.io.AtomicFiles;
import dev.verity.hub.BlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Model files as engines need them: one contiguous file per model CID under {@code models/},
 * assembled from the blob store's verified chunks (so every byte was checked against the CID on the
 * way out of the store), fsynced and renamed into place. Engines memory-map or read these files;
 * the blob store remains the source of truth.
 */
final class ModelFiles {
  private final Path dir;
  private final BlobStore blobs;
  private final Map<Cid, Object> locks = new ConcurrentHashMap<>();

  ModelFiles(Path dir, BlobStore blobs) throws IOException {
    this.dir = dir;
    this.blobs = blobs;
    Files.createDirectories(dir);
  }

  /**
   * The path of the model file for {@code cid}, assembled from the blob store if needed. A cached
   * file is re-hashed first; one that no longer matches its CID is replaced, never handed out.
   */
  Path materialize(Cid cid) throws IOException {
    Path target = dir.resolve(cid + ".onnx");
    synchronized (locks.computeIfAbsent(cid, k -> new Object())) {
      if (Files.exists(target)) {
        if (BlobCid.of(target).equals(cid)) {
          return target;
        }
        Files.delete(target);
      }
      Path tmp = AtomicFiles.createTemp(dir, cid.toString(), null);
      try {
        try (InputStream in = blobs.open(cid);
            FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
            OutputStream out = Channels.newOutputStream(ch)) {
          in.transferTo(out);
          ch.force(true);
        }
        AtomicFiles.moveIntoPlace(tmp, target);
      } finally {
        Files.deleteIfExists(tmp);
      }
      return target;
    }
  }

  /** Removes a cached model file (for example after the store found its blob corrupt). */
  void evict(Cid cid) throws IOException {
    Files.deleteIfExists(dir.resolve(cid + ".onnx"));
  }
}

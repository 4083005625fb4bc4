package dev.verity.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The CID of a blob of any size by the chunking rule of {@link ChunkIndex}, computed in one
 * streaming pass that holds one chunk in memory. For callers that name files without storing them
 * (clients checking a download, publishers naming a model before upload).
 */
public final class BlobCid {
  public static final int CHUNK_SIZE = ChunkIndex.CHUNK_SIZE;

  private BlobCid() {}

  public static Cid of(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return of(in);
    }
  }

  public static Cid of(InputStream in) throws IOException {
    byte[] buf = new byte[CHUNK_SIZE];
    List<Cid> chunks = new ArrayList<>();
    long size = 0;
    int n;
    while ((n = in.readNBytes(buf, 0, CHUNK_SIZE)) > 0) {
      chunks.add(Cid.of(Cid.Codec.RAW, Hash.of(buf, 0, n)));
      size += n;
      if (n < CHUNK_SIZE) {
        break;
      }
    }
    if (chunks.size() <= 1 && size <= CHUNK_SIZE) {
      return chunks.isEmpty() ? Cid.raw(new byte[0]) : chunks.get(0);
    }
    return ChunkIndex.create(size, chunks).cid();
  }
}

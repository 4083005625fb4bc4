package dev.verity.core;

import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The CID of a blob of any size, by Verity's chunking rule: a blob of at most {@link #CHUNK_SIZE}
 * bytes is one raw block (its CID is what IPFS computes for the same bytes); a larger one is split
 * into chunks of {@link #CHUNK_SIZE} bytes (the last shorter), each a raw block, and named by the
 * dag-cbor CID of its chunk index {"version": 1, "size": total, "chunk_size": CHUNK_SIZE, "chunks":
 * [binary chunk CIDs]}. Computed in one streaming pass, holding one chunk in memory.
 */
public final class BlobCid {
  public static final int CHUNK_SIZE = 1 << 20;

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
    return Cid.dagCbor(indexBytes(size, chunks));
  }

  /** The canonical encoding of a chunk index. */
  public static byte[] indexBytes(long size, List<Cid> chunks) {
    return Cbor.encode(CborValue.Map.builder()
        .put("version", 1)
        .put("size", size)
        .put("chunk_size", CHUNK_SIZE)
        .put("chunks", new CborValue.Array(chunks.stream().map(c -> (CborValue) new CborValue.Bytes(c.toBytes())).toList()))
        .build());
  }
}

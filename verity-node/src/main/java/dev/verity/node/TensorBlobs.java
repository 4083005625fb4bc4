package dev.verity.node;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.io.AtomicFiles;
import dev.verity.hub.BlobStore;
import dev.verity.protocol.tensor.NamedTensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The inputs and outputs of optimistic jobs, kept so that verifiers and challengers can fetch them
 * by the CIDs the receipt names ({@code GET /v1/blobs/{cid}}). A tensor set's CID is the dag-cbor
 * CID of its canonical encoding; its bytes live in the node's {@link BlobStore} as an ordinary blob
 * (a raw block with the same SHA-256 when at most 1 MiB, chunks otherwise, with the blob CID kept
 * in {@code tensors/<cid>}). Bytes read back are re-hashed against the tensor CID, so a damaged copy
 * is never served. Thread-safe.
 */
final class TensorBlobs {
  private final BlobStore blobs;
  private final Path dir;

  TensorBlobs(BlobStore blobs, Path dir) throws IOException {
    this.blobs = blobs;
    this.dir = dir;
    Files.createDirectories(dir);
  }

  /** Keeps {@code tensors}; returns their CID. Keeping the same set again is harmless. */
  Cid keep(NamedTensors tensors) throws IOException {
    return keep(tensors.canonicalBytes());
  }

  /**
   * Keeps any canonical CBOR object (a tensor set, a manifest) under its dag-cbor CID, which is
   * returned.
   */
  Cid keep(byte[] bytes) throws IOException {
    Cid cid = Cid.dagCbor(bytes);
    Cid blob = blobs.put(bytes);
    if (!blob.equals(small(cid))) {
      Path index = dir.resolve(cid.toString());
      if (!Files.exists(index)) {
        AtomicFiles.write(index, blob.toString().getBytes(StandardCharsets.US_ASCII));
      }
    }
    return cid;
  }

  /**
   * The canonical bytes of the tensor set {@code cid}, checked against it, or empty if this node
   * does not keep it (or its copy is damaged).
   */
  Optional<byte[]> read(Cid cid) throws IOException {
    if (cid.codec() != Cid.Codec.DAG_CBOR) {
      return Optional.empty();
    }
    Optional<Cid> blob = Optional.empty();
    if (blobs.contains(small(cid))) {
      blob = Optional.of(small(cid));
    } else {
      Path index = dir.resolve(cid.toString());
      if (Files.exists(index)) {
        try {
          blob = Optional.of(Cid.parse(Files.readString(index, StandardCharsets.US_ASCII).trim()));
        } catch (DecodingException e) {
          return Optional.empty();
        }
      }
    }
    if (blob.isEmpty() || !blobs.contains(blob.get())) {
      return Optional.empty();
    }
    byte[] bytes;
    try {
      bytes = blobs.readAll(blob.get());
    } catch (dev.verity.hub.CorruptBlobException | dev.verity.hub.MissingBlockException e) {
      return Optional.empty();
    }
    return Cid.dagCbor(bytes).equals(cid) ? Optional.of(bytes) : Optional.empty();
  }

  private static Cid small(Cid tensors) {
    return Cid.of(Cid.Codec.RAW, tensors.digest());
  }
}

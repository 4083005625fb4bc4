package dev.verity.node.optimistic;

import dev.verity.core.Cid;
import dev.verity.hub.BlobStore;
import dev.verity.hub.ModelRegistry;
import java.io.IOException;

/**
 * Where the referee reads content-addressed blobs: model manifests, ONNX files, and the inputs and
 * outputs of jobs. The caller of {@link #read} re-hashes what it gets against the CID (an
 * implementation is not trusted to), so any store, cache or peer fetch can serve as one.
 */
@FunctionalInterface
public interface BlobSource {

  /**
   * The bytes of the blob named {@code cid}.
   *
   * @throws IOException if the blob is missing or cannot be read
   */
  byte[] read(Cid cid) throws IOException;

  /** Reads from a node's hub blob store. */
  static BlobSource of(BlobStore store) {
    return store::readAll;
  }

  /**
   * Reads from a node's hub: manifests from its registry, everything else from its blob store. A
   * dag-cbor CID that is not a chunk index in the store (the CID of canonical named tensors, which
   * receipts use for inputs and outputs) is read as the raw block with the same digest: a node
   * keeps a request's inputs (or outputs) by {@link BlobStore#put(byte[])} of their canonical bytes,
   * which for up to 1 MiB is one raw block named by the same SHA-256.
   */
  static BlobSource of(ModelRegistry registry, BlobStore store) {
    return cid -> {
      var manifest = registry.manifest(cid);
      if (manifest.isPresent()) {
        return manifest.get().encode();
      }
      if (cid.codec() == Cid.Codec.DAG_CBOR) {
        Cid raw = Cid.of(Cid.Codec.RAW, cid.digest());
        if (store.hasBlock(raw)) {
          return store.readBlock(raw);
        }
      }
      return store.readAll(cid);
    };
  }
}

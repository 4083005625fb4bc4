package dev.verity.node.optimistic;

import dev.verity.core.Cid;
import dev.verity.hub.BlobStore;
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
}

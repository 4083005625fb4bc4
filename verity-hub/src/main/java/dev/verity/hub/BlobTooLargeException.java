package dev.verity.hub;

import dev.verity.core.ChunkIndex;
import java.io.IOException;

/**
 * A stream given to {@link BlobStore#put} ran past the caller's byte limit (or the protocol's
 * {@link ChunkIndex#MAX_BLOB_SIZE}). Nothing of it was kept. Raise the limit if the blob is
 * expected to be that large.
 */
public final class BlobTooLargeException extends IOException {
  private static final long serialVersionUID = 1L;

  private final long limit;

  public BlobTooLargeException(long limit) {
    super(
        "blob is longer than the limit of "
            + limit
            + " bytes"
            + (limit == ChunkIndex.MAX_BLOB_SIZE ? " (the protocol maximum)" : "")
            + "; nothing was stored");
    this.limit = limit;
  }

  /** The limit that was exceeded, in bytes. */
  public long limit() {
    return limit;
  }
}

package dev.verity.hub;

import dev.verity.core.Cid;
import java.io.IOException;
import java.util.Objects;

/**
 * A blob, or one of its blocks, is not in the store. Fetch {@link #block()} (or all of {@link
 * BlobStore#missingBlocks}) from a peer and try again.
 */
public final class MissingBlockException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Cid blob;
  private final transient Cid block;

  public MissingBlockException(Cid blob, Cid block) {
    super(
        blob.equals(block)
            ? "blob " + blob + " is not in the store"
            : "block " + block + " of blob " + blob + " is not in the store");
    this.blob = Objects.requireNonNull(blob);
    this.block = Objects.requireNonNull(block);
  }

  /** The blob asked for. */
  public Cid blob() {
    return blob;
  }

  /** The first block found missing (equal to {@link #blob()} when the blob's own block is absent). */
  public Cid block() {
    return block;
  }
}

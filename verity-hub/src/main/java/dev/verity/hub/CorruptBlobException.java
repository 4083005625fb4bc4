package dev.verity.hub;

import dev.verity.core.Cid;
import java.io.IOException;
import java.util.Objects;

/**
 * A stored block does not hold what its CID names (a flipped bit, a truncated or replaced file), or a
 * blob's index describes chunks that do not fit it. Thrown instead of ever returning bad bytes. The
 * store has already moved the bad block aside, so {@link BlobStore#contains} is false for the blob
 * and the block can be fetched again from a peer.
 */
public final class CorruptBlobException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Cid blob;
  private final transient Cid block;

  public CorruptBlobException(Cid blob, Cid block, String reason) {
    super(message(blob, block, reason));
    this.blob = Objects.requireNonNull(blob);
    this.block = Objects.requireNonNull(block);
  }

  private static String message(Cid blob, Cid block, String reason) {
    String where = blob.equals(block) ? "blob " + blob : "block " + block + " of blob " + blob;
    return where + " is corrupt: " + reason + "; it was quarantined, fetch it again";
  }

  /** The blob being read. */
  public Cid blob() {
    return blob;
  }

  /** The block that failed verification (equal to {@link #blob()} for a small blob or an index). */
  public Cid block() {
    return block;
  }
}

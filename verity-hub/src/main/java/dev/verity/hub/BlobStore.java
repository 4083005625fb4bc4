package dev.verity.hub;

import dev.verity.core.ChunkIndex;
import dev.verity.core.Cid;
import dev.verity.core.VerificationException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * A content-addressed store of blobs, named as {@link ChunkIndex} describes: a blob of at most 1 MiB
 * is one raw block, a larger one is 1 MiB raw chunks plus a dag-cbor chunk index whose CID names
 * the blob. Blocks shared between blobs are stored once.
 *
 * <p>Contract common to every implementation:
 *
 * <ul>
 *   <li><b>Never bad bytes.</b> Every block is re-hashed when it is read; a block that does not match
 *       its CID (or an index whose chunks do not fit it) is moved aside and reported with {@link
 *       CorruptBlobException}, after which {@link #contains} is false and the block can be fetched
 *       again with {@link #putBlock}. Nothing read from storage is trusted beyond the protocol's
 *       limits (a block longer than 1 MiB or {@link ChunkIndex#MAX_ENCODED_LENGTH} is corrupt).
 *   <li><b>Streaming.</b> {@link #put} and {@link #open} hold about one chunk plus the chunk index in
 *       memory, whatever the blob's size.
 *   <li><b>All or nothing.</b> A blob's blocks become visible only after all of them are stored
 *       (chunks before the index); a failed {@link #put} leaves nothing behind.
 *   <li><b>Idempotent and thread-safe.</b> Storing the same content twice, from any number of
 *       threads at once, stores it once and returns the same CID.
 *   <li><b>Missing data</b> is reported with {@link MissingBlockException} naming the block to fetch.
 * </ul>
 *
 * <p>Replication between nodes uses the block API: {@link #putBlock} the blob's CID block first (for
 * a chunked blob, its index), then {@link #missingBlocks} tells which chunks to fetch, from any
 * peers, each checked by {@link #putBlock} before it is stored.
 */
public interface BlobStore extends Closeable {

  /**
   * Computes the CID a blob would have, without storing anything.
   *
   * @throws BlobTooLargeException if the stream is longer than {@code maxBytes}
   */
  static Cid cidOf(InputStream in, long maxBytes) throws IOException {
    return AbstractBlobStore.name(in, maxBytes, (cid, bytes, length) -> {});
  }

  /** The CID of {@code bytes} as a blob. */
  static Cid cidOf(byte[] bytes) {
    try {
      return cidOf(new java.io.ByteArrayInputStream(bytes), bytes.length);
    } catch (IOException e) {
      throw new AssertionError("reading an array cannot fail", e);
    }
  }

  /**
   * Stores the whole stream as a blob and returns its CID. Reads {@code in} to its end but does not
   * close it. Hashing happens as chunks arrive; each block is durable (where the implementation is)
   * before the blob's CID block is written last.
   *
   * @param maxBytes the most bytes the caller accepts; a longer stream is refused
   * @throws BlobTooLargeException if the stream has more than {@code maxBytes} bytes (or more than
   *     {@link ChunkIndex#MAX_BLOB_SIZE}); nothing of it is kept
   * @throws IOException if reading the stream or writing fails; nothing of it is kept
   */
  Cid put(InputStream in, long maxBytes) throws IOException;

  /**
   * Stores the stream as {@link #put} does, and also tells whether the blob was stored already before
   * this call (its own block was present when this call's blocks were about to become visible). Of
   * two calls storing the same new content at the same moment, both may say it was not.
   */
  Stored store(InputStream in, long maxBytes) throws IOException;

  /** What {@link #store} did: the blob's CID, and whether the blob was there before the call. */
  record Stored(Cid cid, boolean existed) {}

  /** Stores {@code bytes} as a blob and returns its CID. */
  default Cid put(byte[] bytes) throws IOException {
    return put(new java.io.ByteArrayInputStream(bytes), bytes.length);
  }

  /**
   * Streams a blob's bytes. Fails at once with {@link MissingBlockException} if any block is absent;
   * while reading, each chunk is verified before any of its bytes are returned, and a bad one makes
   * the stream throw {@link CorruptBlobException}. The stream supports fast {@code skip}.
   */
  InputStream open(Cid blob) throws IOException;

  /** Reads a whole blob into memory; for blobs known to be small. */
  default byte[] readAll(Cid blob) throws IOException {
    try (InputStream in = open(blob)) {
      return in.readAllBytes();
    }
  }

  /**
   * The blob's size in bytes (for a chunked blob, from its verified index).
   *
   * @throws MissingBlockException if the blob's own block is absent
   * @throws CorruptBlobException if that block is corrupt
   */
  long size(Cid blob) throws IOException;

  /**
   * Whether every block of the blob is present (presence only; content is verified when read). A
   * corrupt index found here is quarantined and the answer is false.
   */
  boolean contains(Cid blob) throws IOException;

  /**
   * The blocks still needed to complete the blob, without repeats, in blob order: the blob's CID
   * itself if its own block is absent (or corrupt), else the absent chunks. Empty when {@link
   * #contains} is true.
   */
  List<Cid> missingBlocks(Cid blob) throws IOException;

  /**
   * The chunk CIDs of a blob in order: the blob's CID alone for a small blob, the index's list for a
   * chunked one.
   *
   * @throws MissingBlockException if a chunked blob's index is absent
   */
  List<Cid> chunksOf(Cid blob) throws IOException;

  /** Whether one block is present (not verified). */
  boolean hasBlock(Cid block) throws IOException;

  /**
   * One block's bytes, verified against its CID (and, for a dag-cbor block, checked to be a valid
   * chunk index), as a peer would be served them.
   */
  byte[] readBlock(Cid block) throws IOException;

  /**
   * Stores one block received from elsewhere, after checking it: a raw block must be at most 1 MiB
   * and hash to {@code expected}; a dag-cbor block must hash to {@code expected} and be a valid
   * chunk index. Storing a present block again is harmless.
   *
   * @throws VerificationException if {@code bytes} are not what {@code expected} names; nothing is
   *     stored
   */
  void putBlock(Cid expected, byte[] bytes) throws IOException, VerificationException;

  /**
   * Evicts a blob: removes its own block, then each of its chunks that no other chunk index present
   * in the store lists (so blobs sharing chunks stay whole). A block that is also a chunk of another
   * present blob stays, so a small blob may remain readable after its delete. Deleting an absent
   * blob does nothing; when a chunked blob's index is absent its orphaned chunks are not found (a
   * later garbage collection may remove them). Cost grows with the number of indexes in the store.
   * Waits for puts in progress, which wait for it; a stream already open on the blob may then fail
   * with {@link MissingBlockException}.
   */
  void delete(Cid blob) throws IOException;
}

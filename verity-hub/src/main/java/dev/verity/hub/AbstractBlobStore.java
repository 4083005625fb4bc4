package dev.verity.hub;

import dev.verity.core.ChunkIndex;
import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The blob logic shared by every store: chunking and naming, verification on read, streaming, partial
 * presence and eviction. Subclasses only keep blocks: {@link #load}, {@link #has}, {@link #stage},
 * {@link #remove}, {@link #quarantine} and {@link #indexes}.
 *
 * <p>Puts hold a shared lock and {@link #delete} an exclusive one, so a delete never removes a chunk
 * that a put in progress has just found present and is about to reference.
 */
abstract class AbstractBlobStore implements BlobStore {

  /** Receives the blocks of a blob as they are cut; {@code bytes} is reused after the call. */
  interface BlockSink {
    void add(Cid cid, byte[] bytes, int length) throws IOException;
  }

  /**
   * Blocks written but not yet visible. {@link #commit} makes them visible in the order added, the
   * last one after all others are durable; {@link #close} without commit discards them.
   */
  interface Staging extends BlockSink, Closeable {
    void commit() throws IOException;
  }

  private final ReadWriteLock lock = new ReentrantReadWriteLock();

  // ---- block keeping, implemented by subclasses ----

  /**
   * The stored bytes of a block, unverified, or null if absent. If the stored block is longer than
   * {@code maxLength}, returns an array longer than {@code maxLength} (not necessarily all of it).
   */
  abstract byte[] load(Cid block, int maxLength) throws IOException;

  abstract boolean has(Cid block) throws IOException;

  abstract Staging stage() throws IOException;

  /** Removes a block if present. */
  abstract void remove(Cid block) throws IOException;

  /** Moves a bad block out of the store (kept aside for inspection) so it reads as absent. */
  abstract void quarantine(Cid block) throws IOException;

  /** The CIDs of all dag-cbor blocks (chunk indexes) present. */
  abstract List<Cid> indexes() throws IOException;

  // ---- naming ----

  /** Cuts a stream into blocks as {@link ChunkIndex} defines, feeding each to {@code sink}. */
  static Cid name(InputStream in, long maxBytes, BlockSink sink) throws IOException {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must not be negative: " + maxBytes);
    }
    long limit = Math.min(maxBytes, ChunkIndex.MAX_BLOB_SIZE);
    byte[] buf = new byte[ChunkIndex.CHUNK_SIZE];
    List<Cid> chunks = new ArrayList<>();
    long total = 0;
    int length = fill(in, buf, 0);
    while (true) {
      int next = length == buf.length ? in.read() : -1;
      total += length;
      if (total + (next >= 0 ? 1 : 0) > limit) {
        throw new BlobTooLargeException(limit);
      }
      Cid chunk = Cid.of(Cid.Codec.RAW, Hash.of(buf, 0, length));
      sink.add(chunk, buf, length);
      chunks.add(chunk);
      if (next < 0) {
        break;
      }
      buf[0] = (byte) next;
      length = 1 + fill(in, buf, 1);
    }
    if (chunks.size() == 1) {
      return chunks.get(0);
    }
    byte[] index = ChunkIndex.create(total, chunks).encode();
    Cid cid = Cid.dagCbor(index);
    sink.add(cid, index, index.length);
    return cid;
  }

  private static int fill(InputStream in, byte[] buf, int from) throws IOException {
    int at = from;
    while (at < buf.length) {
      int n = in.read(buf, at, buf.length - at);
      if (n < 0) {
        break;
      }
      at += n;
    }
    return at - from;
  }

  // ---- BlobStore ----

  @Override
  public final Cid put(InputStream in, long maxBytes) throws IOException {
    return store(in, maxBytes).cid();
  }

  @Override
  public final Stored store(InputStream in, long maxBytes) throws IOException {
    Objects.requireNonNull(in, "in");
    lock.readLock().lock();
    try (Staging staging = stage()) {
      Cid cid = name(in, maxBytes, staging);
      boolean existed = has(cid);
      staging.commit();
      return new Stored(cid, existed);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public final void putBlock(Cid expected, byte[] bytes)
      throws IOException, VerificationException {
    if (expected.codec() == Cid.Codec.RAW && bytes.length > ChunkIndex.CHUNK_SIZE) {
      throw new VerificationException(
          "raw block of "
              + bytes.length
              + " bytes is larger than a chunk ("
              + ChunkIndex.CHUNK_SIZE
              + "), so it is no block of a blob");
    }
    if (expected.codec() == Cid.Codec.DAG_CBOR && bytes.length > ChunkIndex.MAX_ENCODED_LENGTH) {
      throw new VerificationException(
          "dag-cbor block of " + bytes.length + " bytes is larger than any chunk index");
    }
    expected.verify(bytes);
    if (expected.codec() == Cid.Codec.DAG_CBOR) {
      try {
        ChunkIndex.decode(bytes);
      } catch (DecodingException e) {
        throw new VerificationException(
            "block " + expected + " is not a valid chunk index: " + e.getMessage(), e);
      }
    }
    lock.readLock().lock();
    try (Staging staging = stage()) {
      staging.add(expected, bytes, bytes.length);
      staging.commit();
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public final InputStream open(Cid blob) throws IOException {
    if (blob.codec() == Cid.Codec.RAW) {
      return new BlobStream(blob, null, verifiedBlock(blob, blob));
    }
    ChunkIndex index = verifiedIndex(blob);
    for (Cid chunk : index.chunks()) {
      if (!has(chunk)) {
        throw new MissingBlockException(blob, chunk);
      }
    }
    return new BlobStream(blob, index, null);
  }

  @Override
  public final long size(Cid blob) throws IOException {
    return blob.codec() == Cid.Codec.RAW
        ? verifiedBlock(blob, blob).length
        : verifiedIndex(blob).size();
  }

  @Override
  public final boolean contains(Cid blob) throws IOException {
    return missingBlocks(blob).isEmpty();
  }

  @Override
  public final List<Cid> missingBlocks(Cid blob) throws IOException {
    if (!has(blob)) {
      return List.of(blob);
    }
    if (blob.codec() == Cid.Codec.RAW) {
      return List.of();
    }
    ChunkIndex index;
    try {
      index = verifiedIndex(blob);
    } catch (CorruptBlobException | MissingBlockException e) {
      return List.of(blob);
    }
    List<Cid> missing = new ArrayList<>();
    for (Cid chunk : new LinkedHashSet<>(index.chunks())) {
      if (!has(chunk)) {
        missing.add(chunk);
      }
    }
    return List.copyOf(missing);
  }

  @Override
  public final List<Cid> chunksOf(Cid blob) throws IOException {
    return blob.codec() == Cid.Codec.RAW ? List.of(blob) : verifiedIndex(blob).chunks();
  }

  @Override
  public final boolean hasBlock(Cid block) throws IOException {
    return has(block);
  }

  @Override
  public final byte[] readBlock(Cid block) throws IOException {
    byte[] bytes = verifiedBlock(block, block);
    if (block.codec() == Cid.Codec.DAG_CBOR) {
      decodeIndex(block, bytes);
    }
    return bytes;
  }

  @Override
  public final void delete(Cid blob) throws IOException {
    lock.writeLock().lock();
    try {
      if (!has(blob)) {
        return;
      }
      List<Cid> candidates;
      if (blob.codec() == Cid.Codec.RAW) {
        candidates = List.of(blob);
      } else {
        List<Cid> chunks;
        try {
          chunks = verifiedIndex(blob).chunks();
        } catch (CorruptBlobException e) {
          return; // quarantined: the index is gone and its chunks cannot be named
        }
        remove(blob);
        candidates = chunks;
      }
      Set<Cid> referenced = referencedChunks(blob);
      for (Cid chunk : new LinkedHashSet<>(candidates)) {
        if (!referenced.contains(chunk)) {
          remove(chunk);
        }
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  private Set<Cid> referencedChunks(Cid except) throws IOException {
    Set<Cid> referenced = new HashSet<>();
    for (Cid index : indexes()) {
      if (index.equals(except)) {
        continue;
      }
      try {
        referenced.addAll(verifiedIndex(index).chunks());
      } catch (CorruptBlobException | MissingBlockException e) {
        // A quarantined or vanished index references nothing any more.
      }
    }
    return referenced;
  }

  // ---- verified reads ----

  /** A block's bytes after checking length and hash; quarantines and throws if they are wrong. */
  final byte[] verifiedBlock(Cid blob, Cid block) throws IOException {
    int max =
        block.codec() == Cid.Codec.RAW ? ChunkIndex.CHUNK_SIZE : ChunkIndex.MAX_ENCODED_LENGTH;
    byte[] bytes = load(block, max);
    if (bytes == null) {
      throw new MissingBlockException(blob, block);
    }
    if (bytes.length > max) {
      quarantine(block);
      throw new CorruptBlobException(
          blob, block, "stored block is longer than any valid block (" + max + " bytes)");
    }
    Hash actual = Hash.of(bytes);
    if (!actual.equals(block.digest())) {
      quarantine(block);
      throw new CorruptBlobException(
          blob, block, "stored bytes hash to " + actual + ", not to the CID's digest");
    }
    return bytes;
  }

  private ChunkIndex verifiedIndex(Cid blob) throws IOException {
    if (blob.codec() != Cid.Codec.DAG_CBOR) {
      throw new IllegalArgumentException(blob + " is a raw CID, not a chunk index");
    }
    return decodeIndex(blob, verifiedBlock(blob, blob));
  }

  private ChunkIndex decodeIndex(Cid blob, byte[] bytes) throws IOException {
    try {
      return ChunkIndex.decode(bytes);
    } catch (DecodingException e) {
      quarantine(blob);
      throw new CorruptBlobException(blob, blob, "not a valid chunk index: " + e.getMessage());
    }
  }

  /** Streams a blob chunk by chunk; each chunk is verified before any of its bytes are served. */
  private final class BlobStream extends InputStream {
    private final Cid blob;
    private final ChunkIndex index; // null for a single-block blob
    private byte[] chunk;
    private int pos;
    private int nextChunk;
    private boolean closed;

    BlobStream(Cid blob, ChunkIndex index, byte[] single) {
      this.blob = blob;
      this.index = index;
      this.chunk = single;
      this.nextChunk = index == null ? 1 : 0;
    }

    /** Makes bytes available; false at the end of the blob. */
    private boolean ready() throws IOException {
      if (closed) {
        throw new IOException("stream of blob " + blob + " is closed");
      }
      while (chunk == null || pos == chunk.length) {
        if (index == null || nextChunk == index.chunks().size()) {
          return false;
        }
        int i = nextChunk;
        Cid cid = index.chunks().get(i);
        byte[] bytes = verifiedBlock(blob, cid);
        if (bytes.length != index.chunkLength(i)) {
          quarantine(blob);
          throw new CorruptBlobException(
              blob,
              blob,
              "chunk "
                  + i
                  + " ("
                  + cid
                  + ") holds "
                  + bytes.length
                  + " bytes where the index says "
                  + index.chunkLength(i)
                  + ", so no valid blob has this index");
        }
        chunk = bytes;
        pos = 0;
        nextChunk++;
      }
      return true;
    }

    @Override
    public int read() throws IOException {
      return ready() ? chunk[pos++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) {
        return 0;
      }
      if (!ready()) {
        return -1;
      }
      int n = Math.min(len, chunk.length - pos);
      System.arraycopy(chunk, pos, b, off, n);
      pos += n;
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      if (n <= 0 || !ready()) {
        return 0;
      }
      long skipped = Math.min(n, chunk.length - pos);
      pos += (int) skipped;
      if (index != null) {
        // Whole chunks are skipped without being read, so none of their bytes are served.
        while (skipped < n
            && nextChunk < index.chunks().size()
            && n - skipped >= index.chunkLength(nextChunk)) {
          skipped += index.chunkLength(nextChunk);
          nextChunk++;
        }
      }
      return skipped;
    }

    @Override
    public int available() {
      return chunk == null || closed ? 0 : chunk.length - pos;
    }

    @Override
    public void close() {
      closed = true;
      chunk = null;
    }
  }
}

package dev.verity.core;

import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The chunk index of a large blob, and the rule that names every blob in Verity.
 *
 * <h2>Blob naming (protocol rule)</h2>
 *
 * <p>Every blob (model file, tensor, manifest, receipt, any byte sequence) is named by a CID
 * computed from its bytes alone, so the same bytes always get the same CID on every node:
 *
 * <ol>
 *   <li><b>Small blob.</b> A blob of at most {@value #CHUNK_SIZE} bytes (1 MiB), including the empty
 *       blob, is one block. Its CID is the raw CID of its bytes: CIDv1, codec {@code raw} (0x55),
 *       sha2-256 multihash ({@link Cid#raw}). This is byte for byte the CID IPFS computes for the same
 *       bytes stored as a single raw block.
 *   <li><b>Large blob.</b> A blob of more than {@value #CHUNK_SIZE} bytes is cut into chunks of
 *       exactly {@value #CHUNK_SIZE} bytes from its start; the last chunk holds the remaining 1 to
 *       {@value #CHUNK_SIZE} bytes. Each chunk is a block named by its raw CID. The blob's chunk index
 *       is the canonical CBOR encoding ({@link Cbor}, RFC 8949 section 4.2.1: shortest integer
 *       forms, map keys ordered by encoded length then bytewise) of the map
 *       <pre>
 *   {"size": &lt;total bytes&gt;, "chunks": [&lt;chunk CID&gt;, ...], "version": 1, "chunk_size": 1048576}
 *       </pre>
 *       (shown in canonical key order), where each chunk CID is a CBOR byte string holding the
 *       36-byte binary CID ({@link Cid#toBytes}: 0x01 0x55 0x12 0x20 followed by the sha2-256
 *       digest), in blob order. The index is itself a block whose CID is {@link Cid#dagCbor} of
 *       those bytes (codec {@code dag-cbor}, 0x71), and that CID names the blob. Chunk CIDs are plain
 *       byte strings, not CBOR tag 42 links, so generic IPFS tools see the index as a leaf.
 *   <li><b>Limits.</b> A blob is at most {@value #MAX_BLOB_SIZE} bytes (64 GiB), so an index lists at
 *       most {@value #MAX_CHUNKS} chunks and its encoding is at most {@link #MAX_ENCODED_LENGTH}
 *       bytes.
 * </ol>
 *
 * <p>Decoding an index is strict; a conforming decoder rejects, with {@link DecodingException}: an
 * encoding longer than {@link #MAX_ENCODED_LENGTH}; anything that is not canonical CBOR; fields
 * other than the four above or missing ones; {@code version} other than 1; {@code chunk_size}
 * other than {@value #CHUNK_SIZE}; {@code size} of at most {@value #CHUNK_SIZE} (such a blob must be
 * named as one raw block, so no blob has two names) or above {@value #MAX_BLOB_SIZE}; a chunk count
 * other than {@code ceil(size / chunk_size)}; any chunk entry that is not a 36-byte binary CIDv1
 * with codec {@code raw} and a sha2-256 multihash. Chunks may repeat (a blob of zeros has equal
 * chunks). A reader must also check that chunk {@code i} holds exactly {@link #chunkLength(int)}
 * bytes, since an index alone cannot prove that.
 *
 * <p>Instances are immutable and always valid.
 */
public final class ChunkIndex {
  /** The only index format version. */
  public static final int VERSION = 1;
  /** Bytes per chunk, and the largest blob that is a single raw block: 1 MiB. */
  public static final int CHUNK_SIZE = 1 << 20;
  /** The largest blob the protocol names: 64 GiB. */
  public static final long MAX_BLOB_SIZE = 1L << 36;
  /** The most chunks an index lists. */
  public static final int MAX_CHUNKS = (int) (MAX_BLOB_SIZE / CHUNK_SIZE);
  /** The longest valid index encoding; readers refuse to load anything longer. */
  public static final int MAX_ENCODED_LENGTH = encodedLengthFor(MAX_BLOB_SIZE);

  private static final Set<String> FIELDS = Set.of("version", "size", "chunk_size", "chunks");

  private final long size;
  private final List<Cid> chunks;

  private ChunkIndex(long size, List<Cid> chunks) {
    this.size = size;
    this.chunks = chunks;
  }

  /**
   * An index of a blob of {@code size} bytes made of {@code chunks} in order.
   *
   * @throws IllegalArgumentException when the size is out of range, the chunk count does not match
   *     the size, or a chunk CID is not a raw CID
   */
  public static ChunkIndex create(long size, List<Cid> chunks) {
    List<Cid> copy = List.copyOf(chunks);
    validate(size, copy);
    return new ChunkIndex(size, copy);
  }

  /** The number of chunks a blob of {@code size} bytes has; 1 for a blob stored as one block. */
  public static int chunkCountFor(long size) {
    if (size < 0 || size > MAX_BLOB_SIZE) {
      throw new IllegalArgumentException(
          "blob size " + size + " is outside 0.." + MAX_BLOB_SIZE + " bytes");
    }
    return size <= CHUNK_SIZE ? 1 : (int) ((size + CHUNK_SIZE - 1) / CHUNK_SIZE);
  }

  /** Whether a blob of {@code size} bytes is chunked (named by an index) rather than one block. */
  public static boolean isChunked(long size) {
    return size > CHUNK_SIZE;
  }

  /**
   * Decodes an index strictly (see the class description).
   *
   * @throws DecodingException naming what was wrong
   */
  public static ChunkIndex decode(byte[] encoded) {
    if (encoded.length > MAX_ENCODED_LENGTH) {
      throw new DecodingException(
          "chunk index of "
              + encoded.length
              + " bytes is longer than the largest valid index ("
              + MAX_ENCODED_LENGTH
              + " bytes)");
    }
    CborValue.Map map = Cbor.decodeMap(encoded).requireOnly(FIELDS);
    long version = map.getLong("version");
    if (version != VERSION) {
      throw new DecodingException("unsupported chunk index version " + version + ", expected 1");
    }
    long chunkSize = map.getLong("chunk_size");
    if (chunkSize != CHUNK_SIZE) {
      throw new DecodingException(
          "chunk index has chunk_size " + chunkSize + ", the protocol fixes it at " + CHUNK_SIZE);
    }
    long size = map.getLong("size");
    List<CborValue> items = map.getArray("chunks");
    List<Cid> chunks = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      if (!(items.get(i) instanceof CborValue.Bytes b)) {
        throw new DecodingException("chunk " + i + " of the index is not a byte string");
      }
      chunks.add(Cid.fromBytes(b.value()));
    }
    try {
      validate(size, chunks);
    } catch (IllegalArgumentException e) {
      throw new DecodingException("invalid chunk index: " + e.getMessage(), e);
    }
    return new ChunkIndex(size, List.copyOf(chunks));
  }

  private static void validate(long size, List<Cid> chunks) {
    if (size <= CHUNK_SIZE || size > MAX_BLOB_SIZE) {
      throw new IllegalArgumentException(
          "an indexed blob has more than "
              + CHUNK_SIZE
              + " and at most "
              + MAX_BLOB_SIZE
              + " bytes, not "
              + size
              + " (smaller blobs are a single raw block)");
    }
    int expected = chunkCountFor(size);
    if (chunks.size() != expected) {
      throw new IllegalArgumentException(
          "a blob of " + size + " bytes has " + expected + " chunks, index lists " + chunks.size());
    }
    for (int i = 0; i < chunks.size(); i++) {
      Cid c = Objects.requireNonNull(chunks.get(i), "chunk CID");
      if (c.codec() != Cid.Codec.RAW) {
        throw new IllegalArgumentException("chunk " + i + " CID " + c + " is not a raw CID");
      }
    }
  }

  /** The canonical CBOR encoding; its {@link Cid#dagCbor} is the blob's CID. */
  public byte[] encode() {
    List<CborValue> items = new ArrayList<>(chunks.size());
    for (Cid c : chunks) {
      items.add(new CborValue.Bytes(c.toBytes()));
    }
    return Cbor.encode(
        CborValue.Map.builder()
            .put("version", VERSION)
            .put("size", size)
            .put("chunk_size", CHUNK_SIZE)
            .put("chunks", new CborValue.Array(items))
            .build());
  }

  /** The blob's CID: the dag-cbor CID of {@link #encode()}. */
  public Cid cid() {
    return Cid.dagCbor(encode());
  }

  /** The blob's total size in bytes. */
  public long size() {
    return size;
  }

  /** The chunk CIDs in blob order (immutable; may repeat). */
  public List<Cid> chunks() {
    return chunks;
  }

  /** The byte offset of chunk {@code i} within the blob. */
  public long chunkOffset(int i) {
    Objects.checkIndex(i, chunks.size());
    return (long) i * CHUNK_SIZE;
  }

  /** The exact length chunk {@code i} must have. */
  public int chunkLength(int i) {
    return (int) Math.min(CHUNK_SIZE, size - chunkOffset(i));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ChunkIndex c && size == c.size && chunks.equals(c.chunks);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(size) * 31 + chunks.hashCode();
  }

  @Override
  public String toString() {
    return "ChunkIndex[size=" + size + ", chunks=" + chunks.size() + "]";
  }

  /** The exact encoded length of an index of a blob of {@code size} bytes (above one chunk). */
  static int encodedLengthFor(long size) {
    long n = (size + CHUNK_SIZE - 1) / CHUNK_SIZE;
    long entry = 2 + Cid.BINARY_LENGTH; // byte-string header (0x58 0x24) + binary CID
    long length =
        1 // map of 4
            + 1 + "size".length() + headerLength(size)
            + 1 + "chunks".length() + headerLength(n) + n * entry
            + 1 + "version".length() + 1
            + 1 + "chunk_size".length() + headerLength(CHUNK_SIZE);
    return Math.toIntExact(length);
  }

  private static int headerLength(long arg) {
    if (arg < 24) {
      return 1;
    } else if (arg < 0x100) {
      return 2;
    } else if (arg < 0x10000) {
      return 3;
    } else if (arg < 0x100000000L) {
      return 5;
    }
    return 9;
  }
}

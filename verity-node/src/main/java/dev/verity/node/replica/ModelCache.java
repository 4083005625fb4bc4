package dev.verity.node.replica;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.io.AtomicFiles;
import dev.verity.hub.BlobStore;
import dev.verity.hub.MissingBlockException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The models this node replicated from peers, kept within a disk budget. Only replicated models are
 * counted and only they are ever evicted: models this node holds for any other reason (it published
 * them, or their owner uploaded them here) are not in the cache and stay. Eviction takes the least
 * recently used replicated model that is not {@linkplain #pin pinned} (in use by an inference or a
 * fetch) and removes its blob from the {@link BlobStore}, which keeps every chunk another stored
 * chunk index still lists; a model whose chunk is itself a kept single-block model is not evicted.
 *
 * <p>On disk: one file, {@code replicated}, listing "{@code <blob cid> <bytes>}" per line from least
 * to most recently used, rewritten atomically (fsync) whenever a model joins or leaves the cache.
 * Recency between those writes lives in memory only. Thread-safe.
 */
public final class ModelCache {
  private static final System.Logger LOG = System.getLogger(ModelCache.class.getName());

  /** Told about every evicted blob (to drop copies assembled from it). */
  @FunctionalInterface
  public interface EvictionListener {
    void evicted(Cid blob) throws IOException;
  }

  /** Largest cache file read: far more lines than any disk holds models. */
  private static final long MAX_FILE_BYTES = 16L << 20;

  private final Path file;
  private final BlobStore blobs;
  private final long budget;
  private final Supplier<? extends Iterable<Cid>> allModelBlobs;
  private final EvictionListener listener;
  /** Replicated blob -> bytes counted, in access order (least recent first). */
  private final LinkedHashMap<Cid, Long> entries = new LinkedHashMap<>(16, 0.75f, true);
  private final Map<Cid, Integer> pins = new HashMap<>();
  /** Blobs seen whole in the store since they last left it, so that every run need not look again. */
  private final Set<Cid> whole = new HashSet<>();
  private long used;

  private ModelCache(Path file, BlobStore blobs, long budget, Supplier<? extends Iterable<Cid>> allModelBlobs,
      EvictionListener listener) {
    this.file = file;
    this.blobs = blobs;
    this.budget = budget;
    this.allModelBlobs = allModelBlobs;
    this.listener = listener;
  }

  /**
   * Opens the cache kept in {@code dir} (created if needed).
   *
   * @param budget most bytes of replicated models kept
   * @param allModelBlobs every model blob this node knows a manifest for (replicated or not), to
   *     find chunks a kept model shares
   * @throws DecodingException if the cache file is damaged (names the line)
   */
  public static ModelCache open(Path dir, BlobStore blobs, long budget, Supplier<? extends Iterable<Cid>> allModelBlobs,
      EvictionListener listener) throws IOException {
    if (budget < 0) {
      throw new IllegalArgumentException("budget must not be negative, got " + budget);
    }
    Files.createDirectories(dir);
    ModelCache cache = new ModelCache(dir.resolve("replicated"), Objects.requireNonNull(blobs, "blobs"), budget,
        Objects.requireNonNull(allModelBlobs, "allModelBlobs"), Objects.requireNonNull(listener, "listener"));
    if (Files.exists(cache.file)) {
      int n = 0;
      if (Files.size(cache.file) > MAX_FILE_BYTES) {
        throw new DecodingException(cache.file + " is larger than any list of replicated models (" + MAX_FILE_BYTES
            + " bytes); delete it (replicated models are then kept until deleted by hand)");
      }
      // ISO-8859-1 maps every byte to a character, so a stray byte fails as a bad line, not as a charset error.
      for (String line : new String(Files.readAllBytes(cache.file), StandardCharsets.ISO_8859_1).split("\n", -1)) {
        n++;
        if (line.isBlank()) {
          continue;
        }
        String[] parts = line.trim().split(" ");
        try {
          long size = Long.parseLong(parts.length == 2 ? parts[1] : "x");
          if (size < 0) {
            throw new NumberFormatException();
          }
          cache.entries.put(Cid.parse(parts[0]), size);
          cache.used += size;
        } catch (NumberFormatException | DecodingException e) {
          throw new DecodingException("line " + n + " of " + cache.file + " is not '<blob cid> <bytes>'; fix or"
              + " delete the file (replicated models are then kept until deleted by hand)");
        }
      }
    }
    return cache;
  }

  /** Keeps a blob from eviction while held; closing it releases it. Idempotent close. */
  public final class Pin implements AutoCloseable {
    private final Cid blob;
    private boolean closed;

    private Pin(Cid blob) {
      this.blob = blob;
    }

    public Cid blob() {
      return blob;
    }

    @Override
    public void close() {
      synchronized (ModelCache.this) {
        if (closed) {
          return;
        }
        closed = true;
        pins.computeIfPresent(blob, (k, v) -> v == 1 ? null : v - 1);
      }
    }
  }

  /** Pins {@code blob} (replicated or not) and marks it as just used. */
  public synchronized Pin pin(Cid blob) {
    pins.merge(blob, 1, Integer::sum);
    entries.get(blob); // access order: now the most recently used
    return new Pin(blob);
  }

  /**
   * Whether {@code blob} was seen whole ({@link #markWhole}) and not evicted since. A block found
   * corrupt later is not noticed here; reading the blob reports it.
   */
  public synchronized boolean knownWhole(Cid blob) {
    return whole.contains(blob);
  }

  /** Records that every block of {@code blob} is stored. */
  public synchronized void markWhole(Cid blob) {
    whole.add(blob);
  }

  /** Whether {@code blob} was replicated and is counted against the budget. */
  public synchronized boolean isReplicated(Cid blob) {
    return entries.containsKey(blob);
  }

  /** Bytes of replicated models counted now. */
  public synchronized long usedBytes() {
    return used;
  }

  public long budgetBytes() {
    return budget;
  }

  /** The replicated blobs, least recently used first. */
  public synchronized List<Cid> replicated() {
    return List.copyOf(entries.keySet());
  }

  /**
   * Makes room for a model about to be replicated and counts it: evicts least recently used
   * replicated models that are not pinned until {@code bytes} more fit the budget. A blob already
   * counted is only marked as used.
   *
   * @throws CacheFullException if the model cannot fit even after evicting every model not in use;
   *     nothing is counted then (models evicted on the way stay evicted)
   */
  public synchronized void reserve(Cid blob, long bytes) throws IOException {
    if (entries.containsKey(blob)) {
      entries.get(blob);
      return;
    }
    if (bytes > budget) {
      throw new CacheFullException("model " + blob + " has " + bytes + " bytes, more than the whole replica budget"
          + " of " + budget + " bytes; raise replica.cache_bytes");
    }
    if (used + bytes > budget) {
      Set<Cid> keptRaw = new HashSet<>();
      for (Cid m : allModelBlobs.get()) {
        if (m.codec() == Cid.Codec.RAW) {
          keptRaw.add(m);
        }
      }
      for (Iterator<Map.Entry<Cid, Long>> it = new ArrayList<>(entries.entrySet()).iterator();
          it.hasNext() && used + bytes > budget; ) {
        Map.Entry<Cid, Long> victim = it.next();
        if (pins.containsKey(victim.getKey()) || victim.getKey().equals(blob)) {
          continue;
        }
        if (evict(victim.getKey(), keptRaw)) {
          used -= victim.getValue();
          entries.remove(victim.getKey());
        }
      }
      if (used + bytes > budget) {
        persist();
        throw new CacheFullException("no room for model " + blob + " (" + bytes + " bytes): " + used + " of "
            + budget + " replica bytes are held by models in use; retry later or raise replica.cache_bytes");
      }
    }
    entries.put(blob, bytes);
    used += bytes;
    persist();
  }

  /**
   * Stops counting a blob without deleting it (it became this node's own, for example published
   * here). Harmless for a blob not counted.
   */
  public synchronized void adopt(Cid blob) throws IOException {
    Long size = entries.remove(blob);
    if (size != null) {
      used -= size;
      persist();
    }
  }

  private boolean evict(Cid victim, Set<Cid> keptRaw) throws IOException {
    if (victim.codec() == Cid.Codec.DAG_CBOR) {
      try {
        for (Cid chunk : blobs.chunksOf(victim)) {
          if (keptRaw.contains(chunk) && !chunk.equals(victim)) {
            LOG.log(System.Logger.Level.INFO, "not evicting replicated model " + victim + ": its chunk " + chunk
                + " is a model this node keeps");
            return false;
          }
        }
      } catch (MissingBlockException e) {
        // index never arrived: nothing of the blob can be named, so nothing is removed but the entry
      }
    }
    whole.remove(victim);
    blobs.delete(victim);
    listener.evicted(victim);
    LOG.log(System.Logger.Level.INFO, "evicted replicated model " + victim + " to stay within the replica budget");
    return true;
  }

  private void persist() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<Cid, Long> e : entries.entrySet()) {
      sb.append(e.getKey()).append(' ').append(e.getValue()).append('\n');
    }
    AtomicFiles.write(file, sb.toString().getBytes(StandardCharsets.US_ASCII));
  }

  /** There is no room for a model within the replica budget. */
  public static final class CacheFullException extends IOException {
    private static final long serialVersionUID = 1L;

    public CacheFullException(String message) {
      super(message);
    }
  }
}

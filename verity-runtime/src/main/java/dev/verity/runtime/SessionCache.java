package dev.verity.runtime;

import dev.verity.core.Cid;
import dev.verity.protocol.tensor.NamedTensors;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * Loaded models kept by model CID, within a memory budget.
 *
 * <p>The memory a model takes is estimated as its file size times {@link #memoryFactor()}: ONNX
 * Runtime holds the weights once, may add pre-packed copies of them for faster kernels, and needs
 * working memory for activations, so the default factor is {@value #DEFAULT_MEMORY_FACTOR}. When a
 * load would take the total over the budget, the least recently used models are evicted, idle
 * ones first. An evicted model is closed as soon as no {@link Lease} on it remains, so a run in
 * flight always finishes; until then its memory still counts, and the budget may be exceeded while
 * such runs end. Models loading at the same time cannot be evicted for each other, so the budget
 * may also be exceeded until the last of them has loaded and evicted others. A model whose
 * estimate alone exceeds the budget is refused.
 *
 * <p>Thread-safe. Concurrent requests for a model that is not loaded yet share one load; if that
 * load fails, every waiting caller gets its {@link ModelLoadException} and the next request tries
 * again. The cache trusts the caller that the source it names belongs to the CID.
 */
public final class SessionCache implements AutoCloseable {
  public static final double DEFAULT_MEMORY_FACTOR = 2.0;

  private final InferenceEngine engine;
  private final SessionConfig config;
  private final long budgetBytes;
  private final double memoryFactor;

  /** Guarded by {@code this}; in access order, least recently used first. */
  private final LinkedHashMap<Cid, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);

  /** Guarded by {@code this}: evicted entries still leased, whose memory still counts. */
  private final List<Entry> retiring = new ArrayList<>();

  private long usedBytes;
  private boolean closed;

  /**
   * @param engine loads the models; the cache does not close it
   * @param config the session configuration every model is loaded with
   * @param budgetBytes the most memory the loaded models may take, by estimate
   * @param memoryFactor estimated memory of a loaded model per byte of its file, at least 1
   */
  public SessionCache(InferenceEngine engine, SessionConfig config, long budgetBytes, double memoryFactor) {
    this.engine = Objects.requireNonNull(engine, "engine");
    this.config = Objects.requireNonNull(config, "config");
    if (budgetBytes <= 0) {
      throw new IllegalArgumentException("memory budget must be positive, got " + budgetBytes);
    }
    if (!(memoryFactor >= 1.0 && memoryFactor <= 100.0)) {
      throw new IllegalArgumentException("memory factor must be between 1 and 100, got " + memoryFactor);
    }
    this.budgetBytes = budgetBytes;
    this.memoryFactor = memoryFactor;
  }

  public SessionCache(InferenceEngine engine, SessionConfig config, long budgetBytes) {
    this(engine, config, budgetBytes, DEFAULT_MEMORY_FACTOR);
  }

  public long budgetBytes() {
    return budgetBytes;
  }

  public double memoryFactor() {
    return memoryFactor;
  }

  /** Estimated memory of the models held now, including evicted ones still running. */
  public synchronized long usedBytes() {
    return usedBytes;
  }

  /** Whether the model is loaded (or loading) and not evicted. */
  public synchronized boolean contains(Cid model) {
    return entries.containsKey(model);
  }

  /** Number of models loaded or loading, not counting evicted ones still running. */
  public synchronized int size() {
    return entries.size();
  }

  /**
   * Returns a lease on the model, loading it from {@code source} first if needed. The model stays
   * open at least until the lease is closed.
   *
   * @param model the model's CID, the cache key
   * @param source called at most once per load, only when the model is not loaded
   * @throws ModelLoadException if the model cannot be loaded or can never fit the budget
   * @throws IllegalStateException if the cache is closed
   */
  public Lease acquire(Cid model, Supplier<ModelSource> source) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(source, "source");
    Entry entry;
    boolean loader = false;
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("the session cache is closed");
      }
      entry = entries.get(model);
      if (entry == null) {
        entry = new Entry(model);
        entries.put(model, entry);
        loader = true;
      }
      entry.leases++;
    }
    if (loader) {
      load(entry, source);
    }
    try {
      return new Lease(entry, entry.model.get());
    } catch (ExecutionException | CompletionException e) {
      release(entry);
      Throwable cause = e.getCause();
      if (cause instanceof Error err) {
        throw err;
      }
      if (cause instanceof ModelLoadException m) {
        throw new ModelLoadException(m.getMessage(), m);
      }
      throw new ModelLoadException("cannot load model " + model + ": " + cause, cause);
    } catch (InterruptedException e) {
      release(entry);
      Thread.currentThread().interrupt();
      throw new ModelLoadException("interrupted while waiting for model " + model + " to load", e);
    }
  }

  /** Runs a model once, loading it first if needed. */
  public NamedTensors run(Cid model, Supplier<ModelSource> source, NamedTensors inputs) {
    try (Lease lease = acquire(model, source)) {
      return lease.model().run(inputs);
    }
  }

  private void load(Entry entry, Supplier<ModelSource> sourceSupplier) {
    LoadedModel loaded;
    try {
      ModelSource source = Objects.requireNonNull(sourceSupplier.get(), "model source");
      long estimate = estimate(source.sizeBytes());
      if (estimate > budgetBytes) {
        throw new ModelLoadException(
            "model " + entry.cid + " needs about " + estimate + " bytes once loaded (" + source.sizeBytes()
                + " bytes x " + memoryFactor + "), more than the whole cache budget of " + budgetBytes
                + " bytes; raise the budget");
      }
      List<Entry> toClose = reserve(entry, estimate);
      closeAll(toClose);
      loaded = engine.load(source, config);
    } catch (RuntimeException | Error e) {
      synchronized (this) {
        entries.remove(entry.cid, entry);
        usedBytes -= entry.estimate;
        entry.estimate = 0;
        entry.evicted = true;
      }
      entry.model.completeExceptionally(e);
      return;
    }
    // The loader holds a lease, so even if the cache was closed meanwhile the model is closed
    // by the last lease's release, not here.
    entry.model.complete(loaded);
    // Models loading at the same time could not be evicted for each other; settle now.
    List<Entry> toClose = new ArrayList<>();
    synchronized (this) {
      evictUntilFits(0, entry, true, toClose);
      evictUntilFits(0, entry, false, toClose);
    }
    closeAll(toClose);
  }

  private long estimate(long fileBytes) {
    double e = Math.ceil(fileBytes * memoryFactor);
    return e >= Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(1, (long) e);
  }

  /** Counts {@code estimate} for the entry, evicting others as needed; returns those to close now. */
  private synchronized List<Entry> reserve(Entry entry, long estimate) {
    List<Entry> toClose = new ArrayList<>();
    evictUntilFits(estimate, entry, true, toClose);
    evictUntilFits(estimate, entry, false, toClose);
    entry.estimate = estimate;
    usedBytes += estimate;
    return toClose;
  }

  private void evictUntilFits(long needed, Entry keep, boolean idleOnly, List<Entry> toClose) {
    Iterator<Entry> it = entries.values().iterator();
    while (usedBytes + needed > budgetBytes && it.hasNext()) {
      Entry e = it.next();
      if (e == keep || !e.model.isDone() || (idleOnly && e.leases > 0)) {
        continue;
      }
      it.remove();
      evictLocked(e, toClose);
    }
  }

  private void evictLocked(Entry e, List<Entry> toClose) {
    e.evicted = true;
    if (e.leases == 0) {
      usedBytes -= e.estimate;
      toClose.add(e);
    } else {
      retiring.add(e);
    }
  }

  private void release(Entry entry) {
    boolean closeNow = false;
    synchronized (this) {
      entry.leases--;
      if (entry.evicted && entry.leases == 0 && retiring.remove(entry)) {
        usedBytes -= entry.estimate;
        closeNow = true;
      }
    }
    if (closeNow) {
      closeAll(List.of(entry));
    }
  }

  private static void closeAll(List<Entry> toClose) {
    for (Entry e : toClose) {
      if (e.model.isDone() && !e.model.isCompletedExceptionally()) {
        e.model.join().close();
      }
    }
  }

  /** Evicts every model; models still leased close when their last lease does. */
  @Override
  public void close() {
    List<Entry> toClose = new ArrayList<>();
    synchronized (this) {
      closed = true;
      for (Entry e : entries.values()) {
        if (e.model.isDone()) {
          evictLocked(e, toClose);
        } else {
          e.evicted = true;
          retiring.add(e);
        }
      }
      entries.clear();
    }
    closeAll(toClose);
  }

  /** One model in the cache. Fields other than {@code model} are guarded by the cache. */
  private static final class Entry {
    final Cid cid;
    final CompletableFuture<LoadedModel> model = new CompletableFuture<>();
    int leases;
    long estimate;
    boolean evicted;

    Entry(Cid cid) {
      this.cid = cid;
    }
  }

  /** A hold on a cached model: it stays open until this is closed. Close it exactly once. */
  public final class Lease implements AutoCloseable {
    private final Entry entry;
    private final LoadedModel model;
    private boolean released;

    private Lease(Entry entry, LoadedModel model) {
      this.entry = entry;
      this.model = model;
    }

    public LoadedModel model() {
      return model;
    }

    public Cid cid() {
      return entry.cid;
    }

    /** Idempotent. */
    @Override
    public void close() {
      synchronized (this) {
        if (released) {
          return;
        }
        released = true;
      }
      release(entry);
    }
  }
}

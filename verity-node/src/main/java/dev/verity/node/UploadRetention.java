package dev.verity.node;

import dev.verity.core.Cid;
import dev.verity.hub.BlobStore;
import dev.verity.hub.ModelRegistry;
import dev.verity.node.http.ApiException;
import dev.verity.node.replica.ModelCache;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Keeps uploads that nobody publishes from filling a hub's disk: a blob uploaded with {@code POST
 * /v1/blobs} that no published version names is deleted once it is older than {@code
 * upload_retention_hours}. Kept for good: blobs a version names (checked at every sweep, so
 * publishing any time within the retention keeps the blob), blobs this node replicated from peers,
 * and uploads signed by a registered live node (a worker's step opening is dispute evidence that
 * anyone may want to check later; nodes have stake at risk). A retention of zero keeps everything.
 *
 * <p>The pending list is on disk ({@link PendingUploads}), so a restart neither forgets an upload
 * nor restarts its clock. A sweep runs every tenth of the retention (at least every second, at
 * most every ten minutes). A sweep deletes under a lock that {@link #recordVersion} also takes, so a
 * version being published at that moment either keeps its blob or is refused; it never names a
 * deleted one.
 */
final class UploadRetention implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(UploadRetention.class.getName());

  private final PendingUploads pending;
  private final BlobStore blobs;
  private final ModelRegistry registry;
  private final ModelCache replicated;
  private final Duration retention;
  private final ScheduledExecutorService sweeps;
  /** Read: recording versions (any number at once). Write: a sweep deciding and deleting. */
  private final ReentrantReadWriteLock deleting = new ReentrantReadWriteLock();

  UploadRetention(Path file, Clock clock, BlobStore blobs, ModelRegistry registry, ModelCache replicated,
      Duration retention) throws IOException {
    this.pending = PendingUploads.open(file, clock);
    this.blobs = blobs;
    this.registry = registry;
    this.replicated = replicated;
    this.retention = retention;
    if (retention.isZero()) {
      this.sweeps = null;
    } else {
      long every = Math.max(1000, Math.min(TimeUnit.MINUTES.toMillis(10), retention.toMillis() / 10));
      this.sweeps = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "upload-retention");
        t.setDaemon(true);
        return t;
      });
      sweeps.scheduleWithFixedDelay(this::sweepQuietly, every, every, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Notes an upload that was just stored; nothing to note when a version already names the blob,
   * when it was replicated here, when its uploader is a registered live node ({@code byLiveNode}),
   * or when this node keeps every upload.
   */
  void uploaded(Cid blob, boolean byLiveNode) throws IOException {
    if (sweeps == null || byLiveNode || replicated.isReplicated(blob) || registry.modelBlobs().contains(blob)) {
      return;
    }
    pending.add(blob);
  }

  /**
   * Records a version that names {@code blob}, with no sweep deleting in between: checks that the
   * blob is still stored, then runs {@code record} (which adds the version to the registry).
   *
   * @throws ApiException 400 if the blob was deleted meanwhile (it must be uploaded again)
   */
  <T> T recordVersion(Cid blob, IoSupplier<T> record) throws IOException {
    deleting.readLock().lock();
    try {
      if (!blobs.contains(blob)) {
        throw ApiException.badRequest("model blob " + blob + " is no longer on this node (an upload that no version"
            + " named within upload_retention_hours is deleted); upload it again, then publish");
      }
      return record.get();
    } finally {
      deleting.readLock().unlock();
    }
  }

  /** A step that reads or writes files. */
  @FunctionalInterface
  interface IoSupplier<T> {
    T get() throws IOException;
  }

  /** Whether {@code blob} is an upload no version names yet (for tests). */
  boolean isPending(Cid blob) {
    return pending.contains(blob);
  }

  /**
   * Deletes the pending uploads past the retention that no version names, and stops tracking those
   * a version now names.
   *
   * @return how many blobs were deleted
   */
  int sweep() throws IOException {
    List<Cid> old = pending.olderThan(retention);
    if (old.isEmpty()) {
      return 0;
    }
    int deleted = 0;
    deleting.writeLock().lock();
    try {
      Set<Cid> named = new HashSet<>(registry.modelBlobs());
      List<Cid> done = new ArrayList<>();
      for (Cid blob : old) {
        if (!named.contains(blob) && !replicated.isReplicated(blob)) {
          blobs.delete(blob);
          deleted++;
        }
        done.add(blob);
      }
      pending.forget(done);
    } finally {
      deleting.writeLock().unlock();
    }
    if (deleted > 0) {
      LOG.log(System.Logger.Level.INFO, "deleted " + deleted + " upload(s) that no version named within "
          + retention.toHours() + " h (upload_retention_hours)");
    }
    return deleted;
  }

  private void sweepQuietly() {
    try {
      sweep();
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "sweeping unpublished uploads failed; will try again", e);
    }
  }

  @Override
  public void close() {
    if (sweeps != null) {
      sweeps.shutdownNow();
    }
  }
}

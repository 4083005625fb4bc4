package dev.verity.sdk;

/** Told how many bytes of a transfer are done; {@code total} is -1 when unknown. */
@FunctionalInterface
public interface ProgressListener {
  ProgressListener NONE = (done, total) -> {};

  void progress(long done, long total);
}

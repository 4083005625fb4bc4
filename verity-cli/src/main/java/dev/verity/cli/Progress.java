package dev.verity.cli;

import dev.verity.sdk.ProgressListener;
import java.io.PrintStream;

/** A one-line progress display on stderr for uploads and downloads. */
final class Progress implements ProgressListener {
  private final String label;
  private final PrintStream err;
  private long lastPrinted = -1;
  private long lastTime;

  Progress(String label, PrintStream err) {
    this.label = label;
    this.err = err;
  }

  @Override
  public void progress(long done, long total) {
    long now = System.nanoTime();
    boolean finished = total > 0 && done >= total;
    if (!finished && now - lastTime < 200_000_000L) {
      return;
    }
    lastTime = now;
    if (done == lastPrinted) {
      return;
    }
    lastPrinted = done;
    String pct = total > 0 ? String.format(" %3d%%", done * 100 / total) : "";
    err.printf("\r%s %s / %s%s", label, mb(done), total > 0 ? mb(total) : "?", pct);
    if (finished) {
      err.println();
    }
  }

  private static String mb(long bytes) {
    return String.format("%.1f MB", bytes / 1e6);
  }
}

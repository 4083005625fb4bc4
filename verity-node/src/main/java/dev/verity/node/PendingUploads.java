package dev.verity.node;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Blobs uploaded to this node that no published version named yet, with the time of their first
 * upload: the ones a sweep deletes once they are older than the node's {@code
 * upload_retention_hours} and still unnamed, so that uploads nobody publishes do not fill the disk
 * for ever.
 *
 * <p>The list survives restarts: each addition is appended to a text file ({@code <cid>
 * <unix millis>} per line) and forced to disk before the upload is acknowledged; forgetting rewrites
 * the file whole (written aside, forced, then moved over it). A line that does not parse (a torn
 * last line after a crash, or damage) is skipped when the file is read: its blob is then kept, which
 * loses nothing. Thread-safe.
 */
final class PendingUploads {
  private static final System.Logger LOG = System.getLogger(PendingUploads.class.getName());

  private final Path file;
  private final Clock clock;
  private final Map<Cid, Long> uploadedAt = new LinkedHashMap<>();

  private PendingUploads(Path file, Clock clock) {
    this.file = file;
    this.clock = clock;
  }

  /** Reads the list kept in {@code file} (none yet if it does not exist). */
  static PendingUploads open(Path file, Clock clock) throws IOException {
    PendingUploads p = new PendingUploads(file, clock);
    if (Files.exists(file)) {
      int skipped = 0;
      // Latin-1 decodes any byte, so damage cannot stop the read; the lines that matter are ASCII
      for (String line : Files.readAllLines(file, StandardCharsets.ISO_8859_1)) {
        String[] parts = line.trim().split(" ");
        try {
          if (parts.length != 2) {
            throw new DecodingException("expected '<cid> <millis>'");
          }
          p.uploadedAt.putIfAbsent(Cid.parse(parts[0]), Long.parseLong(parts[1]));
        } catch (RuntimeException e) {
          if (!line.isBlank()) {
            skipped++;
          }
        }
      }
      if (skipped > 0) {
        LOG.log(System.Logger.Level.WARNING, file + ": " + skipped + " unreadable line(s) skipped; those uploads are kept");
      }
      // a torn last line gets its end, so that the next line appended is a line of its own
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        long size = ch.size();
        ByteBuffer last = ByteBuffer.allocate(1);
        if (size > 0 && ch.read(last, size - 1) == 1 && last.get(0) != '\n') {
          ch.write(ByteBuffer.wrap(new byte[] {'\n'}), size);
          ch.force(false);
        }
      }
    }
    return p;
  }

  /** Records an upload now, unless the blob is already pending (its first upload counts). */
  synchronized void add(Cid blob) throws IOException {
    if (uploadedAt.containsKey(blob)) {
      return;
    }
    long now = clock.millis();
    byte[] line = (blob + " " + now + "\n").getBytes(StandardCharsets.UTF_8);
    writeForced(file, line, StandardOpenOption.APPEND);
    uploadedAt.put(blob, now);
  }

  /** The pending blobs first uploaded more than {@code retention} ago. */
  synchronized List<Cid> olderThan(Duration retention) {
    long cutoff = clock.millis() - retention.toMillis();
    List<Cid> old = new ArrayList<>();
    uploadedAt.forEach((cid, at) -> {
      if (at < cutoff) {
        old.add(cid);
      }
    });
    return old;
  }

  /** Drops blobs from the list (deleted, or named by a version now) and rewrites the file. */
  synchronized void forget(Collection<Cid> blobs) throws IOException {
    boolean changed = false;
    for (Cid c : blobs) {
      changed |= uploadedAt.remove(c) != null;
    }
    if (!changed) {
      return;
    }
    StringBuilder text = new StringBuilder();
    uploadedAt.forEach((cid, at) -> text.append(cid).append(' ').append(at).append('\n'));
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    writeForced(tmp, text.toString().getBytes(StandardCharsets.UTF_8), StandardOpenOption.TRUNCATE_EXISTING);
    try {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Writes {@code bytes} to {@code path} (appending or replacing, per {@code mode}) and forces them to disk. */
  private static void writeForced(Path path, byte[] bytes, StandardOpenOption mode) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, mode)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(false);
    }
  }

  synchronized boolean contains(Cid blob) {
    return uploadedAt.containsKey(blob);
  }

  synchronized int size() {
    return uploadedAt.size();
  }
}

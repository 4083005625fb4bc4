package dev.verity.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Durable file writes: data goes to a temporary file in the same directory, is fsynced, then renamed
 * over the target, and the directory is fsynced. A crash leaves either the old file or the new one,
 * never a torn one.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  public static void write(Path target, byte[] data) throws IOException {
    write(target, data, null);
  }

  /** Writes atomically; {@code permissions}, when given, are set before any byte is written. */
  public static void write(Path target, byte[] data, Set<PosixFilePermission> permissions)
      throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = createTemp(dir, target.getFileName().toString(), permissions);
    try {
      writeAndSync(tmp, data);
      moveIntoPlace(tmp, target);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Creates {@code target} holding {@code data}, durably, and never replaces an existing file. The
   * data is written and fsynced under a temporary name that is then hard-linked to the target name;
   * the link fails if the name is taken, even when another process creates it at the same moment.
   * Where the file system has no hard links, a rename that refuses an existing target is used.
   * {@code permissions}, when given, are set before any byte is written.
   *
   * @throws FileAlreadyExistsException if {@code target} already exists
   */
  public static void writeNew(Path target, byte[] data, Set<PosixFilePermission> permissions)
      throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(
          target.toString(), null, "refusing to replace an existing file");
    }
    Path tmp = createTemp(dir, target.getFileName().toString(), permissions);
    try {
      writeAndSync(tmp, data);
      try {
        Files.createLink(target, tmp);
      } catch (FileAlreadyExistsException e) {
        throw e;
      } catch (UnsupportedOperationException | FileSystemException e) {
        Files.move(tmp, target);
      }
      syncDirectory(dir);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void writeAndSync(Path file, byte[] data) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(data);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
  }

  /** Creates an empty temporary file beside {@code name} in {@code dir}, owner-only if asked. */
  public static Path createTemp(Path dir, String name, Set<PosixFilePermission> permissions)
      throws IOException {
    if (permissions != null && dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return Files.createTempFile(
          dir, "." + name + ".", ".tmp", PosixFilePermissions.asFileAttribute(permissions));
    }
    return Files.createTempFile(dir, "." + name + ".", ".tmp");
  }

  /** Renames a fully written and fsynced temporary file over the target, then syncs the directory. */
  public static void moveIntoPlace(Path tmp, Path target) throws IOException {
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
    syncDirectory(target.toAbsolutePath().getParent());
  }

  /** Makes a rename or create in {@code dir} durable. A no-op where the OS cannot open directories. */
  public static void syncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some platforms cannot open a directory for reading; the rename itself is still atomic.
    }
  }
}

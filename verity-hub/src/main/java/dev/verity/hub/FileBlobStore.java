package dev.verity.hub;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A {@link BlobStore} on disk, one file per block. Layout under the root directory:
 *
 * <pre>
 *   lock                       held (OS file lock) while a store is open: one process at a time
 *   blocks/&lt;xy&gt;/&lt;cid&gt;          a block, named by its CID text; &lt;xy&gt; is the two characters before
 *                              the last one of the CID text (the last one carries only 3 bits)
 *   blocks/&lt;xy&gt;/.&lt;cid&gt;.*.tmp   a block being written; removed when the store is opened
 *   quarantine/&lt;cid&gt;.*.bad      blocks that failed verification, kept for inspection only
 * </pre>
 *
 * <p>Durability: each block is written to a temporary file in its final directory and fsynced; when
 * all blocks of a blob are written they are renamed into place and their directories fsynced, and
 * only then is the blob's own block (a small blob, or the chunk index) renamed and its directory
 * fsynced. After a crash a blob is either absent or complete; leftover temporary files are deleted
 * at the next {@link #open}. A failed or refused put deletes its temporary files and renames none.
 *
 * <p>Reading never trusts the disk: a block file longer than any valid block, or whose bytes do not
 * hash to its name (flipped bit, truncation, another block's bytes), is moved to {@code
 * quarantine/} and reported with {@link CorruptBlobException}.
 *
 * <p>Thread-safe. Not usable after {@link #close()}.
 */
public final class FileBlobStore extends AbstractBlobStore {
  private static final String TMP_SUFFIX = ".tmp";

  private final Path root;
  private final Path blocks;
  private final Path quarantine;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private volatile boolean closed;

  private FileBlobStore(Path root, FileChannel lockChannel, FileLock lock) {
    this.root = root;
    this.blocks = root.resolve("blocks");
    this.quarantine = root.resolve("quarantine");
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /**
   * Opens (creating if needed) the store at {@code root}, takes its lock and deletes temporary files
   * a crash left behind.
   *
   * @throws IOException if another process or another open store in this process holds the root
   */
  public static FileBlobStore open(Path root) throws IOException {
    Path dir = root.toAbsolutePath().normalize();
    Files.createDirectories(dir.resolve("blocks"));
    Files.createDirectories(dir.resolve("quarantine"));
    FileChannel channel =
        FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    if (lock == null) {
      channel.close();
      throw new IOException(
          "blob store " + dir + " is already open (by this or another process); close it first");
    }
    FileBlobStore store = new FileBlobStore(dir, channel, lock);
    try {
      store.deleteTemporaryFiles();
    } catch (IOException | RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }

  /** The store's root directory. */
  public Path root() {
    return root;
  }

  /** Where a block lives (whether or not it is present). */
  Path blockPath(Cid block) {
    String name = block.toString();
    return blocks.resolve(name.substring(name.length() - 3, name.length() - 1)).resolve(name);
  }

  /** The quarantine directory. */
  Path quarantineDirectory() {
    return quarantine;
  }

  private void deleteTemporaryFiles() throws IOException {
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(blocks, Files::isDirectory)) {
      for (Path dir : dirs) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, FileBlobStore::isTemp)) {
          for (Path tmp : files) {
            Files.deleteIfExists(tmp);
          }
        }
      }
    }
  }

  private static boolean isTemp(Path p) {
    String name = p.getFileName().toString();
    return name.startsWith(".") && name.endsWith(TMP_SUFFIX);
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("blob store " + root + " is closed");
    }
  }

  @Override
  byte[] load(Cid block, int maxLength) throws IOException {
    checkOpen();
    try (FileChannel ch = FileChannel.open(blockPath(block), StandardOpenOption.READ)) {
      long size = ch.size();
      byte[] bytes = new byte[(int) Math.min(size, maxLength + 1L)];
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining() && ch.read(buf) >= 0) {
        // keep reading until full or the file ends early
      }
      return buf.hasRemaining() ? Arrays.copyOf(bytes, buf.position()) : bytes;
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  @Override
  boolean has(Cid block) {
    checkOpen();
    return Files.isRegularFile(blockPath(block));
  }

  @Override
  void remove(Cid block) throws IOException {
    checkOpen();
    Files.deleteIfExists(blockPath(block));
  }

  @Override
  void quarantine(Cid block) throws IOException {
    Path bad = Files.createTempFile(quarantine, block + ".", ".bad");
    try {
      Files.move(
          blockPath(block),
          bad,
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (NoSuchFileException e) {
      Files.deleteIfExists(bad); // another reader quarantined it first
    }
  }

  @Override
  List<Cid> indexes() throws IOException {
    checkOpen();
    List<Cid> out = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(blocks, Files::isDirectory)) {
      for (Path dir : dirs) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
          for (Path f : files) {
            String name = f.getFileName().toString();
            if (name.startsWith(".")) {
              continue;
            }
            try {
              Cid cid = Cid.parse(name);
              if (cid.codec() == Cid.Codec.DAG_CBOR) {
                out.add(cid);
              }
            } catch (DecodingException e) {
              // not a block file; ignore it
            }
          }
        }
      }
    }
    return out;
  }

  @Override
  Staging stage() {
    checkOpen();
    return new FileStaging();
  }

  /** Temporary files in the blocks' own directories, renamed into place on commit. */
  private final class FileStaging implements Staging {
    private final List<Path> temps = new ArrayList<>();
    private final List<Path> targets = new ArrayList<>();
    private final Set<Cid> seen = new HashSet<>();
    private boolean committed;

    @Override
    public void add(Cid cid, byte[] bytes, int length) throws IOException {
      if (!seen.add(cid)) {
        return;
      }
      Path target = blockPath(cid);
      if (presentWithLength(target, length)) {
        return; // stored before (a flipped bit in it is caught, and quarantined, when read)
      }
      Path dir = target.getParent();
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir);
        AtomicFiles.syncDirectory(blocks);
      }
      Path tmp = AtomicFiles.createTemp(dir, target.getFileName().toString(), null);
      temps.add(tmp);
      targets.add(target);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(bytes, 0, length);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
    }

    private boolean presentWithLength(Path target, int length) throws IOException {
      try {
        return Files.size(target) == length;
      } catch (NoSuchFileException e) {
        return false;
      }
    }

    @Override
    public void commit() throws IOException {
      checkOpen();
      int last = temps.size() - 1;
      Set<Path> dirs = new LinkedHashSet<>();
      for (int i = 0; i < last; i++) {
        Files.move(
            temps.get(i),
            targets.get(i),
            StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
        dirs.add(targets.get(i).getParent());
      }
      for (Path dir : dirs) {
        AtomicFiles.syncDirectory(dir);
      }
      if (last >= 0) {
        AtomicFiles.moveIntoPlace(temps.get(last), targets.get(last));
      }
      committed = true;
    }

    @Override
    public void close() throws IOException {
      if (committed) {
        return;
      }
      IOException failure = null;
      for (Path tmp : temps) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException e) {
          if (failure == null) {
            failure = e;
          } else {
            failure.addSuppressed(e);
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
    }
  }

  /** Releases the root's lock. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      lock.release();
    } finally {
      lockChannel.close();
    }
  }

  @Override
  public String toString() {
    return "FileBlobStore[" + root + "]";
  }
}

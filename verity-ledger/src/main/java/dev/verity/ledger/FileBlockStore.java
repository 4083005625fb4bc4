package dev.verity.ledger;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.io.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Blocks in a write-ahead log of segment files, plus state snapshots, in one directory:
 *
 * <pre>
 *   LOCK                                   held while open (one process per directory)
 *   blocks/wal-&lt;first height, 20 digits&gt;.log   log segments
 *   snapshots/snapshot-&lt;height, 20 digits&gt;.snap state snapshots (the newest two are kept)
 * </pre>
 *
 * <p><b>Segment</b>: 8 bytes "VRTYWAL1", then records back to back. A segment is created
 * atomically (temporary file, fsync, rename, directory fsync) and a new one is started once the
 * current one exceeds the configured size. <b>Record</b> (big-endian):
 *
 * <pre>
 *   u32 magic 0x56424C4B ("VBLK") | u32 payload length | u64 block height |
 *   u32 CRC-32C of payload | u32 CRC-32C of the 20 bytes before | payload (canonical CBOR block)
 * </pre>
 *
 * <p><b>Recovery</b> scans every segment. A record that fails its checks is a torn write if it is
 * in the last segment and no intact record follows it anywhere after it: the log is cut there (a
 * block that was never acknowledged is lost, nothing else). Any other bad record, a gap or repeat
 * in heights, or a damaged segment header is {@link CorruptLedgerException}. A corrupted very last
 * record cannot be told apart from a torn write and is cut too.
 *
 * <p><b>Snapshot</b>: "VRTYSNP1", u32 length + signed header of the block it follows, u64 entry
 * count, entries in ascending path order (32-byte path, u32 length, canonical entry), then the
 * SHA-256 of everything before. Loading checks the hash, rebuilds the tree and compares its root
 * with the header's signed state root; a snapshot that fails is ignored (the log holds every
 * block, so recovery can always start further back).
 */
final class FileBlockStore implements BlockStore {
  private static final System.Logger LOG = System.getLogger(FileBlockStore.class.getName());
  static final byte[] SEGMENT_MAGIC = {'V', 'R', 'T', 'Y', 'W', 'A', 'L', '1'};
  static final byte[] SNAPSHOT_MAGIC = {'V', 'R', 'T', 'Y', 'S', 'N', 'P', '1'};
  static final int RECORD_MAGIC = 0x56424C4B;
  static final int RECORD_HEADER_BYTES = 24;
  static final int MAX_RECORD_BYTES = 256 << 20;
  private static final int MAX_SNAPSHOT_HEADER_BYTES = 1 << 20;
  private static final int MAX_ENTRY_BYTES = 1 << 20;
  private static final int SNAPSHOTS_KEPT = 2;
  private static final Pattern SEGMENT_NAME = Pattern.compile("wal-(\\d{20})\\.log");
  private static final Pattern SNAPSHOT_NAME = Pattern.compile("snapshot-(\\d{20})\\.snap");

  private final Path blocksDir;
  private final Path snapshotsDir;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final long segmentBytes;
  private final TreeMap<Long, Segment> segments = new TreeMap<>();
  private Segment active;
  private long lastHeight = -1;

  /** One log file: where each of its blocks starts. */
  private static final class Segment {
    final Path path;
    final long firstHeight;
    final FileChannel channel;
    long[] offsets = new long[64];
    int count;
    long size;

    Segment(Path path, long firstHeight, FileChannel channel, long size) {
      this.path = path;
      this.firstHeight = firstHeight;
      this.channel = channel;
      this.size = size;
    }

    void add(long offset) {
      if (count == offsets.length) {
        offsets = Arrays.copyOf(offsets, count * 2);
      }
      offsets[count++] = offset;
    }
  }

  private FileBlockStore(Path dir, long segmentBytes) throws IOException {
    this.blocksDir = dir.resolve("blocks");
    this.snapshotsDir = dir.resolve("snapshots");
    this.segmentBytes = segmentBytes;
    Files.createDirectories(blocksDir);
    Files.createDirectories(snapshotsDir);
    this.lockChannel = FileChannel.open(dir.resolve("LOCK"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock l;
    try {
      l = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      l = null;
    }
    if (l == null) {
      lockChannel.close();
      throw new IOException("ledger directory " + dir + " is in use by another ledger; close it first");
    }
    this.lock = l;
  }

  /** Opens (creating if needed) the store in {@code dir} and recovers its log. */
  static FileBlockStore open(Path dir, long segmentBytes) throws IOException {
    FileBlockStore store = new FileBlockStore(dir, segmentBytes);
    try {
      store.recover();
    } catch (IOException | RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }

  private static String segmentName(long firstHeight) {
    return String.format("wal-%020d.log", firstHeight);
  }

  /** Removes temporary files a crash left behind while writing a snapshot or starting a segment. */
  private static void removeLeftovers(Path dir) throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      for (Path p : (Iterable<Path>) list::iterator) {
        String name = p.getFileName().toString();
        if (name.startsWith(".") && name.endsWith(".tmp")) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  private void recover() throws IOException {
    removeLeftovers(blocksDir);
    removeLeftovers(snapshotsDir);
    TreeMap<Long, Path> files = new TreeMap<>();
    try (Stream<Path> list = Files.list(blocksDir)) {
      for (Path p : (Iterable<Path>) list::iterator) {
        Matcher m = SEGMENT_NAME.matcher(p.getFileName().toString());
        if (m.matches()) {
          files.put(Long.parseLong(m.group(1)), p);
        }
      }
    }
    long expected = 0;
    for (Map.Entry<Long, Path> e : files.entrySet()) {
      boolean last = e.getKey().equals(files.lastKey());
      if (e.getKey() != expected) {
        throw CorruptLedgerException.at(e.getValue(), 0, "segment starts at block " + e.getKey()
            + " but block " + expected + " is expected there");
      }
      expected = scan(e.getValue(), e.getKey(), last);
    }
    lastHeight = expected - 1;
    if (!segments.isEmpty()) {
      active = segments.lastEntry().getValue();
    }
  }

  /** Indexes one segment; returns the height after its last block. */
  private long scan(Path path, long firstHeight, boolean last) throws IOException {
    byte[] b = Files.readAllBytes(path);
    if (b.length < SEGMENT_MAGIC.length || !Arrays.equals(b, 0, SEGMENT_MAGIC.length, SEGMENT_MAGIC, 0, SEGMENT_MAGIC.length)) {
      throw CorruptLedgerException.at(path, 0, "not a Verity block log segment (bad header)");
    }
    FileChannel ch = FileChannel.open(path, last
        ? new StandardOpenOption[] {StandardOpenOption.READ, StandardOpenOption.WRITE}
        : new StandardOpenOption[] {StandardOpenOption.READ});
    Segment seg = new Segment(path, firstHeight, ch, b.length);
    segments.put(firstHeight, seg);
    long height = firstHeight;
    int pos = SEGMENT_MAGIC.length;
    while (pos < b.length) {
      String problem = recordProblem(b, pos);
      if (problem == null) {
        long h = ByteBuffer.wrap(b, pos + 8, 8).getLong();
        if (h != height) {
          throw CorruptLedgerException.at(path, pos, "record holds block " + h + " where block " + height + " belongs");
        }
        seg.add(pos);
        pos += RECORD_HEADER_BYTES + ByteBuffer.wrap(b, pos + 4, 4).getInt();
        height++;
        continue;
      }
      int next = nextIntactRecord(b, pos + 1);
      if (!last || next >= 0) {
        throw CorruptLedgerException.at(path, pos, problem + (next >= 0
            ? "; an intact record follows at offset " + next + ", so this is not a torn write" : ""));
      }
      LOG.log(System.Logger.Level.WARNING, "discarding torn write at the end of " + path + " (offset " + pos
          + ", " + (b.length - pos) + " bytes): " + problem + ". That block was never acknowledged.");
      ch.truncate(pos);
      ch.force(true);
      seg.size = pos;
      break;
    }
    return height;
  }

  /** Why the record at {@code pos} is not intact, or null if it is. */
  private static String recordProblem(byte[] b, int pos) {
    if (b.length - pos < RECORD_HEADER_BYTES) {
      return "record header cut short";
    }
    ByteBuffer h = ByteBuffer.wrap(b, pos, RECORD_HEADER_BYTES);
    int magic = h.getInt();
    int length = h.getInt();
    h.getLong();
    int payloadCrc = h.getInt();
    int headerCrc = h.getInt();
    if (magic != RECORD_MAGIC) {
      return "no record marker";
    }
    if (crc(b, pos, 20) != headerCrc) {
      return "record header checksum mismatch";
    }
    if (length < 0 || length > MAX_RECORD_BYTES) {
      return "record length " + length + " out of range";
    }
    if (b.length - pos - RECORD_HEADER_BYTES < length) {
      return "record payload cut short";
    }
    if (crc(b, pos + RECORD_HEADER_BYTES, length) != payloadCrc) {
      return "record payload checksum mismatch";
    }
    return null;
  }

  private static int nextIntactRecord(byte[] b, int from) {
    for (int p = from; p + RECORD_HEADER_BYTES <= b.length; p++) {
      if (b[p] == 0x56 && b[p + 1] == 0x42 && b[p + 2] == 0x4C && b[p + 3] == 0x4B && recordProblem(b, p) == null) {
        return p;
      }
    }
    return -1;
  }

  private static int crc(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  static byte[] record(Block block) {
    byte[] payload = block.encode();
    ByteBuffer buf = ByteBuffer.allocate(RECORD_HEADER_BYTES + payload.length);
    buf.putInt(RECORD_MAGIC).putInt(payload.length).putLong(block.height()).putInt(crc(payload, 0, payload.length));
    buf.putInt(crc(buf.array(), 0, 20));
    buf.put(payload);
    return buf.array();
  }

  @Override
  public synchronized long lastHeight() {
    return lastHeight;
  }

  @Override
  public Block read(long height) throws IOException {
    Segment seg;
    long offset;
    synchronized (this) {
      if (height < 0 || height > lastHeight) {
        throw new IllegalArgumentException("no block " + height + "; the last is " + lastHeight);
      }
      seg = segments.floorEntry(height).getValue();
      offset = seg.offsets[(int) (height - seg.firstHeight)];
    }
    ByteBuffer header = ByteBuffer.allocate(RECORD_HEADER_BYTES);
    readFully(seg.channel, header, offset);
    int length = header.getInt(4);
    if (header.getInt(0) != RECORD_MAGIC || crc(header.array(), 0, 20) != header.getInt(20)
        || length < 0 || length > MAX_RECORD_BYTES) {
      throw CorruptLedgerException.at(seg.path, offset, "record header damaged since the ledger opened");
    }
    ByteBuffer payload = ByteBuffer.allocate(length);
    readFully(seg.channel, payload, offset + RECORD_HEADER_BYTES);
    if (crc(payload.array(), 0, length) != header.getInt(16)) {
      throw CorruptLedgerException.at(seg.path, offset, "record payload damaged since the ledger opened");
    }
    try {
      Block b = Block.decode(payload.array());
      if (b.height() != height) {
        throw CorruptLedgerException.at(seg.path, offset, "holds block " + b.height() + ", not " + height);
      }
      return b;
    } catch (DecodingException e) {
      throw CorruptLedgerException.at(seg.path, offset, "intact record does not decode: " + e.getMessage());
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, position + buf.position());
      if (n < 0) {
        throw new EOFException("block log ends early at " + (position + buf.position()));
      }
    }
    buf.flip();
  }

  @Override
  public synchronized void append(Block block) throws IOException {
    if (block.height() != lastHeight + 1) {
      throw new IllegalArgumentException("block " + block.height() + " cannot follow block " + lastHeight);
    }
    if (active == null || (active.size >= segmentBytes && active.count > 0)) {
      startSegment(block.height());
    }
    byte[] rec = record(block);
    ByteBuffer buf = ByteBuffer.wrap(rec);
    long pos = active.size;
    while (buf.hasRemaining()) {
      active.channel.write(buf, pos + buf.position());
    }
    active.add(pos);
    active.size = pos + rec.length;
    lastHeight = block.height();
  }

  private void startSegment(long firstHeight) throws IOException {
    if (active != null) {
      active.channel.force(false);
    }
    Path path = blocksDir.resolve(segmentName(firstHeight));
    AtomicFiles.write(path, SEGMENT_MAGIC);
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    active = new Segment(path, firstHeight, ch, SEGMENT_MAGIC.length);
    segments.put(firstHeight, active);
  }

  @Override
  public void sync() throws IOException {
    FileChannel ch;
    synchronized (this) {
      if (active == null) {
        return;
      }
      ch = active.channel;
    }
    ch.force(false);
  }

  // ---- snapshots ----

  private TreeMap<Long, Path> snapshotFiles() throws IOException {
    TreeMap<Long, Path> files = new TreeMap<>();
    try (Stream<Path> list = Files.list(snapshotsDir)) {
      for (Path p : (Iterable<Path>) list::iterator) {
        Matcher m = SNAPSHOT_NAME.matcher(p.getFileName().toString());
        if (m.matches()) {
          files.put(Long.parseLong(m.group(1)), p);
        }
      }
    }
    return files;
  }

  @Override
  public void writeSnapshot(Snapshot snapshot) throws IOException {
    String name = String.format("snapshot-%020d.snap", snapshot.header().height());
    Path target = snapshotsDir.resolve(name);
    Path tmp = AtomicFiles.createTemp(snapshotsDir, name, null);
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        MessageDigest sha = Hash.newDigest();
        OutputStream raw = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
        DigestOutputStream digesting = new DigestOutputStream(raw, sha);
        DataOutputStream out = new DataOutputStream(digesting);
        out.write(SNAPSHOT_MAGIC);
        byte[] header = snapshot.header().encode();
        out.writeInt(header.length);
        out.write(header);
        out.writeLong(snapshot.state().size());
        IOException[] failure = {null};
        snapshot.state().forEachLeaf(leaf -> {
          if (failure[0] != null) {
            return;
          }
          try {
            byte[] value = leaf.record.encode();
            out.write(leaf.path);
            out.writeInt(value.length);
            out.write(value);
          } catch (IOException e) {
            failure[0] = e;
          }
        });
        if (failure[0] != null) {
          throw failure[0];
        }
        out.flush();
        raw.write(sha.digest());
        raw.flush();
        ch.force(true);
      }
      AtomicFiles.moveIntoPlace(tmp, target);
    } finally {
      Files.deleteIfExists(tmp);
    }
    TreeMap<Long, Path> files = snapshotFiles();
    while (files.size() > SNAPSHOTS_KEPT) {
      Files.deleteIfExists(files.pollFirstEntry().getValue());
    }
  }

  @Override
  public Optional<Snapshot> loadSnapshot(GenesisConfig config) throws IOException {
    for (Map.Entry<Long, Path> e : snapshotFiles().descendingMap().entrySet()) {
      Path p = e.getValue();
      if (e.getKey() > lastHeight()) {
        LOG.log(System.Logger.Level.WARNING, "ignoring snapshot " + p + ": it is ahead of the block log, which ends at "
            + lastHeight());
        continue;
      }
      try {
        Snapshot s = readSnapshot(p, config);
        if (!read(s.header().height()).header().equals(s.header())) {
          throw new VerificationException("its header differs from block " + s.header().height() + " in the log");
        }
        return Optional.of(s);
      } catch (CorruptLedgerException corrupt) {
        throw corrupt;
      } catch (IOException | VerificationException | IllegalArgumentException e2) {
        LOG.log(System.Logger.Level.WARNING, "ignoring snapshot " + p + ": " + e2.getMessage()
            + "; recovery starts from an older point");
      }
    }
    return Optional.empty();
  }

  static Snapshot readSnapshot(Path path, GenesisConfig config) throws IOException, VerificationException {
    long fileSize = Files.size(path);
    MessageDigest sha = Hash.newDigest();
    MessageDigest leafDigest = Hash.newDigest();
    try (InputStream in = Files.newInputStream(path)) {
      DigestInputStream digesting = new DigestInputStream(new BufferedInputStream(in, 1 << 16), sha);
      DataInputStream d = new DataInputStream(digesting);
      byte[] magic = new byte[SNAPSHOT_MAGIC.length];
      d.readFully(magic);
      if (!Arrays.equals(magic, SNAPSHOT_MAGIC)) {
        throw new IOException("not a Verity snapshot (bad header)");
      }
      int headerLength = d.readInt();
      if (headerLength <= 0 || headerLength > MAX_SNAPSHOT_HEADER_BYTES) {
        throw new IOException("snapshot header length " + headerLength + " out of range");
      }
      byte[] headerBytes = new byte[headerLength];
      d.readFully(headerBytes);
      BlockHeader header = BlockHeader.decode(headerBytes);
      long count = d.readLong();
      if (count < 0 || count > fileSize / (Hash.LENGTH + 5)) {
        throw new IOException("snapshot entry count " + count + " does not fit its size");
      }
      List<StateTree.Leaf> leaves = new ArrayList<>((int) count);
      byte[] previous = null;
      for (long i = 0; i < count; i++) {
        byte[] p = new byte[Hash.LENGTH];
        d.readFully(p);
        if (previous != null && Arrays.compareUnsigned(previous, p) >= 0) {
          throw new IOException("snapshot entries out of order at entry " + i);
        }
        previous = p;
        int length = d.readInt();
        if (length <= 0 || length > MAX_ENTRY_BYTES) {
          throw new IOException("snapshot entry " + i + " length " + length + " out of range");
        }
        byte[] value = new byte[length];
        d.readFully(value);
        leaves.add(new StateTree.Leaf(p, StateRecord.decode(value), value, leafDigest));
      }
      digesting.on(false);
      byte[] expected = sha.digest();
      byte[] trailer = new byte[Hash.LENGTH];
      d.readFully(trailer);
      if (!MessageDigest.isEqual(expected, trailer) || d.read() != -1) {
        throw new IOException("snapshot checksum mismatch or trailing bytes");
      }
      header.verifySignature(config.sequencer());
      LedgerState state = LedgerState.fromEntries(leaves, header.height());
      if (!state.root().equals(header.stateRoot())) {
        throw new VerificationException("snapshot entries hash to " + state.root()
            + ", its header says " + header.stateRoot());
      }
      if (!state.config().equals(config)) {
        throw new VerificationException("snapshot belongs to another chain configuration");
      }
      return new Snapshot(header, state);
    }
  }

  @Override
  public synchronized void close() throws IOException {
    IOException first = null;
    for (Segment s : segments.values()) {
      try {
        s.channel.close();
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    segments.clear();
    active = null;
    try {
      lock.release();
    } catch (IOException e) {
      first = first == null ? e : first;
    }
    lockChannel.close();
    if (first != null) {
      throw first;
    }
  }
}

package dev.verity.node;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.io.AtomicFiles;
import dev.verity.ledger.Action;
import dev.verity.ledger.TraceCommitment;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The node's durable record of ledger work it owes: jobs whose inference completed (to settle, and
 * whose receipt to commit) or failed (to fail, refunding the client). A record is appended and
 * fsynced before the client gets its response, so a crash between the response and the ledger
 * transactions loses nothing: on start the node replays what is not marked done.
 *
 * <p>File: records of {@value #RECORD_BYTES} bytes: {@code u8 kind (1 paid, 2 failed, 3 done, 4
 * trace, 5 trace inputs, 6 trace outputs) | 32 bytes job id | 36 bytes payload | u32 CRC-32C of the
 * 69 bytes before}. The payload of "paid" is the receipt CID (binary), of "failed" and "done" zeros.
 * An optimistic job's trace commitment precedes its "paid" record, in the same write: "trace"
 * carries the 32-byte root and the step count (u32), "trace inputs" and "trace outputs" the CIDs;
 * trace records not followed by their job's "paid" record were torn and are ignored. A short or damaged last record is a torn write (the node stopped while appending, before
 * it answered) and is dropped; damage anywhere else stops the node with {@link IOException}
 * naming the file. On open the file is rewritten to hold only what is still owed; at run time it
 * is emptied whenever nothing is owed and it has grown past {@value #COMPACT_BYTES} bytes (by default).
 *
 * <p>Thread-safe.
 */
final class SettlementJournal implements AutoCloseable {
  static final int RECORD_BYTES = 1 + Hash.LENGTH + Cid.BINARY_LENGTH + 4;
  static final long COMPACT_BYTES = 1 << 20;
  private static final byte PAID = 1;
  private static final byte FAILED = 2;
  private static final byte DONE = 3;
  private static final byte TRACE = 4;
  private static final byte TRACE_INPUTS = 5;
  private static final byte TRACE_OUTPUTS = 6;

  /**
   * What the node owes for one job: settle it (and commit {@code receipt}, with {@code trace} for an
   * optimistic job), or fail it.
   */
  record Owed(Hash job, Optional<Cid> receipt, Optional<TraceCommitment> trace) {
    Owed(Hash job, Optional<Cid> receipt) {
      this(job, receipt, Optional.empty());
    }

    boolean paid() {
      return receipt.isPresent();
    }

    /** The receipt's entry in a {@code CommitReceipts} batch. */
    Action.CommitReceipts.Entry entry() {
      return new Action.CommitReceipts.Entry(job, receipt.orElseThrow(), trace);
    }
  }

  private final Path file;
  private final long compactBytes;
  private final FileChannel channel;
  private final Map<Hash, Owed> owed;
  private final Map<Hash, Owed> atOpen;

  private SettlementJournal(Path file, long compactBytes, FileChannel channel, Map<Hash, Owed> owed) {
    this.file = file;
    this.compactBytes = compactBytes;
    this.channel = channel;
    this.owed = owed;
    this.atOpen = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(owed));
  }

  /**
   * Opens (creating if absent) the journal and compacts it to what is still owed.
   *
   * @throws IOException if the file cannot be used or is damaged other than by a torn last write
   */
  static SettlementJournal open(Path file) throws IOException {
    return open(file, COMPACT_BYTES);
  }

  /** As {@link #open(Path)}, emptying the file at run time once it exceeds {@code compactBytes}. */
  static SettlementJournal open(Path file, long compactBytes) throws IOException {
    Map<Hash, Owed> owed = Files.exists(file) ? replay(file, Files.readAllBytes(file)) : new LinkedHashMap<>();
    ByteArrayOutputStream compact = new ByteArrayOutputStream();
    for (Owed o : owed.values()) {
      compact.writeBytes(o.paid() ? paidRecords(o) : record(FAILED, o.job(), Optional.empty()));
    }
    AtomicFiles.write(file, compact.toByteArray());
    FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    return new SettlementJournal(file, compactBytes, ch, owed);
  }

  static Map<Hash, Owed> replay(Path file, byte[] bytes) throws IOException {
    Map<Hash, Owed> owed = new LinkedHashMap<>();
    Map<Hash, byte[][]> traces = new java.util.HashMap<>();
    int whole = bytes.length / RECORD_BYTES;
    for (int i = 0; i < whole; i++) {
      ByteBuffer r = ByteBuffer.wrap(bytes, i * RECORD_BYTES, RECORD_BYTES);
      CRC32C crc = new CRC32C();
      crc.update(bytes, i * RECORD_BYTES, RECORD_BYTES - 4);
      byte kind = r.get();
      byte[] job = new byte[Hash.LENGTH];
      byte[] receipt = new byte[Cid.BINARY_LENGTH];
      r.get(job).get(receipt);
      boolean intact = (int) crc.getValue() == r.getInt() && kind >= PAID && kind <= TRACE_OUTPUTS;
      if (!intact) {
        if (i == whole - 1 && bytes.length % RECORD_BYTES == 0) {
          break; // the last record was torn while being written
        }
        throw new IOException("settlement journal " + file + " is damaged at record " + i + " of " + whole
            + "; the node will not start, because it would lose track of jobs it owes the ledger. Inspect the file"
            + " (settle or fail its jobs by hand) and move it away to start the node");
      }
      Hash id = Hash.wrap(job);
      switch (kind) {
        case TRACE, TRACE_INPUTS, TRACE_OUTPUTS -> traces.computeIfAbsent(id, k -> new byte[3][])[kind - TRACE] = receipt;
        case PAID -> {
          try {
            byte[][] t = traces.remove(id);
            Optional<TraceCommitment> trace = Optional.empty();
            if (t != null && t[0] != null && t[1] != null && t[2] != null) {
              ByteBuffer rs = ByteBuffer.wrap(t[0]);
              byte[] root = new byte[Hash.LENGTH];
              rs.get(root);
              trace = Optional.of(new TraceCommitment(Hash.wrap(root), rs.getInt(), Cid.fromBytes(t[1]),
                  Cid.fromBytes(t[2])));
            }
            owed.put(id, new Owed(id, Optional.of(Cid.fromBytes(receipt)), trace));
          } catch (DecodingException e) {
            throw new IOException("settlement journal " + file + " holds a malformed receipt CID or trace at record " + i, e);
          }
        }
        case FAILED -> owed.put(id, new Owed(id, Optional.empty()));
        default -> owed.remove(id);
      }
    }
    return owed;
  }

  private static byte[] record(byte kind, Hash job, Optional<Cid> receipt) {
    return record(kind, job, receipt.map(Cid::toBytes).orElse(new byte[Cid.BINARY_LENGTH]));
  }

  /** The records of a paid job: its trace commitment (if any), then "paid". */
  private static byte[] paidRecords(Owed o) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(4 * RECORD_BYTES);
    if (o.trace().isPresent()) {
      TraceCommitment t = o.trace().get();
      out.writeBytes(record(TRACE, o.job(), ByteBuffer.allocate(Cid.BINARY_LENGTH).put(t.root().toBytes())
          .putInt(t.steps()).array()));
      out.writeBytes(record(TRACE_INPUTS, o.job(), t.inputs().toBytes()));
      out.writeBytes(record(TRACE_OUTPUTS, o.job(), t.outputs().toBytes()));
    }
    out.writeBytes(record(PAID, o.job(), o.receipt()));
    return out.toByteArray();
  }

  private static byte[] record(byte kind, Hash job, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(RECORD_BYTES);
    b.put(kind).put(job.toBytes());
    b.put(payload);
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, RECORD_BYTES - 4);
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /** What was owed when the journal was opened (the work a restarted node resumes), in journal order. */
  Map<Hash, Owed> owedAtOpen() {
    return atOpen;
  }

  /** Jobs currently owed. */
  synchronized int owedCount() {
    return owed.size();
  }

  /** Records, durably, that {@code job}'s inference completed with {@code receipt}. */
  synchronized void paid(Hash job, Cid receipt) throws IOException {
    paid(job, receipt, Optional.empty());
  }

  /**
   * Records, durably, that {@code job}'s inference completed with {@code receipt} and, for an
   * optimistic job, the trace commitment to send with it.
   */
  synchronized void paid(Hash job, Cid receipt, Optional<TraceCommitment> trace) throws IOException {
    Owed o = new Owed(job, Optional.of(receipt), trace);
    append(paidRecords(o));
    owed.put(job, o);
  }

  /** Records, durably, that {@code job}'s inference failed. */
  synchronized void failed(Hash job) throws IOException {
    append(record(FAILED, job, Optional.empty()));
    owed.put(job, new Owed(job, Optional.empty()));
  }

  /** Records that nothing more is owed for these jobs. */
  synchronized void done(Collection<Hash> jobs) throws IOException {
    if (jobs.isEmpty()) {
      return;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(jobs.size() * RECORD_BYTES);
    for (Hash j : jobs) {
      out.writeBytes(record(DONE, j, Optional.empty()));
    }
    append(out.toByteArray());
    jobs.forEach(owed::remove);
    if (owed.isEmpty() && channel.size() > compactBytes) {
      channel.truncate(0);
      channel.force(true);
    }
  }

  private void append(byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) {
      channel.write(b);
    }
    channel.force(false);
  }

  Path file() {
    return file;
  }

  @Override
  public synchronized void close() throws IOException {
    channel.close();
  }
}

package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node's journal of ledger work owed: what it replays, and how it treats damaged files. */
class SettlementJournalTest {
  @TempDir Path dir;

  static Hash job(int i) {
    return Hash.of(new byte[] {(byte) i});
  }

  static Cid receipt(int i) {
    return Cid.dagCbor(new byte[] {(byte) 0x18, (byte) i});
  }

  private Path journalWith(int paid, int failed, int done) throws IOException {
    Path file = dir.resolve("settlements.log");
    try (SettlementJournal j = SettlementJournal.open(file)) {
      for (int i = 0; i < paid; i++) {
        j.paid(job(i), receipt(i));
      }
      for (int i = 0; i < failed; i++) {
        j.failed(job(100 + i));
      }
      j.done(java.util.stream.IntStream.range(0, done).mapToObj(SettlementJournalTest::job).toList());
    }
    return file;
  }

  @Test
  void replaysWhatIsStillOwedAfterAStop() throws IOException {
    Path file = journalWith(3, 2, 1);
    try (SettlementJournal j = SettlementJournal.open(file)) {
      Map<Hash, SettlementJournal.Owed> owed = j.owedAtOpen();
      assertEquals(Set.of(job(1), job(2), job(100), job(101)), owed.keySet());
      assertEquals(Optional.of(receipt(2)), owed.get(job(2)).receipt());
      assertEquals(Optional.empty(), owed.get(job(100)).receipt());
      assertEquals(4 * SettlementJournal.RECORD_BYTES, Files.size(file), "opening compacts to what is owed");
    }
  }

  static dev.verity.ledger.TraceCommitment trace(int i) {
    return new dev.verity.ledger.TraceCommitment(Hash.of(new byte[] {(byte) i, 1}), 3 + i,
        Cid.dagCbor(new byte[] {(byte) 0x18, (byte) (i + 1)}), Cid.dagCbor(new byte[] {(byte) 0x18, (byte) (i + 2)}));
  }

  @Test
  void replaysTheTraceCommitmentOfAnOptimisticJobWithItsReceipt() throws IOException {
    Path file = dir.resolve("settlements.log");
    try (SettlementJournal j = SettlementJournal.open(file)) {
      j.paid(job(1), receipt(1), Optional.of(trace(1)));
      j.paid(job(2), receipt(2));
    }
    for (int round = 0; round < 2; round++) { // the second open reads the compacted file
      try (SettlementJournal j = SettlementJournal.open(file)) {
        assertEquals(Optional.of(trace(1)), j.owedAtOpen().get(job(1)).trace());
        assertEquals(Optional.empty(), j.owedAtOpen().get(job(2)).trace());
        assertEquals(new dev.verity.ledger.Action.CommitReceipts.Entry(job(1), receipt(1), Optional.of(trace(1))),
            j.owedAtOpen().get(job(1)).entry());
      }
    }
  }

  @Test
  void ignoresTraceRecordsWhosePaidRecordWasTorn() throws IOException {
    Path file = dir.resolve("settlements.log");
    try (SettlementJournal j = SettlementJournal.open(file)) {
      j.paid(job(1), receipt(1));
      j.paid(job(2), receipt(2), Optional.of(trace(2)));
    }
    byte[] bytes = Files.readAllBytes(file);
    for (int cut = 1; cut <= 3 * SettlementJournal.RECORD_BYTES; cut += 11) {
      Files.write(file, Arrays.copyOf(bytes, bytes.length - cut));
      try (SettlementJournal j = SettlementJournal.open(file)) {
        assertEquals(Set.of(job(1)), j.owedAtOpen().keySet(), "cut " + cut);
      }
      Files.write(file, bytes);
    }
  }

  @Test
  void dropsATornLastRecord() throws IOException {
    Path file = journalWith(2, 0, 0);
    byte[] bytes = Files.readAllBytes(file);
    for (int cut = 1; cut < SettlementJournal.RECORD_BYTES; cut += 7) {
      Files.write(file, Arrays.copyOf(bytes, bytes.length - cut));
      try (SettlementJournal j = SettlementJournal.open(file)) {
        assertEquals(Set.of(job(0)), j.owedAtOpen().keySet(), "cut " + cut);
      }
      Files.write(file, bytes);
    }
    byte[] garbledLast = bytes.clone();
    garbledLast[garbledLast.length - 10] ^= 0x55;
    Files.write(file, garbledLast);
    try (SettlementJournal j = SettlementJournal.open(file)) {
      assertEquals(Set.of(job(0)), j.owedAtOpen().keySet());
    }
  }

  @Test
  void refusesDamageBeforeTheLastRecord() throws IOException {
    Path file = journalWith(3, 0, 0);
    byte[] bytes = Files.readAllBytes(file);
    bytes[SettlementJournal.RECORD_BYTES + 3] ^= 1;
    Files.write(file, bytes);
    IOException e = assertThrows(IOException.class, () -> SettlementJournal.open(file));
    assertTrue(e.getMessage().contains("damaged at record 1") && e.getMessage().contains("move it away"), e.getMessage());
  }

  @Test
  void emptiesItselfWhenNothingIsOwedAndItHasGrown() throws IOException {
    Path file = dir.resolve("settlements.log");
    long limit = 10L * SettlementJournal.RECORD_BYTES;
    try (SettlementJournal j = SettlementJournal.open(file, limit)) {
      for (int i = 0; i < 8; i++) {
        j.paid(job(i), receipt(i));
      }
      j.done(List.of(job(0), job(1), job(2), job(3), job(4), job(5), job(6)));
      assertTrue(Files.size(file) > limit, "something is still owed: the file is kept");
      j.done(List.of(job(7)));
      assertEquals(0, j.owedCount());
      assertEquals(0, Files.size(file), "nothing owed and past the limit: emptied");
      j.paid(job(9), receipt(9));
    }
    try (SettlementJournal j = SettlementJournal.open(file)) {
      assertEquals(Set.of(job(9)), j.owedAtOpen().keySet(), "records appended after emptying are kept");
    }
  }

  @Property(tries = 80)
  void randomFilesOpenOrAreRefusedWithAClearError(@ForAll @Size(max = 600) byte[] junk) throws IOException {
    Path file = Files.createTempFile("journal", ".log");
    try {
      Files.write(file, junk);
      try (SettlementJournal j = SettlementJournal.open(file)) {
        assertTrue(junk.length < 2 * SettlementJournal.RECORD_BYTES, "only a torn record may be dropped silently");
        assertTrue(j.owedAtOpen().isEmpty());
      } catch (IOException e) {
        assertTrue(e.getMessage().contains("settlement journal"), e.getMessage());
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  @Property(tries = 80)
  void aFlippedByteNeverChangesWhatIsOwedSilently(@ForAll @IntRange(min = 0, max = 10_000) int position,
      @ForAll @IntRange(min = 1, max = 255) int mask) throws IOException {
    Path base = Files.createTempDirectory("journal");
    try {
      Path file = base.resolve("settlements.log");
      try (SettlementJournal j = SettlementJournal.open(file)) {
        j.paid(job(1), receipt(1));
        j.failed(job(2));
        j.paid(job(3), receipt(3));
      }
      byte[] bytes = Files.readAllBytes(file);
      int at = position % bytes.length;
      bytes[at] ^= (byte) mask;
      Files.write(file, bytes);
      try (SettlementJournal j = SettlementJournal.open(file)) {
        assertTrue(at >= 2 * SettlementJournal.RECORD_BYTES, "damage at " + at + " went unnoticed");
        assertEquals(List.of(job(1), job(2)), List.copyOf(j.owedAtOpen().keySet()));
      } catch (IOException e) {
        assertTrue(at < 2 * SettlementJournal.RECORD_BYTES, "only the last record may be torn; " + e.getMessage());
      }
    } finally {
      try (var s = Files.walk(base)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}

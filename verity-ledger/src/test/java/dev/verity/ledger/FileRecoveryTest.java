package dev.verity.ledger;

import static dev.verity.ledger.Fixtures.ALICE;
import static dev.verity.ledger.Fixtures.BOB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Hash;
import dev.verity.core.merkle.MerkleTree;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Durability of the file-backed ledger: restart, snapshots, torn writes, corruption. */
class FileRecoveryTest {
  @TempDir Path dir;
  private long aliceNonce;

  private SequencerLedger open(SequencerLedger.Options options) throws IOException {
    return SequencerLedger.open(dir, Fixtures.genesis(), Fixtures.SEQUENCER, options);
  }

  private SequencerLedger open() throws IOException {
    return open(LedgerContract.OPTIONS.withSnapshotEveryBlocks(4));
  }

  /** Commits {@code n} transfers, one block each; returns the last acknowledgement. */
  private Committed transfers(Ledger ledger, int n) throws Exception {
    Committed last = null;
    for (int i = 0; i < n; i++) {
      SignedTransaction tx = new Transaction(Fixtures.CHAIN, ALICE.publicKey(), aliceNonce++, 1,
          new Action.Transfer(BOB.address(), 10)).sign(ALICE);
      last = ledger.submit(tx).get(60, TimeUnit.SECONDS);
    }
    return last;
  }

  private List<Path> segments() throws IOException {
    try (Stream<Path> s = Files.list(dir.resolve("blocks"))) {
      return s.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
    }
  }

  private List<Path> snapshots() throws IOException {
    try (Stream<Path> s = Files.list(dir.resolve("snapshots"))) {
      return s.filter(p -> p.getFileName().toString().endsWith(".snap")).sorted().toList();
    }
  }

  /** Offsets of the records in one segment. */
  private static List<Long> recordOffsets(Path segment) throws IOException {
    byte[] b = Files.readAllBytes(segment);
    List<Long> offsets = new ArrayList<>();
    int pos = FileBlockStore.SEGMENT_MAGIC.length;
    while (pos + FileBlockStore.RECORD_HEADER_BYTES <= b.length) {
      offsets.add((long) pos);
      pos += FileBlockStore.RECORD_HEADER_BYTES + ByteBuffer.wrap(b, pos + 4, 4).getInt();
    }
    return offsets;
  }

  private static void flipByte(Path file, long offset) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer one = ByteBuffer.allocate(1);
      ch.read(one, offset);
      one.put(0, (byte) (one.get(0) ^ 0x40)).rewind();
      ch.write(one, offset);
    }
  }

  @Test
  void restartRecoversTheSameHeaderAndStateAndContinuesTheChain() throws Exception {
    LedgerView before;
    try (SequencerLedger ledger = open()) {
      transfers(ledger, 10);
      before = ledger.view();
    }
    assertTrue(!snapshots().isEmpty(), "snapshots should have been written");
    BlockStore.Snapshot snap = FileBlockStore.readSnapshot(snapshots().getLast(), Fixtures.genesis());
    assertTrue(snap.header().height() >= 4);
    assertEquals(snap.header().stateRoot(), snap.state().root());
    try (SequencerLedger ledger = open()) {
      assertEquals(before.header(), ledger.latestHeader());
      // The recovered state tree itself has the signed root: its proofs verify against the old header.
      ledger.view().prove(StateKey.account(BOB.address())).verify(before.header().stateRoot());
      assertEquals(before.account(BOB.address()), ledger.view().account(BOB.address()));
      Committed next = transfers(ledger, 1);
      assertEquals(before.height() + 1, next.height());
      assertEquals(before.header().hash(), ledger.block(next.height()).orElseThrow().header().previous());
    }
  }

  @Test
  void recoversFromTheLogAloneAndIgnoresDamagedSnapshots() throws Exception {
    LedgerView before;
    try (SequencerLedger ledger = open()) {
      transfers(ledger, 9);
      before = ledger.view();
    }
    for (Path snap : snapshots()) {
      flipByte(snap, Files.size(snap) / 2);
    }
    try (SequencerLedger ledger = open()) {
      assertEquals(before.header(), ledger.latestHeader());
    }
    for (Path snap : snapshots()) {
      Files.delete(snap);
    }
    try (SequencerLedger ledger = open()) {
      assertEquals(before.header(), ledger.latestHeader());
    }
  }

  @Test
  void discardsATornLastRecordAndKeepsEverythingBefore() throws Exception {
    LedgerView before;
    long lastHeight;
    try (SequencerLedger ledger = open()) {
      transfers(ledger, 5);
      before = ledger.view();
      lastHeight = before.height();
    }
    Path seg = segments().getLast();
    List<Long> offsets = recordOffsets(seg);
    long lastRecord = offsets.getLast();
    try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
      ch.truncate(lastRecord + (Files.size(seg) - lastRecord) / 2); // cut the last block mid-record
    }
    try (SequencerLedger ledger = open()) {
      assertEquals(lastHeight - 1, ledger.latestHeader().height());
      assertEquals(ledger.block(lastHeight - 1).orElseThrow().header(), ledger.latestHeader());
      aliceNonce--;
      Committed again = transfers(ledger, 1); // the lost transfer can be sent again
      assertEquals(lastHeight, again.height());
      assertEquals(before.account(BOB.address()), ledger.view().account(BOB.address()));
    }
    // Zeros after the last record (a file extended but never written) are a torn write too.
    try (FileChannel ch = FileChannel.open(segments().getLast(), StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ch.write(ByteBuffer.allocate(100));
    }
    try (SequencerLedger ledger = open()) {
      assertEquals(lastHeight, ledger.latestHeader().height());
    }
  }

  @Test
  void refusesToStartOnACorruptedMiddleRecord() throws Exception {
    try (SequencerLedger ledger = open()) {
      transfers(ledger, 6);
    }
    Path seg = segments().getLast();
    List<Long> offsets = recordOffsets(seg);
    long victim = offsets.get(3);
    flipByte(seg, victim + FileBlockStore.RECORD_HEADER_BYTES + 10);
    CorruptLedgerException e = assertThrows(CorruptLedgerException.class, this::open);
    assertTrue(e.getMessage().contains("offset " + victim), e.getMessage());
    assertTrue(e.getMessage().contains("not a torn write"), e.getMessage());
  }

  @Test
  void refusesALogBlockThatDoesNotReExecuteToItsSignedStateRoot() throws Exception {
    try (SequencerLedger ledger = open()) {
      transfers(ledger, 2);
    }
    try (FileBlockStore store = FileBlockStore.open(dir, 1 << 20)) {
      Block last = store.read(store.lastHeight());
      SignedTransaction tx = new Transaction(Fixtures.CHAIN, ALICE.publicKey(), aliceNonce, 1,
          new Action.Transfer(BOB.address(), 10)).sign(ALICE);
      BlockHeader lie = BlockHeader.sign(Fixtures.CHAIN, last.height() + 1, last.header().hash(),
          Block.transactionsRoot(List.of(tx)), MerkleTree.ofLeaves(List.of()).root(), Hash.of(new byte[] {1}),
          last.header().timeMillis(), 1, 0, Fixtures.SEQUENCER);
      store.append(new Block(lie, List.of(tx)));
      store.sync();
    }
    CorruptLedgerException e = assertThrows(CorruptLedgerException.class, this::open);
    assertTrue(e.getMessage().contains("does not re-execute"), e.getMessage());
  }

  @Test
  void refusesAnotherChainsDirectoryAWrongKeyAndASecondOpen() throws Exception {
    try (SequencerLedger ledger = open()) {
      transfers(ledger, 1);
      assertThrows(IOException.class, this::open);
    }
    GenesisConfig other = Fixtures.genesisBuilder().minFee(2).build();
    assertThrows(IllegalArgumentException.class,
        () -> SequencerLedger.open(dir, other, Fixtures.SEQUENCER, LedgerContract.OPTIONS));
    assertThrows(IllegalArgumentException.class,
        () -> SequencerLedger.open(dir, Fixtures.genesis(), Fixtures.BOB, LedgerContract.OPTIONS));
  }

  @Test
  void spreadsTheLogOverSegmentsAndReadsAcrossThem() throws Exception {
    SequencerLedger.Options small = LedgerContract.OPTIONS.withSegmentBytes(4096).withSnapshotEveryBlocks(1_000);
    LedgerView before;
    try (SequencerLedger ledger = open(small)) {
      transfers(ledger, 40);
      before = ledger.view();
    }
    assertTrue(segments().size() > 2, "expected several segments, got " + segments().size());
    try (SequencerLedger ledger = open(small)) {
      assertEquals(before.header(), ledger.latestHeader());
      List<Block> all = new ArrayList<>();
      for (long h = 0; h <= before.height(); h++) {
        all.add(ledger.block(h).orElseThrow());
      }
      assertEquals(before.header().stateRoot(), Chain.replay(Fixtures.genesis(), all).root());
    }
  }
}

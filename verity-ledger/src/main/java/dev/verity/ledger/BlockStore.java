package dev.verity.ledger;

import java.io.Closeable;
import java.io.IOException;
import java.util.Optional;

/**
 * Where a sequencer keeps its blocks and state snapshots. Blocks are appended in height order
 * starting at 0; {@link #sync()} makes everything appended so far durable. Implementations: {@link
 * FileBlockStore} (write-ahead log and snapshot files) and {@link MemoryBlockStore}.
 */
interface BlockStore extends Closeable {
  /** A state as of a block, with that block's header. */
  record Snapshot(BlockHeader header, LedgerState state) {}

  /** Height of the last appended block, -1 when empty. */
  long lastHeight();

  /** The block at {@code height}, which must be at most {@link #lastHeight()}. */
  Block read(long height) throws IOException;

  /** Appends the next block; not durable until {@link #sync()}. */
  void append(Block block) throws IOException;

  /** Makes every appended block durable. */
  void sync() throws IOException;

  /** The newest intact snapshot of this chain whose header is that of a block in the store, if any. */
  Optional<Snapshot> loadSnapshot(GenesisConfig config) throws IOException;

  /** Stores a snapshot durably; may be called from another thread than {@link #append}. */
  void writeSnapshot(Snapshot snapshot) throws IOException;
}

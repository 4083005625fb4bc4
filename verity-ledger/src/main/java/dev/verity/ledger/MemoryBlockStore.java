package dev.verity.ledger;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Blocks in memory; nothing survives the process. Snapshots are not kept. */
final class MemoryBlockStore implements BlockStore {
  private final List<Block> blocks = new ArrayList<>();

  @Override
  public synchronized long lastHeight() {
    return blocks.size() - 1;
  }

  @Override
  public synchronized Block read(long height) {
    if (height < 0 || height >= blocks.size()) {
      throw new IllegalArgumentException("no block " + height + "; the last is " + (blocks.size() - 1));
    }
    return blocks.get((int) height);
  }

  @Override
  public synchronized void append(Block block) {
    if (block.height() != blocks.size()) {
      throw new IllegalArgumentException("block " + block.height() + " cannot follow block " + (blocks.size() - 1));
    }
    blocks.add(block);
  }

  @Override
  public void sync() {}

  @Override
  public Optional<Snapshot> loadSnapshot(GenesisConfig config) {
    return Optional.empty();
  }

  @Override
  public void writeSnapshot(Snapshot snapshot) {}

  @Override
  public void close() {}
}

package dev.verity.ledger;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class FileLedgerTest extends LedgerContract {
  @TempDir Path dir;

  @Override
  Ledger open(GenesisConfig genesis) throws Exception {
    return SequencerLedger.open(dir, genesis, Fixtures.SEQUENCER, OPTIONS.withSnapshotEveryBlocks(3));
  }
}

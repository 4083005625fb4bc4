package dev.verity.ledger;

class InMemoryLedgerTest extends LedgerContract {
  @Override
  Ledger open(GenesisConfig genesis) {
    return SequencerLedger.inMemory(genesis, Fixtures.SEQUENCER, OPTIONS);
  }
}

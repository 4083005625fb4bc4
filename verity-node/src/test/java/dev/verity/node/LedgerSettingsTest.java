package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ledger.* settings: defaults, file and environment, and refusal of bad values. */
class LedgerSettingsTest {
  @TempDir Path dir;

  @Test
  void defaultsToNoLedger() {
    LedgerSettings s = NodeConfig.defaults().ledger();
    assertEquals(LedgerSettings.none(), s);
    assertEquals(LedgerSettings.DEFAULT_RECEIPT_BATCH, s.receiptBatch());
  }

  @Test
  void readsTheFileThenTheEnvironment() throws Exception {
    Path file = dir.resolve("node.properties");
    Files.writeString(file, "ledger=embedded\nledger.genesis=" + dir.resolve("g.cbor") + "\nledger.operator_fee=7\n"
        + "ledger.receipt_batch=16\n");
    NodeConfig c = NodeConfig.load(Optional.of(file), Map.of("VERITY_LEDGER_RECEIPT_BATCH_MILLIS", "250",
        "VERITY_LEDGER_OPERATOR_FEE", "9"));
    LedgerSettings s = c.ledger();
    assertTrue(s.embedded());
    assertEquals(Optional.of(dir.resolve("g.cbor")), s.genesis());
    assertEquals(9, s.operatorFee(), "the environment overrides the file");
    assertEquals(16, s.receiptBatch());
    assertEquals(Duration.ofMillis(250), s.receiptBatchDelay());
    assertEquals(c.ledger(), c.withPort(0).withDataDir(dir).ledger(), "other overrides keep the ledger settings");
  }

  @Test
  void refusesBadValuesNamingTheSetting() {
    assertMessage(Map.of("VERITY_LEDGER", "remote"), "ledger");
    assertMessage(Map.of("VERITY_LEDGER_OPERATOR_FEE", "-1"), "ledger.operator_fee");
    assertMessage(Map.of("VERITY_LEDGER_RECEIPT_BATCH", "513"), "ledger.receipt_batch");
    assertMessage(Map.of("VERITY_LEDGER_RECEIPT_BATCH_MILLIS", "0"), "ledger.receipt_batch_millis");
    assertMessage(Map.of("VERITY_LEDGER_BLOCK_MILLIS", "x"), "ledger.block_millis");
  }

  private static void assertMessage(Map<String, String> env, String key) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NodeConfig.load(Optional.empty(), env));
    assertTrue(e.getMessage().contains(key), e.getMessage());
  }

  @Test
  void aNodeWhoseKeyIsNotTheSequencerRefusesToStart() throws Exception {
    Path genesis = dir.resolve("g.cbor");
    Files.write(genesis, NodeLedger.devGenesis(dev.verity.core.crypto.Signer.generate(), 0).encode());
    NodeConfig c = NodeConfig.defaults().withDataDir(dir.resolve("node")).withPort(0)
        .withLedger(LedgerSettings.embedded(Optional.of(genesis)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VerityNode.start(c));
    assertTrue(e.getMessage().contains("is not the sequencer"), e.getMessage());
    try (VerityNode again = VerityNode.start(c.withLedger(LedgerSettings.embedded(Optional.empty())))) {
      assertTrue(again.hasLedger(), "the data directory was released; a dev genesis works");
      assertTrue(Files.exists(dir.resolve("node/ledger/genesis.cbor")));
    }
  }
}

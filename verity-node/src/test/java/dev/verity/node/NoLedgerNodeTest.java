package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.protocol.ModelManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node with the default setting ledger = none: inference stays free and the ledger API is absent. */
class NoLedgerNodeTest {
  @TempDir Path dir;

  @Test
  void runsPricedModelsFreeAndAnswersLedgerEndpointsWith404() throws Exception {
    assertEquals(LedgerSettings.Mode.NONE, NodeConfig.defaults().ledger().mode(), "no ledger unless asked for");
    try (LedgerFixture f = LedgerFixture.start(dir, 0, 1, java.time.Duration.ofSeconds(1), LedgerSettings.none())) {
      ModelManifest m = f.publish(LedgerFixture.doublingModel(), "priced", 5);
      LedgerFixture.Response r = f.infer(m, LedgerFixture.doublingInputs(1), Optional.empty(), Optional.empty());
      assertEquals(200, r.status(), r.detail());
      assertEquals(Optional.empty(), LedgerFixture.receipt(r).job());

      LedgerFixture.Response withJob = f.infer(m, LedgerFixture.doublingInputs(1),
          Optional.of(dev.verity.core.Hash.of(new byte[] {1})), Optional.of(f.client));
      assertEquals(400, withJob.status());
      assertTrue(withJob.detail().contains("runs no ledger"), withJob.detail());

      for (String path : new String[] {"/v1/ledger", "/v1/ledger/head", "/v1/ledger/genesis", "/v1/ledger/blocks/0",
          "/v1/ledger/accounts/" + f.client.address(), "/v1/ledger/jobs/" + "0".repeat(64)}) {
        LedgerFixture.Response none = f.get(path);
        assertEquals(404, none.status(), path);
        assertTrue(none.detail().contains("this node runs no ledger"), none.detail());
      }
      assertEquals(404, f.post("/v1/ledger/transactions", "application/cbor", new byte[] {0}, Optional.empty()).status());
      assertTrue(Files.notExists(dir.resolve("node/ledger")), "no ledger files are created");
    }
  }
}

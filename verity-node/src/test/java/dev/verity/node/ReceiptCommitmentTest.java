package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.ledger.Action;
import dev.verity.ledger.Block;
import dev.verity.ledger.BlockHeader;
import dev.verity.ledger.LightClient;
import dev.verity.ledger.ReceiptProof;
import dev.verity.ledger.SignedTransaction;
import dev.verity.ledger.StateProof;
import dev.verity.ledger.StateRecord;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Receipts committed in batches and proved with the light client; free models on a ledger node;
 * what survives a restart, including settlements owed when the node stopped. The node charges no
 * operator fee and commits receipts in batches of exactly 3 (the batch delay is far longer than
 * the test), so every batch is full.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReceiptCommitmentTest {
  static final int BATCH = 3;
  static final long ROYALTY = 5;

  @TempDir static Path dir;
  static LedgerFixture f;
  static ModelManifest priced;
  static ModelManifest free;
  static final List<InferenceReceipt> committed = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    f = LedgerFixture.start(dir, 0, BATCH, Duration.ofMinutes(10));
    priced = f.publishAndRegister(LedgerFixture.doublingModel(), "priced", ROYALTY);
    free = f.publish(LedgerFixture.doublingModel(), "free", 0);
  }

  @AfterAll
  static void stop() throws Exception {
    f.close();
  }

  static LightClient lightClient() {
    return LightClient.of(f.genesis);
  }

  @Test
  @Order(1)
  void aFreeModelRunsWithoutAJobAndItsReceiptNamesNone() throws Exception {
    long height = f.ok(f.get("/v1/ledger/head")).json().path("view").path("height").asLong();
    LedgerFixture.Response r = f.infer(free, LedgerFixture.doublingInputs(3), Optional.empty(), Optional.empty());
    assertEquals(200, r.status(), r.detail());
    assertEquals(Optional.empty(), LedgerFixture.receipt(r).job());
    assertFalse(r.json().has("job"));
    assertEquals(height, f.ok(f.get("/v1/ledger/head")).json().path("view").path("height").asLong(),
        "a free inference writes nothing to the ledger");
  }

  @Test
  @Order(2)
  void receiptsAreCommittedInBatchesAndProvedWithTheLightClient() throws Exception {
    List<Hash> jobs = new ArrayList<>();
    for (int i = 0; i < 2 * BATCH; i++) {
      Hash job = f.openJob(f.client, priced.cid(), Optional.empty(), ROYALTY);
      LedgerFixture.Response r = f.infer(priced, LedgerFixture.doublingInputs(i), Optional.of(job), Optional.of(f.client));
      assertEquals(200, r.status(), r.detail());
      committed.add(LedgerFixture.receipt(r));
      jobs.add(job);
    }
    LightClient lc = lightClient();
    for (int i = 0; i < committed.size(); i++) {
      InferenceReceipt receipt = committed.get(i);
      JsonNode p = f.await("/v1/ledger/receipts/" + receipt.cid() + "/proof", x -> x.status() == 200,
          "receipt " + receipt.cid() + " to be committed").json();
      ReceiptProof proof = ReceiptProof.decode(Base64.getDecoder().decode(p.path("receipt_proof").asText()));
      BlockHeader header = BlockHeader.decode(Base64.getDecoder().decode(p.path("header").asText()));
      StateProof jobProof = StateProof.decode(Base64.getDecoder().decode(p.path("job_proof").asText()));
      StateRecord.Job job = lc.verifyJobPaid(proof, header, jobProof);
      assertEquals(receipt.cid(), proof.entry().receipt());
      assertEquals(jobs.get(i), job.id());
      assertEquals(receipt.job().orElseThrow(), job.id(), "the ledger's job is the one the receipt names");
      assertEquals(ROYALTY, job.charged());

      Block block = Block.decode(Base64.getDecoder().decode(
          f.ok(f.get("/v1/ledger/blocks/" + proof.header().height())).json().path("block").asText()));
      block.verify(f.nodeKey.publicKey());
      for (SignedTransaction t : block.transactions()) {
        if (t.tx().action() instanceof Action.CommitReceipts c) {
          assertEquals(BATCH, c.receipts().size(), "every batch is full");
        }
      }
    }
  }

  @Test
  @Order(3)
  void aProofDoesNotProveAnotherReceiptOrAnotherSequencer() throws Exception {
    InferenceReceipt receipt = committed.get(0);
    JsonNode p = f.ok(f.get("/v1/ledger/receipts/" + receipt.cid() + "/proof")).json();
    ReceiptProof proof = ReceiptProof.decode(Base64.getDecoder().decode(p.path("receipt_proof").asText()));
    BlockHeader header = BlockHeader.decode(Base64.getDecoder().decode(p.path("header").asText()));
    StateProof jobProof = StateProof.decode(Base64.getDecoder().decode(p.path("job_proof").asText()));
    ReceiptProof other = new ReceiptProof(proof.header(),
        new Action.CommitReceipts.Entry(proof.entry().job(), committed.get(1).cid()), proof.path());
    assertThrows(VerificationException.class, () -> lightClient().verifyJobPaid(other, header, jobProof));
    LightClient stranger = new LightClient(f.genesis.chainId(), dev.verity.core.crypto.Signer.generate().publicKey());
    assertThrows(VerificationException.class, () -> stranger.verifyJobPaid(proof, header, jobProof));
  }

  @Test
  @Order(4)
  void aRestartKeepsTheLedgerAndResumesSettlementsOwed() throws Exception {
    JsonNode before = f.ok(f.get("/v1/ledger/head")).json().path("view");
    long client = f.balance(f.client.address());
    // A job whose inference completed just before the node stopped, its settlement not yet sent:
    // the journal holds it, the ledger still shows the job open.
    Hash owed = f.openJob(f.client, priced.cid(), Optional.of(f.nodeKey.address()), ROYALTY);
    Cid owedReceipt = Cid.dagCbor(new byte[] {(byte) 0xa0});
    f.node.close();
    try (SettlementJournal journal = SettlementJournal.open(dir.resolve("node/ledger/settlements.log"))) {
      journal.paid(owed, owedReceipt);
    }
    f.node = VerityNode.start(f.config);

    JsonNode after = f.ok(f.get("/v1/ledger/head")).json().path("view");
    assertTrue(after.path("height").asLong() >= before.path("height").asLong() + 1);
    assertEquals(client - ROYALTY, f.balance(f.client.address()), "balances survive the restart");
    assertEquals("settled", f.job(committed.get(0).job().orElseThrow()).path("status").asText());

    JsonNode settled = f.awaitJob(owed, "settled");
    assertEquals(ROYALTY, settled.path("charged").asLong());
    LedgerFixture.Response reuse = f.infer(priced, LedgerFixture.doublingInputs(1), Optional.of(owed), Optional.of(f.client));
    assertEquals(409, reuse.status(), "a job settled from the journal cannot be used again: " + reuse.detail());

    // The owed receipt waits for a full batch; two more paid inferences fill it.
    for (int i = 0; i < BATCH - 1; i++) {
      Hash job = f.openJob(f.client, priced.cid(), Optional.empty(), ROYALTY);
      assertEquals(200, f.infer(priced, LedgerFixture.doublingInputs(i), Optional.of(job), Optional.of(f.client)).status());
    }
    JsonNode p = f.await("/v1/ledger/receipts/" + owedReceipt + "/proof", x -> x.status() == 200,
        "the owed receipt to be committed").json();
    lightClient().verifyJobPaid(
        ReceiptProof.decode(Base64.getDecoder().decode(p.path("receipt_proof").asText())),
        BlockHeader.decode(Base64.getDecoder().decode(p.path("header").asText())),
        StateProof.decode(Base64.getDecoder().decode(p.path("job_proof").asText())));

    // Proofs of receipts committed before the restart still verify.
    JsonNode old = f.ok(f.get("/v1/ledger/receipts/" + committed.get(0).cid() + "/proof")).json();
    lightClient().verifyReceipt(ReceiptProof.decode(Base64.getDecoder().decode(old.path("receipt_proof").asText())));
  }

  @Test
  @Order(5)
  void accountProofsVerifyAgainstTheSignedHead() throws Exception {
    JsonNode a = f.ok(f.get("/v1/ledger/accounts/" + f.client.address() + "?prove=true")).json();
    BlockHeader header = BlockHeader.decode(Base64.getDecoder().decode(a.path("header").asText()));
    StateRecord.Account acc = lightClient().verifyAccount(header, f.client.address(),
        StateProof.decode(Base64.getDecoder().decode(a.path("proofs").path("account").asText())));
    assertEquals(a.path("balance").asLong(), acc.balance());
    JsonNode n = f.ok(f.get("/v1/ledger/accounts/" + f.nodeKey.address() + "?prove=true")).json();
    StateRecord.Stake st = lightClient().verifyStake(BlockHeader.decode(Base64.getDecoder().decode(n.path("header").asText())),
        f.nodeKey.address(), StateProof.decode(Base64.getDecoder().decode(n.path("proofs").path("stake").asText())));
    assertEquals(f.genesis.minNodeStake(), st.bonded(), "the node bonded the minimum stake to register as a worker");
    assertThrows(VerificationException.class, () -> lightClient().verifyAccount(header, f.otherClient.address(),
        StateProof.decode(Base64.getDecoder().decode(a.path("proofs").path("account").asText()))));
  }
}

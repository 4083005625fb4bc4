package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.Action;
import dev.verity.ledger.BlockHeader;
import dev.verity.ledger.GenesisConfig;
import dev.verity.ledger.SignedTransaction;
import dev.verity.ledger.Transaction;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inference paid through the ledger, against a real node over HTTP: what is refused with 402, 401
 * and 409 and why, that an honest job pays everyone exactly their share, that a failed inference
 * refunds the client, and that the ledger endpoints refuse malformed transactions with reasons.
 *
 * <p>The node charges an operator fee of 20 on top of a royalty of 5: a job costs 25, of which the
 * owner gets 5, the treasury 1 (5% of the operator fee) and the node 19. Fees are 0 on this chain.
 */
class PaidInferenceTest {
  static final long ROYALTY = 5;
  static final long OPERATOR_FEE = 20;
  static final long PRICE = ROYALTY + OPERATOR_FEE;

  @TempDir static Path dir;
  static LedgerFixture f;
  static ModelManifest doubling;
  static ModelManifest otherModel;
  static ModelManifest reshaping;

  @BeforeAll
  static void start() throws Exception {
    f = LedgerFixture.start(dir, OPERATOR_FEE, 64, Duration.ofMillis(200));
    doubling = f.publishAndRegister(LedgerFixture.doublingModel(), "doubling", ROYALTY);
    otherModel = f.publishAndRegister(LedgerFixture.doublingModel(), "doubling-again", ROYALTY);
    reshaping = f.publishAndRegister(LedgerFixture.reshapingModel(), "reshaping", ROYALTY);
  }

  @AfterAll
  static void stop() throws Exception {
    f.close();
  }

  private static LedgerFixture.Response inferWith(Hash job, Signer signer) throws Exception {
    return f.infer(doubling, LedgerFixture.doublingInputs(1), Optional.of(job), Optional.of(signer));
  }

  private static void assertPaymentRequired(LedgerFixture.Response r, String... phrases) {
    assertEquals(402, r.status(), r.detail());
    assertEquals("/problems/payment-required", r.type());
    for (String p : phrases) {
      assertTrue(r.detail().contains(p), "'" + p + "' missing from: " + r.detail());
    }
  }

  @Test
  void refusesAPricedModelWithoutAJobAndSaysHowToPay() throws Exception {
    LedgerFixture.Response r = f.infer(doubling, LedgerFixture.doublingInputs(1), Optional.empty(), Optional.of(f.client));
    assertPaymentRequired(r, "costs " + PRICE, ROYALTY + " royalty", OPERATOR_FEE + " operator fee",
        "open a job for manifest " + doubling.cid(), "escrowing at least " + PRICE, "POST /v1/ledger/transactions");
  }

  @Test
  void refusesAJobEscrowingLessThanThePrice() throws Exception {
    Hash job = f.openJob(f.client, doubling.cid(), Optional.empty(), PRICE - 1);
    assertPaymentRequired(inferWith(job, f.client), "escrows " + (PRICE - 1), "costs " + PRICE);
    assertEquals("open", f.job(job).path("status").asText(), "a refused request leaves the job open");
  }

  @Test
  void refusesAJobOfAnotherClient() throws Exception {
    Hash job = f.openJob(f.otherClient, doubling.cid(), Optional.empty(), PRICE);
    assertPaymentRequired(inferWith(job, f.client), "belongs to client " + f.otherClient.address());
  }

  @Test
  void refusesAJobForAnotherModel() throws Exception {
    Hash job = f.openJob(f.client, otherModel.cid(), Optional.empty(), PRICE);
    assertPaymentRequired(inferWith(job, f.client), "is for manifest " + otherModel.cid());
  }

  @Test
  void refusesAJobThatDoesNotExist() throws Exception {
    assertPaymentRequired(inferWith(Hash.of(new byte[] {7}), f.client), "no job");
  }

  @Test
  void refusesAnUnsignedRequestNamingAJob() throws Exception {
    Hash job = f.openJob(f.client, doubling.cid(), Optional.empty(), PRICE);
    LedgerFixture.Response r = f.infer(doubling, LedgerFixture.doublingInputs(1), Optional.of(job), Optional.empty());
    assertEquals(401, r.status(), r.detail());
    assertTrue(r.detail().contains("signed by the job's client " + f.client.address()), r.detail());
  }

  @Test
  void anHonestJobPaysEveryoneExactlyTheirShareAndIsUsedOnce() throws Exception {
    long client = f.balance(f.client.address());
    long owner = f.balance(f.owner.address());
    long node = f.balance(f.nodeKey.address());
    long treasury = f.balance(f.treasury);
    long escrow = PRICE + 7;
    Hash job = f.openJob(f.client, doubling.cid(), Optional.of(f.nodeKey.address()), escrow);
    assertEquals(client - escrow, f.balance(f.client.address()), "the escrow leaves the client's balance");

    LedgerFixture.Response r = inferWith(job, f.client);
    assertEquals(200, r.status(), r.detail());
    InferenceReceipt receipt = LedgerFixture.receipt(r);
    receipt.verifySignature();
    assertEquals(Optional.of(job), receipt.job(), "the receipt names the job that paid for it");
    assertEquals(job.toHex(), r.json().path("job").asText());
    assertEquals(4f, LedgerFixture.outputs(r).get("y").toFloats()[2]);

    JsonNode settled = f.awaitJob(job, "settled");
    assertEquals(PRICE, settled.path("charged").asLong());
    long protocolShare = OPERATOR_FEE * f.genesis.protocolShareBps() / 10_000;
    assertEquals(-PRICE, f.balance(f.client.address()) - client, "client pays the price; the rest is refunded");
    assertEquals(ROYALTY, f.balance(f.owner.address()) - owner, "owner gets the royalty");
    assertEquals(OPERATOR_FEE - protocolShare, f.balance(f.nodeKey.address()) - node, "operator gets its fee less the protocol share");
    assertEquals(protocolShare, f.balance(f.treasury) - treasury, "treasury gets the protocol share");

    LedgerFixture.Response again = inferWith(job, f.client);
    assertEquals(409, again.status(), again.detail());
    assertTrue(again.detail().contains("settled") && again.detail().contains("open a new one"), again.detail());
  }

  @Test
  void twoRequestsRacingForOneJobRunOnce() throws Exception {
    Hash job = f.openJob(f.client, doubling.cid(), Optional.empty(), PRICE);
    CompletableFuture<LedgerFixture.Response> a = CompletableFuture.supplyAsync(() -> uncheckedInfer(job));
    CompletableFuture<LedgerFixture.Response> b = CompletableFuture.supplyAsync(() -> uncheckedInfer(job));
    List<Integer> statuses = List.of(a.join().status(), b.join().status()).stream().sorted().toList();
    assertEquals(List.of(200, 409), statuses);
    assertEquals(PRICE, f.awaitJob(job, "settled").path("charged").asLong());
  }

  private static LedgerFixture.Response uncheckedInfer(Hash job) {
    try {
      return inferWith(job, f.client);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aFailedInferenceRefundsTheClient() throws Exception {
    long client = f.balance(f.client.address());
    long owner = f.balance(f.owner.address());
    Hash job = f.openJob(f.client, reshaping.cid(), Optional.of(f.nodeKey.address()), PRICE);
    LedgerFixture.Response fails = f.infer(reshaping, LedgerFixture.reshapingInputs(5), Optional.of(job), Optional.of(f.client));
    assertEquals(500, fails.status(), fails.detail());
    assertEquals("/problems/inference-failed", fails.type());
    assertTrue(fails.detail().contains("job " + job + " is being failed and its escrow of " + PRICE + " refunded"),
        fails.detail());
    f.awaitJob(job, "failed");
    assertEquals(client, f.balance(f.client.address()), "the whole escrow is back");
    assertEquals(owner, f.balance(f.owner.address()), "no royalty for a failed inference");
    LedgerFixture.Response reuse = f.infer(reshaping, LedgerFixture.reshapingInputs(4), Optional.of(job), Optional.of(f.client));
    assertEquals(409, reuse.status(), reuse.detail());

    Hash good = f.openJob(f.client, reshaping.cid(), Optional.empty(), PRICE);
    LedgerFixture.Response ok = f.infer(reshaping, LedgerFixture.reshapingInputs(4), Optional.of(good), Optional.of(f.client));
    assertEquals(200, ok.status(), "the same model runs for inputs it can reshape: " + ok.detail());
    f.awaitJob(good, "settled");
  }

  @Test
  void rejectsMalformedTransactionsWithReasons() throws Exception {
    byte[] junk = new byte[200];
    ThreadLocalRandom.current().nextBytes(junk);
    LedgerFixture.Response random = f.post("/v1/ledger/transactions", "application/cbor", junk, Optional.empty());
    assertEquals(400, random.status());
    assertEquals("/problems/malformed-transaction", random.type());

    SignedTransaction tx = f.sign(f.client, new Action.Transfer(f.otherClient.address(), 1));
    byte[] encoded = tx.encode();
    byte[] truncated = java.util.Arrays.copyOf(encoded, encoded.length - 3);
    assertEquals(400, f.post("/v1/ledger/transactions", "application/cbor", truncated, Optional.empty()).status());

    byte[] badSig = encoded.clone();
    badSig[badSig.length - 1] ^= 1;
    assertRejected(f.post("/v1/ledger/transactions", "application/cbor", badSig, Optional.empty()), "BAD_SIGNATURE");

    Transaction otherChain = new Transaction("another-chain", f.client.publicKey(), tx.tx().nonce(), 0,
        new Action.Transfer(f.otherClient.address(), 1));
    assertRejected(f.submit(otherChain.sign(f.client)), "WRONG_CHAIN");
    assertRejected(f.submit(f.client, new Action.Transfer(f.otherClient.address(), 10 * LedgerFixture.CLIENT_FUNDS)),
        "INSUFFICIENT_FUNDS");
    assertRejected(f.submit(f.client, new Action.OpenJob(doubling.cid(), Optional.empty(), 1, ROYALTY - 1)),
        "INVALID_ARGUMENT");

    f.ok(f.submit(tx));
    assertRejected(f.submit(tx), "BAD_NONCE");

    LedgerFixture.Response tooLarge = f.post("/v1/ledger/transactions", "application/cbor",
        new byte[SignedTransaction.MAX_BYTES + 1], Optional.empty());
    assertEquals(413, tooLarge.status());
  }

  private static void assertRejected(LedgerFixture.Response r, String reason) {
    assertEquals(400, r.status(), r.detail());
    assertEquals("/problems/transaction-rejected", r.type());
    assertTrue(r.detail().startsWith(reason + ":"), r.detail());
  }

  @Test
  void rejectsMalformedParametersAndUnknownEntries() throws Exception {
    assertEquals(400, f.get("/v1/ledger/accounts/not-an-address").status());
    assertEquals(400, f.get("/v1/ledger/jobs/abc").status());
    assertEquals(400, f.get("/v1/ledger/blocks/minus-one").status());
    assertEquals(404, f.get("/v1/ledger/blocks/" + Long.MAX_VALUE).status());
    assertEquals(404, f.get("/v1/ledger/jobs/" + Hash.of(new byte[] {1}).toHex()).status());
    LedgerFixture.Response notCommitted = f.get("/v1/ledger/receipts/" + doubling.cid() + "/proof");
    assertEquals(404, notCommitted.status());
    assertTrue(notCommitted.detail().contains("not committed"), notCommitted.detail());
    LedgerFixture.Response badJob = f.post("/v1/manifests/" + doubling.cid() + "/infer", "application/json",
        "{\"inputs\": {}, \"job\": \"xyz\"}".getBytes(StandardCharsets.UTF_8), Optional.of(f.client));
    assertEquals(400, badJob.status());
    assertTrue(badJob.detail().contains("64 hex characters"), badJob.detail());
  }

  @Test
  void servesTheSignedHeadGenesisAndBlocks() throws Exception {
    JsonNode head = f.ok(f.get("/v1/ledger/head")).json();
    BlockHeader h = BlockHeader.decode(Base64.getDecoder().decode(head.path("header").asText()));
    h.verifySignature(f.nodeKey.publicKey());
    assertEquals(h.height(), head.path("view").path("height").asLong());

    JsonNode genesis = f.ok(f.get("/v1/ledger/genesis")).json();
    GenesisConfig g = GenesisConfig.decode(Base64.getDecoder().decode(genesis.path("genesis").asText()));
    assertEquals(f.genesis, g);
    assertEquals(g.hash().toHex(), genesis.path("hash").asText());

    JsonNode blocks = f.ok(f.get("/v1/ledger/blocks?from=0&limit=3")).json();
    assertEquals(3, blocks.path("blocks").size());
    assertEquals(0, blocks.path("blocks").get(0).path("height").asLong());
    JsonNode one = f.ok(f.get("/v1/ledger/blocks/1")).json();
    dev.verity.ledger.Block b = dev.verity.ledger.Block.decode(Base64.getDecoder().decode(one.path("block").asText()));
    b.verify(f.nodeKey.publicKey());
    String first = one.path("view").path("transactions").get(0).path("type").asText();
    assertTrue(first.equals("registerNode") || first.equals("registerModel"),
        "block 1 holds the node's own registration or the owner's first model: " + first);
  }

  @Test
  void tamperedHeaderFailsItsSignature() throws Exception {
    JsonNode head = f.ok(f.get("/v1/ledger/head")).json();
    byte[] bytes = Base64.getDecoder().decode(head.path("header").asText());
    bytes[bytes.length - 1] ^= 1;
    BlockHeader forged = BlockHeader.decode(bytes);
    org.junit.jupiter.api.Assertions.assertThrows(VerificationException.class,
        () -> forged.verifySignature(f.nodeKey.publicKey()));
  }
}

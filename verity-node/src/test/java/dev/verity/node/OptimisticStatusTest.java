package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.ledger.StateRecord;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.VerificationMode;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.LedgerClient;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.VerityClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a client sees on the ledger for an optimistic receipt, proven with the light client: a
 * result that is re-executed and agreed with is pending until its window closes and then final
 * (the worker finalizes it); a wrong result is proven INVALID, naming the dispute that caught it
 * and the slash.
 */
class OptimisticStatusTest {
  @TempDir Path tmp;

  @Test
  void honestResultIsPendingThenFinalAndAWrongOneIsInvalidNamingItsDispute() throws Exception {
    OptimisticNetwork.Params every = new OptimisticNetwork.Params(1_000_000, 1, 10, 5_000, 200, 1_000, 100);
    try (OptimisticNetwork net = new OptimisticNetwork(tmp, every, List.of(VerityNode.Conduct.HONEST),
        List.of("honest", "random"))) {
      VerityNode honest = net.addWorker("honest", VerityNode.Conduct.HONEST);
      VerityNode cheat = net.addWorker("random", VerityNode.Conduct.HONEST.withWorker(Cheats.RANDOM_OUTPUT.worker(net.models())));
      ExampleModel m = BuiltinModels.all().get(0);
      InferenceReceipt good;
      InferenceReceipt bad;
      try (VerityClient c = net.clientOf(honest)) {
        good = c.ledger().inferPaid(ModelRef.ofManifest(net.manifests.get(m).cid()), OptimisticNetwork.inputs(m, 0),
            VerificationMode.OPTIMISTIC).receipt();
      }
      try (VerityClient c = net.clientOf(cheat)) {
        InferenceResult r = c.ledger().inferPaid(ModelRef.ofManifest(net.manifests.get(m).cid()),
            OptimisticNetwork.inputs(m, 1), VerificationMode.OPTIMISTIC);
        bad = r.receipt();
      }
      net.awaitUntil("both jobs checked", () -> net.checked(good.job().get()) && net.checked(bad.job().get()));
      try (VerityClient c = net.clientOf(honest)) {
        List<String> passed = new ArrayList<>();
        LedgerClient.OptimisticStatus s = c.ledger().optimisticStatus(good, passed::add);
        assertEquals(LedgerClient.Outcome.PENDING, s.outcome());
        assertEquals(s.check().committedHeight() + net.params.challengeWindowBlocks(), s.windowEnd());
        assertTrue(s.check().attesters().contains(net.verifiers.get(0).address()));
        assertTrue(passed.stream().anyMatch(p -> p.contains("pending")), passed.toString());

        net.advancePast(s.windowEnd() + 1);
        net.awaitUntil("the worker finalized its job", () -> net.ledger().view().job(good.job().get()).orElseThrow()
            .status() == StateRecord.Job.Status.FINAL);
        assertEquals(LedgerClient.Outcome.FINAL, c.ledger().optimisticStatus(good, p -> {}).outcome());
      }
      try (VerityClient c = net.clientOf(cheat)) {
        LedgerClient.OptimisticStatus s = c.ledger().optimisticStatus(bad, p -> {});
        assertEquals(LedgerClient.Outcome.INVALID, s.outcome());
        StateRecord.Dispute d = s.decidedBy().orElseThrow();
        assertEquals(net.verifiers.get(0).address(), d.challenger());
        assertEquals(cheat.address(), d.worker());
        assertTrue(d.slashed() > 0, d.toString());
      }
      lyingNodeCannotHideOrForgeTheStanding(net, cheat, good, bad);
    }
  }

  /**
   * A node between the client and the ledger that rewrites the proofs: dropping the trace
   * commitment or passing another job's off is refused; dropping the disputes cannot hide that
   * the job is invalid (its status is proven by itself).
   */
  private static void lyingNodeCannotHideOrForgeTheStanding(OptimisticNetwork net, VerityNode node,
      InferenceReceipt good, InferenceReceipt bad) throws Exception {
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    String otherCheck = json.readTree(NodeHarness.get(node.uri(), "/v1/ledger/receipts/" + good.cid() + "/proof").body())
        .path("check_proof").asText();
    try (MaliciousProxy proxy = new MaliciousProxy(node.uri());
        VerityClient c = VerityClient.builder(proxy.uri()).signer(net.client)
            .sequencer(net.sequencer.publicKey()).build()) {
      for (String lie : List.of("drop-check", "other-check", "drop-disputes")) {
        proxy.response = (method, path, body) -> {
          if (!path.endsWith("/proof")) {
            return body;
          }
          com.fasterxml.jackson.databind.node.ObjectNode n = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(body);
          switch (lie) {
            case "drop-check" -> n.remove("check_proof");
            case "other-check" -> n.put("check_proof", otherCheck);
            default -> n.putArray("disputes");
          }
          return json.writeValueAsBytes(n);
        };
        if (lie.equals("drop-disputes")) {
          LedgerClient.OptimisticStatus s = c.ledger().optimisticStatus(bad, p -> {});
          assertEquals(LedgerClient.Outcome.INVALID, s.outcome(), "hiding the dispute does not hide the verdict");
          assertTrue(s.decidedBy().isEmpty());
        } else {
          dev.verity.core.VerificationException e = org.junit.jupiter.api.Assertions.assertThrows(
              dev.verity.core.VerificationException.class, () -> c.ledger().optimisticStatus(bad, p -> {}), lie);
          assertTrue(e.getMessage().contains("trace commitment") || e.getMessage().contains("proof"), e.getMessage());
        }
      }
    }
  }
}

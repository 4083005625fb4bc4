package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mode optimistic against real misbehaving nodes over HTTP: each cheating strategy is caught on
 * exactly the jobs the ledger samples (so at the sampling rate, within binomial error) and the
 * cheater is slashed every time; the honest worker never loses; a lazy verifier is caught by
 * planted jobs. Prints the measured table.
 */
class AdversarialSuiteTest {
  /** Jobs per strategy: bounded for CI; AdversarialBenchmark runs more. */
  static final int JOBS = Integer.getInteger("verity.adversarial.jobs", 30);

  @TempDir Path tmp;

  @Test
  void everyCheatIsCaughtWhenSampledAndSlashedWhileTheHonestWorkerNeverLoses() throws Exception {
    List<String> names = new ArrayList<>();
    for (Cheats c : Cheats.values()) {
      names.add(c.name().toLowerCase(java.util.Locale.ROOT));
    }
    names.add("perturbed_weights-stalls");
    List<AdversarialRun.Row> rows = new ArrayList<>();
    try (OptimisticNetwork net = AdversarialRun.network(tmp, false, names)) {
      for (Cheats c : Cheats.values()) {
        rows.add(AdversarialRun.cheatingWorker(net, c, false, JOBS));
      }
      rows.add(AdversarialRun.cheatingWorker(net, Cheats.PERTURBED_WEIGHTS, true, JOBS));
    }
    System.out.println(AdversarialRun.table(rows));
    for (AdversarialRun.Row r : rows) {
      assertEquals(0, r.honestLosses(), "an honestly answered job was found invalid: " + r.format());
      if (r.cheated() == 0) {
        assertEquals(0, r.detected(), r.format());
        assertEquals(0, r.slashed(), "the honest worker was slashed: " + r.format());
        continue;
      }
      assertEquals(r.sampled(), r.detected(), "a sampled cheat was not caught: " + r.format());
      assertTrue(Math.abs(r.rate() - r.predicted()) <= r.tolerance(), "rate outside the binomial interval: " + r.format());
      assertTrue(r.detected() == 0 || r.slashed() > 0, "caught but not slashed: " + r.format());
    }
  }

  @Test
  void aVerifierThatAlwaysAgreesIsCaughtByPlantedJobsAndSlashed() throws Exception {
    AdversarialRun.Row r;
    try (OptimisticNetwork net = AdversarialRun.network(tmp, true, List.of("auditor"))) {
      r = AdversarialRun.lazyVerifier(net, JOBS);
    }
    System.out.println(AdversarialRun.table(List.of(r)));
    assertEquals(r.sampled(), r.detected(), "a sampled planted job did not catch the lazy verifier: " + r.format());
    assertTrue(Math.abs(r.rate() - r.predicted()) <= r.tolerance(), r.format());
    assertTrue(r.detected() == 0 || r.slashed() > 0, "caught but not slashed: " + r.format());
  }

  @Test
  void anHonestWorkerWinsEveryDisputeAWrongChallengerStarts() throws Exception {
    OptimisticNetwork.Params always = new OptimisticNetwork.Params(1_000_000, 1, 10, 5_000, 400, 1_000, 100);
    AdversarialRun.Row r;
    try (OptimisticNetwork net = new OptimisticNetwork(tmp, always,
        List.of(VerityNode.Conduct.HONEST.withWorker(Cheats.PERTURBED_WEIGHTS.worker(OptimisticNetwork.builtinModels()))),
        List.of("honest"))) {
      r = AdversarialRun.griefingChallenger(net, 8);
    }
    System.out.println(AdversarialRun.table(List.of(r)));
    assertEquals(8, r.sampled(), "every job was challenged: " + r.format());
    assertEquals(r.sampled(), r.detected(), "the honest worker lost a dispute: " + r.format());
    assertEquals(0, r.honestLosses(), r.format());
  }
}

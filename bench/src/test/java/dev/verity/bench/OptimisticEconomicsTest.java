package dev.verity.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The economics simulation agrees with the rule's closed forms and reaches its conclusions. */
class OptimisticEconomicsTest {
  private final OptimisticEconomics.Params q = OptimisticEconomics.Params.defaults();

  @Test
  void simulatedProfitsMatchTheClosedForms() {
    String section = OptimisticEconomics.run(
        new OptimisticEconomics.Settings(50_000, 3, Optional.empty(), "smoke test"),
        new PrintStream(OutputStream.nullOutputStream()));
    assertTrue(section.contains("with `smoke test`"), section);
    for (String line : section.split("\n")) {
      if (!line.startsWith("| ") || line.startsWith("| strategy")) {
        continue;
      }
      String[] cells = line.split("\\|");
      double z = Double.parseDouble(cells[6].trim());
      assertTrue(Math.abs(z) < 5, "simulation far from the prediction: " + line);
    }
  }

  @Test
  void cheatingDoesNotPayUnderTheRuleAndPaysWhereItsConditionsAreBroken() {
    OptimisticEconomics.JobMix uniform = new OptimisticEconomics.JobMix(0, 1, false);
    double honest = OptimisticEconomics.predictWorker(q, uniform, 0, 0, 1);
    assertTrue(OptimisticEconomics.predictWorker(q, uniform, 1, 1, 1) < honest);
    assertTrue(OptimisticEconomics.predictWorker(q, uniform, 0.2, 0.2, 1) < honest);
    OptimisticEconomics.JobMix mixed = new OptimisticEconomics.JobMix(0.1, 10, false);
    assertTrue(OptimisticEconomics.predictWorker(q, mixed, 0, 1, 1)
        > OptimisticEconomics.predictWorker(q, mixed, 0, 0, 1), "a saving above p slash S pays");
    OptimisticEconomics.JobMix raised = new OptimisticEconomics.JobMix(0.1, 10, true);
    assertTrue(OptimisticEconomics.predictWorker(q, raised, 0, 1, 1)
        < OptimisticEconomics.predictWorker(q, raised, 0, 0, 1), "a raised rate restores the rule");
    int cap = (int) Math.round(1 / (q.p() * q.slash()));
    long safe = cap + q.window() + q.dispute() + 7;
    assertTrue(OptimisticEconomics.predictBurst(q, cap, safe) < 0);
    assertTrue(OptimisticEconomics.predictBurst(q, 10 * cap, 10 * cap + safe) > 0);
  }

  @Test
  void aBurstWhoseRulingsLandBeforeReleaseIsSlashedForEverySampledJob() {
    // With p = 1 every job is sampled: 3 jobs, all rulings in time, stake halved three times.
    OptimisticEconomics.Params all = new OptimisticEconomics.Params(1, 2, 10, 0.5, 1000, 1000, 10,
        6, 50, 100, 60);
    double[] r = OptimisticEconomics.simulateBurst(all, 3, 1000, 100, new SplittableRandom(1));
    assertEquals(3 * 6 - 1000 * (1 - 0.125), r[0], 1e-9);
    assertEquals(3 * 6 - 1000 * (1 - 0.125), OptimisticEconomics.predictBurst(all, 3, 1000), 1e-9);
    double[] late = OptimisticEconomics.simulateBurst(all, 3, 10, 100, new SplittableRandom(1));
    assertEquals(18, late[0], 1e-9, "rulings after the release slash nothing");
  }

  @Test
  void colludersEscapeOnlyWhenEveryDrawnVerifierColludes() {
    assertEquals(1 - 0.3 * 2 / 9.0, OptimisticEconomics.detectWithColluders(10, 3, 2), 1e-12);
    assertEquals(1, OptimisticEconomics.detectWithColluders(10, 0, 2), 1e-12);
    assertEquals(0, OptimisticEconomics.detectWithColluders(10, 10, 2), 1e-12);
    SplittableRandom r = new SplittableRandom(5);
    int honestDrawn = 0;
    for (int i = 0; i < 20_000; i++) {
      if (OptimisticEconomics.drawIncludesHonest(10, 3, 2, r)) {
        honestDrawn++;
      }
    }
    assertEquals(OptimisticEconomics.detectWithColluders(10, 3, 2), honestDrawn / 20_000.0, 0.01);
  }
}

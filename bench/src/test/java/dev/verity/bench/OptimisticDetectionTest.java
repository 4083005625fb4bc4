package dev.verity.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Hash;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Runs the detection harness on few jobs so that it cannot rot unnoticed: every sampled effective
 * cheat is convicted, the honest worker never is. It never checks how fast anything was.
 */
class OptimisticDetectionTest {
  @Test
  void everySampledCheatIsConvictedAndTheHonestWorkerNever() throws Exception {
    String section = OptimisticDetection.run(new OptimisticDetection.Settings(40, 500_000, 5,
        true, Optional.empty(), "smoke test"), new PrintStream(OutputStream.nullOutputStream()));
    assertTrue(section.contains("with `smoke test`"), section);
    Matcher m = Pattern.compile("\\| (\\d+) / (\\d+) \\|").matcher(section);
    int rows = 0;
    int convicted = 0;
    while (m.find()) {
      assertEquals(m.group(2), m.group(1), "a sampled effective cheat went unconvicted:\n" + section);
      convicted += Integer.parseInt(m.group(1));
      rows++;
    }
    assertEquals(2 * 8, rows, section);
    assertTrue(convicted > 0, section);
    assertTrue(section.contains("Honest worker: 0 of"), section);
    assertTrue(section.contains("| breast-cancer | none (honest worker) |"), section);
    assertTrue(section.contains("### Extra network compute"), section);
  }

  @Test
  void samplingFollowsTheRate() {
    int hits = 0;
    for (int i = 0; i < 20_000; i++) {
      Hash job = Hash.tagged("test/job", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
      if (OptimisticDetection.sampled(Hash.tagged("test/seed", job.toBytes()), job, 50_000)) {
        hits++;
      }
    }
    assertEquals(0.05, hits / 20_000.0, 0.006);
  }
}

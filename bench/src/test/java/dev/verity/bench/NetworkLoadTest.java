package dev.verity.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Runs the network harness for a few milliseconds per step so that it cannot rot unnoticed. It checks
 * what was measured and written, never how fast anything was.
 */
class NetworkLoadTest {
  @Test
  void measuresEverySetUpAndTheHopAndWritesItsSection() throws Exception {
    NetworkLoad.Settings tiny = new NetworkLoad.Settings(50, 100, 100, 1, 50, 2, Optional.empty(), "smoke test");
    String section = NetworkLoad.run(tiny, new PrintStream(OutputStream.nullOutputStream()));
    for (String model : new String[] {"small", "large"}) {
      for (int n = 1; n <= 2; n++) {
        assertTrue(section.contains("| " + model + " | " + n + " | "), model + " with " + n + " workers missing:\n" + section);
      }
    }
    assertTrue(section.contains("### Gateway hop"));
    assertTrue(section.contains("### Baseline: an ideal server"));
    assertTrue(section.contains("| ideal p99 / p50 |"));
    assertTrue(section.contains("with `smoke test`"));
  }
}

package dev.verity.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the harness for a few milliseconds per path so that it cannot rot unnoticed. It checks what
 * was measured and written, never how fast anything was.
 */
class InferenceOverheadTest {
  @Test
  void measuresEveryPathOfBothModelsAndWritesItsSection(@TempDir Path dir) throws Exception {
    Path doc = dir.resolve("BENCHMARKS.md");
    Files.writeString(doc, BenchmarkDoc.withSection("", "other", "## Another benchmark") + "\nNote by hand.\n");
    InferenceOverhead.Settings tiny = new InferenceOverhead.Settings(1, 40, 80, 10, 40, Optional.of(doc), "smoke test");

    String section = InferenceOverhead.run(tiny, new PrintStream(OutputStream.nullOutputStream()));
    BenchmarkDoc.writeSection(doc, InferenceOverhead.SECTION, section);

    for (String model : List.of("small", "large")) {
      for (String path : List.of(InferenceOverhead.DIRECT, InferenceOverhead.IN_PROCESS, InferenceOverhead.HTTP)) {
        assertTrue(section.contains("| " + model + " | " + path + " |"), model + " " + path + " missing:\n" + section);
      }
    }
    assertTrue(section.contains("| wide output | " + InferenceOverhead.HTTP + " |"));
    assertTrue(section.contains(OverheadBreakdown.RAW_POST) && section.contains("Ed25519 verify of the receipt signature"));
    assertTrue(section.contains("### Two concurrent clients, large model"));
    assertTrue(section.contains("with `smoke test`"));
    assertTrue(section.contains("2,109,450"), "the large model's parameter count is stated");
    String text = Files.readString(doc);
    assertTrue(text.contains("## Another benchmark") && text.contains("Note by hand."));
    assertEquals(1, text.split(java.util.regex.Pattern.quote(BenchmarkDoc.begin(InferenceOverhead.SECTION)), -1).length - 1);
  }

  @Test
  void theLargeModelHasTheStatedShapeAndOverAMillionParameters() {
    assertEquals(1024L * 1024 + 1024 + 1024L * 1024 + 1024 + 1024L * 10 + 10, InferenceOverhead.LARGE.parameterCount());
    assertEquals(InferenceOverhead.LARGE.parameterCount(), InferenceOverhead.LARGE.build().parameterCount());
    assertTrue(InferenceOverhead.LARGE.parameterCount() >= 1_000_000);
  }
}

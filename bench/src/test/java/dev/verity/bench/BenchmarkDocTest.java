package dev.verity.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchmarkDocTest {
  @Test
  void startsANewDocumentWithTheHeaderAndTheSection() {
    String doc = BenchmarkDoc.withSection("", "alpha", "## Alpha\nnumbers");
    assertTrue(doc.startsWith("# Verity benchmarks"));
    assertTrue(doc.contains(BenchmarkDoc.begin("alpha") + "\n## Alpha\nnumbers\n" + BenchmarkDoc.end("alpha")));
  }

  @Test
  void replacesOnlyItsOwnSectionAndKeepsEverythingElse() {
    String doc = BenchmarkDoc.withSection(BenchmarkDoc.withSection("", "alpha", "old alpha"), "beta", "beta numbers")
        + "\nA note written by hand.\n";
    String updated = BenchmarkDoc.withSection(doc, "alpha", "new alpha");
    assertTrue(updated.contains("new alpha"));
    assertTrue(!updated.contains("old alpha"));
    assertTrue(updated.contains("beta numbers"));
    assertTrue(updated.contains("A note written by hand."));
    assertEquals(updated, BenchmarkDoc.withSection(updated, "alpha", "new alpha"), "writing the same section twice changes nothing");
    assertTrue(updated.indexOf("new alpha") < updated.indexOf("beta numbers"), "a replaced section keeps its place");
  }

  @Test
  void refusesADocumentWithABrokenOrRepeatedSection() {
    String broken = "# Doc\n" + BenchmarkDoc.begin("alpha") + "\nhalf a section\n";
    assertThrows(IllegalArgumentException.class, () -> BenchmarkDoc.withSection(broken, "alpha", "x"));
    String once = BenchmarkDoc.withSection("", "alpha", "x");
    String twice = once + "\n" + BenchmarkDoc.begin("alpha") + "\ny\n" + BenchmarkDoc.end("alpha") + "\n";
    assertThrows(IllegalArgumentException.class, () -> BenchmarkDoc.withSection(twice, "alpha", "z"));
    assertThrows(IllegalArgumentException.class, () -> BenchmarkDoc.withSection("", "Not A Name", "z"));
  }

  @Test
  void writesTheFileCreatingItWhenAbsent(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("docs").resolve("BENCHMARKS.md");
    BenchmarkDoc.writeSection(file, "alpha", "first");
    BenchmarkDoc.writeSection(file, "alpha", "second");
    String text = Files.readString(file);
    assertTrue(text.contains("second") && !text.contains("first"));
  }
}

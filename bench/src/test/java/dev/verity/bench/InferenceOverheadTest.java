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
  void measuresEveryPathOfEveryModelAndWritesItsSection(@TempDir Path dir) throws Exception {
    Path doc = dir.resolve("BENCHMARKS.md");
    Files.writeString(doc, BenchmarkDoc.withSection("", "other", "## Another benchmark") + "\nNote by hand.\n");
    Path models = ThirdPartyModel.directory();
    InferenceOverhead.Settings tiny = new InferenceOverhead.Settings(1, 40, 80, 10, 40, Optional.of(doc), "smoke test", models);

    String section = InferenceOverhead.run(tiny, new PrintStream(OutputStream.nullOutputStream()));
    BenchmarkDoc.writeSection(doc, InferenceOverhead.SECTION, section);

    for (String model : List.of("small", "large", "cnn")) {
      for (String path : List.of(InferenceOverhead.DIRECT, InferenceOverhead.IN_PROCESS, InferenceOverhead.HTTP)) {
        assertTrue(section.contains("| " + model + " | " + path + " |"), model + " " + path + " missing:\n" + section);
      }
    }
    assertTrue(section.contains("| wide output | " + InferenceOverhead.HTTP + " |"));
    assertTrue(section.contains(OverheadBreakdown.RAW_POST) && section.contains("Ed25519 verify of the receipt signature"));
    assertTrue(section.contains("### Two concurrent clients, large model"));
    assertTrue(section.contains("### Two concurrent clients, cnn model") && section.contains("### Where the time goes, cnn model"));
    assertTrue(section.contains("with `smoke test`"));
    assertTrue(section.contains("2,109,450"), "the large model's parameter count is stated");
    if (Files.isRegularFile(models.resolve(ThirdPartyModel.FILE)) && Files.isRegularFile(models.resolve(ThirdPartyModel.DETECTOR_FILE))) {
      for (String model : List.of("PP-OCRv4 rec", "PP-OCRv4 det")) {
        for (String path : List.of(InferenceOverhead.DIRECT, InferenceOverhead.IN_PROCESS, InferenceOverhead.HTTP)) {
          assertTrue(section.contains("| " + model + " | " + path + " |"), model + " " + path + " missing:\n" + section);
        }
        assertTrue(section.contains("### Two concurrent clients, " + model + " model"));
        assertTrue(section.contains("### Where the time goes, " + model + " model"));
      }
    } else {
      assertTrue(section.contains("Real-model subject not measured:"), "a skipped real model is reported:\n" + section);
    }
    String text = Files.readString(doc);
    assertTrue(text.contains("## Another benchmark") && text.contains("Note by hand."));
    assertEquals(1, text.split(java.util.regex.Pattern.quote(BenchmarkDoc.begin(InferenceOverhead.SECTION)), -1).length - 1);
  }

  @Test
  void flagsABaselineDisturbedByOtherWork() {
    Latencies.Summary steady = new Latencies.Summary(100, 1000, 1200, 2000, 900);
    Latencies.Summary spread = new Latencies.Summary(100, 1000, 3000, 9000, 500);
    Latencies.Summary http = new Latencies.Summary(100, 1500, 1700, 3000, 600);
    Latencies.Summary tooFast = new Latencies.Summary(100, 900, 1000, 2000, 1000);
    assertTrue(InferenceOverhead.Report.disturbance(steady, http).isEmpty());
    assertTrue(InferenceOverhead.Report.disturbance(spread, http).orElseThrow().contains("3.0 × its p50"));
    assertTrue(InferenceOverhead.Report.disturbance(steady, tooFast).isPresent());
  }

  @Test
  void reportsARealModelThatIsAbsentAsNotMeasured(@TempDir Path empty) throws Exception {
    assertTrue(ThirdPartyModel.recognizer(empty).isEmpty());
    assertTrue(ThirdPartyModel.detector(empty).isEmpty());
    assertTrue(ThirdPartyModel.missing(empty).contains("scripts/fetch-test-models.sh"));
    assertTrue(ThirdPartyModel.missing(empty).contains(ThirdPartyModel.DETECTOR_FILE));
  }

  @Test
  void countsWeightsHeldInConstantNodesAsParameters() {
    dev.verity.onnx.OnnxModel m = dev.verity.onnx.OnnxModel.builder()
        .producer("test", "1")
        .input("x", dev.verity.onnx.ElementType.FLOAT, dev.verity.onnx.Dim.of(1), dev.verity.onnx.Dim.of(3))
        .output("y", dev.verity.onnx.ElementType.FLOAT, dev.verity.onnx.Dim.of(1), dev.verity.onnx.Dim.of(2))
        .initializer("b", new long[] {2}, new float[] {0, 0})
        .node(new dev.verity.onnx.OnnxNode("w", "Constant", "", List.of(), List.of("w"), List.of(
            dev.verity.onnx.OnnxAttribute.ofTensor("value",
                dev.verity.onnx.OnnxTensorData.ofFloats("", new long[] {3, 2}, new float[6])))))
        .node(new dev.verity.onnx.OnnxNode("shape", "Constant", "", List.of(), List.of("s"), List.of(
            dev.verity.onnx.OnnxAttribute.ofTensor("value",
                dev.verity.onnx.OnnxTensorData.ofLongs("", new long[] {2}, new long[] {1, 2})))))
        .node("Gemm", List.of("x", "w", "b"), List.of("y"))
        .build();
    assertEquals(2, m.parameterCount(), "initializers only");
    assertEquals(2 + 6, ThirdPartyModel.parameters(m), "plus floating-point constants, not the integer shape");
  }

  @Test
  void theLargeModelHasTheStatedShapeAndOverAMillionParameters() {
    assertEquals(1024L * 1024 + 1024 + 1024L * 1024 + 1024 + 1024L * 10 + 10, InferenceOverhead.LARGE.parameterCount());
    assertEquals(InferenceOverhead.LARGE.parameterCount(), InferenceOverhead.LARGE.build().parameterCount());
    assertTrue(InferenceOverhead.LARGE.parameterCount() >= 1_000_000);
  }

  @Test
  void theImageClassifierHasTheLayersOfResNet50() {
    dev.verity.onnx.OnnxModel m = InferenceOverhead.CNN.build();
    // Counted here layer by layer: stem, then per bottleneck block 1x1, 3x3 and 1x1 convolutions with biases,
    // a projection on each stage's first block, and the 2048 -> 1000 classifier.
    long expected = 3L * 64 * 7 * 7 + 64;
    long channels = 64;
    int convolutions = 1;
    int[][] stages = {{64, 3}, {128, 4}, {256, 6}, {512, 3}};
    for (int[] stage : stages) {
      long width = stage[0];
      long out = 4 * width;
      for (int block = 0; block < stage[1]; block++) {
        expected += channels * width + width + width * width * 9 + width + width * out + out;
        convolutions += 3;
        if (block == 0) {
          expected += channels * out + out;
          convolutions++;
        }
        channels = out;
      }
    }
    expected += 2048L * 1000 + 1000;
    assertEquals(expected, m.parameterCount());
    assertEquals(53, convolutions);
    assertEquals(convolutions, m.graph().nodes().stream().filter(n -> n.opType().equals("Conv")).count());
    assertEquals(16, m.graph().nodes().stream().filter(n -> n.opType().equals("Add")).count(), "one residual sum per block");
    assertEquals(java.util.Set.of("Conv", "Relu", "MaxPool", "Add", "GlobalAveragePool", "Flatten", "Gemm"), m.opTypes());
    assertTrue(java.util.Arrays.equals(dev.verity.onnx.OnnxWriter.write(m), dev.verity.onnx.OnnxWriter.write(InferenceOverhead.CNN.build())),
        "the same seed gives the same bytes");
  }
}

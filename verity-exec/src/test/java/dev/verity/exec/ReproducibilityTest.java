package dev.verity.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.verity.models.ExampleModel;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxWriter;
import dev.verity.protocol.tensor.NamedTensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same model and inputs give the same output bytes and trace root, however they are run. */
class ReproducibilityTest {

  record Workload(String name, OnnxModel model, NamedTensors inputs) {}

  static List<Workload> workloads() {
    List<Workload> w = new ArrayList<>();
    for (ExampleModel m : Fixtures.builtins()) {
      w.add(new Workload(m.name(), Fixtures.onnx(m), Fixtures.samplesBatch(m)));
    }
    w.add(new Workload("mlp", Fixtures.mlp(300, 200, 10, 5), Fixtures.randomRows(5, 300, 6)));
    w.add(new Workload("conv net", Fixtures.convNet(7), Fixtures.images(3, 8)));
    return w;
  }

  private static Execution run(Workload w, int threads) {
    try (CanonicalExecutor ex = CanonicalExecutor.create(w.model(), threads)) {
      return ex.runTraced(w.inputs());
    }
  }

  @Test
  void repeatedRunsGiveIdenticalOutputsAndTraceRoots() {
    for (Workload w : workloads()) {
      Execution a = run(w, 1);
      Execution b = run(w, 1);
      assertArrayEquals(a.outputs().canonicalBytes(), b.outputs().canonicalBytes(), w.name());
      assertEquals(a.trace().root(), b.trace().root(), w.name());
      assertEquals(w.model().graph().nodes().size(), a.trace().size(), w.name());
    }
  }

  @Test
  void threadCountDoesNotChangeOutputsOrTraceRoot() {
    for (Workload w : workloads()) {
      Execution one = run(w, 1);
      for (int threads : new int[] {2, 4}) {
        Execution many = run(w, threads);
        assertArrayEquals(one.outputs().canonicalBytes(), many.outputs().canonicalBytes(),
            w.name() + " on " + threads + " threads");
        assertEquals(one.trace().root(), many.trace().root(),
            w.name() + " on " + threads + " threads");
      }
    }
  }

  @Test
  void anInterpretedJvmComputesTheSameTraceRoot(@TempDir Path dir)
      throws IOException, InterruptedException {
    for (Workload w : workloads()) {
      Path d = Files.createDirectories(dir.resolve(w.name().replace(' ', '-')));
      Files.write(d.resolve("model.onnx"), OnnxWriter.write(w.model()));
      Files.write(d.resolve("inputs.cbor"), w.inputs().canonicalBytes());
      Execution here = run(w, 1);
      String expected = here.trace().root().toHex() + " " + here.outputs().cid();
      assertEquals(expected, forked(d, "-Xint", 1), w.name() + " in an interpreted JVM");
      assertEquals(expected, forked(d, "-XX:TieredStopAtLevel=1", 3),
          w.name() + " in a C1-only JVM on 3 threads");
    }
  }

  private static String forked(Path dir, String jvmFlag, int threads)
      throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp = System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"));
    Process p = new ProcessBuilder(java, jvmFlag, "-Xmx256m", "-cp", cp,
        TraceRootMain.class.getName(), dir.toString(), Integer.toString(threads))
        .redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("the forked JVM did not finish");
    }
    String text = new String(out, StandardCharsets.UTF_8).strip();
    assertEquals(0, p.exitValue(), "forked JVM failed: " + text);
    String[] lines = text.split("\n");
    return lines[lines.length - 1].strip();
  }
}

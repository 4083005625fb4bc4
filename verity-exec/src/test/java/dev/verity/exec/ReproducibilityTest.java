package dev.verity.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.Map;
import java.util.TreeMap;
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

  /**
   * One JVM configuration of the no-false-positive matrix: flags and the executor's thread count.
   * {@code optional} marks flags a JVM may refuse (x86-only options): those are probed first and
   * the configuration skipped where the JVM does not start with them.
   */
  record JvmConfig(String name, List<String> flags, int threads, boolean optional) {}

  static List<JvmConfig> matrix() {
    List<JvmConfig> m = new ArrayList<>();
    m.add(new JvmConfig("default, 1 thread", List.of("-Xmx1g"), 1, false));
    m.add(new JvmConfig("default, 4 threads", List.of("-Xmx1g"), 4, false));
    m.add(new JvmConfig("64 MiB heap, 2 threads", List.of("-Xmx64m"), 2, false));
    m.add(new JvmConfig("interpreter only (-Xint)", List.of("-Xint", "-Xmx256m"), 1, false));
    m.add(new JvmConfig("C1 only", List.of("-XX:TieredStopAtLevel=1", "-Xmx256m"), 3, false));
    m.add(new JvmConfig("C2 only, no auto-vectorization",
        List.of("-XX:-TieredCompilation", "-XX:-UseSuperWord", "-Xmx256m"), 2, false));
    m.add(new JvmConfig("no FMA instructions", List.of("-XX:-UseFMA", "-Xmx256m"), 2, true));
    for (int avx = 0; avx <= 3; avx++) {
      m.add(new JvmConfig("UseAVX=" + avx, List.of("-XX:UseAVX=" + avx, "-Xmx256m"), 2, true));
    }
    m.add(new JvmConfig("serial GC, 1 thread", List.of("-XX:+UseSerialGC", "-Xmx128m"), 1,
        false));
    return m;
  }

  /**
   * The no-false-positive matrix: the same jobs on the built-in and larger models give the same
   * trace root and outputs in every JVM configuration, so an honest worker is never disputed
   * successfully whatever its JVM, heap, JIT, CPU feature level or thread count. The executor
   * uses no Vector API; C2's auto-vectorization (SuperWord) is covered on and off.
   */
  @Test
  void everyJvmConfigurationComputesTheSameTraceRoots(@TempDir Path dir)
      throws IOException, InterruptedException {
    List<String> dirs = new ArrayList<>();
    Map<String, String> expected = new TreeMap<>();
    for (Workload w : workloads()) {
      String name = w.name().replace(' ', '-');
      Path d = Files.createDirectories(dir.resolve(name));
      Files.write(d.resolve("model.onnx"), OnnxWriter.write(w.model()));
      Files.write(d.resolve("inputs.cbor"), w.inputs().canonicalBytes());
      Execution here = run(w, 1);
      expected.put(name, here.trace().root().toHex() + " " + here.outputs().cid());
      dirs.add(d.toString());
    }
    int ran = 0;
    for (JvmConfig c : matrix()) {
      if (c.optional() && !jvmAccepts(c.flags())) {
        continue;
      }
      Map<String, String> got = forked(c.flags(), c.threads(), dirs);
      assertEquals(expected, got, "trace roots and outputs in a JVM with " + c.name());
      ran++;
    }
    assertTrue(ran >= 6, "the mandatory configurations ran");
  }

  private static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static boolean jvmAccepts(List<String> flags) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBinary());
    cmd.addAll(flags);
    cmd.add("-version");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor() == 0;
  }

  private static Map<String, String> forked(List<String> flags, int threads, List<String> dirs)
      throws IOException, InterruptedException {
    String cp = System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"));
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBinary());
    cmd.addAll(flags);
    cmd.addAll(List.of("-cp", cp,
        TraceRootMain.class.getName(), Integer.toString(threads)));
    cmd.addAll(dirs);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("the forked JVM did not finish");
    }
    String text = new String(out, StandardCharsets.UTF_8).strip();
    assertEquals(0, p.exitValue(), "forked JVM " + flags + " failed: " + text);
    Map<String, String> got = new TreeMap<>();
    for (String line : text.split("\n")) {
      String[] f = line.strip().split(" ");
      if (f.length == 3) {
        got.put(f[0], f[1] + " " + f[2]);
      }
    }
    return got;
  }
}

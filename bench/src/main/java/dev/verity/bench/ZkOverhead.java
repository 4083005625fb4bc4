package dev.verity.bench;

import dev.verity.core.Cid;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.onnx.ActivationRanges;
import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxAttribute;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxReader;
import dev.verity.onnx.OnnxWriter;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.runtime.LoadedModel;
import dev.verity.runtime.ModelSource;
import dev.verity.runtime.OnnxRuntimeEngine;
import dev.verity.runtime.SessionConfig;
import dev.verity.zk.Blinding;
import dev.verity.zk.CompiledModel;
import dev.verity.zk.ModelProver;
import dev.verity.zk.OnnxCompiler;
import dev.verity.zk.ZkInference;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * What a zero-knowledge proof of inference costs against running the model: for a 784-56-10 MLP,
 * a LeNet-5-sized CNN (both with random float weights, calibrated on random inputs) and the two
 * built-in models, all imported from ONNX files by {@link OnnxCompiler}, in one run:
 *
 * <ul>
 *   <li>plain inference: ONNX Runtime on the float model (the node's session settings), and the
 *       compiled integer network ({@link CompiledModel#run}, input encoding included);
 *   <li>one-time setup: compilation and the proving key (the weight commitment), which a verifier
 *       also pays once per model to derive the verifying key;
 *   <li>proving ({@link ModelProver#prove}, fresh input and blinding each time), verification of
 *       the proof ({@link ZkInference#verify}), proof size, and the heap in use while proving;
 *   <li>for the built-in models, accuracy on their held-out data: float (ONNX Runtime) against the
 *       integer network.
 * </ul>
 *
 * Results go to standard output and, with {@code --doc FILE}, into that file's {@value #SECTION}
 * section. A plain harness: proofs take tenths of seconds to seconds, so each is timed alone; the
 * first proof in the JVM is reported apart (JIT warm-up).
 */
public final class ZkOverhead {
  static final String SECTION = "zk-proofs";

  private ZkOverhead() {}

  /**
   * @param proofs proofs per model after the first
   * @param inferMillis time per plain-inference measurement
   * @param builtinOnly measure only the built-in models (for a quick check)
   */
  record Settings(int proofs, long inferMillis, boolean builtinOnly, Optional<java.nio.file.Path> doc, String command) {
    static Settings parse(String[] args) {
      Settings s = new Settings(7, 1000, false, Optional.empty(), "java -cp ... dev.verity.bench.ZkOverhead");
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--builtin-only")) {
          s = new Settings(s.proofs, s.inferMillis, true, s.doc, s.command);
          continue;
        }
        if (a.equals("--help") || i + 1 >= args.length) {
          throw new IllegalArgumentException("""
              usage: ZkOverhead [--doc FILE] [--command TEXT] [--proofs N] [--infer-ms MS] [--builtin-only]
                --doc FILE    write the results into FILE's zk-proofs section (else print only)
                --proofs N    proofs per model after the first (default 7)""");
        }
        String v = args[++i];
        s = switch (a) {
          case "--proofs" -> new Settings(Integer.parseInt(v), s.inferMillis, s.builtinOnly, s.doc, s.command);
          case "--infer-ms" -> new Settings(s.proofs, Long.parseLong(v), s.builtinOnly, s.doc, s.command);
          case "--doc" -> new Settings(s.proofs, s.inferMillis, s.builtinOnly, Optional.of(java.nio.file.Path.of(v)), s.command);
          case "--command" -> new Settings(s.proofs, s.inferMillis, s.builtinOnly, s.doc, v);
          default -> throw new IllegalArgumentException("unknown option " + a);
        };
      }
      if (s.proofs < 1 || s.inferMillis < 1) {
        throw new IllegalArgumentException("--proofs and --infer-ms must be positive");
      }
      return s;
    }
  }

  /** A model under test: its ONNX file (with calibration ranges) and inputs to prove. */
  record Subject(String label, String description, byte[] onnx, List<NamedTensors> inputs) {}

  /** Accuracy on held-out data: float model against integer network. */
  record Accuracy(int examples, int floatCorrect, int quantizedCorrect) {}

  record Result(Subject subject, CompiledModel compiled, long parameters, long macs, double compileMs, double keyMs,
      double ortMicros, double quantizedMicros, double firstProveMs, double[] proveMs, double[] verifyMs, int proofBytes,
      int evidenceBytes, long peakHeap, long baseHeap, Optional<Accuracy> accuracy) {
    double proveMedian() {
      return median(proveMs);
    }

    double verifyMedian() {
      return median(verifyMs);
    }
  }

  public static void main(String[] args) throws Exception {
    Settings s;
    try {
      s = Settings.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    String section = run(s, System.out);
    System.out.println();
    System.out.println(section);
    if (s.doc().isPresent()) {
      BenchmarkDoc.writeSection(s.doc().get(), SECTION, section);
      System.out.println("wrote section '" + SECTION + "' of " + s.doc().get());
    }
  }

  static String run(Settings s, PrintStream log) throws Exception {
    Instant started = Instant.now();
    String loadAtStart = BenchmarkDoc.loadAverage();
    List<Subject> subjects = new ArrayList<>();
    if (!s.builtinOnly()) {
      subjects.add(mlp());
      subjects.add(lenet());
    }
    for (ExampleModel m : BuiltinModels.all()) {
      subjects.add(builtin(m));
    }
    List<Result> results = new ArrayList<>();
    SessionConfig config = SessionConfig.builder().build();
    String engineVersion;
    try (OnnxRuntimeEngine engine = OnnxRuntimeEngine.create()) {
      engineVersion = engine.version();
      for (Subject subject : subjects) {
        log.println("zk proofs: " + subject.label());
        Result r = measure(s, subject, engine, config);
        log.printf(Locale.ROOT, "  ORT %.1f us, integer %.1f us, key %.0f ms, prove first %.0f ms / median %.0f ms,"
                + " verify %.1f ms, proof %d bytes, peak heap %.0f MiB%n", r.ortMicros(), r.quantizedMicros(), r.keyMs(),
            r.firstProveMs(), r.proveMedian(), r.verifyMedian(), r.proofBytes(), r.peakHeap() / 1048576.0);
        results.add(r);
      }
    }
    return markdown(s, started, engineVersion, loadAtStart, BenchmarkDoc.loadAverage(), results);
  }

  private static Result measure(Settings s, Subject subject, OnnxRuntimeEngine engine, SessionConfig config)
      throws Exception {
    Cid cid = Cid.raw(subject.onnx());
    long t0 = System.nanoTime();
    CompiledModel compiled = OnnxCompiler.compile(cid, subject.onnx());
    double compileMs = (System.nanoTime() - t0) / 1e6;
    t0 = System.nanoTime();
    ModelProver prover = ModelProver.of(compiled);
    double keyMs = (System.nanoTime() - t0) / 1e6;

    NamedTensors first = subject.inputs().get(0);
    double ortMicros;
    try (LoadedModel ort = engine.load(ModelSource.bytes(subject.onnx()), config)) {
      Timing.medianMicros(() -> ort.run(first), s.inferMillis() / 2); // warm-up
      ortMicros = Timing.medianMicros(() -> ort.run(first), s.inferMillis());
    }
    Timing.medianMicros(() -> compiled.run(compiled.encodeInput(first)), s.inferMillis() / 2);
    double quantizedMicros = Timing.medianMicros(() -> compiled.run(compiled.encodeInput(first)), s.inferMillis());

    double[] prove = new double[s.proofs()];
    double[] verify = new double[s.proofs()];
    double firstProve = 0;
    int proofBytes = 0;
    int evidenceBytes = 0;
    for (int i = 0; i <= s.proofs(); i++) {
      NamedTensors x = subject.inputs().get(i % subject.inputs().size());
      long a = System.nanoTime();
      ModelProver.Proved p = prover.prove(x, Blinding.random());
      double ms = (System.nanoTime() - a) / 1e6;
      long b = System.nanoTime();
      ZkInference.verify(p.evidence().statement(prover.verifyingKey()), p.evidence().proof());
      double vms = (System.nanoTime() - b) / 1e6;
      if (i == 0) {
        firstProve = ms;
      } else {
        prove[i - 1] = ms;
        verify[i - 1] = vms;
      }
      proofBytes = p.evidence().proof().size();
      evidenceBytes = dev.verity.core.cbor.Cbor.encode(p.evidence().toCbor()).length;
      Timing.sink = p;
    }
    // heap: after a collection, the peak in use during one more proof
    System.gc();
    long base = heapInUse();
    resetPeaks();
    Timing.sink = prover.prove(first, Blinding.random());
    long peak = peakHeap();

    Optional<Accuracy> accuracy = Optional.empty();
    ExampleModel builtin = BuiltinModels.all().stream().filter(m -> subject.label().contains(m.name())).findFirst().orElse(null);
    if (builtin != null) {
      accuracy = Optional.of(accuracy(builtin, compiled, engine, config));
    }
    long parameters = OnnxReader.read(subject.onnx()).parameterCount();
    return new Result(subject, compiled, parameters, compiled.quantized().multiplyAccumulates(), compileMs, keyMs, ortMicros,
        quantizedMicros, firstProve, prove, verify, proofBytes, evidenceBytes, peak, base, accuracy);
  }

  private static Accuracy accuracy(ExampleModel m, CompiledModel compiled, OnnxRuntimeEngine engine, SessionConfig config) {
    List<ExampleModel.Sample> heldOut = BuiltinModels.heldOut(m.name());
    int f = 0;
    int q = 0;
    try (LoadedModel ort = engine.load(ModelSource.bytes(m.onnx()), config)) {
      for (ExampleModel.Sample s : heldOut) {
        NamedTensors in = NamedTensors.of(m.inputName(), Tensor.ofFloats(s.shape(), s.values()));
        f += argmax(ort.run(in).get(m.outputName()).toFloats()) == s.label() ? 1 : 0;
        q += argmax(compiled.decodeOutput(compiled.run(compiled.encodeInput(s.values())))) == s.label() ? 1 : 0;
      }
    }
    return new Accuracy(heldOut.size(), f, q);
  }

  // ---- subjects ---------------------------------------------------------------------------

  private static float[] uniform(SplittableRandom rnd, int n, double bound) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
    }
    return v;
  }

  /** Pixel-like inputs in [0, 1). */
  private static List<float[]> pixels(long seed, int count, int n) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<float[]> out = new ArrayList<>();
    for (int c = 0; c < count; c++) {
      float[] x = new float[n];
      for (int i = 0; i < n; i++) {
        x[i] = (float) rnd.nextDouble();
      }
      out.add(x);
    }
    return out;
  }

  /** Calibrates on 64 random inputs and returns the file with its ranges, plus 8 other inputs. */
  private static Subject calibrated(String label, String description, OnnxModel model, String input, long[] shape, int n) {
    byte[] onnx = OnnxWriter.write(ActivationRanges.measure(model, pixels(1, 64, n)).embedIn(model));
    List<NamedTensors> inputs = pixels(2, 8, n).stream().map(x -> NamedTensors.of(input, Tensor.ofFloats(shape, x))).toList();
    return new Subject(label, description, onnx, inputs);
  }

  /** x[N,784] -Gemm(56)-Relu-Gemm(10)- y, He-uniform weights (seed 784). */
  static Subject mlp() {
    SplittableRandom rnd = new SplittableRandom(784);
    OnnxModel m = OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(784))
        .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(10))
        .initializer("w1", new long[] {56, 784}, uniform(rnd, 56 * 784, Math.sqrt(6.0 / 784)))
        .initializer("b1", new long[] {56}, uniform(rnd, 56, 0.01))
        .initializer("w2", new long[] {10, 56}, uniform(rnd, 560, Math.sqrt(6.0 / 56)))
        .initializer("b2", new long[] {10}, uniform(rnd, 10, 0.01))
        .node("Gemm", List.of("x", "w1", "b1"), List.of("h"), OnnxAttribute.ofInt("transB", 1))
        .node("Relu", List.of("h"), List.of("r"))
        .node("Gemm", List.of("r", "w2", "b2"), List.of("y"), OnnxAttribute.ofInt("transB", 1))
        .build();
    return calibrated("(a) MLP 784-56-10", "random float MLP, Gemm-Relu-Gemm", m, "x", new long[] {1, 784}, 784);
  }

  /**
   * LeNet-5: x[N,1,28,28] -Conv 6@5x5 pad 2-Relu-MaxPool-Conv 16@5x5-Relu-MaxPool-Flatten-Gemm 120
   * -Relu-Gemm 84-Relu-Gemm 10- y, He-uniform weights (seed 5).
   */
  static Subject lenet() {
    SplittableRandom rnd = new SplittableRandom(5);
    OnnxModel m = OnnxModel.builder()
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(1), Dim.of(28), Dim.of(28))
        .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(10))
        .initializer("c1", new long[] {6, 1, 5, 5}, uniform(rnd, 150, Math.sqrt(6.0 / 25)))
        .initializer("c1b", new long[] {6}, uniform(rnd, 6, 0.01))
        .initializer("c2", new long[] {16, 6, 5, 5}, uniform(rnd, 2400, Math.sqrt(6.0 / 150)))
        .initializer("c2b", new long[] {16}, uniform(rnd, 16, 0.01))
        .initializer("f1", new long[] {120, 400}, uniform(rnd, 48000, Math.sqrt(6.0 / 400)))
        .initializer("f1b", new long[] {120}, uniform(rnd, 120, 0.01))
        .initializer("f2", new long[] {84, 120}, uniform(rnd, 10080, Math.sqrt(6.0 / 120)))
        .initializer("f2b", new long[] {84}, uniform(rnd, 84, 0.01))
        .initializer("f3", new long[] {10, 84}, uniform(rnd, 840, Math.sqrt(6.0 / 84)))
        .initializer("f3b", new long[] {10}, uniform(rnd, 10, 0.01))
        .node("Conv", List.of("x", "c1", "c1b"), List.of("a1"), OnnxAttribute.ofInts("pads", 2, 2, 2, 2))
        .node("Relu", List.of("a1"), List.of("r1"))
        .node("MaxPool", List.of("r1"), List.of("p1"), OnnxAttribute.ofInts("kernel_shape", 2, 2),
            OnnxAttribute.ofInts("strides", 2, 2))
        .node("Conv", List.of("p1", "c2", "c2b"), List.of("a2"))
        .node("Relu", List.of("a2"), List.of("r2"))
        .node("MaxPool", List.of("r2"), List.of("p2"), OnnxAttribute.ofInts("kernel_shape", 2, 2),
            OnnxAttribute.ofInts("strides", 2, 2))
        .node("Flatten", List.of("p2"), List.of("flat"))
        .node("Gemm", List.of("flat", "f1", "f1b"), List.of("h1"), OnnxAttribute.ofInt("transB", 1))
        .node("Relu", List.of("h1"), List.of("g1"))
        .node("Gemm", List.of("g1", "f2", "f2b"), List.of("h2"), OnnxAttribute.ofInt("transB", 1))
        .node("Relu", List.of("h2"), List.of("g2"))
        .node("Gemm", List.of("g2", "f3", "f3b"), List.of("y"), OnnxAttribute.ofInt("transB", 1))
        .build();
    return calibrated("(b) LeNet-5 (1x28x28)", "random float LeNet-5", m, "x", new long[] {1, 1, 28, 28}, 784);
  }

  static Subject builtin(ExampleModel m) {
    List<NamedTensors> inputs = m.samples().stream()
        .map(s -> NamedTensors.of(m.inputName(), Tensor.ofFloats(s.shape(), s.values()))).toList();
    return new Subject("(c) built-in " + m.name(), m.description(), m.onnx(), inputs);
  }

  // ---- measurement helpers ----------------------------------------------------------------

  private static void resetPeaks() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
      }
    }
  }

  private static long peakHeap() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  private static long heapInUse() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length == 0 ? 0 : s[s.length / 2];
  }

  private static double min(double[] v) {
    return Arrays.stream(v).min().orElse(0);
  }

  private static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      best = v[i] > v[best] ? i : best;
    }
    return best;
  }

  // ---- report -----------------------------------------------------------------------------

  static String markdown(Settings s, Instant started, String engineVersion, String loadAtStart, String loadAtEnd,
      List<Result> results) {
    BenchmarkDoc.Machine machine = BenchmarkDoc.Machine.describe();
    StringBuilder md = new StringBuilder();
    md.append("## Zero-knowledge proofs of inference: proving and verifying against running the model\n\n");
    md.append("Measured ").append(started.truncatedTo(ChronoUnit.SECONDS)).append(" with `").append(s.command())
        .append("` (harness `dev.verity.bench.ZkOverhead`).\n\n");
    md.append("- Machine: ").append(machine.cores()).append(" cores (nproc), ").append(machine.cpu()).append(", ")
        .append(machine.memory()).append(" memory; ").append(machine.jdk()).append("; ").append(machine.os())
        .append("; max heap ").append(Runtime.getRuntime().maxMemory() >> 20).append(" MiB.\n");
    md.append("- Load average (1 / 5 / 15 min) at start ").append(loadAtStart).append(", at end ").append(loadAtEnd)
        .append(". The machine may be shared with other work; read the numbers as this run's, not as a limit.\n");
    md.append("- Every model is an ONNX file imported by `OnnxCompiler` (int16 weights and activations, power-of-two"
        + " scales from the calibration ranges in the file). (a) and (b) have random float weights and are calibrated on"
        + " 64 random inputs in [0, 1); (c) are the built-in models, calibrated on their training split.\n");
    md.append("- Baselines, same run, batch 1: **ONNX Runtime** ").append(engineVersion)
        .append(" on the float model (CPU, default session settings: all cores); **integer**: the compiled network"
            + " (`CompiledModel.run`, input encoding included, one thread). Median of ").append(s.inferMillis())
        .append(" ms of back-to-back runs after a warm-up.\n");
    md.append("- Proving: `ModelProver.prove` (encode, run, commit, prove; a fresh input and blinding each time), one"
        + " thread per proof but parallel inside (the prover uses all cores); the first proof of each model is listed"
        + " apart, then the median (min) of ").append(s.proofs()).append(". Verifying: `ZkInference.verify` of each"
        + " proof. Setup, once per model for prover and verifier alike: compilation and the weight commitment (proving /"
        + " verifying key). Peak heap: heap in use at its highest during one proof, after a collection (the figure in"
        + " brackets is what was in use before the proof started: models, JIT, the harness).\n\n");

    md.append("| model | parameters | MACs | circuit |\n|---|---:|---:|---|\n");
    for (Result r : results) {
      md.append(String.format(Locale.ROOT, "| %s | %,d | %,d | %s |%n", r.subject().label(), r.parameters(), r.macs(),
          r.compiled().describe()));
    }
    md.append("\n| model | ONNX Runtime (float) | integer network | setup (compile + key) | first proof | prove, median (min) |"
        + " verify, median | proof | evidence (CBOR) | peak heap | prove / ONNX Runtime | prove / integer |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Result r : results) {
      double prove = r.proveMedian();
      md.append(String.format(Locale.ROOT,
          "| %s | %.1f µs | %.1f µs | %.0f + %.0f ms | %.0f ms | %.0f ms (%.0f) | %.1f ms | %.1f KiB | %.1f KiB | %.0f MiB (%.0f) |"
              + " ×%,.0f | ×%,.0f |%n",
          r.subject().label(), r.ortMicros(), r.quantizedMicros(), r.compileMs(), r.keyMs(), r.firstProveMs(), prove,
          min(r.proveMs()), r.verifyMedian(), r.proofBytes() / 1024.0, r.evidenceBytes() / 1024.0,
          r.peakHeap() / 1048576.0, r.baseHeap() / 1048576.0, prove * 1000 / r.ortMicros(),
          prove * 1000 / r.quantizedMicros()));
    }
    md.append("\n### Quantization accuracy, built-in models, held-out data\n\n");
    md.append("| model | held-out examples | float (ONNX Runtime) | integer network (what proofs cover) | change |\n");
    md.append("|---|---:|---:|---:|---:|\n");
    for (Result r : results) {
      if (r.accuracy().isPresent()) {
        Accuracy a = r.accuracy().get();
        md.append(String.format(Locale.ROOT, "| %s | %d | %.2f %% | %.2f %% | %+.2f points |%n", r.subject().label(),
            a.examples(), 100.0 * a.floatCorrect() / a.examples(), 100.0 * a.quantizedCorrect() / a.examples(),
            100.0 * (a.quantizedCorrect() - a.floatCorrect()) / a.examples() + 0.0));
      }
    }
    return md.toString();
  }
}

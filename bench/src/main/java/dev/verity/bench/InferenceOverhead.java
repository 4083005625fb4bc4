package dev.verity.bench;

import dev.verity.core.crypto.Signer;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.InferenceService;
import dev.verity.node.NodeConfig;
import dev.verity.node.VerityNode;
import dev.verity.onnx.OnnxWriter;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Npy;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.runtime.LoadedModel;
import dev.verity.runtime.ModelSource;
import dev.verity.runtime.OnnxRuntimeEngine;
import dev.verity.runtime.SessionConfig;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * What serving a model through a Verity node costs on top of running it, in one run, per request at
 * batch 1, for: a small model (the built-in breast cancer classifier); the worst case of the
 * large-model target (an MLP of about 2.1 million parameters that runs in a fraction of a
 * millisecond); and two real third-party models of over a million parameters at realistic input
 * sizes (PaddleOCR's PP-OCRv4 text recognizer and text detector, {@link ThirdPartyModel}; skipped,
 * and said so, when scripts/fetch-test-models.sh has not fetched them). Each through
 *
 * <ol>
 *   <li>(a) the engine alone: {@link LoadedModel#run} with the session settings the node uses;
 *   <li>(b) the node in-process: {@link InferenceService#infer} (resolve, checks, run, CIDs,
 *       receipt signing) without HTTP;
 *   <li>(c) the node over HTTP with {@link VerityClient#infer}, which verifies every receipt.
 * </ol>
 *
 * It reports latency percentiles and single-client throughput of each, the overhead against (a),
 * throughput with two concurrent clients for the large models, and the cost of each step HTTP
 * inference adds for the small and the real model ({@link OverheadBreakdown}). A fourth model, whose
 * response is larger than the HTTP server's buffer, is measured with (a) and (c) to catch transport
 * stalls. Results go to standard output and, with {@code --doc FILE}, into that file's {@value
 * #SECTION} section ({@link BenchmarkDoc}).
 *
 * <p>A plain harness rather than JMH: the quantities are latency percentiles of whole requests
 * through an HTTP server in the same process, all three paths must be measured in the same JVM and
 * interleaved so a shared machine's load falls on each alike, and the node and models must be set
 * up once (training, publishing) rather than once per fork. Warm-up runs every path before any
 * timing starts; then each path is measured in rounds of equal length, in rotating order.
 */
public final class InferenceOverhead {
  static final String SECTION = "inference-overhead";
  static final String VERSION_LABEL = "1.0.0";
  /** The large model: 1024 inputs, two hidden layers of 1024, 10 outputs. */
  static final RandomMlp LARGE = new RandomMlp(RandomMlp.widths(1024, 1024, 1024, 10), 20_240_601L);
  /** A model whose JSON response (2048 floats, about 25 KB) is larger than the HTTP server's buffer. */
  /** The convolutional model: ResNet-50's layers on one 224 x 224 image. */
  static final RandomResNet CNN = new RandomResNet(20_240_603L);
  static final RandomMlp WIDE = new RandomMlp(RandomMlp.widths(16, 2048), 20_240_602L);
  static final String DIRECT = "(a) direct";
  static final String IN_PROCESS = "(b) node in-process";
  static final String HTTP = "(c) HTTP + verifying client";

  private InferenceOverhead() {}

  /**
   * How long to measure.
   *
   * @param rounds measurement rounds per model
   * @param roundMillis time per path per round
   * @param warmUpMillis warm-up per path for the small model (the others get half)
   * @param stepMillis time per step of the breakdown
   * @param concurrentMillis time per path of the two-client run
   * @param doc the benchmarks document to update, if any
   * @param command the command line recorded with the numbers
   * @param only the models to measure, by {@link #key} (empty: all); for profiling, never with a doc
   */
  record Settings(int rounds, long roundMillis, long warmUpMillis, long stepMillis, long concurrentMillis,
      Optional<Path> doc, String command, Path testModels, java.util.Set<String> only) {
    Settings {
      only = java.util.Set.copyOf(only);
      if (!only.isEmpty() && doc.isPresent()) {
        throw new IllegalArgumentException("--models measures only some models; its results cannot replace the"
            + " document's section, so use it without --doc");
      }
    }

    Settings(int rounds, long roundMillis, long warmUpMillis, long stepMillis, long concurrentMillis,
        Optional<Path> doc, String command, Path testModels) {
      this(rounds, roundMillis, warmUpMillis, stepMillis, concurrentMillis, doc, command, testModels, java.util.Set.of());
    }

    static final String DEFAULT_COMMAND = "java --enable-native-access=ALL-UNNAMED -cp ... dev.verity.bench.InferenceOverhead";

    static Settings standard() {
      return new Settings(8, 1000, 3000, 700, 5000, Optional.empty(), DEFAULT_COMMAND, ThirdPartyModel.directory());
    }

    static Settings parse(String[] args) {
      Settings s = standard();
      int rounds = s.rounds;
      long roundMillis = s.roundMillis;
      long warmUpMillis = s.warmUpMillis;
      long stepMillis = s.stepMillis;
      long concurrentMillis = s.concurrentMillis;
      Optional<Path> doc = s.doc;
      String command = s.command;
      Path testModels = s.testModels;
      java.util.Set<String> only = s.only;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--help")) {
          throw new IllegalArgumentException(usage());
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("option " + a + " needs a value\n" + usage());
        }
        String v = args[++i];
        switch (a) {
          case "--rounds" -> rounds = positive(a, v);
          case "--round-ms" -> roundMillis = positive(a, v);
          case "--warmup-ms" -> warmUpMillis = positive(a, v);
          case "--step-ms" -> stepMillis = positive(a, v);
          case "--concurrent-ms" -> concurrentMillis = positive(a, v);
          case "--doc" -> doc = Optional.of(Path.of(v));
          case "--command" -> command = v;
          case "--test-models" -> testModels = Path.of(v);
          case "--models" -> only = java.util.Set.of(v.split(","));
          default -> throw new IllegalArgumentException("unknown option " + a + "\n" + usage());
        }
      }
      return new Settings(rounds, roundMillis, warmUpMillis, stepMillis, concurrentMillis, doc, command, testModels, only);
    }

    private static int positive(String option, String v) {
      try {
        int n = Integer.parseInt(v);
        if (n > 0) {
          return n;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException(option + " needs a positive whole number, got '" + v + "'");
    }

    static String usage() {
      return """
          usage: InferenceOverhead [--doc FILE] [--command TEXT] [--test-models DIR] [--rounds N]
                                   [--round-ms MS] [--warmup-ms MS] [--step-ms MS] [--concurrent-ms MS]
                                   [--models small,large,cnn,pp-ocrv4-rec,pp-ocrv4-det,wide-output]
            --doc FILE          write the results into FILE's inference-overhead section (else print only)
            --command           the command line to record with the results
            --test-models DIR   where scripts/fetch-test-models.sh put the third-party models (default:
                                -Dverity.test.models, $VERITY_TEST_MODELS, else .cache/test-models of
                                the checkout); the real-model subject is skipped when its file is absent
            --models LIST       measure only these models (for profiling; not with --doc)""";
    }
  }

  /** What a model is measured for. */
  enum Role {
    /** All paths, HTTP references and the step breakdown; target: (c) − (a) at most 1 ms at p50. */
    SMALL,
    /**
     * The worst case of the large-model target: an MLP of 2.1 million parameters whose batch-1 run
     * takes a fraction of a millisecond. All paths and two concurrent clients; target: (c) reaches
     * 80% of the throughput of (a).
     */
    LARGE,
    /**
     * A real third-party model of over a million parameters at a realistic input size. All paths,
     * HTTP references, two concurrent clients and the step breakdown; target as for LARGE.
     */
    REAL,
    /**
     * A convolutional image classifier with the layers of ResNet-50 ({@link RandomResNet}, 25.5
     * million parameters): what a typical vision model computes per byte it receives and returns. All paths,
     * HTTP references, two concurrent clients and the step breakdown; target as for LARGE.
     */
    CNN,
    /** (a) and (c) only, half the rounds: a response larger than the HTTP server's 8 KiB buffer. */
    WIDE_OUTPUT;

    boolean hasThroughputTarget() {
      return this == LARGE || this == REAL || this == CNN;
    }

    boolean hasBreakdown() {
      return this == SMALL || this == REAL || this == CNN;
    }
  }

  /**
   * A model under test, with one input of batch 1.
   *
   * @param parameters weights: initializer elements plus floating-point Constant tensors ({@link
   *     ThirdPartyModel#parameters})
   * @param initializerParameters what {@code OnnxReader.readInfo(file).parameterCount()} reports
   */
  record Subject(Role role, String label, String repository, String description, byte[] onnx, long parameters,
      long initializerParameters, NamedTensors inputs) {}

  /** What was measured for one model. */
  record ModelResult(Subject subject, String shapes, Map<String, Latencies.Summary> paths, Map<String, Double> twoClients,
      List<OverheadBreakdown.Step> breakdown) {}

  public static void main(String[] args) throws Exception {
    Settings settings;
    try {
      settings = Settings.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    String section = run(settings, System.out);
    System.out.println();
    System.out.println(section);
    if (settings.doc().isPresent()) {
      BenchmarkDoc.writeSection(settings.doc().get(), SECTION, section);
      System.out.println("wrote section '" + SECTION + "' of " + settings.doc().get());
    }
  }

  /** Runs the whole benchmark and returns its section of the benchmarks document. */
  static String run(Settings s, PrintStream log) throws Exception {
    Instant started = Instant.now();
    String loadAtStart = BenchmarkDoc.loadAverage();
    log.println("inference overhead: load average at start " + loadAtStart);
    List<Subject> subjects = new ArrayList<>(List.of(smallModel(), largeModel(), cnnModel()));
    List<Subject> real = new ArrayList<>();
    ThirdPartyModel.recognizer(s.testModels()).ifPresent(real::add);
    ThirdPartyModel.detector(s.testModels()).ifPresent(real::add);
    subjects.addAll(real);
    if (real.size() < 2) {
      log.println("inference overhead: real-model subject skipped: " + ThirdPartyModel.missing(s.testModels()));
    }
    subjects.add(wideOutputModel());
    if (!s.only().isEmpty()) {
      subjects.removeIf(m -> !s.only().contains(key(m)));
    }
    Path tmp = Files.createTempDirectory("verity-bench");
    List<ModelResult> results = new ArrayList<>();
    NodeConfig config = NodeConfig.load(Optional.empty(), System.getenv()).withDataDir(tmp.resolve("node")).withPort(0);
    String engineVersion;
    try (VerityNode node = VerityNode.start(config);
        OnnxRuntimeEngine engine = OnnxRuntimeEngine.create();
        VerityClient client = VerityClient.builder(node.uri()).build()) {
      engineVersion = engine.version();
      Signer owner = Signer.generate();
      try (VerityClient publisher = VerityClient.builder(node.uri()).signer(owner).build()) {
        for (Subject subject : subjects) {
          Path file = tmp.resolve(subject.repository() + ".onnx");
          Files.write(file, subject.onnx());
          publisher.publish(file, Publication.of(subject.repository(), VERSION_LABEL)
              .withDetails("benchmark", "", subject.description(), List.of("benchmark")), ProgressListener.NONE);
        }
      }
      for (Subject subject : subjects) {
        log.println("inference overhead: " + subject.label() + " (" + subject.parameters() + " parameters)");
        results.add(measureModel(s, subject, node, engine, client, owner, config.sessionConfig(), log));
      }
    } finally {
      deleteTree(tmp);
    }
    String loadAtEnd = BenchmarkDoc.loadAverage();
    log.println("inference overhead: load average at end " + loadAtEnd);
    // The document gets no path of this machine, only what to do.
    Optional<String> skipped = real.size() == 2 ? Optional.empty()
        : Optional.of("a third-party model file was not found; run scripts/fetch-test-models.sh (or set VERITY_TEST_MODELS)"
            + " to measure the PP-OCRv4 models");
    return Report.markdown(s, started, BenchmarkDoc.Machine.describe(), engineVersion, config, loadAtStart, loadAtEnd,
        results, skipped);
  }

  /** A model's name for {@code --models}: its short label in lower case, spaces as dashes ("pp-ocrv4-rec"). */
  static String key(Subject m) {
    return m.label().substring(0, m.label().indexOf(':')).toLowerCase(Locale.ROOT).replace(' ', '-');
  }

  private static ModelResult measureModel(Settings s, Subject subject, VerityNode node,
      OnnxRuntimeEngine engine, VerityClient client, Signer owner, SessionConfig sessionConfig, PrintStream log)
      throws Exception {
    ModelRef ref = ModelRef.of(owner.address(), subject.repository(), VERSION_LABEL);
    InferenceService service = node.inference();
    NamedTensors inputs = subject.inputs();
    String inferPath = "/v1/models/" + owner.address() + "/" + subject.repository() + "/" + VERSION_LABEL + "/infer";
    Role role = subject.role();
    try (LoadedModel direct = engine.load(ModelSource.bytes(subject.onnx()), sessionConfig);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
      Map<String, Timing.Request> paths = new LinkedHashMap<>();
      paths.put(DIRECT, () -> direct.run(inputs));
      // (b) and (c) get a new set over the same tensors each time, as if each request brought new inputs:
      // a set computes its CID only once, and reusing one would leave its hashing out of every later request.
      Timing.Request inProcess = () -> service.infer(service.resolve(owner.address(), subject.repository(), VERSION_LABEL),
          fresh(inputs), VerificationMode.RECEIPT, UUID.randomUUID().toString(), Optional.empty());
      if (role != Role.WIDE_OUTPUT) {
        paths.put(IN_PROCESS, inProcess);
      }
      paths.put(HTTP, () -> client.infer(ref, fresh(inputs)));
      if (role.hasBreakdown()) {
        // Measured interleaved with the paths, so that the differences between them are of one moment.
        paths.putAll(OverheadBreakdown.httpReferences(http, node.uri(), inferPath, inputs));
      }

      // Every path must compute the same outputs, or the comparison would be meaningless.
      NamedTensors expected = direct.run(inputs);
      InferenceService.Result nodeResult = (InferenceService.Result) inProcess.call();
      InferenceResult overHttp = client.infer(ref, inputs);
      if (!expected.equals(nodeResult.outputs()) || !expected.equals(overHttp.outputs())) {
        throw new IllegalStateException("the three paths computed different outputs for " + subject.label());
      }
      String shapes = shapes(inputs) + " → " + shapes(expected);

      Timing.warmUp(paths, role == Role.SMALL ? s.warmUpMillis() : s.warmUpMillis() / 2);
      int rounds = role == Role.WIDE_OUTPUT ? Math.max(1, s.rounds() / 2) : s.rounds();
      Map<String, Latencies> measured = Timing.measure(paths, rounds, s.roundMillis());
      Map<String, Latencies.Summary> summaries = new LinkedHashMap<>();
      measured.forEach((k, v) -> {
        Latencies.Summary sum = v.summary();
        summaries.put(k, sum);
        log.printf(Locale.ROOT, "  %-32s p50 %9.1f us  p90 %9.1f us  p99 %9.1f us  %8.0f req/s  (%d requests)%n",
            k, sum.p50(), sum.p90(), sum.p99(), sum.perSecond(), sum.requests());
      });

      Map<String, Double> twoClients = new LinkedHashMap<>();
      List<OverheadBreakdown.Step> breakdown = List.of();
      if (role.hasBreakdown()) {
        breakdown = OverheadBreakdown.measure(new OverheadBreakdown.Sample(inputs, overHttp.outputs(), overHttp.receipt(),
            overHttp.manifest()), s.stepMillis());
        for (OverheadBreakdown.Step step : breakdown) {
          log.printf(Locale.ROOT, "  %-6s %8.1f us  %s%n", step.side(), step.micros(), step.what());
        }
      }
      if (role.hasThroughputTarget()) {
        for (String p : List.of(DIRECT, HTTP)) {
          double perSecond = Timing.throughput(paths.get(p), 2, s.concurrentMillis());
          twoClients.put(p, perSecond);
          log.printf(Locale.ROOT, "  %-32s 2 clients: %8.0f req/s%n", p, perSecond);
        }
      }
      return new ModelResult(subject, shapes, summaries, twoClients, breakdown);
    }
  }

  /** A new set over the same tensors, whose CID is not computed yet. */
  static NamedTensors fresh(NamedTensors t) {
    return NamedTensors.of(t.asMap());
  }

  /** "x float32[1,1024]", comma-separated for several tensors. */
  static String shapes(NamedTensors tensors) {
    List<String> out = new ArrayList<>();
    tensors.asMap().forEach((name, t) -> out.add(name + " " + t.type().wireName()
        + java.util.Arrays.toString(t.shape()).replace(" ", "")));
    return String.join(", ", out);
  }

  static Subject smallModel() {
    ExampleModel m = BuiltinModels.trainBreastCancer();
    ExampleModel.Sample sample = m.samples().get(0);
    NamedTensors inputs = NamedTensors.of(m.inputName(), Tensor.ofFloats(sample.shape(), sample.values()));
    dev.verity.onnx.OnnxModel model = dev.verity.onnx.OnnxReader.read(m.onnx());
    return new Subject(Role.SMALL, "small: built-in " + m.name(), "bench-" + m.name(), m.description(), m.onnx(),
        ThirdPartyModel.parameters(model), model.parameterCount(), inputs);
  }

  static Subject largeModel() {
    return mlpSubject(Role.LARGE, "large", "bench-mlp", LARGE);
  }

  static Subject cnnModel() {
    float[] image = CNN.sampleInput(7);
    NamedTensors inputs = NamedTensors.of(RandomResNet.INPUT,
        Tensor.ofFloats(new long[] {1, 3, RandomResNet.SIDE, RandomResNet.SIDE}, image));
    dev.verity.onnx.OnnxModel model = CNN.build();
    return new Subject(Role.CNN, "cnn: image classifier, ResNet-50 layers", "bench-resnet18",
        "image classifier with the layers of ResNet-50 v1.5 (Conv, Relu, MaxPool, Add, GlobalAveragePool, Gemm; batch"
            + " normalisation folded into the convolutions), random float32 weights, seed " + CNN.seed(),
        OnnxWriter.write(model), model.parameterCount(), model.parameterCount(), inputs);
  }

  static Subject wideOutputModel() {
    return mlpSubject(Role.WIDE_OUTPUT, "wide output", "bench-wide", WIDE);
  }

  private static Subject mlpSubject(Role role, String name, String repository, RandomMlp mlp) {
    byte[] onnx = OnnxWriter.write(mlp.build());
    float[] x = mlp.sampleInput(7);
    NamedTensors inputs = NamedTensors.of(RandomMlp.INPUT, Tensor.ofFloats(new long[] {1, x.length}, x));
    return new Subject(role, name + ": MLP " + mlp.shapeText(), repository,
        "random MLP " + mlp.shapeText() + " (Gemm + ReLU, float32, seed " + mlp.seed() + ")", onnx,
        mlp.parameterCount(), mlp.parameterCount(), inputs);
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Turns results into the markdown section. */
  static final class Report {
    private Report() {}

    static String markdown(Settings s, Instant started, BenchmarkDoc.Machine machine, String engineVersion,
        NodeConfig config, String loadAtStart, String loadAtEnd, List<ModelResult> results, Optional<String> skipped) {
      StringBuilder md = new StringBuilder();
      md.append("## Inference overhead: engine alone, node in-process, node over HTTP with a verifying client\n\n");
      md.append("Measured ").append(started.truncatedTo(ChronoUnit.SECONDS)).append(" with `").append(s.command())
          .append("` (harness `dev.verity.bench.InferenceOverhead`).\n\n");
      md.append("- Machine: ").append(machine.cores()).append(" cores (nproc), ").append(machine.cpu()).append(", ")
          .append(machine.memory()).append(" memory; ").append(machine.jdk()).append("; ").append(machine.os()).append(".\n");
      md.append("- Engine: ONNX Runtime ").append(engineVersion).append(", execution provider ").append(config.executionProvider())
          .append(", the node's session settings for every path: intra-op threads ").append(config.intraOpThreads())
          .append(config.intraOpThreads() == 0 ? " (all cores)" : "").append(", inter-op threads ").append(config.interOpThreads())
          .append(", all graph optimisations, deterministic kernels.\n");
      md.append("- Load average (1 / 5 / 15 min) at start ").append(loadAtStart).append(", at end ").append(loadAtEnd)
          .append(". The machine may be shared with other work; read the numbers as this run's, not as a limit.\n");
      md.append("- Method: batch 1, one fixed input per model. Every path is warmed up first (").append(s.warmUpMillis())
          .append(" ms each for the small model, ").append(s.warmUpMillis() / 2).append(" ms for the others), then measured in ")
          .append(s.rounds()).append(" rounds (the wide-output model: ").append(Math.max(1, s.rounds() / 2)).append(") of ")
          .append(s.roundMillis()).append(" ms per path in rotating order, so load from elsewhere falls on all paths alike. Latency is per request;"
              + " throughput is requests completed per second by one client issuing them back to back. All three paths"
              + " are checked to compute identical outputs before timing.\n");
      md.append("- Paths: **(a)** `LoadedModel.run` on `NamedTensors` (the baseline). **(b)** `InferenceService.infer`:"
          + " resolve the version, refuse yanked / private / disallowed modes, check inputs against the manifest, run"
          + " through the node's session cache, CIDs of inputs and outputs, sign the receipt (Ed25519). **(c)**"
          + " `VerityClient.infer` to the node on 127.0.0.1 (HTTP/1.1 keep-alive, unsigned request; tensors as JSON, or"
          + " as .npz when a set holds more than " + Npy.BINARY_ABOVE_BYTES + " bytes of data, each direction on its own):"
          + " (b) plus encoding and parsing both ways, and the client's checks on every call: receipt signature by the pinned node key, manifest"
          + " signature and binding (manifest CID, model CID, version asked for, mode), input and output CIDs, tensor"
          + " specs. The manifest is fetched and checked once, then cached.\n\n");

      md.append("### Models\n\n| model | parameters | ONNX file | input → output |\n|---|---:|---:|---|\n");
      for (ModelResult r : results) {
        Subject m = r.subject();
        md.append("| ").append(m.label()).append(" | ").append(String.format(Locale.ROOT, "%,d", m.parameters()))
            .append(" | ").append(String.format(Locale.ROOT, "%,d bytes", m.onnx().length)).append(" | ")
            .append(r.shapes()).append(" |\n");
      }
      md.append("\nParameters: elements of the initializers plus those of floating-point tensors held in Constant nodes.");
      for (ModelResult r : results) {
        Subject m = r.subject();
        if (m.initializerParameters() != m.parameters()) {
          md.append(String.format(Locale.ROOT, " For %s, `OnnxReader.readInfo(file).parameterCount()`, which counts"
              + " initializers only, reports %,d: its exporter (paddle2onnx) keeps every weight in Constant nodes.",
              shortLabel(r), m.initializerParameters()));
        }
      }
      for (ModelResult r : results) {
        if (r.subject().role() == Role.REAL) {
          md.append(" Source of ").append(shortLabel(r)).append(": ").append(r.subject().description())
              .append("; fetched by `scripts/fetch-test-models.sh` (docs/test-models.md).");
        }
      }
      skipped.ifPresent(why -> md.append(" **Real-model subject not measured:** ").append(why).append('.'));
      md.append("\n");

      md.append("\n### Latency per request and single-client throughput\n\n")
          .append("| model | path | requests | p50 µs | p90 µs | p99 µs | req/s |\n|---|---|---:|---:|---:|---:|---:|\n");
      for (ModelResult r : results) {
        r.paths().forEach((path, sum) -> md.append(String.format(Locale.ROOT, "| %s | %s | %,d | %.1f | %.1f | %.1f | %s |%n",
            shortLabel(r), path, sum.requests(), sum.p50(), sum.p90(), sum.p99(), rate(sum.perSecond()))));
      }

      List<String> disturbed = new ArrayList<>();
      md.append("\n### Overhead against the engine alone\n\n")
          .append("| model | (b) − (a) at p50 | (c) − (a) at p50 | throughput (c) / (a) | target |\n|---|---:|---:|---:|---|\n");
      for (ModelResult r : results) {
        Latencies.Summary a = r.paths().get(DIRECT);
        Latencies.Summary b = r.paths().get(IN_PROCESS);
        Latencies.Summary c = r.paths().get(HTTP);
        double overheadMs = (c.p50() - a.p50()) / 1000;
        double ratio = c.perSecond() / a.perSecond();
        String inProcess = b == null ? "—" : String.format(Locale.ROOT, "%.3f ms", (b.p50() - a.p50()) / 1000);
        String target = switch (r.subject().role()) {
          case SMALL -> overheadMs <= 1.0 ? "(c) − (a) ≤ 1 ms at p50: met" : "(c) − (a) ≤ 1 ms at p50: **missed**";
          case LARGE -> (ratio >= 0.80 ? "(c) / (a) ≥ 0.80: met" : "(c) / (a) ≥ 0.80: **missed**") + " (worst case)";
          case REAL, CNN -> ratio >= 0.80 ? "(c) / (a) ≥ 0.80: met" : "(c) / (a) ≥ 0.80: **missed**";
          case WIDE_OUTPUT -> "none (checks that a response over 8 KiB is not delayed)";
        };
        disturbance(a, c).ifPresent(why -> disturbed.add(shortLabel(r) + ": " + why));
        if (r.subject().role() != Role.WIDE_OUTPUT && disturbance(a, c).isPresent()) {
          target = target.substring(0, target.indexOf(':')) + ": **no verdict, baseline disturbed**";
        }
        md.append(String.format(Locale.ROOT, "| %s | %s | %.3f ms | %.3f | %s |%n", shortLabel(r), inProcess, overheadMs,
            ratio, target));
      }
      if (!disturbed.isEmpty()) {
        md.append("\nThe baseline (a) of this run was disturbed by other work on the machine, so the ratios and"
            + " differences above mix the node's cost with that disturbance (").append(String.join("; ", disturbed))
            .append("). Run again when the machine is quieter.\n");
      }
      for (ModelResult r : results) {
        if (r.subject().role().hasThroughputTarget()) {
          // With one client, (c) / (a) = t(a) / (t(a) + overhead), with times per request from the throughputs.
          double overheadMs = (1 / r.paths().get(HTTP).perSecond() - 1 / r.paths().get(DIRECT).perSecond()) * 1000;
          if (overheadMs <= 0) {
            md.append(String.format(Locale.ROOT, "%n%s: (c) completed requests no slower than (a) in this run, which only a"
                + " disturbed baseline explains; no break-even run time is derived from it.%n", shortLabel(r)));
            continue;
          }
          md.append(String.format(Locale.ROOT, "%n%s: one client's throughput ratio is t(a) / (t(a) + overhead). With the"
              + " %.2f ms per request that (c) adds here (from the throughputs), (c) / (a) ≥ 0.80 needs a batch-1 run of at"
              + " least %.1f ms; this model's takes %.3f ms (mean, from its throughput).%n", shortLabel(r), overheadMs,
              4 * overheadMs, 1000 / r.paths().get(DIRECT).perSecond()));
        }
      }

      for (ModelResult r : results) {
        if (r.twoClients().isEmpty()) {
          continue;
        }
        md.append("\n### Two concurrent clients, ").append(shortLabel(r)).append(" model\n\n")
            .append("Each client issues requests back to back for ").append(s.concurrentMillis())
            .append(" ms; (c) shares one `VerityClient`. Both clients and ONNX Runtime's intra-op threads compete for the same cores.\n\n")
            .append("| path | req/s, 2 clients | req/s, 1 client | ratio |\n|---|---:|---:|---:|\n");
        r.twoClients().forEach((path, perSecond) -> {
          double one = r.paths().get(path).perSecond();
          md.append(String.format(Locale.ROOT, "| %s | %s | %s | %.2f |%n", path, rate(perSecond), rate(one), perSecond / one));
        });
        double a2 = r.twoClients().get(DIRECT);
        double c2 = r.twoClients().get(HTTP);
        md.append(String.format(Locale.ROOT, "%nWith two clients, (c) / (a) = %.2f.%n", c2 / a2));
      }

      for (ModelResult r : results) {
        if (r.breakdown().isEmpty()) {
          continue;
        }
        Latencies.Summary a = r.paths().get(DIRECT);
        Latencies.Summary b = r.paths().get(IN_PROCESS);
        Latencies.Summary c = r.paths().get(HTTP);
        Latencies.Summary raw = r.paths().get(OverheadBreakdown.RAW_POST);
        Latencies.Summary health = r.paths().get(OverheadBreakdown.HEALTH);
        md.append("\n### Where the time goes, ").append(shortLabel(r)).append(" model\n\n")
            .append("(c) − (a) split by the paths measured in the same rounds (p50 differences; the raw POST sends the"
                + " encoded request with the JDK HttpClient and reads the response bytes without parsing or checking them):\n\n")
            .append("| part of (c) − (a) | µs at p50 |\n|---|---:|\n")
            .append(row("node in-process: resolve, checks, CIDs, receipt signing ((b) − (a))", b.p50() - a.p50()))
            .append(row("HTTP both ways and the node's parsing and encoding (raw POST − (b))", raw.p50() - b.p50()))
            .append(row("  for comparison: a bare round trip, GET /health", health.p50()))
            .append(row("client: request building, parsing, receipt decoding and verification ((c) − raw POST)", c.p50() - raw.p50()))
            .append(row("**total (c) − (a)**", c.p50() - a.p50()))
            .append("\nEach step below timed alone (median over batches of calls, ").append(s.stepMillis())
            .append(" ms per step), doing through the public APIs what the client or the node does for one request.\n\n")
            .append("| where | step | µs |\n|---|---|---:|\n");
        double perRequest = 0;
        for (OverheadBreakdown.Step step : r.breakdown()) {
          md.append(String.format(Locale.ROOT, "| %s | %s | %.1f |%n", step.side(), step.what(), step.micros()));
          perRequest += step.micros() * step.timesPerRequest();
        }
        md.append(String.format(Locale.ROOT, "| | sum of the steps a request performs once each (the total row excluded) | %.1f |%n", perRequest));
      }
      return md.toString();
    }

    /**
     * Why the baseline of a model looks disturbed, if it does: the engine alone has a p90 more than
     * {@value #SPREAD} times its p50 (an undisturbed run of a fixed input varies far less), or the
     * HTTP path, which does the engine's work and more, has a lower p50 than the engine alone.
     */
    static Optional<String> disturbance(Latencies.Summary a, Latencies.Summary c) {
      if (a.p90() > SPREAD * a.p50()) {
        return Optional.of(String.format(Locale.ROOT, "(a) p90 is %.1f × its p50", a.p90() / a.p50()));
      }
      if (c.p50() < a.p50()) {
        return Optional.of("(c) p50 below (a) p50");
      }
      return Optional.empty();
    }

    static final double SPREAD = 1.5;

    /** Requests per second: whole numbers, with one decimal below 100 (a slow model's few per second). */
    static String rate(double perSecond) {
      return perSecond >= 100 ? String.format(Locale.ROOT, "%,.0f", perSecond) : String.format(Locale.ROOT, "%.1f", perSecond);
    }

    private static String row(String what, double micros) {
      return String.format(Locale.ROOT, "| %s | %.1f |%n", what, micros);
    }

    private static String shortLabel(ModelResult r) {
      return r.subject().label().substring(0, r.subject().label().indexOf(':'));
    }
  }
}

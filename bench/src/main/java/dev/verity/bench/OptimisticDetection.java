package dev.verity.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.verity.core.Hash;
import dev.verity.exec.CanonicalExecutor;
import dev.verity.exec.Cheat;
import dev.verity.exec.Execution;
import dev.verity.exec.Trace;
import dev.verity.exec.TraceDispute;
import dev.verity.exec.WorkerClaim;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxReader;
import dev.verity.onnx.OnnxWriter;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;

/**
 * Measures the optimistic mode at the executor level (docs/OPTIMISTIC.md, "Guarantees,
 * measured"):
 *
 * <ol>
 *   <li>Detection by cheat: a worker runs every job of a model with one {@link Cheat}; each job is
 *       sampled by the ledger's rule (a seed standing for the next block's hash, {@code
 *       u64(H("verity/sample/v1", seed || job)) mod 10^6 < ppm}); a sampled job is recomputed
 *       honestly and disputed ({@link TraceDispute}). Reported: the share of sampled cheats
 *       convicted, the share of all jobs convicted against the sampling rate with its binomial
 *       interval, and the rule and step that convicted them.
 *   <li>Extra network compute: a verifier's re-execution (canonical, traced) against the worker's
 *       run, times the sampling rate and verifiers per sample; also against plain ONNX Runtime.
 *   <li>The canonical executor against ONNX Runtime with one thread, and the referee's one-step
 *       check against a whole run, on the built-in models and a 2.1M-parameter MLP.
 * </ol>
 */
public final class OptimisticDetection {
  static final String SECTION = "optimistic-detection";

  /** Further sampling rates (ppm) at which the same jobs are also counted, pooled. */
  static final int[] OTHER_RATES = {10_000, 50_000, 100_000};

  private OptimisticDetection() {}

  record Settings(int jobs, int ppm, long millis, boolean builtinOnly, Optional<Path> doc,
      String command) {
    static Settings parse(String[] args) {
      Settings s = new Settings(2000, 100_000, 400, false, Optional.empty(),
          "java ... OptimisticDetection");
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--builtin-only")) {
          s = new Settings(s.jobs, s.ppm, s.millis, true, s.doc, s.command);
          continue;
        }
        if (a.equals("--help") || i + 1 >= args.length) {
          throw new IllegalArgumentException("""
              usage: OptimisticDetection [--doc FILE] [--command TEXT] [--jobs N] [--ppm R] [--ms MS] [--builtin-only]
                --jobs N   jobs per cheat on each built-in model (default 2000; the MLP gets N/10)
                --ppm R    sampling rate in parts per million (default 100000 = 10 %)
                --ms MS    milliseconds per timing round (default 400; 6 rounds per cell)""");
        }
        String v = args[++i];
        s = switch (a) {
          case "--jobs" -> new Settings(Integer.parseInt(v), s.ppm, s.millis, s.builtinOnly, s.doc,
              s.command);
          case "--ppm" -> new Settings(s.jobs, Integer.parseInt(v), s.millis, s.builtinOnly, s.doc,
              s.command);
          case "--ms" -> new Settings(s.jobs, s.ppm, Long.parseLong(v), s.builtinOnly, s.doc,
              s.command);
          case "--doc" -> new Settings(s.jobs, s.ppm, s.millis, s.builtinOnly,
              Optional.of(Path.of(v)), s.command);
          case "--command" -> new Settings(s.jobs, s.ppm, s.millis, s.builtinOnly, s.doc, v);
          default -> throw new IllegalArgumentException("unknown option " + a);
        };
      }
      if (s.jobs < 10 || s.ppm < 1 || s.ppm > 1_000_000 || s.millis < 1) {
        throw new IllegalArgumentException("--jobs >= 10, --ppm in 1..1000000, --ms >= 1");
      }
      return s;
    }
  }

  /** A model and the inputs of its jobs. */
  record Subject(String name, OnnxModel model, List<NamedTensors> inputs) {
    NamedTensors job(int j) {
      return inputs.get(j % inputs.size());
    }
  }

  /** Counts for one cheat on one model. */
  static final class Tally {
    int jobs;
    int effective;
    int sampled;
    int convicted;
    int sampledHonestlyEqual;
    final Map<String, Integer> stages = new TreeMap<>();
    final List<Integer> steps = new ArrayList<>();
    int maxRounds;
    int maxOperators;
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
    System.out.println(section);
    if (s.doc().isPresent()) {
      BenchmarkDoc.writeSection(s.doc().get(), SECTION, section);
      System.out.println("wrote section '" + SECTION + "' of " + s.doc().get());
    }
  }

  static List<Subject> subjects(int rowsOfMlp, boolean builtinOnly) {
    List<Subject> out = new ArrayList<>();
    for (ExampleModel m : BuiltinModels.all()) {
      List<NamedTensors> in = new ArrayList<>();
      for (ExampleModel.Sample x : BuiltinModels.heldOut(m.name())) {
        in.add(NamedTensors.of(m.inputName(), Tensor.ofFloats(x.shape(), x.values())));
      }
      out.add(new Subject(m.name(), OnnxReader.read(m.onnx()), in));
    }
    if (builtinOnly) {
      return out;
    }
    RandomMlp mlp = new RandomMlp(List.of(1024, 1024, 1024, 10), 1);
    List<NamedTensors> in = new ArrayList<>();
    for (int i = 0; i < rowsOfMlp; i++) {
      in.add(NamedTensors.of(RandomMlp.INPUT, Tensor.ofFloats(new long[] {1, 1024},
          mlp.sampleInput(i))));
    }
    out.add(new Subject("MLP " + mlp.shapeText() + " (" + String.format(Locale.ROOT, "%,d",
        mlp.parameterCount()) + " parameters)", mlp.build(), in));
    return out;
  }

  /** The ledger's sampling rule, with {@code seed} standing for the next block's header hash. */
  static boolean sampled(Hash seed, Hash job, int ppm) {
    byte[] in = new byte[2 * Hash.LENGTH];
    System.arraycopy(seed.toBytes(), 0, in, 0, Hash.LENGTH);
    System.arraycopy(job.toBytes(), 0, in, Hash.LENGTH, Hash.LENGTH);
    long u = ByteBuffer.wrap(Hash.tagged("verity/sample/v1", in).toBytes()).getLong();
    return Long.remainderUnsigned(u, 1_000_000) < ppm;
  }

  static String run(Settings s, PrintStream log) throws Exception {
    Instant started = Instant.now();
    String loadStart = BenchmarkDoc.loadAverage();
    List<Subject> subjects = subjects(Math.max(10, s.jobs() / 10), s.builtinOnly());
    StringBuilder b = new StringBuilder();
    b.append("## Optimistic verification: detection by cheat, extra network compute, executor "
        + "against ONNX Runtime\n\n");
    b.append("Measured ").append(started.truncatedTo(ChronoUnit.SECONDS)).append(" with `")
        .append(s.command()).append("` (harness `dev.verity.bench.OptimisticDetection`; cheats "
            + "from the verity-exec test jar: `Cheat`, `TraceDispute`).\n\n");
    BenchmarkDoc.Machine m = BenchmarkDoc.Machine.describe();
    b.append("- Machine: ").append(m.cores()).append(" cores (nproc), ").append(m.cpu())
        .append(", ").append(m.memory()).append("; ").append(m.jdk()).append("; ").append(m.os())
        .append(".\n");

    // 1. Detection by cheat.
    double p = s.ppm() / 1e6;
    StringBuilder d = new StringBuilder();
    d.append(String.format(Locale.ROOT, "### Detection by cheat, sampling rate %.1f %%%n%n",
        100 * p));
    d.append("Every job of the model is answered with the cheat; jobs are sampled by the ledger's "
        + "rule from a fresh seed per job (standing for the hash of the block after the "
        + "commitment); a sampled job is recomputed by an honest verifier and disputed at the "
        + "executor level (bisection to the leftmost differing step, then the referee's one-step "
        + "check). *Effective*: the cheat changed the committed root or outputs (a skipped ReLU "
        + "whose input had no negative element changes nothing).\n\n");
    d.append("| model | cheat | jobs | effective | sampled | convicted / sampled | convicted / "
        + "jobs (95 % interval for p) | caught by | at step | bisection rounds (max) | "
        + "operators recomputed by the referee (max) |\n|---|---|---:|---:|---:|---:|---|---|---|"
        + "---:|---:|\n");
    long totalJobs = 0;
    long totalEffective = 0;
    long totalConvicted = 0;
    long honestJobs = 0;
    long honestConvicted = 0;
    long[] otherConvicted = new long[OTHER_RATES.length];
    for (Subject subj : subjects) {
      int n = subj.name().startsWith("MLP") ? Math.max(10, s.jobs() / 10) : s.jobs();
      List<Execution> honest = new ArrayList<>();
      try (CanonicalExecutor ex = CanonicalExecutor.create(subj.model())) {
        for (int j = 0; j < Math.min(n, subj.inputs().size()); j++) {
          honest.add(ex.runTraced(subj.job(j)));
        }
      }
      List<Cheat> strategies = new ArrayList<>();
      strategies.add(null); // an honest worker first: it must never be convicted
      strategies.addAll(List.of(Cheat.values()));
      for (Cheat cheat : strategies) {
        Tally t = new Tally();
        Random random = new Random(cheat == null ? -1 : cheat.ordinal());
        String label = cheat == null ? "none (honest worker)" : cheat.label();
        for (int j = 0; j < n; j++) {
          int idx = j % honest.size();
          NamedTensors inputs = subj.job(idx);
          Execution h = honest.get(idx);
          WorkerClaim claim = cheat == null ? WorkerClaim.of(h)
              : cheat.claim(subj.model(), inputs, h, subj.job(idx + 1), random);
          t.jobs++;
          boolean effective = !claim.sameCommitment(WorkerClaim.of(h));
          if (effective) {
            t.effective++;
          }
          Hash job = Hash.tagged("verity/bench/job", (subj.name() + "/" + cheat + "/" + j)
              .getBytes(java.nio.charset.StandardCharsets.UTF_8));
          Hash seed = Hash.tagged("verity/bench/block", job.toBytes());
          TraceDispute.Ruling ruling = null;
          for (int k = 0; k < OTHER_RATES.length && cheat != null; k++) {
            if (sampled(seed, job, OTHER_RATES[k])) {
              ruling = ruling != null ? ruling : TraceDispute.settle(subj.model(), inputs, claim,
                  WorkerClaim.of(h));
              if (ruling.loser() == TraceDispute.Party.WORKER) {
                otherConvicted[k]++;
              }
            }
          }
          if (!sampled(seed, job, s.ppm())) {
            continue;
          }
          t.sampled++;
          TraceDispute.Ruling r = ruling != null ? ruling : TraceDispute.settle(subj.model(),
              inputs, claim, WorkerClaim.of(h));
          if (r.loser() == TraceDispute.Party.WORKER) {
            t.convicted++;
            t.stages.merge(r.stage().label(), 1, Integer::sum);
            if (r.step() >= 0) {
              t.steps.add(r.step());
            }
            t.maxRounds = Math.max(t.maxRounds, r.rounds());
            t.maxOperators = Math.max(t.maxOperators, r.operatorsRecomputed());
          } else if (!effective) {
            t.sampledHonestlyEqual++;
          }
        }
        if (cheat != null) {
          totalJobs += t.jobs;
          totalEffective += t.effective;
          totalConvicted += t.convicted;
        } else {
          honestConvicted += t.convicted;
          honestJobs += t.jobs;
        }
        double rate = (double) t.convicted / t.jobs;
        double pe = p * t.effective / t.jobs;
        double half = 1.96 * Math.sqrt(pe * (1 - pe) / t.jobs);
        String steps = t.steps.isEmpty() ? "—" : t.steps.stream().distinct().sorted()
            .map(String::valueOf).reduce((x, y) -> x + ", " + y).orElse("");
        d.append(String.format(Locale.ROOT,
            "| %s | %s | %d | %d | %d | %d / %d | %.4f (%.4f ± %.4f: %s) | %s | %s | %d | %d |%n",
            subj.name(), label, t.jobs, t.effective, t.sampled, t.convicted,
            t.sampled - t.sampledHonestlyEqual, rate, pe, half,
            Math.abs(rate - pe) <= half ? "within" : "**outside**",
            t.stages.keySet().stream().reduce((x, y) -> x + "; " + y).orElse("—"), steps,
            t.maxRounds, t.maxOperators));
        log.printf(Locale.ROOT, "%s / %s: %d jobs, %d sampled, %d convicted %s%n", subj.name(),
            label, t.jobs, t.sampled, t.convicted, t.stages);
      }
    }
    double pooled = p * totalEffective / totalJobs;
    double pooledHalf = 1.96 * Math.sqrt(pooled * (1 - pooled) / totalJobs);
    double pooledRate = (double) totalConvicted / totalJobs;
    d.append(String.format(Locale.ROOT, "%nAll cheats pooled: %,d of %,d jobs convicted = %.4f "
            + "against p x effective share %.4f ± %.4f (%s). Honest worker: %d of %,d jobs "
            + "convicted.%n", totalConvicted, totalJobs, pooledRate, pooled, pooledHalf,
        Math.abs(pooledRate - pooled) <= pooledHalf ? "within the 95 % interval"
            : "**outside the 95 % interval**", honestConvicted, honestJobs));
    d.append("\nThe same jobs and claims sampled at other rates (same seeds: a job sampled at 1 % is also sampled at 5 %), all cheats "
        + "pooled:\n\n| sampling rate | jobs | convicted | convicted / jobs | p x effective share "
        + "(95 % interval) |\n|---:|---:|---:|---:|---|\n");
    for (int k = 0; k < OTHER_RATES.length; k++) {
      double pk = OTHER_RATES[k] / 1e6 * totalEffective / totalJobs;
      double hk = 1.96 * Math.sqrt(pk * (1 - pk) / totalJobs);
      double rk = (double) otherConvicted[k] / totalJobs;
      d.append(String.format(Locale.ROOT, "| %.0f %% | %,d | %,d | %.4f | %.4f ± %.4f: %s |%n",
          OTHER_RATES[k] / 1e4, totalJobs, otherConvicted[k], rk, pk, hk,
          Math.abs(rk - pk) <= hk ? "within" : "**outside**"));
    }
    d.append("\n*convicted / sampled* counts sampled jobs whose cheat was effective; the "
        + "interval is p x (effective share) ± 1.96 standard deviations of a binomial over the "
        + "jobs.\n\n");

    // 2 and 3. Timing: ORT, canonical, canonical traced (worker and verifier), referee step.
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    StringBuilder c = new StringBuilder();
    c.append("### Compute: worker, verifier, referee; canonical executor against ONNX Runtime\n\n");
    c.append("Batch 1, one input per model; median µs per run over ").append(6).append(
        " rotating rounds of ").append(s.millis()).append(" ms per path after a warm-up, all "
        + "single-threaded: ONNX Runtime with one intra-op and one inter-op thread (the baseline), "
        + "the canonical executor without and with the trace (the worker's run and a verifier's "
        + "re-run in the optimistic mode are both `runTraced`), and the referee's check of the "
        + "model's largest step as the ledger runs it (`Trace.verifyStep` on the model's "
        + "`Trace.index`: weights taken from the model, hashed once per model).\n\n");
    c.append("| model | ONNX Runtime | canonical | canonical / ORT | canonical traced (worker, "
        + "verifier) | traced / ORT | referee: largest step | step / traced run |\n"
        + "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    StringBuilder e = new StringBuilder();
    e.append("### Extra network compute at sampling rates 1 %, 5 %, 10 %\n\n");
    e.append("Extra compute per job = p x k x (verifier's traced re-run) / (worker's traced run), "
        + "with k verifiers per sampled job (genesis `verifiersPerSample`, default 2); the second "
        + "figure is the whole network's compute per job, (worker's traced run + p x k x "
        + "re-run) / ONNX Runtime's plain run, i.e. against a node running ONNX Runtime with no "
        + "verification at all. Times from the table above.\n\n");
    e.append("| model | k | p = 1 % | p = 5 % | p = 10 % | network / ORT at 1 % | at 5 % | at 10 % |\n"
        + "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Subject subj : subjects) {
      NamedTensors inputs = subj.job(0);
      byte[] onnx = OnnxWriter.write(subj.model());
      try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
        o.setIntraOpNumThreads(1);
        o.setInterOpNumThreads(1);
        try (OrtSession session = env.createSession(onnx, o);
             CanonicalExecutor ex = CanonicalExecutor.create(subj.model())) {
          Map<String, OnnxTensor> feed = new LinkedHashMap<>();
          for (var en : inputs.asMap().entrySet()) {
            feed.put(en.getKey(), OnnxTensor.createTensor(env,
                FloatBuffer.wrap(en.getValue().toFloats()), en.getValue().shape()));
          }
          Execution run = ex.runTraced(inputs);
          Trace trace = run.trace();
          int largest = largestStep(subj.model());
          var opening = trace.open(largest);
          Hash root = trace.root();
          Map<String, Timing.Request> paths = new LinkedHashMap<>();
          paths.put("ort", () -> {
            try (OrtSession.Result r = session.run(feed)) {
              return ((OnnxTensor) r.get(0)).getFloatBuffer().get(0);
            }
          });
          paths.put("canonical", () -> ex.run(inputs));
          paths.put("traced", () -> ex.runTraced(inputs).trace().root());
          // the referee's check as the ledger runs it: weights from the model (hashed once per
          // model), the opening carrying only the step's other inputs
          Trace.ModelIndex index = Trace.index(subj.model());
          List<Tensor> opened = new ArrayList<>();
          int at = 0;
          for (String name : subj.model().graph().nodes().get(largest).inputs()) {
            if (name.isEmpty()) {
              continue;
            }
            Tensor t = opening.inputs().get(at++);
            if (subj.model().graph().initializer(name).isEmpty()) {
              opened.add(t);
            }
          }
          dev.verity.exec.StepOpening indexed =
              new dev.verity.exec.StepOpening(opening.step(), opening.proof(), opened);
          Trace.verifyStep(index, root, indexed); // throws if the opening were wrong
          paths.put("referee", () -> {
            Trace.verifyStep(index, root, indexed);
            return indexed;
          });
          Timing.warmUp(paths, 2 * s.millis());
          Map<String, Latencies> l = Timing.measure(paths, 6, s.millis());
          feed.values().forEach(OnnxTensor::close);
          double ort = l.get("ort").summary().p50();
          double can = l.get("canonical").summary().p50();
          double tr = l.get("traced").summary().p50();
          double ref = l.get("referee").summary().p50();
          c.append(String.format(Locale.ROOT,
              "| %s | %.1f | %.1f | %.2fx | %.1f | %.2fx | %.1f (step %d, %s) | %.2f |%n",
              subj.name(), ort, can, can / ort, tr, tr / ort, ref, largest,
              subj.model().graph().nodes().get(largest).opType(), ref / tr));
          for (int k : new int[] {1, 2}) {
            e.append("| ").append(subj.name()).append(" | ").append(k);
            for (double rate : new double[] {0.01, 0.05, 0.10}) {
              e.append(String.format(Locale.ROOT, " | %.1f %%", 100 * rate * k));
            }
            for (double rate : new double[] {0.01, 0.05, 0.10}) {
              e.append(String.format(Locale.ROOT, " | %.2fx", (tr + rate * k * tr) / ort));
            }
            e.append(" |\n");
          }
          log.printf(Locale.ROOT, "%s: ORT %.1f us, canonical %.1f, traced %.1f, referee %.1f%n",
              subj.name(), ort, can, tr, ref);
        }
      }
    }
    e.append("\nThe verifiers' share is p x k exactly because a verifier's re-run is the same "
        + "traced canonical run as the worker's (same code, same inputs); what differs between "
        + "models is only the second figure, the cost of the canonical executor and its trace "
        + "against ONNX Runtime.\n");
    b.append("- Load average (1 / 5 / 15 min) at start ").append(loadStart).append(", at end ")
        .append(BenchmarkDoc.loadAverage()).append(". The machine may be shared with other work; "
            + "read the timings as this run's. Detection counts do not depend on the machine.\n\n");
    b.append(d).append(c).append('\n').append(e);
    return b.toString();
  }

  /** The step with the most parameters among its initializer inputs (the biggest operator). */
  static int largestStep(OnnxModel model) {
    int best = 0;
    long bestSize = -1;
    var nodes = model.graph().nodes();
    for (int i = 0; i < nodes.size(); i++) {
      long size = 0;
      for (String in : nodes.get(i).inputs()) {
        size += model.graph().initializer(in).map(t -> t.elementCount()).orElse(0L);
      }
      if (size > bestSize) {
        bestSize = size;
        best = i;
      }
    }
    return best;
  }
}

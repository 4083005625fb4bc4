package dev.verity.node.optimistic;

import static dev.verity.node.optimistic.OptimisticNetwork.CHALLENGER;
import static dev.verity.node.optimistic.OptimisticNetwork.WORKER;

import dev.verity.core.Hash;
import dev.verity.exec.CanonicalExecutor;
import dev.verity.exec.Execution;
import dev.verity.exec.TraceStep;
import dev.verity.ledger.StateRecord;
import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxWriter;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Benchmark (not a test): time, messages and referee work to settle one dispute over a model of
 * more than 1 M parameters (MLP 1024-1024-1024-10, 2.1 M parameters, 5 steps) on an in-process
 * {@link dev.verity.ledger.SequencerLedger} (default block delay 5 ms), with baselines measured in
 * the same run: the whole canonical inference and the disputed operator alone, single-threaded.
 *
 * <p>Two disputes per repetition, both narrowed to step 2 (the middle 1024x1024 Gemm, the heaviest
 * operator): a worker that lies about it (guilty), and an honest worker against a challenger that
 * lies about it (the referee recomputes and upholds the worker).
 *
 * <pre>
 * mvn -B -q -o install -DskipTests -pl verity-node -am
 * mvn -B -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt \
 *     -Dmdep.includeScope=test -pl verity-node
 * cd verity-node && java -cp target/test-classes:target/classes:$(cat target/test-classpath.txt) \
 *     dev.verity.node.optimistic.DisputeBenchmark 5
 * </pre>
 */
public final class DisputeBenchmark {
  private static final int STEP = 2;

  private DisputeBenchmark() {}

  static OnnxModel mlp(int[] widths, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    OnnxModel.Builder b = OnnxModel.builder().producer("verity-dispute-benchmark", "1")
        .input("x", ElementType.FLOAT, Dim.of(1), Dim.of(widths[0]))
        .output("y", ElementType.FLOAT, Dim.of(1), Dim.of(widths[widths.length - 1]));
    String previous = "x";
    for (int layer = 1; layer < widths.length; layer++) {
      int in = widths[layer - 1];
      int out = widths[layer];
      float[] w = new float[in * out];
      double bound = Math.sqrt(6.0 / in);
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
      }
      float[] bias = new float[out];
      for (int i = 0; i < out; i++) {
        bias[i] = (float) ((random.nextDouble() * 2 - 1) * 0.01);
      }
      b.initializer("w" + layer, new long[] {in, out}, w).initializer("b" + layer, new long[] {out}, bias);
      boolean last = layer == widths.length - 1;
      String gemm = last ? "y" : "fc" + layer;
      b.node("Gemm", List.of(previous, "w" + layer, "b" + layer), List.of(gemm));
      if (!last) {
        b.node("Relu", List.of(gemm), List.of("relu" + layer));
        previous = "relu" + layer;
      }
    }
    return b.build();
  }

  private static LocalTrace lieAt(LocalTrace t, int k) {
    List<TraceStep> steps = new ArrayList<>(t.steps());
    TraceStep s = steps.get(k);
    steps.set(k, new TraceStep(s.index(), s.node(), s.opType(), s.inputs(), Hash.of(s.output().toBytes())));
    return LocalTrace.of(steps, t::inputs);
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private static double median(List<Double> v) {
    double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  }

  public static void main(String[] args) throws Exception {
    int reps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int[] widths = {1024, 1024, 1024, 10};
    OnnxModel model = mlp(widths, 20_240_601L);
    byte[] onnx = OnnxWriter.write(model);
    float[] x = new float[widths[0]];
    SplittableRandom r = new SplittableRandom(7);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextDouble(-1, 1);
    }
    NamedTensors in = NamedTensors.of("x", Tensor.ofFloats(new long[] {1, widths[0]}, x));
    OnnxModel oneGemm = OnnxModel.builder().producer("verity-dispute-benchmark", "1")
        .input("h", ElementType.FLOAT, Dim.of(1), Dim.of(1024)).output("o", ElementType.FLOAT, Dim.of(1), Dim.of(1024))
        .initializer(model.graph().initializer("w2").orElseThrow())
        .initializer(model.graph().initializer("b2").orElseThrow())
        .node("Gemm", List.of("h", "w2", "b2"), List.of("o")).build();
    NamedTensors hidden = NamedTensors.of("h", Tensor.ofFloats(new long[] {1, 1024}, Arrays.copyOf(x, 1024)));

    List<Double> full = new ArrayList<>();
    List<Double> op = new ArrayList<>();
    List<Double> guiltyMs = new ArrayList<>();
    List<Double> upheldMs = new ArrayList<>();
    List<Double> refereeGuilty = new ArrayList<>();
    List<Double> refereeUpheld = new ArrayList<>();
    int messages = 0;
    int moves = 0;
    double coldReferee = 0;
    try (OptimisticNetwork net = new OptimisticNetwork(onnx);
        CanonicalExecutor ex = CanonicalExecutor.create(model, 1);
        CanonicalExecutor one = CanonicalExecutor.create(oneGemm, 1)) {
      LocalTrace honest = null;
      Execution e = null;
      for (int rep = -1; rep < reps; rep++) {
        long t0 = System.nanoTime();
        e = ex.runTraced(in);
        long t1 = System.nanoTime();
        one.run(hidden);
        long t2 = System.nanoTime();
        honest = LocalTrace.of(e);
        for (boolean workerLies : new boolean[] {true, false}) {
          LocalTrace workerTrace = workerLies ? lieAt(honest, STEP) : honest;
          LocalTrace challengerTrace = workerLies ? honest : lieAt(honest, STEP);
          Hash job = net.job(in, workerTrace, e.outputs());
          long refereeBefore = net.refereeNanos.get();
          long s0 = System.nanoTime();
          Hash id = net.send(CHALLENGER, DisputeAgent.challenge(job, 500, challengerTrace)).created().orElseThrow();
          DisputeAgent w = new DisputeAgent(id, DisputeAgent.Side.WORKER, workerTrace, net.model, net.sender(WORKER));
          DisputeAgent c = new DisputeAgent(id, DisputeAgent.Side.CHALLENGER, challengerTrace, net.model,
              net.sender(CHALLENGER));
          int sent = net.play(w, c);
          long s1 = System.nanoTime();
          StateRecord.Dispute d = net.dispute(id);
          StateRecord.Dispute.Phase expected = workerLies
              ? StateRecord.Dispute.Phase.CHALLENGER_WON : StateRecord.Dispute.Phase.WORKER_WON;
          if (d.phase() != expected || d.step() != STEP) {
            throw new AssertionError("unexpected outcome " + d.phase() + " at step " + d.step() + ": " + d.verdict());
          }
          double referee = ms(net.refereeNanos.get() - refereeBefore);
          if (rep < 0) {
            if (workerLies) {
              coldReferee = referee;
            }
            continue;
          }
          (workerLies ? guiltyMs : upheldMs).add(ms(s1 - s0));
          (workerLies ? refereeGuilty : refereeUpheld).add(referee);
          messages = 1 + sent;
          moves = d.moves();
        }
        if (rep >= 0) {
          full.add(ms(t1 - t0));
          op.add(ms(t2 - t1));
        }
      }
      System.out.printf("model: MLP %s, %d parameters, %d steps; disputed step %d (%s)%n",
          Arrays.toString(widths), model.parameterCount(), honest.size(), STEP, honest.step(STEP).opType());
      System.out.printf("messages per dispute: %d transactions (1 challenge + %d moves: %d bisection rounds + 1 proof)%n",
          messages, moves, (moves - 1) / 2);
      System.out.printf("baseline: full canonical inference %.2f ms; the disputed Gemm alone %.2f ms (median of %d)%n",
          median(full), median(op), reps);
      System.out.printf("referee work per ruling: guilty %.2f ms, upheld %.2f ms (first ruling, model parse included: %.1f ms)%n",
          median(refereeGuilty), median(refereeUpheld), coldReferee);
      System.out.printf("settle time, challenge to decision: guilty worker %.1f ms, honest worker %.1f ms%n",
          median(guiltyMs), median(upheldMs));
    }
  }
}

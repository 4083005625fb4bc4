package dev.verity.zk;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Arrays;
import java.util.Random;

/**
 * Benchmark harness (not a test): proving and verification time, proof size and peak heap for a
 * 784-56-10 MLP and a LeNet-5-sized CNN with random int8 weights, next to plain integer inference
 * of the same models. Run from the repository root after {@code mvn -o -q -pl verity-zk
 * test-compile}:
 *
 * <pre>
 * java -Xmx4g -cp verity-zk/target/classes:verity-zk/target/test-classes:verity-core/target/classes \
 *     dev.verity.zk.ZkBenchmark [repetitions]
 * </pre>
 */
public final class ZkBenchmark {
  private ZkBenchmark() {}

  public static void main(String[] args) throws Exception {
    int reps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    System.out.printf("cores=%d, java=%s, max heap=%d MiB%n", Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"), Runtime.getRuntime().maxMemory() >> 20);
    run("MLP 784-56-10", mlp(), 784, reps);
    run("LeNet-5 (1x28x28)", lenet(), 784, reps);
  }

  /** 784-56-10 with ReLU, int8 weights, 16-bit activations. */
  static QuantizedModel mlp() {
    Random rnd = new Random(784);
    var b = QuantizedModel.builder(TestModels.cid("bench-mlp"), Shape.vector(784));
    int h = b.dense(0, 56, TestModels.weights(rnd, 56 * 784, 127), TestModels.bias(rnd, 56, 1000));
    h = b.requant(h, 10, true);
    int o = b.dense(h, 10, TestModels.weights(rnd, 10 * 56, 127), TestModels.bias(rnd, 10, 1000));
    b.requant(o, 10, false);
    return b.build();
  }

  /** LeNet-5: conv5x5(6, pad 2)-relu-maxpool-conv5x5(16)-relu-maxpool-fc120-relu-fc84-relu-fc10. */
  static QuantizedModel lenet() {
    Random rnd = new Random(5);
    var b = QuantizedModel.builder(TestModels.cid("bench-lenet5"), new Shape(1, 28, 28));
    int c1 = b.conv2d(0, 6, 5, 1, 2, TestModels.weights(rnd, 6 * 25, 127), TestModels.bias(rnd, 6, 1000));
    int p1 = b.maxPool(b.requant(c1, 8, true));
    int c2 = b.conv2d(p1, 16, 5, 1, 0, TestModels.weights(rnd, 16 * 6 * 25, 127), TestModels.bias(rnd, 16, 1000));
    int p2 = b.maxPool(b.requant(c2, 10, true));
    int f1 = b.requant(b.dense(p2, 120, TestModels.weights(rnd, 120 * 400, 127), TestModels.bias(rnd, 120, 1000)), 10, true);
    int f2 = b.requant(b.dense(f1, 84, TestModels.weights(rnd, 84 * 120, 127), TestModels.bias(rnd, 84, 1000)), 9, true);
    b.requant(b.dense(f2, 10, TestModels.weights(rnd, 10 * 84, 127), TestModels.bias(rnd, 10, 1000)), 9, false);
    return b.build();
  }

  private static long[] pixels(Random rnd, int n) {
    long[] x = new long[n];
    for (int i = 0; i < n; i++) {
      x[i] = rnd.nextInt(128);
    }
    return x;
  }

  private static void run(String name, QuantizedModel model, int inputs, int reps) throws Exception {
    System.out.printf("%n== %s: %d parameters, %d MACs%n", name, model.parameterCount(), model.multiplyAccumulates());
    Random rnd = new Random(42);
    long[] input = pixels(rnd, inputs);
    long[] out = model.run(input);
    System.out.println("output: " + Arrays.toString(out));

    // plain inference baseline (same integer model, no proof)
    double[] infer = new double[Math.max(reps, 20)];
    for (int w = 0; w < 200; w++) {
      model.run(pixels(rnd, inputs));
    }
    for (int i = 0; i < infer.length; i++) {
      long[] x = pixels(rnd, inputs);
      long t0 = System.nanoTime();
      model.run(x);
      infer[i] = (System.nanoTime() - t0) / 1e6;
    }

    resetPeaks();
    long t0 = System.nanoTime();
    ProvingKey pk = ProvingKey.of(model);
    double keyMs = (System.nanoTime() - t0) / 1e6;

    double[] prove = new double[reps + 1];
    double[] verify = new double[reps + 1];
    int size = 0;
    long peak = 0;
    for (int i = 0; i <= reps; i++) {
      long[] x = pixels(rnd, inputs);
      resetPeaks();
      long a = System.nanoTime();
      ProvedInference p = ZkInference.prove(pk, x, Blinding.random());
      prove[i] = (System.nanoTime() - a) / 1e6;
      peak = Math.max(peak, peakHeap());
      long b = System.nanoTime();
      ZkInference.verify(p.statement(), p.proof());
      verify[i] = (System.nanoTime() - b) / 1e6;
      size = p.proof().size();
    }
    System.out.printf("proving key (weights commitment): %.1f ms%n", keyMs);
    Circuit c = pk.circuit();
    System.out.printf("committed values: input %d, witness %d, lookup helpers %d, weights %d; %d sum-checks%n",
        c.inputLength, c.witnessLength, c.helperLength, c.weightsLength, c.checks.size());
    System.out.printf("prove:  first %.1f ms, median of next %d: %.1f ms (min %.1f)%n", prove[0], reps, median(prove, 1), min(prove, 1));
    System.out.printf("verify: first %.1f ms, median of next %d: %.1f ms (min %.1f)%n", verify[0], reps, median(verify, 1), min(verify, 1));
    System.out.printf("proof size: %d bytes (%.1f KiB)%n", size, size / 1024.0);
    System.out.printf("peak heap during proving: %.1f MiB%n", peak / 1048576.0);
    double inf = median(infer, 0);
    System.out.printf("plain inference: median %.3f ms -> proving overhead x%.0f%n", inf, median(prove, 1) / inf);
  }

  private static void resetPeaks() {
    System.gc();
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

  private static double median(double[] v, int from) {
    double[] s = Arrays.copyOfRange(v, from, v.length);
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static double min(double[] v, int from) {
    return Arrays.stream(v, from, v.length).min().orElse(0);
  }
}

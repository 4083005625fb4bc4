package dev.verity.exec;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import dev.verity.models.ExampleModel;
import dev.verity.onnx.OnnxModel;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Latency of the canonical executor against ONNX Runtime with one intra-op thread, on the
 * built-in models and a 2.1M-parameter MLP. Not a test: run it by hand (see docs/EXECUTOR.md),
 * on a quiet machine. Prints a markdown table of median latencies.
 */
public final class ExecutorBenchmark {
  private ExecutorBenchmark() {}

  interface Call {
    void run() throws Exception;
  }

  /** Median microseconds per call, after a warm-up, over about {@code seconds} of calls. */
  static double median(Call c, double seconds) throws Exception {
    long warmEnd = System.nanoTime() + (long) (seconds * 0.5e9);
    while (System.nanoTime() < warmEnd) {
      c.run();
    }
    List<Long> times = new ArrayList<>();
    long end = System.nanoTime() + (long) (seconds * 1e9);
    while (System.nanoTime() < end || times.size() < 5) {
      long t0 = System.nanoTime();
      c.run();
      times.add(System.nanoTime() - t0);
    }
    long[] t = times.stream().mapToLong(Long::longValue).sorted().toArray();
    return t[t.length / 2] / 1e3;
  }

  record Workload(String name, OnnxModel model, NamedTensors inputs) {}

  public static void main(String[] args) throws Exception {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
    List<Workload> w = new ArrayList<>();
    for (ExampleModel m : Fixtures.builtins()) {
      w.add(new Workload(m.name() + " (1 row)", Fixtures.onnx(m), Fixtures.sample(m, 0)));
      NamedTensors batch = Fixtures.samplesBatch(m);
      w.add(new Workload(m.name() + " (" + batch.get(m.inputName()).shape()[0] + " rows)",
          Fixtures.onnx(m), batch));
    }
    OnnxModel mlp = Fixtures.mlp(1024, 1024, 10, 1);
    w.add(new Workload("mlp 1024-1024-1024-10, " + mlp.parameterCount() + " params (1 row)", mlp,
        Fixtures.randomRows(1, 1024, 2)));
    w.add(new Workload("mlp 1024-1024-1024-10 (32 rows)", mlp, Fixtures.randomRows(32, 1024, 3)));
    w.add(new Workload("conv net 3x24x24 (8 images)", Fixtures.convNet(4), Fixtures.images(8, 5)));

    System.out.println("| workload | ONNX Runtime, 1 thread (µs) | canonical, 1 thread (µs) |"
        + " ratio | canonical traced, 1 thread (µs) | canonical, 4 threads (µs) |");
    System.out.println("|---|---:|---:|---:|---:|---:|");
    for (Workload x : w) {
      double ort;
      try (Ort o = new Ort(x.model())) {
        OrtSession s = o.session();
        Map<String, OnnxTensor> feed = new HashMap<>();
        for (var e : x.inputs().asMap().entrySet()) {
          Tensor t = e.getValue();
          feed.put(e.getKey(), OnnxTensor.createTensor(Ort.ENV, FloatBuffer.wrap(t.toFloats()),
              t.shape()));
        }
        ort = median(() -> {
          try (OrtSession.Result r = s.run(feed)) {
            ((OnnxTensor) r.get(0)).getFloatBuffer();
          }
        }, seconds);
        feed.values().forEach(OnnxTensor::close);
      }
      double one;
      double traced;
      double four;
      try (CanonicalExecutor ex = CanonicalExecutor.create(x.model(), 1)) {
        one = median(() -> ex.run(x.inputs()), seconds);
        traced = median(() -> ex.runTraced(x.inputs()), seconds);
      }
      try (CanonicalExecutor ex = CanonicalExecutor.create(x.model(), 4)) {
        four = median(() -> ex.run(x.inputs()), seconds);
      }
      System.out.printf("| %s | %.1f | %.1f | %.2fx | %.1f | %.1f |%n", x.name(), ort, one,
          one / ort, traced, four);
    }
    System.out.println();
    System.out.println("JVM " + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors()
        + " processors; medians over " + seconds + " s per cell after warm-up; args: "
        + Arrays.toString(args));
  }
}

package dev.verity.node;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prints the adversarial table of mode optimistic for the docs: every cheating strategy played by a
 * real worker node over HTTP, a worker that stalls in disputes, and a lazy verifier against planted
 * jobs, each over {@code args[0]} jobs (default 200) at the sampling rate of {@link
 * OptimisticNetwork.Params#defaults()}. Not a test.
 *
 * <pre>
 * mvn -B -q -o install -DskipTests -pl verity-node -am
 * mvn -B -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt \
 *     -Dmdep.includeScope=test -pl verity-node
 * cd verity-node && java --enable-native-access=ALL-UNNAMED \
 *     -cp target/test-classes:target/classes:$(cat target/test-classpath.txt) dev.verity.node.AdversarialBenchmark 200
 * </pre>
 */
public final class AdversarialBenchmark {
  private AdversarialBenchmark() {}

  public static void main(String[] args) throws Exception {
    int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    Path dir = Files.createTempDirectory("verity-adversarial");
    long t0 = System.nanoTime();
    List<String> names = new ArrayList<>();
    for (Cheats c : Cheats.values()) {
      names.add(c.name().toLowerCase(Locale.ROOT));
    }
    names.add("perturbed_weights-stalls");
    List<AdversarialRun.Row> rows = new ArrayList<>();
    try (OptimisticNetwork net = AdversarialRun.network(dir.resolve("cheats"), false, names)) {
      for (Cheats c : Cheats.values()) {
        rows.add(AdversarialRun.cheatingWorker(net, c, false, jobs));
        System.err.println(rows.get(rows.size() - 1).format());
      }
      rows.add(AdversarialRun.cheatingWorker(net, Cheats.PERTURBED_WEIGHTS, true, jobs));
    }
    try (OptimisticNetwork net = AdversarialRun.network(dir.resolve("lazy"), true, List.of("auditor"))) {
      rows.add(AdversarialRun.lazyVerifier(net, jobs));
    }
    OptimisticNetwork.Params p = OptimisticNetwork.Params.defaults();
    System.out.printf(Locale.ROOT, "Adversarial suite: %d jobs per strategy, sampling %.0f%%, %d verifier(s) per sample,"
        + " slash %.0f%% of stake per lost dispute, %d processors, %.0f s%n", jobs, p.samplingPpm() / 1e4,
        p.verifiersPerSample(), p.slashBps() / 100.0, Runtime.getRuntime().availableProcessors(),
        (System.nanoTime() - t0) / 1e9);
    System.out.println(AdversarialRun.table(rows));
    System.exit(0);
  }
}

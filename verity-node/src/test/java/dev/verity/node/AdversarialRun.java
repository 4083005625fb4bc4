package dev.verity.node;

import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import dev.verity.ledger.Action;
import dev.verity.ledger.LedgerView;
import dev.verity.ledger.StateRecord;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.optimistic.OptimisticAgent;
import dev.verity.protocol.ModelManifest;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.VerityClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The adversarial measurements of mode optimistic, each strategy played by a real misbehaving node
 * over HTTP on a real ledger: how many cheated jobs were caught, against how many the sampling rate
 * predicts, and what the cheater lost. Used by {@code AdversarialSuiteTest} (bounded, asserting)
 * and by {@code AdversarialBenchmark} (more jobs, prints the table for the docs).
 */
final class AdversarialRun {
  /**
   * One line of the table.
   *
   * @param cheated jobs answered wrongly
   * @param sampled of those, the ones the ledger drew for re-execution
   * @param detected of those, the ones found invalid (worker slashed)
   * @param honestLosses jobs answered honestly that were nevertheless found invalid (must be 0)
   */
  record Row(String strategy, int jobs, int cheated, int sampled, int detected, double predicted, long slashed,
      int honestLosses, String note) {
    double rate() {
      return cheated == 0 ? 0 : (double) detected / cheated;
    }

    /** Half-width of the 99.9% normal interval of a binomial rate with this many trials. */
    double tolerance() {
      return cheated == 0 ? 0 : 3.3 * Math.sqrt(predicted * (1 - predicted) / cheated) + 1.0 / cheated;
    }

    String format() {
      return String.format(Locale.ROOT, "| %-22s | %4d | %4d | %4d | %4d | %6.1f%% | %6.1f%% +- %4.1f | %s | %10d | %s |",
          strategy, jobs, cheated, sampled, detected, 100 * rate(), 100 * predicted, 100 * tolerance(),
          sampled == 0 || cheated == 0 ? "   -  " : String.format(Locale.ROOT, "%5.1f%%", 100.0 * detected / sampled), slashed, note);
    }

    static String header() {
      return "| strategy               | jobs | bad  | smpl | caught | rate | predicted (p) | caught if sampled | slashed | note |\n"
          + "|---|---|---|---|---|---|---|---|---|---|";
    }
  }

  private AdversarialRun() {}

  /**
   * Runs {@code jobs} paid optimistic inferences on a worker playing {@code cheat} (stalling in
   * disputes when {@code stalls}) in a network of two honest verifiers, waits until the ledger has
   * checked every job, and measures.
   */
  static Row cheatingWorker(OptimisticNetwork net, Cheats cheat, boolean stalls, int jobs) throws Exception {
    String name = cheat.name().toLowerCase(Locale.ROOT) + (stalls ? "-stalls" : "");
    VerityNode.Conduct conduct = VerityNode.Conduct.HONEST.withWorker(cheat.worker(net.models()));
    if (stalls) {
      conduct = conduct.stallingInDisputes();
    }
    VerityNode w = net.addWorker(name, conduct);
    List<Hash> ids = new ArrayList<>();
    List<ExampleModel> models = BuiltinModels.all();
    try (VerityClient c = net.clientOf(w)) {
      for (int i = 0; i < jobs; i++) {
        ExampleModel m = models.get(i % models.size());
        ids.add(OptimisticNetwork.infer(c, net.manifests.get(m), OptimisticNetwork.inputs(m, i / models.size())));
      }
    }
    net.awaitUntil("every job of " + name + " checked", () -> ids.stream().allMatch(net::checked));
    LedgerView v = net.ledger().view();
    int cheated = 0;
    int sampled = 0;
    int invalid = 0;
    int honestLosses = 0;
    for (int i = 0; i < ids.size(); i++) {
      // the replaying worker answers its first request of each model honestly
      boolean bad = cheat != Cheats.HONEST && !(cheat == Cheats.REPLAYED_OUTPUT && i < models.size());
      boolean s = v.sample(ids.get(i)).orElseThrow().sampled();
      boolean lost = v.job(ids.get(i)).orElseThrow().status() == StateRecord.Job.Status.INVALID;
      if (bad) {
        cheated++;
        sampled += s ? 1 : 0;
        invalid += lost ? 1 : 0;
      } else {
        honestLosses += lost ? 1 : 0;
        sampled += cheat == Cheats.HONEST && s ? 1 : 0; // the control: honest jobs re-executed and attested
      }
    }
    // the worker tops its stake up after slashes: count what it lost by the disputes' own record
    long lost = slashedOf(net, w.address(), ids);
    String how = verdicts(net, ids);
    double p = net.params.samplingPpm() / 1e6;
    return new Row(name, jobs, cheated, sampled, invalid, p, lost, honestLosses,
        cheat == Cheats.HONEST ? "honest worker (threads 2), verifiers (threads 1, 3)" : how);
  }

  /** How the disputes over {@code jobs} were decided: claim, and step or timeout, most common first. */
  static String verdicts(OptimisticNetwork net, List<Hash> jobs) {
    LedgerView v = net.ledger().view();
    Map<String, Integer> kinds = new java.util.TreeMap<>();
    for (Hash job : jobs) {
      for (VerityNode verifier : net.verifiers) {
        v.dispute(Action.Challenge.disputeId(job, verifier.address())).ifPresent(d -> {
          String k = d.verdict().toLowerCase(Locale.ROOT).contains("timeout") || d.verdict().contains("overdue")
              ? d.claim().name().toLowerCase(Locale.ROOT) + " claim, worker timed out"
              : d.claim() == StateRecord.Dispute.Claim.OUTPUTS ? "outputs claim"
              : d.moves() == 0 ? "step counts differ, ruled at once"
              : "trace claim, step " + d.step() + " recomputed";
          kinds.merge(k, 1, Integer::sum);
        });
      }
    }
    return kinds.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue())
        .map(e -> e.getKey() + " x" + e.getValue()).reduce((a, b) -> a + "; " + b).orElse("");
  }

  /** What the disputes over {@code jobs} took from {@code worker}. */
  static long slashedOf(OptimisticNetwork net, Address worker, List<Hash> jobs) {
    LedgerView v = net.ledger().view();
    long total = 0;
    for (Hash job : jobs) {
      for (VerityNode verifier : net.verifiers) {
        Optional<StateRecord.Dispute> d = v.dispute(Action.Challenge.disputeId(job, verifier.address()));
        if (d.isPresent() && d.get().worker().equals(worker)) {
          total += d.get().slashed();
        }
      }
    }
    return total;
  }

  /**
   * Planted jobs against a lazy verifier (the only verifier, so every sampled job is assigned to
   * it): the auditor's worker commits the planted root of each; after the window the auditor
   * reveals them; every attestation of a planted root is slashed. Measured: the share of planted
   * jobs that caught the verifier (predicted: the sampling rate), and after how many planted jobs
   * the first catch came (predicted: P(caught within k) = 1 - (1-p)^k).
   */
  static Row lazyVerifier(OptimisticNetwork net, int jobs) throws Exception {
    Map<Hash, Hash> salts = new ConcurrentHashMap<>();
    VerityNode.Conduct auditor = VerityNode.Conduct.HONEST
        .committing(job -> Optional.ofNullable(salts.get(job)).map(salt -> Action.OpenJob.plantedRoot(salt, job)))
        .stallingInDisputes();
    VerityNode w = net.addWorker("auditor", auditor);
    Address lazy = net.verifiers.get(0).address();
    long wealthBefore = net.wealth(lazy);
    List<Hash> ids = new ArrayList<>();
    List<ExampleModel> models = BuiltinModels.all();
    java.security.SecureRandom random = new java.security.SecureRandom();
    java.util.concurrent.BlockingQueue<Hash> toReveal = new java.util.concurrent.LinkedBlockingQueue<>();
    List<Hash> revealed = java.util.Collections.synchronizedList(new ArrayList<>());
    try (VerityClient c = net.clientOf(w)) {
      // the auditor reveals each planted job as soon as its challenge window has closed, while it
      // keeps planting (the reveal period is one window long)
      Thread revealer = Thread.ofPlatform().daemon().start(() -> {
        try {
          while (revealed.size() < jobs) {
            Hash id = toReveal.take();
            while (true) {
              Optional<StateRecord.Check> check = net.ledger().view().check(id);
              if (check.isPresent() && net.ledger().view().height() > check.get().committedHeight()
                  + net.params.challengeWindowBlocks()) {
                break;
              }
              Thread.sleep(5);
            }
            synchronized (c.ledger()) {
              c.ledger().send(new Action.Reveal(id, salts.get(id)));
            }
            revealed.add(id);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      for (int i = 0; i < jobs; i++) {
        ExampleModel m = models.get(i % models.size());
        ModelManifest manifest = net.manifests.get(m);
        byte[] s = new byte[32];
        random.nextBytes(s);
        Hash salt = Hash.wrap(s);
        Hash job;
        synchronized (c.ledger()) {
          job = net.openPlanted(c, manifest, w.address(), salt);
        }
        salts.put(job, salt);
        c.infer(ModelRef.ofManifest(manifest.cid()), OptimisticNetwork.inputs(m, i / models.size()),
            dev.verity.protocol.VerificationMode.OPTIMISTIC, net.uniqueRequest(), Optional.of(job));
        ids.add(job);
        toReveal.add(job);
      }
      Hash last = ids.get(ids.size() - 1);
      net.awaitUntil("the last planted job committed", () -> net.ledger().view().check(last).isPresent());
      net.advancePast(net.ledger().view().check(last).orElseThrow().committedHeight() + net.params.challengeWindowBlocks());
      net.awaitUntil("every planted job revealed", () -> revealed.size() == jobs || !revealer.isAlive());
      revealer.join(1_000);
      if (revealed.size() < jobs) {
        throw new IllegalStateException("only " + revealed.size() + " of " + jobs + " planted jobs were revealed");
      }
      int sampled = 0;
      int caught = 0;
      int firstCatch = -1;
      for (int i = 0; i < ids.size(); i++) {
        StateRecord.Check check = net.ledger().view().check(ids.get(i)).orElseThrow();
        sampled += check.sample().orElseThrow().assigned(lazy) ? 1 : 0;
        if (check.attesters().contains(lazy)) {
          caught++;
          firstCatch = firstCatch < 0 ? i + 1 : firstCatch;
        }
      }
      double p = net.params.samplingPpm() / 1e6;
      // it re-bonds from its balance after a slash, and planted jobs pay no check fee: the loss is the slash
      long slashed = wealthBefore - net.wealth(lazy);
      return new Row("lazy verifier (planted)", jobs, jobs, sampled, caught, p, slashed, 0,
          String.format(Locale.ROOT, "first caught at planted job %d; P(caught within %d) = 1-(1-p)^%d = %.1f%%",
              firstCatch, jobs, jobs, 100 * (1 - Math.pow(1 - p, jobs))));
    }
  }

  /**
   * An honest worker against a verifier that recomputes with altered weights and so challenges
   * every job it is assigned with a wrong (but consistent) trace: every dispute goes to the
   * referee's one-operator check, the worker wins each and is never slashed; the challenger loses
   * its bond each time. Needs a network whose only verifier plays that part.
   */
  static Row griefingChallenger(OptimisticNetwork net, int jobs) throws Exception {
    VerityNode w = net.addWorker("honest", VerityNode.Conduct.HONEST);
    Address griefer = net.verifiers.get(0).address();
    long before = net.wealth(griefer);
    List<Hash> ids = new ArrayList<>();
    List<ExampleModel> models = BuiltinModels.all();
    try (VerityClient c = net.clientOf(w)) {
      for (int i = 0; i < jobs; i++) {
        ExampleModel m = models.get(i % models.size());
        ids.add(OptimisticNetwork.infer(c, net.manifests.get(m), OptimisticNetwork.inputs(m, i / models.size())));
      }
    }
    net.awaitUntil("every dispute decided", () -> ids.stream().allMatch(id -> {
      Optional<StateRecord.Check> check = net.ledger().view().check(id);
      return check.isPresent() && check.get().sample().isPresent() && check.get().openDisputes() == 0
          && (!check.get().sample().get().assigned(griefer)
              || net.ledger().view().dispute(Action.Challenge.disputeId(id, griefer)).isPresent());
    }));
    LedgerView v = net.ledger().view();
    int disputes = 0;
    int workerWon = 0;
    int lost = 0;
    for (Hash id : ids) {
      Optional<StateRecord.Dispute> d = v.dispute(Action.Challenge.disputeId(id, griefer));
      disputes += d.isPresent() ? 1 : 0;
      workerWon += d.isPresent() && d.get().phase() == StateRecord.Dispute.Phase.WORKER_WON ? 1 : 0;
      lost += v.job(id).orElseThrow().status() == StateRecord.Job.Status.INVALID ? 1 : 0;
    }
    return new Row("griefing challenger", jobs, 0, disputes, workerWon, net.params.samplingPpm() / 1e6, 0, lost,
        String.format(Locale.ROOT, "honest worker won %d of %d disputes (referee recomputed the step); challenger lost %d",
            workerWon, disputes, before - net.wealth(griefer)));
  }

  static String table(List<Row> rows) {
    StringBuilder b = new StringBuilder(Row.header()).append('\n');
    rows.forEach(r -> b.append(r.format()).append('\n'));
    return b.toString();
  }

  /** The network the measurements run on: two honest verifiers (or one lazy), the given workers. */
  static OptimisticNetwork network(Path dir, boolean lazy, List<String> workers) throws Exception {
    List<VerityNode.Conduct> verifiers = lazy
        ? List.of(VerityNode.Conduct.HONEST.withDiligence(OptimisticAgent.Diligence.ALWAYS_AGREES))
        : List.of(VerityNode.Conduct.HONEST, VerityNode.Conduct.HONEST);
    return new OptimisticNetwork(dir, OptimisticNetwork.Params.defaults(), verifiers, workers);
  }
}

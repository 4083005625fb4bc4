package dev.verity.bench;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Monte Carlo check of the rule that makes cheating unprofitable in the optimistic mode
 * (docs/OPTIMISTIC.md, "Why cheating does not pay"). Many jobs are played under each strategy
 * of a worker or verifier with the genesis defaults (sampling, slash, stake, check fee, windows),
 * and the simulated profit is compared with the closed form the rule predicts. Seeded: the same
 * settings give the same table.
 *
 * <p>Detection when sampled is taken as certain given one honest verifier among those drawn,
 * as measured at the executor level by {@code CheatDetectionTest} and the detection harness.
 */
public final class OptimisticEconomics {
  static final String SECTION = "optimistic-economics";

  private OptimisticEconomics() {}

  /**
   * The economic parameters, in ledger units and blocks.
   *
   * @param p network sampling rate (genesis {@code samplingPpm} / 10^6)
   * @param k verifiers drawn per sampled job ({@code verifiersPerSample})
   * @param checkFee paid to each attesting verifier, from the worker's check pool ({@code checkFee})
   * @param slash fraction of stake slashed ({@code slashBps} / 10^4)
   * @param stake the worker's bonded stake ({@code minNodeStake} for the least-staked worker)
   * @param verifierStake a verifier's bonded stake
   * @param fee fee of a normal job; its compute cost is {@code cost}, which a cheater saves
   * @param cost compute cost of a normal job (worker's run, and a verifier's re-run)
   * @param window challenge window ({@code challengeWindowBlocks})
   * @param unbonding unbonding period ({@code unbondingBlocks})
   * @param dispute blocks a dispute takes from challenge to ruling (moves x move time / block time)
   */
  record Params(double p, int k, double checkFee, double slash, double stake, double verifierStake,
      double fee, double cost, long window, long unbonding, long dispute) {
    /** The genesis builder's defaults, a job priced at 10 costing 6 to compute. */
    static Params defaults() {
      return new Params(0.05, 2, 10, 0.5, 1000, 1000, 10, 6, 50, 100, 60);
    }

    double pSigmaS() {
      return p * slash * stake;
    }
  }

  /** One row of the result table. */
  record Row(String strategy, String setting, double simulated, double halfWidth, double predicted,
      double honest, String unit) {
    boolean pays() {
      return simulated > honest;
    }

    /** (simulated - predicted) in standard errors of the simulation. */
    double z() {
      double se = halfWidth / 1.96;
      return se == 0 ? (simulated == predicted ? 0 : Double.POSITIVE_INFINITY)
          : (simulated - predicted) / se;
    }
  }

  record Settings(long jobs, long seed, Optional<Path> doc, String command) {
    static Settings parse(String[] args) {
      Settings s = new Settings(2_000_000, 1, Optional.empty(), "java ... OptimisticEconomics");
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--help") || i + 1 >= args.length) {
          throw new IllegalArgumentException("""
              usage: OptimisticEconomics [--doc FILE] [--command TEXT] [--jobs N] [--seed S]
                --doc FILE   write the results into FILE's optimistic-economics section
                --jobs N     jobs simulated per per-job strategy (default 2000000)
                --seed S     random seed (default 1)""");
        }
        String v = args[++i];
        s = switch (a) {
          case "--jobs" -> new Settings(Long.parseLong(v), s.seed, s.doc, s.command);
          case "--seed" -> new Settings(s.jobs, Long.parseLong(v), s.doc, s.command);
          case "--doc" -> new Settings(s.jobs, s.seed, Optional.of(Path.of(v)), s.command);
          case "--command" -> new Settings(s.jobs, s.seed, s.doc, v);
          default -> throw new IllegalArgumentException("unknown option " + a);
        };
      }
      if (s.jobs < 1000) {
        throw new IllegalArgumentException("--jobs must be at least 1000");
      }
      return s;
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
    System.out.println(section);
    if (s.doc().isPresent()) {
      BenchmarkDoc.writeSection(s.doc().get(), SECTION, section);
      System.out.println("wrote section '" + SECTION + "' of " + s.doc().get());
    }
  }

  // ---- per-job strategies of a worker that stays in business (re-bonds after a slash) ----

  /**
   * A worker's choice per job. {@code fee}, {@code cost}: the job's; {@code rate}: its sampling
   * rate; returns whether it cheats.
   */
  interface WorkerPolicy {
    boolean cheats(double fee, SplittableRandom r);
  }

  /** Job mix: a fraction {@code highShare} of jobs has {@code highFactor} times the fee and cost. */
  record JobMix(double highShare, double highFactor, boolean clientsRaiseRate) {}

  /**
   * Simulates {@code jobs} jobs of one worker. Per job: fee in, check pool {@code k x checkFee}
   * paid out when sampled, compute cost unless it cheats; a sampled cheat is detected when at least
   * one drawn verifier is honest ({@code detect}) and costs {@code slash x stake} (the worker
   * re-bonds to keep serving).
   */
  static double[] simulateWorker(Params q, JobMix mix, WorkerPolicy policy, double detect, long jobs,
      SplittableRandom r) {
    double sum = 0;
    double sumSq = 0;
    for (long j = 0; j < jobs; j++) {
      boolean high = r.nextDouble() < mix.highShare();
      double scale = high ? mix.highFactor() : 1;
      double fee = q.fee() * scale;
      double cost = q.cost() * scale;
      double rate = rateFor(q, mix, cost);
      boolean cheat = policy.cheats(fee, r);
      boolean sampled = r.nextDouble() < rate;
      double profit = fee - (cheat ? 0 : cost) - (sampled ? q.k() * q.checkFee() : 0);
      if (cheat && sampled && r.nextDouble() < detect) {
        profit -= q.slash() * q.stake();
      }
      sum += profit;
      sumSq += profit * profit;
    }
    double mean = sum / jobs;
    double var = Math.max(0, sumSq / jobs - mean * mean);
    return new double[] {mean, 1.96 * Math.sqrt(var / jobs)};
  }

  /**
   * The rate a job runs at: the network's, or, where clients raise it, enough that its saving is
   * below 63 % of the expected slash: {@code p_j = g_j / (0.63 slash stake)}.
   */
  static double rateFor(Params q, JobMix mix, double saving) {
    if (!mix.clientsRaiseRate()) {
      return q.p();
    }
    return Math.min(1, Math.max(q.p(), saving / (RULE_MARGIN * q.slash() * q.stake())));
  }

  /** 1 - 1/e: the margin that also covers bursts of up to 1/(p slash) jobs (see the doc). */
  static final double RULE_MARGIN = 1 - 1 / Math.E;

  /** Expected profit per job by the closed form: fee - check pool - (1-x) cost + x (g - p d slash S). */
  static double predictWorker(Params q, JobMix mix, double xNormal, double xHigh, double detect) {
    double total = 0;
    for (boolean high : new boolean[] {false, true}) {
      double share = high ? mix.highShare() : 1 - mix.highShare();
      double scale = high ? mix.highFactor() : 1;
      double x = high ? xHigh : xNormal;
      double cost = q.cost() * scale;
      double rate = rateFor(q, mix, cost);
      double e = q.fee() * scale - rate * q.k() * q.checkFee() - (1 - x) * cost
          - x * rate * detect * q.slash() * q.stake();
      total += share * e;
    }
    return total;
  }

  // ---- bursts and exits: a worker that cheats on its last jobs, then takes its stake out ----

  /**
   * A worker commits one job per block at heights {@code 0..jobs-1} and cheats on all of them; its
   * stake is released (withdrawn after unbonding) at height {@code release}. A
   * sampled job is challenged {@code 1 + delay} blocks after its commitment (delay uniform in
   * [0, 5]: the block whose hash seeds the sample, then the verifier's re-run) and the ruling lands
   * {@code dispute} blocks later; a slash takes {@code slash} of the stake still held, and nothing
   * once it is released. Returns the mean over trials of (saving - slashed) and its 95 % half-width.
   */
  static double[] simulateBurst(Params q, int jobs, long release, long trials,
      SplittableRandom r) {
    double sum = 0;
    double sumSq = 0;
    for (long t = 0; t < trials; t++) {
      double stakeLeft = q.stake();
      for (int h = 0; h < jobs; h++) {
        if (r.nextDouble() < q.p()) {
          long lands = h + 1 + r.nextInt(6) + q.dispute();
          if (lands < release) {
            stakeLeft *= 1 - q.slash();
          }
        }
      }
      double profit = jobs * q.cost() - (q.stake() - stakeLeft);
      sum += profit;
      sumSq += profit * profit;
    }
    double mean = sum / trials;
    double var = Math.max(0, sumSq / trials - mean * mean);
    return new double[] {mean, 1.96 * Math.sqrt(var / trials)};
  }

  /** Closed form of {@link #simulateBurst}: J g - S (1 - prod_h (1 - p slash P(lands before release))). */
  static double predictBurst(Params q, int jobs, long release) {
    double keep = 1;
    for (int h = 0; h < jobs; h++) {
      int before = 0;
      for (int d = 0; d < 6; d++) {
        if (h + 1 + d + q.dispute() < release) {
          before++;
        }
      }
      keep *= 1 - q.p() * q.slash() * before / 6.0;
    }
    return jobs * q.cost() - q.stake() * (1 - keep);
  }

  // ---- verifiers ----

  /**
   * A verifier's profit per check: the check fee, minus the re-run it does (honest) or, lazy
   * (attests without computing), the slash when the check was a planted job ({@code plantRate} of
   * its checks).
   */
  static double[] simulateVerifier(Params q, boolean lazy, double plantRate, long checks,
      SplittableRandom r) {
    double sum = 0;
    double sumSq = 0;
    for (long c = 0; c < checks; c++) {
      boolean planted = r.nextDouble() < plantRate;
      double profit;
      if (lazy) {
        profit = planted ? -q.slash() * q.verifierStake() : q.checkFee();
      } else {
        profit = planted ? 0 : q.checkFee() - q.cost(); // a planted job is challenged, not attested
      }
      sum += profit;
      sumSq += profit * profit;
    }
    double mean = sum / checks;
    double var = Math.max(0, sumSq / checks - mean * mean);
    return new double[] {mean, 1.96 * Math.sqrt(var / checks)};
  }

  /**
   * Probability that the {@code k} verifiers drawn (without replacement, equal stakes) from
   * {@code verifiers} include at least one of the {@code verifiers - colluders} honest ones.
   */
  static double detectWithColluders(int verifiers, int colluders, int k) {
    double allColluding = 1;
    for (int i = 0; i < k; i++) {
      allColluding *= (double) Math.max(0, colluders - i) / (verifiers - i);
    }
    return 1 - allColluding;
  }

  /** Draws k of {@code verifiers} and reports whether an honest one is among them. */
  static boolean drawIncludesHonest(int verifiers, int colluders, int k, SplittableRandom r) {
    int left = verifiers;
    int colludersLeft = colluders;
    for (int i = 0; i < k; i++) {
      if (r.nextInt(left) >= colludersLeft) {
        return true;
      }
      colludersLeft--;
      left--;
    }
    return false;
  }

  static String run(Settings s, PrintStream log) {
    Instant started = Instant.now();
    String load = BenchmarkDoc.loadAverage();
    Params q = Params.defaults();
    SplittableRandom root = new SplittableRandom(s.seed());
    List<Row> rows = new ArrayList<>();
    JobMix uniform = new JobMix(0, 1, false);
    JobMix mixed = new JobMix(0.1, 10, false);
    JobMix mixedRaised = new JobMix(0.1, 10, true);
    long n = s.jobs();

    double honestUniform = predictWorker(q, uniform, 0, 0, 1);
    double[] h = simulateWorker(q, uniform, (f, r) -> false, 1, n, root.split());
    rows.add(new Row("honest", "all jobs fee 10, cost 6", h[0], h[1], honestUniform, honestUniform,
        "per job"));
    double[] a = simulateWorker(q, uniform, (f, r) -> true, 1, n, root.split());
    rows.add(new Row("cheat always", "saves g = 6 per job", a[0], a[1],
        predictWorker(q, uniform, 1, 1, 1), honestUniform, "per job"));
    double[] x = simulateWorker(q, uniform, (f, r) -> r.nextDouble() < 0.2, 1, n, root.split());
    rows.add(new Row("cheat with probability x = 0.2", "", x[0], x[1],
        predictWorker(q, uniform, 0.2, 0.2, 1), honestUniform, "per job"));

    double honestMixed = predictWorker(q, mixed, 0, 0, 1);
    double[] hf = simulateWorker(q, mixed, (f, r) -> f > q.fee(), 1, n, root.split());
    rows.add(new Row("cheat only on high-fee jobs", "10 % of jobs fee 100, cost 60; network rate",
        hf[0], hf[1], predictWorker(q, mixed, 0, 1, 1), honestMixed, "per job"));
    double honestRaised = predictWorker(q, mixedRaised, 0, 0, 1);
    double[] hr = simulateWorker(q, mixedRaised, (f, r) -> f > q.fee(), 1, n, root.split());
    rows.add(new Row("cheat only on high-fee jobs",
        String.format(Locale.ROOT, "clients raise those jobs' rate to %.3f", rateFor(q, mixedRaised,
            q.cost() * 10)), hr[0], hr[1], predictWorker(q, mixedRaised, 0, 1, 1), honestRaised,
        "per job"));

    int verifiers = 10;
    int colluders = 3;
    double d2 = detectWithColluders(verifiers, colluders, q.k());
    double[] col = simulateColluding(q, verifiers, colluders, n, root.split());
    rows.add(new Row("cheat always, colluding verifiers",
        String.format(Locale.ROOT, "%d of %d verifiers attest anything of this worker; k = %d; "
            + "detection when sampled %.3f", colluders, verifiers, q.k(), d2),
        col[0], col[1], predictWorker(q, uniform, 1, 1, d2), honestUniform, "per job"));
    double d7 = detectWithColluders(verifiers, 7, q.k());
    double[] col7 = simulateColluding(q, verifiers, 7, n, root.split());
    rows.add(new Row("cheat always, colluding verifiers",
        String.format(Locale.ROOT, "7 of %d colluding; detection when sampled %.3f", verifiers,
            d7), col7[0], col7[1], predictWorker(q, uniform, 1, 1, d7), honestUniform,
        "per job"));

    long trials = Math.max(1000, n / 100);
    int cap = (int) Math.round(1 / (q.p() * q.slash()));
    // Bursts: cheat on every job, then stop serving, unstake, and keep what the slashes missed.
    long safeUnbonding = q.window() + q.dispute() + 7;
    double[] b1 = simulateBurst(q, cap, cap + safeUnbonding, trials, root.split());
    rows.add(new Row("burst: cheat on " + cap + " jobs (= 1/(p slash)), then exit",
        "no jobs while unbonding; unbonding = window + dispute + 7 blocks", b1[0], b1[1],
        predictBurst(q, cap, cap + safeUnbonding), 0, "per burst, vs honest"));
    int big = 10 * cap;
    double[] b2 = simulateBurst(q, big, big + safeUnbonding, trials, root.split());
    rows.add(new Row("burst: cheat on " + big + " jobs in flight, then exit",
        "gains in flight 2400 > 0.63 S", b2[0], b2[1],
        predictBurst(q, big, big + safeUnbonding), 0, "per burst, vs honest"));
    // Exit with an unbonding period as short as the challenge window (GenesisConfig allows
    // window <= unbonding): cheat on the last jobs before unstaking; their rulings land after the
    // stake is released.
    int lastFew = 10;
    double[] e0 = simulateBurst(q, lastFew, lastFew + q.window(), trials, root.split());
    rows.add(new Row("cheat then exit: cheat on the last " + lastFew + " jobs, then unstake",
        String.format(Locale.ROOT, "unbonding = window = %d blocks < window + 1 + dispute",
            q.window()), e0[0], e0[1], predictBurst(q, lastFew, lastFew + q.window()), 0,
        "per burst, vs honest"));
    double[] e00 = simulateBurst(q, lastFew, lastFew + safeUnbonding, trials, root.split());
    rows.add(new Row("cheat then exit: cheat on the last " + lastFew + " jobs, then unstake",
        "unbonding = window + dispute + 7 blocks", e00[0], e00[1],
        predictBurst(q, lastFew, lastFew + safeUnbonding), 0, "per burst, vs honest"));
    // Exit: serve while unbonding (if the ledger allowed it) and cheat only on the last jobs, whose
    // rulings land after the stake is released.
    int last = (int) (q.dispute() + 7);
    double[] e1 = simulateBurst(q, last, last, trials, root.split());
    rows.add(new Row("cheat then exit: cheat on the last " + last
        + " jobs before the stake is released", String.format(Locale.ROOT,
            "jobs accepted while unbonding; rulings take %d blocks", q.dispute()),
        e1[0], e1[1], predictBurst(q, last, last), 0,
        "per burst, vs honest"));

    double plantSafe = 0.02;
    double plantLow = 0.005;
    double[] vh = simulateVerifier(q, false, plantSafe, n, root.split());
    rows.add(new Row("honest verifier", "re-runs each check (cost 6), fee 10", vh[0], vh[1],
        (1 - plantSafe) * (q.checkFee() - q.cost()), (1 - plantSafe) * (q.checkFee() - q.cost()),
        "per check"));
    double[] vl = simulateVerifier(q, true, plantSafe, n, root.split());
    rows.add(new Row("lazy verifier (always attests)", "plant rate q = 0.02", vl[0], vl[1],
        (1 - plantSafe) * q.checkFee() - plantSafe * q.slash() * q.verifierStake(),
        (1 - plantSafe) * (q.checkFee() - q.cost()), "per check"));
    double[] vl2 = simulateVerifier(q, true, plantLow, n, root.split());
    rows.add(new Row("lazy verifier (always attests)", "plant rate q = 0.005", vl2[0], vl2[1],
        (1 - plantLow) * q.checkFee() - plantLow * q.slash() * q.verifierStake(),
        (1 - plantLow) * (q.checkFee() - q.cost()), "per check"));

    for (Row r : rows) {
      log.printf(Locale.ROOT, "%-60s sim %10.3f +- %.3f  predicted %10.3f  honest %10.3f%n",
          r.strategy(), r.simulated(), r.halfWidth(), r.predicted(), r.honest());
    }
    return format(s, q, rows, started, load, cap);
  }

  /** Worker cheats on every job; colluding verifiers attest it; an honest one drawn detects. */
  static double[] simulateColluding(Params q, int verifiers, int colluders, long jobs,
      SplittableRandom r) {
    double sum = 0;
    double sumSq = 0;
    for (long j = 0; j < jobs; j++) {
      boolean sampled = r.nextDouble() < q.p();
      double profit = q.fee() - (sampled ? q.k() * q.checkFee() : 0);
      if (sampled && drawIncludesHonest(verifiers, colluders, q.k(), r)) {
        profit -= q.slash() * q.stake();
      }
      sum += profit;
      sumSq += profit * profit;
    }
    double mean = sum / jobs;
    double var = Math.max(0, sumSq / jobs - mean * mean);
    return new double[] {mean, 1.96 * Math.sqrt(var / jobs)};
  }

  private static String format(Settings s, Params q, List<Row> rows, Instant started, String load,
      int cap) {
    StringBuilder b = new StringBuilder();
    b.append("## Optimistic verification: does cheating pay? (Monte Carlo against the rule)\n\n");
    b.append("Simulated ").append(started.truncatedTo(ChronoUnit.SECONDS)).append(" with `")
        .append(s.command()).append("` (harness `dev.verity.bench.OptimisticEconomics`, seed ")
        .append(s.seed()).append(", ").append(String.format(Locale.ROOT, "%,d", s.jobs()))
        .append(" jobs or checks per per-job row, ")
        .append(String.format(Locale.ROOT, "%,d", Math.max(1000, s.jobs() / 100)))
        .append(" trials per burst row; load average ").append(load)
        .append("; pure arithmetic, the numbers do not depend on the machine).\n\n");
    b.append(String.format(Locale.ROOT, "Parameters (genesis builder defaults): sampling p = %.2f, "
            + "k = %d verifiers per sample, check fee %.0f, slash %.0f %% of a stake S = %.0f "
            + "(= minNodeStake), verifier stake %.0f, challenge window %d blocks, unbonding %d "
            + "blocks, a dispute taking %d blocks (assumed: 8 moves of `disputeMoveMillis` = 30 s at a "
            + "4 s block interval). Normal job: fee %.0f, compute cost %.0f (what a "
            + "cheater saves, g). So p x slash x S = %.1f per cheated job, 1/(p x slash) = %d.%n%n",
        q.p(), q.k(), q.checkFee(), 100 * q.slash(), q.stake(), q.verifierStake(), q.window(),
        q.unbonding(), q.dispute(), q.fee(), q.cost(), q.pSigmaS(), cap));
    b.append("| strategy | setting | simulated profit | 95 % ± | rule's prediction | z | honest "
        + "in the same setting | cheating pays? |\n|---|---|---:|---:|---:|---:|---:|---|\n");
    for (Row r : rows) {
      boolean isHonest = r.strategy().startsWith("honest");
      b.append(String.format(Locale.ROOT, "| %s | %s | %.3f %s | %.3f | %.3f | %+.2f | %.3f | %s |%n",
          r.strategy(), r.setting(), r.simulated(), r.unit(), r.halfWidth(), r.predicted(), r.z(),
          r.honest(), isHonest ? "—" : r.pays() ? "**yes**" : "no"));
    }
    double worst = rows.stream().mapToDouble(r -> Math.abs(r.z())).max().orElse(0);
    b.append("\nz: the simulation's distance from the closed-form prediction in standard errors "
        + String.format(Locale.ROOT, "(largest |z| here %.2f). ", worst)
        + "Burst rows compare with an honest worker over the same jobs (0 = what honesty earns; a "
        + "positive number is what cheating adds). The rows marked **yes** break a condition of "
        + "the rule (docs/OPTIMISTIC.md): a job whose saving exceeds 0.63 p slash S at the network "
        + "rate, gains of unfinalized jobs above 0.63 S, an unbonding period shorter than window + 1 + dispute or jobs accepted while unbonding, a plant "
        + "rate below cost / (slash x verifier stake).\n");
    return b.toString();
  }
}

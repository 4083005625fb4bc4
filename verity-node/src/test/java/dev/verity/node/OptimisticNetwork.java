package dev.verity.node;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.core.io.AtomicFiles;
import dev.verity.ledger.Action;
import dev.verity.ledger.GenesisConfig;
import dev.verity.ledger.Ledger;
import dev.verity.ledger.LedgerView;
import dev.verity.ledger.StateRecord;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxReader;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.LedgerClient;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A network of real nodes in one process, each with its own key, data directory and HTTP API, on
 * one ledger (run by the sequencer node; the others join it as they would a remote ledger): the
 * sequencer (which keeps every optimistic job's content for its referee), verifier nodes, and
 * workers that may misbehave ({@link VerityNode.Conduct}). A client pays for jobs and runs
 * inferences over HTTP through the SDK; the built-in models are published on every worker and
 * registered on the ledger.
 */
final class OptimisticNetwork implements AutoCloseable {
  static final long ROYALTY = 5;
  static final long OPERATOR_FEE = 20;
  static final long FUNDS = 100_000_000;
  static final long WORKER_STAKE = 10_000_000;
  static final long VERIFIER_STAKE = 100_000;
  static final Duration DEADLINE = Duration.ofSeconds(60);

  /** Settings of the chain. */
  record Params(int samplingPpm, int verifiersPerSample, long checkFee, long disputeMoveMillis,
      long challengeWindowBlocks, int slashBps, long minChallengeBond) {
    static Params defaults() {
      // windows and move deadlines generous enough for a loaded 2-core machine: a slow honest party
      // must never miss them (empty blocks come every 10 ms while a sample is pending)
      return new Params(200_000, 1, 10, 5_000, 400, 1_000, 100);
    }
  }

  final Path dir;
  final Params params;
  final Signer owner = Signer.generate();
  final Signer client = Signer.generate();
  final GenesisConfig genesis;
  final VerityNode sequencer;
  final List<VerityNode> verifiers = new ArrayList<>();
  final Map<String, VerityNode> workers = new LinkedHashMap<>();
  final Map<ExampleModel, byte[]> files = new LinkedHashMap<>();
  final Map<ExampleModel, ModelManifest> manifests = new LinkedHashMap<>();
  private final Map<String, Signer> keys = new LinkedHashMap<>();

  /**
   * Starts the sequencer and one verifier node per entry of {@code verifierConducts}; workers are
   * added later by name ({@code workerNames} are funded in the genesis).
   */
  OptimisticNetwork(Path dir, Params params, List<VerityNode.Conduct> verifierConducts, List<String> workerNames)
      throws IOException {
    this.dir = dir;
    this.params = params;
    Signer seq = VerityNode.loadOrCreateKey(dir.resolve("sequencer"));
    GenesisConfig.Builder g = GenesisConfig.builder("verity-optimistic-test")
        .devNetwork(true)
        .genesisTime(System.currentTimeMillis())
        .sequencer(seq.publicKey())
        .authority(seq.publicKey())
        .treasury(Signer.generate().address())
        .minFee(0)
        .unbondingBlocks(Math.max(1_000, 2 * params.challengeWindowBlocks()))
        .challengeWindowBlocks(params.challengeWindowBlocks())
        .jobTimeoutBlocks(10_000)
        .slashing(params.slashBps(), 5_000, params.minChallengeBond())
        .optimistic(params.samplingPpm(), params.verifiersPerSample(), params.checkFee(), params.disputeMoveMillis())
        .allocate(seq.address(), FUNDS)
        .allocate(owner.address(), FUNDS)
        .allocate(client.address(), FUNDS);
    for (int i = 0; i < verifierConducts.size(); i++) {
      Signer k = VerityNode.loadOrCreateKey(dir.resolve("verifier-" + i));
      keys.put("verifier-" + i, k);
      g.allocate(k.address(), FUNDS);
    }
    for (String w : workerNames) {
      Signer k = VerityNode.loadOrCreateKey(dir.resolve("worker-" + w));
      keys.put("worker-" + w, k);
      g.allocate(k.address(), FUNDS);
    }
    this.genesis = g.build();
    Path genesisFile = dir.resolve("genesis.cbor");
    AtomicFiles.write(genesisFile, genesis.encode());
    LedgerSettings base = LedgerSettings.embedded(Optional.of(genesisFile)).withOperatorFee(OPERATOR_FEE)
        .withReceiptBatch(16, Duration.ofMillis(20));
    LedgerSettings ledger = new LedgerSettings(base.mode(), base.genesis(), base.operatorFee(), base.receiptBatch(),
        base.receiptBatchDelay(), Duration.ofMillis(10), base.url());
    this.sequencer = VerityNode.start(config("sequencer", ledger, false, 1));
    for (int i = 0; i < verifierConducts.size(); i++) {
      // verifiers run the canonical executor with other thread counts than the workers: never a difference
      VerityNode v = VerityNode.start(config("verifier-" + i, ledger, true, 1 + 2 * i), verifierConducts.get(i),
          sequencer.ledger().orElseThrow());
      verifiers.add(v);
    }
    for (ExampleModel m : BuiltinModels.all()) {
      files.put(m, m.onnx());
    }
    awaitUntil("verifiers registered", () -> verifiers.stream().allMatch(v -> ledger().view().node(v.address())
        .map(n -> n.roles().contains(dev.verity.ledger.NodeRole.VERIFIER)).orElse(false)));
  }

  private NodeConfig config(String name, LedgerSettings ledger, boolean verifier, int threads) {
    // verifiers keep enough stake bonded that a slash never drops them out of the verifier set
    return NodeConfig.defaults().withDataDir(dir.resolve(name)).withPort(0).withLedger(ledger)
        .withOptimistic(new OptimisticSettings(threads, verifier, verifier ? VERIFIER_STAKE : 0, 0));
  }

  Ledger ledger() {
    return sequencer.ledger().orElseThrow();
  }

  /** The models of the worker nodes, by model file CID (what a cheating engine needs). */
  Map<Cid, OnnxModel> models() {
    return builtinModels();
  }

  static Map<Cid, OnnxModel> builtinModels() {
    Map<Cid, OnnxModel> out = new LinkedHashMap<>();
    for (ExampleModel m : BuiltinModels.all()) {
      out.put(m.cid(), OnnxReader.read(m.onnx()));
    }
    return out;
  }

  /**
   * Starts worker {@code name} behaving as {@code conduct}, publishes the built-in models on it
   * (registering them on the ledger the first time) and waits until it is registered for them.
   */
  VerityNode addWorker(String name, VerityNode.Conduct conduct) throws Exception {
    LedgerSettings ledger = sequencer.config().ledger();
    VerityNode w = VerityNode.start(config("worker-" + name, ledger, false, 2), conduct, ledger());
    workers.put(name, w);
    w.keepStake(WORKER_STAKE);
    try (VerityClient c = VerityClient.builder(w.uri()).signer(owner).build()) {
      for (ExampleModel m : BuiltinModels.all()) {
        Path file = NodeHarness.write(dir.resolve("models"), m.name() + ".onnx", files.get(m));
        if (manifests.containsKey(m)) {
          c.uploadBlob(file, ProgressListener.NONE);
          c.publishManifest(manifests.get(m));
          continue;
        }
        ModelManifest manifest = c.publish(file, Publication.of(m.name(), "1.0.0").withPrice(ROYALTY)
            .withModes(EnumSet.of(VerificationMode.RECEIPT, VerificationMode.OPTIMISTIC)), ProgressListener.NONE);
        manifests.put(m, manifest);
        c.ledger().registerModel(manifest.cid(), ROYALTY);
      }
    }
    awaitUntil("worker " + name + " registered", () -> ledger().view().node(w.address())
        .map(n -> manifests.values().stream().allMatch(m -> n.serves(m.cid()))).orElse(false)
        && ledger().view().stake(w.address()).bonded() >= WORKER_STAKE);
    return w;
  }

  /**
   * Publishes another model on worker {@code w} for modes receipt and optimistic, registers it on the
   * ledger and waits until {@code w} serves it there.
   */
  ModelManifest publishOn(VerityNode w, String name, byte[] onnx) throws Exception {
    ModelManifest manifest;
    try (VerityClient c = VerityClient.builder(w.uri()).signer(owner).build()) {
      Path file = NodeHarness.write(dir.resolve("models"), name + ".onnx", onnx);
      manifest = c.publish(file, Publication.of(name, "1.0.0").withPrice(ROYALTY)
          .withModes(EnumSet.of(VerificationMode.RECEIPT, VerificationMode.OPTIMISTIC)), ProgressListener.NONE);
      c.ledger().registerModel(manifest.cid(), ROYALTY);
    }
    awaitUntil("worker serving " + name, () -> ledger().view().node(w.address())
        .map(n -> n.serves(manifest.cid())).orElse(false));
    return manifest;
  }

  /** A client paying with {@link #client}'s key through worker {@code w}. */
  VerityClient clientOf(VerityNode w) {
    return VerityClient.builder(w.uri()).signer(client).sequencer(sequencer.publicKey()).build();
  }

  /** The inputs of held-out example {@code i} (wrapping) of model {@code m}. */
  static NamedTensors inputs(ExampleModel m, int i) {
    List<ExampleModel.Sample> all = BuiltinModels.heldOut(m.name());
    ExampleModel.Sample s = all.get(i % all.size());
    return NamedTensors.of(m.inputName(), Tensor.ofFloats(s.shape(), s.values()));
  }

  /** Runs one paid optimistic inference on worker {@code w}; returns the receipt's job. */
  static Hash infer(VerityClient c, ModelManifest m, NamedTensors inputs) throws Exception {
    InferenceResult r = c.ledger().inferPaid(ModelRef.ofManifest(m.cid()), inputs, VerificationMode.OPTIMISTIC);
    return r.receipt().job().orElseThrow();
  }

  /**
   * Opens a planted job for worker {@code w}: its audit commitment hides {@code salt}; returns the
   * job id (computed from the client's next nonce, as the ledger derives it).
   */
  Hash openPlanted(VerityClient c, ModelManifest m, Address w, Hash salt) throws Exception {
    long nonce = ledger().view().account(client.address()).nonce();
    Hash job = Action.OpenJob.jobId(client.address(), nonce);
    Action.OpenJob open = new Action.OpenJob(m.cid(), Optional.of(w), 1, ROYALTY + OPERATOR_FEE, 0,
        Optional.of(Action.OpenJob.auditCommitment(salt, job)));
    Hash opened = c.ledger().send(open).created().orElseThrow();
    if (!opened.equals(job)) {
      throw new IllegalStateException("job id " + opened + " is not the one predicted, " + job);
    }
    return job;
  }

  /** Sends cheap transactions until the chain is past {@code height} (blocks come with transactions). */
  void advancePast(long height) throws Exception {
    try (VerityClient c = VerityClient.builder(sequencer.uri()).signer(Signer.generate()).build()) {
      LedgerClient l = c.ledger();
      while (ledger().view().height() <= height) {
        l.faucet(1);
      }
    }
  }

  /** Waits (bounded polling) until {@code condition} holds. */
  void awaitUntil(String what, BooleanSupplier condition) {
    long end = System.nanoTime() + DEADLINE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("timed out waiting until " + what);
      }
      try {
        TimeUnit.MILLISECONDS.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }

  /** Whether the ledger has settled the question of job {@code id}: not sampled, attested, or decided. */
  boolean checked(Hash id) {
    LedgerView v = ledger().view();
    Optional<StateRecord.Check> c = v.check(id);
    Optional<StateRecord.Job> j = v.job(id);
    if (c.isEmpty() || j.isEmpty() || c.get().sample().isEmpty()) {
      return false;
    }
    if (!c.get().sample().get().sampled() || j.get().status() == StateRecord.Job.Status.INVALID) {
      return true;
    }
    return c.get().openDisputes() == 0
        && c.get().attesters().containsAll(c.get().sample().get().verifiers())
        || j.get().status() == StateRecord.Job.Status.FINAL;
  }

  /** Bonded plus unbonding stake of {@code a}. */
  long stake(Address a) {
    StateRecord.Stake s = ledger().view().stake(a);
    return s.bonded() + s.unbonding();
  }

  /** Balance plus bonded and unbonding stake of {@code a}. */
  long wealth(Address a) {
    return ledger().view().account(a).balance() + stake(a);
  }

  String uniqueRequest() {
    return UUID.randomUUID().toString();
  }

  @Override
  public void close() throws IOException {
    for (VerityNode w : workers.values()) {
      w.close();
    }
    for (VerityNode v : verifiers) {
      v.close();
    }
    sequencer.close();
  }
}

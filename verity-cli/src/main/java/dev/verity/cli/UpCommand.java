package dev.verity.cli;

import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.KeyFile;
import dev.verity.core.crypto.Signer;
import dev.verity.core.io.AtomicFiles;
import dev.verity.ledger.GenesisConfig;
import dev.verity.ledger.StateRecord;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.InferenceService;
import dev.verity.node.LedgerSettings;
import dev.verity.node.NodeConfig;
import dev.verity.node.VerityNode;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.ReceiptVerifier;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.LedgerClient;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * verity up: an embedded single-node network on 127.0.0.1 with a ledger whose dev genesis funds the
 * demo's model owner and client; the built-in models published and registered with a price; paid,
 * verified inferences; a demonstration that tampering is caught; the balances before and after
 * (everyone paid exactly their share); one receipt checked on the ledger with the light client;
 * and then serving until Ctrl-C. Needs no configuration; running it again reuses what it published
 * before (and the same chain).
 */
@Command(name = "up", description = "Start a local network, publish the example models, run paid inferences, "
    + "verify them and their payment.")
final class UpCommand implements Callable<Integer> {
  static final String VERSION_LABEL = "1.1.0";
  /** The owner's royalty per inference. */
  static final long ROYALTY = 5;
  /** What the demo node charges per inference on top of the royalty. */
  static final long OPERATOR_FEE = 20;
  static final long CLIENT_FUNDS = 1_000_000;
  static final long OWNER_FUNDS = 1_000;
  static final long NODE_FUNDS = 10_000;
  static final Duration LEDGER_DEADLINE = Duration.ofSeconds(30);
  /** The demo chain's sampling rate for optimistic jobs (5%). */
  static final int OPTIMISTIC_SAMPLING_PPM = 50_000;

  @Option(names = "--port", description = "port of the node (default: ${DEFAULT-VALUE})", defaultValue = "" + NodeConfig.DEFAULT_PORT)
  int port;

  @Option(names = "--data-dir", description = "where the demo keeps its node, keys and models (default: ~/.verity/up)")
  Path dataDir;

  @Option(names = "--exit", description = "stop after the summary instead of serving until Ctrl-C")
  boolean exit;

  @Option(names = "--nodes", description = "number of node processes: node 0 sequences the ledger and hosts the"
      + " models (hub, gateway), the others are workers and verifiers (default: ${DEFAULT-VALUE}, one node in this"
      + " process)", defaultValue = "1")
  int nodes;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    Path dir = dataDir != null ? dataDir : new CliContext().home().resolve("up");
    if (nodes < 1) {
      throw new IllegalArgumentException("--nodes must be at least 1, got " + nodes);
    }
    if (nodes > 1) {
      return new NetworkDemo(dir.resolve("network-" + nodes), nodes, port, exit, out).run();
    }
    Files.createDirectories(dir);
    Signer nodeKey = VerityNode.loadOrCreateKey(dir.resolve("node"));
    Signer owner = key(dir.resolve("owner.key"));
    Signer caller = key(dir.resolve("client.key"));
    Signer treasury = key(dir.resolve("treasury.key"));
    Path genesisFile = genesis(dir, nodeKey, owner, caller, treasury);
    NodeConfig config = NodeConfig.defaults().withDataDir(dir.resolve("node")).withPort(port)
        .withLedger(LedgerSettings.embedded(Optional.of(genesisFile)).withOperatorFee(OPERATOR_FEE)
            .withReceiptBatch(8, Duration.ofMillis(500)));
    VerityNode node;
    try {
      node = VerityNode.start(config);
    } catch (BindException e) {
      throw new IllegalStateException("port " + port + " on 127.0.0.1 is in use (another 'verity up'?); pass --port N");
    }
    try (node) {
      out.println("Verity " + VerityNode.VERSION + ": node serving at " + node.uri() + " (data in " + dir + ")");
      out.println("  node " + nodeKey.address() + " (key " + node.publicKey() + ") sequences the ledger and serves as its worker");
      out.println("  model owner " + owner.address() + ", client " + caller.address() + ", treasury " + treasury.address());
      List<String> summary = new ArrayList<>();
      try (VerityClient publisher = VerityClient.builder(node.uri()).signer(owner).sequencer(nodeKey.publicKey()).build();
          VerityClient client = VerityClient.builder(node.uri()).signer(caller).sequencer(nodeKey.publicKey()).build()) {
        LedgerClient ledger = client.ledger();
        List<ModelManifest> published = new ArrayList<>();
        for (ExampleModel model : BuiltinModels.all()) {
          ModelManifest manifest = publish(publisher, owner, model, dir, out);
          register(publisher.ledger(), manifest, out);
          published.add(manifest);
        }
        awaitWorker(ledger, nodeKey.address(), published);
        GenesisConfig genesis = ledger.genesis();
        long protocolShare = OPERATOR_FEE * genesis.protocolShareBps() / 10_000;
        out.println("  price per inference " + (ROYALTY + OPERATOR_FEE) + " = " + ROYALTY + " royalty to the owner + "
            + OPERATOR_FEE + " operator fee (of which " + protocolShare + " to the treasury); a job per inference");
        Map<String, Address> parties = new LinkedHashMap<>();
        parties.put("client", caller.address());
        parties.put("owner", owner.address());
        parties.put("operator", nodeKey.address());
        parties.put("treasury", treasury.address());
        Map<String, Long> before = balances(ledger, parties);

        List<InferenceReceipt> receipts = new ArrayList<>();
        for (int i = 0; i < published.size(); i++) {
          summary.addAll(runModes(List.of(ledger), BuiltinModels.all().get(i), published.get(i), receipts, out));
        }
        summary.add(tamperChecks(ledger, BuiltinModels.all().get(0), published.get(0), receipts, out));
        summary.addAll(settlement(ledger, receipts, parties, before,
            expectedShares(receipts, Map.of(nodeKey.address(), "operator"), protocolShare), protocolShare, out));
        summary.add(optimistic(ledger, genesis, receipts, out));
      }
      out.println();
      out.println("Summary");
      summary.forEach(s -> out.println("  " + s));
      out.println();
      out.println("Try it: ./verity models list --node " + node.uri());
      out.println("        ./verity ledger account " + caller.address() + " --prove --node " + node.uri());
      if (!exit) {
        out.println("Serving until Ctrl-C.");
        NodeCommand.awaitShutdown(node);
      }
    }
    return 0;
  }

  /**
   * The demo chain's genesis, kept in {@code dir} so that later runs continue the same chain: the
   * node sequences and resolves challenges; the client, owner and node are funded; fees are 0 so
   * the balances show the payments for inference alone.
   */
  private static Path genesis(Path dir, Signer node, Signer owner, Signer client, Signer treasury) throws IOException {
    Path file = dir.resolve("genesis.cbor");
    if (Files.exists(file)) {
      GenesisConfig g = GenesisConfig.decode(Files.readAllBytes(file));
      if (!g.sequencer().equals(node.publicKey())) {
        throw new IllegalStateException(file + " names another sequencer than the node key in " + dir.resolve("node")
            + "; remove " + dir + " to start afresh");
      }
      return file;
    }
    GenesisConfig g = GenesisConfig.builder("verity-up")
        .devNetwork(true)
        .jobTimeoutBlocks(NetworkDemo.JOB_TIMEOUT_BLOCKS)
        .genesisTime(System.currentTimeMillis())
        .sequencer(node.publicKey())
        .authority(node.publicKey())
        .treasury(treasury.address())
        .minFee(0)
        // one node, no verifiers to pay: no check fee held back from optimistic jobs, so the shares stay exact
        .optimistic(OPTIMISTIC_SAMPLING_PPM, 1, 0, 30_000)
        .allocate(client.address(), CLIENT_FUNDS)
        .allocate(owner.address(), OWNER_FUNDS)
        .allocate(node.address(), NODE_FUNDS)
        .build();
    AtomicFiles.write(file, g.encode());
    return file;
  }

  /** Registers a published version on the ledger at {@link #ROYALTY}, unless it is already. */
  static void register(LedgerClient ledger, ModelManifest m, PrintStream out)
      throws IOException, VerificationException {
    Optional<LedgerClient.Quote> q = ledger.quote(m.cid());
    if (q.isPresent()) {
      return;
    }
    ledger.registerModel(m.cid(), ROYALTY);
    out.println("  registered " + m.repository() + "@" + m.version() + " on the ledger: royalty " + ROYALTY
        + " per inference to " + m.ownerAddress());
  }

  /** Waits (bounded) until the node has registered itself as a worker for every model. */
  private static void awaitWorker(LedgerClient ledger, Address node, List<ModelManifest> models)
      throws IOException, VerificationException, InterruptedException {
    long end = System.nanoTime() + LEDGER_DEADLINE.toNanos();
    while (true) {
      Optional<StateRecord.Node> n = ledger.node(node);
      if (n.isPresent() && models.stream().allMatch(m -> n.get().serves(m.cid()))) {
        return;
      }
      if (System.nanoTime() - end > 0) {
        throw new IllegalStateException("the node did not register as a worker for the models within "
            + LEDGER_DEADLINE.toSeconds() + " s; see its log");
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
  }

  static Map<String, Long> balances(LedgerClient ledger, Map<String, Address> parties)
      throws IOException, VerificationException {
    Map<String, Long> b = new LinkedHashMap<>();
    for (Map.Entry<String, Address> e : parties.entrySet()) {
      b.put(e.getKey(), ledger.account(e.getValue(), true).account().balance());
    }
    return b;
  }

  /**
   * Waits until every job is settled and the last receipt committed, checks that receipt on the
   * ledger with the light client, and compares the balances with what the genesis shares say.
   */
  /**
   * What each party's balance should have changed by after {@code receipts}: the client pays the
   * price of each, the owner gets the royalty, the operator that signed the receipt its fee less the
   * protocol share, the treasury the protocol share.
   */
  static Map<String, Long> expectedShares(List<InferenceReceipt> receipts, Map<Address, String> operators,
      long protocolShare) {
    Map<String, Long> expected = new LinkedHashMap<>();
    long n = receipts.size();
    expected.put("client", -n * (ROYALTY + OPERATOR_FEE));
    expected.put("owner", n * ROYALTY);
    for (String name : operators.values()) {
      expected.put(name, 0L);
    }
    for (InferenceReceipt r : receipts) {
      String name = operators.get(r.node().address());
      if (name == null) {
        throw new IllegalStateException("receipt " + r.cid() + " is signed by " + r.node().address()
            + ", which is none of the demo's nodes");
      }
      expected.merge(name, OPERATOR_FEE - protocolShare, Long::sum);
    }
    expected.put("treasury", n * protocolShare);
    return expected;
  }

  /**
   * How the optimistic jobs among {@code receipts} move balances besides the shares: a worker's
   * check pool is held while its job is not final; once final, each attesting verifier got the
   * check fee out of it and the worker the rest.
   */
  private static Map<String, Long> checkFees(LedgerClient ledger, List<InferenceReceipt> receipts,
      Map<String, Address> parties) throws IOException, VerificationException {
    Map<Address, String> names = new LinkedHashMap<>();
    parties.forEach((name, a) -> names.put(a, name));
    Map<String, Long> moved = new LinkedHashMap<>();
    GenesisConfig genesis = null; // read once, and only when a job is final
    for (InferenceReceipt r : receipts) {
      if (r.mode() != VerificationMode.OPTIMISTIC) {
        continue;
      }
      LedgerClient.OptimisticStatus st;
      try {
        st = ledger.optimisticStatus(r, c -> { });
      } catch (dev.verity.sdk.VerityApiException e) {
        if (e.status() == 404) {
          continue; // trace not committed yet: no pool taken
        }
        throw e;
      }
      StateRecord.Check c = st.check();
      String worker = names.getOrDefault(c.worker(), c.worker().toString());
      if (st.job().status() == StateRecord.Job.Status.FINAL) {
        if (genesis == null) {
          genesis = ledger.genesis();
        }
        long pool = Math.multiplyExact(genesis.checkFee(), (long) genesis.verifiersPerSample());
        for (Address v : c.attesters()) {
          long fee = Math.min(genesis.checkFee(), pool);
          pool -= fee;
          moved.merge(worker, -fee, Long::sum);
          moved.merge(names.getOrDefault(v, v.toString()), fee, Long::sum);
        }
      } else {
        moved.merge(worker, -c.checkPool(), Long::sum);
      }
    }
    moved.values().removeIf(v -> v == 0);
    return moved;
  }

  static List<String> settlement(LedgerClient ledger, List<InferenceReceipt> receipts,
      Map<String, Address> parties, Map<String, Long> before, Map<String, Long> expected, long protocolShare,
      PrintStream out)
      throws IOException, VerificationException, InterruptedException {
    long end = System.nanoTime() + LEDGER_DEADLINE.toNanos();
    for (InferenceReceipt r : receipts) {
      Hash job = r.job().orElseThrow(() -> new IllegalStateException("receipt " + r.cid() + " names no job"));
      while (ledger.job(job).job().status() == StateRecord.Job.Status.OPEN) {
        if (System.nanoTime() - end > 0) {
          throw new IllegalStateException("job " + job + " was not settled within " + LEDGER_DEADLINE.toSeconds() + " s");
        }
        TimeUnit.MILLISECONDS.sleep(20);
      }
    }
    InferenceReceipt last = receipts.get(receipts.size() - 1);
    List<String> checks = new ArrayList<>();
    LedgerClient.LedgerEvidence evidence = ledger.awaitOnLedger(last, LEDGER_DEADLINE, checks::add);
    checks.forEach(c -> out.println("  ledger check: " + c));
    // optimistic jobs move check fees: the worker holds its check pool until the job is final, then
    // pays each attesting verifier; read the jobs' standing and the balances from the same state
    Map<String, Long> after;
    Map<String, Long> fees = Map.of();
    for (int attempt = 0; ; attempt++) {
      Map<String, Long> first = checkFees(ledger, receipts, parties);
      after = balances(ledger, parties);
      fees = checkFees(ledger, receipts, parties);
      if (fees.equals(first) || attempt >= 10) {
        break;
      }
    }
    if (!fees.isEmpty()) {
      Map<String, Long> adjusted = new LinkedHashMap<>(expected);
      fees.forEach((who, d) -> adjusted.merge(who, d, Long::sum));
      expected = adjusted;
      out.println("  check fees of optimistic jobs (held or paid): " + fees);
    }
    long n = receipts.size();
    StringBuilder line = new StringBuilder();
    boolean exact = true;
    long sum = 0;
    for (String who : parties.keySet()) {
      long delta = after.get(who) - before.get(who);
      sum += delta;
      exact &= delta == expected.get(who);
      line.append(String.format("%s %+d  ", who, delta));
    }
    out.println("  balances " + line.toString().trim());
    List<String> lines = new ArrayList<>();
    lines.add(String.format("ledger         %d paid inferences: %s; %s", n, line.toString().trim(),
        exact ? "exactly " + n + " x (" + ROYALTY + " royalty, " + (OPERATOR_FEE - protocolShare)
            + " operator, " + protocolShare + " protocol)" + (fees.isEmpty() ? "" : " and the check fees above")
            + ", sum " + sum : "NOT the expected shares " + expected));
    lines.add(String.format("ledger         receipt %s committed in block %d, job %s %s: verified with the light client",
        shortCid(last.cid().toString()), evidence.receiptBlock(), evidence.job().id().toHex().substring(0, 12) + "…",
        evidence.job().status().name().toLowerCase(java.util.Locale.ROOT)));
    if (!exact) {
      throw new IllegalStateException("the balances did not change by the genesis shares: " + lines.get(0));
    }
    return lines;
  }

  /**
   * Where the last optimistic inference stands on the ledger: its trace commitment, its sample and
   * until which block it can be challenged (checked with the light client).
   */
  private static String optimistic(LedgerClient ledger, GenesisConfig genesis, List<InferenceReceipt> receipts,
      PrintStream out) throws IOException, VerificationException, InterruptedException {
    Optional<InferenceReceipt> last = receipts.stream().filter(r -> r.mode() == VerificationMode.OPTIMISTIC)
        .reduce((a, b) -> b);
    if (last.isEmpty()) {
      return "optimistic     no optimistic inference ran";
    }
    long end = System.nanoTime() + LEDGER_DEADLINE.toNanos();
    LedgerClient.OptimisticStatus status;
    List<String> checks = new ArrayList<>();
    while (true) {
      try {
        checks.clear();
        status = ledger.optimisticStatus(last.get(), checks::add);
        if (status.check().sample().isPresent() || System.nanoTime() - end > 0) {
          break;
        }
      } catch (dev.verity.sdk.VerityApiException e) {
        if (e.status() != 404 || System.nanoTime() - end > 0) {
          throw e;
        }
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
    checks.forEach(c -> out.println("  optimistic check: " + c));
    return String.format("optimistic     trace of %d steps committed in block %d, %s; %s (sampling rate %.1f%%, %d"
            + " verifier(s) per sample, none in this one-node network; run nodes with optimistic.verifier = true)",
        status.check().trace().steps(), status.check().committedHeight(),
        status.check().sample().map(s -> s.sampled() ? "sampled" : "not sampled").orElse("sample pending"),
        status.outcome() == LedgerClient.Outcome.FINAL ? "final"
            : status.outcome() == LedgerClient.Outcome.INVALID ? "INVALID"
            : "open to challenges until block " + status.windowEnd(),
        genesis.samplingPpm() / 1e4, genesis.verifiersPerSample());
  }

  static Signer key(Path file) throws IOException {
    if (!Files.exists(file)) {
      KeyFile.write(file, Signer.generate());
    }
    return KeyFile.read(file);
  }

  static ModelManifest publish(VerityClient client, Signer owner, ExampleModel model, Path dir, PrintStream out)
      throws IOException, VerificationException {
    ModelRef ref = ModelRef.of(owner.address(), model.name(), VERSION_LABEL);
    try {
      ModelManifest existing = client.model(ref).manifest();
      if (existing.model().equals(model.cid())) {
        out.println("  " + model.name() + ": already published as " + existing.cid());
        return existing;
      }
      throw new IllegalStateException(ref + " exists with another model; remove " + dir + " to start afresh");
    } catch (dev.verity.sdk.VerityApiException e) {
      if (e.status() != 404) {
        throw e;
      }
    }
    Path file = dir.resolve("examples").resolve(model.name() + ".onnx");
    Files.createDirectories(file.getParent());
    Files.write(file, model.onnx());
    Publication p = Publication.of(model.name(), VERSION_LABEL)
        .withDetails(model.task(), model.dataLicence(), model.description(), List.of("example"))
        .withPrice(ROYALTY)
        .withModes(EnumSet.of(VerificationMode.RECEIPT, VerificationMode.OPTIMISTIC, VerificationMode.ZK));
    ModelManifest m = client.publish(file, p, dev.verity.sdk.ProgressListener.NONE);
    out.printf("  published %s@%s  model %s (%d bytes, held-out accuracy %.3f)%n", model.name(), VERSION_LABEL,
        m.model(), m.modelSize(), model.heldOutAccuracy());
    return m;
  }

  /** Runs every sample in every mode, spreading the requests over {@code ledgers} (one per worker) in turn. */
  static List<String> runModes(List<LedgerClient> ledgers, ExampleModel model, ModelManifest manifest,
      List<InferenceReceipt> receipts, PrintStream out) throws IOException, VerificationException {
    int turn = 0;
    List<String> lines = new ArrayList<>();
    ModelRef ref = ModelRef.ofManifest(manifest.cid());
    for (VerificationMode mode : VerificationMode.values()) {
      if (!InferenceService.SUPPORTED_MODES.contains(mode)) {
        lines.add(String.format("%-13s %-10s not available on this node yet", model.name(), mode.wireName()));
        continue;
      }
      int correct = 0;
      String lastReceipt = "";
      long slowest = 0;
      for (ExampleModel.Sample s : model.samples()) {
        NamedTensors inputs = NamedTensors.of(model.inputName(), Tensor.ofFloats(s.shape(), s.values()));
        long t0 = System.nanoTime();
        LedgerClient ledger = ledgers.get(turn++ % ledgers.size());
        InferenceResult r = ledger.inferPaid(ref, inputs, mode);
        slowest = Math.max(slowest, (System.nanoTime() - t0) / 1_000_000);
        receipts.add(r.receipt());
        float[] probs = r.outputs().get(model.outputName()).toFloats();
        int predicted = argmax(probs);
        correct += predicted == s.label() ? 1 : 0;
        lastReceipt = r.receipt().cid().toString();
        out.printf("  %-13s %-8s true %-10s predicted %-10s (p=%.3f)  receipt verified %s  job %s%n", model.name(),
            mode.wireName(), model.classLabels().get(s.label()), model.classLabels().get(predicted), probs[predicted],
            shortCid(lastReceipt), r.receipt().job().map(j -> j.toHex().substring(0, 8) + "…").orElse("-"));
      }
      lines.add(String.format("%-13s %-10s %d/%d samples correct, every receipt verified and paid (last %s)", model.name(),
          mode.wireName(), correct, model.samples().size(), shortCid(lastReceipt)));
      if (mode == VerificationMode.ZK) {
        lines.add(String.format("%-13s %-10s proofs of the quantized logits, inputs hidden behind commitments; slowest"
            + " request (prove + verify) %.1f s", "", "", slowest / 1000.0));
        if (slowest > SLOW_PROOF_MILLIS) {
          out.printf("  note: a zk request on %s took %.1f s (proving, then the client's verification)%n", model.name(),
              slowest / 1000.0);
        }
      }
    }
    return lines;
  }

  /** A zk request slower than this is pointed out. */
  private static final long SLOW_PROOF_MILLIS = 3000;

  /** Shows that the client rejects a changed output and a changed signature. */
  static String tamperChecks(LedgerClient ledger, ExampleModel model, ModelManifest manifest,
      List<InferenceReceipt> receipts, PrintStream out) throws IOException, VerificationException {
    ExampleModel.Sample s = model.samples().get(0);
    NamedTensors inputs = NamedTensors.of(model.inputName(), Tensor.ofFloats(s.shape(), s.values()));
    InferenceResult honest = ledger.inferPaid(ModelRef.ofManifest(manifest.cid()), inputs);
    receipts.add(honest.receipt());
    ReceiptVerifier verifier = ReceiptVerifier.create().trustingOnly(java.util.Set.of(honest.receipt().node()));
    int rejected = 0;
    float[] probs = honest.outputs().get(model.outputName()).toFloats();
    probs[0] = 1 - probs[0];
    NamedTensors forged = NamedTensors.of(model.outputName(),
        Tensor.ofFloats(honest.outputs().get(model.outputName()).shape(), probs));
    rejected += rejects(() -> verifier.verify(honest.receipt(), manifest, inputs, forged), "changed output", out);
    byte[] receipt = honest.receipt().encode();
    receipt[receipt.length - 1] ^= 1;
    InferenceReceipt badSig = InferenceReceipt.decode(receipt);
    rejected += rejects(() -> verifier.verify(badSig, manifest, inputs, honest.outputs()), "changed signature byte", out);
    NamedTensors otherInputs = NamedTensors.of(model.inputName(), Tensor.ofFloats(s.shape(), new float[s.values().length]));
    rejected += rejects(() -> verifier.verify(honest.receipt(), manifest, otherInputs, honest.outputs()), "other inputs", out);
    return String.format("tamper checks  %d/3 forgeries rejected (changed output, signature byte, inputs)", rejected);
  }

  private interface Check {
    void run() throws VerificationException;
  }

  private static int rejects(Check check, String what, PrintStream out) {
    try {
      check.run();
      out.println("  tamper check: " + what + " was NOT rejected");
      return 0;
    } catch (VerificationException e) {
      out.println("  tamper check: " + what + " rejected: " + e.getMessage());
      return 1;
    }
  }

  private static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  static String shortCid(String cid) {
    return cid.length() > 16 ? cid.substring(0, 8) + "…" + cid.substring(cid.length() - 6) : cid;
  }

}

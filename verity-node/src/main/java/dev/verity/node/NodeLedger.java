package dev.verity.node;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.core.io.AtomicFiles;
import dev.verity.hub.ModelRegistry;
import dev.verity.ledger.Action;
import dev.verity.ledger.GenesisConfig;
import dev.verity.ledger.Ledger;
import dev.verity.ledger.LedgerView;
import dev.verity.ledger.NodeRole;
import dev.verity.ledger.SequencerLedger;
import dev.verity.ledger.SignedTransaction;
import dev.verity.ledger.StateRecord;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The node's embedded ledger and everything the node does on it: it runs the {@link
 * SequencerLedger} (the node's key is the sequencer key, and the worker key of this single-node
 * network), charges for inference ({@link JobPayments}), sends settlements, failures, receipt
 * batches and its own registration ({@link Settler}), and keeps what it owes durable ({@link
 * SettlementJournal}).
 *
 * <p>Files under {@code <data_dir>/ledger}: the ledger's own ({@code LOCK}, {@code blocks/},
 * {@code snapshots/}), {@code genesis.cbor} (the dev genesis, when no genesis file is configured)
 * and {@code settlements.log} (the journal).
 *
 * <p><b>Registration.</b> A job for this node, or a job for any worker that this node settles,
 * needs the node registered on the ledger as a worker serving the model. The node keeps its
 * registration in step by itself: it registers (bonding the genesis minimum stake from its balance
 * if it has less bonded) the models it hosts that are registered on the ledger, when a block
 * registers one of them and at least every second otherwise.
 */
final class NodeLedger implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(NodeLedger.class.getName());

  private final Ledger ledger;
  /** Whether this node opened the ledger (and closes it), or joined one run elsewhere. */
  private final boolean owned;
  private final Signer key;
  private final LedgerSettings settings;
  private final ModelRegistry registry;
  private final SettlementJournal journal;
  private final Settler settler;
  private final JobPayments payments;
  private volatile String endpoint;
  private volatile Set<NodeRole> roles = Set.of(NodeRole.WORKER);
  private volatile long stakeWanted;
  private Ledger.Subscription subscription;

  private NodeLedger(Ledger ledger, boolean owned, Signer key, LedgerSettings settings, ModelRegistry registry,
      SettlementJournal journal) {
    this.ledger = ledger;
    this.owned = owned;
    this.key = key;
    this.settings = settings;
    this.registry = registry;
    this.journal = journal;
    this.payments = new JobPayments(this);
    this.settler = new Settler(ledger, key, settings, journal, this::desiredRegistration, payments::release);
  }

  /**
   * Opens the ledger in {@code dir} and resumes the work the journal says is owed. Nothing is sent
   * before {@link #start}.
   *
   * @throws IllegalArgumentException if the node's key is not the genesis sequencer, or the
   *     directory holds another chain
   * @throws IOException if the files cannot be used
   */
  static NodeLedger open(Path dir, LedgerSettings settings, Signer key, ModelRegistry registry) throws IOException {
    return open(dir, settings, key, registry, dev.verity.ledger.DisputeReferee.NONE);
  }

  /** As {@link #open(Path, LedgerSettings, Signer, ModelRegistry)}, ruling on disputes with {@code referee}. */
  static NodeLedger open(Path dir, LedgerSettings settings, Signer key, ModelRegistry registry,
      dev.verity.ledger.DisputeReferee referee) throws IOException {
    Files.createDirectories(dir);
    GenesisConfig genesis = genesis(dir, settings, key);
    if (!genesis.sequencer().equals(key.publicKey())) {
      throw new IllegalArgumentException("this node's key " + key.publicKey() + " is not the sequencer of chain '"
          + genesis.chainId() + "' (" + genesis.sequencer() + "); an embedded ledger runs on its sequencer's node."
          + " Use that node's data directory, or a genesis that names this node's key");
    }
    SequencerLedger ledger = SequencerLedger.open(dir, genesis, key,
        SequencerLedger.Options.defaults().withMaxBlockDelay(settings.blockDelay()).withReferee(referee));
    try {
      SettlementJournal journal = SettlementJournal.open(dir.resolve("settlements.log"));
      NodeLedger n = new NodeLedger(ledger, true, key, settings, registry, journal);
      n.resume();
      return n;
    } catch (IOException | RuntimeException e) {
      ledger.close();
      throw e;
    }
  }

  /**
   * Joins a ledger that runs elsewhere (another node's, in the same process: how tests build a
   * network of several nodes on one sequencer; a remote ledger plugs in the same way). The
   * settlement journal lives in {@code dir}; closing this node leaves the ledger running.
   */
  static NodeLedger join(Path dir, Ledger shared, LedgerSettings settings, Signer key, ModelRegistry registry)
      throws IOException {
    Files.createDirectories(dir);
    SettlementJournal journal = SettlementJournal.open(dir.resolve("settlements.log"));
    NodeLedger n = new NodeLedger(shared, false, key, settings, registry, journal);
    n.resume();
    return n;
  }

  /** The configured genesis, or the dev genesis kept in {@code dir} (created on first use). */
  static GenesisConfig genesis(Path dir, LedgerSettings settings, Signer key) throws IOException {
    Path file = settings.genesis().orElse(dir.resolve("genesis.cbor"));
    if (Files.exists(file)) {
      try {
        return GenesisConfig.decode(Files.readAllBytes(file));
      } catch (DecodingException e) {
        throw new IllegalArgumentException("genesis file " + file + " is not a canonical genesis configuration: "
            + e.getMessage(), e);
      }
    }
    if (settings.genesis().isPresent()) {
      throw new IOException("genesis file " + file + " (setting ledger.genesis) does not exist");
    }
    GenesisConfig dev = devGenesis(key, System.currentTimeMillis());
    AtomicFiles.write(file, dev.encode());
    LOG.log(System.Logger.Level.INFO, "created dev genesis " + file + " for chain '" + dev.chainId() + "'");
    return dev;
  }

  /**
   * The genesis of a single-node dev network: this node sequences, resolves challenges and holds
   * the treasury; it starts with 1,000,000 units (enough to bond its worker stake); the faucet is on,
   * so clients can mint what they need to open jobs.
   */
  static GenesisConfig devGenesis(Signer node, long timeMillis) {
    return GenesisConfig.builder("verity-dev")
        .devNetwork(true)
        .genesisTime(timeMillis)
        .sequencer(node.publicKey())
        .authority(node.publicKey())
        .treasury(node.address())
        .allocate(node.address(), 1_000_000)
        .build();
  }

  /** Re-queues what the journal says is still owed, checking each job against the ledger. */
  private void resume() throws IOException {
    LedgerView v = ledger.view();
    List<Hash> finished = new java.util.ArrayList<>();
    int resumed = 0;
    for (SettlementJournal.Owed o : journal.owedAtOpen().values()) {
      Optional<StateRecord.Job> j = v.job(o.job());
      StateRecord.Job.Status s = j.map(StateRecord.Job::status).orElse(null);
      if (s == StateRecord.Job.Status.OPEN) {
        payments.claim(o.job());
        settler.submit(o);
        resumed++;
      } else if (o.paid() && j.isPresent() && j.get().worker().equals(Optional.of(address()))
          && (s == StateRecord.Job.Status.SETTLED || s == StateRecord.Job.Status.CHALLENGED)
          && v.receipt(o.receipt().get()).isEmpty()) {
        settler.commitReceipt(o.entry());
        resumed++;
      } else {
        finished.add(o.job());
      }
    }
    journal.done(finished);
    if (resumed > 0) {
      LOG.log(System.Logger.Level.INFO, "resuming " + resumed + " settlements owed from before the last stop");
    }
  }

  /** Starts sending, now that the node serves at {@code uri} (the endpoint it registers). */
  void start(URI uri) {
    this.endpoint = uri.toString();
    subscription = ledger.subscribe(ledger.view().height() + 1, block -> {
      for (SignedTransaction t : block.transactions()) {
        if (t.tx().action() instanceof Action.RegisterModel r && registry.entry(r.manifest()).isPresent()) {
          settler.requestRegistration();
          return;
        }
      }
    });
    settler.start();
    settler.requestRegistration();
  }

  /**
   * The registration the node should send given {@code v}: the models it hosts (not yanked) that
   * are registered on the ledger, at most {@link Action.RegisterNode#MAX_MODELS}; empty when the
   * ledger already says exactly that, or when there is nothing to register.
   */
  Optional<Action.RegisterNode> desiredRegistration(LedgerView v) {
    String url = endpoint;
    if (url == null) {
      return Optional.empty();
    }
    TreeSet<String> models = new TreeSet<>();
    for (ModelRegistry.Repository r : registry.repositories()) {
      for (ModelRegistry.VersionEntry e : r.versions()) {
        if (!e.yanked() && v.model(e.manifest().cid()).isPresent()) {
          models.add(e.manifest().cid().toString());
        }
      }
    }
    List<Cid> list = models.stream().limit(Action.RegisterNode.MAX_MODELS).map(Cid::parse).toList();
    Optional<StateRecord.Node> current = v.node(address());
    Set<NodeRole> wanted = roles;
    if (current.isEmpty() && list.isEmpty() && !wanted.contains(NodeRole.VERIFIER)) {
      return Optional.empty();
    }
    long bonded = v.stake(address()).bonded();
    long topUp = Math.max(0, Math.max(genesis().minNodeStake(), stakeWanted) - bonded);
    if (current.isPresent() && current.get().endpoint().equals(url) && current.get().roles().containsAll(wanted)
        && new HashSet<>(current.get().models()).equals(new HashSet<>(list)) && topUp == 0) {
      return Optional.empty();
    }
    return Optional.of(new Action.RegisterNode(url, wanted, list,
        Math.max(1, Runtime.getRuntime().availableProcessors()), topUp));
  }

  void requestRegistration() {
    settler.requestRegistration();
  }

  /**
   * Also registers the verifier role (mode optimistic), keeping at least {@code stake} bonded
   * (0: the genesis minimum).
   */
  void registerAsVerifier(long stake) {
    roles = Set.of(NodeRole.WORKER, NodeRole.VERIFIER);
    keepStake(stake);
  }

  /** Keeps at least {@code stake} bonded (topping it up from the balance, for example after a slash). */
  void keepStake(long stake) {
    stakeWanted = Math.max(stakeWanted, stake);
    settler.requestRegistration();
  }

  Ledger ledger() {
    return ledger;
  }

  /** Sends one of this node's transactions in the settlement thread's next round ({@link Settler#send}). */
  java.util.concurrent.CompletableFuture<dev.verity.ledger.Committed> send(Action action) {
    return settler.send(action);
  }

  LedgerView view() {
    return ledger.view();
  }

  GenesisConfig genesis() {
    return ledger.genesis();
  }

  Address address() {
    return key.address();
  }

  long operatorFee() {
    return settings.operatorFee();
  }

  LedgerSettings settings() {
    return settings;
  }

  Payments payments() {
    return payments;
  }

  SettlementJournal journal() {
    return journal;
  }

  Settler settler() {
    return settler;
  }

  /** Sends what is waiting (for up to 10 seconds), then closes the ledger. */
  @Override
  public void close() {
    if (subscription != null) {
      subscription.close();
    }
    settler.close();
    if (owned) {
      ledger.close();
    }
    try {
      journal.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "closing " + journal.file() + " failed", e);
    }
  }
}

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
import dev.verity.node.net.LedgerPeerDirectory;
import dev.verity.node.net.NetworkSettings;
import dev.verity.node.net.PeerDirectory;
import dev.verity.node.net.RemoteLedger;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The node's ledger and everything the node does on it: it runs the {@link SequencerLedger} (with
 * {@code ledger = embedded}: the node's key is the sequencer key) or follows the sequencer node's
 * ledger ({@code ledger = remote}: a {@link RemoteLedger} that verifies every block), charges for
 * inference ({@link JobPayments}), sends settlements, failures, receipt batches, its own
 * registration and heartbeats ({@link Settler}), keeps what it owes durable ({@link
 * SettlementJournal}), and keeps the directory of live peers ({@link LedgerPeerDirectory}).
 *
 * <p>Files under {@code <data_dir>/ledger}: with an embedded ledger its own ({@code LOCK}, {@code
 * blocks/}, {@code snapshots/}); {@code genesis.cbor} (the dev genesis, when no genesis file is
 * configured; with a remote ledger and no genesis file, the sequencer's genesis pinned at first
 * start) and {@code settlements.log} (the journal).
 *
 * <p><b>Registration and heartbeats.</b> A job for this node, or a job for any worker that this
 * node settles, needs the node registered on the ledger as a worker serving the model; peers find
 * the node only through its registration. The node keeps its registration in step by itself: it
 * registers its endpoint, roles, capacity and the models it hosts that are registered on the ledger
 * (bonding its configured stake, at least the genesis minimum, from its balance if it has less
 * bonded), when a block registers one of them and otherwise whenever its registration is checked;
 * between registrations it sends a heartbeat every {@code heartbeat_millis} (the sequencer only
 * once another node has registered: alone, it has nobody to tell and its ledger stays idle).
 */
final class NodeLedger implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(NodeLedger.class.getName());

  private final Ledger ledger;
  /** Whether this node opened the ledger (and closes it), or joined one run elsewhere. */
  private final boolean owned;
  private final Signer key;
  private final LedgerSettings settings;
  private final NetworkSettings network;
  private final Object heights = new Object();
  private volatile long lastBeatNanos;
  private volatile LedgerPeerDirectory peers;
  private final ModelRegistry registry;
  private final SettlementJournal journal;
  private final Settler settler;
  private final JobPayments payments;
  private volatile String endpoint;
  private volatile Set<NodeRole> roles;
  private volatile long stakeWanted;
  private Ledger.Subscription subscription;

  private NodeLedger(Ledger ledger, boolean owned, Signer key, NodeConfig config, ModelRegistry registry,
      SettlementJournal journal) {
    this.ledger = ledger;
    this.owned = owned;
    this.key = key;
    this.settings = config.ledger();
    this.network = config.network();
    java.util.EnumSet<NodeRole> configured = java.util.EnumSet.noneOf(NodeRole.class);
    configured.addAll(config.roles());
    if (!owned) {
      configured.remove(NodeRole.SEQUENCER); // a node that joined another node's ledger does not sequence it
    }
    if (!config.verifies()) {
      // in the verifier set only when it re-executes what is sampled to it (optimistic.verifier)
      configured.remove(NodeRole.VERIFIER);
    }
    this.roles = Set.copyOf(configured);
    this.registry = registry;
    this.journal = journal;
    this.payments = new JobPayments(this);
    Duration check = Duration.ofSeconds(1);
    if (!network.heartbeat().isZero() && network.heartbeat().dividedBy(2).compareTo(check) < 0) {
      check = network.heartbeat().dividedBy(2);
    }
    this.settler = new Settler(ledger, key, settings, journal, this::membership, check, payments::release);
  }

  /**
   * Opens the ledger in {@code dir} and resumes the work the journal says is owed. Nothing is sent
   * before {@link #start}.
   *
   * @throws IllegalArgumentException if the node's key is not the genesis sequencer, or the
   *     directory holds another chain
   * @throws IOException if the files cannot be used
   */
  static NodeLedger open(Path dir, NodeConfig config, Signer key, ModelRegistry registry) throws IOException {
    return open(dir, config, key, registry, dev.verity.ledger.DisputeReferee.NONE);
  }

  /** As {@link #open(Path, NodeConfig, Signer, ModelRegistry)}, ruling on disputes with {@code referee}. */
  static NodeLedger open(Path dir, NodeConfig config, Signer key, ModelRegistry registry,
      dev.verity.ledger.DisputeReferee referee) throws IOException {
    LedgerSettings settings = config.ledger();
    Files.createDirectories(dir);
    if (settings.remote()) {
      return openRemote(dir, config, key, registry);
    }
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
      NodeLedger n = new NodeLedger(ledger, true, key, config, registry, journal);
      n.resume();
      return n;
    } catch (IOException | RuntimeException e) {
      ledger.close();
      throw e;
    }
  }

  /** How long a node with a remote ledger waits at start for the sequencer. */
  static final Duration REMOTE_START_DEADLINE = Duration.ofSeconds(60);

  private static NodeLedger openRemote(Path dir, NodeConfig config, Signer key, ModelRegistry registry)
      throws IOException {
    LedgerSettings settings = config.ledger();
    URI url = settings.url().orElseThrow();
    GenesisConfig genesis;
    Path pinned = dir.resolve("genesis.cbor");
    if (settings.genesis().isPresent() || Files.exists(pinned)) {
      genesis = genesis(dir, settings, key);
    } else {
      genesis = RemoteLedger.fetchGenesis(url, REMOTE_START_DEADLINE);
      AtomicFiles.write(pinned, genesis.encode());
      LOG.log(System.Logger.Level.WARNING, "no ledger.genesis configured: pinned the genesis of chain '"
          + genesis.chainId() + "' (hash " + genesis.hash().toHex() + ") served by " + url + " in " + pinned
          + "; compare the hash with the network's published genesis hash");
    }
    if (genesis.sequencer().equals(key.publicKey())) {
      throw new IllegalArgumentException("this node's key " + key.publicKey() + " is the sequencer of chain '"
          + genesis.chainId() + "'; the sequencer runs the ledger itself: set ledger = embedded on this node");
    }
    RemoteLedger ledger = RemoteLedger.open(url, genesis, REMOTE_START_DEADLINE);
    try {
      SettlementJournal journal = SettlementJournal.open(dir.resolve("settlements.log"));
      NodeLedger n = new NodeLedger(ledger, true, key, config, registry, journal);
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
  static NodeLedger join(Path dir, Ledger shared, NodeConfig config, Signer key, ModelRegistry registry)
      throws IOException {
    Files.createDirectories(dir);
    SettlementJournal journal = SettlementJournal.open(dir.resolve("settlements.log"));
    NodeLedger n = new NodeLedger(shared, false, key, config, registry, journal);
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

  /** Heartbeats make blocks, so a dev chain keeps a job open for this many (hours, not minutes). */
  static final long DEV_JOB_TIMEOUT_BLOCKS = 100_000;

  /**
   * The genesis of a single-node dev network: this node sequences, resolves challenges and holds
   * the treasury; it starts with 1,000,000 units (enough to bond its worker stake); the faucet is on,
   * so clients can mint what they need to open jobs.
   */
  static GenesisConfig devGenesis(Signer node, long timeMillis) {
    return GenesisConfig.builder("verity-dev")
        .devNetwork(true)
        .jobTimeoutBlocks(DEV_JOB_TIMEOUT_BLOCKS)
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
    this.endpoint = network.endpoint().orElse(uri).toString();
    subscription = ledger.subscribe(ledger.view().height() + 1, block -> {
      synchronized (heights) {
        heights.notifyAll();
      }
      for (SignedTransaction t : block.transactions()) {
        if (t.tx().action() instanceof Action.RegisterModel r && registry.entry(r.manifest()).isPresent()) {
          settler.requestRegistration();
          return;
        }
      }
    });
    peers = LedgerPeerDirectory.start(ledger, address(), network.liveness());
    settler.start();
    settler.requestRegistration();
  }

  /** The live peers, from the ledger's node registry. */
  PeerDirectory peers() {
    LedgerPeerDirectory p = peers;
    return p != null ? p : PeerDirectory.of(List.of());
  }

  /**
   * Waits (at most {@code max}) until the ledger holds a block above {@code height}; returns the
   * latest view either way.
   */
  LedgerView awaitAbove(long height, Duration max) throws InterruptedException {
    long end = System.nanoTime() + max.toNanos();
    synchronized (heights) {
      while (ledger.view().height() <= height) {
        long left = end - System.nanoTime();
        if (left <= 0) {
          break;
        }
        heights.wait(Math.max(1, left / 1_000_000));
      }
    }
    return ledger.view();
  }

  /**
   * The latest view, and with a remote ledger one at least as new as the sequencer's head right now
   * (so what a client just committed through another node is seen); falls back to the latest view
   * held here if the sequencer does not answer within a second or two.
   */
  LedgerView freshView() {
    if (ledger instanceof RemoteLedger r) {
      try {
        return r.catchUp(Duration.ofSeconds(2));
      } catch (IOException e) {
        LOG.log(System.Logger.Level.DEBUG, "reading the sequencer's head failed: " + e.getMessage());
      }
    }
    return ledger.view();
  }

  /**
   * What the node should send about itself given {@code v}: a registration when the ledger does not
   * describe the node as it is (endpoint, roles, capacity, the models it hosts, not yanked, that are
   * registered on the ledger, at most {@link Action.RegisterNode#MAX_MODELS}, and its stake); else a
   * heartbeat when one is due; else nothing.
   */
  Optional<Action> membership(LedgerView v) {
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
    long capacity = network.capacity() > 0 ? network.capacity() : Math.max(1, Runtime.getRuntime().availableProcessors());
    long wantStake = Math.max(Math.max(network.stake(), stakeWanted), genesis().minNodeStake());
    long bonded = v.stake(address()).bonded();
    Optional<StateRecord.Node> current = v.node(address());
    boolean upToDate = current.isPresent() && current.get().endpoint().equals(url)
        && current.get().roles().equals(roles) && current.get().capacity() == capacity
        && new HashSet<>(current.get().models()).equals(new HashSet<>(list)) && bonded >= wantStake;
    long now = System.nanoTime();
    if (!upToDate) {
      lastBeatNanos = now;
      return Optional.of(new Action.RegisterNode(url, roles, list, capacity, Math.max(0, wantStake - bonded)));
    }
    LedgerPeerDirectory directory = peers;
    if (!network.heartbeat().isZero() && now - lastBeatNanos >= network.heartbeat().toNanos()
        && (directory == null || directory.othersKnown() || !settings.embedded())) {
      lastBeatNanos = now;
      return Optional.of(new Action.Heartbeat());
    }
    return Optional.empty();
  }

  void requestRegistration() {
    settler.requestRegistration();
  }

  /**
   * Also registers the verifier role (mode optimistic), keeping at least {@code stake} bonded
   * (0: the genesis minimum).
   */
  void registerAsVerifier(long stake) {
    java.util.EnumSet<NodeRole> r = java.util.EnumSet.of(NodeRole.VERIFIER);
    r.addAll(roles);
    roles = Set.copyOf(r);
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

  /** The roles this node registers with. */
  java.util.Set<NodeRole> roles() {
    return roles;
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
    if (peers != null) {
      peers.close();
    }
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

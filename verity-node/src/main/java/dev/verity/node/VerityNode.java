package dev.verity.node;

import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.KeyFile;
import dev.verity.core.crypto.Signer;
import dev.verity.hub.BlobStore;
import dev.verity.hub.FileBlobStore;
import dev.verity.hub.ModelRegistry;
import dev.verity.ledger.Ledger;
import dev.verity.ledger.NodeRole;
import dev.verity.ledger.StateRecord;
import dev.verity.node.gateway.Gateway;
import dev.verity.node.gateway.WorkerPool;
import dev.verity.protocol.tensor.TensorLimits;
import dev.verity.core.Hash;
import dev.verity.node.optimistic.ContentFetcher;
import dev.verity.node.optimistic.ExecReferee;
import dev.verity.node.optimistic.OptimisticAgent;
import dev.verity.node.http.HttpApiServer;
import dev.verity.node.http.Metrics;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerAuth;
import dev.verity.node.net.PeerDirectory;
import dev.verity.node.replica.ModelCache;
import dev.verity.node.replica.Replicator;
import dev.verity.runtime.OnnxRuntimeEngine;
import dev.verity.runtime.SessionCache;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * A running Verity node: its key, blob store, model registry, inference engine and HTTP API, all
 * under one data directory that no other node may use at the same time. {@link #start} brings
 * everything up; {@link #close} stops serving and releases every resource.
 *
 * <p>Layout of the data directory: {@code node.key} (the node's Ed25519 key, owner-only),
 * {@code blobs/} (content-addressed chunks), {@code hub/} (manifests and versions), {@code
 * models/} (model files assembled for the engine), {@code replica/} (which models were fetched
 * from peers, for their disk budget), {@code ledger/} (with 
 * {@code tensors/} (where the inputs and outputs of optimistic jobs, kept in the blob store, are
 * found when larger than one block), {@code ledger/} (with {@code ledger =
 * embedded}: the ledger and the node's settlement journal, see {@link NodeLedger}), {@code .lock}.
 */
public final class VerityNode implements AutoCloseable {
  /** The node software version written into every receipt's provenance. */
  public static final String VERSION = "0.1.0";

  private final NodeConfig config;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final Signer key;
  private final BlobStore blobs;
  private final ModelRegistry registry;
  private final OnnxRuntimeEngine engine;
  private final SessionCache sessions;
  private final CanonicalRuns canonical;
  private final InferenceService inference;
  private final HttpApiServer server;
  private final NodeLedger ledger;
  private final Replicator replicas;
  private final Optional<Gateway> gateway;
  private final OptimisticAgent agent;
  private final YankPropagation yanks;
  private final UploadRetention uploads;
  private boolean closed;

  private VerityNode(NodeConfig config, FileChannel lockChannel, FileLock lock, Signer key, BlobStore blobs,
      ModelRegistry registry, OnnxRuntimeEngine engine, SessionCache sessions, CanonicalRuns canonical,
      InferenceService inference, HttpApiServer server, NodeLedger ledger, Replicator replicas,
      Optional<Gateway> gateway, OptimisticAgent agent, YankPropagation yanks, UploadRetention uploads) {
    this.replicas = replicas;
    this.config = config;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.key = key;
    this.blobs = blobs;
    this.registry = registry;
    this.engine = engine;
    this.sessions = sessions;
    this.canonical = canonical;
    this.inference = inference;
    this.server = server;
    this.ledger = ledger;
    this.gateway = gateway;
    this.agent = agent;
    this.yanks = yanks;
    this.uploads = uploads;
  }

  /**
   * The node key kept in {@code dataDir} ({@code node.key}), created on first use. A node started on
   * that directory signs with this key (and sequences its embedded ledger with it).
   */
  public static Signer loadOrCreateKey(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    Path keyFile = dataDir.resolve("node.key");
    if (!Files.exists(keyFile)) {
      KeyFile.write(keyFile, Signer.generate());
    }
    return KeyFile.read(keyFile);
  }

  /** Opens the data directory (creating it and the node key on first start) and starts serving. */
  public static VerityNode start(NodeConfig config) throws IOException {
    return start(config, Conduct.HONEST, null, null);
  }

  /** As {@link #start(NodeConfig, PeerDirectory)}; empty: the live peers of the node's ledger. */
  public static VerityNode start(NodeConfig config, Optional<PeerDirectory> peers) throws IOException {
    return start(config, Conduct.HONEST, null, peers.orElse(null));
  }

  /**
   * As {@link #start(NodeConfig)}, with the peers this node fetches models it lacks from and accepts
   * node-to-node calls from ({@code replica.peers_only}); {@code null}: the live peers of the node's
   * ledger (none without a ledger). A node with the gateway role forwards inference to the workers
   * among them ({@link Gateway}).
   */
  public static VerityNode start(NodeConfig config, PeerDirectory peers) throws IOException {
    return start(config, Conduct.HONEST, null, peers);
  }

  /**
   * How this node behaves where a test needs it to misbehave: which engine its optimistic runs go
   * through (the canonical runs, wrapped), and so on. Production nodes are {@link #HONEST}.
   *
   * @param worker wraps the canonical engine the node commits with, and verifies with
   * @param diligence how the node verifies jobs sampled to it
   * @param answersDisputes whether it defends its own jobs in disputes
   * @param committedRoot for a job, a trace root to commit instead of the run's (an auditor's
   *     worker commits the planted root of a planted job)
   */
  record Conduct(java.util.function.UnaryOperator<OptimisticEngine> worker, OptimisticAgent.Diligence diligence,
      boolean answersDisputes, java.util.function.Function<Hash, Optional<Hash>> committedRoot) {
    static final Conduct HONEST = new Conduct(e -> e, OptimisticAgent.Diligence.RECOMPUTES, true, job -> Optional.empty());

    Conduct withWorker(java.util.function.UnaryOperator<OptimisticEngine> w) {
      return new Conduct(w, diligence, answersDisputes, committedRoot);
    }

    Conduct withDiligence(OptimisticAgent.Diligence d) {
      return new Conduct(worker, d, answersDisputes, committedRoot);
    }

    Conduct stallingInDisputes() {
      return new Conduct(worker, diligence, false, committedRoot);
    }

    Conduct committing(java.util.function.Function<Hash, Optional<Hash>> roots) {
      return new Conduct(worker, diligence, answersDisputes, roots);
    }
  }

  private static OptimisticAgent.Engine engineFor(OptimisticEngine run, CanonicalRuns canonical) {
    return new OptimisticAgent.Engine() {
      @Override
      public dev.verity.exec.Execution run(dev.verity.core.Cid model, dev.verity.protocol.tensor.NamedTensors inputs) {
        return run.run(model, inputs);
      }

      @Override
      public dev.verity.onnx.OnnxModel model(dev.verity.core.Cid model) {
        return canonical.model(model);
      }
    };
  }

  /** As {@link #start(NodeConfig)}, behaving as {@code conduct} says (tests play misbehaving nodes). */
  static VerityNode start(NodeConfig config, Conduct conduct) throws IOException {
    return start(config, conduct, null, null);
  }

  /**
   * As {@link #start(NodeConfig, Conduct)}; with {@code shared} not null the node joins that ledger
   * (run by another node of this process) instead of opening its own: several nodes, one network.
   */
  static VerityNode start(NodeConfig config, Conduct conduct, Ledger shared) throws IOException {
    return start(config, conduct, shared, null);
  }

  private static VerityNode start(NodeConfig config, Conduct conduct, Ledger shared, PeerDirectory peers)
      throws IOException {
    Path dir = config.dataDir();
    Files.createDirectories(dir);
    FileChannel lockChannel = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // another node in this process holds it
    } catch (IOException | RuntimeException e) {
      lockChannel.close();
      throw e;
    }
    if (lock == null) {
      lockChannel.close();
      throw new IOException("another Verity node is using " + dir + "; stop it or choose another data_dir");
    }
    // What is opened is closed again if a later step fails, so the directory stays usable.
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    try {
      Signer key = loadOrCreateKey(dir);
      ModelRegistry registry = ModelRegistry.open(dir.resolve("hub"));
      BlobStore blobs = FileBlobStore.open(dir.resolve("blobs"));
      opened.push(blobs);
      TensorBlobs tensors = new TensorBlobs(blobs, dir.resolve("tensors"));
      NodeContent content = new NodeContent(registry, blobs, tensors, new ContentFetcher(key,
          Math.min(config.maxModelBytes(), CanonicalRuns.MAX_MODEL_BYTES)));
      NodeLedger ledger = null;
      if (shared != null) {
        ledger = NodeLedger.join(dir.resolve("ledger"), shared, config, key, registry);
        opened.push(ledger);
      } else if (config.ledger().enabled()) {
        // the sequencer's referee rules on disputes from content this node keeps (fetched when jobs
        // are committed); a follower of a remote ledger re-runs blocks without rulings of its own
        ExecReferee referee = new ExecReferee(cid -> content.bytes(cid, List.of()));
        ledger = NodeLedger.open(dir.resolve("ledger"), config, key, registry, referee);
        opened.push(ledger);
      }
      if (peers == null) {
        NodeLedger l = ledger;
        peers = l != null ? () -> l.peers().live() : PeerDirectory.of(List.of());
      }
      ModelFiles files = new ModelFiles(dir.resolve("models"), blobs);
      OnnxRuntimeEngine engine = OnnxRuntimeEngine.create();
      opened.push(engine);
      SessionCache sessions = new SessionCache(engine, config.sessionConfig(), config.sessionCacheBytes());
      opened.push(sessions);
      CanonicalRuns canonical = new CanonicalRuns(files, config.optimistic().threads());
      opened.push(canonical);
      Clock clock = Clock.systemUTC();
      Metrics metrics = new Metrics();
      ModelCache replicated = ModelCache.open(dir.resolve("replica"), blobs, config.replica().cacheBytes(),
          registry::modelBlobs, blob -> {
            files.evict(blob);
            metrics.increment("replica_models_evicted");
          });
      Replicator replicas = new Replicator(key, blobs, registry, peers, replicated, config.replica(), clock,
          metrics::increment);
      opened.push(replicas);
      OptimisticEngine engineOfRecord = conduct.worker().apply(canonical::runTraced);
      InferenceService inference = new InferenceService(registry, files, sessions, canonical, engineOfRecord, tensors,
          key, clock, ledger != null ? ledger.payments() : Payments.NONE, conduct.committedRoot(), replicas);
      UploadRetention uploads = new UploadRetention(config.dataDir().resolve("uploads-pending.log"), clock, blobs,
          registry, replicated, config.uploadRetention());
      opened.push(uploads);
      PublishService publishing = new PublishService(blobs, registry, files, sessions, uploads);
      NodeApi.NodeIdentity identity = new NodeApi.NodeIdentity(key.publicKey().toString(), key.address().toString(),
          engine.name(), engine.version(), config.executionProvider());
      Optional<Gateway> gateway = Optional.empty();
      if (config.roles().contains(NodeRole.GATEWAY)) {
        NodeLedger l = ledger;
        PeerDirectory directory = peers;
        Gateway g = new Gateway(
            new WorkerPool(directory), config.gateway(),
            job -> l != null ? l.view().job(job).flatMap(StateRecord.Job::worker)
                : Optional.empty(),
            new TensorLimits(TensorLimits.DEFAULT.maxTensors(),
                config.maxTensorElements(), config.maxRequestBytes()), key);
        opened.push(g);
        gateway = Optional.of(g);
      }
      YankPropagation yanks = new YankPropagation(registry, peers, key, clock, config.replica().yankCheck());
      opened.push(yanks);
      NodeApi api = new NodeApi(config, blobs, registry, inference, publishing, identity, metrics, clock,
          new PeerAuth(peers, clock), replicated, gateway, yanks, uploads);
      HttpApiServer server = HttpApiServer.start(config.host(), config.port(),
          new LedgerApi(Optional.ofNullable(ledger)).addTo(api.routes()), metrics);
      OptimisticAgent agent = null;
      if (ledger != null) {
        // a worker puts step openings too large for a transaction on the sequencer's hub, where the referee reads
        Address sequencer = ledger.genesis().sequencer().address();
        Optional<URI> remote = config.ledger().url();
        PeerDirectory directory = peers;
        content.sequencerHub(sequencer.equals(key.address()), () -> remote.or(() -> directory.live().stream()
            .filter(p -> p.address().equals(sequencer)).map(Peer::endpoint).findFirst()));
        long bond = config.optimistic().challengeBond() > 0 ? config.optimistic().challengeBond()
            : Math.max(1, ledger.genesis().minChallengeBond());
        agent = new OptimisticAgent(ledger.ledger(), key.address(), ledger::send,
            // an honest node's engine of record is the canonical run; a test's misbehaving node uses its own for both
            engineFor(engineOfRecord, canonical), engineFor(engineOfRecord, canonical), content,
            new OptimisticAgent.Settings(config.verifies(), conduct.diligence(), bond,
                conduct.answersDisputes(), shared == null && config.ledger().embedded()));
        opened.push(agent);
      }
      VerityNode node = new VerityNode(config, lockChannel, lock, key, blobs, registry, engine, sessions, canonical,
          inference, server, ledger, replicas, gateway, agent, yanks, uploads);
      if (ledger != null) {
        if (config.verifies()) {
          ledger.registerAsVerifier(config.optimistic().verifierStake());
        }
        ledger.start(node.uri());
        agent.start();
      }
      return node;
    } catch (IOException | RuntimeException e) {
      for (AutoCloseable c : opened) {
        try {
          c.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      lock.release();
      lockChannel.close();
      throw e;
    }
  }

  public int port() {
    return server.port();
  }

  public URI uri() {
    String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
    return URI.create("http://" + host + ":" + port());
  }

  public dev.verity.core.crypto.PublicKey publicKey() {
    return key.publicKey();
  }

  /** The node's address: its operator address in the ledger's node registry. */
  public dev.verity.core.crypto.Address address() {
    return key.address();
  }

  /** Fetching models from peers and the disk budget of replicated models. */
  /** This node's blob store (tests look into it). */
  dev.verity.hub.BlobStore blobs() {
    return blobs;
  }

  /** What this node keeps of unpublished uploads (tests drive its sweep). */
  UploadRetention uploads() {
    return uploads;
  }

  /** How this node learns of yanks from its peers (tests drive its pull). */
  YankPropagation yanks() {
    return yanks;
  }

  public Replicator replicas() {
    return replicas;
  }

  public NodeConfig config() {
    return config;
  }

  /** The in-process inference path (what the HTTP API calls), for embedding and benchmarks. */
  public InferenceService inference() {
    return inference;
  }

  public ModelRegistry registry() {
    return registry;
  }

  /**
   * The peers this node may work with: registered on the ledger and live (heartbeats within {@code
   * liveness_millis}); none without a ledger.
   */
  public PeerDirectory peers() {
    return ledger != null ? ledger.peers() : PeerDirectory.of(List.of());
  }

  /**
   * The ledger this node takes part in (its embedded sequencer ledger, the verified follower of
   * the sequencer's, or one it joined in this process), if any: for services that read jobs,
   * accounts and the node registry.
   */
  public Optional<Ledger> ledger() {
    return ledger != null ? Optional.of(ledger.ledger()) : Optional.empty();
  }

  /** Keeps at least {@code stake} bonded on the ledger (tests: workers that must survive slashes). */
  void keepStake(long stake) {
    ledger.keepStake(stake);
  }

  /** Whether this node takes part in a ledger (embedded or remote) and charges for inference. */
  public boolean hasLedger() {
    return ledger != null;
  }

  /** The gateway, on a node with the gateway role. */
  public Optional<Gateway> gateway() {
    return gateway;
  }

  /** What this node's optimistic agent did (attestations, challenges, disputes, finalized jobs). */
  public Optional<OptimisticAgent.Stats> optimisticStats() {
    return Optional.ofNullable(agent).map(OptimisticAgent::stats);
  }

  /** Stops serving and releases everything; closing a closed node does nothing. */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    if (agent != null) {
      agent.close();
    }
    server.close();
    yanks.close();
    uploads.close();
    replicas.close();
    gateway.ifPresent(Gateway::close);
    if (ledger != null) {
      ledger.close();
    }
    sessions.close();
    canonical.close();
    engine.close();
    blobs.close();
    lock.release();
    lockChannel.close();
  }
}

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
import dev.verity.node.http.HttpApiServer;
import dev.verity.node.http.Metrics;
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
 * from peers, for their disk budget), {@code ledger/} (with {@code ledger =
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
  private final InferenceService inference;
  private final HttpApiServer server;
  private final NodeLedger ledger;
  private final Replicator replicas;
  private final Optional<Gateway> gateway;
  private boolean closed;

  private VerityNode(NodeConfig config, FileChannel lockChannel, FileLock lock, Signer key, BlobStore blobs,
      ModelRegistry registry, OnnxRuntimeEngine engine, SessionCache sessions, InferenceService inference,
      HttpApiServer server, NodeLedger ledger, Replicator replicas, Optional<Gateway> gateway) {
    this.replicas = replicas;
    this.config = config;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.key = key;
    this.blobs = blobs;
    this.registry = registry;
    this.engine = engine;
    this.sessions = sessions;
    this.inference = inference;
    this.server = server;
    this.ledger = ledger;
    this.gateway = gateway;
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
    return start(config, (PeerDirectory) null);
  }

  /** As {@link #start(NodeConfig, PeerDirectory)}; empty: the live peers of the node's ledger. */
  public static VerityNode start(NodeConfig config, Optional<PeerDirectory> peers) throws IOException {
    return start(config, peers.orElse(null));
  }

  /**
   * As {@link #start(NodeConfig)}, with the peers this node fetches models it lacks from and accepts
   * node-to-node calls from ({@code replica.peers_only}); {@code null}: the live peers of the node's
   * ledger (none without a ledger). A node with the gateway role forwards inference to the workers among
   * them ({@link Gateway}).
   */
  public static VerityNode start(NodeConfig config, PeerDirectory peers) throws IOException {
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
      NodeLedger ledger = null;
      if (config.ledger().enabled()) {
        ledger = NodeLedger.open(dir.resolve("ledger"), config, key, registry);
        opened.push(ledger);
      }
      if (peers == null) {
        NodeLedger l = ledger;
        peers = l != null ? () -> l.peers().live() : PeerDirectory.of(List.of());
      }
      BlobStore blobs = FileBlobStore.open(dir.resolve("blobs"));
      opened.push(blobs);
      ModelFiles files = new ModelFiles(dir.resolve("models"), blobs);
      OnnxRuntimeEngine engine = OnnxRuntimeEngine.create();
      opened.push(engine);
      SessionCache sessions = new SessionCache(engine, config.sessionConfig(), config.sessionCacheBytes());
      opened.push(sessions);
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
      InferenceService inference = new InferenceService(registry, files, sessions, key, clock,
          ledger != null ? ledger.payments() : Payments.NONE, replicas);
      PublishService publishing = new PublishService(blobs, registry, files, sessions);
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
                config.maxTensorElements(), config.maxRequestBytes()));
        opened.push(g);
        gateway = Optional.of(g);
      }
      NodeApi api = new NodeApi(config, blobs, registry, inference, publishing, identity, metrics, clock,
          new PeerAuth(peers, clock), replicated, gateway);
      HttpApiServer server = HttpApiServer.start(config.host(), config.port(),
          new LedgerApi(Optional.ofNullable(ledger)).addTo(api.routes()), metrics);
      VerityNode node = new VerityNode(config, lockChannel, lock, key, blobs, registry, engine, sessions, inference,
          server, ledger, replicas, gateway);
      if (ledger != null) {
        ledger.start(node.uri());
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
   * The ledger this node takes part in (its embedded sequencer ledger, or the verified follower of
   * the sequencer's), if any: for services that read jobs, accounts and the node registry.
   */
  public Optional<Ledger> ledger() {
    return ledger != null ? Optional.of(ledger.ledger()) : Optional.empty();
  }

  /** Whether this node takes part in a ledger (embedded or remote) and charges for inference. */
  public boolean hasLedger() {
    return ledger != null;
  }

  /** The gateway, on a node with the gateway role. */
  public Optional<Gateway> gateway() {
    return gateway;
  }

  /** Stops serving and releases everything; closing a closed node does nothing. */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    server.close();
    replicas.close();
    gateway.ifPresent(Gateway::close);
    if (ledger != null) {
      ledger.close();
    }
    sessions.close();
    engine.close();
    blobs.close();
    lock.release();
    lockChannel.close();
  }
}

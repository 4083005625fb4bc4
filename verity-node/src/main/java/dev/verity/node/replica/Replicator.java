package dev.verity.node.replica;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verity.core.ChunkIndex;
import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.hub.BlobStore;
import dev.verity.hub.ModelRegistry;
import dev.verity.ledger.NodeRole;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerDirectory;
import dev.verity.protocol.ModelManifest;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Brings models this node does not have from its peers. A manifest is fetched by its CID and
 * checked against it and its owner's signature before it is recorded in the {@link ModelRegistry};
 * a model blob is fetched block by block over {@code GET /v1/blobs/{blob}/blocks/{block}}: the
 * blob's own block first (its chunk index, for a blob over 1 MiB), then every missing 1 MiB chunk,
 * several at once and spread over the peers. {@link BlobStore#putBlock} checks each block's hash
 * before it is stored, so no wrong byte is ever kept, and at most one chunk per parallel fetch is
 * in memory.
 *
 * <p>Peers are asked in this order: those that announce the model, then hubs, then the rest. A
 * peer that sends bytes no honest peer could send (a block that does not hash to its CID, a manifest
 * that does not verify, a body longer than any valid one) is logged and avoided for {@link
 * ReplicaSettings#badPeerPenalty()}; the block is fetched from the next peer. A peer that merely
 * lacks a block or refuses it is skipped for that block only; one that does not answer at all is not
 * asked again during the same fetch. Blocks stored before a fetch fails stay (they are verified and
 * counted in the cache), so a later attempt continues where it stopped.
 *
 * <p>Concurrent requests for the same manifest or the same blob share one fetch. Every outgoing
 * request is signed with this node's key, which is how a peer checks that the caller may receive a
 * private model. Thread-safe.
 */
public final class Replicator implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Replicator.class.getName());
  /** Largest manifest accepted from a peer. */
  static final int MAX_MANIFEST_BYTES = 1 << 20;
  private static final ObjectMapper JSON = dev.verity.protocol.JsonFactories.mapper();

  private final BlobStore blobs;
  private final ModelRegistry registry;
  private final PeerDirectory peers;
  private final ModelCache cache;
  private final ReplicaSettings settings;
  private final Clock clock;
  private final PeerClient client;
  private final ExecutorService fetchers = Executors.newVirtualThreadPerTaskExecutor();
  private final Map<Cid, CompletableFuture<ModelRegistry.VersionEntry>> manifestFetches = new ConcurrentHashMap<>();
  private final Map<Cid, CompletableFuture<Void>> blobFetches = new ConcurrentHashMap<>();
  private final Map<Address, Long> avoidUntil = new ConcurrentHashMap<>();
  private final AtomicLong blocksFetched = new AtomicLong();
  private final Consumer<String> counters;

  /**
   * @param counters told the name of a counter to add one to: {@code replica_blocks_fetched}, {@code
   *     replica_models_fetched}, {@code replica_bad_peers} (wrong bytes received)
   */
  public Replicator(Signer nodeKey, BlobStore blobs, ModelRegistry registry, PeerDirectory peers, ModelCache cache,
      ReplicaSettings settings, Clock clock, Consumer<String> counters) {
    this.counters = Objects.requireNonNull(counters, "counters");
    this.blobs = Objects.requireNonNull(blobs, "blobs");
    this.registry = Objects.requireNonNull(registry, "registry");
    this.peers = Objects.requireNonNull(peers, "peers");
    this.cache = Objects.requireNonNull(cache, "cache");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.client = new PeerClient(nodeKey, settings.fetchTimeout(), clock);
  }

  /** The replicated models and their disk budget. */
  public ModelCache cache() {
    return cache;
  }

  /** Blocks stored from peers since this node started (a counter for metrics and tests). */
  public long blocksFetched() {
    return blocksFetched.get();
  }

  /** Peers avoided now for having sent wrong bytes. */
  public List<Address> avoidedPeers() {
    long now = clock.millis();
    return avoidUntil.entrySet().stream().filter(e -> e.getValue() > now).map(Map.Entry::getKey).toList();
  }

  /**
   * The registry entry of a manifest: this node's own, or else fetched from a peer, checked (its
   * bytes against the CID, its owner's signature and delegation) and recorded in the registry.
   *
   * @throws ReplicationException if no live peer has a valid manifest with this CID
   */
  public ModelRegistry.VersionEntry manifest(Cid manifestCid) throws IOException {
    var local = registry.entry(manifestCid);
    if (local.isPresent()) {
      return local.get();
    }
    if (manifestCid.codec() != Cid.Codec.DAG_CBOR) {
      throw new ReplicationException("no manifest " + manifestCid + " on this node, and a manifest CID is dag-cbor");
    }
    return once(manifestFetches, manifestCid, () -> fetchManifest(manifestCid));
  }

  /**
   * The registry entry of {@code owner/repo@version}: this node's own, or else read from a peer's
   * version endpoint, checked (its owner's signature, and that it is the version asked for) and
   * recorded. "latest" is never fetched: which version is the latest is not something a peer can
   * prove.
   *
   * @throws ReplicationException if no live peer has a valid manifest for this version
   */
  public ModelRegistry.VersionEntry manifest(Address owner, String repo, String version) throws IOException {
    var local = version.equals("latest") ? registry.latest(owner, repo) : registry.version(owner, repo, version);
    if (local.isPresent()) {
      return local.get();
    }
    if (version.equals("latest")) {
      throw new ReplicationException("no version of " + owner + "/" + repo + " on this node; ask for an exact"
          + " version or a manifest CID to have it fetched from peers");
    }
    List<String> failures = new ArrayList<>();
    String path = "/v1/models/" + owner + "/" + URLEncoder.encode(repo, StandardCharsets.UTF_8)
        + "/" + URLEncoder.encode(version, StandardCharsets.UTF_8);
    for (Peer p : candidates(null, null)) {
      if (avoided(p)) {
        continue;
      }
      byte[] json;
      try {
        json = client.get(p, path, 2 * MAX_MANIFEST_BYTES);
      } catch (PeerClient.PeerFailure f) {
        failed(p, f, failures);
        continue;
      }
      ModelManifest m;
      JsonNode n;
      try {
        n = JSON.readTree(json);
        byte[] bytes = Base64.getDecoder().decode(n.path("manifest").asText());
        m = ModelManifest.decode(bytes);
        m.verify();
        if (!m.ownerAddress().equals(owner) || !m.repository().equals(repo) || !m.version().equals(version)) {
          throw new VerificationException("it is " + m.repositoryId() + "@" + m.version());
        }
      } catch (VerificationException | IOException | IllegalArgumentException e) {
        markBad(p, "answered for " + owner + "/" + repo + "@" + version + " with no valid manifest of it: "
            + e.getMessage());
        failures.add(p.endpoint() + ": wrong manifest");
        continue;
      }
      if (n.path("yanked").asBoolean(false)) {
        // A yank notice is not part of this answer, so it is not recorded; the version is not served.
        throw new ReplicationException(owner + "/" + repo + "@" + version + " was yanked by its owner (as "
            + p.endpoint() + " reports): " + n.path("yank_reason").asText(""));
      }
      return record(m);
    }
    throw new ReplicationException("no live peer served " + owner + "/" + repo + "@" + version + summary(failures));
  }

  private ModelRegistry.VersionEntry fetchManifest(Cid cid) throws IOException {
    var local = registry.entry(cid);
    if (local.isPresent()) {
      return local.get();
    }
    List<String> failures = new ArrayList<>();
    for (Peer p : candidates(cid, cid)) {
      if (avoided(p)) {
        continue;
      }
      byte[] bytes;
      try {
        bytes = client.get(p, "/v1/manifests/" + cid, MAX_MANIFEST_BYTES);
      } catch (PeerClient.PeerFailure f) {
        failed(p, f, failures);
        continue;
      }
      ModelManifest m;
      try {
        cid.verify(bytes);
        m = ModelManifest.decode(bytes);
        m.verify();
      } catch (VerificationException | DecodingException e) {
        markBad(p, "sent manifest bytes for " + cid + " that are not it: " + e.getMessage());
        failures.add(p.endpoint() + ": wrong manifest");
        continue;
      }
      return record(m);
    }
    throw new ReplicationException("no live peer served manifest " + cid + summary(failures));
  }

  /** Records a manifest fetched and verified here; the entry already there if another thread was first. */
  private ModelRegistry.VersionEntry record(ModelManifest m) throws IOException {
    try {
      return registry.publish(m);
    } catch (ModelRegistry.VersionExistsException e) {
      return registry.entry(m.cid()).orElseThrow(() -> new ReplicationException("manifest " + m.cid() + " names "
          + m.repositoryId() + "@" + m.version() + ", which this node already holds under another manifest;"
          + " the owner signed two manifests for one version", e));
    } catch (VerificationException e) {
      throw new AssertionError("a manifest verified a moment ago failed to verify", e);
    }
  }

  /**
   * Makes sure the model blob of {@code m} is stored here, fetching it from peers if needed, and pins
   * it for the caller (close the pin when done). A blob fetched here is counted in the {@link
   * ModelCache}, which may evict least recently used replicated models to make room.
   *
   * @throws ReplicationException if no combination of live peers could provide every block
   * @throws ModelCache.CacheFullException if the model does not fit the replica budget
   */
  public ModelCache.Pin acquire(ModelManifest m) throws IOException {
    Cid blob = m.model();
    ModelCache.Pin pin = cache.pin(blob);
    try {
      if (cache.knownWhole(blob)) {
        return pin;
      }
      if (!blobs.contains(blob)) {
        once(blobFetches, blob, () -> {
          fetchBlob(m);
          return null;
        });
      }
      cache.markWhole(blob);
      return pin;
    } catch (IOException | RuntimeException e) {
      pin.close();
      throw e;
    }
  }

  private void fetchBlob(ModelManifest m) throws IOException {
    Cid blob = m.model();
    if (blobs.contains(blob)) {
      return;
    }
    cache.reserve(blob, m.modelSize());
    List<Peer> candidates = candidates(m.cid(), blob);
    List<String> failures = new ArrayList<>();
    Set<Address> unreachable = ConcurrentHashMap.newKeySet(); // not asked again during this fetch
    if (!blobs.hasBlock(blob)) {
      if (!fetchBlock(blob, blob, 0, candidates, unreachable, failures)) {
        throw new ReplicationException("no live peer served " + what(blob) + " of model " + m.repositoryId() + "@"
            + m.version() + summary(failures));
      }
    }
    long size = blobs.size(blob);
    if (size != m.modelSize()) {
      blobs.delete(blob);
      throw new ReplicationException("model blob " + blob + " has " + size + " bytes but manifest " + m.cid()
          + " says " + m.modelSize() + "; the manifest is inconsistent and cannot be served");
    }
    List<Cid> missing = blobs.missingBlocks(blob);
    AtomicInteger next = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();
    List<String> chunkFailures = java.util.Collections.synchronizedList(new ArrayList<>());
    int workers = Math.min(settings.parallelFetches(), missing.size());
    List<Future<?>> running = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      running.add(fetchers.submit(() -> {
        int i;
        while (!stop.get() && (i = next.getAndIncrement()) < missing.size()) {
          if (!fetchBlock(blob, missing.get(i), i, candidates, unreachable, chunkFailures)) {
            stop.set(true);
          }
        }
        return null;
      }));
    }
    for (Future<?> f : running) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stop.set(true);
        throw new ReplicationException("interrupted while replicating " + blob, e);
      } catch (ExecutionException e) {
        stop.set(true);
        throw new ReplicationException("replicating " + blob + " failed: " + e.getCause(), e.getCause());
      }
    }
    if (!blobs.contains(blob)) {
      throw new ReplicationException("live peers did not serve every chunk of model " + m.repositoryId() + "@"
          + m.version() + " (" + blobs.missingBlocks(blob).size() + " of " + blobs.chunksOf(blob).size() + " missing)"
          + summary(chunkFailures));
    }
    counters.accept("replica_models_fetched");
    LOG.log(System.Logger.Level.INFO, "replicated model " + m.repositoryId() + "@" + m.version() + " (" + blob
        + ", " + size + " bytes, " + missing.size() + " blocks fetched)");
  }

  /**
   * Fetches one block from the first candidate (rotated by {@code spread}) that serves it correctly.
   *
   * @return whether the block is now stored
   */
  private boolean fetchBlock(Cid blob, Cid block, int spread, List<Peer> candidates, Set<Address> unreachable,
      List<String> failures) throws IOException {
    int n = candidates.size();
    int max = block.codec() == Cid.Codec.RAW ? ChunkIndex.CHUNK_SIZE : ChunkIndex.MAX_ENCODED_LENGTH;
    for (int k = 0; k < n; k++) {
      Peer p = candidates.get((spread + k) % n);
      if (avoided(p) || unreachable.contains(p.address())) {
        continue;
      }
      byte[] bytes;
      try {
        bytes = client.get(p, "/v1/blobs/" + blob + "/blocks/" + block, max);
      } catch (PeerClient.PeerFailure f) {
        if (f.unreachable) {
          unreachable.add(p.address());
        }
        failed(p, f, failures);
        continue;
      }
      try {
        blobs.putBlock(block, bytes);
      } catch (VerificationException e) {
        markBad(p, "sent wrong bytes for " + what(block) + " of blob " + blob + ": " + e.getMessage());
        failures.add(p.endpoint() + ": wrong bytes for " + block);
        continue;
      }
      blocksFetched.incrementAndGet();
      counters.accept("replica_blocks_fetched");
      return true;
    }
    return false;
  }

  private static String what(Cid block) {
    return block.codec() == Cid.Codec.DAG_CBOR ? "chunk index " + block : "block " + block;
  }

  /** Peers announcing the model first, then hubs, then the others; ties keep the directory's order. */
  private List<Peer> candidates(Cid manifest, Cid blob) {
    List<Peer> live = new ArrayList<>(peers.live());
    live.sort(Comparator.comparingInt(p ->
        manifest != null && (p.serves(manifest) || p.serves(blob)) ? 0 : p.has(NodeRole.HUB) ? 1 : 2));
    return List.copyOf(live);
  }

  private boolean avoided(Peer p) {
    Long until = avoidUntil.get(p.address());
    return until != null && until > clock.millis();
  }

  private void failed(Peer p, PeerClient.PeerFailure f, List<String> failures) {
    if (f.hostile) {
      markBad(p, f.getMessage());
    }
    failures.add(f.getMessage());
  }

  private void markBad(Peer p, String why) {
    avoidUntil.put(p.address(), clock.millis() + settings.badPeerPenalty().toMillis());
    counters.accept("replica_bad_peers");
    LOG.log(System.Logger.Level.WARNING, "peer " + p.address() + " at " + p.endpoint() + " " + why
        + "; avoiding it for " + settings.badPeerPenalty().toSeconds() + " s");
  }

  private static String summary(List<String> failures) {
    if (failures.isEmpty()) {
      return " (no live peer to ask; check the peer directory)";
    }
    List<String> shown = failures.size() > 5 ? failures.subList(0, 5) : failures;
    return ": " + String.join("; ", shown) + (failures.size() > 5 ? "; and " + (failures.size() - 5) + " more" : "");
  }

  @FunctionalInterface
  private interface Fetch<T> {
    T run() throws IOException;
  }

  /** Runs {@code fetch} once for concurrent callers with the same key; all get its outcome. */
  private static <T> T once(Map<Cid, CompletableFuture<T>> inFlight, Cid key, Fetch<T> fetch) throws IOException {
    CompletableFuture<T> mine = new CompletableFuture<>();
    CompletableFuture<T> running = inFlight.putIfAbsent(key, mine);
    if (running == null) {
      try {
        T value = fetch.run();
        mine.complete(value);
        return value;
      } catch (IOException | RuntimeException | Error e) {
        mine.completeExceptionally(e);
        throw e;
      } finally {
        inFlight.remove(key, mine);
      }
    }
    try {
      return running.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ReplicationException("interrupted while waiting for the fetch of " + key, e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof ModelCache.CacheFullException full) {
        throw new ModelCache.CacheFullException(full.getMessage());
      }
      throw new ReplicationException(c.getMessage(), c);
    }
  }

  @Override
  public void close() {
    fetchers.shutdownNow();
    client.close();
  }
}

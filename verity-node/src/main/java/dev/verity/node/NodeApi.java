package dev.verity.node;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Address;
import dev.verity.hub.BlobStore;
import dev.verity.hub.CorruptBlobException;
import dev.verity.hub.MissingBlockException;
import dev.verity.hub.ModelRegistry;
import dev.verity.ledger.NodeRole;
import dev.verity.node.gateway.Gateway;
import dev.verity.node.http.ApiException;
import dev.verity.node.http.Exchange;
import dev.verity.node.http.Metrics;
import dev.verity.node.http.Router;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerAuth;
import dev.verity.node.replica.ModelCache;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.RequestSignature;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.YankNotice;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Npy;
import dev.verity.protocol.tensor.TensorJson;
import dev.verity.protocol.tensor.TensorLimits;
import dev.verity.zk.Blinding;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's HTTP endpoints (described in docs/openapi.yaml): each handler parses and bounds its
 * input, authenticates where needed, calls a service, and writes JSON or a stream. Domain rules live
 * in {@link InferenceService}, {@link PublishService} and the hub; this class only maps HTTP.
 */
final class NodeApi {
  private static final JsonFactory JSON = dev.verity.protocol.JsonFactories.factory();

  private final NodeConfig config;
  private final BlobStore blobs;
  private final ModelRegistry registry;
  private final InferenceService inference;
  private final PublishService publishing;
  private final NodeIdentity identity;
  private final Metrics metrics;
  private final Clock clock;
  private final TensorLimits limits;
  private final PeerAuth peerAuth;
  private final YankPropagation yanks;
  private final UploadRetention uploads;
  /** Signatures of state-changing requests already accepted: a replay of one is refused. */
  private final SeenSignatures seen = new SeenSignatures(SeenSignatures.DEFAULT_CAPACITY);
  private final ModelCache replicated;
  private final Optional<Gateway> gateway;
  private final boolean worker;
  /** Inferences running now are bounded by the node's capacity; a few more may wait briefly. */
  private final Semaphore running;
  private final AtomicInteger waiting = new AtomicInteger();
  private final int maxWaiting;
  /** Longest an inference waits for a free slot on this node before it is refused with 503. */
  private static final long ADMISSION_WAIT_MILLIS = 2000;

  NodeApi(NodeConfig config, BlobStore blobs, ModelRegistry registry, InferenceService inference,
      PublishService publishing, NodeIdentity identity, Metrics metrics, Clock clock, PeerAuth peerAuth,
      ModelCache replicated, Optional<Gateway> gateway, YankPropagation yanks, UploadRetention uploads) {
    this.yanks = yanks;
    this.uploads = uploads;
    this.peerAuth = peerAuth;
    this.replicated = replicated;
    this.config = config;
    this.blobs = blobs;
    this.registry = registry;
    this.inference = inference;
    this.publishing = publishing;
    this.identity = identity;
    this.metrics = metrics;
    this.clock = clock;
    this.limits = new TensorLimits(TensorLimits.DEFAULT.maxTensors(), config.maxTensorElements(), config.maxRequestBytes());
    this.gateway = gateway;
    this.worker = config.roles().contains(NodeRole.WORKER);
    this.running = new Semaphore(config.capacity());
    this.maxWaiting = 8 * config.capacity();
  }

  /** What the node says about itself. */
  record NodeIdentity(String publicKey, String address, String engine, String engineVersion, String provider) {}

  Router routes() {
    return new Router()
        .add("GET", "/health", ex -> ex.sendJson(200, java.util.Map.of("status", "ok")))
        .add("GET", "/metrics", ex -> ex.send(200, "text/plain; version=0.0.4", metrics.render().getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .add("GET", "/v1/node", this::node)
        .add("POST", "/v1/blobs", this::uploadBlob)
        .add("GET", "/v1/blobs/{cid}", this::downloadBlob)
        .add("GET", "/v1/blobs/{cid}/blocks/{block}", this::downloadBlock)
        .add("GET", "/v1/manifests/{cid}", this::manifest)
        .add("POST", "/v1/manifests/{cid}/infer", ex -> {
          Cid cid = cid(ex.param("cid"));
          infer(ex, () -> registry.entry(cid), () -> inference.resolveOrFetch(cid), g -> g.resolve(cid), true);
        })
        .add("GET", "/v1/models", this::listModels)
        .add("GET", "/v1/models/{owner}/{repo}", this::repository)
        .add("POST", "/v1/models/{owner}/{repo}/versions", this::publish)
        .add("GET", "/v1/models/{owner}/{repo}/{version}", this::version)
        .add("POST", "/v1/models/{owner}/{repo}/{version}/yank", this::yank)
        .add("POST", "/v1/models/{owner}/{repo}/{version}/infer", ex -> {
          Address owner = owner(ex);
          String repo = ex.param("repo");
          String version = ex.param("version");
          infer(ex, () -> version.equals("latest") ? registry.latest(owner, repo) : registry.version(owner, repo, version),
              () -> inference.resolveOrFetch(owner, repo, version), g -> g.resolve(owner, repo, version),
              !version.equals("latest"));
        });
  }

  private void node(Exchange ex) throws IOException {
    ex.sendJson(200, g -> {
      g.writeStartObject();
      g.writeStringField("public_key", identity.publicKey());
      g.writeStringField("address", identity.address());
      g.writeStringField("version", VerityNode.VERSION);
      g.writeStringField("engine", identity.engine());
      g.writeStringField("engine_version", identity.engineVersion());
      g.writeStringField("execution_provider", identity.provider());
      g.writeArrayFieldStart("modes");
      for (VerificationMode m : InferenceService.SUPPORTED_MODES) {
        g.writeString(m.wireName());
      }
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  // ---- authentication ---------------------------------------------------------------------

  /**
   * The verified caller of a signed request, or empty for an unsigned one; 401 for a bad signature.
   * The body is hashed only when there is a signature to check, so unsigned requests (most
   * inference) never pay for hashing their body.
   */
  private Optional<Address> caller(Exchange ex, byte[] body) {
    return caller(ex, () -> Hash.of(body));
  }

  private Optional<Address> caller(Exchange ex, java.util.function.Supplier<Hash> bodyHash) {
    Optional<String> header = ex.header("Authorization");
    if (header.isEmpty()) {
      return Optional.empty();
    }
    RequestSignature sig;
    try {
      sig = RequestSignature.parse(header.get());
    } catch (DecodingException e) {
      throw ApiException.unauthorized(e.getMessage());
    }
    try {
      sig.verify(ex.method(), ex.pathAndQuery(), bodyHash.get(), clock.millis());
    } catch (VerificationException e) {
      throw ApiException.unauthorized("request signature does not verify: " + e.getMessage());
    }
    refuseReplay(ex, sig, "Authorization");
    return Optional.of(sig.key().address());
  }

  /**
   * Refuses a state-changing request (POST) whose signature this node has accepted before: the same
   * signed bytes sent again within the skew window, by whoever captured them. Reads (GET) may be
   * repeated.
   */
  private void refuseReplay(Exchange ex, RequestSignature sig, String header) {
    if (ex.method().equals("POST") && !seen.firstUse(sig, clock.millis())) {
      String detail = "the " + header + " signature of this request was already used; a request"
          + " is accepted once: sign every request afresh (with a new nonce)";
      throw header.equals(Gateway.PEER_AUTHORIZATION_HEADER) ? ApiException.peerRefused(401, detail)
          : ApiException.unauthorized(detail);
    }
  }

  /**
   * The live peer that forwarded this request, from its {@link Gateway#PEER_AUTHORIZATION_HEADER}
   * signature; empty when the request carries none (a client calling directly), or when its signer
   * is not a live peer this node knows and this node takes requests from anyone (a worker without a
   * ledger knows no peers).
   *
   * @throws ApiException 401 if the peer signature is malformed, stale or over other bytes; 403 if
   *     its signer is no registered live node and this node runs inference for peers only
   */
  private Optional<Peer> forwardingPeer(Exchange ex, java.util.function.Supplier<Hash> bodyHash) {
    Optional<String> header = ex.header(Gateway.PEER_AUTHORIZATION_HEADER);
    if (header.isEmpty()) {
      return Optional.empty();
    }
    RequestSignature sig;
    try {
      sig = RequestSignature.parse(header.get());
    } catch (DecodingException e) {
      throw ApiException.peerRefused(401, "malformed " + Gateway.PEER_AUTHORIZATION_HEADER + ": " + e.getMessage());
    }
    try {
      sig.verify(ex.method(), ex.pathAndQuery(), bodyHash.get(), clock.millis());
    } catch (VerificationException e) {
      throw ApiException.peerRefused(401, Gateway.PEER_AUTHORIZATION_HEADER + " does not verify: " + e.getMessage());
    }
    refuseReplay(ex, sig, Gateway.PEER_AUTHORIZATION_HEADER);
    try {
      return Optional.of(peerAuth.requirePeer(sig.key().address()));
    } catch (VerificationException e) {
      if (config.network().peersOnly()) {
        throw ApiException.peerRefused(403, "the request was forwarded by " + e.getMessage());
      }
      return Optional.empty();
    }
  }

  private Address requireCaller(Exchange ex, byte[] body, String what) {
    return requireCaller(ex, () -> Hash.of(body), what);
  }

  private Address requireCaller(Exchange ex, java.util.function.Supplier<Hash> bodyHash, String what) {
    return caller(ex, bodyHash).orElseThrow(() -> ApiException.unauthorized(what + " needs a signed request (Authorization: Verity-Ed25519 ...)"));
  }

  // ---- blobs ------------------------------------------------------------------------------

  private void uploadBlob(Exchange ex) throws IOException {
    if (ex.header("Authorization").isEmpty()) {
      throw ApiException.unauthorized("uploading needs a signed request (Authorization: Verity-Ed25519 ...)");
    }
    Exchange.HashingStream body = new Exchange.HashingStream(ex.bodyStream(config.maxModelBytes()));
    BlobStore.Stored stored;
    try {
      stored = blobs.store(body, config.maxModelBytes());
    } catch (dev.verity.hub.BlobTooLargeException e) {
      throw ApiException.tooLarge(e.getMessage());
    }
    Cid cid = stored.cid();
    Address uploader;
    try {
      uploader = requireCaller(ex, body::hash, "uploading");
    } catch (ApiException e) {
      // The body is known only once stored. Never delete here: the same bytes may be kept for
      // someone else (a dispute's evidence, a pending upload), and anyone who has them could then
      // remove them with a badly signed copy. New bytes are left to the retention sweep instead.
      if (!stored.existed()) {
        uploads.uploaded(cid, false);
      }
      throw e;
    }
    uploads.uploaded(cid, peerAuth.peer(uploader).isPresent());
    metrics.increment("blobs_uploaded");
    long size = blobs.size(cid);
    ex.sendJson(201, g -> {
      g.writeStartObject();
      g.writeStringField("cid", cid.toString());
      g.writeNumberField("size", size);
      g.writeEndObject();
    });
  }

  private void downloadBlob(Exchange ex) throws IOException {
    Cid cid = cid(ex.param("cid"));
    Optional<byte[]> kept = inference.keptTensors(cid);
    if (kept.isPresent()) {
      // inputs or outputs of an optimistic job: public, so verifiers and challengers can recompute it
      ex.send(200, "application/cbor", kept.get());
      return;
    }
    checkBlobAccess(cid, caller(ex, new byte[0]));
    long size;
    InputStream in;
    try {
      if (!blobs.contains(cid)) {
        throw blobUnavailable(cid, null);
      }
      size = blobs.size(cid);
      in = blobs.open(cid);
    } catch (CorruptBlobException | MissingBlockException e) {
      throw blobUnavailable(cid, e);
    }
    try (in) {
      // Read the first chunk before committing to a 200, so a corrupt blob becomes a clean error.
      // A chunk found corrupt later ends the response short: a byte of it is never sent.
      byte[] first;
      try {
        first = in.readNBytes(64 * 1024);
      } catch (CorruptBlobException | MissingBlockException e) {
        throw blobUnavailable(cid, e);
      }
      try (OutputStream out = ex.sendStream(200, "application/octet-stream", size)) {
        out.write(first);
        in.transferTo(out);
      }
    }
  }

  /**
   * Refuses a caller who may not download model blob {@code cid}: 404 when no version here names it.
   * The same file may be published as several versions, public and private: the caller may download
   * it when any one of them grants access, and is refused only when none does.
   */
  private void checkBlobAccess(Cid cid, Optional<Address> caller) {
    List<ModelManifest> versions = registry.repositories().stream()
        .flatMap(r -> r.versions().stream())
        .map(ModelRegistry.VersionEntry::manifest)
        .filter(m -> m.model().equals(cid))
        .toList();
    if (versions.isEmpty()) {
      throw ApiException.notFound("no model blob " + cid + " on this node");
    }
    if (versions.stream().noneMatch(m -> InferenceService.mayUse(m, caller))) {
      InferenceService.checkAccess(versions.get(0), caller);
    }
  }

  /**
   * One block of a model blob, as stored and verified: the blob's own block (a small blob, or the
   * chunk index of a large one) or one of its 1 MiB chunks. What nodes replicate models with; served
   * under the blob's access rules, and with {@code replica.peers_only} to live registered nodes only.
   */
  private void downloadBlock(Exchange ex) throws IOException {
    Cid blob = cid(ex.param("cid"));
    Cid block = cid(ex.param("block"));
    Optional<Address> caller = caller(ex, new byte[0]);
    if (config.replica().peersOnly()) {
      Address node = caller.orElseThrow(() -> ApiException.unauthorized(
          "model blocks are served to nodes of the network only; sign the request with the node key"));
      try {
        peerAuth.requirePeer(node);
      } catch (VerificationException e) {
        throw ApiException.forbidden(e.getMessage());
      }
    }
    checkBlobAccess(blob, caller);
    byte[] bytes;
    try {
      if (!block.equals(blob) && !blobs.chunksOf(blob).contains(block)) {
        throw ApiException.notFound("block " + block + " is not part of blob " + blob);
      }
      bytes = blobs.readBlock(block);
    } catch (CorruptBlobException | MissingBlockException e) {
      throw blobUnavailable(blob, e);
    }
    metrics.increment("blocks_served");
    ex.send(200, block.codec() == Cid.Codec.DAG_CBOR ? "application/cbor" : "application/octet-stream", bytes);
  }

  /** A published model's file that this node cannot serve intact (found corrupt, or incomplete). */
  private static ApiException blobUnavailable(Cid cid, IOException cause) {
    return new ApiException(503, "blob-unavailable", "Blob unavailable",
        "this node's copy of model blob " + cid + " is damaged or incomplete (a bad block is set aside when found);"
            + " download it from another node, or have its owner upload the file again (POST /v1/blobs)", cause);
  }

  // ---- models -----------------------------------------------------------------------------

  private void manifest(Exchange ex) throws IOException {
    Cid cid = cid(ex.param("cid"));
    Optional<ModelRegistry.VersionEntry> here = registry.entry(cid);
    ModelManifest m;
    if (here.isPresent() || gateway.isEmpty()) {
      m = here.orElseGet(() -> inference.resolve(cid)).manifest();
    } else {
      // a gateway serves the manifests of the models it forwards, so its clients can check receipts
      try {
        m = gateway.get().resolve(cid);
      } catch (ApiException e) {
        if (e.status() == 404) {
          inference.resolve(cid); // unknown here and to every peer asked: this node's own 404
        }
        throw e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw ApiException.retryLater(503, "shutting-down", "Shutting down", "this gateway is stopping; ask another", 1);
      }
    }
    InferenceService.checkAccess(m, caller(ex, new byte[0]));
    ex.send(200, "application/cbor", m.encode());
  }

  private void listModels(Exchange ex) throws IOException {
    ex.sendJson(200, g -> {
      g.writeStartObject();
      g.writeArrayFieldStart("repositories");
      for (ModelRegistry.Repository r : registry.repositories()) {
        writeRepository(g, r);
      }
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  private void repository(Exchange ex) throws IOException {
    ModelRegistry.Repository r = registry.repository(owner(ex), ex.param("repo"))
        .orElseThrow(() -> ApiException.notFound("no repository " + ex.param("owner") + "/" + ex.param("repo")));
    ex.sendJson(200, g -> writeRepository(g, r));
  }

  private static void writeRepository(JsonGenerator g, ModelRegistry.Repository r) throws IOException {
    g.writeStartObject();
    g.writeStringField("owner", r.owner().toString());
    g.writeStringField("name", r.name());
    g.writeArrayFieldStart("versions");
    for (ModelRegistry.VersionEntry v : r.versions()) {
      g.writeStartObject();
      g.writeStringField("version", v.manifest().version());
      g.writeStringField("manifest_cid", v.manifest().cid().toString());
      g.writeStringField("task", v.manifest().task());
      g.writeStringField("visibility", v.manifest().visibility().name().toLowerCase(java.util.Locale.ROOT));
      g.writeNumberField("price", v.manifest().price());
      g.writeBooleanField("yanked", v.yanked());
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private void version(Exchange ex) throws IOException {
    Address owner = owner(ex);
    String repo = ex.param("repo");
    String label = ex.param("version");
    if (gateway.isPresent()
        && (label.equals("latest") ? registry.latest(owner, repo) : registry.version(owner, repo, label)).isEmpty()) {
      // a gateway describes the versions it forwards, as a hub or worker that holds them does now
      try {
        ex.send(200, "application/json", gateway.get().versionDocument(owner, repo, label).json());
        return;
      } catch (ApiException e) {
        if (e.status() != 404) {
          throw e;
        }
        // unknown to every peer asked: this node's own 404 below
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw ApiException.retryLater(503, "shutting-down", "Shutting down", "this gateway is stopping; ask another", 1);
      }
    }
    ModelRegistry.VersionEntry v = inference.resolve(owner, repo, label);
    ModelManifest m = v.manifest();
    InferenceService.checkAccess(m, caller(ex, new byte[0]));
    ex.sendJson(200, g -> {
      g.writeStartObject();
      g.writeStringField("manifest_cid", m.cid().toString());
      g.writeStringField("manifest", Base64.getEncoder().encodeToString(m.encode()));
      g.writeBooleanField("yanked", v.yanked());
      if (v.yanked()) {
        g.writeStringField("yank_reason", v.yank().get().reason());
        // the owner's signed notice, so that any node can check the yank whoever relays it
        g.writeStringField("yank_notice", Base64.getEncoder().encodeToString(v.yank().get().encode()));
      } else {
        g.writeNullField("yank_reason");
        g.writeNullField("yank_notice");
      }
      g.writeObjectFieldStart("view");
      ManifestView.write(g, m);
      g.writeEndObject();
      g.writeEndObject();
    });
  }

  private void publish(Exchange ex) throws IOException {
    byte[] body = ex.body(1 << 20);
    Address caller = requireCaller(ex, body, "publishing");
    ModelManifest m = publishing.publish(owner(ex), ex.param("repo"), body, caller);
    replicated.adopt(m.model()); // published here: this node's own from now on, never evicted
    metrics.increment("versions_published");
    ex.sendJson(201, g -> {
      g.writeStartObject();
      g.writeStringField("manifest_cid", m.cid().toString());
      g.writeStringField("repository", m.repositoryId());
      g.writeStringField("version", m.version());
      g.writeEndObject();
    });
  }

  /**
   * Records an owner's yank. The notice must be signed by the caller, or relayed by a live node of
   * the network (which pushes the notices it accepted, {@link YankPropagation}); either way it must
   * verify against the version's manifest (its owner or a delegate). A notice accepted from its
   * signer is pushed on to every live peer; a relayed one is not relayed again. Idempotent.
   */
  private void yank(Exchange ex) throws IOException {
    byte[] body = ex.body(64 * 1024);
    Address caller = requireCaller(ex, body, "yanking");
    String label = ex.param("version");
    ModelRegistry.VersionEntry v = (label.equals("latest") ? registry.latest(owner(ex), ex.param("repo"))
        : registry.version(owner(ex), ex.param("repo"), label))
        .orElseThrow(() -> ApiException.notFound("no version " + ex.param("version") + " of " + ex.param("owner")
            + "/" + ex.param("repo") + " on this node"));
    YankNotice notice = YankNotice.decode(body);
    boolean relayed = !notice.signer().address().equals(caller);
    if (relayed && peerAuth.peer(caller).isEmpty()) {
      throw ApiException.forbidden("the yank notice must be signed by the caller, or relayed by a live node of the"
          + " network; " + caller + " is neither");
    }
    try {
      if (!notice.manifest().equals(v.manifest().cid())) {
        throw ApiException.badRequest("the yank notice is for another version");
      }
      notice.verify(v.manifest());
      boolean fresh = !v.yanked();
      registry.yank(notice);
      if (fresh) {
        metrics.increment(relayed ? "yanks_relayed_in" : "yanks_accepted");
        if (!relayed) {
          yanks.push(notice, v.manifest());
        }
      }
    } catch (VerificationException e) {
      throw ApiException.forbidden(e.getMessage());
    }
    ex.sendJson(200, java.util.Map.of("yanked", true, "manifest_cid", v.manifest().cid().toString()));
  }

  /** The API path of a version ({@code /v1/models/{owner}/{repo}/{version}}). */
  static String versionPath(ModelManifest m) {
    return "/v1/models/" + m.ownerAddress() + "/" + m.repository() + "/" + m.version();
  }

  // ---- inference --------------------------------------------------------------------------

  /** How a gateway finds the manifest of a model this node does not hold. */
  @FunctionalInterface
  private interface RemoteManifest {
    ModelManifest resolve(Gateway g) throws InterruptedException;
  }

  /**
   * Runs an inference here, or forwards it to a worker: a node with the gateway role and without the
   * worker role forwards a request it did not receive from another gateway; every other request runs
   * here, a worker fetching a version it lacks from its peers first (404 when nobody has it).
   */
  private void infer(Exchange ex, java.util.function.Supplier<Optional<ModelRegistry.VersionEntry>> here,
      java.util.function.Supplier<ModelRegistry.VersionEntry> resolveHere, RemoteManifest remote, boolean exactVersion)
      throws IOException {
    Optional<ModelRegistry.VersionEntry> local = here.get();
    final boolean forward = gateway.isPresent() && ex.header(Gateway.FORWARDED_HEADER).isEmpty()
        && !worker;
    if (!forward && local.isEmpty()) {
      local = Optional.of(resolveHere.get()); // 404 (or the version) before the body is read
    }
    byte[] body = ex.body(config.maxRequestBytes());
    // the body's hash, for the client's and the forwarding peer's signature: computed once, if either is there
    Hash hashed = ex.header("Authorization").isPresent() || ex.header(Gateway.PEER_AUTHORIZATION_HEADER).isPresent()
        ? Hash.of(body) : null;
    java.util.function.Supplier<Hash> bodyHash = () -> hashed;
    Optional<Address> caller = caller(ex, bodyHash);
    Optional<Peer> forwardedBy = forwardingPeer(ex, bodyHash);
    if (!forward && forwardedBy.isEmpty() && config.network().peersOnly()) {
      throw ApiException.forbidden("this worker runs inference only for requests forwarded by a gateway of the network"
          + " (inference_peers_only); send the request to a gateway");
    }
    forwardedBy.ifPresent(p -> metrics.increment("inferences_forwarded_by_peers"));
    String requestId;
    VerificationMode mode;
    NamedTensors inputs;
    Optional<Hash> job;
    Optional<Blinding> blinding;
    String type = ex.contentType();
    if (type.equals("application/x-npz")) {
      inputs = Npy.readNpz(new ByteArrayInputStream(body), limits);
      mode = VerificationMode.fromWireName(ex.query("mode").orElse("receipt"));
      requestId = ex.query("request_id").orElse(ex.requestId());
      job = ex.query("job").map(NodeApi::jobId);
      blinding = ex.header(BLINDING_HEADER).map(NodeApi::blinding);
    } else if (type.equals("application/json")) {
      ParsedRequest p = parseJson(body, ex.requestId());
      inputs = p.inputs;
      mode = p.mode;
      requestId = p.requestId;
      job = p.job;
      blinding = p.blinding;
    } else {
      throw new ApiException(415, "unsupported-media-type", "Unsupported media type",
          "send inputs as application/json or application/x-npz, not " + type);
    }
    if (forward) {
      forward(ex, local, resolveHere, remote, exactVersion, body, type, requestId, inputs, mode, job);
      return;
    }
    ModelRegistry.VersionEntry entry = local.orElseGet(resolveHere);
    Blinding used = blinding.orElseGet(Blinding::random);
    InferenceService.Result r;
    admit();
    try {
      r = inference.infer(entry, inputs, mode, requestId, caller, job, used);
    } finally {
      running.release();
    }
    metrics.increment("inferences");
    String receipt = Base64.getEncoder().encodeToString(r.receipt().encode());
    // a blinding the node chose goes back to the caller only, who needs it to open the commitment
    Optional<String> chosen = mode == VerificationMode.ZK && blinding.isEmpty()
        ? Optional.of(Base64.getEncoder().encodeToString(used.toBytes())) : Optional.empty();
    // A client that accepts both gets .npz once the outputs are large enough for JSON to cost more,
    // except in mode zk: its receipt carries the proof (hundreds of KiB), too large for a header.
    if (ex.acceptsNpz()
        && (!ex.acceptsJson() || (mode != VerificationMode.ZK && Npy.prefersBinary(r.outputs())))) {
      ex.setHeader("Verity-Receipt", receipt);
      chosen.ifPresent(b -> ex.setHeader(BLINDING_HEADER, b));
      // written straight from the output tensors into the response, with its exact length
      try (OutputStream out = ex.sendStream(200, "application/x-npz", Npy.npzSize(r.outputs()))) {
        Npy.writeNpz(r.outputs(), out);
      }
      return;
    }
    ex.sendJson(200, g -> {
      g.writeStartObject();
      g.writeStringField("request_id", requestId);
      g.writeStringField("mode", mode.wireName());
      g.writeFieldName("outputs");
      TensorJson.writeObject(g, r.outputs());
      g.writeStringField("receipt", receipt);
      g.writeStringField("receipt_cid", r.receipt().cid().toString());
      g.writeStringField("manifest_cid", r.receipt().manifest().toString());
      if (r.receipt().job().isPresent()) {
        g.writeStringField("job", r.receipt().job().get().toHex());
      }
      if (chosen.isPresent()) {
        g.writeStringField("blinding", chosen.get());
      }
      g.writeEndObject();
    });
  }

  /** Takes one of the node's inference slots, waiting briefly; 503 with Retry-After when it is full. */
  private void admit() {
    if (running.tryAcquire()) {
      return;
    }
    ApiException busy = ApiException.retryLater(503, "overloaded", "Node busy",
        "this node runs " + config.capacity() + " inferences at once (setting capacity) and more are waiting;"
            + " retry after the Retry-After delay with the same request id, or use another worker", 1);
    if (waiting.incrementAndGet() > maxWaiting) {
      waiting.decrementAndGet();
      metrics.increment("inferences_refused_busy");
      throw busy;
    }
    try {
      if (!running.tryAcquire(ADMISSION_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
        metrics.increment("inferences_refused_busy");
        throw busy;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw busy;
    } finally {
      waiting.decrementAndGet();
    }
  }

  private void forward(Exchange ex, Optional<ModelRegistry.VersionEntry> local,
      java.util.function.Supplier<ModelRegistry.VersionEntry> resolveHere, RemoteManifest remote, boolean exactVersion, byte[] body, String type, String requestId, NamedTensors inputs, VerificationMode mode,
      Optional<Hash> job) throws IOException {
    Gateway g = gateway.orElseThrow();
    java.util.Map<String, String> headers = new java.util.LinkedHashMap<>();
    for (String h : List.of("Authorization", "Accept", BLINDING_HEADER)) {
      ex.header(h).ifPresent(v -> headers.put(h, v));
    }
    Gateway.Answer a;
    try {
      ModelManifest m;
      if (local.isPresent()) {
        m = local.get().manifest();
      } else {
        try {
          m = remote.resolve(g);
        } catch (ApiException e) {
          if (e.status() == 404) {
            resolveHere.get(); // unknown here and to every peer asked: this node's own 404
          }
          throw e;
        }
      }
      a = g.forward(new Gateway.Request(m, exactVersion, ex.pathAndQuery(), type, body, headers, ex.requestId(),
          requestId, inputs, mode, job));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApiException.retryLater(503, "shutting-down", "Shutting down",
          "this gateway is stopping; send the request again (same request id) to another gateway", 1);
    }
    metrics.increment(a.status() == 200 ? "inferences_forwarded" : "inferences_forwarded_refused");
    a.headers().forEach(ex::setHeader);
    ex.send(a.status(), a.contentType(), a.body());
  }

  static Hash jobId(String hex) {
    try {
      return Hash.fromHex(hex);
    } catch (DecodingException e) {
      throw ApiException.badRequest("'job' must be a job id (64 hex characters), got '"
          + (hex.length() > 80 ? hex.substring(0, 77) + "..." : hex) + "'");
    }
  }

  /** Carries the base64 blinding of a zk input commitment with .npz requests and responses. */
  static final String BLINDING_HEADER = "Verity-Blinding";

  private static Blinding blinding(String base64) {
    byte[] b;
    try {
      b = Base64.getDecoder().decode(base64.strip());
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("'blinding' must be base64: " + e.getMessage());
    }
    if (b.length != Blinding.LENGTH) {
      throw ApiException.badRequest("'blinding' must be " + Blinding.LENGTH + " bytes, got " + b.length);
    }
    return Blinding.of(b);
  }

  private record ParsedRequest(NamedTensors inputs, VerificationMode mode, String requestId, Optional<Hash> job,
      Optional<Blinding> blinding) {}

  private ParsedRequest parseJson(byte[] body, String fallbackId) throws IOException {
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw ApiException.badRequest("the body must be a JSON object with 'inputs'");
      }
      NamedTensors inputs = null;
      VerificationMode mode = VerificationMode.RECEIPT;
      String requestId = fallbackId;
      Optional<Hash> job = Optional.empty();
      Optional<Blinding> blinding = Optional.empty();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String f = p.currentName();
        JsonToken t = p.nextToken();
        switch (f) {
          case "inputs" -> inputs = TensorJson.readObject(p, limits);
          case "mode" -> mode = VerificationMode.fromWireName(text(p, t, f));
          case "request_id" -> requestId = text(p, t, f);
          case "job" -> job = Optional.of(jobId(text(p, t, f)));
          case "blinding" -> blinding = Optional.of(blinding(text(p, t, f)));
          default -> throw ApiException.badRequest("unknown field '" + f + "'; expected inputs, mode, request_id, job, blinding");
        }
      }
      if (p.nextToken() != null) {
        throw ApiException.badRequest("unexpected content after the JSON object");
      }
      if (inputs == null) {
        throw ApiException.badRequest("the body has no 'inputs'");
      }
      return new ParsedRequest(inputs, mode, requestId, job, blinding);
    }
  }

  private static String text(JsonParser p, JsonToken t, String field) throws IOException {
    if (t != JsonToken.VALUE_STRING) {
      throw ApiException.badRequest("'" + field + "' must be a string");
    }
    return p.getText();
  }

  private static Address owner(Exchange ex) {
    try {
      return Address.parse(ex.param("owner"));
    } catch (DecodingException e) {
      throw ApiException.notFound("'" + ex.param("owner") + "' is not an owner address (vt...)");
    }
  }

  private static Cid cid(String text) {
    try {
      return Cid.parse(text);
    } catch (DecodingException e) {
      throw ApiException.badRequest("'" + text + "' is not a CID: " + e.getMessage());
    }
  }
}

package dev.verity.sdk;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import dev.verity.onnx.ModelSignatures;
import dev.verity.onnx.OnnxModelInfo;
import dev.verity.onnx.OnnxReader;
import dev.verity.protocol.EvidenceVerifier;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.OptimisticEvidence;
import dev.verity.protocol.ReceiptVerifier;
import dev.verity.protocol.RequestSignature;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.YankNotice;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Npy;
import dev.verity.protocol.tensor.TensorJson;
import dev.verity.protocol.tensor.TensorLimits;
import dev.verity.zk.Blinding;
import dev.verity.zk.InputOpening;
import dev.verity.zk.ZkEvidenceVerifier;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Java client of a Verity node. Every result it returns has been checked: manifests against
 * their signatures, CIDs and the reference asked for; inference outputs against their receipts (see
 * {@link ReceiptVerifier}); downloads against their CIDs. A check that fails throws {@link
 * VerificationException} and the unverified data is not returned.
 *
 * <p>Node keys: with {@link Builder#trustNodes} the client accepts receipts only from those keys.
 * Otherwise it pins the key the node reports at first contact and accepts receipts signed by that
 * key only. With {@link Builder#acceptRegisteredWorkers} it also accepts a receipt signed by a
 * worker that the ledger lists, live, as serving the receipt's manifest (checked with the light
 * client): what a client of a gateway receives. Thread-safe; one instance per node is meant to be
 * shared.
 *
 * <p>Retries: an inference the node answers with 429, 503 or 504 and a Retry-After header is sent
 * again, unchanged and under the same request id, after the delay asked for (at most {@link
 * Builder#retries} times, each wait capped by {@link Builder#maxRetryWait}).
 *
 * <p>Ledger: {@link #ledger()} reads balances, stakes, jobs and blocks with proofs checked by a light
 * client, sends transactions, runs paid inferences and checks receipts on the ledger.
 */
public final class VerityClient implements AutoCloseable {
  private static final ObjectMapper JSON = dev.verity.protocol.JsonFactories.mapper();
  private static final JsonFactory JSON_FACTORY = JSON.getFactory();
  /** What an inference asks for: JSON, or .npz when the node finds the outputs large ({@link Npy#prefersBinary}). */
  private static final String INFER_ACCEPT = "application/json, application/x-npz";

  private final URI endpoint;
  private final HttpClient http;
  private final Optional<Signer> signer;
  private final Duration timeout;
  private final Set<PublicKey> pinnedNodes;
  private final TensorLimits limits;
  private final Map<Cid, ModelManifest> manifests = new ConcurrentHashMap<>();
  private final ReceiptVerifier baseVerifier;
  private volatile ReceiptVerifier verifier;
  private volatile Set<PublicKey> trustedKeys;
  private final Optional<PublicKey> sequencer;
  private volatile LedgerClient ledger;
  private final ZkEvidenceVerifier zk;
  private final Optional<Duration> workerLiveness;
  /** Worker key + manifest accepted from the ledger, until (System.nanoTime) the check is repeated. */
  private final Map<String, Long> acceptedWorkers = new ConcurrentHashMap<>();
  private final int retries;
  private final Duration maxRetryWait;

  private VerityClient(Builder b) {
    this.endpoint = b.endpoint;
    this.signer = Optional.ofNullable(b.signer);
    this.timeout = b.timeout;
    this.pinnedNodes = Set.copyOf(b.trustedNodes);
    this.limits = b.limits;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).version(HttpClient.Version.HTTP_1_1).build();
    this.sequencer = Optional.ofNullable(b.sequencer);
    // zk receipts are checked against the model file itself (fetched from the node, checked against its CID)
    this.zk = ZkEvidenceVerifier.create(this::modelFile);
    // optimistic receipts: structure only (the ledger settles them), or recomputed here when asked
    EvidenceVerifier optimistic = b.recomputeOptimistic
        ? OptimisticRecomputation.create(this::modelFile, this::blob)
        : OptimisticEvidence.STRUCTURE;
    ReceiptVerifier base = b.verifier != null ? b.verifier
        : ReceiptVerifier.create().withEvidenceVerifier(zk).withEvidenceVerifier(optimistic);
    this.verifier = pinnedNodes.isEmpty() ? null : base.trustingOnly(pinnedNodes);
    this.trustedKeys = pinnedNodes.isEmpty() ? null : pinnedNodes;
    this.baseVerifier = base;
    this.workerLiveness = Optional.ofNullable(b.workerLiveness);
    this.retries = b.retries;
    this.maxRetryWait = b.maxRetryWait;
  }

  public static Builder builder(URI endpoint) {
    return new Builder(endpoint);
  }

  public URI endpoint() {
    return endpoint;
  }

  // ---- node -------------------------------------------------------------------------------

  public NodeInfo nodeInfo() throws IOException {
    JsonNode n = getJson("/v1/node");
    List<String> modes = new ArrayList<>();
    n.path("modes").forEach(m -> modes.add(m.asText()));
    return new NodeInfo(PublicKey.parse(n.path("public_key").asText()), n.path("version").asText(),
        n.path("engine").asText(), n.path("engine_version").asText(), n.path("execution_provider").asText(), modes);
  }

  private ReceiptVerifier verifier() throws IOException {
    ReceiptVerifier v = verifier;
    if (v == null) {
      synchronized (this) {
        if (verifier == null) {
          trustedKeys = Set.of(nodeInfo().publicKey());
          verifier = baseVerifier.trustingOnly(trustedKeys);
        }
        v = verifier;
      }
    }
    return v;
  }

  /**
   * The verifier for {@code receipt}: the one trusting the pinned keys, or, for a receipt signed by
   * another key while registered workers are accepted, one trusting any key once the ledger shows
   * that key's address as a live worker serving the receipt's manifest.
   */
  private ReceiptVerifier verifierFor(InferenceReceipt receipt) throws IOException, VerificationException {
    ReceiptVerifier pinned = verifier();
    if (workerLiveness.isEmpty() || trustedKeys.contains(receipt.node())) {
      return pinned;
    }
    checkRegisteredWorker(receipt);
    return baseVerifier;
  }

  /** Longest an accepted worker is trusted before the ledger is read again. */
  private static final Duration WORKER_RECHECK = Duration.ofSeconds(10);

  private void checkRegisteredWorker(InferenceReceipt receipt) throws IOException, VerificationException {
    receipt.verifySignature();
    String key = receipt.node() + " " + receipt.manifest();
    Long until = acceptedWorkers.get(key);
    if (until != null && until - System.nanoTime() > 0) {
      return;
    }
    dev.verity.core.crypto.Address a = receipt.node().address();
    String refused = "receipt signed by " + receipt.node() + " (address " + a + "), which is not a trusted node key";
    dev.verity.ledger.StateRecord.Node n = ledger().node(a).orElseThrow(() -> new VerificationException(
        refused + " and not registered on the ledger as a node"));
    if (!n.roles().contains(dev.verity.ledger.NodeRole.WORKER) || !n.serves(receipt.manifest())) {
      throw new VerificationException(refused + " and not registered on the ledger as a worker serving manifest "
          + receipt.manifest() + " (roles " + n.roles() + ", " + n.models().size() + " models)");
    }
    dev.verity.ledger.BlockHeader head = ledger().head();
    long seen = ledger().block(Math.min(n.lastHeartbeatHeight(), head.height())).header().timeMillis();
    long age = head.timeMillis() - seen;
    if (age > workerLiveness.get().toMillis()) {
      throw new VerificationException(refused + "; it is registered as a worker for " + receipt.manifest()
          + " but not live: its last heartbeat (block " + n.lastHeartbeatHeight() + ") is " + age + " ms older than"
          + " the latest block, more than the " + workerLiveness.get().toMillis() + " ms allowed");
    }
    long recheck = Math.min(WORKER_RECHECK.toNanos(), workerLiveness.get().toNanos());
    if (acceptedWorkers.size() > 4096) {
      acceptedWorkers.clear();
    }
    acceptedWorkers.put(key, System.nanoTime() + recheck);
  }

  /**
   * The node's ledger: reads checked against the sequencer key (the one pinned with {@link
   * Builder#sequencer}, else the one the node's genesis names), transactions signed with this
   * client's key.
   */
  public LedgerClient ledger() {
    LedgerClient l = ledger;
    if (l == null) {
      synchronized (this) {
        if (ledger == null) {
          ledger = new LedgerClient(this, signer, sequencer);
        }
        l = ledger;
      }
    }
    return l;
  }

  // ---- blobs and models -------------------------------------------------------------------

  /** Streams a file to the node's blob store and checks the CID the node reports. */
  public Cid uploadBlob(Path file, ProgressListener progress) throws IOException, VerificationException {
    Signer s = requireSigner("upload a blob");
    long size = Files.size(file);
    Hash bodyHash;
    try (InputStream in = Files.newInputStream(file)) {
      bodyHash = Hash.of(in);
    }
    String path = "/v1/blobs";
    HttpRequest req = request(path)
        .header("Content-Type", "application/octet-stream")
        .header("Authorization", RequestSignature.sign(s, "POST", path, System.currentTimeMillis(), bodyHash).toHeader())
        .POST(HttpRequest.BodyPublishers.fromPublisher(
            HttpRequest.BodyPublishers.ofInputStream(() -> progressStream(file, size, progress)), size))
        .build();
    JsonNode n = JSON.readTree(send(req, HttpResponse.BodyHandlers.ofByteArray()));
    Cid cid = Cid.parse(n.path("cid").asText());
    if (n.path("size").asLong() != size) {
      throw new VerificationException("node stored " + n.path("size").asLong() + " bytes, sent " + size);
    }
    return cid;
  }

  /**
   * Publishes a new version from an ONNX file: reads its inputs, outputs and opsets from the file,
   * uploads it (streamed, with progress), signs the manifest with this client's key as owner, and
   * publishes it.
   */
  public ModelManifest publish(Path onnxFile, Publication p, ProgressListener progress)
      throws IOException, VerificationException {
    Signer s = requireSigner("publish a model");
    OnnxModelInfo info = OnnxReader.readInfo(onnxFile);
    ModelManifest.Builder b = ModelManifest.builder()
        .owner(s.publicKey())
        .repository(p.repository())
        .version(p.version())
        .opsets(ModelSignatures.opsets(info))
        .inputs(ModelSignatures.inputs(info))
        .outputs(ModelSignatures.outputs(info))
        .task(p.task())
        .license(p.license())
        .description(p.description())
        .tags(p.tags())
        .price(p.price())
        .modes(p.modes())
        .visibility(p.visibility(), p.allowList());
    Cid cid = uploadBlob(onnxFile, progress);
    Cid expected = dev.verity.core.BlobCid.of(onnxFile);
    if (!cid.equals(expected)) {
      throw new VerificationException("node named the upload " + cid + ", the file's CID is " + expected);
    }
    return publishManifest(b.model(cid, Files.size(onnxFile)).sign(s));
  }

  /** Publishes a signed manifest whose model blob is already uploaded. */
  public ModelManifest publishManifest(ModelManifest manifest) throws IOException, VerificationException {
    manifest.verify();
    String path = "/v1/models/" + manifest.ownerAddress() + "/" + manifest.repository() + "/versions";
    byte[] body = manifest.encode();
    JsonNode n = JSON.readTree(send(signedPost(path, "application/cbor", body, "publish a model version"),
        HttpResponse.BodyHandlers.ofByteArray()));
    if (!Cid.parse(n.path("manifest_cid").asText()).equals(manifest.cid())) {
      throw new VerificationException("node stored another manifest than the one sent");
    }
    manifests.put(manifest.cid(), manifest);
    return manifest;
  }

  /** The manifest with this CID, checked against the CID and its signature. */
  public ModelManifest manifest(Cid cid) throws IOException, VerificationException {
    ModelManifest cached = manifests.get(cid);
    if (cached != null) {
      return cached;
    }
    byte[] bytes = send(signedIfKeyed(request("/v1/manifests/" + cid), "/v1/manifests/" + cid)
            .header("Accept", "application/cbor").GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
    cid.verify(bytes);
    ModelManifest m = decodeManifest(bytes);
    m.verify();
    manifests.put(cid, m);
    return m;
  }

  /** A model version with its yank state; the manifest is verified and checked against {@code ref}. */
  public ModelVersion model(ModelRef ref) throws IOException, VerificationException {
    if (ref.manifest().isPresent()) {
      ModelManifest m = manifest(ref.manifest().get());
      JsonNode n = getJson("/v1/models/" + m.ownerAddress() + "/" + m.repository() + "/" + m.version());
      return new ModelVersion(m, n.path("yanked").asBoolean(), optionalText(n, "yank_reason"));
    }
    JsonNode n = getJson(ref.path());
    Cid cid = Cid.parse(n.path("manifest_cid").asText());
    byte[] bytes = Base64.getDecoder().decode(n.path("manifest").asText());
    cid.verify(bytes);
    ModelManifest m = decodeManifest(bytes);
    m.verify();
    if (!ref.matches(m)) {
      throw new VerificationException("node returned " + m + " for " + ref);
    }
    manifests.put(cid, m);
    return new ModelVersion(m, n.path("yanked").asBoolean(), optionalText(n, "yank_reason"));
  }

  /** A model version and whether its owner has yanked it. */
  public record ModelVersion(ModelManifest manifest, boolean yanked, Optional<String> yankReason) {}

  /** A repository as listed by the node: owner address, name and version labels. */
  public record RepositoryListing(String owner, String name, List<String> versions) {
    public String id() {
      return owner + "/" + name;
    }
  }

  public List<RepositoryListing> listModels() throws IOException {
    JsonNode n = getJson("/v1/models");
    List<RepositoryListing> out = new ArrayList<>();
    for (JsonNode r : n.path("repositories")) {
      List<String> versions = new ArrayList<>();
      r.path("versions").forEach(v -> versions.add(v.path("version").asText()));
      out.add(new RepositoryListing(r.path("owner").asText(), r.path("name").asText(), versions));
    }
    return out;
  }

  public void yank(ModelRef ref, String reason) throws IOException, VerificationException {
    Signer s = requireSigner("yank a version");
    ModelManifest m = model(ref).manifest();
    YankNotice notice = YankNotice.create(s, m, reason, System.currentTimeMillis());
    notice.verify(m);
    String path = "/v1/models/" + m.ownerAddress() + "/" + m.repository() + "/" + m.version() + "/yank";
    send(signedPost(path, "application/cbor", notice.encode(), "yank a version"), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** Downloads a version's model file to {@code out}, checking it against the model CID. */
  public ModelManifest download(ModelRef ref, Path out, ProgressListener progress) throws IOException, VerificationException {
    ModelManifest m = model(ref).manifest();
    String path = "/v1/blobs/" + m.model();
    HttpRequest.Builder rb = request(path).GET();
    signer.ifPresent(s -> rb.header("Authorization",
        RequestSignature.sign(s, "GET", path, System.currentTimeMillis(), Hash.of(new byte[0])).toHeader()));
    HttpResponse<InputStream> resp;
    try {
      resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while downloading " + m.model(), e);
    }
    checkStatus(resp.statusCode(), () -> resp.body().readAllBytes(), resp);
    Path tmp = Files.createTempFile(out.toAbsolutePath().getParent(), ".download", ".tmp");
    try {
      long done = 0;
      try (InputStream in = resp.body(); OutputStream o = Files.newOutputStream(tmp)) {
        byte[] buf = new byte[256 * 1024];
        for (int n; (n = in.read(buf)) > 0; ) {
          o.write(buf, 0, n);
          done += n;
          progress.progress(done, m.modelSize());
        }
      }
      if (done != m.modelSize()) {
        throw new VerificationException("downloaded " + done + " bytes, the manifest says " + m.modelSize());
      }
      Cid actual = dev.verity.core.BlobCid.of(tmp);
      if (!actual.equals(m.model())) {
        throw new VerificationException("downloaded model hashes to " + actual + ", the manifest names " + m.model());
      }
      Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return m;
  }

  // ---- inference --------------------------------------------------------------------------

  /** Runs an inference in receipt mode. */
  public InferenceResult infer(ModelRef ref, NamedTensors inputs) throws IOException, VerificationException {
    return infer(ref, inputs, VerificationMode.RECEIPT, UUID.randomUUID().toString());
  }

  /**
   * Runs an inference and verifies its receipt before returning: the node's signature and key, the
   * manifest (signature, and that it is the version {@code ref} names), the input and output CIDs,
   * the declared tensor specs and the mode's evidence.
   *
   * @throws VerificationException if any check fails; the outputs are then not returned
   */
  public InferenceResult infer(ModelRef ref, NamedTensors inputs, VerificationMode mode, String requestId)
      throws IOException, VerificationException {
    return infer(ref, inputs, mode, requestId, Optional.empty());
  }

  /**
   * As {@link #infer(ModelRef, NamedTensors, VerificationMode, String)}, paid with the ledger job
   * {@code job} when given (the request is then signed with this client's key, which must be the
   * job's client); the receipt must name that job.
   */
  public InferenceResult infer(ModelRef ref, NamedTensors inputs, VerificationMode mode, String requestId,
      Optional<Hash> job) throws IOException, VerificationException {
    if (mode == VerificationMode.ZK) {
      return inferPrivately(ref, inputs, requestId, job).result();
    }
    Exchanged x = exchange(ref, inputs, mode, requestId, Optional.empty(), job);
    verifierFor(x.receipt()).verify(x.receipt(), x.manifest(), inputs, x.outputs());
    return new InferenceResult(x.outputs(), x.receipt(), x.manifest());
  }

  /**
   * Runs an inference in mode {@code zk} with a fresh blinding of this client's choosing and
   * verifies it as anyone without the inputs would: the receipt names only the hiding commitment
   * to the inputs, and the proof is checked against the model file (fetched and checked against
   * its CID). The client also checks that the commitment opens to the inputs it sent. The returned
   * {@link InputOpening} (inputs and blinding) is the holder's secret: showing it later proves
   * which inputs the receipt was about ({@link #verifyOpening}).
   *
   * @throws VerificationException if any check fails; the outputs are then not returned
   */
  public PrivateInference inferPrivately(ModelRef ref, NamedTensors inputs, String requestId)
      throws IOException, VerificationException {
    return inferPrivately(ref, inputs, requestId, Optional.empty());
  }

  /** {@link #inferPrivately(ModelRef, NamedTensors, String)}, paid with the ledger job {@code job} when given. */
  public PrivateInference inferPrivately(ModelRef ref, NamedTensors inputs, String requestId, Optional<Hash> job)
      throws IOException, VerificationException {
    if (job.isPresent()) {
      requireSigner("run a paid inference");
    }
    Blinding blinding = Blinding.random();
    Exchanged x = exchange(ref, inputs, VerificationMode.ZK, requestId, Optional.of(blinding), job);
    verifierFor(x.receipt()).verify(x.receipt(), x.manifest(), Optional.empty(), x.outputs());
    InputOpening opening = new InputOpening(inputs, blinding);
    zk.verifyOpening(x.receipt(), opening);
    return new PrivateInference(x.outputs(), x.receipt(), x.manifest(), opening);
  }

  /** {@link #inferPrivately(ModelRef, NamedTensors, String)} with a random request id. */
  public PrivateInference inferPrivately(ModelRef ref, NamedTensors inputs) throws IOException, VerificationException {
    return inferPrivately(ref, inputs, UUID.randomUUID().toString());
  }

  /**
   * Checks a receipt someone handed over, with its outputs but without its inputs (a zk receipt
   * names only a commitment to them): signature by a trusted node key, manifest, outputs, evidence.
   */
  public void verify(InferenceReceipt receipt, NamedTensors outputs) throws IOException, VerificationException {
    verifierFor(receipt).verify(receipt, manifest(receipt.manifest()), Optional.empty(), outputs);
  }

  /** Checks that a zk receipt's input commitment opens to the inputs and blinding of {@code opening}. */
  public void verifyOpening(InferenceReceipt receipt, InputOpening opening) throws IOException, VerificationException {
    zk.verifyOpening(receipt, opening);
  }

  /** The receipt, outputs and manifest of one exchange with the node, before verification. */
  private record Exchanged(NamedTensors outputs, InferenceReceipt receipt, ModelManifest manifest) {}

  private Exchanged exchange(ModelRef ref, NamedTensors inputs, VerificationMode mode, String requestId,
      Optional<Blinding> blinding, Optional<Hash> job) throws IOException, VerificationException {
    if (job.isPresent()) {
      requireSigner("run a paid inference");
    }
    String path = ref.path() + "/infer";
    boolean binary = Npy.prefersBinary(inputs);
    byte[] body;
    String contentType;
    if (binary) {
      path += "?mode=" + mode.wireName() + "&request_id=" + requestId + job.map(j -> "&job=" + j.toHex()).orElse("");
      body = Npy.toNpz(inputs);
      contentType = "application/x-npz";
    } else {
      body = inferJson(inputs, mode, requestId, blinding, job);
      contentType = "application/json";
    }
    Hash bodyHash = signer.isPresent() ? Hash.of(body) : null;
    // the verifier needs the inputs' CID (not in mode zk, whose receipt names a commitment): hashed while the node works
    if (mode != VerificationMode.ZK) {
      inputs.cidInBackground();
    }
    HttpResponse<byte[]> response;
    for (int attempt = 0; ; attempt++) {
      HttpRequest.Builder rb = request(path).header("Content-Type", contentType).header("X-Request-Id", requestId)
          .header("Accept", INFER_ACCEPT).POST(HttpRequest.BodyPublishers.ofByteArray(body));
      if (binary && blinding.isPresent()) {
        rb.header("Verity-Blinding", Base64.getEncoder().encodeToString(blinding.get().toBytes()));
      }
      if (signer.isPresent()) { // signed afresh for every attempt, so the signature's time stays recent
        rb.header("Authorization", RequestSignature.sign(signer.get(), "POST", path, System.currentTimeMillis(), bodyHash).toHeader());
      }
      try {
        response = exchange(rb.build());
        break;
      } catch (VerityApiException e) {
        if (!e.retryable() || attempt >= retries) {
          throw e;
        }
        pause(e.retryAfter().get());
      }
    }
    NamedTensors outputs;
    String encodedReceipt;
    if (mediaType(response).equals("application/x-npz")) {
      outputs = Npy.readNpz(new ByteArrayInputStream(response.body()), limits);
      encodedReceipt = response.headers().firstValue("Verity-Receipt")
          .orElseThrow(() -> new DecodingException("binary inference response lacks its Verity-Receipt header"));
    } else {
      try (JsonParser p = JSON_FACTORY.createParser(response.body())) {
        ParsedResponse pr = parseInferResponse(p);
        outputs = pr.outputs;
        encodedReceipt = pr.meta.path("receipt").asText();
      }
    }
    // the outputs are hashed while the receipt is decoded and its signature checked
    outputs.cidInBackground();
    verifier(); // the pinned keys, known from here on
    InferenceReceipt receipt = decodeReceipt(encodedReceipt, trustedKeys);
    if (!receipt.requestId().equals(requestId)) {
      throw new VerificationException("receipt is for request " + receipt.requestId() + ", not " + requestId);
    }
    if (!receipt.job().equals(job)) {
      throw new VerificationException("asked to pay with job " + job.map(Hash::toHex).orElse("(none)")
          + ", the receipt names " + receipt.job().map(Hash::toHex).orElse("no job"));
    }
    if (receipt.mode() != mode) {
      throw new VerificationException("asked for mode " + mode.wireName() + ", receipt is for " + receipt.mode().wireName());
    }
    ModelManifest manifest = manifest(receipt.manifest());
    if (!ref.matches(manifest)) {
      throw new VerificationException("node ran " + manifest + " instead of " + ref);
    }
    return new Exchanged(outputs, receipt, manifest);
  }

  /** Largest model file fetched to check a zk proof. */
  private static final long MAX_ZK_MODEL_BYTES = 64L << 20;

  /** A model's bytes from the node, for the zk verifier (which checks them against the CID). */
  private byte[] modelFile(Cid cid) throws IOException {
    return blob(cid);
  }

  /**
   * A blob's bytes from the node ({@code GET /v1/blobs/{cid}}: a model file, or the inputs or
   * outputs of an optimistic job), at most 64 MiB, unchecked: callers check them against the CID.
   */
  public byte[] blob(Cid cid) throws IOException {
    String path = "/v1/blobs/" + cid;
    HttpRequest.Builder rb = request(path).GET();
    signer.ifPresent(s -> rb.header("Authorization",
        RequestSignature.sign(s, "GET", path, System.currentTimeMillis(), Hash.of(new byte[0])).toHeader()));
    HttpResponse<InputStream> resp;
    try {
      resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while fetching model " + cid, e);
    }
    checkStatus(resp.statusCode(), () -> resp.body().readAllBytes(), resp);
    try (InputStream in = resp.body()) {
      byte[] bytes = in.readNBytes((int) MAX_ZK_MODEL_BYTES + 1);
      if (bytes.length > MAX_ZK_MODEL_BYTES) {
        throw new IOException("model " + cid + " is larger than " + MAX_ZK_MODEL_BYTES + " bytes");
      }
      return bytes;
    }
  }

  private static byte[] inferJson(NamedTensors inputs, VerificationMode mode, String requestId, Optional<Blinding> blinding,
      Optional<Hash> job)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = JSON_FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("request_id", requestId);
      g.writeStringField("mode", mode.wireName());
      if (job.isPresent()) {
        g.writeStringField("job", job.get().toHex());
      }
      if (blinding.isPresent()) {
        g.writeStringField("blinding", Base64.getEncoder().encodeToString(blinding.get().toBytes()));
      }
      g.writeFieldName("inputs");
      TensorJson.writeObject(g, inputs);
      g.writeEndObject();
    }
    return out.toByteArray();
  }

  private record ParsedResponse(JsonNode meta, NamedTensors outputs) {}

  /**
   * Decodes a base64 receipt. A node key among {@code trusted} is taken as the already checked key
   * rather than decoded again; the verifier still checks the signature and that the key is trusted.
   */
  private static InferenceReceipt decodeReceipt(String base64, Set<PublicKey> trusted) {
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new DecodingException("the node sent a receipt that is not base64: " + e.getMessage(), e);
    }
    return InferenceReceipt.decode(bytes, trusted);
  }

  private ParsedResponse parseInferResponse(JsonParser p) throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) {
      throw new DecodingException("inference response is not a JSON object");
    }
    var meta = JSON.createObjectNode();
    NamedTensors outputs = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String f = p.currentName();
      p.nextToken();
      if (f.equals("outputs")) {
        outputs = TensorJson.readObject(p, limits);
      } else {
        meta.set(f, JSON.readTree(p));
      }
    }
    if (outputs == null || !meta.has("receipt")) {
      throw new DecodingException("inference response lacks outputs or receipt");
    }
    return new ParsedResponse(meta, outputs);
  }

  // ---- plumbing ---------------------------------------------------------------------------

  /** Waits as a node asked before the same request is sent again (at most {@link Builder#maxRetryWait}). */
  private void pause(Duration asked) throws IOException {
    Duration d = asked.compareTo(maxRetryWait) > 0 ? maxRetryWait : asked;
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting to retry", e);
    }
  }

  /** The delay of a Retry-After header in seconds (an HTTP date counts as one second); empty if absent. */
  private static Optional<Duration> retryAfter(int status, HttpResponse<?> resp) {
    if (status != 429 && status != 503 && status != 504) {
      return Optional.empty();
    }
    return resp.headers().firstValue("Retry-After").map(v -> {
      try {
        long s = Long.parseLong(v.strip());
        return Duration.ofSeconds(Math.max(0, Math.min(s, 3600)));
      } catch (NumberFormatException e) {
        return Duration.ofSeconds(1);
      }
    });
  }

  Signer requireSigner(String what) {
    return signer.orElseThrow(() -> new IllegalStateException("a signing key is needed to " + what + "; set one with Builder.signer"));
  }

  private HttpRequest signedPost(String path, String contentType, byte[] body, String what) {
    Signer s = requireSigner(what);
    return request(path).header("Content-Type", contentType)
        .header("Authorization", RequestSignature.sign(s, "POST", path, System.currentTimeMillis(), Hash.of(body)).toHeader())
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(endpoint.resolve(path)).timeout(timeout);
  }

  JsonNode getJson(String path) throws IOException {
    return JSON.readTree(send(signedIfKeyed(request(path), path).header("Accept", "application/json").GET().build(),
        HttpResponse.BodyHandlers.ofByteArray()));
  }

  /**
   * Signs a GET with the client's key when it has one, so a node shows it private manifests and
   * versions it is allowed to see.
   */
  private HttpRequest.Builder signedIfKeyed(HttpRequest.Builder b, String path) {
    signer.ifPresent(s -> b.header("Authorization",
        RequestSignature.sign(s, "GET", path, System.currentTimeMillis(), Hash.of(new byte[0])).toHeader()));
    return b;
  }

  /** POSTs {@code body} unsigned and reads the JSON answer. */
  JsonNode postJson(String path, String contentType, byte[] body) throws IOException {
    return JSON.readTree(send(request(path).header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray()));
  }

  private byte[] send(HttpRequest req, HttpResponse.BodyHandler<byte[]> handler) throws IOException {
    return exchange(req, handler).body();
  }

  private HttpResponse<byte[]> exchange(HttpRequest req) throws IOException {
    return exchange(req, HttpResponse.BodyHandlers.ofByteArray());
  }

  /** Sends a request; answers with the response when its status is below 400. */
  private HttpResponse<byte[]> exchange(HttpRequest req, HttpResponse.BodyHandler<byte[]> handler) throws IOException {
    HttpResponse<byte[]> resp;
    try {
      resp = http.send(req, handler);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for " + req.uri(), e);
    } catch (java.net.ConnectException e) {
      throw new IOException("cannot reach a Verity node at " + endpoint + " (is it running?)", e);
    }
    checkStatus(resp.statusCode(), resp::body, resp);
    return resp;
  }

  /** The response's media type, lower case, without parameters ("" when it names none). */
  private static String mediaType(HttpResponse<?> resp) {
    String ct = resp.headers().firstValue("Content-Type").orElse("");
    int semi = ct.indexOf(';');
    return (semi < 0 ? ct : ct.substring(0, semi)).trim().toLowerCase(java.util.Locale.ROOT);
  }

  private interface BodySupplier {
    byte[] get() throws IOException;
  }

  private static void checkStatus(int status, BodySupplier body, HttpResponse<?> resp) throws IOException {
    if (status < 400) {
      return;
    }
    String type = "http-" + status;
    String detail = "";
    try {
      JsonNode p = JSON.readTree(body.get());
      type = p.path("type").asText(type).replace("/problems/", "");
      detail = p.path("detail").asText("");
    } catch (IOException | RuntimeException e) {
      detail = "the node sent no problem document";
    }
    throw new VerityApiException(status, type, detail, resp.headers().firstValue("X-Request-Id").orElse(null),
        retryAfter(status, resp));
  }

  private static Optional<String> optionalText(JsonNode n, String field) {
    return n.hasNonNull(field) ? Optional.of(n.get(field).asText()) : Optional.empty();
  }

  private static ModelManifest decodeManifest(byte[] bytes) throws VerificationException {
    try {
      return ModelManifest.decode(bytes);
    } catch (DecodingException e) {
      throw new VerificationException("node sent a malformed manifest: " + e.getMessage(), e);
    }
  }

  private static InputStream progressStream(Path file, long total, ProgressListener progress) {
    try {
      return new FilterInputStream(Files.newInputStream(file)) {
        private long done;

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          int n = super.read(b, off, len);
          if (n > 0) {
            done += n;
            progress.progress(done, total);
          }
          return n;
        }
      };
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    http.close();
  }

  /** Configures a client. */
  public static final class Builder {
    private final URI endpoint;
    private Signer signer;
    private Duration timeout = Duration.ofMinutes(5);
    private Set<PublicKey> trustedNodes = Set.of();
    private ReceiptVerifier verifier;
    private TensorLimits limits = TensorLimits.DEFAULT;
    private PublicKey sequencer;
    private Duration workerLiveness;
    private int retries = 3;
    private Duration maxRetryWait = Duration.ofSeconds(10);
    private boolean recomputeOptimistic;

    private Builder(URI endpoint) {
      this.endpoint = endpoint;
    }

    /**
     * Also accept receipts signed by a worker that the ledger of this client's node lists as a
     * worker serving the receipt's manifest, whose last heartbeat is at most {@code liveness} older
     * (in the sequencer's header time) than the latest block. Checked with the light client (state
     * proofs, sequencer signatures; see {@link #sequencer}) and kept for up to 10 seconds. For
     * clients of a gateway, which hands over the worker's receipt unchanged.
     */
    public Builder acceptRegisteredWorkers(Duration liveness) {
      if (liveness.isNegative() || liveness.isZero()) {
        throw new IllegalArgumentException("liveness must be positive");
      }
      this.workerLiveness = liveness;
      return this;
    }

    /**
     * How many times an inference answered with 429, 503 or 504 and Retry-After is sent again
     * (same request id, same body); 0 turns retrying off. Default 3.
     */
    public Builder retries(int n) {
      if (n < 0 || n > 100) {
        throw new IllegalArgumentException("retries must be 0..100, got " + n);
      }
      this.retries = n;
      return this;
    }

    /** Longest wait before a retry, whatever Retry-After asks. Default 10 seconds. */
    public Builder maxRetryWait(Duration d) {
      if (d.isNegative()) {
        throw new IllegalArgumentException("maxRetryWait must not be negative");
      }
      this.maxRetryWait = d;
      return this;
    }

    /** The key that signs requests (needed to publish, yank, and to run private models). */
    public Builder signer(Signer s) {
      this.signer = s;
      return this;
    }

    /** Accept receipts only from these node keys (instead of the key the node reports). */
    public Builder trustNodes(Set<PublicKey> keys) {
      this.trustedNodes = Set.copyOf(keys);
      return this;
    }

    /**
     * A receipt verifier of the caller's making, used instead of the default one (which checks
     * receipt-mode, optimistic and zk evidence); register every evidence verifier it needs.
     */
    public Builder verifier(ReceiptVerifier v) {
      this.verifier = v;
      return this;
    }

    /**
     * Check ledger headers against this sequencer key (instead of the key the node's genesis
     * names, which is trusted on first use).
     */
    public Builder sequencer(PublicKey key) {
      this.sequencer = key;
      return this;
    }

    /**
     * Recompute every optimistic receipt locally before accepting it (fetching the model and the
     * inputs from the node, each checked against its CID, and re-running the canonical executor):
     * the outputs are then as trustworthy as the client's own computation. Without it, an optimistic
     * receipt's evidence is checked for structure only and the result is backed by the ledger
     * (sampling, challenge window, slashing; see {@link LedgerClient}).
     */
    public Builder recomputeOptimistic(boolean recompute) {
      this.recomputeOptimistic = recompute;
      return this;
    }

    public Builder timeout(Duration t) {
      this.timeout = t;
      return this;
    }

    public Builder limits(TensorLimits l) {
      this.limits = l;
      return this;
    }

    public VerityClient build() {
      return new VerityClient(this);
    }
  }
}

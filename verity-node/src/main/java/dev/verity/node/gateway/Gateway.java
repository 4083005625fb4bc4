package dev.verity.node.gateway;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Signer;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Address;
import dev.verity.ledger.NodeRole;
import dev.verity.node.http.ApiException;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerAuth;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.ReceiptVerifier;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Npy;
import dev.verity.protocol.tensor.TensorJson;
import dev.verity.protocol.tensor.TensorLimits;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.function.Function;

/**
 * The gateway role: takes an inference request a client sent to this node and has a worker run it.
 * {@link #forward} picks a worker with {@link WorkerPool} (stake-weighted, load-aware, bounded by
 * each worker's capacity), sends it the client's request unchanged (body, content type, the
 * client's request signature, and the request id as {@code X-Request-Id}, so the worker names the
 * same request id in its receipt), and checks the answer before the client sees it: the receipt is
 * signed by the key of the worker it was sent to, names this request, manifest, model, mode, job,
 * inputs and outputs, and the outputs fit the manifest. A worker that fails, does not answer within
 * the attempt timeout, or answers something false is left out for a while and the request is tried
 * on another worker under the same request id, up to {@link GatewaySettings#attempts} workers and
 * within the request's deadline. The client receives the worker's answer byte for byte (its
 * receipt unchanged) exactly once.
 *
 * <p>Payment. A paid request names a job; the gateway passes it on and never charges anything
 * itself. A job that names a worker is sent only to that worker. A job for any worker is paid at
 * most once by the ledger: only an open job settles, so when an attempt's worker ran (and
 * journalled) the job before its answer was lost, the next worker either finds the job settled and
 * refuses it (the gateway then answers 409 {@code job-used}, naming the earlier worker) or runs it
 * and loses the settlement race, unpaid. A worker that died before journalling leaves the job open,
 * and the next worker is paid.
 *
 * <p>Backpressure. At most {@link GatewaySettings#maxOutstanding} requests are held at once (more
 * get 429 with Retry-After); a request waits at most {@link GatewaySettings#queueWait} for a worker
 * with spare capacity (then 503 with Retry-After). Thread-safe.
 */
public final class Gateway implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Gateway.class.getName());
  private static final JsonFactory JSON_FACTORY = dev.verity.protocol.JsonFactories.factory();
  private static final ObjectMapper JSON = dev.verity.protocol.JsonFactories.mapper();
  /** A request that carries this header was forwarded by a gateway already and is never forwarded again. */
  public static final String FORWARDED_HEADER = "Verity-Forwarded";
  /**
   * The gateway's own request signature on a forwarded call (PROTOCOL.md 7a, by the gateway's node
   * key), beside the client's {@code Authorization}, which is passed on unchanged.
   */
  public static final String PEER_AUTHORIZATION_HEADER = "Verity-Peer-Authorization";
  private static final List<String> PASSED_RESPONSE_HEADERS = List.of("Verity-Receipt", "Verity-Blinding");
  private static final int MAX_CACHED_MANIFESTS = 4096;
  /** Longest one peer is given to answer for a manifest. */
  private static final Duration MANIFEST_TIMEOUT = Duration.ofSeconds(3);

  private final WorkerPool pool;
  private final GatewaySettings settings;
  private final Function<Hash, Optional<Address>> jobWorker;
  private final TensorLimits limits;
  private final HttpClient http;
  private final Semaphore admitted;
  private final ReceiptVerifier receipts = ReceiptVerifier.create();
  private final Map<String, ModelManifest> manifests = new ConcurrentHashMap<>();
  private final long maxResponseBytes;
  private final Signer nodeKey;

  /**
   * @param jobWorker the worker a ledger job names, if any (from this node's ledger view; a node
   *     without a ledger answers empty and such jobs are tried on any worker, whose own check
   *     refuses those not for it)
   * @param limits the bounds on the outputs a worker may send back; an answer longer than four
   *     times {@code limits.maxTotalBytes()} (JSON text of numbers is longer than their bytes) is
   *     refused as false
   * @param nodeKey this node's key: every call to a worker carries its signature ({@link
   *     #PEER_AUTHORIZATION_HEADER}), so the worker knows which node of the network forwarded it
   */
  public Gateway(WorkerPool pool, GatewaySettings settings, Function<Hash, Optional<Address>> jobWorker,
      TensorLimits limits, Signer nodeKey) {
    this.nodeKey = Objects.requireNonNull(nodeKey, "nodeKey");
    this.pool = Objects.requireNonNull(pool, "pool");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.jobWorker = Objects.requireNonNull(jobWorker, "jobWorker");
    this.limits = Objects.requireNonNull(limits, "limits");
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofMillis(Math.min(2000, settings.attemptTimeout().toMillis()))).build();
    this.admitted = new Semaphore(settings.maxOutstanding());
    this.maxResponseBytes = Math.min(Integer.MAX_VALUE - 8, 4 * limits.maxTotalBytes());
  }

  public WorkerPool pool() {
    return pool;
  }

  /**
   * One inference request as the client sent it, parsed and checked by this node's API.
   *
   * @param manifest the version the request is for
   * @param pathAndQuery the path the client called (the worker is called on the same path, so the
   *     client's request signature verifies there)
   * @param contentType application/json or application/x-npz
   * @param body the request body, forwarded unchanged
   * @param headers further request headers to pass on (Authorization, Accept, Verity-Blinding)
   * @param transportId the request id this node assigned (sent as X-Request-Id)
   * @param requestId the request id the receipt must name (the body's, else {@code transportId})
   * @param inputs the parsed inputs, checked against the receipt in mode receipt
   */
  public record Request(ModelManifest manifest, boolean exactVersion, String pathAndQuery, String contentType,
      byte[] body, Map<String, String> headers, String transportId, String requestId, NamedTensors inputs,
      VerificationMode mode, Optional<Hash> job) {
    public Request {
      Objects.requireNonNull(manifest, "manifest");
      headers = Map.copyOf(headers);
    }
  }

  /**
   * What to send the client: a worker's verified answer (status 200) or a worker's refusal that
   * another worker would repeat (a 4xx problem document), byte for byte.
   *
   * @param worker the worker that answered
   * @param receipt the verified receipt, for a 200
   */
  public record Answer(int status, String contentType, byte[] body, Map<String, String> headers, Peer worker,
      Optional<InferenceReceipt> receipt) {
    public Answer {
      headers = Map.copyOf(headers);
    }
  }

  /**
   * Has a worker run {@code r}.
   *
   * @throws ApiException 429 (gateway full) or 503 (no worker free or left) with Retry-After, 504
   *     when the deadline passed, 409 {@code job-used} when an earlier attempt used the job
   * @throws InterruptedException if interrupted
   */
  public Answer forward(Request r) throws InterruptedException {
    if (!admitted.tryAcquire()) {
      throw ApiException.retryLater(429, "gateway-busy", "Gateway busy",
          "this gateway holds " + settings.maxOutstanding() + " requests already (gateway.max_outstanding);"
              + " retry after the Retry-After delay with the same request id", 1);
    }
    try {
      return attempts(r);
    } finally {
      admitted.release();
    }
  }

  private Answer attempts(Request r) throws InterruptedException {
    long deadline = System.nanoTime() + settings.deadline().toNanos();
    Set<Address> tried = new HashSet<>();
    List<String> failures = new ArrayList<>();
    Optional<Address> named = r.job().flatMap(jobWorker);
    Hash bodyHash = Hash.of(r.body());
    Peer lastTried = null;
    for (int attempt = 0; attempt < settings.attempts(); attempt++) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw ApiException.retryLater(504, "deadline-exceeded", "Deadline exceeded",
            "no worker answered request " + r.requestId() + " within " + settings.deadline().toMillis()
                + " ms (gateway.deadline_millis); tried: " + failures + ". Retry with the same request id", 1);
      }
      WorkerPool.Lease lease;
      try {
        lease = pool.acquire(r.manifest().cid(),
            a -> !tried.contains(a) && (named.isEmpty() || named.get().equals(a)),
            Duration.ofNanos(Math.min(left, settings.queueWait().toNanos())));
      } catch (ApiException e) {
        if (failures.isEmpty()) {
          throw e;
        }
        break;
      }
      try (lease) {
        Peer w = lease.peer();
        tried.add(w.address());
        Duration timeout = Duration.ofNanos(Math.min(left, settings.attemptTimeout().toNanos()));
        Outcome o = attempt(w, r, bodyHash, timeout);
        switch (o) {
          case Outcome.Verified v -> {
            return v.answer();
          }
          case Outcome.Refused f -> {
            if (f.answer().status() == 409 && r.job().isPresent() && lastTried != null) {
              throw new ApiException(409, "job-used", "Job used by an earlier attempt",
                  "job " + r.job().get().toHex() + " was taken by an earlier attempt of request " + r.requestId()
                      + " on worker " + lastTried.address() + " whose answer was lost (" + failures + "); worker "
                      + w.address() + " says: " + problemDetail(f.answer().body()) + ". A job pays for one inference"
                      + " and is charged at most once: read the job on the ledger (GET /v1/ledger/jobs/"
                      + r.job().get().toHex() + ") for the committed receipt, or open a new job and send again");
            }
            return f.answer();
          }
          case Outcome.Failed f -> {
            pool.avoid(w.address(), f.forged() ? WorkerPool.AFTER_FORGERY : WorkerPool.AFTER_FAILURE);
            failures.add(w.address() + ": " + f.reason());
            LOG.log(f.forged() ? System.Logger.Level.WARNING : System.Logger.Level.INFO, "request " + r.requestId() + " on worker " + w.address() + " (" + w.endpoint() + ") failed"
                    + (f.forged() ? " with a false answer" : "") + ": " + f.reason());
            lastTried = w;
          }
        }
      }
    }
    throw ApiException.retryLater(503, "workers-failed", "Workers failed",
        "request " + r.requestId() + " failed on " + failures.size() + " worker(s): " + failures
            + (r.job().isPresent() ? "; its job was not charged unless a worker journalled it (see the job on the"
                + " ledger)" : "") + ". Retry after the Retry-After delay with the same request id", 1);
  }

  /** How one attempt on one worker ended. */
  private sealed interface Outcome {
    record Verified(Answer answer) implements Outcome {}

    /** The worker refused the request for a reason any worker would give: passed to the client. */
    record Refused(Answer answer) implements Outcome {}

    record Failed(String reason, boolean forged) implements Outcome {}
  }

  private Outcome attempt(Peer w, Request r, Hash bodyHash, Duration timeout) throws InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(endpoint(w, r.pathAndQuery())).timeout(timeout)
        .header("Content-Type", r.contentType())
        .header("X-Request-Id", r.transportId())
        .header(FORWARDED_HEADER, "1")
        // signed afresh for every attempt, so the signature's time stays recent
        .header(PEER_AUTHORIZATION_HEADER, PeerAuth.authorization(nodeKey, "POST", r.pathAndQuery(), bodyHash,
            System.currentTimeMillis()))
        .POST(HttpRequest.BodyPublishers.ofByteArray(r.body()));
    r.headers().forEach(b::header);
    HttpResponse<byte[]> resp;
    try {
      resp = http.send(b.build(), bounded(maxResponseBytes));
    } catch (HttpTimeoutException e) {
      return new Outcome.Failed("no answer within " + timeout.toMillis() + " ms", false);
    } catch (IOException | java.io.UncheckedIOException e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof ResponseTooLarge tooLarge) {
          return new Outcome.Failed(tooLarge.getMessage(), true);
        }
      }
      return new Outcome.Failed("unreachable at " + w.endpoint() + " (" + e + ")", false);
    }
    int status = resp.statusCode();
    String type = resp.headers().firstValue("Content-Type").orElse("application/octet-stream");
    Map<String, String> headers = new LinkedHashMap<>();
    for (String h : PASSED_RESPONSE_HEADERS) {
      resp.headers().firstValue(h).ifPresent(v -> headers.put(h, v));
    }
    resp.headers().firstValue("Retry-After").ifPresent(v -> headers.put("Retry-After", v));
    if (status == 200) {
      try {
        InferenceReceipt receipt = check(w, r, type, resp);
        return new Outcome.Verified(new Answer(200, type, resp.body(), headers, w, Optional.of(receipt)));
      } catch (VerificationException | IOException | IllegalArgumentException e) {
        if (e instanceof ManifestMismatch && !r.exactVersion()) {
          return new Outcome.Failed("ran another version than this gateway resolved: " + e.getMessage(), false);
        }
        return new Outcome.Failed("answer does not verify: " + e.getMessage(), true);
      }
    }
    if (retryable(status, resp.body())) {
      return new Outcome.Failed("HTTP " + status + " " + problemDetail(resp.body()), false);
    }
    return new Outcome.Refused(new Answer(status, type, resp.body(), headers, w, Optional.empty()));
  }

  /** A worker's answer longer than the gateway takes. */
  private static final class ResponseTooLarge extends IOException {
    private static final long serialVersionUID = 1L;

    ResponseTooLarge(long max) {
      super("the answer is longer than " + max + " bytes");
    }
  }

  /** Reads a response body of at most {@code max} bytes; a longer one fails with {@link ResponseTooLarge}. */
  private static HttpResponse.BodyHandler<byte[]> bounded(long max) {
    return info -> HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofInputStream(), in -> {
      try (in) {
        byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        if (bytes.length > max) {
          throw new java.io.UncheckedIOException(new ResponseTooLarge(max));
        }
        return bytes;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  private static URI endpoint(Peer w, String pathAndQuery) {
    String base = w.endpoint().toString();
    if (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    return URI.create(base + pathAndQuery);
  }

  /**
   * Whether another worker may succeed where this answer came from: the worker lacks the model
   * (404), is busy or failing (429, 5xx), or cannot serve the mode (501). Refusals of the request
   * itself (bad input, authentication, payment, a used job, a yanked version) and a model that
   * failed on these inputs are the same on every worker.
   */
  private static boolean retryable(int status, byte[] body) {
    if (status == 500) {
      return !problemType(body).equals("inference-failed");
    }
    if (status == 401 || status == 403) {
      // the worker refused this gateway, not the client: another worker may take it
      return problemType(body).equals("peer-refused");
    }
    return status == 404 || status == 408 || status == 429 || status >= 500;
  }

  private static String problemType(byte[] body) {
    try {
      return JSON.readTree(body).path("type").asText("").replace("/problems/", "");
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static String problemDetail(byte[] body) {
    try {
      JsonNode p = JSON.readTree(body);
      String d = p.path("detail").asText("");
      return d.isEmpty() ? "(no detail)" : d;
    } catch (IOException | RuntimeException e) {
      return "(no problem document)";
    }
  }

  /** The receipt named a manifest other than the one resolved. */
  private static final class ManifestMismatch extends VerificationException {
    private static final long serialVersionUID = 1L;

    ManifestMismatch(String message) {
      super(message);
    }
  }

  /** Checks a worker's 200 answer; returns its receipt. */
  private InferenceReceipt check(Peer w, Request r, String contentType, HttpResponse<byte[]> resp)
      throws VerificationException, IOException {
    NamedTensors outputs;
    String receiptText;
    if (contentType.startsWith("application/x-npz")) {
      outputs = Npy.readNpz(new ByteArrayInputStream(resp.body()), limits);
      receiptText = resp.headers().firstValue("Verity-Receipt")
          .orElseThrow(() -> new VerificationException("the .npz answer has no Verity-Receipt header"));
    } else {
      Parsed p = parse(resp.body());
      outputs = p.outputs();
      receiptText = p.receipt();
    }
    InferenceReceipt receipt;
    try {
      receipt = InferenceReceipt.decode(Base64.getDecoder().decode(receiptText));
    } catch (IllegalArgumentException e) {
      throw new VerificationException("the receipt is not base64: " + e.getMessage());
    }
    receipt.verifySignature();
    if (!receipt.node().address().equals(w.address())) {
      throw new VerificationException("the receipt is signed by " + receipt.node().address() + ", not by worker "
          + w.address() + " the request was sent to");
    }
    ModelManifest m = r.manifest();
    if (!receipt.manifest().equals(m.cid())) {
      throw new ManifestMismatch("the receipt names manifest " + receipt.manifest() + ", the request is for " + m.cid());
    }
    if (!receipt.requestId().equals(r.requestId())) {
      throw new VerificationException("the receipt is for request '" + receipt.requestId() + "', not '"
          + r.requestId() + "'");
    }
    if (receipt.mode() != r.mode()) {
      throw new VerificationException("the receipt is for mode " + receipt.mode().wireName() + ", the request asked for "
          + r.mode().wireName());
    }
    if (!receipt.job().equals(r.job())) {
      throw new VerificationException("the receipt names job " + receipt.job().map(Hash::toHex).orElse("(none)")
          + ", the request " + r.job().map(Hash::toHex).orElse("none"));
    }
    if (r.mode() == VerificationMode.RECEIPT) {
      receipts.verify(receipt, m, r.inputs(), outputs);
    } else {
      // The proof of a zk receipt is checked by the client (it needs the model file); the gateway
      // checks what is cheap: signature, worker, manifest, model and outputs.
      receipts.verifySignatureAndModel(receipt, m);
      if (!outputs.cid().equals(receipt.outputs())) {
        throw new VerificationException("the outputs hash to " + outputs.cid() + ", the receipt names " + receipt.outputs());
      }
    }
    return receipt;
  }

  private record Parsed(NamedTensors outputs, String receipt) {}

  private Parsed parse(byte[] body) throws IOException, VerificationException {
    try (JsonParser p = JSON_FACTORY.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new VerificationException("the answer is not a JSON object");
      }
      NamedTensors outputs = null;
      String receipt = null;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String f = p.currentName();
        JsonToken t = p.nextToken();
        if (f.equals("outputs")) {
          outputs = TensorJson.readObject(p, limits);
        } else if (f.equals("receipt") && t == JsonToken.VALUE_STRING) {
          receipt = p.getText();
        } else {
          p.skipChildren();
        }
      }
      if (outputs == null || receipt == null) {
        throw new VerificationException("the answer lacks outputs or receipt");
      }
      return new Parsed(outputs, receipt);
    }
  }

  // ---- manifests of models this node does not hold --------------------------------------------

  /**
   * The manifest of {@code owner/repo/version} as a live hub or worker serves it, checked against
   * its CID, its signature and the name asked for; kept once found (versions are immutable; {@code
   * latest} is asked each time).
   *
   * @throws ApiException 404 when no peer asked has it, 503 when none could be asked
   */
  public ModelManifest resolve(Address owner, String repo, String version) throws InterruptedException {
    String key = owner + "/" + repo + "/" + version;
    ModelManifest known = manifests.get(key);
    if (known != null) {
      return known;
    }
    return versionDocument(owner, repo, version).manifest();
  }

  /** A version as a live hub or worker describes it now (GET /v1/models/{owner}/{repo}/{version}), checked. */
  public record VersionDocument(ModelManifest manifest, byte[] json) {}

  /**
   * The version document of {@code owner/repo/version} from a live hub or worker, asked now (so its
   * yank state is current), its manifest checked as {@link #resolve(Address, String, String)} does.
   */
  public VersionDocument versionDocument(Address owner, String repo, String version) throws InterruptedException {
    String key = owner + "/" + repo + "/" + version;
    byte[][] body = new byte[1][];
    ModelManifest m = fromPeers("/v1/models/" + owner + "/" + repo + "/" + version, bytes -> {
      body[0] = bytes;
      JsonNode n = JSON.readTree(bytes);
      Cid cid = Cid.parse(n.path("manifest_cid").asText());
      byte[] encoded = Base64.getDecoder().decode(n.path("manifest").asText());
      cid.verify(encoded);
      ModelManifest found = ModelManifest.decode(encoded);
      found.verify();
      if (!found.ownerAddress().equals(owner) || !found.repository().equals(repo)
          || !(version.equals("latest") || found.version().equals(version))) {
        throw new VerificationException("asked for " + key + ", got " + found.repositoryId() + "@" + found.version());
      }
      return found;
    }, key);
    if (!version.equals("latest")) {
      remember(key, m);
    }
    remember(m.cid().toString(), m);
    return new VersionDocument(m, body[0]);
  }

  /** The manifest with CID {@code cid}, from a live hub or worker, checked; kept once found. */
  public ModelManifest resolve(Cid cid) throws InterruptedException {
    ModelManifest known = manifests.get(cid.toString());
    if (known != null) {
      return known;
    }
    ModelManifest m = fromPeers("/v1/manifests/" + cid, bytes -> {
      cid.verify(bytes);
      ModelManifest found = ModelManifest.decode(bytes);
      found.verify();
      return found;
    }, cid.toString());
    remember(cid.toString(), m);
    return m;
  }

  private void remember(String key, ModelManifest m) {
    if (manifests.size() >= MAX_CACHED_MANIFESTS) {
      manifests.clear();
    }
    manifests.put(key, m);
  }

  private interface ManifestReader {
    ModelManifest read(byte[] body) throws IOException, VerificationException;
  }

  private ModelManifest fromPeers(String path, ManifestReader reader, String what) throws InterruptedException {
    // hubs first (they keep every version), then workers; a few at most, each briefly
    List<Peer> asked = pool.directory().live().stream()
        .filter(p -> p.has(NodeRole.HUB) || p.has(NodeRole.WORKER))
        .sorted(java.util.Comparator.comparing((Peer p) -> !p.has(NodeRole.HUB)))
        .limit(4).toList();
    Duration timeout = settings.attemptTimeout().compareTo(MANIFEST_TIMEOUT) < 0 ? settings.attemptTimeout() : MANIFEST_TIMEOUT;
    if (asked.isEmpty()) {
      throw ApiException.notFound("this gateway does not hold " + what + " and sees no live hub or worker to ask");
    }
    List<String> failures = new ArrayList<>();
    for (Peer p : asked) {
      try {
        HttpResponse<byte[]> resp = http.send(HttpRequest.newBuilder(endpoint(p, path))
            .timeout(timeout).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        if (resp.statusCode() != 200) {
          failures.add(p.address() + ": HTTP " + resp.statusCode());
          continue;
        }
        return reader.read(resp.body());
      } catch (IOException | VerificationException | RuntimeException e) {
        failures.add(p.address() + ": " + e.getMessage());
      }
    }
    throw ApiException.notFound("no live hub or worker asked has " + what + " ("
        + String.join("; ", failures) + ")");
  }

  /** Stops forwarding: requests still waiting on a worker end at once (their clients see the connection end). */
  @Override
  public void close() {
    http.shutdownNow();
  }
}

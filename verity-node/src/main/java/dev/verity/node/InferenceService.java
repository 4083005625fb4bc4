package dev.verity.node;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.exec.Execution;
import dev.verity.hub.ModelRegistry;
import dev.verity.node.http.ApiException;
import dev.verity.node.replica.ModelCache;
import dev.verity.node.replica.Replicator;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.OptimisticEvidence;
import dev.verity.protocol.Provenance;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.TensorSpec;
import dev.verity.runtime.EngineInfo;
import dev.verity.runtime.InvalidInputException;
import dev.verity.runtime.ModelLoadException;
import dev.verity.runtime.ModelSource;
import dev.verity.runtime.SessionCache;
import dev.verity.zk.Blinding;
import dev.verity.zk.ModelProver;
import dev.verity.zk.ZkEvidence;
import java.io.IOException;
import java.time.Clock;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * Runs one inference for a caller and signs its receipt: finds the version, refuses yanked ones,
 * enforces visibility and the modes the owner allows, checks the inputs against the manifest, runs
 * the engine, and signs a receipt over model, manifest, inputs, outputs and provenance. On a node
 * with a ledger, {@link Payments} decides just before the run whether the request pays (and with
 * which job, which the receipt then names) and learns how the run ended. Thread-safe.
 */
public final class InferenceService {
  /**
   * Modes this node can produce evidence for. Mode {@code zk} is served for the models that compile
   * to a provable network, mode {@code optimistic} for the models the canonical executor runs
   * ({@link #modesFor}); others are refused with 501 naming the reason.
   */
  public static final Set<VerificationMode> SUPPORTED_MODES =
      EnumSet.of(VerificationMode.RECEIPT, VerificationMode.OPTIMISTIC, VerificationMode.ZK);

  private final ModelRegistry registry;
  private final ModelFiles files;
  private final SessionCache sessions;
  private final Signer nodeKey;
  private final Clock clock;
  private final Payments payments;
  private final ZkProving zk;
  private final Replicator replicas;
  private final CanonicalRuns canonical;
  private final OptimisticEngine optimistic;
  private final TensorBlobs tensors;
  private final java.util.function.Function<Hash, Optional<Hash>> committedRoot;

  InferenceService(ModelRegistry registry, ModelFiles files, SessionCache sessions, CanonicalRuns canonical,
      OptimisticEngine optimistic, TensorBlobs tensors, Signer nodeKey, Clock clock, Payments payments,
      java.util.function.Function<Hash, Optional<Hash>> committedRoot,
      Replicator replicas) {
    this.replicas = replicas;
    this.registry = registry;
    this.files = files;
    this.sessions = sessions;
    this.canonical = canonical;
    this.optimistic = optimistic;
    this.tensors = tensors;
    this.committedRoot = committedRoot;
    this.nodeKey = nodeKey;
    this.clock = clock;
    this.payments = payments;
    this.zk = new ZkProving(files);
  }

  /**
   * The modes this node serves for a model: {@code receipt}, {@code optimistic} when the canonical
   * executor runs it, and {@code zk} when the model compiles to a provable network (compiled once
   * and kept; the first call for a model may take a moment).
   */
  public Set<VerificationMode> modesFor(ModelManifest m) {
    Set<VerificationMode> modes = EnumSet.of(VerificationMode.RECEIPT);
    if (canonical.supports(m.model())) {
      modes.add(VerificationMode.OPTIMISTIC);
    }
    try {
      zk.prover(m);
      modes.add(VerificationMode.ZK);
    } catch (ApiException e) {
      // not provable, or not loadable now
    }
    return modes;
  }

  /** What one inference produced: outputs and the signed receipt. */
  public record Result(NamedTensors outputs, InferenceReceipt receipt) {}

  /** Resolves owner/repo/version ("latest" for the newest version not yanked) to its manifest. */
  public ModelRegistry.VersionEntry resolve(Address owner, String repo, String version) {
    Optional<ModelRegistry.VersionEntry> e = version.equals("latest")
        ? registry.latest(owner, repo)
        : registry.version(owner, repo, version);
    return e.orElseThrow(() -> ApiException.notFound("no version '" + version + "' of " + owner + "/" + repo));
  }

  public ModelRegistry.VersionEntry resolve(Cid manifest) {
    return registry.entry(manifest).orElseThrow(() -> ApiException.notFound("no manifest " + manifest + " on this node"));
  }

  /**
   * As {@link #resolve(Cid)}, but a manifest this node does not have is fetched from its peers (and
   * checked) first: what a worker asked to run a model it does not hold yet does.
   *
   * @throws ApiException 404 when no live peer has a valid manifest with this CID
   */
  public ModelRegistry.VersionEntry resolveOrFetch(Cid manifest) {
    try {
      return replicas.manifest(manifest);
    } catch (IOException e) {
      throw ApiException.notFound("no manifest " + manifest + " on this node or its peers: " + e.getMessage());
    }
  }

  /** As {@link #resolve(Address, String, String)}, fetching a version this node lacks from its peers. */
  public ModelRegistry.VersionEntry resolveOrFetch(Address owner, String repo, String version) {
    try {
      return replicas.manifest(owner, repo, version);
    } catch (IOException e) {
      throw ApiException.notFound("no version '" + version + "' of " + owner + "/" + repo
          + " on this node or its peers: " + e.getMessage());
    }
  }

  /** Pins the model file of {@code m} for one run, fetching it from peers if this node lacks it. */
  private ModelCache.Pin hold(ModelManifest m) {
    if (sessions.contains(m.model())) {
      // Loaded (and verified while loading): the run needs no file, so the store is not consulted.
      return replicas.cache().pin(m.model());
    }
    try {
      return replicas.acquire(m);
    } catch (ModelCache.CacheFullException e) {
      throw new ApiException(503, "model-unavailable", "Model unavailable", e.getMessage(), e);
    } catch (IOException e) {
      throw new ApiException(503, "model-unavailable", "Model unavailable",
          "this node does not hold model " + m.model() + " and could not fetch it: " + e.getMessage()
              + "; retry later or use another node", e);
    }
  }

  /**
   * Runs the model of {@code entry} on {@code inputs}.
   *
   * @param caller the authenticated caller, if the request was signed
   * @throws ApiException 410 for a yanked version, 401/403 for a private model the caller may not
   *     use, 400 for a mode the owner does not allow or inputs that do not fit, 501 for a mode this
   *     node cannot serve, 503 when the node's stored copy of the model is damaged or incomplete
   */
  public Result infer(ModelRegistry.VersionEntry entry, NamedTensors inputs, VerificationMode mode, String requestId,
      Optional<Address> caller) {
    return infer(entry, inputs, mode, requestId, caller, Optional.empty(), Blinding.random());
  }

  /**
   * As {@link #infer(ModelRegistry.VersionEntry, NamedTensors, VerificationMode, String, Optional)},
   * paid with the ledger job {@code job} when given: the job is claimed just before the run, the
   * receipt names it, and it is settled after a successful run or failed (refunding the client)
   * after a failed one.
   *
   * @throws ApiException additionally 402 when payment is missing or insufficient, 409 when the job
   *     was used already; 500 with type {@code inference-failed} when the engine fails on a paid run
   */
  public Result infer(ModelRegistry.VersionEntry entry, NamedTensors inputs, VerificationMode mode, String requestId,
      Optional<Address> caller, Optional<Hash> job) {
    return infer(entry, inputs, mode, requestId, caller, job, Blinding.random());
  }

  /**
   * As above, with the blinding of the input commitment for mode {@code zk} (the caller keeps it to
   * open the commitment later; it never enters the receipt). In mode zk the outputs are those of
   * the quantized network, the evidence is a proof ({@link ZkEvidence}) and the receipt names the
   * commitment's CID as its inputs. Additionally 422 when a zk input leaves the provable range.
   */
  public Result infer(ModelRegistry.VersionEntry entry, NamedTensors inputs, VerificationMode mode, String requestId,
      Optional<Address> caller, Optional<Hash> job, Blinding zkBlinding) {
    ModelManifest m = entry.manifest();
    if (entry.yanked()) {
      throw new ApiException(410, "yanked", "Version yanked",
          m.repositoryId() + "@" + m.version() + " was yanked by its owner: " + entry.yank().get().reason());
    }
    checkAccess(m, caller);
    if (!m.modes().contains(mode)) {
      throw ApiException.badRequest("the owner of " + m.repositoryId() + " does not allow mode '" + mode.wireName()
          + "'; allowed: " + m.modes().stream().map(VerificationMode::wireName).toList());
    }
    if (!SUPPORTED_MODES.contains(mode)) {
      throw new ApiException(501, "mode-unavailable", "Mode not available",
          "this node cannot produce '" + mode.wireName() + "' evidence yet; use 'receipt'");
    }
    checkInputs(m, inputs);
    try (ModelCache.Pin pin = hold(m)) {
      return run(m, inputs, mode, requestId, caller, job, zkBlinding);
    }
  }

  private Result run(ModelManifest m, NamedTensors inputs, VerificationMode mode, String requestId,
      Optional<Address> caller, Optional<Hash> job, Blinding zkBlinding) {
    Payments.Claim claim = payments.authorize(m, caller, job);
    boolean completed = false;
    try {
      if (mode == VerificationMode.ZK) {
        long started = clock.millis();
        ModelProver.Proved p = zk.prove(m, inputs, zkBlinding);
        long finished = clock.millis();
        Provenance provenance = Provenance.ofThisPlatform(ZkProving.ENGINE, ZkProving.ENGINE_VERSION, "cpu", VerityNode.VERSION);
        InferenceReceipt receipt = InferenceReceipt.sign(nodeKey, requestId, m, ZkEvidence.inputsCid(p.evidence().input()),
            p.outputs().cid(), mode, p.evidence().toCbor(), provenance, started, finished, claim.job());
        claim.completed(receipt);
        completed = true;
        return new Result(p.outputs(), receipt);
      }
      if (mode == VerificationMode.OPTIMISTIC) {
        long started = clock.millis();
        Execution e = optimistic.run(m.model(), inputs);
        long finished = clock.millis();
        Cid inputsCid = keep(inputs, "inputs");
        keep(e.outputs(), "outputs");
        Provenance provenance = Provenance.ofThisPlatform(CanonicalRuns.ENGINE, CanonicalRuns.ENGINE_VERSION, "cpu",
            VerityNode.VERSION);
        Hash root = claim.job().flatMap(committedRoot).orElse(e.trace().root());
        OptimisticEvidence evidence = new OptimisticEvidence(root, e.trace().size());
        InferenceReceipt receipt = InferenceReceipt.sign(nodeKey, requestId, m, inputsCid, e.outputs().cid(), mode,
            evidence.toCbor(), provenance, started, finished, claim.job());
        claim.completed(receipt);
        completed = true;
        return new Result(e.outputs(), receipt);
      }
      long started = clock.millis();
      NamedTensors outputs;
      EngineInfo info;
      try (SessionCache.Lease lease = sessions.acquire(m.model(), () -> source(m.model()))) {
        // the inputs' CID, which the receipt needs, is hashed while the model runs
        inputs.cidInBackground();
        outputs = lease.model().run(inputs);
        info = lease.model().info();
      } catch (InvalidInputException e) {
        throw ApiException.badRequest(e.getMessage() + claim.failureNote());
      } catch (ModelLoadException e) {
        if (e.getCause() instanceof ApiException unavailable) {
          throw unavailable;
        }
        throw e;
      } catch (RuntimeException e) {
        if (claim.job().isPresent() && !(e instanceof ApiException)) {
          throw new ApiException(500, "inference-failed", "Inference failed",
              "the model failed to run on these inputs: " + e.getMessage() + claim.failureNote(), e);
        }
        throw e;
      }
      long finished = clock.millis();
      Provenance provenance = Provenance.ofThisPlatform(info.engine(), info.version(),
          info.executionProvider().wireName(), VerityNode.VERSION);
      Cid outputsCid = outputs.cid(); // meanwhile the inputs' hashing finishes, if it has not yet
      InferenceReceipt receipt = InferenceReceipt.sign(nodeKey, requestId, m, inputs.cid(), outputsCid, mode,
          CborValue.Map.builder().build(), provenance, started, finished, claim.job());
      claim.completed(receipt);
      completed = true;
      return new Result(outputs, receipt);
    } finally {
      if (!completed) {
        claim.failed();
      }
    }
  }

  /** Whether {@code caller} may run (and download) {@code m}: public, or its owner or allow-listed. */
  static boolean mayUse(ModelManifest m, Optional<Address> caller) {
    return m.visibility() == ModelManifest.Visibility.PUBLIC
        || caller.isPresent() && (caller.get().equals(m.ownerAddress()) || m.allows(caller));
  }

  /** Refuses a caller who may not use {@code m}: 401 when unsigned, 403 when not allowed. */
  static void checkAccess(ModelManifest m, Optional<Address> caller) {
    if (mayUse(m, caller)) {
      return;
    }
    if (caller.isEmpty()) {
      throw ApiException.unauthorized(m.repositoryId() + " is private; sign the request with an allowed key");
    }
    throw ApiException.forbidden(caller.get() + " is not on the allow-list of " + m.repositoryId());
  }

  private static void checkInputs(ModelManifest m, NamedTensors inputs) {
    for (TensorSpec s : m.inputs()) {
      if (!inputs.names().contains(s.name())) {
        throw ApiException.badRequest("input '" + s.name() + "' is missing; the model expects "
            + m.inputs().stream().map(i -> i.name() + " " + i.type().wireName() + i.shapeText()).toList());
      }
      try {
        s.check(inputs.get(s.name()));
      } catch (DecodingException e) {
        throw ApiException.badRequest(e.getMessage());
      }
    }
    for (String name : inputs.names()) {
      if (m.inputs().stream().noneMatch(s -> s.name().equals(name))) {
        throw ApiException.badRequest("the model has no input named '" + name + "'; it expects "
            + m.inputs().stream().map(TensorSpec::name).toList());
      }
    }
  }

  /** Keeps an optimistic job's inputs or outputs where verifiers can fetch them by CID. */
  private Cid keep(NamedTensors t, String what) {
    try {
      return tensors.keep(t);
    } catch (IOException e) {
      throw new ApiException(503, "storage-unavailable", "Storage unavailable",
          "this node cannot keep the " + what + " of an optimistic job, which verifiers need to fetch: "
              + e.getMessage() + "; free disk space, or use mode 'receipt'", e);
    }
  }

  /** The canonical bytes of an optimistic job's inputs or outputs this node keeps, checked against {@code cid}. */
  Optional<byte[]> keptTensors(Cid cid) throws IOException {
    return tensors.read(cid);
  }

  private ModelSource source(Cid model) {
    try {
      return ModelSource.file(files.materialize(model));
    } catch (IOException e) {
      throw new ApiException(503, "model-unavailable", "Model unavailable",
          "model " + model + " cannot be loaded: this node's stored copy is damaged or incomplete;"
              + " use another node, or have its owner upload the file again (POST /v1/blobs)", e);
    }
  }
}

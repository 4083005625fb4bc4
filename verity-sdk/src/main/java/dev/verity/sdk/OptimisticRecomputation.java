package dev.verity.sdk;

import dev.verity.core.BlobCid;
import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.exec.CanonicalExecutor;
import dev.verity.exec.Execution;
import dev.verity.exec.ExecutionException;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxReader;
import dev.verity.protocol.EvidenceVerifier;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.OptimisticEvidence;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The strict verifier of mode {@code optimistic}: recomputes the inference locally with the
 * canonical executor and accepts the receipt only if the recomputed trace root, step count and
 * outputs are exactly the receipt's. The model file and the inputs are fetched by CID and checked
 * against it (inputs by the dag-cbor CID of their canonical encoding). Cheap for small models; for
 * large ones rely on the ledger (sampling, challenge window) instead. Parsed models are kept (a few,
 * least recently used out). Thread-safe.
 */
public final class OptimisticRecomputation implements EvidenceVerifier {
  /** Fetches content by CID; what it returns is checked against the CID. */
  public interface Content {
    byte[] read(Cid cid) throws IOException;
  }

  private static final int KEPT_MODELS = 4;

  private final Content models;
  private final Content tensors;
  private final Map<Cid, OnnxModel> parsed = new LinkedHashMap<>(8, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Cid, OnnxModel> eldest) {
      return size() > KEPT_MODELS;
    }
  };

  private OptimisticRecomputation(Content models, Content tensors) {
    this.models = Objects.requireNonNull(models, "model source");
    this.tensors = Objects.requireNonNull(tensors, "tensor source");
  }

  /**
   * A recomputing verifier.
   *
   * @param models model files by CID (for example a node's {@code GET /v1/blobs/{cid}})
   * @param tensors canonical encodings of input sets by CID (the worker keeps them)
   */
  public static OptimisticRecomputation create(Content models, Content tensors) {
    return new OptimisticRecomputation(models, tensors);
  }

  @Override
  public VerificationMode mode() {
    return VerificationMode.OPTIMISTIC;
  }

  @Override
  public void verify(InferenceReceipt receipt, ModelManifest manifest, NamedTensors outputs)
      throws VerificationException {
    OptimisticEvidence claimed = OptimisticEvidence.of(receipt);
    NamedTensors inputs = inputs(receipt.inputs());
    Execution e = recompute(receipt.model(), inputs);
    if (!e.outputs().cid().equals(receipt.outputs()) || !e.outputs().cid().equals(outputs.cid())) {
      throw new VerificationException("recomputed outputs " + e.outputs().cid() + " differ from the receipt's "
          + receipt.outputs() + ": the worker's result is wrong");
    }
    if (e.trace().size() != claimed.steps()) {
      throw new VerificationException("the receipt claims " + claimed.steps() + " steps, the model has "
          + e.trace().size());
    }
    if (!e.trace().root().equals(claimed.trace())) {
      throw new VerificationException("recomputed trace root " + e.trace().root().toHex() + " differs from the receipt's "
          + claimed.trace().toHex() + ": the worker committed to a wrong trace");
    }
  }

  /** Runs the model canonically on {@code inputs} (what a verifier compares a worker's commitment with). */
  public Execution recompute(Cid model, NamedTensors inputs) throws VerificationException {
    try (CanonicalExecutor ex = CanonicalExecutor.create(model(model))) {
      return ex.runTraced(inputs);
    } catch (ExecutionException e) {
      throw new VerificationException("the canonical executor cannot run model " + model + " on these inputs: "
          + e.getMessage(), e);
    }
  }

  /** The input set named {@code cid}, fetched and checked against it. */
  public NamedTensors inputs(Cid cid) throws VerificationException {
    byte[] bytes = fetch(tensors, cid, "inputs");
    if (!Cid.dagCbor(bytes).equals(cid)) {
      throw new VerificationException("the inputs fetched for " + cid + " hash to " + Cid.dagCbor(bytes));
    }
    try {
      return NamedTensors.fromCanonicalBytes(bytes);
    } catch (DecodingException e) {
      throw new VerificationException("the inputs " + cid + " are not a canonical tensor set: " + e.getMessage(), e);
    }
  }

  private OnnxModel model(Cid cid) throws VerificationException {
    synchronized (parsed) {
      OnnxModel m = parsed.get(cid);
      if (m != null) {
        return m;
      }
    }
    byte[] bytes = fetch(models, cid, "model");
    Cid actual;
    try {
      actual = BlobCid.of(new ByteArrayInputStream(bytes));
    } catch (IOException e) {
      throw new AssertionError("reading an array cannot fail", e);
    }
    if (!actual.equals(cid)) {
      throw new VerificationException("the model fetched for " + cid + " hashes to " + actual);
    }
    OnnxModel m;
    try {
      m = OnnxReader.read(bytes);
    } catch (DecodingException e) {
      throw new VerificationException("model " + cid + " is not a valid ONNX file: " + e.getMessage(), e);
    }
    synchronized (parsed) {
      parsed.put(cid, m);
    }
    return m;
  }

  private static byte[] fetch(Content source, Cid cid, String what) throws VerificationException {
    try {
      return source.read(cid);
    } catch (IOException e) {
      throw new VerificationException("cannot fetch the " + what + " " + cid + " to recompute: " + e.getMessage(), e);
    }
  }
}

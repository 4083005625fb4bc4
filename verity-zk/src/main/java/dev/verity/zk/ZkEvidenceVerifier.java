package dev.verity.zk;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.protocol.EvidenceVerifier;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Checks the evidence of receipts in mode {@code zk} without trusting the node: the verifying key
 * is derived here, from the model file the receipt names (fetched from anywhere, and checked
 * against the model CID), by the deterministic compilation of {@link OnnxCompiler}. {@link #verify}
 * returns normally only if
 *
 * <ol>
 *   <li>the evidence decodes ({@link ZkEvidence}) and is for the key derived from the model;
 *   <li>the receipt's {@code inputs} is the CID of the evidence's input commitment;
 *   <li>the receipt's outputs are exactly the outputs decoded from the proven integers;
 *   <li>the proof verifies for (derived key, input commitment, proven integers).
 * </ol>
 *
 * Register it with {@code ReceiptVerifier.withEvidenceVerifier}. Compiled models and keys are
 * cached per model CID (a few models). Thread-safe.
 */
public final class ZkEvidenceVerifier implements EvidenceVerifier {
  /** Where the verifier gets a model's file; what it returns is checked against the CID. */
  @FunctionalInterface
  public interface ModelFiles {
    byte[] read(Cid model) throws IOException;
  }

  private static final int CACHED_MODELS = 8;

  private record Prepared(CompiledModel model, VerifyingKey key) {}

  private final ModelFiles files;
  private final Map<Cid, Prepared> cache = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Cid, Prepared> eldest) {
      return size() > CACHED_MODELS;
    }
  };

  private ZkEvidenceVerifier(ModelFiles files) {
    this.files = Objects.requireNonNull(files);
  }

  public static ZkEvidenceVerifier create(ModelFiles files) {
    return new ZkEvidenceVerifier(files);
  }

  @Override
  public VerificationMode mode() {
    return VerificationMode.ZK;
  }

  @Override
  public void verify(InferenceReceipt receipt, ModelManifest manifest, NamedTensors outputs) throws VerificationException {
    ZkEvidence evidence = evidenceOf(receipt);
    Prepared p = prepared(receipt.model());
    if (!evidence.keyDigest().equals(p.key().digest())) {
      throw new VerificationException("the proof is for verifying key " + evidence.keyDigest().toHex()
          + ", but model " + receipt.model() + " compiles to key " + p.key().digest().toHex());
    }
    Cid committed = ZkEvidence.inputsCid(evidence.input());
    if (!receipt.inputs().equals(committed)) {
      throw new VerificationException("a zk receipt must name the CID of its input commitment (" + committed
          + ") as its inputs, not " + receipt.inputs());
    }
    NamedTensors proven;
    try {
      proven = p.model().outputs(evidence.output());
    } catch (IllegalArgumentException e) {
      throw new VerificationException("the proven output does not fit the model: " + e.getMessage(), e);
    }
    if (!proven.cid().equals(receipt.outputs()) || !proven.cid().equals(outputs.cid())) {
      throw new VerificationException("the outputs are not the ones the proof establishes: the proven integers "
          + "decode to outputs " + proven.cid() + ", the receipt names " + receipt.outputs());
    }
    ZkInference.verify(evidence.statement(p.key()), evidence.proof());
  }

  /**
   * Checks that a receipt's input commitment opens to these inputs under this blinding: the receipt
   * was about exactly these inputs. (The receipt itself is checked by {@link #verify}.)
   */
  public void verifyOpening(InferenceReceipt receipt, InputOpening opening) throws VerificationException {
    ZkEvidence evidence = evidenceOf(receipt);
    Prepared p = prepared(receipt.model());
    long[] encoded;
    try {
      encoded = p.model().encodeInput(opening.inputs());
    } catch (IllegalArgumentException e) {
      throw new VerificationException("the opening's inputs do not fit the model: " + e.getMessage(), e);
    }
    evidence.input().verifyOpening(p.model().quantized().architecture(), encoded, opening.blinding());
    if (!receipt.inputs().equals(ZkEvidence.inputsCid(evidence.input()))) {
      throw new VerificationException("the receipt's inputs do not name its input commitment");
    }
  }

  /** The model a receipt's proof is about, compiled from its file (cached). */
  public CompiledModel compiled(Cid model) throws VerificationException {
    return prepared(model).model();
  }

  private static ZkEvidence evidenceOf(InferenceReceipt receipt) throws VerificationException {
    if (receipt.mode() != VerificationMode.ZK) {
      throw new VerificationException("receipt is in mode '" + receipt.mode().wireName() + "', not 'zk'");
    }
    try {
      return ZkEvidence.fromCbor(receipt.evidence());
    } catch (DecodingException e) {
      throw new VerificationException("zk evidence is malformed: " + e.getMessage(), e);
    }
  }

  private Prepared prepared(Cid model) throws VerificationException {
    synchronized (cache) {
      Prepared p = cache.get(model);
      if (p != null) {
        return p;
      }
    }
    byte[] bytes;
    try {
      bytes = files.read(model);
    } catch (IOException e) {
      throw new VerificationException("cannot get model " + model + " to check its proof: " + e.getMessage(), e);
    }
    Prepared p;
    try {
      CompiledModel compiled = OnnxCompiler.compile(model, bytes);
      p = new Prepared(compiled, ModelProver.of(compiled).verifyingKey());
    } catch (UnsupportedModelException e) {
      throw new VerificationException("model " + model + " cannot be proven, so no zk receipt for it is valid: "
          + e.getMessage(), e);
    } catch (IllegalArgumentException e) { // includes DecodingException: not an ONNX file, or not this CID's bytes
      throw new VerificationException("model " + model + " could not be read: " + e.getMessage(), e);
    }
    synchronized (cache) {
      cache.put(model, p);
    }
    return p;
  }
}

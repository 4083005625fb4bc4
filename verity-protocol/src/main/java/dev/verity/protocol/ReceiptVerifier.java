package dev.verity.protocol;

import dev.verity.core.VerificationException;
import dev.verity.core.crypto.PublicKey;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.protocol.tensor.TensorSpec;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a receipt end to end. {@link #verify} returns normally only when all of these hold:
 *
 * <ol>
 *   <li>the node's signature over the receipt is valid, and the node key is one the caller trusts
 *       (a pinned set, or any key when the caller pins none);
 *   <li>the manifest's signature is valid (owner, or a delegate with a valid grant), the receipt
 *       names this manifest's CID and this manifest's model CID, and the manifest allows the mode;
 *   <li>the inputs and outputs given are exactly those the receipt names (their canonical CIDs),
 *       and they fit the manifest's declared tensor specs;
 *   <li>the mode's evidence verifies ({@link EvidenceVerifier}).
 * </ol>
 *
 * Immutable and thread-safe.
 */
public final class ReceiptVerifier {
  private final Set<PublicKey> trustedNodes;
  private final Map<VerificationMode, EvidenceVerifier> evidence;

  private ReceiptVerifier(Set<PublicKey> trustedNodes, Map<VerificationMode, EvidenceVerifier> evidence) {
    this.trustedNodes = Set.copyOf(trustedNodes);
    this.evidence = Map.copyOf(evidence);
  }

  /** Accepts receipts from any node key, checking receipt-mode evidence only. */
  public static ReceiptVerifier create() {
    return new ReceiptVerifier(Set.of(), Map.of(VerificationMode.RECEIPT, EvidenceVerifier.SIGNATURE_ONLY));
  }

  /** A verifier that also accepts only receipts signed by one of these node keys. */
  public ReceiptVerifier trustingOnly(Set<PublicKey> nodes) {
    return new ReceiptVerifier(nodes, evidence);
  }

  /** A verifier that also checks evidence of another mode. */
  public ReceiptVerifier withEvidenceVerifier(EvidenceVerifier v) {
    Map<VerificationMode, EvidenceVerifier> m = new EnumMap<>(VerificationMode.class);
    m.putAll(evidence);
    m.put(v.mode(), v);
    return new ReceiptVerifier(trustedNodes, m);
  }

  /** Checks the receipt against the manifest and both tensor sets. */
  public void verify(InferenceReceipt receipt, ModelManifest manifest, NamedTensors inputs, NamedTensors outputs)
      throws VerificationException {
    verify(receipt, manifest, Optional.of(inputs), outputs);
  }

  /**
   * As {@link #verify(InferenceReceipt, ModelManifest, NamedTensors, NamedTensors)}, for a holder
   * who has the outputs but not the inputs (for example, inputs that stay private).
   */
  public void verify(InferenceReceipt receipt, ModelManifest manifest, Optional<NamedTensors> inputs, NamedTensors outputs)
      throws VerificationException {
    verifySignatureAndModel(receipt, manifest);
    if (inputs.isPresent()) {
      if (!inputs.get().cid().equals(receipt.inputs())) {
        throw new VerificationException(
            "the inputs do not match the receipt: they hash to " + inputs.get().cid() + ", the receipt names " + receipt.inputs());
      }
      conform("input", manifest.inputs(), inputs.get(), false);
    }
    if (!outputs.cid().equals(receipt.outputs())) {
      throw new VerificationException(
          "the outputs do not match the receipt: they hash to " + outputs.cid() + ", the receipt names " + receipt.outputs());
    }
    conform("output", manifest.outputs(), outputs, true);
    EvidenceVerifier ev = evidence.get(receipt.mode());
    if (ev == null) {
      throw new VerificationException("no verifier for mode '" + receipt.mode().wireName() + "' is configured");
    }
    ev.verify(receipt, manifest, outputs);
  }

  /** The checks that need neither inputs nor outputs: signatures, trust, model identity, mode. */
  public void verifySignatureAndModel(InferenceReceipt receipt, ModelManifest manifest) throws VerificationException {
    receipt.verifySignature();
    if (!trustedNodes.isEmpty() && !trustedNodes.contains(receipt.node())) {
      throw new VerificationException("receipt signed by untrusted node key " + receipt.node());
    }
    manifest.verify();
    if (!receipt.manifest().equals(manifest.cid())) {
      throw new VerificationException(
          "receipt is for manifest " + receipt.manifest() + ", not " + manifest.cid());
    }
    if (!receipt.model().equals(manifest.model())) {
      throw new VerificationException(
          "receipt names model " + receipt.model() + " but the manifest's model is " + manifest.model());
    }
    if (!manifest.modes().contains(receipt.mode())) {
      throw new VerificationException(
          "the manifest does not allow mode '" + receipt.mode().wireName() + "'");
    }
  }

  private static void conform(String kind, List<TensorSpec> specs, NamedTensors tensors, boolean exact)
      throws VerificationException {
    for (TensorSpec s : specs) {
      Tensor t = tensors.asMap().get(s.name());
      if (t == null) {
        throw new VerificationException(kind + " '" + s.name() + "' is missing");
      }
      try {
        s.check(t, kind);
      } catch (IllegalArgumentException e) {
        throw new VerificationException(kind + " does not fit the manifest: " + e.getMessage(), e);
      }
    }
    if (exact && tensors.size() != specs.size()) {
      throw new VerificationException(kind + "s hold tensors the manifest does not declare: " + tensors.names());
    }
  }
}

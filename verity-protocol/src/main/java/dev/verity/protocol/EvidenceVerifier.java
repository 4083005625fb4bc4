package dev.verity.protocol;

import dev.verity.core.VerificationException;
import dev.verity.protocol.tensor.NamedTensors;

/**
 * Checks the mode-specific evidence inside a receipt. One implementation per {@link
 * VerificationMode}; adding a mode adds one verifier, nothing else changes.
 */
public interface EvidenceVerifier {
  VerificationMode mode();

  /**
   * Returns normally only if the receipt's evidence proves what its mode promises for these outputs.
   * The receipt's signature and CIDs have been checked before this is called.
   */
  void verify(InferenceReceipt receipt, ModelManifest manifest, NamedTensors outputs)
      throws VerificationException;

  /** Receipt mode: the node's signature is the whole evidence, so the evidence map must be empty. */
  EvidenceVerifier SIGNATURE_ONLY = new EvidenceVerifier() {
    @Override
    public VerificationMode mode() {
      return VerificationMode.RECEIPT;
    }

    @Override
    public void verify(InferenceReceipt receipt, ModelManifest manifest, NamedTensors outputs)
        throws VerificationException {
      if (receipt.evidence().size() != 0) {
        throw new VerificationException("a receipt-mode receipt carries no evidence, but this one does");
      }
    }
  };
}

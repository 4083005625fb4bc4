package dev.verity.sdk;

import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.zk.InputOpening;

/**
 * A verified inference in mode zk whose receipt names only a hiding commitment to the inputs. The
 * outputs were checked against a proof of the computation; the {@code opening} (the inputs and the
 * commitment's blinding) is the holder's secret, to be shown only to someone who should learn the
 * inputs and check that the receipt was about them.
 */
public record PrivateInference(NamedTensors outputs, InferenceReceipt receipt, ModelManifest manifest, InputOpening opening) {
  /** The outputs, receipt and manifest without the opening. */
  public InferenceResult result() {
    return new InferenceResult(outputs, receipt, manifest);
  }
}

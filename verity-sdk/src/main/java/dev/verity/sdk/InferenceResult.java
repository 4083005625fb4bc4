package dev.verity.sdk;

import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;

/**
 * Outputs whose receipt has been verified against the inputs sent, the model version asked for and
 * its signed manifest. The client never hands out outputs whose receipt did not verify.
 */
public record InferenceResult(NamedTensors outputs, InferenceReceipt receipt, ModelManifest manifest) {}

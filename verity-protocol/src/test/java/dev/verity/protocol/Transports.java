package dev.verity.protocol;

import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.TensorJson;
import dev.verity.protocol.tensor.TensorLimits;

/** Tensors as a client would receive them over JSON. */
final class Transports {
  private Transports() {}

  static NamedTensors json(NamedTensors t) {
    return TensorJson.read(TensorJson.toBytes(t), TensorLimits.DEFAULT);
  }
}

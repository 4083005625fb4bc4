package dev.verity.protocol.tensor;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The four ways tensors travel, each as a write followed by a read. */
final class Transports {
  static final TensorLimits LIMITS = TensorLimits.DEFAULT;

  private Transports() {}

  static NamedTensors viaCbor(NamedTensors t) {
    return NamedTensors.fromCanonicalBytes(t.canonicalBytes());
  }

  static NamedTensors viaJson(NamedTensors t) {
    return TensorJson.read(TensorJson.toBytes(t), LIMITS);
  }

  static NamedTensors viaNpz(NamedTensors t) {
    return readNpz(Npy.toNpz(t), LIMITS);
  }

  static Tensor viaNpy(Tensor t) {
    return readNpy(Npy.toBytes(t), LIMITS);
  }

  static Tensor readNpy(byte[] bytes, TensorLimits limits) {
    try {
      return Npy.read(new ByteArrayInputStream(bytes), "t", limits);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static NamedTensors readNpz(byte[] bytes, TensorLimits limits) {
    try {
      return Npy.readNpz(new ByteArrayInputStream(bytes), limits);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
